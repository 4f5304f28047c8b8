"""EXECUTE (child process only): a warm fork server for `serve`. It imports the libraries a snippet
imports (numpy, matplotlib.pyplot, ...) but runs no code of the log, then forks once per run; each
fork becomes exactly the harness process a cold run starts (its own session, stdio on the runner's
pipes, the run's work folder, environment and lock), so it starts from a clean state in milliseconds.

Started by `warm.WarmPool` as `python -m site_builder.snippets.zygote CONTROL_FD PARENT_PID` in
a private folder, with the preload list as the first message on the control socket (SOCK_SEQPACKET). It ends, and
ends every run it started, when that socket closes or its parent dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import array
import atexit
import fcntl
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

from . import sandbox

MESSAGE_LIMIT = 256 * 1024  # bytes of one control message (a run's environment is the biggest part)
FD_LIMIT = 16  # descriptors one message may carry


@dataclass
class Run:
    """One forked harness: its connection to the runner thread, its pidfd, and whether it was reaped."""

    pid: int
    conn: socket.socket
    pidfd: int
    reaped: bool = False


@dataclass
class Request:
    """What a forked child needs to become the harness process of one run."""

    spec: str
    cwd: str
    env: dict[str, str]
    fds: list[int] = field(default_factory=list)  # the run's connection, stdout, stderr, then pass_fds


def receive(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and the descriptors it carries; (None, []) when the other end has closed."""
    fds = array.array("i")
    data, ancdata, _, _ = sock.recvmsg(MESSAGE_LIMIT, socket.CMSG_SPACE(FD_LIMIT * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(data), list(fds)


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode("utf-8")
    if fds:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())])
    else:
        sock.sendmsg([data])


def preload(names: list[str]) -> list[str]:
    """Import each module as the snippet's own import statement would ("a:b" is `from a import b`:
    the submodule a.b only if `a` has no attribute b); the ones that failed (a snippet that imports
    them fails on its own)."""
    failed = []
    for name in names:
        try:
            parent, _, attribute = name.partition(":")
            module = importlib.import_module(parent)
            if attribute and not hasattr(module, attribute):
                importlib.import_module(f"{parent}.{attribute}")
        except Exception:  # noqa: BLE001 - a library that cannot load is not preloaded, nothing more
            failed.append(name)
    return failed


def _draw_once() -> None:
    """Save one throwaway figure as the harness saves the snippet's (PNG at 2x, tight), outside
    pyplot (no figure number, no rcParams touched): fonts, glyph and text-layout caches, the Agg
    and PNG modules are then loaded once here and not in every run (~0.1 s of a figure's first save)."""
    import io

    from matplotlib.figure import Figure

    try:
        fig = Figure()
        ax = fig.add_subplot()
        ax.plot([-1.0, 1.0], [-1.0, 1.0])
        ax.set_title("Warm-up 0123456789")
        fig.savefig(io.BytesIO(), dpi=fig.dpi * 2, format="png", bbox_inches="tight")
    except Exception:  # noqa: BLE001 - a run then pays for it, nothing more
        return


def stamps() -> list[tuple[str, int]]:
    """(path, mtime_ns) of the folder (or file) of every loaded top-level module and of sys.path:
    an upgrade or a new install changes one of them, and the pool then retires this zygote."""
    paths = set()
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if "." in name or not isinstance(where, str):
            continue
        paths.add(os.path.dirname(where) if os.path.basename(where) == "__init__.py" else where)
    paths.update(p for p in sys.path[1:] if p)  # [0] is the zygote's own folder, the harness replaces it
    out = []
    for path in sorted(paths):
        try:
            out.append((path, os.stat(path).st_mtime_ns))
        except OSError:
            out.append((path, 0))
    return out


