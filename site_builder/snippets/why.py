"""EXECUTE: `logbuild why NAME`: would a snippet run, and which of its inputs changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..model import SnippetResult
from . import cache
from .inputs import PackageVersions
from .runner import SnippetSettings, prepare
from .sources import snippet_file

SOURCE_CHANGED = "the snippet's source changed"


@dataclass(frozen=True)
class Explanation:
    name: str
    would_run: bool
    changed: list[str] = field(default_factory=list)  # human lines: "source of helpers.py changed"
    cached_at: dt.datetime | None = None  # when the latest stored output was made
    key: str = ""

    def format(self) -> str:
        head = f"{self.name}: " + ("would run" if self.would_run else "up to date, would come from the cache")
        when = f" (cached output from {self.cached_at:%Y-%m-%d %H:%M} UTC)" if self.cached_at else ""
        return head + when + "".join(f"\n  - {line}" for line in self.changed)


def explain(name: str, settings: SnippetSettings) -> Explanation:
    """Notebooks too: their key covers the code cells, so `why` names what changed in those."""
    path = snippet_file(settings.snippets_dir, name)
    if not path.is_file():
        return Explanation(
            name, True, [f"there is no snippet file {name}.py or {name}.ipynb in {settings.snippets_dir.name}/"]
        )
    prepared = prepare(name, settings, PackageVersions(), {})
    if isinstance(prepared, SnippetResult):
        return Explanation(name, True, [p.format() for p in prepared.problems] or [prepared.traceback or ""])
    digests = prepared[2]
    key = cache.key_of(digests)
    hit = cache.load_result(settings.cache_dir, name, key)
    if hit is not None:
        changed = ["--fresh asks to run it again"] if settings.fresh else []
        return Explanation(name, settings.fresh, changed, hit.ran_at, key)
    changed = _last_failure(settings.cache_dir, name, key)
    if (settings.cache_dir / "snippets" / name / key).is_dir():
        return Explanation(name, True, changed + ["its cached output is damaged"], None, key)
    for entry in cache.stored_entries(settings.cache_dir, name):
        old = cache.read_inputs(entry)
        stored = cache.load_result(settings.cache_dir, name, entry.name)
        if old is not None and stored is not None:
            return Explanation(name, True, changed + describe_changes(old, digests), stored.ran_at, key)
    return Explanation(name, True, changed or ["it has never run successfully (nothing cached)"], None, key)


def _last_failure(cache_dir: Path, name: str, key: str) -> list[str]:
    last = cache.load_last_failure(cache_dir, name)
    if last is None or last.key != key:
        return []
    where = f" at line {last.error_line}" if last.error_line else ""
    return [f"its last run with these inputs ended '{last.status}'{where}; only successes are cached"]


def describe_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Human lines for each input that differs between two `input_digests` (pure)."""
    lines = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before != after:
            lines.append(_describe(name, before, after))
    cells = "kernel" in new  # a notebook's (or an entry's) key covers its code cells only
    return ["its code cells changed" if cells and line == SOURCE_CHANGED else line for line in lines]


def _describe(name: str, before: str | None, after: str | None) -> str:
    kind, _, what = name.partition(":")
    if kind == "package":
        return f"{what} {before or 'not used'} -> {after or 'not used'}"
    if kind in ("module", "data"):
        label = f"source of {what}" if kind == "module" else f"data {what}"
        if before is None:
            return f"now uses {label.split(' ', 2)[-1]}"
        return f"{label} no longer used" if after is None else f"{label} changed"
    labels = {"source": SOURCE_CHANGED, "kernel": "its kernel changed", "env": "snippet_env changed", "name": "name changed"}
    if kind in labels:
        return labels[kind]
    return f"{kind} {before or '-'} -> {after or '-'}"  # python, runner, options
