"""The snippet cache end to end: hits, a miss for each input, damaged entries, `why`, JUnit."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from site_builder.snippets import SnippetSettings, explain, run_snippets, write_junit

SNIPPET = """\
# logbuild: data=data/points.csv
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from helper import scale
values = np.loadtxt("{root}/data/points.csv") * scale()
print(values.sum())
plt.plot(values); plt.title("points")
"""


@pytest.fixture
def log(tmp_path: Path) -> SnippetSettings:
    snippets = tmp_path / "snippets"
    snippets.mkdir()
    (snippets / "main.py").write_text(SNIPPET.replace("{root}", tmp_path.as_posix()))
    (snippets / "helper.py").write_text("from deeper import factor\n\ndef scale():\n    return factor()\n")
    (snippets / "deeper.py").write_text("def factor():\n    return 2\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "points.csv").write_text("1\n2\n3\n")
    return SnippetSettings(root=tmp_path, snippets_dir=snippets, cache_dir=tmp_path / ".logbuild")


def run(settings: SnippetSettings) -> tuple[str, bool]:
    r = run_snippets(["main"], settings)["main"]
    assert r.status == "ok", r.traceback
    return r.stdout, r.from_cache


def test_hit_then_a_miss_for_each_input(log: SnippetSettings) -> None:
    first = run_snippets(["main"], log)["main"]
    assert first.status == "ok" and not first.from_cache and first.stdout == "12.0\n"
    again = run_snippets(["main"], log)["main"]
    assert again.from_cache and again.ran_at == first.ran_at and again.figures == first.figures
    assert explain("main", log).would_run is False

    edits = [
        (log.snippets_dir / "main.py", "\n# a comment\n", "the snippet's source changed"),
        (log.snippets_dir / "deeper.py", "\n# helper of a helper\n", "source of deeper.py changed"),
        (log.root / "data" / "points.csv", "4\n", "data data/points.csv changed"),
    ]
    for path, extra, reason in edits:
        path.write_text(path.read_text() + extra)
        why = explain("main", log)
        assert why.would_run and why.changed == [reason] and why.cached_at is not None
        assert run(log)[1] is False
        assert run(log)[1] is True

    changed_env = dataclasses.replace(log, env={"SEED": "1"})
    assert explain("main", changed_env).changed == ["snippet_env changed"]
    assert run(changed_env)[1] is False
    assert run(dataclasses.replace(log, fresh=True))[1] is False


@pytest.mark.parametrize("damage", ["truncate-figure", "truncate-result", "edit-result", "delete-figure"])
def test_damaged_entry_is_a_miss_not_a_crash(log: SnippetSettings, damage: str) -> None:
    first = run_snippets(["main"], log)["main"]
    folder = Path(first.output_dir or "")
    figure, result = folder / first.figures[0].path, folder / "result.json"
    if damage == "truncate-figure":
        figure.write_bytes(figure.read_bytes()[:100])
    elif damage == "truncate-result":
        result.write_bytes(result.read_bytes()[:50])
    elif damage == "edit-result":
        result.write_text(result.read_text().replace("12.0", "13.0"))
    else:
        figure.unlink()
    assert explain("main", log).would_run
    again = run_snippets(["main"], log)["main"]
    assert again.status == "ok" and not again.from_cache and again.stdout == "12.0\n"
    assert (Path(again.output_dir or "") / again.figures[0].path).stat().st_size > 1000
    assert run(log)[1] is True


def test_failures_are_not_cached_and_why_says_so(tmp_path: Path) -> None:
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "bad.py").write_text("raise RuntimeError('no')\n")
    s = SnippetSettings(root=tmp_path, snippets_dir=tmp_path / "snippets", cache_dir=tmp_path / ".c")
    assert run_snippets(["bad"], s)["bad"].status == "failed"
    assert "'failed' at line 1" in explain("bad", s).changed[0]
    again = run_snippets(["bad"], s)["bad"]
    assert again.status == "failed" and not again.from_cache


def test_old_keys_are_pruned(log: SnippetSettings) -> None:
    main = log.snippets_dir / "main.py"
    for n in range(5):
        main.write_text(f"print({n})\n")
        assert run(log) == (f"{n}\n", False)
    keys = [p for p in (log.cache_dir / "snippets" / "main").iterdir() if len(p.name) == 64]
    assert len(keys) == 3


def test_junit_report(tmp_path: Path) -> None:
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "ok.py").write_text("print('hi')\n")
    (tmp_path / "snippets" / "bad.py").write_text("raise RuntimeError('no')\n")
    s = SnippetSettings(root=tmp_path, snippets_dir=tmp_path / "snippets", cache_dir=tmp_path / ".c")
    results = run_snippets(["ok", "bad", "gone"], s)
    out = tmp_path / "junit.xml"
    write_junit(results, out, [("entries/2018-09-09.md", "unknown snippet 'x'")])
    suite = ET.parse(out).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "1")
    bad = suite.find("testcase[@name='bad']/failure")
    assert bad is not None and bad.get("message") == "RuntimeError: no"
