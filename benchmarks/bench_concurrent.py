#!/usr/bin/env python3
"""Race trials: two `logbuild build`s of one log into one site, started together.

    python benchmarks/bench_concurrent.py [--trials 32] [--n 300] [--json]

On a log of --n entries (../shared/bench/make_corpus.py), kinds in turn: cold (no site, no build
state), edit (one entry changed), title (the configuration changed: every page), and a build
beside the cached-only build `serve` makes into .logbuild/serve-site from the same cache. After
each: both exit 0, or the one that fails says which process holds the lock; the site equals a
clean build; nothing temporary is left in or beside it; no process of theirs lives on; one more
build exits 0 and still gives the clean site. Exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "bench"
sys.path.insert(0, str(HERE.parent / "tests"))

from kill_trials import RaceResult, corpus_log, prepare_log, race_trial

KINDS = [("cold", False), ("edit", False), ("title", False), ("edit", True)]


def failures(r: RaceResult) -> list[str]:
    out = []
    if not r.lock_named:
        out.append(f"a build failed without naming the lock holder: exit {r.exit_codes}: "
                   + " / ".join(e.strip()[-400:] for e in r.stderr))
    if not r.site_ok:
        out.append(f"damaged site (exit {r.exit_codes}): {r.detail}")
    if r.temp_files:
        out.append(f"left in or beside the site: {r.temp_files[:5]}")
    if r.survivors:
        out.append(f"surviving processes: {list(r.survivors.values())[:4]}")
    if not r.next_ok:
        out.append(f"next build: {r.next_detail}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--show", type=int, default=3, help="failing trials printed per kind of failure")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (SHARED / "make_corpus.py").is_file():
        sys.exit(f"needs {SHARED}/make_corpus.py (the shared/ folder beside the repo)")
    results: list[RaceResult] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="logbuild-race-") as tmp:
        work = Path(tmp)
        corpus_log(work / "log", args.n, SHARED)
        log = prepare_log(work / "log", work / "site", work / "scratch")
        for i in range(args.trials):
            kind, serve = KINDS[i % len(KINDS)]
            r = race_trial(log, kind, work, beside_serve=serve)
            results.append(r)
            problems = failures(r)
            print(f"{i + 1:3d} {r.kind:18s} exit={r.exit_codes}" + ("  FAIL: " + " | ".join(p[:300] for p in problems)
                                                             if problems else ""), file=sys.stderr, flush=True)
    counts = {
        "trials": len(results),
        "by_kind": dict(Counter(r.kind for r in results)),
        "exit_codes": dict(Counter(str(r.exit_codes) for r in results)),
        "damaged_sites": sum(not r.site_ok for r in results),
        "unexplained_failures": sum(not r.lock_named for r in results),
        "leftovers": sum(bool(r.temp_files) for r in results),
        "surviving_processes": sum(bool(r.survivors) for r in results),
        "next_build_mismatches": sum(not r.next_ok for r in results),
        "seconds": round(time.perf_counter() - started),
    }
    if args.json:
        print(json.dumps(counts))
    else:
        for key, value in counts.items():
            print(f"{key.replace('_', ' ')}: {value}")
        shown: Counter[str] = Counter()
        for r in results:
            for problem in failures(r):
                what = problem.split(":")[0].split(" (")[0]
                if shown[what] < args.show:
                    shown[what] += 1
                    print(f"\n[{r.kind}] {problem[:1500]}")
    bad = sum(counts[k] for k in ("damaged_sites", "unexplained_failures", "leftovers", "surviving_processes",
                                   "next_build_mismatches"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
