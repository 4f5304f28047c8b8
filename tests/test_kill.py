"""A build killed at any moment, or raced by a second one, leaves a complete site (the old one or
the new one), no temporary file, no process of its own behind, and a next build that equals a
clean build. A few trials on real `logbuild build` processes; benchmarks/bench_kill.py and
bench_concurrent.py run hundreds. The kill moment is random, or the moment the build starts
writing the site: the invariant holds at every moment.
"""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest
from kill_trials import (
    KillResult,
    TrialLog,
    add_slow_snippet,
    kill_trial,
    prepare_log,
    race_trial,
    run_build,
    snippet_kill_trial,
    write_log,
)

pytestmark = pytest.mark.xdist_group("kill")


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> TrialLog:
    """60 entries (the worker pool starts at 48), with the clean sites of each version."""
    work = tmp_path_factory.mktemp("kill")
    write_log(work / "log", 60)
    return prepare_log(work / "log", work / "site", work / "scratch")


def assert_survived(r: KillResult, old: str) -> None:
    where = f"{r.kind} build, {r.signal} after {r.delay:.2f} s"
    assert r.state in (old, "new"), f"{where}: the site is neither the old nor the new one: {r.detail}"
    assert not r.temp_files, f"{where}: left inside the site: {r.temp_files}"
    assert not r.survivors, f"{where}: processes outlived the build: {r.survivors}"
    assert r.next_ok, f"{where}: the next build is not the clean site: {r.next_detail}"
    assert not r.left_after_next, f"{where}: left after the next build: {r.left_after_next}"
    assert r.revert_ok in (None, True), f"{where}: undoing the change and building did not give the old site"


def test_in_place_update_killed_while_it_writes(log: TrialLog, tmp_path: Path) -> None:
    assert_survived(kill_trial(log, "edit", signal.SIGKILL, None, tmp_path, undo=True), "old")


def test_cold_build_killed_at_any_moment(log: TrialLog, tmp_path: Path) -> None:
    delay = random.uniform(0.3, 1.0) * log.seconds
    assert_survived(kill_trial(log, "cold", signal.SIGKILL, delay, tmp_path), "absent")


def test_full_rebuild_stopped_by_sigterm(log: TrialLog, tmp_path: Path) -> None:
    delay = random.uniform(0.3, 1.0) * log.seconds
    assert_survived(kill_trial(log, "title", signal.SIGTERM, delay, tmp_path), "old")


def test_two_builds_started_together(log: TrialLog, tmp_path: Path) -> None:
    r = race_trial(log, "edit", tmp_path)
    assert r.lock_named, f"exit {r.exit_codes}; a refusal must name the lock holder: {r.stderr}"
    assert r.site_ok, f"exit {r.exit_codes}: the site is not the clean one: {r.detail}"
    assert not r.temp_files and not r.survivors, (r.temp_files, r.survivors)
    assert r.next_ok, r.next_detail


def test_build_killed_while_a_snippet_runs_leaves_no_process(tmp_path: Path) -> None:
    root, site = tmp_path / "log", tmp_path / "site"
    write_log(root, 3)
    add_slow_snippet(root)
    assert run_build(root, site)[0] == 0
    r = snippet_kill_trial(root, site, 1, tmp_path)
    assert not r.detail, r.detail
    assert not r.survivors, f"the snippet's processes outlived the killed build: {r.survivors}"
    assert r.state in ("old", "new"), r.state
    assert not r.temp_files, r.temp_files
    assert r.next_ok, r.next_detail
