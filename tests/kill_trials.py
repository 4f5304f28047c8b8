"""Kill and race trials on real `logbuild build` processes, and the checks made after each:
the site folder is a complete site we know (never a mix), holds no temporary file, no process of
the build outlives it, and the next build equals a clean build.

Shared by tests/test_kill.py (a few trials) and benchmarks/bench_kill.py, bench_concurrent.py.
Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from site_machine import clean_build, forget_build_state, read_tree, tree_difference, write_file

TODAY = dt.date(2019, 9, 1)
MARKER = "LOGBUILD_TRIAL_MARKER"  # set in each trial build's environment; its processes inherit it
SNIPPET_SECONDS = "KILL_TRIAL_SNIPPET_SECONDS"  # how long the trial snippet sleeps (not in its key)
SURVIVOR_WAIT = 3.0  # seconds a killed build's processes get to notice and go
Tree = dict[str, bytes] | None

SLOW_SNIPPET = """import os
import subprocess
import time

VALUE = {value}
child = subprocess.Popen(["sleep", "30"])  # a process of its own, as a data loader's would be
time.sleep(float(os.environ.get("{env}", "0")))
child.kill()
child.wait()
print("value", VALUE)
"""


# ---------------------------------------------------------------------------------------------
# Logs

def write_log(root: Path, n: int, title: str = "Kill Log") -> None:
    """A deterministic log of `n` daily entries (enough to start the worker pool at 48)."""
    rng = random.Random(n)
    words = ["pooling", "stride", "kernel", "momentum", "dropout", "softmax", "entropy", "weights", "batch"]
    entries = root / "entries"
    entries.mkdir(parents=True)
    for i in range(n):
        day = dt.date(2019, 1, 1) + dt.timedelta(days=i)
        text = " ".join(rng.choice(words) for _ in range(60))
        tags = ", ".join(sorted(set(rng.sample(words, 2))))
        (entries / f"{day}.md").write_text(
            f"---\ntitle: Day {i + 1}\ntags: [{tags}]\n---\n{text}\n\n## Code\n\n```python\nx = {i}\n```\n")
    write_config(root, title)


def corpus_log(root: Path, n: int, shared: Path, title: str = "Kill Log") -> None:
    """The shared synthetic corpus (../shared/bench/make_corpus.py), as the other benchmarks use."""
    subprocess.run([sys.executable, shared / "make_corpus.py", "--n", str(n), "--out", root / "entries",
                    "--format", "yaml"], check=True, stdout=subprocess.DEVNULL)
    write_config(root, title)


def write_config(root: Path, title: str) -> None:
    write_file(root / "logbuild.toml", f'title = "{title}"\ntimezone = "UTC"\n'.encode())


def add_slow_snippet(root: Path, value: int = 0) -> None:
    """snippets/slow.py, linked from the first entry: sleeps while $KILL_TRIAL_SNIPPET_SECONDS says."""
    write_file(root / "snippets" / "slow.py", SLOW_SNIPPET.format(value=value, env=SNIPPET_SECONDS).encode())
    first = min((root / "entries").glob("*.md"))
    text = first.read_text("utf-8")
    if "snippets: [slow]" not in text:
        write_file(first, text.replace("---\n", "---\nsnippets: [slow]\n", 1).encode())


# ---------------------------------------------------------------------------------------------
# Processes

def build_command(root: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "site_builder.cli", "-C", str(root), "build", "--out", str(out),
            "--today", TODAY.isoformat()]


def start_build(root: Path, out: Path, marker: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`logbuild build` as a user starts it, with a marker its children inherit; stderr to `log`
    (a file: children that outlive the build would hold a pipe open)."""
    full = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "FORCE_COLOR")}
    full.update(NO_COLOR="1", **{MARKER: marker}, **env)
    with log.open("wb") as err:
        return subprocess.Popen(build_command(root, out), env=full, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)


SERVE_STYLE = """import sys
from pathlib import Path
from site_builder.build import BuildOptions, build_site
from site_builder.config import load_config
from site_builder.errors import errors_in
import datetime as dt

config, _ = load_config(Path(sys.argv[1]))
options = BuildOptions(out=config.path("cache_dir").resolve() / "serve-site", run_snippets=False,
                       today=dt.date.fromisoformat(sys.argv[2]))
report = build_site(config, options)
for d in report.diagnostics:
    print(d.format(), file=sys.stderr)
sys.exit(1 if errors_in(list(report.diagnostics)) else 0)
"""


def start_serve_style_build(root: Path, marker: str, log: Path) -> subprocess.Popen[bytes]:
    """What `logbuild serve` does first: a cached-only build of the same log into .logbuild/serve-site."""
    full = dict(os.environ, NO_COLOR="1", **{MARKER: marker})
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-c", SERVE_STYLE, str(root), TODAY.isoformat()], env=full,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)


