"""IMPORT, settling dates: each section's date, as written or, where it is unsure, the best guess
from its neighbours (in the log's own order, which may be newest-first), its day number, `--start`
or a start date stated in the log. Every guess is a review item at its line. Pure."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from ..errors import Diagnostic
from .dates import MONTHS, DateReading, Problem
from .model import GUESS, RANGE, UNREADABLE
from .resolve import Section

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class DateContext:
    """What every section of one import shares when its date is worked out."""

    start: dt.date | None  # --start: the date of day 1
    first_round: int  # --start counts this round's days (the lowest in the source)
    prose_start: tuple[dt.date, int] | None  # a start date the log states, and its line
    today: dt.date  # the last resort for a log with no date at all


@dataclass(frozen=True)
class Settled:
    section: Section
    date: dt.date | None  # None: skipped, `notes` say why
    written: bool  # the date was written in the log (not counted or guessed)
    notes: tuple[Diagnostic, ...] = ()


def settle_dates(sections: list[Section], context: DateContext) -> list[Settled]:
    """Sure dates first; then, in the log's order, a guess for every other section."""
    sure = [_sure_date(s) for s in sections]
    direction = _direction([d for d in sure if d is not None])
    settled: list[Settled | None] = [Settled(s, d, True) if d else None for s, d in zip(sections, sure)]
    for i, section in enumerate(sections):
        if settled[i] is None:
            settled[i] = _guess(i, sections, settled, context, direction)
    done = [s for s in settled if s is not None]
    return [_with_range(s) for s in done]


def _sure_date(section: Section) -> dt.date | None:
    reading = section.reading
    if reading.problem is None and reading.date is not None:
        return reading.date
    body = section.body_reading
    if reading.problem is None and body is not None and body.problem is None:
        return body.date
    return None


def _direction(dates: list[dt.date]) -> int:
    """+1 for a log written oldest first, -1 for newest first (the majority of its steps)."""
    steps = [b > a for a, b in itertools.pairwise(dates) if a != b]
    return -1 if steps and steps.count(False) > steps.count(True) else 1


def _guess(i: int, sections: list[Section], settled: list[Settled | None], context: DateContext,
           direction: int) -> Settled:
    section = sections[i]
    reading, line = section.reading, section.line
    if reading.problem is None and section.body_reading is not None and section.body_reading.problem:
        reading, line = section.body_reading, section.body_line or line
    if reading.problem is not None:
        return _from_problem(i, reading, line, sections, settled, context, direction)
    if reading.day_number is not None:
        return _from_day_number(i, sections, settled, context, direction)
    return _skip(section, line, "has no date", "give it a dated heading")


def _note(section: Section, line: int, message: str, hint: str, code: str = GUESS) -> Diagnostic:
    return Diagnostic(section.path, line, message, "warning", hint, code)


def _skip(section: Section, line: int, why: str, hint: str) -> Settled:
    return Settled(section, None, False, (_note(section, line, f"skipped: {why}; its lines are quoted in the review",
                                                hint, UNREADABLE),))


def _neighbours(i: int, sections: list[Section], settled: list[Settled | None]
                ) -> tuple[Settled | None, Settled | None]:
    """The nearest section before `i` with a date (settled so far) and the nearest after it."""
    before = next((s for s in reversed(settled[:i]) if s is not None and s.date is not None), None)
    after = next((s for s in settled[i + 1 :] if s is not None and s.date is not None), None)
    return before, after


def _from_problem(i: int, reading: DateReading, line: int, sections: list[Section], settled: list[Settled | None],
                  context: DateContext, direction: int) -> Settled:
    section, problem = sections[i], reading.problem
    assert problem is not None
    written = reading.range_text or problem.written
    if problem.kind == "ambiguous":
        return _ambiguous(i, problem, written, line, sections, settled, direction)
    if problem.kind not in ("no-year", "month") or problem.month is None or problem.day is None:
        return _skip(section, line, problem.message, problem.hint or "fix the date and import again")
    misspelt = problem.message.split("'")[1]
    why = [f"'{misspelt}' read as {MONTHS[problem.month - 1]}"] if problem.kind == "month" else []
    year, source = problem.year, ""
    if year is None:
        year, source = _year_for(i, problem.month, problem.day, sections, settled, context, direction)
    try:
        date = dt.date(year, problem.month, problem.day)
    except ValueError:
        return _skip(section, line, f"'{written}' is not a real date in {year}", "fix the date and import again")
    hint = "; ".join(why + ([source] if source else []))
    return Settled(section, date, False, (_note(section, line, f"guessed {date} for '{written}'", hint),))


