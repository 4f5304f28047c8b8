"""CALENDAR: a contribution-calendar heatmap as inline SVG (pure; one grid per year with entries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

CELL = 11
GAP = 2
LEFT = 28
TOP = 16
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class CalendarYear:
    """What one year's grid is drawn from (plain values, so a page's key digests them cheaply);
    the SVG itself is drawn only when the page that shows it is rendered."""

    year: int
    days: tuple[tuple[str, int, str, str], ...]  # (ISO date, entries that day, title, entry URL), logged days
    today: str

    @property
    def svg(self) -> str:
        days = {dt.date.fromisoformat(d): (count, title, url) for d, count, title, url in self.days}
        return calendar_svg(self.year, {d: v[0] for d, v in days.items()}, {d: v[1] for d, v in days.items()},
                            lambda d: days[d][2], dt.date.fromisoformat(self.today))


def calendar_years(counts: Sequence[tuple[dt.date, int]]) -> list[int]:
    """Years that have entries, newest first."""
    return sorted({day.year for day, _ in counts}, reverse=True)


def calendar_svg(
    year: int,
    counts: Mapping[dt.date, int],
    titles: Mapping[dt.date, str],
    href: Callable[[dt.date], str],
    today: dt.date | None = None,
) -> str:
    """One year as weeks (columns) x weekdays (rows, Monday first); logged days link to their entry."""
    first = dt.date(year, 1, 1)
    start = first - dt.timedelta(days=first.weekday())
    weeks = (dt.date(year, 12, 31) - start).days // 7 + 1
    width = LEFT + weeks * (CELL + GAP)
    height = TOP + 7 * (CELL + GAP)
    logged = sum(1 for d in counts if d.year == year)
    parts = [
        (f'<svg class="calendar" viewBox="0 0 {width} {height}" '
         f'aria-label="{year}: {logged} day{"s" if logged != 1 else ""} logged" xmlns="http://www.w3.org/2000/svg">'),
        f"<title>{year}: {logged} days logged</title>",
    ]
    parts += _labels(year, start)
    for ordinal in range(first.toordinal(), dt.date(year, 12, 31).toordinal() + 1):  # no day after 9999-12-31
        day = dt.date.fromordinal(ordinal)
        parts.append(_cell(day, start, counts.get(day, 0), titles.get(day), href, today))
    parts.append("</svg>")
    return "".join(parts)


def _xy(day: dt.date, start: dt.date) -> tuple[int, int]:
    offset = (day - start).days
    return LEFT + (offset // 7) * (CELL + GAP), TOP + (offset % 7) * (CELL + GAP)


def _labels(year: int, start: dt.date) -> list[str]:
    out = []
    for month in range(1, 13):
        x, _ = _xy(dt.date(year, month, 1), start)
        out.append(f'<text class="cal-month" x="{x}" y="{TOP - 5}" aria-hidden="true">{MONTHS[month - 1]}</text>')
    for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
        out.append(f'<text class="cal-day" x="0" y="{TOP + row * (CELL + GAP) + CELL - 2}" '
                   f'aria-hidden="true">{name}</text>')
    return out


def _cell(day: dt.date, start: dt.date, count: int, title: str | None, href: Callable[[dt.date], str],
          today: dt.date | None) -> str:
    x, y = _xy(day, start)
    level = min(count, 2)
    extra = " cal-today" if day == today else ""
    rect = f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="2" class="cal-l{level}{extra}">'
    label = f"{day:%a %-d %b %Y}"
    if not count:
        return f"{rect}<title>{label}: nothing logged</title></rect>"
    text = escape(f"{label}: {title}" if title else label)
    return f'<a href="{escape(href(day))}" aria-label="{text}">{rect}<title>{text}</title></rect></a>'
