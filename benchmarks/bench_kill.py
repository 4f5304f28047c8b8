#!/usr/bin/env python3
"""Kill trials: `logbuild build` killed at a random moment of its run, then everything checked.

    python benchmarks/bench_kill.py [--trials 200] [--snippet-trials 20] [--n 300] [--seed 1] [--json]

On a log of --n entries (../shared/bench/make_corpus.py), each trial starts a real build and
sends SIGKILL (every 5th: SIGTERM) after a delay drawn over that kind of build's measured run, or
(4 in 10) as it starts writing: half of those the moment the site's top folder, the edited
page's folder or what is beside the site changes, half 0 to 10% of the run after that or after
a change in the cache's build folder (a staging copy); 3 in 10 undo the change before the next
build. It checks:
(a) the site folder is exactly the complete old site or the complete new one (clean builds made
beforehand; "absent" before a first cold build), (b) no temporary or staging file inside it,
(c) no process of that build alive after a bounded wait (found by a marker in their environment),
(d) the next build exits 0 and equals a clean build (of the new log, or of the old one when the
change was undone first); for edits, undoing the edit and building gives the old site again.
Kinds: cold (no site, no build state), edit (one entry changed: in place), title (the
configuration changed: every page). Snippet trials kill a build while a snippet runs.
Exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "bench"
sys.path.insert(0, str(HERE.parent / "tests"))

from kill_trials import (
    KillResult,
    TrialLog,
    add_slow_snippet,
    corpus_log,
    ensure,
    kill_trial,
    prepare_log,
    run_build,
    snippet_kill_trial,
    write_log,
)

# (kind, killed the moment it starts writing the site instead of after a random delay, the change
# undone before the next build)
KINDS = [("edit", False, False), ("cold", False, False), ("edit", True, False), ("title", False, False),
         ("edit", False, True), ("cold", False, False), ("edit", True, True), ("cold", True, False),
         ("edit", False, False), ("title", True, True)]


def measure(log: TrialLog, kind: str) -> float:
    """Seconds of one uninterrupted build of this kind (the range kill delays are drawn from)."""
    ensure(log, "base")
    log.switch(kind)
    started = time.perf_counter()
    run_build(log.root, log.site)
    seconds = time.perf_counter() - started
    ensure(log, "base")
    return seconds


def failures(r: KillResult) -> list[str]:
    out = []
    if r.state == "mixed":
        out.append(f"mixed site: {r.detail}")
    if r.temp_files:
        out.append(f"left inside the site: {r.temp_files[:5]}")
    if r.survivors:
        out.append(f"surviving processes: {list(r.survivors.values())[:4]}")
    if not r.next_ok:
        out.append(f"next build: {r.next_detail}")
    if r.left_after_next:
        out.append(f"left after the next build: {r.left_after_next[:5]}")
    if r.revert_ok is False:
        out.append("undoing the change and building did not give the old site")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--snippet-trials", type=int, default=20)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=3, help="failing trials printed per kind of failure")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (SHARED / "make_corpus.py").is_file():
        sys.exit(f"needs {SHARED}/make_corpus.py (the shared/ folder beside the repo)")
    rng = random.Random(args.seed)
    results: list[KillResult] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="logbuild-kill-") as tmp:
        work = Path(tmp)
        corpus_log(work / "log", args.n, SHARED)
        log = prepare_log(work / "log", work / "site", work / "scratch")
        seconds = {"cold": log.seconds, "edit": measure(log, "edit"), "title": measure(log, "title")}
        print("uninterrupted build seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()),
              file=sys.stderr)
        for i in range(args.trials):
            kind, at_write, undo = KINDS[i % len(KINDS)]
            sig = signal.SIGTERM if i % 5 == 4 else signal.SIGKILL
            delay = None if at_write else rng.uniform(0, 1.1 * seconds[kind])
            after_write = rng.uniform(0, 0.1 * seconds[kind]) if i % 20 >= 10 else None  # half: staging too
            results.append(kill_trial(log, kind, sig, delay, work, undo=undo, after_write=after_write))
            report_progress(i, results[-1])
        small = work / "small"
        write_log(small / "log", 5)
        add_slow_snippet(small / "log")
        run_build(small / "log", small / "site")
        for i in range(args.snippet_trials):
            results.append(snippet_kill_trial(small / "log", small / "site", i + 1, work))
            report_progress(args.trials + i, results[-1])
    return summarise(results, time.perf_counter() - started, args.show, args.json)


def report_progress(i: int, r: KillResult) -> None:
    problems = failures(r)
    line = f"{i + 1:4d} {r.kind:7s} {r.signal:7s} {r.delay:5.2f}s exit={r.exit_code} site={r.state}"
    print(line + ("  FAIL: " + " | ".join(p[:300] for p in problems) if problems else ""), file=sys.stderr, flush=True)


def summarise(results: list[KillResult], seconds: float, show: int, as_json: bool) -> int:
    counts = {
        "trials": len(results),
        "by_kind": dict(Counter(f"{r.kind}/{r.signal}" for r in results)),
        "site_after_kill": dict(Counter(r.state for r in results)),
        "mixed_sites": sum(r.state in ("mixed", "not the old site") for r in results),
        "leftovers": sum(bool(r.temp_files) for r in results),
        "surviving_processes": sum(bool(r.survivors) for r in results),
        "next_build_mismatches": sum(not r.next_ok for r in results),
        "left_after_next_build": sum(bool(r.left_after_next) for r in results),
        "revert_mismatches": sum(r.revert_ok is False for r in results),
        "seconds": round(seconds),
    }
    if as_json:
        print(json.dumps(counts))
    else:
        for key, value in counts.items():
            print(f"{key.replace('_', ' ')}: {value}")
        shown: Counter[str] = Counter()
        for r in results:
            for problem in failures(r):
                what = problem.split(":")[0]
                if shown[what] < show:
                    shown[what] += 1
                    print(f"\n[{r.kind} {r.signal} after {r.delay:.2f}s] {problem[:1500]}")
    bad = sum(counts[k] for k in ("mixed_sites", "leftovers", "surviving_processes", "next_build_mismatches",
                                   "left_after_next_build", "revert_mismatches"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
