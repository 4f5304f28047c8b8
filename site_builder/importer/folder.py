"""IMPORT, folders: one Markdown file per day, the date (or day number) in its name."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Diagnostic
from .checks import Candidate
from .dates import DateReading, Problem, read_date_text
from .log import finish, split_text
from .model import ImportResult
from .resolve import DateContext, Span, read_section_body, report_reading
from .scan import scan_lines

SUFFIXES = (".md", ".markdown")
_SEPARATED = re.compile(r"(?<!\d)(\d{4})[-_./](\d{1,2})[-_./](\d{1,2})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_NAME_DAY = re.compile(r"\bR(\d+)[-_ ]?D(\d+)|(?:\bday|^)[-_ ]?(\d{1,4})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class DayFile:
    path: str  # as reported in diagnostics
    text: str
    name: DateReading  # what the file name says


def parse_folder(folder: Path, start: dt.date | None = None) -> ImportResult:
    """Read every day file under `folder` (I/O), then split them like `parse_log` does."""
    files = []
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder).as_posix()
        hidden = any(part.startswith(".") for part in relative.split("/"))
        if file.is_file() and file.suffix.lower() in SUFFIXES and not hidden:
            text = file.read_text(encoding="utf-8")
            files.append(DayFile(file.as_posix(), text, read_file_name(relative)))
    return parse_day_files(files, start)


def read_file_name(relative: str) -> DateReading:
    """'2018-09-20.md', 'logs/2018/09/20.md', '20180920-notes.md', 'day-12.md', 'R1D12.md'."""
    stem = relative.rsplit(".", 1)[0]
    for pattern in (_SEPARATED, _COMPACT):
        match = pattern.search(stem)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return DateReading(date=dt.date(year, month, day))
            except ValueError:
                return DateReading(problem=Problem(f"'{match.group(0)}' in the file name is not a real date",
                                                   "rename the file to its YYYY-MM-DD date"))  # fmt: skip
    match = _NAME_DAY.search(stem.rsplit("/", 1)[-1])
    if match:
        if match.group(2):
            return DateReading(day_number=int(match.group(2)), round_number=int(match.group(1)))
        return DateReading(day_number=int(match.group(3)))
    return DateReading()


def parse_day_files(files: list[DayFile], start: dt.date | None) -> ImportResult:
    """Pure: each file is one day's section."""
    diagnostics: list[Diagnostic] = []
    candidates: list[Candidate] = []
    rounds = [f.name.round_number or 1 for f in files if f.name.day_number is not None]
    years = tuple((0, f.name.date.year) for f in files if f.name.date)
    for file in files:
        context = DateContext(file.path, start, min(rounds, default=1), years)
        candidate = _read_day_file(file, context, diagnostics)
        if candidate is not None:
            candidates.append(candidate)
    return finish(candidates, diagnostics, start)


def _read_day_file(file: DayFile, context: DateContext, diagnostics: list[Diagnostic]) -> Candidate | None:
    if file.name == DateReading():
        diagnostics.append(Diagnostic(file.path, None, "no date or day number in the file name, so it is not imported",
                                      "warning", "rename it to its date, e.g. 2018-09-20.md"))  # fmt: skip
        return None
    lines = split_text(file.text)
    scan = scan_lines(lines)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    heading = scan.headings[0] if scan.headings and scan.headings[0].index == first else None
    reading = read_date_text(heading.text) if heading is not None else None
    if heading is None or reading is None or not reading.is_dated or reading.template:
        heading, reading = None, None
    combined = _combine(file, reading, context, diagnostics)
    if combined is None:
        return None
    if combined.problem:
        line = None if combined is file.name else (heading.index + 1 if heading else None)
        report_reading(combined, line, context, diagnostics)
        return None
    first = heading.end + 1 if heading is not None else 0
    line = heading.index + 1 if heading is not None else 1
    return read_section_body(lines, scan, Span(first, len(lines), line, combined), context, diagnostics)


def _combine(
    file: DayFile, heading: DateReading | None, context: DateContext, diagnostics: list[Diagnostic]
) -> DateReading | None:
    """The file name's date or day, checked against the first heading's."""
    name = file.name
    if heading is None:
        return name
    if name.date and heading.date and name.date != heading.date:
        diagnostics.append(Diagnostic(file.path, 1, f"the file name says {name.date} but the heading says {heading.date}",
                                      "error", "rename the file or fix the heading"))  # fmt: skip
        return None
    if name.problem or heading.problem:
        return name if name.problem else heading
    return DateReading(
        date=name.date or heading.date,
        day_number=heading.day_number if heading.day_number is not None else name.day_number,
        round_number=heading.round_number or name.round_number,
        rest=heading.rest,
    )
