"""CALENDAR: the yearly heatmap is well-formed SVG with one link (and tooltip) per logged day."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run_logbuild

from site_builder.calendar import calendar_svg, calendar_years

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [dt.date(2020, 2, 28), dt.date(2020, 2, 29), dt.date(2020, 3, 1), dt.date(2020, 12, 31)]


def render(year: int, days=DAYS, today: dt.date | None = None) -> ET.Element:
    counts = {d: 1 for d in days}
    titles = {d: f"Entry <{d}> & more" for d in days}
    svg = calendar_svg(year, counts, titles, lambda d: f"entries/{d}/", today)
    return ET.fromstring(svg)  # raises on anything not well-formed


def test_one_link_per_logged_day_with_a_tooltip() -> None:
    root = render(2020)
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == [f"entries/{d}/" for d in DAYS]
    for a, day in zip(links, DAYS):
        rect = a.find(f"{SVG}rect")
        assert rect is not None and "cal-l1" in rect.get("class", "")
        title = rect.find(f"{SVG}title")
        assert title is not None and title.text == f"{day:%a %-d %b %Y}: Entry <{day}> & more"
        assert a.get("aria-label") == title.text


def test_leap_year_has_366_cells_and_a_29th_of_february() -> None:
    root = render(2020)
    cells = root.findall(f".//{SVG}rect")
    assert len(cells) == 366
    titles = [r.find(f"{SVG}title").text for r in cells]  # type: ignore[union-attr]
    assert any(t.startswith("Sat 29 Feb 2020") for t in titles)
    assert len(render(2019, days=[dt.date(2019, 6, 1)]).findall(f".//{SVG}rect")) == 365


def test_unlogged_days_are_not_links() -> None:
    root = render(2021, days=[dt.date(2021, 5, 5)])
    assert len(root.findall(f"{SVG}a")) == 1
    plain = [r for r in root.findall(f"{SVG}rect")]
    assert all("nothing logged" in r.find(f"{SVG}title").text for r in plain)  # type: ignore[union-attr]


def test_days_of_other_years_are_left_out() -> None:
    root = render(2019, days=DAYS)
    assert root.findall(f"{SVG}a") == []
    assert root.find(f"{SVG}title").text == "2019: 0 days logged"  # type: ignore[union-attr]


def test_today_is_marked() -> None:
    root = render(2020, today=dt.date(2020, 3, 1))
    marked = [r for r in root.iter(f"{SVG}rect") if "cal-today" in r.get("class", "")]
    assert len(marked) == 1 and marked[0].find(f"{SVG}title").text.startswith("Sun 1 Mar 2020")  # type: ignore[union-attr]


@pytest.mark.parametrize("year", [2018, 2020, 2021])
def test_cells_stay_inside_the_view_box(year: int) -> None:
    root = render(year)
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    for rect in root.iter(f"{SVG}rect"):
        assert 0 <= float(rect.get("x", -1)) and float(rect.get("x", 0)) + float(rect.get("width", 0)) <= width
        assert 0 <= float(rect.get("y", -1)) and float(rect.get("y", 0)) + float(rect.get("height", 0)) <= height


def test_years_newest_first() -> None:
    counts = [(dt.date(2018, 9, 9), 1), (dt.date(2020, 1, 1), 2), (dt.date(2018, 12, 1), 1)]
    assert calendar_years(counts) == [2020, 2018]


@pytest.mark.parametrize("day", [dt.date(9999, 12, 31), dt.date(1, 1, 1)])
def test_the_first_and_last_years_there_are(day: dt.date) -> None:
    """No cell needs the day after 9999-12-31 or a week start before year 1 (it crashed)."""
    root = render(day.year, days=[day])
    assert len(root.findall(f".//{SVG}rect")) == 365
    assert [a.get("href") for a in root.findall(f"{SVG}a")] == [f"entries/{day}/"]


def test_a_log_dated_9999_12_31_builds(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    (tmp_path / "logbuild.toml").write_text("# the defaults\n", "utf-8")
    (tmp_path / "entries" / "2018-09-20.md").write_text("A real day.\n", "utf-8")
    (tmp_path / "entries" / "far.md").write_text("---\ndate: 9999-12-31\n---\nThe end of time.\n", "utf-8")
    result = run_logbuild("-C", tmp_path, "build", "--out", tmp_path / "out", "--today", "2018-09-22")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out" / "entries" / "9999-12-31-far" / "index.html").is_file()
