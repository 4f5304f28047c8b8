"""EXECUTE: the snippet cache. A pure key over everything that can change a snippet's
output, and a store whose entries are written atomically and verified on every read."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..model import Figure, SnippetResult

log = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when the harness or the stored layout changes what a run produces
RUNNER_VERSION = f"{__version__}/{CACHE_FORMAT}"
KEEP_ENTRIES = 3  # stored keys kept per snippet (older ones are pruned)
STALE_STAGING_SECONDS = 3600.0


def sha256_text(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class KeyInputs:
    """Everything a snippet's output depends on, gathered by `inputs.gather_inputs`.

    Relative names only (no absolute path, user or host), so a cache moves between machines.
    """

    name: str
    source: str
    modules: Mapping[str, str] = field(default_factory=dict)  # "helpers.py" -> its source
    data: Mapping[str, str] = field(default_factory=dict)  # header path -> digest of its contents
    python: str = ""  # "3.11.7"
    packages: Mapping[str, str] = field(default_factory=dict)  # distribution -> version
    runner: str = RUNNER_VERSION
    env: Mapping[str, str] = field(default_factory=dict)
    options: str = ""  # SnippetOptions.key_text()


def input_digests(inputs: KeyInputs) -> dict[str, str]:
    """One readable entry per input; `explain` diffs two of these."""
    digests = {
        "name": inputs.name,
        "source": sha256_text(inputs.source),
        "python": inputs.python,
        "runner": inputs.runner,
        "env": sha256_text(json.dumps(sorted(inputs.env.items()))),
        "options": inputs.options,
    }
    digests.update({f"module:{k}": sha256_text(v) for k, v in inputs.modules.items()})
    digests.update({f"data:{k}": v for k, v in inputs.data.items()})
    digests.update({f"package:{k}": v for k, v in inputs.packages.items()})
    return digests


def key_of(digests: Mapping[str, str]) -> str:
    return sha256_text(json.dumps(dict(digests), sort_keys=True, separators=(",", ":")))


def snippet_key(inputs: KeyInputs) -> str:
    return key_of(input_digests(inputs))


# --- the store: <cache_dir>/snippets/<NAME>/<key>/{result.json, inputs.json, figures} ---


def snippet_root(cache_dir: Path, name: str) -> Path:
    return cache_dir / "snippets" / name


def new_staging(cache_dir: Path, name: str) -> Path:
    """A fresh folder beside the entries; a run writes its outputs there."""
    path = snippet_root(cache_dir, name) / f".tmp-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    return path


def _is_key(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _checksum(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "checksum"}
    return sha256_text(json.dumps(body, sort_keys=True, separators=(",", ":")))


def _file_sha(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def result_record(result: SnippetResult, folder: Path) -> dict[str, Any]:
    """result.json: the result plus a checksum of itself and of every figure file."""
    figures = []
    for fig in result.figures:
        item: dict[str, Any] = {"path": fig.path, "width": fig.width, "height": fig.height, "alt": fig.alt}
        item["sha256"] = _file_sha(folder / fig.path)
        if fig.svg_path:
            item["svg_path"], item["svg_sha256"] = fig.svg_path, _file_sha(folder / fig.svg_path)
        figures.append(item)
    record: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "name": result.name,
        "key": result.key,
        "status": result.status,
        "source": result.source,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "figures": figures,
        "seconds": result.seconds,
        "ran_at": result.ran_at.isoformat(),
        "traceback": result.traceback,
        "error_line": result.error_line,
        "peak_memory_mb": result.peak_memory_mb,
    }
    record["checksum"] = _checksum(record)
    return record


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True), "utf-8")


def store_result(
    staging: Path, result: SnippetResult, digests: Mapping[str, str], cache_dir: Path
) -> SnippetResult:
    """Move a finished run's staging folder into place and return the result pointing there.

    ok results become `<key>/` (atomic `os.replace`); others replace `_last/`, which is never read
    as a cache hit but keeps the latest failure's figures and text for the page and `explain`.
    """
    _write_json(staging / "inputs.json", digests)
    _write_json(staging / "result.json", result_record(result, staging))
    root = snippet_root(cache_dir, result.name)
    target = root / (result.key if result.status == "ok" else "_last")
    _replace_dir(staging, target)
    if result.status == "ok":
        prune(cache_dir, result.name)
    return replace(result, output_dir=str(target))


def _replace_dir(src: Path, target: Path) -> None:
    try:
        os.replace(src, target)
        return
    except OSError:
        pass  # target exists and is not empty: move it aside, then swap
    trash = target.with_name(f".old-{uuid.uuid4().hex}")
    try:
        os.replace(target, trash)
    except FileNotFoundError:
        pass
    os.replace(src, target)
    shutil.rmtree(trash, ignore_errors=True)


def load_result(cache_dir: Path, name: str, key: str) -> SnippetResult | None:
    """The stored result for this key, or None if absent or damaged in any way."""
    folder = snippet_root(cache_dir, name) / key
    try:
        record = json.loads((folder / "result.json").read_text("utf-8"))
        if record.get("checksum") != _checksum(record) or record["key"] != key or record["status"] != "ok":
            raise ValueError("checksum mismatch")
        figures = tuple(_verified_figure(folder, item) for item in record["figures"])
        return SnippetResult(
            name=record["name"],
            key=key,
            status="ok",
            source=record["source"],
            stdout=record["stdout"],
            stderr=record["stderr"],
            figures=figures,
            seconds=float(record["seconds"]),
            ran_at=dt.datetime.fromisoformat(record["ran_at"]),
            from_cache=True,
            traceback=record["traceback"],
            error_line=record["error_line"],
            peak_memory_mb=record["peak_memory_mb"],
            output_dir=str(folder),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("cached output of snippet %s is damaged (%s); running it again", name, exc)
        return None


def _verified_figure(folder: Path, item: Mapping[str, Any]) -> Figure:
    for path_key, sha_key in (("path", "sha256"), ("svg_path", "svg_sha256")):
        if item.get(path_key) and _file_sha(folder / item[path_key]) != item[sha_key]:
            raise ValueError(f"figure {item[path_key]} does not match its checksum")
    return Figure(item["path"], int(item["width"]), int(item["height"]), item["alt"], item.get("svg_path"))


def stored_entries(cache_dir: Path, name: str) -> list[Path]:
    """This snippet's stored key folders, newest first."""
    root = snippet_root(cache_dir, name)
    try:
        folders = [p for p in root.iterdir() if _is_key(p.name) and p.is_dir()]
    except FileNotFoundError:
        return []
    return sorted(folders, key=lambda p: p.stat().st_mtime, reverse=True)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def prune(cache_dir: Path, name: str, keep: int = KEEP_ENTRIES) -> None:
    """Drop all but the newest `keep` keys, and staging folders a crash left behind."""
    for old in stored_entries(cache_dir, name)[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    now = time.time()
    for leftover in snippet_root(cache_dir, name).glob(".*-*"):
        try:
            if now - leftover.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except FileNotFoundError:
            pass
