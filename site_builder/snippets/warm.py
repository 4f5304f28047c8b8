"""EXECUTE (serve only): warm workers, so a snippet saved in `serve` reruns without paying for a
fresh interpreter and its imports (a notebook: the harness's Jupyter client; its kernel is still a
fresh process). Builds, `check` and `run` never use them.

A zygote (zygote.py) has imported the libraries a snippet's first lines import (and nothing of the
log's own) and forks one harness per run. A zygote serves a run only if it preloaded a subset of
that run's own leading imports, has the run's exact environment (thread counts are read when numpy
loads), no module it loaded is one of the log's, and nothing it loaded changed on disk since (an
upgrade retires it). Otherwise the run is cold, exactly as in a build, and a zygote for next time
starts afterwards. A zygote that died, or that cannot take a run, also means a cold run.
Standard library only: the builder process never imports the snippets' libraries.
"""

from __future__ import annotations

import ast
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .inputs import gather_modules, local_module_files
from .process import KILL_GRACE, Capture, Outcome
from .runner import SnippetSettings, child_env, cpu_count
from .sources import SourceError, load_source
from .workdirs import work_root
from .zygote import receive, send

log = logging.getLogger(__name__)

POOL_SIZE = 2  # zygotes kept (one per preload set and environment), the least recently used retires
READY_TIMEOUT = 120.0  # seconds a zygote may take to import its preload set on a loaded machine
ACK_TIMEOUT = 30.0  # seconds a zygote may take to say it forked a run
GONE_TIMEOUT = 60.0  # seconds a SIGKILLed run may take to be reaped and reported
NOT_PRELOADED = frozenset({  # libraries that start threads or devices at import: a fork of them is unsafe
    "tensorflow", "keras", "torch", "jax", "jaxlib", "ray", "tkinter", "site_builder", "__main__",
})


@dataclass(frozen=True)
class Need:
    """What a zygote must have done, and must not have touched, to run one snippet."""

    preload: tuple[str, ...]  # modules the snippet's leading imports load, in order
    local: frozenset[str] = frozenset()  # top-level names of the log's modules the snippet imports


def needs(source: str, snippets_dir: Path) -> Need:
    """The modules the snippet's first statements import, before any other statement runs (so
    nothing of the snippet's, like `matplotlib.use(...)` or setting OMP_NUM_THREADS, could have
    changed how they load); stops at the first import of one of the log's own modules."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        body = []
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    preload: list[str] = []
    for node in body:
        names = _imported(node)
        if names is None or any(n.split(".")[0] in NOT_PRELOADED or local_module_files(snippets_dir, n.split(".")[0])
                                for n in names):
            break
        preload += [n for n in names if n not in preload]
    local = {rel.split("/")[0].removesuffix(".py") for rel in gather_modules(source, snippets_dir)[0]}
    return Need(tuple(preload), frozenset(local))


KERNEL_CLIENT = Need(("jupyter_client.kernelspec", "nbclient", "nbclient.exceptions", "nbformat"))
"""A notebook's cells run in a kernel, a fresh process the harness starts: what a zygote can spare
it is only the harness's own imports of the Jupyter client (~0.45 s on two cores)."""


def warm_up(names: Iterable[str], settings: SnippetSettings) -> None:
    """Start a zygote for the preload set most of these (.py) snippets share, so that even the
    first save of one is warm; with the environment of a single rerun (one job, every core)."""
    if settings.warm is None:
        return
    counts: dict[Need, int] = {}
    for name in dict.fromkeys(names):
        try:
            source = load_source(name, settings.root, settings.snippets_dir, {})
        except SourceError:
            continue
        need = needs(source.text, settings.snippets_dir) if source.kind == "script" else KERNEL_CLIENT
        counts[need] = counts.get(need, 0) + 1
    if counts:
        best = max(counts, key=lambda n: (counts[n], len(n.preload)))
        settings.warm.prewarm(best, child_env(settings.env, cpu_count()))


