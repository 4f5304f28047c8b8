"""IMPORT, sectioning: which lines of a log belong to which dated heading. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .dates import DateReading, is_template_title, read_date_line, read_date_text
from .scan import HeadingLine, Scan

RegionKind = Literal["preamble", "entry", "template", "other"]


@dataclass(frozen=True)
class Region:
    """Lines [heading.index, stop) of the log, or [0, stop) for the preamble."""

    kind: RegionKind
    heading: HeadingLine | None
    reading: DateReading | None
    stop: int

    @property
    def first_body_line(self) -> int:
        return 0 if self.heading is None else self.heading.end + 1

    @property
    def start(self) -> int:
        return 0 if self.heading is None else self.heading.index


def split_regions(scan: Scan, lines: list[str]) -> list[Region]:
    """Cut the log at dated headings, template headings and headings that close a day.

    A day's section (or a placeholder one, `## Day X`) runs to the next dated heading or
    the next heading of its level or above; a "Template" section swallows every deeper
    heading, dated or not. A heading with no date whose first line is only a date
    (`*March 5, 2019*`) is a day's section too.
    """
    bounds: list[tuple[RegionKind, HeadingLine | None, DateReading | None]] = [("preamble", None, None)]
    open_level: int | None = None  # level of the open entry or template section
    swallow_level: int | None = None  # level of an open "## Template" section
    for heading in scan.headings:
        kind, reading = _classify(heading, scan, lines)
        current = bounds[-1][0]
        if swallow_level is not None:
            if heading.level > swallow_level:
                continue
            swallow_level = None
        if kind == "template" and is_template_title(heading.text):
            swallow_level = heading.level
        if kind == "other" and not (current in ("entry", "template") and _closes(heading, open_level)):
            continue
        bounds.append((kind, heading, reading))
        open_level = heading.level
    starts = [0 if h is None else h.index for _, h, _ in bounds[1:]] + [len(lines)]
    return [Region(kind, h, reading, stop) for (kind, h, reading), stop in zip(bounds, starts)]


def _classify(heading: HeadingLine, scan: Scan, lines: list[str]) -> tuple[RegionKind, DateReading | None]:
    reading = read_date_text(heading.text)
    if reading.template:
        return "template", reading
    if reading.is_dated:
        return "entry", reading
    following = [h.index for h in scan.headings if h.index > heading.index]
    stop = min(following, default=len(lines))
    first = next((line for line in lines[heading.end + 1 : stop] if line.strip()), None)
    if first is not None and read_date_line(first) is not None:
        return "entry", DateReading(rest=reading.rest)  # dated by its first line
    return "other", None


def _closes(heading: HeadingLine, open_level: int | None) -> bool:
    return open_level is not None and heading.level <= open_level


_GROUP_YEAR = re.compile(
    r"^\W*(?:(?:[A-Za-z]+\.?|\d{1,2})\s+)?(\d{4})\W*$|^\W*(\d{4})\s*年(?:\s*\d{1,2}\s*月)?\W*$"
)


def fill_group_years(regions: list[Region], scan: Scan) -> list[Region]:
    """'### Sep 20' under '## September 2018' (or '# 2018') is read as September 20, 2018."""
    filled: list[Region] = []
    for region in regions:
        reading, heading = region.reading, region.heading
        if reading is not None and heading is not None and reading.missing_year is not None:
            year = _group_year(scan, heading)
            if year is not None:
                missing = reading.missing_year.strip()
                dated = f"{year}年{missing}" if "月" in missing else f"{missing}, {year}"
                reading = read_date_text(heading.text.replace(missing, dated, 1))
                region = Region(region.kind, heading, reading, region.stop)
        filled.append(region)
    return filled


def _group_year(scan: Scan, heading: HeadingLine) -> int | None:
    """The year named by the nearest enclosing heading that is only a year (or month and year)."""
    level = heading.level
    for earlier in reversed([h for h in scan.headings if h.index < heading.index]):
        if earlier.level >= level:
            continue
        level = earlier.level
        match = _GROUP_YEAR.match(earlier.text)
        if match:
            return int(match.group(1) or match.group(2))
    return None
