"""Shared fixtures: copies of the fixture logs, the `logbuild` command, and one built fixture site.

Tests that read the built site share a session fixture (built once per xdist worker) and carry
`@pytest.mark.xdist_group("site")`, so `pytest -n 2 --dist loadgroup` builds it only once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SITE_TODAY = "2020-03-06"  # the fixture log's "today": 2020-03-20 is in the future


def copy_fixture(name: str, dest: Path) -> Path:
    """A private copy of tests/fixtures/NAME (tests never write into the repository)."""
    shutil.copytree(FIXTURES / name, dest, ignore=shutil.ignore_patterns(".logbuild", "site", "expected.txt"))
    return dest


def run_logbuild(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process, as a user would (no colours, no terminal)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "site_builder.cli", *map(str, args)],
        cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=timeout,
    )


@dataclass(frozen=True)
class BuiltSite:
    root: Path  # the log project
    out: Path  # the built site
    report: dict[str, Any]  # `build --json`
    stderr: str


def build_fixture_site(root: Path, out: Path, *extra: str) -> BuiltSite:
    result = run_logbuild("-C", root, "build", "--out", out, "--today", SITE_TODAY, "--json", *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return BuiltSite(root, out, json.loads(result.stdout), result.stderr)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """tests/fixtures/daily-log built once with --today 2020-03-06. Read it; never write into it."""
    root = copy_fixture("daily-log", tmp_path_factory.mktemp("site") / "log")
    return build_fixture_site(root, root / "site")


@pytest.fixture
def site_copy(site: BuiltSite, tmp_path: Path) -> Path:
    """A writable copy of the built fixture log, snippet cache included (so nothing reruns)."""
    root = tmp_path / "log"
    shutil.copytree(site.root, root, ignore=shutil.ignore_patterns("site"))
    shutil.rmtree(root / ".logbuild" / "build", ignore_errors=True)  # state names the other folder
    return root
