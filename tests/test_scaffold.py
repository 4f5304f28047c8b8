"""SCAFFOLD: `logbuild init` makes a log that loads cleanly and builds, and never overwrites a file."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from hypothesis import given
from hypothesis import strategies as st

from site_builder.config import KEYS, SiteConfig, load_config
from site_builder.scaffold import config_text, init_log, toml_value

LOGBUILD = [sys.executable, "-m", "site_builder.cli"]
DAY = dt.date(2024, 3, 5)


def logbuild(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOGBUILD, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_config_lists_every_key_with_a_comment_and_loads_without_diagnostics(tmp_path: Path) -> None:
    report = init_log(tmp_path / "log", title='My "ML" log', today=DAY)
    text = (tmp_path / "log" / "logbuild.toml").read_text("utf-8")
    assert set(tomllib.loads(text)) == set(KEYS)
    lines = text.splitlines()
    for key, (_, description) in KEYS.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
        assert lines[at - 1] == f"# {description}"
    config, problems = load_config(tmp_path / "log")
    assert problems == []
    assert config.title == 'My "ML" log'
    assert config == SiteConfig(root=(tmp_path / "log").resolve(), title='My "ML" log', source="logbuild.toml")
    assert report.skipped == () and report.refused is None


@given(st.text(), st.dictionaries(st.text(min_size=1), st.text(), max_size=3))
def test_toml_values_round_trip(text: str, env: dict[str, str]) -> None:
    parsed = tomllib.loads(f"a = {toml_value(text)}\nb = {toml_value(env)}\nc = {toml_value(2.5)}\n")
    assert parsed == {"a": text, "b": env, "c": 2.5}


def test_config_text_follows_the_settings_given() -> None:
    text = config_text(SiteConfig(title="T", snippet_env={"SEED": "1"}))
    data = tomllib.loads(text)
    assert data["title"] == "T" and data["snippet_env"] == {"SEED": "1"} and data["snippet_timeout"] == 600.0


def test_layout(tmp_path: Path) -> None:
    dest = tmp_path / "log"
    init_log(dest, today=DAY)
    entry = (dest / "entries" / "2024-03-05.md").read_text("utf-8")
    assert "date: 2024-03-05" in entry and "```{snippet} first_plot" in entry
    assert "set_title(" in (dest / "snippets" / "first_plot.py").read_text("utf-8")
    assert (dest / ".gitignore").read_text("utf-8").split() == ["site/", ".logbuild/", ".venv/", "__pycache__/"]
    assert (dest / ".github" / "workflows" / "logbuild.yml").is_file()
    assert not (dest / "templates").exists()


def test_copy_templates_copies_the_default_theme(tmp_path: Path) -> None:
    from site_builder.templates import default_theme_dir

    init_log(tmp_path / "log", copy_templates=True, today=DAY)
    theme = default_theme_dir()
    wanted = {p.relative_to(theme) for p in theme.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    copied = {p.relative_to(tmp_path / "log" / "templates") for p in (tmp_path / "log" / "templates").rglob("*")
              if p.is_file()}
    assert wanted and copied == wanted
    assert (tmp_path / "log" / "templates" / "base.html").read_bytes() == (theme / "base.html").read_bytes()


def test_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = logbuild("init", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_force_adds_missing_files_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "logbuild.toml").write_text('title = "kept"\n')
    (tmp_path / ".gitignore").write_text("mine/\n")
    result = logbuild("init", str(tmp_path), "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "logbuild.toml").read_text() == 'title = "kept"\n'
    assert (tmp_path / ".gitignore").read_text() == "mine/\n"
    skipped = [line for line in result.stdout.splitlines() if line.startswith("exists, skipped")]
    assert sorted(Path(line.split()[-1]).name for line in skipped) == [".gitignore", "logbuild.toml"]
    assert (tmp_path / "snippets" / "first_plot.py").is_file()


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "log").write_text("")
    assert init_log(tmp_path / "log", force=True).refused


# `make test` installs this tool; in CI a missing one must fail, not skip
@pytest.mark.skipif(not any(Path(p, "matplotlib").is_dir() for p in sys.path) and not os.environ.get("CI"), reason="needs matplotlib")
def test_init_then_build_makes_a_site_with_the_first_entry(tmp_path: Path) -> None:
    result = logbuild("init", "log", "--title", "Day by day", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    log = tmp_path / "log"
    today = next((log / "entries").glob("*.md")).stem
    built = logbuild("build", "--strict", cwd=log)
    assert built.returncode == 0, built.stdout + built.stderr
    page = (log / "site" / "entries" / today / "index.html").read_text("utf-8")
    assert "Day one" in page and "Minutes of practice per day" in page
    assert "Day by day" in (log / "site" / "index.html").read_text("utf-8")