def _imported(node: ast.stmt) -> list[str] | None:
    """Dotted module names an import statement loads; None for any other statement."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == "__future__":
            return []
        # "a:b": `from a import b` loads the submodule a.b only if `a` has no attribute b (the zygote does the same)
        return [node.module] + [f"{node.module}:{a.name}" for a in node.names if a.name != "*"]
    return None


@dataclass
class Zygote:
    """The builder's side of one zygote process."""

    proc: subprocess.Popen[bytes]
    control: socket.socket
    folder: Path  # its cwd, removed once it has ended
    preload: frozenset[str]
    env: dict[str, str]
    order: tuple[str, ...] = ()  # the preload set in the snippet's order
    loaded: frozenset[str] = frozenset()
    stamps: tuple[tuple[str, int], ...] = ()
    used: float = 0.0
    active: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def unchanged(self) -> bool:
        """Nothing it loaded was upgraded, removed or shadowed since it loaded it."""
        for path, mtime in self.stamps:
            try:
                if os.stat(path).st_mtime_ns != mtime:
                    return False
            except OSError:
                if mtime:
                    return False
        return True

    def serves(self, need: Need, env: Mapping[str, str]) -> bool:
        return (not self.retired and self.preload <= set(need.preload) and self.env == dict(env)
                and not (self.loaded & need.local))

    def close(self) -> None:
        """Its runs end with it; only called once it runs none (or serve stops)."""
        self.control.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class WarmPool:
    """Zygotes for `serve`; thread-safe. Zygotes are started by one long-lived thread of its own,
    as PR_SET_PDEATHSIG fires when the thread that started a process ends, not the process."""

    def __init__(self, cache_dir: Path, size: int = POOL_SIZE) -> None:
        self.work_root, self.size = work_root(cache_dir), size
        self.zygotes: list[Zygote] = []
        self.lock = threading.Lock()
        self.wanted: tuple[tuple[str, ...], dict[str, str]] | None = None  # the next zygote to start
        self.starting: Zygote | None = None
        self.closing: list[threading.Thread] = []  # threads closing retired zygotes
        self.closed = False
        self.warm_runs = 0  # runs a zygote served (the rest ran cold)
        self.changed = threading.Condition(self.lock)
        self.thread = threading.Thread(target=self._spawner, daemon=True, name="logbuild-warm")
        self.thread.start()

    # -- runs ---------------------------------------------------------------------------------
    def run(self, source: str | None, snippets_dir: Path, spec: Path, cwd: Path, env: Mapping[str, str],
            timeout: float, pass_fds: tuple[int, ...], cold: Callable[[], Outcome]) -> Outcome:
        """The run of a .py snippet (`source`), or of a notebook's cells (None), on the best zygote
        for it, else `cold()`; then a zygote for next time if none had exactly its preload set."""
        need = KERNEL_CLIENT if source is None else needs(source, snippets_dir)
        zygote = self._take(need, env)
        outcome = None
        if zygote is not None:
            try:
                outcome = _run_on(zygote, spec, cwd, env, timeout, pass_fds)
            finally:
                self._give_back(zygote, broken=outcome is None)
            with self.lock:
                self.warm_runs += outcome is not None
        if outcome is None:
            outcome = cold()
        self.prewarm(need, env)
        return outcome

    def prewarm(self, need: Need, env: Mapping[str, str]) -> None:
        """Start a zygote for exactly this preload set and environment, unless one is there or
        coming. Only the latest wish waits its turn: many cold runs at once start one zygote, not many."""
        with self.lock:
            if self.closed or _same(self.wanted, need, env) or (
                    self.starting is not None and _same((self.starting.order, self.starting.env), need, env)) or any(
                    z.preload == set(need.preload) and z.serves(need, env) for z in self.zygotes):
                return
            self.wanted = (need.preload, dict(env))
            self.changed.notify_all()

    def wait_started(self, timeout: float) -> bool:
        """Wait until every zygote asked for has started (or failed to); False after `timeout`."""
        with self.lock:
            return self.changed.wait_for(lambda: self.wanted is None and self.starting is None, timeout)

    def _take(self, need: Need, env: Mapping[str, str]) -> Zygote | None:
        with self.lock:
            for z in [z for z in self.zygotes if not z.retired and not (z.alive() and z.unchanged())]:
                z.retired = True  # died, or a library it loaded changed: never used again
            self._drop_retired()
            fits = [z for z in self.zygotes if z.serves(need, env)]
            if not fits:
                return None
            best = max(fits, key=lambda z: (len(z.preload), z.used))
            best.active += 1
            best.used = time.monotonic()
            return best

    def _give_back(self, zygote: Zygote, broken: bool) -> None:
        with self.lock:
            zygote.active -= 1
            zygote.retired |= broken
            self._drop_retired()

    def _drop_retired(self) -> None:
        """Close the retired zygotes that run nothing now (called with the lock held), each in a
        thread of its own that `close` joins, so none is left half-closed when serve stops."""
        for z in [z for z in self.zygotes if z.retired and z.active == 0]:
            self.zygotes.remove(z)
            closing = threading.Thread(target=z.close, daemon=True, name="logbuild-warm-close")
            self.closing = [t for t in self.closing if t.is_alive()] + [closing]
            closing.start()

    # -- starting zygotes -----------------------------------------------------------------------
    def _spawner(self) -> None:
        while True:
            with self.lock:
                self.changed.wait_for(lambda: self.wanted is not None or self.closed)
                if self.closed:
                    return
                assert self.wanted is not None
                (preload, env), self.wanted = self.wanted, None
                zygote = self.starting = _start_or_log(preload, env, self.work_root)
            if zygote is not None and not _ready(zygote):
                zygote.close()
                zygote = None
            with self.lock:
                self.starting = None
                self.changed.notify_all()
                if zygote is not None and not self.closed:
                    self.zygotes.append(zygote)
                    idle = sorted((z for z in self.zygotes if not z.retired), key=lambda z: z.used)
                    for z in idle[: max(0, len(idle) - self.size)]:
                        z.retired = True
                    self._drop_retired()
                    continue
            if zygote is not None:
                zygote.close()  # serve stopped while it started: closed here, in the thread close() joins

    def close(self) -> None:
        """Stop every zygote (and so every run on one); serve is stopping."""
        with self.lock:
            self.closed = True
            zygotes, self.zygotes = list(self.zygotes), []
            if self.starting is not None:
                self.starting.proc.kill()  # still importing: not worth waiting for
            self.changed.notify_all()
        for z in zygotes:
            z.close()
        self.thread.join(READY_TIMEOUT + 5)
        with self.lock:
            closing = list(self.closing)
        for thread in closing:
            thread.join()


