"""IMPORT, single-file logs: a README with one dated section per day -> entries. Pure."""

from __future__ import annotations

import datetime as dt

from ..errors import Diagnostic
from .checks import Candidate, check_day_numbers, drop_duplicate_days
from .meta import read_streaks
from .model import ImportResult
from .resolve import DateContext, Span, read_section_body
from .scan import scan_lines
from .sections import Region, fill_group_years, split_regions


def split_text(text: str) -> list[str]:
    """Lines without their endings; CRLF and CR read as LF."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_log(text: str, path: str, start: dt.date | None = None) -> ImportResult:
    """Split a one-README log into dated entries, reporting what cannot be read for sure."""
    lines = split_text(text)
    scan = scan_lines(lines)
    regions = fill_group_years(split_regions(scan, len(lines)), scan)
    context = DateContext(path, start, _first_round(regions), _written_years(regions))
    diagnostics: list[Diagnostic] = []
    candidates: list[Candidate] = []
    for region in regions:
        if region.kind == "entry":
            assert region.heading is not None and region.reading is not None
            span = Span(region.first_body_line, region.stop, region.start + 1, region.reading)
            candidate = read_section_body(lines, scan, span, context, diagnostics)
            if candidate is not None:
                candidates.append(candidate)
    diagnostics.extend(_stray_text(regions, lines, scan.hidden, path))
    return finish(candidates, diagnostics, start, read_streaks(_outside(regions, lines)))


def finish(
    candidates: list[Candidate],
    diagnostics: list[Diagnostic],
    start: dt.date | None,
    declared: tuple[int | None, int | None] = (None, None),
) -> ImportResult:
    """Cross-section checks, then the result in date order."""
    kept = drop_duplicate_days(candidates, diagnostics)
    check_day_numbers(kept, start, diagnostics)
    entries = tuple(sorted((c.entry for c in kept), key=lambda e: e.date))
    ordered = tuple(sorted(diagnostics, key=lambda d: (d.path, d.line or 0)))
    return ImportResult(entries, ordered, *declared)


def _outside(regions: list[Region], lines: list[str]) -> list[str]:
    """Lines under no day (title, rules, streak header), where a streak may be declared."""
    return [
        lines[i]
        for region in regions
        if region.kind in ("preamble", "other")
        for i in range(region.start, region.stop)
    ]


def _first_round(regions: list[Region]) -> int:
    rounds = [
        r.reading.round_number or 1
        for r in regions
        if r.reading is not None and r.reading.day_number is not None
    ]
    return min(rounds, default=1)


def _written_years(regions: list[Region]) -> tuple[tuple[int, int], ...]:
    return tuple((r.start, r.reading.date.year) for r in regions if r.reading and r.reading.date)


def _stray_text(
    regions: list[Region], lines: list[str], hidden: frozenset[int], path: str
) -> list[Diagnostic]:
    """Text after a day that sits under no dated heading: say so, never drop it quietly."""
    found: list[Diagnostic] = []
    for region in regions:
        if region.kind != "other" or region.heading is None:
            continue
        text = [i for i in range(region.start, region.stop) if i not in hidden and lines[i].strip()]
        if len(text) > 1:  # more than its own heading
            found.append(Diagnostic(
                path, region.start + 1,
                f"'{region.heading.text}' (lines {region.start + 1}-{text[-1] + 1}) has no date,"
                " so it is not imported",
                "warning", "give it a dated heading to import it, or leave it out on purpose",
            ))  # fmt: skip
    return found
