"""IMPORT, one section as written: its heading's reading, a date-only first line, metadata and
body lines. Its date is settled later, with its neighbours (guess.py). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from .dates import DateReading, read_date_line
from .meta import SectionMeta, read_section_meta
from .model import Expect
from .scan import Scan


@dataclass(frozen=True)
class Span:
    """Lines [first, stop) of a source, under a heading at index `heading` (None: a day file without
    one), on `line` (1-based), read as `reading`."""

    first: int
    stop: int
    line: int
    reading: DateReading
    heading: int | None = None
    heading_end: int | None = None
    lead: str = ""  # a day item's text on its own line (scan.HeadingLine.lead): the body's first line


@dataclass(frozen=True)
class Section:
    """One day's section of a source, before its date is settled."""

    path: str
    span: Span
    indices: tuple[int, ...]  # source line indices of its body (comments holding headings left out)
    hidden: tuple[int, ...]  # those left out
    lines: tuple[str, ...]  # the source lines at `indices`
    meta: SectionMeta
    body_reading: DateReading | None  # a date-only first line
    body_line: int | None
    title: str | None
    title_from_heading: bool
    extra: tuple[tuple[int, tuple[Expect, ...]], ...] = ()  # lines outside the body (a day file's front matter)
    unread: tuple[int, ...] = ()  # front matter lines an entry has no place for: quoted in the review

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def reading(self) -> DateReading:
        return self.span.reading

    @property
    def round_number(self) -> int:
        return self.span.reading.round_number or 1

    @property
    def is_empty(self) -> bool:
        return not any(self.lines[i].strip() for i in self.meta.body_lines) and not self.meta.tags \
            and not self.meta.links and not self.span.lead

    def body(self) -> str:
        """Its text: a day item's words on the item's line first, then the lines below its heading."""
        lines = "".join(self.lines[i] + "\n" for i in self.meta.body_lines)
        if not self.span.lead:
            return lines
        apart = bool(lines) and self.indices[self.meta.body_lines[0]] > self.span.first  # a blank line between
        return self.span.lead + "\n" + "\n" * apart + lines


def read_section(lines: list[str], scan: Scan, span: Span, path: str) -> Section:
    """The section's metadata and body; nothing about its date is decided here."""
    indices = [i for i in range(span.first, span.stop) if i not in scan.hidden]
    hidden = [i for i in range(span.first, span.stop) if i in scan.hidden]
    section = [lines[i] for i in indices]
    meta = read_section_meta(section)
    body_reading, body_line = None, None
    if meta.date_line is not None:
        body_reading = read_date_line(section[meta.date_line])
        body_line = indices[meta.date_line] + 1
    title = span.reading.rest or None
    from_heading = title is not None
    if title is None:
        title = _first_subheading(span, scan)
    return Section(path, span, tuple(indices), tuple(hidden), tuple(section), meta, body_reading, body_line,
                   title, from_heading)


def _first_subheading(span: Span, scan: Scan) -> str | None:
    for heading in scan.headings:
        inside = span.first <= heading.index < span.stop
        if inside and heading.index not in scan.hidden and heading.text:
            return heading.text
    return None
