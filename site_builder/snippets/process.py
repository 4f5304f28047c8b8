"""EXECUTE: one harness subprocess: its own session, captured output, the timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

OUTPUT_LIMIT = 2 * 1024 * 1024  # bytes of stdout/stderr kept per stream
KILL_GRACE = 15.0  # seconds the harness has, after SIGTERM, to end the snippet's tree before SIGKILL


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool


class Stopper:
    """Ends the runs started under it once stopped (Ctrl-C, serve stopping), and each one started
    after: SIGTERM to the harness, which ends its whole tree as at a timeout. Without it a build
    interrupted while a snippet sleeps would wait for the snippet (its workers are joined at exit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[int] = set()  # process groups of the harnesses running now
        self.stopped = False

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            groups = list(self._live)
        for pgid in groups:
            _kill_group(pgid, signal.SIGTERM)

    def started(self, pgid: int) -> None:
        with self._lock:
            self._live.add(pgid)
            stopped = self.stopped
        if stopped:
            _kill_group(pgid, signal.SIGTERM)

    def ended(self, pgid: int) -> None:
        with self._lock:
            self._live.discard(pgid)


def run_process(
    command: list[str], cwd: Path, env: Mapping[str, str], timeout: float, pass_fds: tuple[int, ...] = (),
    stopper: Stopper | None = None,
) -> Outcome:
    """Run `command` as a new session. At the timeout SIGTERM lets the harness end the snippet's
    whole tree (escaped children too); then its process group is killed, as it is after every run."""
    start = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        pass_fds=pass_fds,
    )
    readers = [Capture(proc.stdout), Capture(proc.stderr)]  # type: ignore[arg-type]
    if stopper is not None:
        stopper.started(proc.pid)
    timed_out = False
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(KILL_GRACE)
        except subprocess.TimeoutExpired:
            pass
    finally:
        if stopper is not None:
            stopper.ended(proc.pid)
    seconds = time.monotonic() - start
    _kill_group(proc.pid, signal.SIGKILL)  # whatever the snippet left behind goes too
    proc.wait()
    return Outcome(proc.returncode, readers[0].text(), readers[1].text(), seconds, timed_out)


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Capture:
    """Drains a pipe in a thread, keeping the first OUTPUT_LIMIT bytes."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.pipe, self.kept, self.dropped = pipe, bytearray(), 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while chunk := self.pipe.read1(65536):  # type: ignore[attr-defined]
            room = OUTPUT_LIMIT - len(self.kept)
            self.kept += chunk[:room]
            self.dropped += max(0, len(chunk) - room)
        self.pipe.close()

    def text(self) -> str:
        self.thread.join(5.0)
        text = self.kept.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[logbuild: output truncated; {self.dropped:,} more bytes not kept]\n"
        return text
