"""Incremental equals clean: after any sequence of edits to a log (entries added, edited, retagged,
deleted, renamed, drafted, linked; images, configuration, a template override, static files, a
snippet and the helper it imports), the site built in place is byte-identical to a clean build.

The machine lives in tests/site_machine.py; benchmarks/bench_differential.py runs it much longer.
Here it is derandomized (the same sequences every run) and does not shrink, to stay short.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from site_machine import machine_for, prepare_seed


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_seed(tmp_path_factory.mktemp("seed"))


def test_incremental_site_equals_clean_site_after_every_step(seed: Path) -> None:
    run_state_machine_as_test(machine_for(seed), settings=settings(
        max_examples=10, stateful_step_count=10, deadline=None, derandomize=True, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    ))