def run_build(root: Path, out: Path, marker: str | None = None, **env: str) -> tuple[int, str]:
    """One whole build: (exit status, stderr)."""
    log = Path(tempfile.mkstemp(prefix="build-", suffix=".log")[1])
    try:
        proc = start_build(root, out, marker or f"run-{uuid.uuid4().hex}", log, **env)
        return proc.wait(timeout=600), log.read_text("utf-8", "replace")
    finally:
        log.unlink()


def marked_processes(marker: str) -> dict[int, str]:
    """pid -> command line of every live process whose environment carries MARKER=marker."""
    needle = f"{MARKER}={marker}".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                found[int(entry)] = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:  # gone meanwhile, or a zombie
            continue
    return found


def survivors(marker: str, wait: float = SURVIVOR_WAIT) -> dict[int, str]:
    """The marked processes still alive after `wait` seconds; those are then ended (by pid)."""
    deadline = time.monotonic() + wait
    alive = marked_processes(marker)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = marked_processes(marker)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return alive


def wait_for_process(marker: str, needle: str, timeout: float) -> bool:
    """Wait until a marked process whose command line holds `needle` runs (e.g. the snippet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(needle in cmd for cmd in marked_processes(marker).values()):
            return True
        time.sleep(0.02)
    return False


# ---------------------------------------------------------------------------------------------
# What is left in and beside the site

def temp_files(site: Path) -> list[str]:
    """Files inside the site no build should leave there: temporary and staging names, and any
    hidden name but .nojekyll."""
    out = []
    for dirpath, dirnames, filenames in os.walk(site):
        for name in filenames + dirnames:
            if name.endswith(".logbuild-tmp") or "staging" in name or (name.startswith(".") and name != ".nojekyll"):
                out.append(os.path.relpath(os.path.join(dirpath, name), site))
    return sorted(out)


def beside(site: Path) -> list[str]:
    """What a build left next to the site folder (`.site.staging`, `.site.old`, ...)."""
    if not site.parent.is_dir():
        return []
    return sorted(p.name for p in site.parent.iterdir() if p.name.startswith(f".{site.name}"))


def which(tree: Tree, known: dict[str, Tree]) -> str:
    """The name of the known tree `tree` is, or "mixed"."""
    for name, ref in known.items():
        if tree_difference(tree, ref) is None:
            return name
    return "mixed"


# ---------------------------------------------------------------------------------------------
# One log with its reference sites

@dataclass
class TrialLog:
    """A log, its site folder, and the clean sites of the versions a trial switches between."""

    root: Path
    site: Path
    edited: Path  # the entry a one-entry edit changes
    texts: dict[str, bytes] = field(default_factory=dict)  # version -> bytes of the edited entry
    titles: dict[str, str] = field(default_factory=dict)  # version -> site title
    refs: dict[str, Tree] = field(default_factory=dict)  # version -> clean site
    version: str = ""  # the version the log is in now
    site_is: str = ""  # the version the site folder is known to equal ("" unknown)
    seconds: float = 0.0  # how long a whole first build took (kill delays are spread over it)

    def switch(self, version: str) -> None:
        """Put the log in `version` ("base", "edit" or "title"); only changed files are written."""
        if self.edited.read_bytes() != self.texts[version]:
            write_file(self.edited, self.texts[version])
        if self.version != version:
            write_config(self.root, self.titles[version])
        self.version = version

    def reference(self, version: str, scratch: Path) -> Tree:
        self.switch(version)
        clean_build(self.root, scratch, TODAY)
        tree = read_tree(scratch)
        shutil.rmtree(scratch)
        return tree


def prepare_log(root: Path, site: Path, scratch: Path) -> TrialLog:
    """Reference sites for the log at `root` (already written), each a clean build; then the
    site folder built from the base version."""
    entries = sorted((root / "entries").rglob("*.md"))
    edited = entries[len(entries) // 2]
    base = edited.read_bytes()
    log = TrialLog(root, site, edited, {"base": base, "edit": base + b"\nOne more line, edited.\n",
                                        "title": base},
                   {"base": "Kill Log", "edit": "Kill Log", "title": "Kill Log, retitled"})
    for version in ("edit", "title", "base"):
        log.refs[version] = log.reference(version, scratch)
    started = time.perf_counter()
    code, err = run_build(root, site)
    log.seconds = time.perf_counter() - started
    assert code == 0, err
    assert which(read_tree(site), {"base": log.refs["base"]}) == "base", "a first build differs from a clean one"
    log.site_is = "base"
    return log


def ensure(log: TrialLog, version: str) -> bool:
    """Bring the site to `version` with an ordinary build; False if it then differs from the clean
    site (it is rebuilt cold, so the next trial starts right)."""
    if log.version == version and log.site_is == version:
        return True
    log.switch(version)
    code, _ = run_build(log.root, log.site)
    log.site_is = version
    if code == 0 and which(read_tree(log.site), {version: log.refs[version]}) == version:
        return True
    shutil.rmtree(log.site, ignore_errors=True)
    forget_build_state(log.root)
    run_build(log.root, log.site)
    return False


def settle(log: TrialLog, version: str, ok: bool) -> None:
    """After a trial's next build: the site is `version` if that build was right, else unknown."""
    log.site_is = version if ok else ""


