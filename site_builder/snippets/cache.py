"""EXECUTE: the snippet cache. A pure key over everything that can change a snippet's
output, and a store whose entries are written atomically and verified on every read.

The store is restored from CI, so it is untrusted input: a record is plain JSON with every field
type-checked, names only files directly inside its own folder (no symlink, nothing else), and
matches its folder's name and key. Anything odd is a miss ("run it again"), never "read elsewhere"."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import stat
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..model import Figure, Output, SnippetResult, SnippetStatus
from ..slugs import is_safe_segment
from ..state import read_plain_file

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # bump when the harness or the stored layout changes what a run produces
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
    kernel: str = ""  # notebooks and inline cells: the Jupyter kernel and the ipykernel that runs it


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
    if inputs.kernel:  # absent for .py snippets, so their keys stay as they were
        digests["kernel"] = inputs.kernel
    digests.update({f"module:{k}": sha256_text(v) for k, v in inputs.modules.items()})
    digests.update({f"data:{k}": v for k, v in inputs.data.items()})
    digests.update({f"package:{k}": v for k, v in inputs.packages.items()})
    return digests


def key_of(digests: Mapping[str, str]) -> str:
    return sha256_text(json.dumps(dict(digests), sort_keys=True, separators=(",", ":")))


def snippet_key(inputs: KeyInputs) -> str:
    return key_of(input_digests(inputs))


# --- the store: <cache_dir>/snippets/<NAME>/<key>/{result.json, inputs.json, figures} ---

RESERVED = frozenset({"result.json", "inputs.json"})
FAILED: frozenset[SnippetStatus] = frozenset({"failed", "timeout", "error"})  # what `_last/` holds


class DamagedEntry(ValueError):
    """A stored entry that is not exactly what store_result wrote: a miss."""


def snippet_root(cache_dir: Path, name: str) -> Path:
    """This snippet's folder in the store; the name is a path segment, so it must be a safe one."""
    if not is_safe_segment(name):
        raise DamagedEntry(f"snippet name {name!r} cannot name a folder of the cache")
    return cache_dir / "snippets" / name


def new_staging(cache_dir: Path, name: str) -> Path:
    """A fresh folder beside the entries; a run writes its outputs there."""
    path = snippet_root(cache_dir, name) / f".tmp-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    return path


def _is_key(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def record_checksum(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "checksum"}
    return sha256_text(json.dumps(body, sort_keys=True, separators=(",", ":")))


def _figure_sha(folder: Path, name: str, suffix: str) -> str:
    """Digest of a figure file: a safe name directly inside `folder`, a regular file, not a link."""
    if not (is_safe_segment(name) and name.endswith(suffix) and name not in RESERVED):
        raise DamagedEntry(f"figure name {name!r} is not a file of this entry")
    return hashlib.sha256(read_plain_file(folder / name)).hexdigest()


def result_record(result: SnippetResult, folder: Path) -> dict[str, Any]:
    """result.json: the result plus a checksum of itself and of every figure file."""
    figures = []
    for fig in result.figures:
        item: dict[str, Any] = {"path": fig.path, "width": fig.width, "height": fig.height, "alt": fig.alt}
        item["sha256"] = _figure_sha(folder, fig.path, ".png")
        if fig.svg_path:
            item["svg_path"], item["svg_sha256"] = fig.svg_path, _figure_sha(folder, fig.svg_path, ".svg")
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
        "outputs": [[{"kind": o.kind, "text": o.text, "name": o.name, "figure": o.figure} for o in cell]
                    for cell in result.outputs],
    }
    record["checksum"] = record_checksum(record)
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
    if result.status == "ok" and not _is_key(result.key):
        raise DamagedEntry(f"cannot store a result under the key {result.key!r}")
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
    _remove(trash)


def _remove(path: Path) -> None:
    """A folder and all in it; a link (which a restored cache may hold) only itself."""
    if path.is_symlink():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def load_result(cache_dir: Path, name: str, key: str) -> SnippetResult | None:
    """The stored result for this key, or None if absent or damaged in any way."""
    if not (is_safe_segment(name) and _is_key(key)):
        return None
    return _load(snippet_root(cache_dir, name) / key, name, key, frozenset({"ok"}))


def load_last_failure(cache_dir: Path, name: str) -> SnippetResult | None:
    """The latest run that did not succeed (`_last/`), checked as a cache entry is; or None."""
    if not is_safe_segment(name):
        return None
    return _load(snippet_root(cache_dir, name) / "_last", name, None, FAILED)


def _load(folder: Path, name: str, key: str | None, statuses: frozenset[str]) -> SnippetResult | None:
    try:
        return read_entry(folder, name, key, statuses)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        log.warning("cached output of snippet %s is damaged (%s); running it again", name, exc)
        return None


