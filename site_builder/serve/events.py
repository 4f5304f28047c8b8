"""SERVE: what the live-reload clients are told: a numbered build and the problems of the last try.

One `LiveState` is shared by the rebuild thread (which publishes) and the HTTP handler threads
(which wait for a change and stream it as Server-Sent Events).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snapshot:
    build: int  # increases after each build that changed the served site
    errors: tuple[str, ...] = ()  # `file:line: message` lines of the last failed build
    warnings: tuple[str, ...] = ()  # e.g. snippets that failed while previewing
    running: tuple[str, ...] = ()  # snippets running in the background
    version: int = 0  # increases on every change of any field

    def event(self, kind: str) -> bytes:
        data = {"build": self.build, "errors": list(self.errors), "warnings": list(self.warnings),
                "running": list(self.running)}
        return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def read_event(lines: Iterator[bytes]) -> tuple[str, str] | None:
    """The inverse of Snapshot.event: the next (event, data) from a stream's lines; None at its end.

    Clients in the tests and the benchmark read the stream with this."""
    event, data, seen = "message", "", False
    for raw in lines:
        seen = True
        line = raw.decode().rstrip("\r\n")
        if not line:
            return event, data
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
    return (event, data) if seen else None


@dataclass
class LiveState:
    """A condition variable around the current Snapshot; `close()` wakes and ends every stream."""

    _snapshot: Snapshot = field(default_factory=lambda: Snapshot(0))
    _cond: threading.Condition = field(default_factory=threading.Condition)
    closed: bool = False

    @property
    def snapshot(self) -> Snapshot:
        with self._cond:
            return self._snapshot

    def publish(self, *, built: bool = False, **changes: tuple[str, ...]) -> Snapshot:
        with self._cond:
            s = self._snapshot
            values = {"build": s.build + (1 if built else 0), "errors": s.errors, "warnings": s.warnings,
                      "running": s.running, **changes}
            self._snapshot = Snapshot(version=s.version + 1, **values)  # type: ignore[arg-type]
            self._cond.notify_all()
            return self._snapshot

    def wait_after(self, version: int, timeout: float) -> Snapshot | None:
        """The next snapshot after `version`, or None on timeout or close."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or self._snapshot.version > version, timeout)
            return None if self.closed or self._snapshot.version <= version else self._snapshot

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
