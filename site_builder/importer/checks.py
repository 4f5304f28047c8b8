"""IMPORT, checks across sections: several sections for one day, day numbers that disagree. Pure."""

from __future__ import annotations

import datetime as dt
import itertools

from ..errors import Diagnostic
from .guess import Settled
from .model import MERGED


def _where(section: Settled, other: Settled) -> str:
    line = f"line {section.section.line}"
    return line if section.section.path == other.section.path else f"{section.section.path}:{section.section.line}"


def group_days(settled: list[Settled]) -> tuple[list[list[Settled]], list[Diagnostic]]:
    """One group per date, its sections in the log's order: several sections for one day become one
    entry, each later section under its own heading (a review item each)."""
    groups: dict[dt.date, list[Settled]] = {}
    notes: list[Diagnostic] = []
    for item in settled:
        if item.date is None:
            continue
        group = groups.setdefault(item.date, [])
        if group:
            notes.append(Diagnostic(
                item.section.path, item.section.line,
                f"a second section for {item.date} ({_where(group[0], item)}): merged into its entry, under its"
                " own heading", "warning", "move it to an entry of its own if it belongs to another day", MERGED,
            ))  # fmt: skip
        group.append(item)
    return list(groups.values()), notes


def check_day_numbers(settled: list[Settled]) -> list[Diagnostic]:
    """Warn where two written dates are closer than their day numbers say. Day numbers that keep
    counting across missed calendar days are fine: a learner counts the days they wrote."""
    out: list[Diagnostic] = []
    rounds: dict[int, list[Settled]] = {}
    for item in settled:
        if item.written and item.date is not None and item.section.reading.day_number is not None:
            rounds.setdefault(item.section.round_number, []).append(item)
    for members in rounds.values():
        members.sort(key=lambda s: (s.section.reading.day_number or 0, s.section.path, s.section.line))
        for before, item in itertools.pairwise(members):
            out += _compare_days(before, item)
    return out


def _compare_days(previous: Settled, item: Settled) -> list[Diagnostic]:
    before, after = previous.section.reading.day_number, item.section.reading.day_number
    assert before is not None and after is not None and previous.date and item.date
    earliest = previous.date + dt.timedelta(days=after - before)
    if item.date >= earliest:
        return []
    return [Diagnostic(
        item.section.path, item.section.line,
        f"day {after} is dated {item.date}, but day {before} ({_where(previous, item)}) is dated {previous.date},"
        f" which makes day {after} {earliest} at the earliest",
        "warning", "check the day number and the date of both sections",
    )]  # fmt: skip