# ---------------------------------------------------------------------------------------------
# Kill trials

@dataclass
class KillResult:
    kind: str  # cold | edit | title, "@write" when killed the moment it started writing
    signal: str
    delay: float
    exit_code: int | None  # None: the build was still running when signalled
    state: str  # what the site held right after: "old", "new", "absent" or "mixed"
    detail: str = ""  # when mixed: the first difference from the old and from the new site
    temp_files: list[str] = field(default_factory=list)  # inside the site, right after
    survivors: dict[int, str] = field(default_factory=dict)
    next_ok: bool = True  # the next build exits 0 and equals the clean site
    next_detail: str = ""
    left_after_next: list[str] = field(default_factory=list)  # in or beside the site after it
    revert_ok: bool | None = None  # edit/title: undoing the change and building gives the old site


def watched(log: TrialLog, cache_too: bool) -> list[tuple[Path, str]]:
    """Where a build's writing shows first: the site's top folder and the edited entry's page
    folder, the names beside the site, and (`cache_too`) the cache's build folder with the top
    folders (and page folder) of what is in it: a staging or spare copy of the site may live there."""
    page = Path("entries") / log.edited.stem
    places = [(log.site, ""), (log.site / page, ""), (log.site.parent, f".{log.site.name}")]
    cache = log.root / ".logbuild" / "build"
    if cache_too and cache.is_dir():
        spares = [d for d in cache.iterdir() if d.is_dir()]
        places += [(cache, ""), *[(d, "") for d in spares], *[(d / page, "") for d in spares]]
    return places


def signature(places: list[tuple[Path, str]]) -> set[tuple[str, int, int]]:
    out = set()
    for folder, prefix in places:
        try:
            with os.scandir(folder) as it:
                for e in it:
                    if e.name.startswith(prefix):
                        st = e.stat(follow_symlinks=False)
                        out.add((e.path, st.st_ino, st.st_mtime_ns))
        except OSError:
            continue
    return out


def wait_for_writing(proc: subprocess.Popen[bytes], places: list[tuple[Path, str]], timeout: float) -> float:
    """Poll until the build changes anything watched (seconds waited); it is then mid-write."""
    started = time.perf_counter()
    before = signature(places)
    while proc.poll() is None and time.perf_counter() - started < timeout and signature(places) == before:
        time.sleep(0.0002)
    return time.perf_counter() - started


def kill_trial(log: TrialLog, kind: str, sig: signal.Signals, delay: float | None, work: Path,
               undo: bool = False, after_write: float | None = None) -> KillResult:
    """Start a build, signal it after `delay` s, and check everything a user could trip on after.
    `delay` None: the moment it starts writing the site, or (`after_write` given) that long after
    it starts writing the site or anything in the cache's build folder (a staging copy).
    `undo`: the change is undone before the next build (which must then give the old site: a
    half-done update is not "up to date")."""
    if kind == "cold":
        log.switch("base")
        shutil.rmtree(log.site, ignore_errors=True)
        forget_build_state(log.root)
        old, new = "absent", "base"
    else:
        ensure(log, "base")
        log.switch(kind)
        old, new = "base", kind
    known = {"old" if old != "absent" else "absent": log.refs.get(old), "new": log.refs[new]}
    marker = uuid.uuid4().hex
    places = watched(log, cache_too=after_write is not None)
    label = (kind if delay is not None else f"{kind}@write") + ("+undo" if undo and kind != "cold" else "")
    proc = start_build(log.root, log.site, marker, work / "killed.log")
    if delay is None:
        delay = wait_for_writing(proc, places, timeout=600) + (after_write or 0.0)
        time.sleep(after_write or 0.0)
    else:
        time.sleep(delay)
    exit_code = proc.poll()
    proc.send_signal(sig)
    proc.wait()
    tree = read_tree(log.site)
    result = KillResult(label, sig.name, delay, exit_code, which(tree, known))
    if result.state == "mixed":
        result.detail = "; ".join(f"vs {name}: {tree_difference(tree, ref, ('site', name))}"
                                  for name, ref in known.items())
    result.temp_files = temp_files(log.site) if log.site.is_dir() else []
    result.survivors = survivors(marker)
    if undo and kind != "cold":
        log.switch("base")
        new = "base"
    code, err = run_build(log.root, log.site)
    difference = tree_difference(read_tree(log.site), log.refs[new], ("next build", "clean build"))
    result.next_ok = code == 0 and difference is None
    result.next_detail = f"exit {code}: {err.strip()[-400:]}" if code else (difference or "")
    result.left_after_next = temp_files(log.site) + beside(log.site) if log.site.is_dir() else beside(log.site)
    settle(log, new, result.next_ok)
    if new != "base":
        result.revert_ok = ensure(log, "base")
    return result


