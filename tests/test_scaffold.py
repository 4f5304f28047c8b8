"""SCAFFOLD: `logbuild init` makes a log that loads cleanly and builds, and never overwrites a file."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from hypothesis import given
from hypothesis import strategies as st

from site_builder.config import KEYS, SiteConfig, load_config
from site_builder.scaffold import config_text, init_log, requirements_text, toml_value

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
    assert (dest / ".gitignore").read_text("utf-8").split() == ["site/", ".logbuild/", "reports/", ".venv/", "__pycache__/"]
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


# -- requirements.txt: CI installs the logbuild the user has (PEP 610's direct_url.json) ---------
def installed(tmp_path: Path, direct_url: dict[str, object] | None) -> importlib.metadata.Distribution:
    """A real dist-info folder, read through importlib.metadata as pip's records are."""
    info = tmp_path / "logbuild-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: logbuild\nVersion: 1.2.3\n", "utf-8")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url), "utf-8")
    return importlib.metadata.PathDistribution(info)


def requirement_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(("direct_url", "wanted"), [
    (None, "logbuild==1.2.3"),
    ({"url": "https://github.com/me/logbuild.git", "vcs_info": {"vcs": "git", "commit_id": SHA,
                                                                  "requested_revision": "main"}},
     f"logbuild @ git+https://github.com/me/logbuild.git@{SHA}"),
    ({"url": "https://github.com/me/tools.git", "subdirectory": "logbuild",
      "vcs_info": {"vcs": "git", "commit_id": SHA}},
     f"logbuild @ git+https://github.com/me/tools.git@{SHA}#subdirectory=logbuild"),
    ({"url": "https://files.example.org/logbuild-1.2.3.tar.gz", "archive_info": {}},
     "logbuild @ https://files.example.org/logbuild-1.2.3.tar.gz"),
], ids=["index", "vcs", "vcs-subdirectory", "archive"])
def test_requirements_install_the_same_logbuild(tmp_path: Path, direct_url: dict[str, object] | None,
                                                 wanted: str) -> None:
    from packaging.requirements import Requirement

    text = requirements_text(installed(tmp_path, direct_url))
    assert requirement_lines(text) == [wanted, "matplotlib>=3.8"]
    assert all(Requirement(line).name in ("logbuild", "matplotlib") for line in requirement_lines(text))


@pytest.mark.parametrize("direct_url", [
    {"url": "file:///home/me/logbuild", "dir_info": {"editable": True}},
    {"url": "file:///home/me/logbuild", "dir_info": {}},
    {"url": "file:///home/me/logbuild", "vcs_info": {"vcs": "git", "commit_id": SHA}},
    {"url": "file:///tmp/logbuild-1.2.3-py3-none-any.whl", "archive_info": {}},
], ids=["editable", "folder", "local-git", "local-wheel"])
def test_a_local_install_gets_a_comment_saying_what_to_write(tmp_path: Path, direct_url: dict[str, object]) -> None:
    text = requirements_text(installed(tmp_path, direct_url))
    assert requirement_lines(text) == ["matplotlib>=3.8"]  # nothing CI cannot reach
    assert "CI cannot reach" in text and "# logbuild==1.2.3" in text and str(direct_url["url"]) in text


def test_init_writes_requirements_for_the_running_logbuild_and_says_to_edit_a_local_one(tmp_path: Path) -> None:
    # this venv has logbuild as an editable install of the checkout (make's `pip install -e`)
    result = logbuild("init", "log", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "log" / "requirements.txt").read_text("utf-8")
    assert text == requirements_text(importlib.metadata.distribution("logbuild"))
    assert "editable install" in text and "requirements.txt" in result.stdout and "edit" in result.stdout


def test_gitignore_keeps_junit_reports_out(tmp_path: Path) -> None:
    init_log(tmp_path / "log", today=DAY)
    assert "reports/" in (tmp_path / "log" / ".gitignore").read_text("utf-8").split()
