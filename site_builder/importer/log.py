"""IMPORT, single-file logs: a README with one section per day -> entries, an About page, and where
every line went. Nothing is refused: an unsure date is a guess, listed for review. Pure."""

from __future__ import annotations

import datetime as dt

from ..errors import Diagnostic
from .about import line_range, read_outside, stated_start
from .checks import check_day_numbers, group_days
from .guess import DateContext, Settled, settle_dates
from .meta import add_link
from .model import SKIPPED, AboutPage, Declared, ImportedEntry, ImportResult, Kept
from .resolve import Section, Span, read_section
from .scan import scan_lines
from .sections import fill_group_years, split_regions


def split_text(text: str) -> list[str]:
    """Lines without their endings; CRLF and CR read as LF."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_log(text: str, path: str, start: dt.date | None = None, today: dt.date | None = None) -> ImportResult:
    """Split a one-README log into dated entries and an About page; every unsure date is a guess."""
    lines = split_text(text)
    scan = scan_lines(lines)
    regions = fill_group_years(split_regions(scan, lines), scan)
    for marks in ({"date_lines": True}, {"day_items": True}):  # no dated heading: days marked by date lines, or list items
        if any(r.kind == "entry" for r in regions):
            break
        scan = scan_lines(lines, **marks)
        regions = fill_group_years(split_regions(scan, lines), scan)
    sections = [
        read_section(lines, scan, Span(r.first_body_line, r.stop, r.start + 1, r.reading, r.start, r.heading.end,
                                       r.heading.lead), path)
        for r in regions
        if r.kind == "entry" and r.heading is not None and r.reading is not None
    ]
    context = DateContext(start, first_round(sections), stated_start(lines, regions, scan), today or dt.date.today())
    outside = read_outside(lines, regions, scan, path)
    return finish(sections, context, {path: lines}, outside.about, outside.kept, outside.notes, outside.declared)


def first_round(sections: list[Section]) -> int:
    rounds = [s.round_number for s in sections if s.reading.day_number is not None]
    return min(rounds, default=1)


def finish(
    sections: list[Section],
    context: DateContext,
    sources: dict[str, list[str]],
    about: AboutPage | None = None,
    kept: list[Kept] | None = None,
    notes: list[Diagnostic] | None = None,
    declared: list[Declared] | None = None,
) -> ImportResult:
    """Settle the dates, put the sections of one day together, account for every line."""
    kept = list(kept or [])
    notes = list(notes or [])
    full = []
    for section in sections:
        if section.is_empty:
            notes.append(Diagnostic(section.path, section.line, "skipped: an empty section (a heading with nothing"
                                    " under it); its lines are quoted in the review", "warning",
                                    "write what you learnt under it, or delete the heading", SKIPPED))
            kept += _quote(section, sources[section.path], _section_lines(section))
        else:
            full.append(section)
    settled = settle_dates(full, context)
    groups, merged = group_days(settled)
    notes += merged + check_day_numbers(settled)
    for item in settled:
        notes += item.notes
        if item.date is not None and item.section.unread:
            kept += _quote(item.section, sources[item.section.path], item.section.unread)
        if item.date is None:
            kept += _quote(item.section, sources[item.section.path], _section_lines(item.section))
        elif item.section.hidden:
            hidden = item.section.hidden
            notes.append(Diagnostic(item.section.path, hidden[0] + 1, f"skipped: a comment ({line_range(hidden[0], hidden[-1])},"
                                    " <!-- -->); its lines are quoted in the review", "warning",
                                    "copy what you want to keep into the entry", SKIPPED))
            kept += _quote(item.section, sources[item.section.path], hidden)
    entries = []
    for group in groups:
        entry, lines_kept = _entry(group, sources)
        entries.append(entry)
        kept += lines_kept
    total = sum(1 for lines in sources.values() for line in lines if line.strip())
    ordered = tuple(sorted(notes, key=lambda d: (d.path, d.line or 0)))
    return ImportResult(tuple(sorted(entries, key=lambda e: e.date)), ordered, tuple(declared or ()), about,
                        tuple(kept), total)


def _section_lines(section: Section) -> list[int]:
    span = section.span
    heading = list(range(span.heading, (span.heading_end or span.heading) + 1)) if span.heading is not None else []
    return [i for i, _ in section.extra] + list(section.unread) + heading + list(section.indices) + list(section.hidden)


def _quote(section: Section, lines: list[str], indices: list[int] | tuple[int, ...]) -> list[Kept]:
    return [Kept(section.path, i + 1, "review", (("quote", lines[i]),)) for i in indices if lines[i].strip()]


def _entry(group: list[Settled], sources: dict[str, list[str]]) -> tuple[ImportedEntry, list[Kept]]:
    """One entry from the sections of one day: the first one's heading gives date and title, every
    later one keeps its heading in the body."""
    first = group[0].section
    date = group[0].date
    assert date is not None
    target = f"entry:{date.isoformat()}"
    tags: list[str] = []
    links: list[tuple[str, str]] = []
    parts: list[str] = []
    kept: list[Kept] = []
    for number, item in enumerate(group):
        section, lines = item.section, sources[item.section.path]
        span = section.span
        heading = list(range(span.heading, (span.heading_end or span.heading) + 1)) if span.heading is not None else []
        if number == 0:
            expect = (("date", date.isoformat()),) + ((("title", section.title),) if section.title_from_heading
                                                       and section.title else ())
            expect += (("body", span.lead),) if span.lead else ()
            kept += [Kept(section.path, i + 1, target, expect) for i in heading if lines[i].strip()]
            parts.append(section.body())
        else:
            parts.append("".join(lines[i] + "\n" for i in heading))  # a day item's words with it
            kept += [Kept(section.path, i + 1, target, (("body", lines[i]),)) for i in heading if lines[i].strip()]
            if section.title and not heading:  # a later day file's own title, as a heading of its part
                parts.append(f"## {section.title}\n")
            parts.append(section.body().removeprefix(span.lead + "\n") if span.lead else section.body())
        tags += [t for t in section.meta.tags if t not in tags]
        for label, url in section.meta.links:
            if (label, url) not in links and url not in {u for _, u in links}:
                add_link(links, label, url)
        kept += _section_kept(section, target, number == 0)
    body = "\n".join(p.rstrip("\n") + "\n" for p in parts if p.strip()) if len(parts) > 1 else "".join(parts)
    entry = ImportedEntry(date, first.title, tuple(tags), tuple(links), body, first.line, first.reading.day_number)
    return entry, kept


def _section_kept(section: Section, target: str, first: bool = True) -> list[Kept]:
    """The section's body lines (found as written) and metadata lines (found as tags and links)."""
    kept = [Kept(section.path, section.indices[i] + 1, target, (("body", section.lines[i]),))
            for i in section.meta.body_lines if section.lines[i].strip()]
    kept += [Kept(section.path, section.indices[i] + 1, target, uses) for i, uses in section.meta.uses
             if section.lines[i].strip()]
    for i, expect in section.extra:  # a day file's front matter: its title heads the section when it is not first
        found = tuple(("body", f"## {v}") if k == "title" and not first else
                      ("date", target.removeprefix("entry:")) if k == "date" else (k, v) for k, v in expect)
        kept.append(Kept(section.path, i + 1, target, found))
    return kept
