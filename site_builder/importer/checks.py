"""IMPORT, checks across sections: two sections for one day, day numbers that disagree. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import Diagnostic
from .model import ImportedEntry


@dataclass(frozen=True)
class Candidate:
    """An entry plus what the checks need to know about where it came from."""

    entry: ImportedEntry
    round_number: int
    date_written: bool  # False when the date was counted from --start and the day number
    path: str  # the source file, for diagnostics


def _where(candidate: Candidate, other: Candidate) -> str:
    line = f"line {candidate.entry.source_line}"
    return line if candidate.path == other.path else f"{candidate.path}:{candidate.entry.source_line}"


def drop_duplicate_days(candidates: list[Candidate], diagnostics: list[Diagnostic]) -> list[Candidate]:
    """Keep the first section of each day; an error for every later one."""
    first: dict[dt.date, Candidate] = {}
    kept: list[Candidate] = []
    for candidate in candidates:
        entry = candidate.entry
        earlier = first.setdefault(entry.date, candidate)
        if earlier is candidate:
            kept.append(candidate)
            continue
        diagnostics.append(Diagnostic(
            candidate.path, entry.source_line,
            f"two sections for {entry.date}: {_where(earlier, candidate)} and {_where(candidate, earlier)}",
            "error", "merge them into one section under one heading",
        ))  # fmt: skip
    return kept


def check_day_numbers(
    candidates: list[Candidate], start: dt.date | None, diagnostics: list[Diagnostic]
) -> None:
    """Warn where a written date and its day number disagree with the day numbered before it."""
    rounds: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.date_written and candidate.entry.day_number is not None:
            rounds.setdefault(candidate.round_number, []).append(candidate)
    first_round = min(rounds, default=1)
    for number, members in rounds.items():
        members.sort(key=lambda c: (c.entry.day_number or 0, c.path, c.entry.source_line))
        previous: Candidate | None = None
        for candidate in members:
            if previous is not None:
                _compare_days(previous, candidate, diagnostics)
            elif start is not None and number == first_round:
                _compare_start(start, candidate, diagnostics)
            previous = candidate


def _compare_days(previous: Candidate, candidate: Candidate, diagnostics: list[Diagnostic]) -> None:
    before, entry = previous.entry, candidate.entry
    assert before.day_number is not None and entry.day_number is not None
    expected = before.date + dt.timedelta(days=entry.day_number - before.day_number)
    if expected != entry.date:
        diagnostics.append(Diagnostic(
            candidate.path, entry.source_line,
            f"day {entry.day_number} is dated {entry.date}, but day {before.day_number}"
            f" ({_where(previous, candidate)}) is dated {before.date}, which makes day"
            f" {entry.day_number} {expected}",
            "warning", "check the day number and the date of both sections",
        ))  # fmt: skip


def _compare_start(start: dt.date, candidate: Candidate, diagnostics: list[Diagnostic]) -> None:
    entry = candidate.entry
    assert entry.day_number is not None
    expected = start + dt.timedelta(days=entry.day_number - 1)
    if expected != entry.date:
        diagnostics.append(Diagnostic(
            candidate.path, entry.source_line,
            f"day {entry.day_number} is dated {entry.date}, but --start {start} makes it {expected}",
            "warning", "check the day number, the date, and --start",
        ))  # fmt: skip
