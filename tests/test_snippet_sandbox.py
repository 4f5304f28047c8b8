"""Snippets stay in their box, with real subprocesses: a private work folder per run, the whole
process tree ended with the run (children that escaped with setsid too, also when the builder is
SIGKILLed), a memory limit that fails cleanly, and a snippet that ends its own process is its failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from site_builder.model import SnippetResult
from site_builder.snippets import SnippetSettings, run_snippets
from site_builder.snippets.headers import parse_options
from site_builder.snippets.workdirs import SWEEP_AFTER, private_work_folder, sweep_work_folders

WAIT = 60.0  # a bound on waiting for the kernel or a busy machine, never a speed check

# Starts a sleeper in a new session (so killpg on the snippet's group misses it) and writes its pid.
ESCAPE = """\
import os, subprocess, sys
p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
with open({pidfile!r} + ".tmp", "w") as f:
    f.write(f"{{p.pid}} {{os.getpid()}} {{os.getppid()}}")  # sleeper, snippet, its supervisor
os.replace({pidfile!r} + ".tmp", {pidfile!r})
"""


def make_log(tmp_path: Path, files: dict[str, str], **settings: object) -> SnippetSettings:
    snippets = tmp_path / "snippets"
    snippets.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (snippets / name).write_text(textwrap.dedent(text), "utf-8")
    return SnippetSettings(root=tmp_path, snippets_dir=snippets, cache_dir=tmp_path / ".logbuild", **settings)  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    """A running (not zombie) process that is still our sleeper or snippet, not a reused pid."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state != "Z" and (b"sleep(600)" in cmdline or b"site_builder.snippets.harness" in cmdline)


def wait_until(condition: object, bound: float = WAIT) -> bool:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return bool(condition())  # type: ignore[operator]


def pids_from(pidfile: Path) -> list[int]:
    assert wait_until(pidfile.exists), "the snippet never wrote its pid file"
    return [int(p) for p in pidfile.read_text().split()]


def assert_all_gone(pids: list[int]) -> None:
    assert wait_until(lambda: not any(alive(p) for p in pids)), [_describe(p) for p in pids if alive(p)]