def _year_for(i: int, month: int, day: int, sections: list[Section], settled: list[Settled | None],
              context: DateContext, direction: int) -> tuple[int, str]:
    """The year that puts (month, day) in the log's order between its neighbours."""
    before, after = _neighbours(i, sections, settled)
    if before is not None and before.date is not None:
        return _following(before.date, month, day, direction), "year from the neighbouring sections"
    if after is not None and after.date is not None:
        return _following(after.date, month, day, -direction), "year from the neighbouring sections"
    if context.start is not None:
        return _following(context.start - _DAY, month, day, 1), "year from --start"
    if context.prose_start is not None:
        date, where = context.prose_start
        return _following(date - _DAY, month, day, 1), f"year from the start date on line {where}"
    return _following(context.today, month, day, -1), "no section names a year: the latest up to today"


def _following(anchor: dt.date, month: int, day: int, direction: int) -> int:
    """The year of the first (month, day) after `anchor` (before it, for direction -1)."""
    for year in (anchor.year, anchor.year + direction):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if (candidate - anchor).days * direction >= 0:
            return year
    return anchor.year


def _ambiguous(i: int, problem: Problem, written: str, line: int, sections: list[Section],
               settled: list[Settled | None], direction: int) -> Settled:
    before, after = _neighbours(i, sections, settled)
    near = [s.date for s in (before, after) if s is not None and s.date is not None]
    date = min(problem.alternatives, key=lambda d: min((abs((d - n).days) for n in near), default=0))
    how = "month/day" if date == problem.alternatives[0] else "day/month"
    hint = f"read as {how}, nearer the neighbouring sections" if near else f"read as {how}"
    return Settled(sections[i], date, False, (_note(sections[i], line, f"guessed {date} for '{written}'", hint),))


def _from_day_number(i: int, sections: list[Section], settled: list[Settled | None], context: DateContext,
                     direction: int) -> Settled:
    section = sections[i]
    number, round_number = section.reading.day_number, section.round_number
    assert number is not None
    label = f"round {round_number} day {number}" if section.reading.round_number else f"day {number}"
    twin = next((s for s in reversed(settled[:i]) if s is not None and s.date is not None
                 and s.section.reading.day_number == number and s.section.round_number == round_number), None)
    if twin is not None and twin.date is not None:
        date = twin.date + direction * _DAY
        side = "after" if direction > 0 else "before"
        return _guessed(section, date, label, f"used twice (also line {twin.section.line}): the day {side} it")
    if context.start is not None and round_number == context.first_round:
        return Settled(section, context.start + (number - 1) * _DAY, False)
    anchor = _numbered_anchor(i, sections, settled)
    if anchor is not None and anchor.date is not None and anchor.section.reading.day_number is not None:
        date = anchor.date + (number - anchor.section.reading.day_number) * _DAY
        return _guessed(section, date, label, f"counted from day {anchor.section.reading.day_number} "
                                              f"on line {anchor.section.line}")
    if context.prose_start is not None and round_number == context.first_round:
        start, where = context.prose_start
        return _guessed(section, start + (number - 1) * _DAY, label, f"counted from the start date on line {where}")
    before, _ = _neighbours(i, sections, settled)
    if before is not None and before.date is not None:
        return _guessed(section, before.date + direction * _DAY, label,
                        f"the day {'after' if direction > 0 else 'before'} the section on line {before.section.line}")
    last = max((s.reading.day_number or 0 for s in sections if s.round_number == round_number), default=number)
    return _guessed(section, context.today - (last - number) * _DAY, label,
                    "no date anywhere: counted back from today; pass --start YYYY-MM-DD")


def _guessed(section: Section, date: dt.date, label: str, hint: str) -> Settled:
    return Settled(section, date, False, (_note(section, section.line, f"guessed {date} for {label}", hint),))


def _numbered_anchor(i: int, sections: list[Section], settled: list[Settled | None]) -> Settled | None:
    """The nearest section (in the log's order) of the same round whose date is written and numbered."""
    round_number = sections[i].round_number
    found = [(abs(j - i), s) for j, s in enumerate(settled) if s is not None and s.written and s.date
             and s.section.reading.day_number is not None and s.section.round_number == round_number]
    return min(found, key=lambda pair: pair[0])[1] if found else None


def _with_range(settled: Settled) -> Settled:
    """A heading that names several days ('Mar 3 - 6, 2020'): one entry, on the first day."""
    reading, start = settled.section.reading, settled.date
    if reading.range_end is None or start is None:
        return settled
    year, month, day = reading.range_end
    try:
        end = dt.date(year or start.year, month, day)
        if end < start and year is None:
            end = dt.date(start.year + 1, month, day)
    except ValueError:
        return settled
    if end <= start:
        return settled
    note = _note(settled.section, settled.section.line,
                 f"'{reading.range_text}' is a range: one entry on {start}; {start + _DAY} to {end} are not"
                 " streak days", "write an entry for each day to count it", RANGE)
    return Settled(settled.section, start, settled.written, settled.notes + (note,))