def _same(wanted: tuple[tuple[str, ...], Mapping[str, str]] | None, need: Need, env: Mapping[str, str]) -> bool:
    return wanted is not None and set(wanted[0]) == set(need.preload) and dict(wanted[1]) == dict(env)


def _start_or_log(preload: tuple[str, ...], env: Mapping[str, str], work_root: Path) -> Zygote | None:
    try:
        return _start(preload, env, work_root)
    except Exception:  # no zygote means cold runs, never a stopped serve
        log.exception("could not start a warm snippet worker")
        return None


def _start(preload: tuple[str, ...], env: Mapping[str, str], work_root: Path) -> Zygote:
    """A zygote process in a private folder of the work root, not ready yet (see `_ready`)."""
    work_root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="zygote-", dir=work_root))
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "site_builder.snippets.zygote", str(theirs.fileno()), str(os.getpid())],
            cwd=folder, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, pass_fds=(theirs.fileno(),))
    except OSError:
        ours.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        theirs.close()
    return Zygote(proc, ours, folder, frozenset(preload), dict(env), preload)


def _ready(zygote: Zygote) -> bool:
    """Hand the zygote its preload list and wait until it has imported it."""
    try:
        zygote.control.settimeout(READY_TIMEOUT)
        send(zygote.control, {"preload": list(zygote.order)})
        ready, _ = receive(zygote.control)
        zygote.control.settimeout(None)
    except (OSError, ValueError):
        ready = None
    if not ready or not ready.get("ready"):
        return False
    zygote.loaded = frozenset(str(n) for n in ready.get("loaded", []))
    zygote.stamps = tuple((str(p), int(m)) for p, m in ready.get("stamps", []))
    zygote.used = time.monotonic()
    return True


def _run_on(zygote: Zygote, spec: Path, cwd: Path, env: Mapping[str, str], timeout: float,
            pass_fds: tuple[int, ...]) -> Outcome | None:
    """One run forked by `zygote`, with what `process.run_process` gives a cold one; None if the
    zygote could not start it (then nothing of the run was started)."""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    try:
        with zygote.lock:
            send(zygote.control, {"spec": str(spec), "cwd": str(cwd), "env": dict(env)},
                 [theirs.fileno(), out_w, err_w, *pass_fds])
    except OSError:
        for fd in (out_r, err_r):
            os.close(fd)
        mine.close()
        return None
    finally:
        theirs.close()
        os.close(out_w)
        os.close(err_w)
    readers = [Capture(os.fdopen(out_r, "rb")), Capture(os.fdopen(err_r, "rb"))]
    with mine:
        pid = _message(mine, ACK_TIMEOUT, "pid")
        if not isinstance(pid, int):
            if pid is _LATE:
                zygote.proc.kill()  # it will not say whether it forked: of no use any more
            for reader in readers:
                reader.text()
            return None
        status, timed_out = _wait(mine, pid, timeout)
    seconds = time.monotonic() - start
    returncode = -signal.SIGKILL if status is None else os.waitstatus_to_exitcode(status)
    stderr = readers[1].text()
    if status is None:
        stderr += "\n[logbuild: the warm worker running this snippet stopped during the run]\n"
    return Outcome(returncode, readers[0].text(), stderr, seconds, timed_out)


def _wait(conn: socket.socket, pid: int, timeout: float) -> tuple[int | None, bool]:
    """The run's wait status (None: the zygote died), and whether it ran past `timeout`. As a cold
    run: SIGTERM to its group at the timeout, SIGKILL after the grace; the zygote signals only a
    run it has not reaped, so a reused pid is never hit."""
    status = _message(conn, timeout, "status")
    if status is not _LATE:
        return _status(status, pid), False
    for sig, grace in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, GONE_TIMEOUT)):
        try:
            send(conn, {"signal": int(sig)})
        except OSError:
            break
        status = _message(conn, grace, "status")
        if status is not _LATE:
            return _status(status, pid), True
    return _status(None, pid), True


_LATE = object()


def _status(status: Any, pid: int) -> int | None:
    if isinstance(status, int):
        return status
    try:
        os.killpg(pid, signal.SIGTERM)  # the zygote is gone: its run's supervisor ends the tree (never SIGKILL it)
    except (ProcessLookupError, PermissionError):
        pass
    return None


def _message(conn: socket.socket, timeout: float | None, name: str) -> Any:
    """The `name` field of the next message; _LATE after `timeout` seconds; None if the zygote hung up."""
    conn.settimeout(timeout)
    try:
        message, fds = receive(conn)
    except TimeoutError:
        return _LATE
    except (OSError, ValueError):
        return None
    for fd in fds:
        os.close(fd)
    return None if message is None else message.get(name)
