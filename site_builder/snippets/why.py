"""EXECUTE: `logbuild why NAME`: would a snippet run, and which of its inputs changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import cache
from .headers import parse_options
from .inputs import PackageVersions, gather_inputs
from .runner import SnippetSettings


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
    path = settings.snippets_dir / f"{name}.py"
    if not path.is_file():
        return Explanation(
            name, True, [f"there is no snippet file {path.name} in {settings.snippets_dir.name}/"]
        )
    source = path.read_text("utf-8")
    options = parse_options(source)
    if options.problems:
        return Explanation(name, True, [f"{path.name}:{line}: {msg}" for line, msg in options.problems])
    inputs = gather_inputs(
        name, source, options, settings.root, settings.snippets_dir, settings.env, PackageVersions()
    )
    digests = cache.input_digests(inputs)
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
    return lines


def _describe(name: str, before: str | None, after: str | None) -> str:
    kind, _, what = name.partition(":")
    if kind == "package":
        return f"{what} {before or 'not used'} -> {after or 'not used'}"
    if kind in ("module", "data"):
        label = f"source of {what}" if kind == "module" else f"data {what}"
        if before is None:
            return f"now uses {label.split(' ', 2)[-1]}"
        return f"{label} no longer used" if after is None else f"{label} changed"
    labels = {"source": "the snippet's source changed", "env": "snippet_env changed", "name": "name changed"}
    if kind in labels:
        return labels[kind]
    return f"{kind} {before or '-'} -> {after or '-'}"  # python, runner, options
