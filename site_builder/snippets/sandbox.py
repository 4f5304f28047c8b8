"""EXECUTE (child process only): keep a snippet's whole process tree, and its memory, in its box.

The harness forks: the child runs the snippet, the parent stays behind as a supervisor. The
supervisor is a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`), so every process the snippet
starts, even one that escaped with `setsid`, is reparented to it when its own parent dies and can
be found by walking `/proc`. When the snippet ends, when the runner sends SIGTERM at the timeout,
or when the builder itself dies (`PR_SET_PDEATHSIG`), the supervisor stops and kills every
descendant before it exits. Standard library only: this runs before the snippet imports anything.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
EXIT_FILE = "exit.json"  # the snippet process's exit status, written by the supervisor
RUNNING_FILE = "running"  # exists while the snippet's own code runs (see snippet_running)
END_ROUNDS = 1000  # scans of /proc before giving up on a process that will not die (~10 s)


WAKE = {signal.SIGTERM, signal.SIGCHLD}  # what the supervisor waits for, blocked so it waits in order


def contain(parent_pid: int, out: str) -> None:
    """Fork; return in the child only. The parent supervises the tree and never returns.

    The supervisor keeps SIGTERM and SIGCHLD blocked and takes them one at a time with
    `sigwaitinfo`, so no signal interrupts it half-way: a SIGTERM before the fork, a second SIGTERM
    (the builder's death and a zygote's both send one) or one while it ends the tree only waits.
    (An earlier handler that raised could be hit again inside its own cleanup, and a `setsid`
    child then outlived a killed builder.) SIGHUP is ignored, so the kernel's hangup of an
    orphaned process group with stopped members cannot end it either."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.pthread_sigmask(signal.SIG_BLOCK, WAKE)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the builder died before PDEATHSIG was armed
        os._exit(0)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child repeats what is buffered
    supervisor = os.getpid()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the supervisor gone means the run is over
        if os.getppid() != supervisor:
            os._exit(0)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, WAKE)  # the snippet starts as any process does
        return
    _supervise(pid, out)


def _supervise(pid: int, out: str) -> None:
    """Wait for the snippet (or SIGTERM), then end every descendant and exit; never returns."""
    status: int | None = None
    try:
        status = wait_for(pid)
    finally:
        end_descendants(os.getpid())
        if status is not None:
            _write_exit(out, status)
        os._exit(0)


def _prctl(option: int, value: int) -> None:
    """Best effort: without prctl (not Linux) the runner's process-group kill is what is left."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def wait_for(pid: int) -> int | None:
    """Reap orphans as they come until `pid` ends: its wait status; None once SIGTERM came first.
    WAKE is blocked, so a SIGCHLD between the last reap and the wait is pending, never missed."""
    while True:
        while True:
            try:
                done, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return None  # no child at all: cannot happen before `pid` is reaped
            if done == pid:
                return status
            if done == 0:
                break
        if signal.sigwaitinfo(WAKE).si_signo == signal.SIGTERM:
            return None


def _write_exit(out: str, status: int) -> None:
    if os.WIFSIGNALED(status):
        record = {"signal": os.WTERMSIG(status)}
    else:
        record = {"code": os.waitstatus_to_exitcode(status)}
    try:
        with open(os.path.join(out, EXIT_FILE), "w", encoding="utf-8") as f:
            json.dump(record, f)
    except OSError:
        pass  # the runner then reports that the harness stopped without saying why


def end_descendants(me: int) -> bool:
    """Stop, then kill, every process below `me` until none is left; False if one would not die."""
    for _ in range(END_ROUNDS):
        _reap()
        found = _freeze(me)
        if not found:
            _reap()
            return True
        for pid in found:
            _signal(pid, signal.SIGKILL)
        time.sleep(0.01)  # let the kernel finish them and reparent their children to us
    return False


def _freeze(me: int) -> set[int]:
    """SIGSTOP every live descendant until a scan finds no new one: a stopped process cannot fork."""
    stopped: set[int] = set()
    while True:
        found = descendants(me)
        new = found - stopped
        if not new:
            return found
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        stopped |= new


def descendants(root: int) -> set[int]:
    """Live (not zombie) processes below `root`, from the parent links in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    zombies: set[int] = set()
    for pid, ppid, state in _processes():
        children.setdefault(ppid, []).append(pid)
        if state == "Z":
            zombies.add(pid)
    found: set[int] = set()
    todo = [root]
    while todo:  # through zombies too: one scan can read a child's stat before its parent died
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found - zombies


def _processes() -> list[tuple[int, int, str]]:
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out.append((int(name), int(fields[1]), fields[0]))
        except (OSError, IndexError, ValueError):
            continue  # it ended while we looked
    return out


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def limit_memory(limit: int | None) -> None:
    """Cap the address space of this process (RLIMIT_AS); None leaves it as inherited."""
    if limit is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


@contextmanager
def snippet_running(out: str) -> Iterator[None]:
    """Marks the stretch in which the snippet's own code runs: a process that ends there without a
    manifest was ended by the snippet (os._exit, a crash), not by logbuild."""
    path = os.path.join(out, RUNNING_FILE)
    with open(path, "w", encoding="utf-8"):
        pass
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
