"""The snippet cache end to end: hits, a miss for each input, damaged and forged entries, `why`, JUnit."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import run_logbuild

from site_builder.snippets import SnippetSettings, cache, explain, run_snippets, write_junit
from site_builder.snippets.cache import record_checksum

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


# --- the store is untrusted (restored from CI): a crafted entry is a miss, never read or copied ---

SECRET = b"\x89PNG not a figure: a private file outside the cache\n"
FIGURE = 'import matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint("12.0")\n'


def _settings(root: Path) -> SnippetSettings:
    return SnippetSettings(root=root, snippets_dir=root / "snippets", cache_dir=root / ".logbuild")


@pytest.fixture(scope="module")
def stored_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log whose cache holds one run of a figure snippet (keys hold no absolute path: it moves)."""
    root = tmp_path_factory.mktemp("stored") / "log"
    (root / "snippets").mkdir(parents=True)
    (root / "snippets" / "main.py").write_text(FIGURE)
    assert run_snippets(["main"], _settings(root))["main"].status == "ok"
    return root


@pytest.fixture
def stored(stored_log: Path, tmp_path: Path) -> tuple[SnippetSettings, Path, Path]:
    """(settings, the stored entry's folder, a private file outside the cache) of a fresh copy."""
    shutil.copytree(stored_log, tmp_path / "log", symlinks=True)
    settings = _settings(tmp_path / "log")
    hit = run_snippets(["main"], settings)["main"]
    assert hit.from_cache
    secret = tmp_path / "secret.png"
    secret.write_bytes(SECRET)
    return settings, Path(hit.output_dir or ""), secret


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rewrite(result_json: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    """Change a stored record and give it a matching checksum, as a forger would."""
    record = json.loads(result_json.read_text())
    edit(record)
    record["checksum"] = record_checksum(record)
    result_json.write_text(json.dumps(record))


def _point_figure_at(path: str) -> Callable[[dict[str, Any]], object]:
    return lambda r: r["figures"][0].update(path=path, sha256=_sha(SECRET))


def _forged(folder: Path, secret: Path) -> dict[str, Callable[[dict[str, Any]], object]]:
    return {
        "absolute figure path": _point_figure_at(str(secret)),
        "figure path climbing with ../": _point_figure_at(os.path.relpath(secret, folder)),
        "figure path with a backslash": _point_figure_at("..\\" + secret.name),
        "figure path with a NUL": _point_figure_at("figure-01.png\0.png"),
        "figure in a subfolder": _point_figure_at("sub/figure-01.png"),
        "hidden figure name": _point_figure_at(".figure-01.png"),
        "figure that is not a png": _point_figure_at("inputs.json"),
        "another snippet's name": lambda r: r.update(name="other"),
        "another key": lambda r: r.update(key="0" * 64),
        "a failure in a key folder": lambda r: r.update(status="failed"),
        "a list for a string": lambda r: r.update(stdout=["12.0\n"]),
        "a string for the figures": lambda r: r.update(figures="figure-01.png"),
        "a list for a figure path": lambda r: r["figures"][0].update(path=["figure-01.png"]),
        "a string for a width": lambda r: r["figures"][0].update(width="640"),
        "a bool for a line": lambda r: r.update(error_line=True),
        "a bad time": lambda r: r.update(ran_at="yesterday"),
        "a missing field": lambda r: r.pop("stderr"),
        "an unknown field": lambda r: r.update(figures_dir=str(secret.parent)),
        "another format": lambda r: r.update(format=0),
    }


RERUN = ("absolute figure path", "figure path climbing with ../", "a list for a string")


def _assert_reran_without(settings: SnippetSettings, secret: Path) -> None:
    """The next run misses and runs the snippet again; nothing in the cache is the outside file."""
    again = run_snippets(["main"], settings)["main"]
    assert again.status == "ok" and not again.from_cache and again.stdout == "12.0\n"
    figure = Path(again.output_dir or "") / again.figures[0].path
    assert not figure.is_symlink() and figure.read_bytes().startswith(b"\x89PNG\r\n")
    assert secret.read_bytes() == SECRET
    assert [p for p in settings.cache_dir.rglob("*") if p.is_file() and p.read_bytes() == SECRET] == []


@pytest.mark.parametrize("forgery", sorted(_forged(Path("/k"), Path("/s"))))
def test_a_forged_record_is_a_miss(stored: tuple[SnippetSettings, Path, Path], forgery: str) -> None:
    settings, folder, secret = stored
    if forgery == "figure in a subfolder":
        (folder / "sub").mkdir()
        (folder / "sub" / "figure-01.png").write_bytes(SECRET)
    _rewrite(folder / "result.json", _forged(folder, secret)[forgery])
    assert cache.load_result(settings.cache_dir, "main", folder.name) is None
    assert explain("main", settings).would_run
    if forgery in RERUN:
        _assert_reran_without(settings, secret)


def test_a_symlinked_figure_is_a_miss_and_never_copied(stored: tuple[SnippetSettings, Path, Path]) -> None:
    settings, folder, secret = stored
    (folder / "figure-01.png").unlink()
    (folder / "figure-01.png").symlink_to(secret)
    _rewrite(folder / "result.json", lambda r: r["figures"][0].update(sha256=_sha(SECRET)))
    assert cache.load_result(settings.cache_dir, "main", folder.name) is None
    _assert_reran_without(settings, secret)


@pytest.mark.parametrize("link", ["result.json", "key folder"])
def test_a_symlinked_entry_is_a_miss(stored: tuple[SnippetSettings, Path, Path], link: str) -> None:
    settings, folder, secret = stored
    elsewhere = secret.parent / "elsewhere"
    shutil.copytree(folder, elsewhere)  # a valid entry, but outside the cache
    if link == "key folder":
        shutil.rmtree(folder)
        folder.symlink_to(elsewhere, target_is_directory=True)
    else:
        (folder / "result.json").unlink()
        (folder / "result.json").symlink_to(elsewhere / "result.json")
    assert cache.load_result(settings.cache_dir, "main", folder.name) is None
    assert cache.stored_entries(settings.cache_dir, "main") == ([] if link == "key folder" else [folder])


def test_a_forged_last_failure_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "bad.py").write_text("raise RuntimeError('no')\n")
    s = SnippetSettings(root=tmp_path, snippets_dir=tmp_path / "snippets", cache_dir=tmp_path / ".c")
    failed = run_snippets(["bad"], s)["bad"]
    last = Path(failed.output_dir or "")
    assert last.name == "_last" and cache.load_last_failure(s.cache_dir, "bad") is not None
    shutil.copytree(last, tmp_path / "elsewhere")  # a valid failure record, kept outside the cache
    edits: list[Callable[[dict[str, Any]], object]] = [
        lambda r: r.update(error_line=["1"]), lambda r: r.update(name="other"), lambda r: r.update(status="ok"),
        lambda r: r.update(figures=[{"path": "/etc/passwd"}]), lambda r: r.update(key="../x"),
    ]
    for edit in edits:
        _rewrite(last / "result.json", edit)
        assert cache.load_last_failure(s.cache_dir, "bad") is None
        assert explain("bad", s).changed == ["it has never run successfully (nothing cached)"]
        shutil.copy(tmp_path / "elsewhere" / "result.json", last / "result.json")
    shutil.rmtree(last)
    last.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert cache.load_last_failure(s.cache_dir, "bad") is None
    again = run_snippets(["bad"], s)["bad"]  # a new failure replaces the link, not what it points at
    assert again.status == "failed" and not Path(again.output_dir or "").is_symlink()
    assert (tmp_path / "elsewhere" / "result.json").is_file()