def _describe(pid: int) -> str:
    """Who a surviving process is and where it waits, for the failure message."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as exc:
        return f"{pid}: {exc}"
    signals = " ".join(line for line in status.splitlines() if line.startswith(("Sig", "Shd", "Threads")))
    return f"{pid} state={stat[0]} ppid={stat[1]} wchan={wchan} {signals} cmd={cmdline[:80]}"


# --- 1. a private work folder per run --------------------------------------------------------


def test_two_runs_of_one_snippet_at_once_each_write_their_own_files(tmp_path: Path) -> None:
    meet = tmp_path / "meet"
    meet.mkdir()
    body = f"""\
    import os, time
    run = os.environ["RUN"]
    with open("out.txt", "w") as f:  # the same relative name in both runs
        f.write(run)
    open(os.path.join({str(meet)!r}, run), "w").close()
    deadline = time.monotonic() + {WAIT}
    while len(os.listdir({str(meet)!r})) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    with open("out.txt") as f:
        print(len(os.listdir({str(meet)!r})), run, f.read(), os.getcwd())
    """
    make_log(tmp_path, {"same.py": body})
    results: dict[str, SnippetResult] = {}

    def build(run: str) -> None:  # two builds of one log (say serve and build), sharing its cache
        s = make_log(tmp_path, {}, env={"RUN": run})
        results[run] = run_snippets(["same"], s)["same"]

    threads = [threading.Thread(target=build, args=(run,)) for run in ("1", "2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    folders = set()
    for run, r in results.items():
        assert r.status == "ok", r.traceback
        met, seen_run, content, cwd = r.stdout.split()
        assert (met, seen_run, content) == ("2", run, run)  # ran together, each read its own file
        folders.add(cwd)
        assert Path(cwd).parent == (tmp_path / ".logbuild" / "work").resolve()
        assert Path(cwd).name.startswith("same-") and not Path(cwd).exists()
    assert len(folders) == 2


def test_sweep_removes_abandoned_folders_but_not_a_live_runs(tmp_path: Path) -> None:
    cache = tmp_path / ".logbuild"
    left = cache / "work" / "old-snippet-abc"  # a killed run's folder (and the old shared layout)
    (left / "sub").mkdir(parents=True)
    (left / "sub" / "file").write_text("x")
    with private_work_folder(cache, "live") as live:
        later = time.time() + SWEEP_AFTER + 1
        assert sweep_work_folders(cache, now=later) == [left]
        assert live.path.is_dir() and not left.exists()
        assert sweep_work_folders(cache, now=time.time()) == []  # too young to judge
    assert not live.path.exists()


# --- 2. the whole process tree ends with the run ---------------------------------------------


def test_escaped_child_dies_when_the_snippet_ends(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    s = make_log(tmp_path, {"escape.py": ESCAPE.format(pidfile=str(pidfile))})
    r = run_snippets(["escape"], s)["escape"]
    assert r.status == "ok", r.traceback
    assert_all_gone(pids_from(pidfile))


def test_escaped_child_dies_at_the_timeout(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    # 10 s: room for the snippet to start its child on a busy machine before the limit strikes.
    source = (
        "# logbuild: timeout=10\n" + ESCAPE.format(pidfile=str(pidfile)) + "import time\ntime.sleep(600)\n"
    )
    s = make_log(tmp_path, {"escape.py": source})
    r = run_snippets(["escape"], s)["escape"]
    assert r.status == "timeout" and "killed after 10 s" in (r.traceback or "")
    assert_all_gone(pids_from(pidfile))


def _holders(folder: Path) -> list[str]:
    """The processes with `folder` open, and what they are (for the failure message)."""
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == str(folder) for fd in fd_dir.iterdir()):
                found.append(f"{fd_dir.parent.name}: " + (fd_dir.parent / "cmdline").read_bytes()
                             .replace(b"\0", b" ").decode(errors="replace")[:120] + " "
                             + (fd_dir.parent / "stat").read_text().split()[2])
        except OSError:
            continue
    return found


def test_ctrl_c_during_a_build_ends_the_running_snippets_and_the_build(tmp_path: Path) -> None:
    """The snippet runs in a session of its own, so Ctrl-C reaches only the builder: it ends the
    runs (and what they started) at once instead of waiting for them, and the rest never start."""
    pidfile = tmp_path / "pids"
    source = ESCAPE.format(pidfile=str(pidfile)) + "import time\ntime.sleep(600)\n"
    make_log(tmp_path, {"escape.py": source, "later.py": "print('never')\n"})
    (tmp_path / "logbuild.toml").write_text("jobs = 1\n")
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "2024-01-01.md").write_text(
        "---\ntitle: Sleepy\n---\n```{snippet} escape\n```\n\n```{snippet} later\n```\n")
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:  # a background run (nohup, some CI runners) ignores SIGINT, and children inherit it
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "site_builder.cli", "-C", str(tmp_path), "build",
                                 "--today", "2024-01-01"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pids = pids_from(pidfile)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(WAIT) != 0
    finally:
        proc.kill()
        proc.wait()
    assert_all_gone(pids)
    assert not list((tmp_path / ".logbuild" / "snippets").glob("later/*/result.json"))  # never started


def test_escaped_child_dies_when_the_builder_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    source = ESCAPE.format(pidfile=str(pidfile)) + "import time\ntime.sleep(600)\n"
    make_log(tmp_path, {"escape.py": source})
    builder = (
        "from pathlib import Path\nfrom site_builder.snippets import SnippetSettings, run_snippets\n"
        f"root = Path({str(tmp_path)!r})\n"
        "run_snippets(['escape'], SnippetSettings(root=root, snippets_dir=root / 'snippets',"
        " cache_dir=root / '.logbuild'))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", builder], stdout=subprocess.DEVNULL)
    try:
        pids = pids_from(pidfile)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert_all_gone(pids)
    # Its work folder stayed behind; once the supervisor has ended the tree and let go of the
    # folder's lock (it may still be doing so), a later run removes it.
    work = tmp_path / ".logbuild" / "work"
    (left,) = work.iterdir()
    deadline = time.monotonic() + 60  # a bound on the wait, not a speed check
    while not (swept := sweep_work_folders(tmp_path / ".logbuild", now=time.time() + SWEEP_AFTER + 1)):
        assert time.monotonic() < deadline, f"the killed run's work folder stayed locked by {_holders(left)}"
        time.sleep(0.1)
    assert swept == [left]


def test_a_normal_snippets_own_children_die_with_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    source = ESCAPE.format(pidfile=str(pidfile)).replace(", start_new_session=True", "")
    s = make_log(tmp_path, {"child.py": source})
    r = run_snippets(["child"], s)["child"]
    assert r.status == "ok", r.traceback
    assert_all_gone(pids_from(pidfile))


# --- 3. memory ---------------------------------------------------------------------------------


def test_memory_limit_fails_cleanly_and_says_how_to_raise_it(tmp_path: Path) -> None:
    s = make_log(
        tmp_path,
        {
            "big.py": "# logbuild: memory=300M\nprint('allocating')\nblock = bytearray(1_500_000_000)\n",
            "small.py": "# logbuild: memory=300M\nblock = bytearray(50_000_000)\nprint(len(block))\n",
        },
    )
    r = run_snippets(["big", "small"], s)
    assert r["big"].status == "failed" and r["big"].error_line == 3
    assert r["big"].stdout == "allocating\n"
    text = r["big"].traceback or ""
    assert "MemoryError" in text
    assert text.rstrip().splitlines()[-1] == (
        "logbuild: the snippet hit its memory limit of 300M (address space, RLIMIT_AS); "
        "raise it with `# logbuild: memory=600M` or lift it with `# logbuild: memory=none`"
    )
    assert r["small"].status == "ok" and r["small"].stdout == "50000000\n", r["small"].traceback


def test_a_huge_figure_fails_cleanly_under_the_default_limit(tmp_path: Path) -> None:
    source = """\
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(200, 200))  # 20000 x 20000 px, saved at twice that
    fig.add_subplot().plot([1, 2, 3])
    """
    r = run_snippets(["huge"], make_log(tmp_path, {"huge.py": source}))["huge"]
    assert r.status == "failed" and r.figures == ()
    assert "saving the figures failed" in (r.traceback or "") and "MemoryError" in (r.traceback or "")
    assert (
        (r.traceback or "")
        .rstrip()
        .endswith("raise it with `# logbuild: memory=8G` or lift it with `# logbuild: memory=none`")
    )


def test_memory_none_lifts_the_limit(tmp_path: Path) -> None:
    probe = "import resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY)\n"
    s = make_log(tmp_path, {"free.py": "# logbuild: memory=none\n" + probe, "default.py": probe})
    r = run_snippets(["free", "default"], s)
    assert (r["free"].stdout, r["default"].stdout) == ("True\n", "False\n")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("memory=2000", "memory must be a size like 512M or 2G (K, M, G, T), or none, not '2000'"),
        ("memory=lots", "memory must be a size like 512M or 2G (K, M, G, T), or none, not 'lots'"),
        ("memory=1M", "memory must be at least 64M, not '1M'"),
        ("memory", "'memory' needs a value: memory=..."),
    ],
)
def test_bad_memory_value_is_an_error_at_its_line(tmp_path: Path, line: str, message: str) -> None:
    s = make_log(tmp_path, {"bad.py": f"print('hi')\n# logbuild: {line}\n"})
    r = run_snippets(["bad"], s)["bad"]
    assert r.status == "error" and r.error_line == 2
    assert r.traceback == f"snippets/bad.py:2: {message}"


def test_memory_option_is_in_the_key_only_when_given() -> None:
    assert parse_options("# logbuild: memory=2G\n").key_text().endswith(" memory=2G")
    assert (
        parse_options("# logbuild: memory=2048M\n").key_text()
        == parse_options("# logbuild: memory=2G\n").key_text()
    )
    assert parse_options("# logbuild: memory=none\n").key_text().endswith(" memory=none")
    assert "memory" not in parse_options("# logbuild: svg\n").key_text()  # older keys still hold


# --- 4. a snippet that ends its own process ---------------------------------------------------


@pytest.mark.parametrize("code", [0, 3])
def test_os_exit_is_the_snippets_failure_not_ours(tmp_path: Path, code: int) -> None:
    s = make_log(tmp_path, {"quit.py": f"import os\nprint('bye', flush=True)\nos._exit({code})\n"})
    r = run_snippets(["quit"], s)["quit"]
    assert r.status == "failed"
    assert r.traceback == (
        f"the snippet ended its own process (exit code {code}: os._exit or a crash) before "
        "logbuild could collect its output; its figures and any output it had not flushed are lost"
    )
    assert r.stdout == "bye\n"


def test_a_crash_by_signal_is_the_snippets_failure(tmp_path: Path) -> None:
    s = make_log(tmp_path, {"crash.py": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"})
    r = run_snippets(["crash"], s)["crash"]
    assert r.status == "failed"
    assert (r.traceback or "").startswith(
        "the snippet's process was killed by SIGSEGV (out of memory, or a crash in native code?); "
        "it ran with a memory limit of "
    )


def test_a_harness_that_cannot_start_is_our_error_not_the_snippets(tmp_path: Path) -> None:
    # A snippet_env that breaks the interpreter itself: the harness never reaches the snippet.
    s = make_log(
        tmp_path, {"fine.py": "print('never runs')\n"}, env={"PYTHONHOME": str(tmp_path / "nowhere")}
    )
    r = run_snippets(["fine"], s)["fine"]
    assert r.status == "error" and r.stdout == ""
    assert (r.traceback or "").startswith("the snippet harness stopped without a manifest (exit code 1)\n")