def snippet_kill_trial(root: Path, site: Path, value: int, work: Path) -> KillResult:
    """Edit the slow snippet (so the build must run it), SIGKILL the build while it runs, then
    check: no process of that build is left, the next build equals a clean build."""
    before = read_tree(site)
    add_slow_snippet(root, value)
    marker = uuid.uuid4().hex
    proc = start_build(root, site, marker, work / "killed.log", **{SNIPPET_SECONDS: "30"})
    running = wait_for_process(marker, "sleep 30", timeout=60)
    exit_code = proc.poll()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    tree = read_tree(site)
    result = KillResult("snippet", "SIGKILL", 0.0, exit_code, "old" if tree_difference(tree, before) is None
                        else "not the old site")
    if not running:
        result.detail = "the snippet never started"
    result.temp_files = temp_files(site) if site.is_dir() else []
    result.survivors = survivors(marker)
    code, err = run_build(root, site)
    after = read_tree(site)
    clean = work / "clean-site"
    clean_build(root, clean, TODAY)
    difference = tree_difference(after, read_tree(clean), ("next build", "clean build"))
    shutil.rmtree(clean, ignore_errors=True)
    result.next_ok = code == 0 and difference is None
    result.next_detail = f"exit {code}: {err.strip()[-400:]}" if code else (difference or "")
    if result.state != "old" and tree_difference(tree, after) is None:
        result.state = "new"
    result.left_after_next = temp_files(site) + beside(site)
    return result


# ---------------------------------------------------------------------------------------------
# Races

@dataclass
class RaceResult:
    kind: str
    exit_codes: tuple[int, int]
    stderr: tuple[str, str]
    lock_named: bool  # every build that failed said which process holds the lock
    site_ok: bool  # the site equals the clean site
    detail: str = ""
    temp_files: list[str] = field(default_factory=list)
    survivors: dict[int, str] = field(default_factory=dict)
    next_ok: bool = True  # one more build afterwards: exit 0 and still the clean site
    next_detail: str = ""


def names_lock_holder(stderr: str) -> bool:
    """The refusal says a build is running and names its process (pid)."""
    import re

    return bool(re.search(r"\b(pid|process)\b\D{0,20}\d+", stderr, re.IGNORECASE)) and "Traceback" not in stderr


def race_trial(log: TrialLog, kind: str, work: Path, beside_serve: bool = False) -> RaceResult:
    """Two `logbuild build`s of one log into one site, started together (or, `beside_serve`, one
    build and the cached-only build `serve` makes into its own folder, from the same cache)."""
    if kind == "cold":
        log.switch("base")
        shutil.rmtree(log.site, ignore_errors=True)
        forget_build_state(log.root)
        new = "base"
    else:
        ensure(log, "base")
        log.switch(kind)
        new = kind
    marker = uuid.uuid4().hex
    procs = [start_build(log.root, log.site, marker, work / "race-0.log"),
             start_serve_style_build(log.root, marker, work / "race-1.log") if beside_serve
             else start_build(log.root, log.site, marker, work / "race-1.log")]
    codes = (procs[0].wait(timeout=600), procs[1].wait(timeout=600))
    errs = tuple((work / f"race-{i}.log").read_text("utf-8", "replace") for i in range(2))
    difference = tree_difference(read_tree(log.site), log.refs[new], ("site", "clean build"))
    result = RaceResult(kind + (" beside serve" if beside_serve else ""), codes, (errs[0], errs[1]),
                        all(c == 0 or names_lock_holder(e) for c, e in zip(codes, errs)),
                        difference is None and (codes[0] == 0 if beside_serve else 0 in codes),
                        difference or "")
    result.temp_files = (temp_files(log.site) if log.site.is_dir() else []) + beside(log.site)
    result.survivors = survivors(marker, wait=1.0)
    code, err = run_build(log.root, log.site)
    after = tree_difference(read_tree(log.site), log.refs[new], ("next build", "clean build"))
    result.next_ok = code == 0 and after is None
    result.next_detail = f"exit {code}: {err.strip()[-400:]}" if code else (after or "")
    settle(log, new, result.next_ok)
    return result
