"""LOCK: one build at a time per output folder. An flock, so the kernel lets go of it when its
holder dies in any way (SIGKILL included) and no stale lock file ever needs deleting by hand."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def build_lock(lock_file: Path, waiting: Callable[[str], None]) -> Iterator[bool]:
    """Hold `lock_file` for the block, which gets whether it had to wait: when another process
    holds the lock, say who and wait for it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    waited = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another logbuild process"
            waiting(f"waiting for {holder}, which is building the same site")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} ({' '.join(['logbuild', *sys.argv[1:]])[:200]})".encode(), 0)
        yield waited
    finally:
        os.close(fd)
