"""RELEASE: what the release workflow does to a version, done here: build the sdist and the wheel,
check them with twine, install the wheel in a clean venv, make a log with its `init`, and run the
steps of the workflow `init` writes on that log (its exact `pip install -r requirements.txt`,
`logbuild check --junit`, `logbuild build --base-url`) in a second clean venv."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_ships_the_theme_and_a_new_log_builds_with_it(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)],
                           capture_output=True, text=True, check=False, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"site_builder/theme/base.html", "site_builder/theme/static/style.css",
            "site_builder/workflows/pages.yml", "site_builder/workflows/dependabot.yml"} <= names
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                             capture_output=True, text=True, check=False, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    smoke = subprocess.run(["bash", str(REPO / ".ci" / "wheel-smoke"), str(wheel), str(tmp_path / "smoke")],
                           capture_output=True, text=True, check=False, timeout=900,
                           env={**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
                                "PYTHON": sys.executable, "PYTHONPATH": ""})
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
    assert "a new log's workflow steps pass with it" in smoke.stdout
