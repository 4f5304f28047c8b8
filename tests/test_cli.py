"""The command line with real projects: logs that must fail print exact `file:line: message` lines,
exit 1 and leave the published site untouched (Zola's test_sites_invalid, plus a rebuild check)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_fixture, run_logbuild

INVALID = sorted(p.name for p in FIXTURES.glob("invalid-*") if (p / "expected.txt").is_file())
TODAY = "2016-01-10"
GOOD_ENTRY = "---\ntitle: Before the mistake\ntags: [start]\n---\nA valid first day.\n"
GOOD_CONFIG = 'title = "Before the mistake"\ntimezone = "UTC"\n'
COMMANDS = ("build", "build --strict", "check")  # what a fixture's command.txt may say
CONFIG_FILES = ("logbuild.toml", "pyproject.toml")
MOVED = ("entries", "templates", *CONFIG_FILES)  # what the mistake brings; the log before it has none


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and inode: a rewritten file would get new bytes or a new inode."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_ino)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def fixture_command(name: str) -> list[str]:
    """The command a fixture runs: `build` unless its command.txt says `build --strict` (a log that
    only warns) or `check` (what CI runs; it fails on broken links and failed snippets)."""
    file = FIXTURES / name / "command.txt"
    command = file.read_text("utf-8").strip() if file.is_file() else "build"
    assert command in COMMANDS, f"{name}/command.txt: {command!r} is not one of {COMMANDS}"
    return command.split()


def diagnostic_lines(stderr: str) -> list[str]:
    """The `path:line: message` lines of stderr: without the snippet table (box drawing and its
    title), the `[1/2] name: status` progress lines and the closing `Build failed` summary."""
    return [line for line in stderr.splitlines()
            if line.strip() and line.strip() != "Snippets" and not "\u2500" <= line.lstrip()[0] <= "\u257f"
            and not re.match(r"\[\d+/\d+\] ", line) and not line.startswith("Build failed")]


def test_there_are_invalid_logs() -> None:
    assert {"invalid-yaml", "invalid-date", "invalid-duplicate", "invalid-encoding", "invalid-tags",
            "invalid-snippet", "invalid-several"} <= set(INVALID)
    assert len(INVALID) >= 40


@pytest.mark.parametrize("name", INVALID)
def test_invalid_log(name: str, tmp_path: Path) -> None:
    """A fixture log holds the mistake (entries/, templates/, snippets/, logbuild.toml or
    pyproject.toml), expected.txt the exact lines it must print, and optionally command.txt
    (see fixture_command). The log as it was before the mistake, one good entry and a plain
    configuration, builds first; the mistake must then fail with exactly those lines, exit 1,
    say so in its summary, and leave that site as it was."""
    command = fixture_command(name)
    root = copy_fixture(name, tmp_path / "log")
    (root / "command.txt").unlink(missing_ok=True)
    out = tmp_path / "published"
    # 1. the log as it was before the mistake builds
    broken = tmp_path / "broken"
    broken.mkdir()
    for moved in MOVED:
        if (root / moved).exists():
            shutil.move(root / moved, broken / moved)
    (root / "entries").mkdir()
    (root / "entries" / "2016-01-01.md").write_text(GOOD_ENTRY, "utf-8")
    (root / "logbuild.toml").write_text(GOOD_CONFIG, "utf-8")
    first = run_logbuild("-C", root, "build", "--out", out, "--today", TODAY)
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    assert "index.html" in before and "entries/2016-01-01/index.html" in before

    # 2. then the mistake: exactly the expected lines, exit status 1, no traceback
    shutil.rmtree(root / "entries")
    (root / "logbuild.toml").unlink()
    for moved in broken.iterdir():
        shutil.move(moved, root / moved.name)
    where = [] if command[0] == "check" else ["--out", out]
    result = run_logbuild("-C", root, *command, *where, "--today", TODAY)
    expected = (FIXTURES / name / "expected.txt").read_text("utf-8").splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert sorted(diagnostic_lines(result.stderr)) == sorted(expected)
    assert result.returncode == 1, result.stderr

    # 3. the summary says it failed (a broken configuration stops before there is one to give)
    errors = sum(": warning: " not in line for line in expected)
    if command[0] == "check":
        assert result.stdout.strip().splitlines()[-1].startswith("check FAILED")
    elif not all(line.startswith(CONFIG_FILES) for line in expected):
        last = [line for line in result.stderr.splitlines() if line.strip()][-1]
        assert last.startswith(f"Build failed: {errors} error(s), {len(expected) - errors} warning(s)"), (
            result.stderr + result.stdout)

    # 4. and the published site is intact, byte for byte, with no staging folder left behind
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "log", "published"]


def test_every_problem_of_a_log_is_reported() -> None:
    lines = (FIXTURES / "invalid-several" / "expected.txt").read_text("utf-8").splitlines()
    files = {line.split(":")[0] for line in lines}
    assert len(lines) >= 6 and len(files) >= 5


def test_json_lists_errors_too(tmp_path: Path) -> None:
    root = copy_fixture("invalid-tags", tmp_path / "log")
    result = run_logbuild("-C", root, "build", "--out", tmp_path / "out", "--today", TODAY, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == (FIXTURES / "invalid-tags" / "expected.txt").read_text("utf-8").splitlines()
    assert report["diagnostics"][0]["line"] == 3
    assert not (tmp_path / "out").exists()


def _log_with_unknown_key(tmp_path: Path) -> Path:
    root = tmp_path / "log"
    (root / "entries").mkdir(parents=True)
    (root / "logbuild.toml").write_text('title = "Warnings"\n', "utf-8")
    (root / "entries" / "2016-01-05.md").write_text("---\ntitle: T\ntgas: [a]\n---\nBody\n", "utf-8")
    return root


def test_unknown_front_matter_key_is_a_warning(tmp_path: Path) -> None:
    root = _log_with_unknown_key(tmp_path)
    result = run_logbuild("-C", root, "build", "--out", tmp_path / "out", "--today", TODAY)
    assert result.returncode == 0, result.stderr
    assert "entries/2016-01-05.md:3: warning: unknown front matter key 'tgas' (did you mean 'tags'?)" in result.stderr
    assert (tmp_path / "out" / "index.html").is_file()


def test_strict_turns_the_warning_into_a_failure(tmp_path: Path) -> None:
    root = _log_with_unknown_key(tmp_path)
    result = run_logbuild("-C", root, "build", "--out", tmp_path / "out", "--today", TODAY, "--strict")
    assert result.returncode == 1
    assert "entries/2016-01-05.md:3: warning: unknown front matter key 'tgas'" in result.stderr
    assert "Build failed: 0 error(s), 1 warning(s) (warnings are errors under --strict)" in result.stderr
    assert "Built " not in result.stdout and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_broken_configuration_stops_every_command(tmp_path: Path) -> None:
    root = _log_with_unknown_key(tmp_path)
    (root / "logbuild.toml").write_text('title = "T"\nday_ends_at = "four"\ntimezone = "Atlantis"\n', "utf-8")
    for command in (["build", "--out", str(tmp_path / "out")], ["streak"], ["check"]):
        result = run_logbuild("-C", root, *command)
        assert result.returncode == 1, command
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert any(line.startswith("logbuild.toml:2: 'day_ends_at' must be") for line in lines)
        assert "logbuild.toml:3: unknown time zone 'Atlantis' (use an IANA name such as 'Europe/Berlin')" in lines
    assert not (tmp_path / "out").exists()


def test_output_folder_that_is_not_a_site_is_refused(tmp_path: Path) -> None:
    root = _log_with_unknown_key(tmp_path)
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete", "utf-8")
    result = run_logbuild("-C", root, "build", "--out", out, "--today", TODAY)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is not empty and was not built by logbuild" in result.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]


def test_bad_today_is_a_usage_error(tmp_path: Path) -> None:
    root = _log_with_unknown_key(tmp_path)
    result = run_logbuild("-C", root, "build", "--today", "2016-02-30")
    assert result.returncode == 2
    assert "'2016-02-30' is not a date" in result.stderr and "Traceback" not in result.stderr


def test_streak_json(tmp_path: Path) -> None:
    root = copy_fixture("daily-log", tmp_path / "log")
    result = run_logbuild("-C", root, "streak", "--today", "2020-03-06", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["current"], data["best"], data["total_days"]) == (1, 4, 6)
    assert (data["best_start"], data["best_end"]) == ("2020-02-27", "2020-03-01")


def test_every_command_has_help() -> None:
    result = run_logbuild("--help")
    assert result.returncode == 0
    commands = [line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert {"build", "check", "streak"} <= set(commands)
    for command in commands:
        sub = run_logbuild(command, "--help")
        assert sub.returncode == 0, command
        assert f"Usage: logbuild {command}" in sub.stdout
        assert len(sub.stdout.split("Options:")[0].strip().splitlines()) >= 3, f"{command} has no help text"
