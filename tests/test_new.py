"""`logbuild new`: the real CLI on small logs in tmp_path, plus the pure parts (next steps, streak text)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from site_builder.entries import EntryRules, parse_entry
from site_builder.newentry import entry_text, next_steps, streak_message

LOGBUILD = Path(sys.executable).parent / "logbuild"
PREVIOUS = """---
date: 2018-09-20
title: Backprop as circuit search
---
What I did.

## Next steps

- Read chapter 2 of the book
- Try dropout on
  the small convnet
- [ ] Compare Adam and RMSprop

## Links

- https://example.org/not-a-step
"""


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LOGBUILD), "-C", str(root), "new", *args], capture_output=True, text=True,
                          check=False, env={**os.environ, **(env or {})}, timeout=60)


def make_log(root: Path, days: list[str], last_body: str = PREVIOUS) -> Path:
    (root / "entries").mkdir(parents=True)
    (root / "logbuild.toml").write_text("# the defaults\n")
    for day in days:
        (root / "entries" / f"{day}.md").write_text(f"---\ndate: {day}\ntitle: Day {day}\n---\nText.\n")
    (root / "entries" / f"{days[-1]}.md").write_text(last_body.replace("2018-09-20", days[-1]))
    return root


def test_creates_entry_with_front_matter_and_carried_next_steps(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", ["2018-09-19", "2018-09-20"])
    result = run(root, "2018-09-21", "--title", "Convnets: day 3", "--tags", "keras, CNN")
    assert result.returncode == 0, result.stderr
    path = root / "entries" / "2018-09-21.md"
    assert "entries/2018-09-21.md" in result.stdout
    text = path.read_text()
    entry, problems = parse_entry("entries/2018-09-21.md", path.read_bytes(), EntryRules())
    assert not problems and entry is not None
    assert (entry.date, entry.title, entry.tags) == (dt.date(2018, 9, 21), "Convnets: day 3", ("keras", "cnn"))
    assert "## Plan\n\n- Read chapter 2 of the book\n- Try dropout on the small convnet\n" \
           "- Compare Adam and RMSprop\n" in text
    assert "not-a-step" not in text
    assert "Day 3 of your streak." in result.stdout


def test_default_title_is_the_readable_date_and_today_is_the_default_day(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", ["2018-09-20"])
    result = run(root, env={"SOURCE_DATE_EPOCH": "1537574400"})  # 2018-09-22 00:00 UTC
    assert result.returncode == 0, result.stderr
    entry, _ = parse_entry("e.md", (root / "entries" / "2018-09-22.md").read_bytes(), EntryRules())
    assert entry is not None and entry.title == "Saturday, 22 September 2018"


def test_refuses_to_overwrite_and_keeps_the_bytes(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", ["2018-09-20"])
    path = root / "entries" / "2018-09-20.md"
    before = path.read_bytes()
    result = run(root, "2018-09-20", "--title", "Replaced?")
    assert result.returncode == 1
    assert "entries/2018-09-20.md" in result.stderr and "already" in result.stderr
    assert path.read_bytes() == before


def test_refuses_a_second_entry_for_the_same_day_under_another_name(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", ["2018-09-20"])
    (root / "entries" / "2018-09-21-pooling.md").write_text("---\ndate: 2018-09-21\n---\nx\n")
    result = run(root, "2018-09-21")
    assert result.returncode == 1 and "2018-09-21-pooling.md" in result.stderr
    assert not (root / "entries" / "2018-09-21.md").exists()


def test_snippet_is_created_and_linked_and_never_overwritten(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", ["2018-09-20"])
    result = run(root, "2018-09-21", "--snippet", "pooling_demo")
    assert result.returncode == 0, result.stderr
    snippet = root / "snippets" / "pooling_demo.py"
    source = snippet.read_text()
    compile(source, str(snippet), "exec")
    assert "set_title" in source and "plt.subplots" in source
    entry, problems = parse_entry("entries/2018-09-21.md", (root / "entries" / "2018-09-21.md").read_bytes(),
                                  EntryRules(known_snippets=frozenset({"pooling_demo"})))
    assert entry is not None and not problems
    assert {r.name for r in entry.snippets} == {"pooling_demo"}
    assert any(r.inline for r in entry.snippets) and any(not r.inline for r in entry.snippets)

    snippet.write_text("# mine\n")
    again = run(root, "2018-09-22", "--snippet", "pooling_demo")
    assert again.returncode == 1 and "snippets/pooling_demo.py" in again.stderr
    assert snippet.read_text() == "# mine\n" and not (root / "entries" / "2018-09-22.md").exists()
    assert run(root, "2018-09-22", "--snippet", "../evil").returncode == 1


def test_streak_message_when_the_streak_goes_on_and_when_it_ended(tmp_path: Path) -> None:
    days = [f"2018-09-{d:02d}" for d in range(9, 21)]  # 12 days in a row, up to 2018-09-20
    root = make_log(tmp_path / "log", days)
    later = run(root, "2018-09-23")
    assert later.returncode == 0, later.stderr
    assert "Your 12-day streak ended on 2018-09-20; today starts a new one." in later.stdout
    nxt = run(root, "2018-09-24")
    assert "Day 2 of your streak." in nxt.stdout


def test_edit_opens_the_editor_on_the_file(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", ["2018-09-20"])
    marker = tmp_path / "opened.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" > "{marker}"\n')
    editor.chmod(0o755)
    result = run(root, "2018-09-21", "--edit", env={"EDITOR": str(editor), "VISUAL": ""})
    assert result.returncode == 0, result.stderr
    assert marker.read_text().strip().endswith("entries/2018-09-21.md")


@pytest.mark.parametrize("body, items", [
    ("## Next steps\n\n- a\n- b\n\nafter\n", ["a", "b"]),
    ("**Next steps**\n* one\n  more\n1. two\n", ["one more", "two"]),
    ("### Next Steps:\n- [x] done\n- [ ] todo\n", ["done", "todo"]),
    ("## Next steps\n\nNo list here.\n- not after prose\n", []),
    ("no heading\n- a\n", []),
    ("## Next steps\n- old\n## Next steps\n- new\n", ["new"]),
])
def test_next_steps(body: str, items: list[str]) -> None:
    assert next_steps(body) == items


def test_entry_text_quotes_what_yaml_would_misread() -> None:
    text = entry_text(dt.date(2024, 1, 2), "yes", ["null", "ok"], [], None)
    entry, problems = parse_entry("entries/2024-01-02.md", text.encode(), EntryRules())
    assert entry is not None and not problems and entry.title == "yes" and entry.tags == ("null", "ok")


def test_streak_message_pure() -> None:
    d = dt.date
    assert streak_message([], d(2024, 1, 1)) == "Day 1: your first entry. Welcome!"
    assert streak_message([d(2024, 1, 1)], d(2024, 1, 2)) == "Day 2 of your streak."
    assert streak_message([d(2024, 1, 1)], d(2024, 1, 5)) == \
        "Your last entry was on 2024-01-01; today starts a new streak."
    assert streak_message([d(2024, 1, 1)], d(2024, 1, 3), "never-miss-twice") == "Day 2 of your streak."
    assert streak_message([d(2024, 1, 1)], d(2024, 1, 2), challenge_days=100).endswith(
        "Day 2 of your 100-day challenge.")