class Server:
    """The fork server's loop: run requests on the control socket, signals on each run's connection,
    exits through pidfds. Single-threaded, so a run is never signalled after it was reaped."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ, "control")
        self.runs: dict[int, Run] = {}  # by pid

    def serve(self) -> Request | None:
        """Until the control socket closes (None); in a forked child, the request it is to run."""
        while True:
            for key, _ in self.selector.select():
                if key.data == "control":
                    message, fds = receive(self.control)
                    if message is None:
                        return None
                    child = self._start(message, fds)
                    if child is not None:
                        return child
                elif (run := self.runs.get(key.data[1])) is None:
                    continue  # reaped earlier in this round (its exit and a signal came together)
                elif key.data[0] == "exit":
                    self._reap(run)
                else:
                    self._command(run)

    def _start(self, message: dict[str, Any], fds: list[int]) -> Request | None:
        request = Request(str(message["spec"]), str(message["cwd"]), dict(message["env"]), fds)
        if len(fds) < 3:
            for fd in fds:
                os.close(fd)
            return None
        conn = socket.socket(fileno=fds[0])
        try:
            pid = os.fork()
        except OSError:  # no process to spare: the runner sees the connection close and runs cold
            conn.close()
            for fd in fds[1:]:
                os.close(fd)
            return None
        if pid == 0:
            self._forget()
            conn.detach()  # fds[0]: closed by the child once it is the harness
            return request
        for fd in fds[1:]:
            os.close(fd)
        run = Run(pid, conn, os.pidfd_open(pid))
        self.runs[pid] = run
        self.selector.register(run.pidfd, selectors.EVENT_READ, ("exit", pid))
        self.selector.register(conn, selectors.EVENT_READ, ("command", pid))
        try:
            send(conn, {"pid": pid})
        except OSError:
            pass  # the runner gave up already; its connection's end stops the run
        return None

    def _command(self, run: Run) -> None:
        """The runner's SIGTERM/SIGKILL for the run's group, or its end of the connection (it gave up
        or died: the run then ends as a cold run does when its builder dies)."""
        try:
            message, fds = receive(run.conn)
        except (OSError, ValueError):
            message, fds = None, []
        for fd in fds:
            os.close(fd)
        if message is None:
            self.selector.unregister(run.conn)
            if not run.reaped:
                _kill_group(run.pid, signal.SIGTERM)  # as the builder's death does in a cold run
            return
        if not run.reaped and message.get("signal") in (signal.SIGTERM, signal.SIGKILL):
            _kill_group(run.pid, signal.Signals(message["signal"]))

    def _reap(self, run: Run) -> None:
        """The harness ended: kill what it left in its group (as a cold run does), reap, report."""
        _kill_group(run.pid, signal.SIGKILL)
        _, status = os.waitpid(run.pid, 0)
        run.reaped = True
        self.selector.unregister(run.pidfd)
        os.close(run.pidfd)
        try:
            send(run.conn, {"status": status})
        except OSError:
            pass
        if run.conn.fileno() in self.selector.get_map():
            self.selector.unregister(run.conn)
        run.conn.close()
        del self.runs[run.pid]

    def _forget(self) -> None:
        """In a forked child: close every descriptor of the server's, so the run holds none of them."""
        for run in self.runs.values():
            os.close(run.pidfd)
            run.conn.close()
        self.runs.clear()
        self.selector.close()
        self.control.close()

    def stop(self) -> None:
        """The control socket closed: end every run still going and reap it. SIGTERM, never SIGKILL:
        the run's supervisor then ends its whole tree, children that left its group included
        (a SIGKILLed supervisor leaves those behind). It ends in bounded time (sandbox.END_ROUNDS)."""
        for run in self.runs.values():
            _kill_group(run.pid, signal.SIGTERM)
        for run in list(self.runs.values()):
            try:
                os.waitpid(run.pid, 0)
            except ChildProcessError:
                pass


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def become_harness(request: Request, zygote: int) -> int:
    """In the forked child: take the run's session, stdio, folder and environment, then run the
    harness exactly as `python -m site_builder.snippets.harness SPEC` would."""
    conn, out, err, *keep = request.fds
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((devnull, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.close(conn)
    for fd in keep:
        os.set_inheritable(fd, True)  # as pass_fds leaves them for the snippet's own children
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    _fresh_randomness()
    from . import harness

    sys.argv = [harness.__file__, request.spec]
    return harness.main(sys.argv, parent=zygote)


def _fresh_randomness() -> None:
    """A cold run seeds numpy's global generator from the OS; a fork would repeat the zygote's.
    (`random` reseeds itself after a fork.)"""
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def _lock_folder() -> int:
    """Hold the lock on the zygote's own folder (its cwd, made by the pool: matplotlib reads a
    `matplotlibrc` in the cwd at import) that keeps `sweep_work_folders` off it while it lives."""
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def main(argv: list[str]) -> int:
    control = socket.socket(fileno=int(argv[1]))
    sandbox._prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(argv[2]):  # serve died before PDEATHSIG was armed
        return 0
    folder_fd = _lock_folder()
    me = os.getpid()
    request = _warm_up_and_serve(control)
    if request is None:
        return 0
    # Here only in a forked child, which is to be the harness of one run.
    os.close(folder_fd)
    try:
        code = become_harness(request, me)
    except Exception:  # noqa: BLE001 - like a harness that could not start: its stderr says why
        traceback.print_exc()
        code = 1
    _exit(code)
    return code


def _exit(code: int) -> None:
    """End the snippet's process as an interpreter exit would (its threads, atexit handlers, its
    garbage, buffered output) but without tearing down the preloaded modules: in a fork that
    writes to every page the zygote shares with it (~0.3 s with numpy and pyplot, 0.01 s so).
    Python never promised __del__ for what is still reachable at exit."""
    try:
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
        gc.collect()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def _warm_up_and_serve(control: socket.socket) -> Request | None:
    first, _ = receive(control)
    if first is None:
        return None
    failed = preload([str(n) for n in first.get("preload", [])])
    if "matplotlib.pyplot" in sys.modules:
        _draw_once()
    loaded = sorted({n.split(".")[0] for n in sys.modules})
    send(control, {"ready": True, "failed": failed, "loaded": loaded, "stamps": stamps()})
    gc.freeze()  # what the zygote has is never collected in a fork, so no fork copies its pages to scan them
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or every child repeats what is buffered
    server = Server(control)
    request = None
    try:
        request = server.serve()
    finally:
        if request is None:
            server.stop()
    return request


if __name__ == "__main__":
    sys.exit(main(sys.argv))
