"""SCAFFOLD (an edge): `logbuild init` lays out a new log that builds as it is.

The configuration file is generated from `config.KEYS`, so it lists every setting and never
drifts from what `load_config` accepts. Existing files are never overwritten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import CONFIG_FILE, KEYS, SiteConfig

log = logging.getLogger(__name__)

SNIPPET_NAME = "first_plot"
WORKFLOW_PATH = ".github/workflows/logbuild.yml"
DEPENDABOT_PATH = ".github/dependabot.yml"
GITIGNORE = "site/\n.logbuild/\nreports/\n.venv/\n__pycache__/\n"
SNIPPET_REQUIREMENTS = "# What your snippets import.\nmatplotlib>=3.8\n"

SNIPPET = '''\
"""My first snippet: logbuild runs it during the build and shows its output and figures."""

import matplotlib.pyplot as plt

days = [1, 2, 3, 4, 5, 6, 7]
minutes = [20, 35, 30, 45, 40, 60, 50]

print(f"{sum(minutes)} minutes of practice in {len(days)} days")

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(days, minutes, color="#4c72b0")
ax.set_title("Minutes of practice per day")
ax.set_xlabel("day")
ax.set_ylabel("minutes")
'''

ENTRY = """\
---
date: {date}
title: Day one
tags: [start]
---
Today I started this learning log. Each day gets a Markdown file in `entries/` named after
its date; logbuild turns them into a site and counts the streak from those dates.

Code lives in `snippets/`. A fenced `{{snippet}}` block runs a snippet during the build and
shows what it printed and the figures it drew:

```{{snippet}} {snippet}
```

Build the site with `logbuild build`, or preview it with `logbuild serve`.
"""

ABOUT = """\
---
title: About
weight: 1
---
This log is where I write down, day by day, what I learn. Each entry is one day; the streak
counts the days in a row.

