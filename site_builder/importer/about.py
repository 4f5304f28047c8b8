"""IMPORT, what is not a day: the preamble (title, intro, rules), sections with no date and template
sections. The first become an undated About page, the last are skipped and quoted in the review. Pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..errors import Diagnostic
from .dates import read_date_text
from .meta import streak_line
from .model import SKIPPED, AboutPage, Declared, Kept
from .scan import ATX, Scan
from .sections import Region

_START = re.compile(r"\bstart(?:ed|ing)?\b|\bbegan\b|\bbegin(?:ning)?\b|\bday\s*(?:1|one)\b|开始|始め", re.IGNORECASE)


@dataclass(frozen=True)
class Outside:
    """What the lines under no day became."""

    about: AboutPage | None
    kept: list[Kept]
    notes: list[Diagnostic]
    declared: list[Declared]


def read_outside(lines: list[str], regions: list[Region], scan: Scan, path: str) -> Outside:
    about: list[int] = []
    kept: list[Kept] = []
    notes: list[Diagnostic] = []
    declared: list[Declared] = []
    for region in regions:
        if region.kind == "template":
            indices = [i for i in range(region.start, region.stop) if lines[i].strip()]
            if indices:
                notes.append(_skipped(path, region.start + 1, f"'{region.heading.text if region.heading else ''}' "
                                      f"({line_range(region.start, indices[-1])}) is a template, not a day"))
                kept += [_quoted(path, i, lines[i]) for i in indices]
        elif region.kind in ("preamble", "other"):
            _take_region(region, lines, scan, path, about, kept, notes, declared)
    title_line = next((i for i in about if _level_one(lines[i])), None)
    if title_line is not None and any(i < title_line and lines[i].strip() for i in about):
        title_line = None  # a '# heading' further down is a section of the intro, not the log's title
    body = [i for i in about if i != title_line]
    while body and not lines[body[0]].strip():
        body.pop(0)
    while body and not lines[body[-1]].strip():
        body.pop()
    text = "".join(lines[i] + "\n" for i in body)
    kept += [Kept(path, i + 1, "about", (("body", lines[i]),)) for i in body if lines[i].strip()]
    site_title = _level_one(lines[title_line]) if title_line is not None else None
    if title_line is not None and site_title:
        kept.append(Kept(path, title_line + 1, "config", (("site-title", site_title),)))
    page = AboutPage(text, site_title, title_line + 1 if title_line is not None else None) if text or site_title \
        else None
    return Outside(page, kept, notes, declared)


def _take_region(region: Region, lines: list[str], scan: Scan, path: str, about: list[int], kept: list[Kept],
                 notes: list[Diagnostic], declared: list[Declared]) -> None:
    text = [i for i in range(region.start, region.stop) if lines[i].strip()]
    if region.kind == "other" and region.heading is not None and len(text) > 1:
        notes.append(Diagnostic(path, region.start + 1, f"'{region.heading.text}' ({line_range(region.start, text[-1])})"
                                " has no date: it is on the About page", "warning",
                                "give it a dated heading to make it a day of the log"))
    for i in range(region.start, region.stop):
        streak = streak_line(lines[i]) if i not in scan.hidden else None
        if i in scan.hidden:
            if lines[i].strip():
                kept.append(_quoted(path, i, lines[i]))
        elif streak is not None:
            declared.append(Declared(path, i + 1, "current" if streak[0] == "current" else "best", streak[1]))
            kept.append(_quoted(path, i, lines[i]))
        else:
            about.append(i)
    hidden = [i for i in range(region.start, region.stop) if i in scan.hidden]
    if hidden:
        notes.append(_skipped(path, hidden[0] + 1, f"a comment ({line_range(hidden[0], hidden[-1])}, <!-- -->)"))


def line_range(first: int, last: int) -> str:
    """'line 3' or 'lines 3-9', from 0-based indices."""
    return f"line {first + 1}" if first == last else f"lines {first + 1}-{last + 1}"


def _skipped(path: str, line: int, why: str) -> Diagnostic:
    return Diagnostic(path, line, f"skipped: {why}; its lines are quoted in the review", "warning",
                      "copy what you want to keep into an entry", SKIPPED)


def _quoted(path: str, index: int, text: str) -> Kept:
    return Kept(path, index + 1, "review", (("quote", text),))


def _level_one(line: str) -> str | None:
    match = ATX.match(line)
    return (match.group(2) or "").strip() or None if match and len(match.group(1)) == 1 else None


def stated_start(lines: list[str], regions: list[Region], scan: Scan) -> tuple[dt.date, int] | None:
    """A start date the log states in its own prose ('Started on March 1, 2020'), and its line."""
    for region in regions:
        if region.kind not in ("preamble", "other"):
            continue
        for i in range(region.start, region.stop):
            if i in scan.hidden or not _START.search(lines[i]):
                continue
            reading = read_date_text(lines[i])
            if reading.date is not None and reading.problem is None:
                return reading.date, i + 1
    return None
