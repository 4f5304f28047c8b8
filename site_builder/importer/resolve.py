"""IMPORT, one section: its date (written, or counted from --start), metadata and body. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import Diagnostic
from .checks import Candidate
from .dates import DateReading, read_date_line
from .meta import read_section_meta
from .model import ImportedEntry
from .scan import Scan


@dataclass(frozen=True)
class DateContext:
    """What every section of one source shares when its date is worked out."""

    path: str
    start: dt.date | None
    first_round: int  # --start counts this round's days (the lowest in the source)
    years: tuple[tuple[int, int], ...]  # (line index, year) of the dated headings, for hints

    def nearby_year(self, index: int) -> str:
        if not self.years:
            return "YYYY"
        return str(min(self.years, key=lambda item: abs(item[0] - index))[1])


@dataclass(frozen=True)
class Span:
    """Lines [first, stop) of a source, under a heading on `line` (1-based) read as `reading`."""

    first: int
    stop: int
    line: int
    reading: DateReading


def read_section_body(
    lines: list[str], scan: Scan, span: Span, context: DateContext, diagnostics: list[Diagnostic]
) -> Candidate | None:
    """The entry for one section, or None (with an error) when its date is not certain."""
    indices = [i for i in range(span.first, span.stop) if i not in scan.hidden]
    section = [lines[i] for i in indices]
    meta = read_section_meta(section)
    body_reading, body_line = None, None
    if meta.date_line is not None:
        body_reading = read_date_line(section[meta.date_line])
        body_line = indices[meta.date_line] + 1
    date, written = _resolve_date(span, body_reading, body_line, context, diagnostics)
    if date is None:
        return None
    body = "".join(section[i] + "\n" for i in meta.body_lines)
    title = span.reading.rest or _first_subheading(span, scan)
    entry = ImportedEntry(date, title, meta.tags, meta.links, body, span.line, span.reading.day_number)
    if not body and not meta.tags and not meta.links:
        diagnostics.append(Diagnostic(context.path, span.line, f"the section for {date} is empty", "warning",
                                      "write what you learnt, or delete the heading"))  # fmt: skip
    return Candidate(entry, span.reading.round_number or 1, written, context.path)


def _resolve_date(
    span: Span,
    body_reading: DateReading | None,
    body_line: int | None,
    context: DateContext,
    diagnostics: list[Diagnostic],
) -> tuple[dt.date | None, bool]:
    """The date and whether it was written (True) or counted from --start (False)."""
    reading = span.reading
    if reading.problem or reading.date:
        return report_reading(reading, span.line, context, diagnostics), True
    if body_reading is not None and body_line is not None:
        return report_reading(body_reading, body_line, context, diagnostics), True
    if reading.day_number is None:
        return None, False  # not dated at all: the caller said why
    round_number = reading.round_number or 1
    if context.start is not None and round_number == context.first_round:
        return context.start + dt.timedelta(days=reading.day_number - 1), False
    if reading.round_number:
        label = f"round {round_number} day {reading.day_number}"
    else:
        label = f"day {reading.day_number}"
    if round_number == context.first_round:
        hint = "pass --start YYYY-MM-DD (the date of day 1), or write the date in the heading"
    else:
        hint = f"--start counts round {context.first_round} only: write this section's date in its heading"
    diagnostics.append(Diagnostic(context.path, span.line, f"{label} has no date", "error", hint))
    return None, False


def report_reading(
    reading: DateReading, line: int | None, context: DateContext, diagnostics: list[Diagnostic]
) -> dt.date | None:
    """The reading's date, or None after reporting its problem."""
    if reading.problem is None:
        return reading.date
    hint = reading.problem.hint
    if reading.missing_year is not None:
        year = context.nearby_year((line or 1) - 1)
        text = reading.missing_year.strip()
        example = f"{year}年{text}" if "月" in text else f"{text}, {year}"
        hint = f"add the year, e.g. '{example}'"
    diagnostics.append(Diagnostic(context.path, line, reading.problem.message, "error", hint))
    return None


def _first_subheading(span: Span, scan: Scan) -> str | None:
    for heading in scan.headings:
        inside = span.first <= heading.index < span.stop
        if inside and heading.index not in scan.hidden and heading.text:
            return heading.text
    return None