def read_entry(folder: Path, name: str, key: str | None, statuses: frozenset[str]) -> SnippetResult:
    """The result stored in `folder`, a real folder (no link) inside this snippet's own folder;
    raises DamagedEntry (or OSError) for anything but what store_result wrote there."""
    for level in (folder.parent, folder):
        if not stat.S_ISDIR(os.lstat(level).st_mode):
            raise DamagedEntry(f"{level.name} is not a folder")
    record = _checked(json.loads(read_plain_file(folder / "result.json")), RECORD_FIELDS)
    if record["checksum"] != record_checksum(record) or record["format"] != CACHE_FORMAT:
        raise DamagedEntry("checksum mismatch")
    if record["name"] != name or (key is not None and record["key"] != key) or not _is_key(record["key"]):
        raise DamagedEntry("the record names another snippet or key")
    if record["status"] not in statuses:
        raise DamagedEntry(f"status {record['status']!r}")
    figures = tuple(_verified_figure(folder, item) for item in record["figures"])
    return SnippetResult(
        name=name,
        key=record["key"],
        status=record["status"],
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
        outputs=_verified_outputs(record["outputs"], len(figures)),
    )


_NONE = type(None)
_NUMBER = (int, float)
RECORD_FIELDS: dict[str, tuple[type, ...]] = {  # the exact type of each field result_record writes
    "format": (int,),
    "name": (str,),
    "key": (str,),
    "status": (str,),
    "source": (str,),
    "stdout": (str,),
    "stderr": (str,),
    "figures": (list,),
    "seconds": _NUMBER,
    "ran_at": (str,),
    "traceback": (str, _NONE),
    "error_line": (int, _NONE),
    "peak_memory_mb": (*_NUMBER, _NONE),
    "outputs": (list,),
    "checksum": (str,),
}
OUTPUT_FIELDS: dict[str, tuple[type, ...]] = {"kind": (str,), "text": (str,), "name": (str,), "figure": (int,)}
OUTPUT_KINDS = frozenset({"stream", "text", "html", "markdown", "svg", "image", "error"})
FIGURE_FIELDS: dict[str, tuple[type, ...]] = {
    "path": (str,),
    "width": (int,),
    "height": (int,),
    "alt": (str,),
    "sha256": (str,),
}
SVG_FIELDS: dict[str, tuple[type, ...]] = {**FIGURE_FIELDS, "svg_path": (str,), "svg_sha256": (str,)}


def _checked(record: object, fields: Mapping[str, tuple[type, ...]]) -> dict[str, Any]:
    """`record` if it has exactly these keys, each of exactly its type (JSON's: a bool is no int)."""
    if not isinstance(record, dict) or record.keys() != fields.keys():
        raise DamagedEntry("fields missing or unknown")
    for name, value in record.items():
        if type(value) not in fields[name]:
            raise DamagedEntry(f"{name} is a {type(value).__name__}")
    return record


def _verified_figure(folder: Path, value: object) -> Figure:
    item = _checked(value, SVG_FIELDS if isinstance(value, dict) and "svg_path" in value else FIGURE_FIELDS)
    checks = [(item["path"], ".png", item["sha256"])]
    if "svg_path" in item:
        checks.append((item["svg_path"], ".svg", item["svg_sha256"]))
    for path, suffix, digest in checks:
        if _figure_sha(folder, path, suffix) != digest:
            raise DamagedEntry(f"figure {path} does not match its checksum")
    return Figure(item["path"], item["width"], item["height"], item["alt"], item.get("svg_path"))


def _verified_outputs(cells: list[Any], figures: int) -> tuple[tuple[Output, ...], ...]:
    """Each cell's outputs, every field of its type; an image names a figure of this entry."""
    out = []
    for cell in cells:
        if not isinstance(cell, list):
            raise DamagedEntry("outputs of a cell are not a list")
        found = []
        for value in cell:
            item = _checked(value, OUTPUT_FIELDS)
            if item["kind"] not in OUTPUT_KINDS or (item["kind"] == "image") != (0 <= item["figure"] < figures):
                raise DamagedEntry(f"output {item['kind']!r} is not one this entry can hold")
            found.append(Output(item["kind"], item["text"], item["name"], item["figure"]))
        out.append(tuple(found))
    return tuple(out)


def read_inputs(folder: Path) -> dict[str, str] | None:
    """inputs.json of a stored entry (input name -> digest), or None if absent or odd."""
    data = read_json(folder / "inputs.json")
    if data is None or not all(isinstance(v, str) for v in data.values()):
        return None
    return {k: str(v) for k, v in data.items()}


def stored_entries(cache_dir: Path, name: str) -> list[Path]:
    """This snippet's stored key folders (real folders, not links), newest first."""
    if not is_safe_segment(name):
        return []
    try:
        with os.scandir(snippet_root(cache_dir, name)) as items:
            found = [
                (i.stat(follow_symlinks=False).st_mtime, Path(i.path))
                for i in items
                if _is_key(i.name) and i.is_dir(follow_symlinks=False)
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [path for _, path in sorted(found, key=lambda item: item[0], reverse=True)]


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a regular file at `path` itself (a link is not followed), or None."""
    try:
        data = json.loads(read_plain_file(path))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def prune(cache_dir: Path, name: str, keep: int = KEEP_ENTRIES) -> None:
    """Drop all but the newest `keep` keys, and staging folders a crash left behind."""
    for old in stored_entries(cache_dir, name)[keep:]:
        _remove(old)
    now = time.time()
    for leftover in snippet_root(cache_dir, name).glob(".*-*"):
        try:
            if now - leftover.lstat().st_mtime > STALE_STAGING_SECONDS:
                _remove(leftover)
        except FileNotFoundError:
            pass
