"""EXECUTE: each snippet run's private work folder (its cwd), and sweeping the ones killed runs left.

A run holds an exclusive `flock` on its folder for as long as it lives (the harness inherits the
descriptor, so the lock outlives a builder killed mid-run until the snippet's tree is gone). A
folder nobody holds and that is older than SWEEP_AFTER belongs to no live run and is removed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SWEEP_AFTER = 60.0  # seconds; a fresh folder is locked within moments of being made


@dataclass(frozen=True)
class WorkFolder:
    path: Path
    lock_fd: int  # pass it to the child so the lock lives as long as the run


def work_root(cache_dir: Path) -> Path:
    return cache_dir / "work"


@contextmanager
def private_work_folder(cache_dir: Path, name: str) -> Iterator[WorkFolder]:
    """A new, empty, locked `<cache_dir>/work/NAME-XXXXXXXX/`, removed when the run ends."""
    root = work_root(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield WorkFolder(path, fd)
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def sweep_work_folders(cache_dir: Path, now: float | None = None) -> list[Path]:
    """Remove the work folders no live run holds (left by killed runs); the ones removed."""
    now = time.time() if now is None else now
    try:
        entries = list(work_root(cache_dir).iterdir())
    except OSError:
        return []
    return [path for path in entries if _remove_if_abandoned(path, now)]


def _remove_if_abandoned(path: Path, now: float) -> bool:
    try:
        if now - path.lstat().st_mtime <= SWEEP_AFTER:
            return False
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False  # gone already, a symlink or not a folder: not ours to remove
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False  # a live run holds it
    try:
        shutil.rmtree(path, ignore_errors=True)
        log.info("removed %s, left by a run that was killed", path)
        return True
    finally:
        os.close(fd)
