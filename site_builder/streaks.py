"""STREAKS: pure functions from entry dates, `today` and a streak rule to the Streaks figures."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Streaks:
    """Streak figures computed from entry dates; see streaks.compute_streaks."""

    current: int
    current_start: dt.date | None
    best: int
    best_start: dt.date | None
    best_end: dt.date | None
    total_days: int
    longest_gap: int  # most consecutive missed days between two entries
    longest_gap_after: dt.date | None  # the last entry before that gap
    first_day: dt.date | None
    last_day: dt.date | None
    counts: tuple[tuple[dt.date, int], ...]  # entries per day, ascending, for the calendar
    challenge_days: int | None = None
    challenge_day: int | None = None  # "day N of challenge_days" (the current streak length)


# Largest step between two logged days that keeps a run going: "daily" allows the next
# calendar day only; "never-miss-twice" also allows one missed day in between.
_MAX_STEP = {"daily": 1, "never-miss-twice": 2}

Run = tuple[dt.date, dt.date, int]  # first day, last day, number of logged days


def log_day(moment: dt.datetime, day_ends_at: int) -> dt.date:
    """The log day a timestamp counts for: before `day_ends_at` o'clock it is still yesterday.

    Uses the wall-clock fields as written (no conversion), so naive and aware moments agree.
    """
    day = moment.date()
    return day - dt.timedelta(days=1) if moment.hour < day_ends_at else day


def today_in(now_utc: dt.datetime, timezone: str, day_ends_at: int) -> dt.date:
    """'today' for the learner: now in their IANA zone, then the day-end rule. Naive means UTC."""
    if now_utc.tzinfo is None:
        now_utc = now_utc.replace(tzinfo=dt.timezone.utc)
    return log_day(now_utc.astimezone(zoneinfo.ZoneInfo(timezone)), day_ends_at)


def _runs(days: list[dt.date], max_step: int) -> list[Run]:
    """Split ascending distinct days into runs; a step longer than `max_step` starts a new run."""
    runs: list[Run] = []
    for day in days:
        if runs and (day - runs[-1][1]).days <= max_step:
            start, _, n = runs[-1]
            runs[-1] = (start, day, n + 1)
        else:
            runs.append((day, day, 1))
    return runs


def _longest_gap(days: list[dt.date]) -> tuple[int, dt.date | None]:
    """Most missed days between two logged days and the day before them (latest on ties)."""
    gap, after = 0, None
    for before, nxt in itertools.pairwise(days):
        missed = (nxt - before).days - 1
        if missed > 0 and missed >= gap:
            gap, after = missed, before
    return gap, after


def _current(days: list[dt.date], today: dt.date, max_step: int) -> tuple[int, dt.date | None]:
    """The streak still alive at `today`.

    Future-dated days are left out: they have not happened yet, so they neither keep a streak
    alive nor lengthen it. This also makes `today=entry.date` give the streak as of that entry.
    """
    past = _runs([d for d in days if d <= today], max_step)
    if not past or (today - past[-1][1]).days > max_step:
        return 0, None
    start, _, n = past[-1]
    return n, start


def compute_streaks(
    days: Iterable[dt.date], today: dt.date, rule: str = "daily", challenge_days: int = 0
) -> Streaks:
    """Streak figures for the given entry days (any order, repeats allowed) as seen on `today`.

    `rule` is "daily" (a missed day breaks the streak) or "never-miss-twice" (one missed day
    bends it, two in a row break it; length counts logged days). The best run wins ties by
    being the most recent.
    """
    if rule not in _MAX_STEP:
        raise ValueError(f"unknown streak rule {rule!r}; expected one of {', '.join(_MAX_STEP)}")
    counts = Counter(days)
    distinct = sorted(counts)
    max_step = _MAX_STEP[rule]
    runs = _runs(distinct, max_step)
    best_start, best_end, best = max(runs, key=lambda run: (run[2], run[1])) if runs else (None, None, 0)
    current, current_start = _current(distinct, today, max_step)
    gap, gap_after = _longest_gap(distinct)
    challenge_length, challenge_day = _challenge(current, challenge_days)
    return Streaks(
        current=current,
        current_start=current_start,
        best=best,
        best_start=best_start,
        best_end=best_end,
        total_days=len(distinct),
        longest_gap=gap,
        longest_gap_after=gap_after,
        first_day=distinct[0] if distinct else None,
        last_day=distinct[-1] if distinct else None,
        counts=tuple((d, counts[d]) for d in distinct),
        challenge_days=challenge_length,
        challenge_day=challenge_day,
    )


def _challenge(current: int, challenge_days: int) -> tuple[int | None, int | None]:
    """(challenge length, "day N of it"), or (None, None) when there is no challenge."""
    if challenge_days <= 0:
        return None, None
    return challenge_days, min(current, challenge_days)


def declared_mismatch(declared: int, streaks: Streaks) -> str | None:
    """None when a hand-kept streak count agrees with the computed current streak, else why not.

    Pass the streaks as of the declaring entry (`today=entry.date`), so old entries still agree.
    """
    if declared == streaks.current:
        return None
    return f"declares a streak of {_days(declared)}; the dates give {streaks.current} (best {streaks.best})"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
