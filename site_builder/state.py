"""STATE: what the last build knew (parsed entries, rendered bodies, page keys, file digests),
kept in the cache folder so the next build redoes only what changed. Corrupt state = a cold build."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from . import __version__

STATE_FORMAT = 1


@dataclass
class BuildState:
    fingerprint: str = ""
    out_id: tuple[int, int] | None = None  # (inode, mtime_ns) of the output folder we wrote
    out_path: str = ""
    summary: dict[str, Any] = field(default_factory=dict)  # the last report, for no-change builds
    entries: dict[str, Any] = field(default_factory=dict)  # entries.load_entries cache
    bodies: dict[str, Any] = field(default_factory=dict)  # entry digest -> RenderedBody
    pages: dict[str, str] = field(default_factory=dict)  # output path -> page key
    files: dict[str, str] = field(default_factory=dict)  # output path -> content digest
    highlights: dict[str, str | None] = field(default_factory=dict)  # code block digest -> HTML
    stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # entry path -> (ino, mtime, size)
    stat_keys: dict[str, str] = field(default_factory=dict)  # entry path -> entry cache key


def _schema() -> str:
    """A state written by another version, or with other fields, is not read back."""
    return f"{__version__}:" + ",".join(f.name for f in fields(BuildState))


def state_path(cache_dir: Path, out: Path | None = None) -> Path:
    """One state per output folder: `serve` (.logbuild/serve-site) and `build` (site/) don't thrash."""
    tag = hashlib.sha1(str(out).encode()).hexdigest()[:12] if out is not None else "default"
    return cache_dir / "build" / f"state-{STATE_FORMAT}-{tag}.pickle"


def load_state(cache_dir: Path, out: Path | None = None) -> BuildState:
    path = state_path(cache_dir, out)
    try:
        with path.open("rb") as f:
            version, state = pickle.load(f)
        if version == _schema() and isinstance(state, BuildState):
            return state
    except Exception:  # noqa: BLE001, S110 -- missing, truncated, from another version: start cold
        pass
    return BuildState()


def save_state(cache_dir: Path, state: BuildState, out: Path | None = None) -> None:
    path = state_path(cache_dir, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
    with os.fdopen(fd, "wb") as f:
        pickle.dump((_schema(), state), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