This page lives in `pages/about.md`. Every Markdown file in `pages/` becomes an undated page
listed in the navigation (lower `weight` first); it is in no streak, calendar or feed.
"""


@dataclass(frozen=True)
class ScaffoldReport:
    """What `init_log` did: files created, and existing ones left as they were."""

    root: Path
    created: tuple[Path, ...] = ()
    skipped: tuple[Path, ...] = ()
    refused: str | None = None  # why nothing was written, if so
    notes: tuple[str, ...] = ()  # what the user must do before the first push


@dataclass
class _Plan:
    files: dict[str, bytes] = field(default_factory=dict)  # relative POSIX path -> content

    def add(self, path: str, text: str | bytes) -> None:
        self.files[path] = text.encode("utf-8") if isinstance(text, str) else text


def init_log(dest: Path, *, title: str | None = None, copy_templates: bool = False,
             force: bool = False, today: dt.date | None = None) -> ScaffoldReport:
    """Create a new log in `dest`. A non-empty `dest` needs `force`, and even then no file is replaced."""
    if dest.exists() and not dest.is_dir():
        return ScaffoldReport(dest, refused=f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        return ScaffoldReport(dest, refused=f"{dest} is not empty (use --force to add the missing files)")
    config = SiteConfig(root=dest.resolve())
    if title:
        config = dataclasses.replace(config, title=title)
    if today is None:
        from .build import resolve_today

        today = resolve_today(config)
    plan = plan_files(config, today, copy_templates)
    created, skipped = [], []
    for rel, data in plan.files.items():
        path = dest / rel
        if path.exists():
            skipped.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:  # "x": a file that appeared meanwhile is not replaced
            handle.write(data)
        created.append(path)
    for folder in ("entries", "snippets"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    requirements = dest / "requirements.txt"
    note = (f"edit {requirements}: this logbuild is a local install CI cannot reach, and the workflow "
            "installs from that file (its first lines say what to write)")
    unreachable = requirements in created and not installs_logbuild(plan.files["requirements.txt"].decode())
    return ScaffoldReport(dest, tuple(created), tuple(skipped), notes=(note,) if unreachable else ())


def plan_files(config: SiteConfig, today: dt.date, copy_templates: bool) -> _Plan:
    """Every file of a new log, by relative path. Pure apart from reading the packaged theme."""
    plan = _Plan()
    plan.add(CONFIG_FILE, config_text(config))
    plan.add(".gitignore", GITIGNORE)
    plan.add("requirements.txt", requirements_text(installed_logbuild()))
    plan.add(f"entries/{today.isoformat()}.md", ENTRY.format(date=today.isoformat(), snippet=SNIPPET_NAME))
    plan.add(f"snippets/{SNIPPET_NAME}.py", SNIPPET)
    plan.add(f"{config.pages_dir}/about.md", ABOUT)
    plan.add(WORKFLOW_PATH, workflow_text())
    plan.add(DEPENDABOT_PATH, workflow_text("dependabot.yml"))
    if copy_templates:
        from .templates import default_theme_dir

        theme = default_theme_dir()
        for path in sorted(theme.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                plan.add(f"{config.templates_dir}/{path.relative_to(theme).as_posix()}", path.read_bytes())
    return plan


def workflow_text(name: str = "pages.yml") -> str:
    """A file shipped in the package's workflows/: the GitHub Actions workflow (check daily, build
    and deploy to Pages) or the Dependabot configuration that keeps its pinned actions current."""
    return (Path(__file__).parent / "workflows" / name).read_text("utf-8")


# -- requirements.txt: the workflow installs the logbuild the user has ---------------------------
def installed_logbuild() -> importlib.metadata.Distribution | None:
    """The distribution this code runs from (None when run from a bare checkout)."""
    try:
        return importlib.metadata.distribution("logbuild")
    except importlib.metadata.PackageNotFoundError:
        return None


def requirements_text(dist: importlib.metadata.Distribution | None) -> str:
    """requirements.txt for a new log: how CI installs this logbuild, then what the snippet imports."""
    return "# How CI installs logbuild (the workflow runs: pip install -r requirements.txt).\n" + \
        "\n".join(logbuild_requirement(dist)) + "\n\n" + SNIPPET_REQUIREMENTS


def logbuild_requirement(dist: importlib.metadata.Distribution | None) -> list[str]:
    """Lines installing the same logbuild elsewhere, from where PEP 610's direct_url.json says it
    came: none means the package index (pin the version), a remote VCS or archive URL is reused,
    a local folder, file or editable install gets a comment saying what to write instead."""
    version = dist.version if dist is not None else "0.0.0"
    origin = _direct_url(dist)
    if origin is None:
        return [f"logbuild=={version}"]
    url = str(origin.get("url", ""))
    remote = urlsplit(url).scheme in ("http", "https", "ssh", "git")
    vcs, archive = origin.get("vcs_info"), origin.get("archive_info")
    subdirectory = f"#subdirectory={origin['subdirectory']}" if isinstance(origin.get("subdirectory"), str) else ""
    if remote and isinstance(vcs, dict) and isinstance(vcs.get("commit_id"), str):
        return [f"logbuild @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}{subdirectory}"]
    if remote and isinstance(archive, dict):
        return [f"logbuild @ {url}{subdirectory}"]
    how = "an editable install of" if (origin.get("dir_info") or {}).get("editable") else "installed from"
    return [
        f"# logbuild here is {how} {url or 'a local path'}, which CI cannot reach.",
        "# Replace the line below with where CI should install it from: the release on the",
        f"# package index once there is one (logbuild=={version}), or your repository with a commit,",
        "# e.g. logbuild @ git+https://github.com/YOU/logbuild@COMMIT",
        f"# logbuild=={version}",
    ]


def installs_logbuild(requirements: str) -> bool:
    return any(line.startswith("logbuild") for line in requirements.splitlines())


def _direct_url(dist: importlib.metadata.Distribution | None) -> dict[str, Any] | None:
    """PEP 610's record (None: installed from an index); unknown origins read as a local path."""
    if dist is None:
        return {"url": ""}  # run from a bare checkout: no install to point at
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {"url": ""}
    return data if isinstance(data, dict) else {"url": ""}


def config_text(config: SiteConfig) -> str:
    """`logbuild.toml` with every key of KEYS, each under a comment saying what it does."""
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    lines = [
        "# logbuild settings. Every setting is listed with its default value; change what you need.",
        "# Paths are relative to this file's folder.",
    ]
    for key, (_, description) in KEYS.items():
        lines += ["", f"# {description}", f"{key} = {toml_value(values[key])}"]
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """A TOML literal for the value types KEYS allows (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, dict):
        items = ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"no TOML form for {type(value).__name__}")

