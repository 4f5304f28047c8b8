"""WORKFLOWS: the one `logbuild init` writes and this repository's own, validated against the
GitHub-workflows schema (check-jsonschema's vendored copy, offline) and checked for their structure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.scaffold import WORKFLOW_PATH, workflow_text

REPO = Path(__file__).resolve().parents[1]
INIT_WORKFLOW = REPO / "site_builder" / "workflows" / "pages.yml"
OWN_WORKFLOW = REPO / ".github" / "workflows" / "logbuild.yml"
BOTH = pytest.mark.parametrize("path", [INIT_WORKFLOW, OWN_WORKFLOW], ids=["init", "repo"])


def check_jsonschema() -> str | None:
    beside = Path(sys.executable).with_name("check-jsonschema")
    return str(beside) if beside.is_file() else shutil.which("check-jsonschema")


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).split("@")[0] == action]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


# `make test` installs this tool; in CI a missing one must fail, not skip
@pytest.mark.skipif(check_jsonschema() is None and not os.environ.get("CI"), reason="needs check-jsonschema")
def test_both_validate_against_the_github_workflow_schema() -> None:
    tool = check_jsonschema()
    assert tool is not None
    done = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(INIT_WORKFLOW),
                           str(OWN_WORKFLOW)], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@BOTH
def test_triggers_push_pull_request_and_a_daily_schedule(path: Path) -> None:
    on = load(path)[True]  # YAML 1.1 reads the key `on` as True
    assert "push" in on and "pull_request" in on
    (cron,) = [item["cron"] for item in on["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert minute.isdigit() and hour.isdigit() and (day, month, weekday) == ("*", "*", "*")


@BOTH
def test_check_job_runs_logbuild_check_with_junit_and_keeps_the_snippet_cache(path: Path) -> None:
    job = load(path)["jobs"]["check"]
    assert "logbuild check --junit " in runs(job)
    (restore,) = steps(job, "actions/cache/restore")
    (save,) = steps(job, "actions/cache/save")
    assert restore["with"]["path"] == save["with"]["path"] == ".logbuild/snippets/"
    assert restore["with"]["key"] == save["with"]["key"]
    assert "hashFiles('snippets/**'" in restore["with"]["key"]
    assert restore["with"]["restore-keys"].strip()
    assert save.get("if") == "always()"  # outputs of the snippets that passed are kept even on a red run
    (setup,) = steps(job, "actions/setup-python")
    assert setup["with"]["cache"] == "pip"


@BOTH
def test_build_and_deploy_to_pages(path: Path) -> None:
    data = load(path)
    assert data["permissions"] == {"contents": "read"}
    build, deploy = data["jobs"]["build"], data["jobs"]["deploy"]
    assert build["needs"] == "check" and "pull_request" in build["if"]
    assert steps(build, "actions/checkout") and steps(build, "actions/cache/restore")
    (pages,) = steps(build, "actions/configure-pages")
    assert "logbuild build --base-url" in runs(build) and f"steps.{pages['id']}.outputs.base_url" in runs(build)
    (upload,) = steps(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "site/"
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    (step,) = steps(deploy, "actions/deploy-pages")
    assert deploy["environment"]["url"] == f"${{{{ steps.{step['id']}.outputs.page_url }}}}"


def test_install_lines() -> None:
    init_runs = runs(load(INIT_WORKFLOW)["jobs"]["check"])
    assert "pip install logbuild" in init_runs
    assert "if [ -f requirements.txt ]; then python -m pip install -r requirements.txt; fi" in init_runs
    own_runs = runs(load(OWN_WORKFLOW)["jobs"]["check"])
    assert "pip install -e '.[snippets]'" in own_runs and "requirements.txt" not in own_runs
    (restore,) = steps(load(OWN_WORKFLOW)["jobs"]["check"], "actions/cache/restore")
    assert "pyproject.toml" in restore["with"]["key"]


def test_init_writes_the_packaged_workflow(tmp_path: Path) -> None:
    from site_builder.scaffold import init_log

    init_log(tmp_path / "log")
    assert (tmp_path / "log" / WORKFLOW_PATH).read_text("utf-8") == workflow_text()
    assert workflow_text() == INIT_WORKFLOW.read_text("utf-8")
