"""Streak maths: table tests for the calendar edges, hypothesis properties for the rest."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from site_builder.streaks import compute_streaks, declared_mismatch, log_day, today_in

D = dt.date
UTC = dt.timezone.utc
RULES = ("daily", "never-miss-twice")


def span(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


# --- the real example log: 2018-09-09 .. 2018-09-20 --------------------------------------

EXAMPLE = span(D(2018, 9, 9), 12)


def test_example_best_run():
    s = compute_streaks(EXAMPLE, today=D(2018, 9, 21))
    assert (s.best, s.best_start, s.best_end) == (12, D(2018, 9, 9), D(2018, 9, 20))
    assert (s.current, s.current_start) == (12, D(2018, 9, 9))
    assert (s.total_days, s.first_day, s.last_day) == (12, D(2018, 9, 9), D(2018, 9, 20))
    assert (s.longest_gap, s.longest_gap_after) == (0, None)


def test_example_broken_two_days_later():
    s = compute_streaks(EXAMPLE, today=D(2018, 9, 23))
    assert (s.current, s.current_start, s.best) == (0, None, 12)


def test_example_declared_counts():
    s = compute_streaks(EXAMPLE, today=D(2018, 9, 21))
    assert declared_mismatch(12, s) is None
    assert declared_mismatch(11, s) == "declares a streak of 11 days; the dates give 12 (best 12)"


def test_declared_count_as_of_the_entry_day():
    # An old entry's "day 5" is checked against the streak on its own day, not today's.
    s = compute_streaks(EXAMPLE, today=D(2018, 9, 13))
    assert (s.current, s.best) == (5, 12)
    assert declared_mismatch(5, s) is None
    assert declared_mismatch(1, s) == "declares a streak of 1 day; the dates give 5 (best 12)"


# --- calendar edges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "best"),
    [
        ([D(2019, 1, 31), D(2019, 2, 1)], 2),  # month boundary
        ([D(2018, 12, 31), D(2019, 1, 1)], 2),  # year boundary
        ([D(2020, 2, 28), D(2020, 2, 29), D(2020, 3, 1)], 3),  # leap day
        ([D(2019, 2, 28), D(2019, 3, 1)], 2),  # no leap day in 2019
        ([D(2020, 2, 28), D(2020, 3, 1)], 1),  # 2020-02-29 missed
    ],
)
def test_calendar_boundaries(days, best):
    s = compute_streaks(days, today=days[-1], rule="daily")
    assert (s.best, s.best_start, s.best_end) == (best, days[-best], days[-1])
    assert s.current == best


@pytest.mark.parametrize(
    ("rule", "best", "current", "current_start"),
    [("daily", 2, 2, D(2024, 3, 4)), ("never-miss-twice", 4, 4, D(2024, 3, 1))],
)
def test_one_missed_day(rule, best, current, current_start):
    days = [D(2024, 3, 1), D(2024, 3, 2), D(2024, 3, 4), D(2024, 3, 5)]  # 03-03 missed
    s = compute_streaks(days, today=D(2024, 3, 6), rule=rule)
    assert (s.best, s.current, s.current_start) == (best, current, current_start)
    assert (s.longest_gap, s.longest_gap_after) == (1, D(2024, 3, 2))


def test_never_miss_twice_breaks_on_two_missed_days():
    days = [D(2024, 3, 1), D(2024, 3, 2), D(2024, 3, 5)]  # 03-03 and 03-04 missed
    s = compute_streaks(days, today=D(2024, 3, 5), rule="never-miss-twice")
    assert (s.best, s.best_start, s.best_end) == (2, D(2024, 3, 1), D(2024, 3, 2))
    assert (s.current, s.current_start) == (1, D(2024, 3, 5))
    assert (s.longest_gap, s.longest_gap_after) == (2, D(2024, 3, 2))


@pytest.mark.parametrize(
    ("rule", "today", "alive"),
    [
        ("daily", D(2024, 3, 2), True),
        ("daily", D(2024, 3, 3), True),
        ("daily", D(2024, 3, 4), False),
        ("never-miss-twice", D(2024, 3, 4), True),
        ("never-miss-twice", D(2024, 3, 5), False),
    ],
)
def test_how_long_a_streak_stays_alive(rule, today, alive):
    s = compute_streaks([D(2024, 3, 1), D(2024, 3, 2)], today=today, rule=rule)
    assert s.current == (2 if alive else 0)


def test_best_ties_go_to_the_most_recent_run():
    days = span(D(2024, 1, 1), 3) + span(D(2024, 2, 1), 3)
    s = compute_streaks(days, today=D(2024, 6, 1))
    assert (s.best_start, s.best_end) == (D(2024, 2, 1), D(2024, 2, 3))


def test_longest_gap_ties_go_to_the_most_recent():
    days = [D(2024, 3, 1), D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 8)]  # two gaps of 2 days
    s = compute_streaks(days, today=D(2024, 3, 8))
    assert (s.longest_gap, s.longest_gap_after) == (2, D(2024, 3, 5))


def test_future_days_count_for_best_and_total_but_not_current():
    days = [D(2024, 3, 1), D(2024, 3, 2), D(2024, 3, 3), D(2024, 3, 10)]
    s = compute_streaks(days, today=D(2024, 3, 2))
    assert (s.current, s.current_start) == (2, D(2024, 3, 1))
    assert (s.best, s.best_end, s.total_days, s.last_day) == (3, D(2024, 3, 3), 4, D(2024, 3, 10))


def test_only_future_days_give_no_current_streak():
    s = compute_streaks([D(2024, 3, 5)], today=D(2024, 3, 1))
    assert (s.current, s.best, s.total_days) == (0, 1, 1)


def test_counts_per_day_ascending():
    days = [D(2024, 3, 2), D(2024, 3, 1), D(2024, 3, 2), D(2024, 3, 2)]
    assert compute_streaks(days, today=D(2024, 3, 2)).counts == ((D(2024, 3, 1), 1), (D(2024, 3, 2), 3))


def test_empty_log():
    s = compute_streaks([], today=D(2024, 3, 1), challenge_days=100)
    assert (s.current, s.best, s.total_days, s.longest_gap, s.counts) == (0, 0, 0, 0, ())
    assert s.current_start is s.best_start is s.best_end is s.first_day is s.last_day is None
    assert (s.challenge_days, s.challenge_day) == (100, 0)


@pytest.mark.parametrize(("challenge", "expected"), [(0, (None, None)), (100, (100, 12)), (10, (10, 10))])
def test_challenge_day_is_current_capped(challenge, expected):
    s = compute_streaks(EXAMPLE, today=D(2018, 9, 21), challenge_days=challenge)
    assert (s.challenge_days, s.challenge_day) == expected


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown streak rule"):
        compute_streaks(EXAMPLE, today=D(2018, 9, 21), rule="weekly")


# --- time of day and time zone ----------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "day_ends_at", "day"),
    [
        (dt.datetime(2018, 9, 21, 0, 44), 4, D(2018, 9, 20)),
        (dt.datetime(2018, 9, 21, 3, 59, 59), 4, D(2018, 9, 20)),
        (dt.datetime(2018, 9, 21, 4, 0), 4, D(2018, 9, 21)),
        (dt.datetime(2018, 9, 21, 0, 44), 0, D(2018, 9, 21)),
        (dt.datetime(2018, 3, 1, 0, 44), 4, D(2018, 2, 28)),
        (dt.datetime(2018, 9, 21, 0, 44, tzinfo=dt.timezone(dt.timedelta(hours=8))), 4, D(2018, 9, 20)),
    ],
)
def test_log_day(moment, day_ends_at, day):
    assert log_day(moment, day_ends_at) == day


def test_today_in_a_zone_ahead_of_utc():
    now = dt.datetime(2018, 9, 20, 17, 0, tzinfo=UTC)
    assert today_in(now, "Asia/Manila", 0) == D(2018, 9, 21)
    assert today_in(now, "UTC", 0) == D(2018, 9, 20)
    # So an entry dated 2018-09-21 is "today" (a living streak) for the learner in Manila.
    days = EXAMPLE + [D(2018, 9, 21)]
    assert compute_streaks(days, today=today_in(now, "Asia/Manila", 0)).current == 13
    assert compute_streaks(days, today=today_in(now, "UTC", 0)).current == 12


def test_today_in_applies_day_end_after_the_zone():
    now = dt.datetime(2018, 9, 20, 17, 0, tzinfo=UTC)  # 01:00 on the 21st in Manila
    assert today_in(now, "Asia/Manila", 4) == D(2018, 9, 20)
    assert today_in(now.replace(tzinfo=None), "Asia/Manila", 0) == D(2018, 9, 21)  # naive = UTC


# --- properties -------------------------------------------------------------------------

BASE = D(2024, 1, 1)
dates = st.integers(0, 60).map(lambda i: BASE + dt.timedelta(days=i))
day_lists = st.lists(dates, max_size=40)
rules = st.sampled_from(RULES)


def without_counts(s):
    return dataclasses.replace(s, counts=())


@given(day_lists, dates, rules, st.randoms())
def test_order_and_duplicates_do_not_matter(days, today, rule, rnd):
    shuffled = days + rnd.sample(days, k=len(days) // 2)
    rnd.shuffle(shuffled)
    a = compute_streaks(days, today, rule, 100)
    b = compute_streaks(shuffled, today, rule, 100)
    assert without_counts(a) == without_counts(b)
    assert compute_streaks(list(reversed(days)), today, rule) == compute_streaks(days, today, rule)


@given(day_lists, dates, rules)
def test_totals_and_bounds(days, today, rule):
    s = compute_streaks(days, today, rule)
    assert s.total_days == len(set(days))
    assert sum(n for _, n in s.counts) == len(days)
    assert 0 <= s.current <= s.best <= s.total_days


@given(day_lists, dates, dates, rules)
def test_adding_a_day_never_lowers_best_or_total(days, extra, today, rule):
    before = compute_streaks(days, today, rule)
    after = compute_streaks(days + [extra], today, rule)
    assert after.best >= before.best
    assert after.total_days >= before.total_days


@given(day_lists, dates)
def test_never_miss_twice_is_at_least_as_kind_as_daily(days, today):
    daily = compute_streaks(days, today, "daily")
    lenient = compute_streaks(days, today, "never-miss-twice")
    assert lenient.best >= daily.best
    assert lenient.current >= daily.current


@given(day_lists, dates)
def test_daily_current_is_zero_once_a_day_is_missed(days, today):
    past = [d for d in days if d <= today]
    if not past or max(past) < today - dt.timedelta(days=1):
        assert compute_streaks(days, today, "daily").current == 0


@given(day_lists, dates)
def test_daily_matches_counting_back_by_hand(days, today):
    logged = set(days)

    def run_ending(day):
        n = 0
        while day - dt.timedelta(days=n) in logged:
            n += 1
        return n

    s = compute_streaks(days, today, "daily")
    assert s.best == max((run_ending(d) for d in logged), default=0)
    start_from = today if today in logged else today - dt.timedelta(days=1)
    assert s.current == run_ending(start_from)
