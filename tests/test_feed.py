"""The Atom feed when entries mix plain dates and times with offsets (a Hugo habit)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import feedparser

from site_builder.build import build_site
from site_builder.builds import BuildOptions
from site_builder.config import load_config
from site_builder.errors import errors_in


def test_feed_dates_mix_plain_days_and_times_with_offsets(tmp_path: Path) -> None:
    (tmp_path / "logbuild.toml").write_text(
        'base_url = "https://learner.github.io/log/"\ntimezone = "Asia/Manila"\nday_ends_at = 4\n'
    )
    entries = tmp_path / "entries"
    entries.mkdir()
    (entries / "2018-09-09.md").write_text("---\ntitle: Plain day\n---\nA day with no time.\n")
    (entries / "2018-09-10.md").write_text(
        "---\ntitle: Late night\ndate: 2018-09-10T16:44:00Z\n---\nWritten at 00:44 in Manila.\n"
    )
    (entries / "2018-09-12.md").write_text("---\ntitle: Naive time\ndate: 2018-09-12 21:30\n---\nEvening.\n")
    config, problems = load_config(tmp_path)
    assert problems == []
    report = build_site(config, BuildOptions(today=dt.date(2018, 9, 12)))
    assert not errors_in(report.diagnostics), report.diagnostics
    feed = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    published = {e.title: e.published for e in feed.entries}
    assert published == {
        "Naive time": "2018-09-12T21:30:00+08:00",
        # 00:44 on the 11th in Manila, before day_ends_at: the entry is the 10th's, its time stays true
        "Late night": "2018-09-11T00:44:00+08:00",
        "Plain day": "2018-09-09T00:00:00+08:00",
    }
    assert feed.feed.updated == "2018-09-12T21:30:00+08:00"