@pytest.mark.parametrize("name", ["..", "../main", "a/b", "a\\b", "", ".hidden", "a\0b", "a b"])
def test_a_name_that_is_no_folder_name_is_never_a_path(tmp_path: Path, name: str) -> None:
    assert cache.load_result(tmp_path, name, "0" * 64) is None
    assert cache.load_last_failure(tmp_path, name) is None
    assert cache.stored_entries(tmp_path, name) == []
    with pytest.raises(cache.DamagedEntry):
        cache.new_staging(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_a_build_never_publishes_what_a_forged_figure_points_at(tmp_path: Path) -> None:
    log = tmp_path / "log"
    (log / "snippets").mkdir(parents=True)
    (log / "logbuild.toml").write_text("# the defaults\n")
    (log / "snippets" / "main.py").write_text(FIGURE)
    (log / "entries").mkdir()
    entry = log / "entries" / "2020-01-01.md"
    entry.write_text("---\ntitle: One\nsnippets: [main]\n---\nA figure.\n")
    first = run_logbuild("-C", log, "build", "--today", "2020-01-01", "--json")
    assert first.returncode == 0, first.stderr
    secret = tmp_path / "secret.png"
    secret.write_bytes(SECRET)
    (folder,) = cache.stored_entries(log / ".logbuild", "main")
    (folder / "figure-01.png").unlink()
    (folder / "figure-01.png").symlink_to(secret)
    _rewrite(folder / "result.json", lambda r: r["figures"][0].update(sha256=_sha(SECRET)))
    entry.write_text(entry.read_text() + "Edited.\n")  # so the build has something to do
    again = run_logbuild("-C", log, "build", "--today", "2020-01-01", "--json")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert json.loads(again.stdout)["snippets"]["ran"] == 1
    published = [p for p in (log / "site").rglob("*") if p.is_file()]
    assert any(p.suffix == ".png" for p in published)
    assert [p for p in published if p.is_symlink() or p.read_bytes() == SECRET] == []
