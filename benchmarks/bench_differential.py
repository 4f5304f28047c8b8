#!/usr/bin/env python3
"""Differential run: the incremental-equals-clean state machine of tests/site_machine.py, much longer.

    python benchmarks/bench_differential.py [--steps 1000] [--step-count 25] [--stop [--shrink]] [--json]

Random edit sequences until --steps builds have been compared. By default a difference is noted
(with the rules run so far) and the sequence goes on from a clean site, so one bug does not hide
the others; the kinds found are printed with a count and one report each. --stop fails the
sequence instead, as the test does (hypothesis prints its steps: the exact reproduction; --shrink
makes them minimal) and starts a new one. Exit status 1 when any difference was found.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter as Tally
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from site_machine import Counter, machine_for, prepare_seed


def report_of(exc: BaseException, lines: int) -> str:
    """The failure, the steps hypothesis printed, and what a flaky one failed with the first time."""
    parts = [str(exc), *getattr(exc, "__notes__", [])]
    for sub in getattr(exc, "exceptions", ()):
        parts += ["first failure:", str(sub), *getattr(sub, "__notes__", [])]
    return first_lines("\n".join(parts), lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000, help="builds compared, at least (default 1000)")
    ap.add_argument("--step-count", type=int, default=25, help="rules per sequence (default 25)")
    ap.add_argument("--stop", action="store_true", help="fail a sequence at its first difference")
    ap.add_argument("--shrink", action="store_true", help="with --stop: shrink each failing sequence")
    ap.add_argument("--lines", type=int, default=60, help="lines printed per difference")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    counter = Counter()
    differences: list[str] = []
    started = time.perf_counter()
    phases = [Phase.generate, Phase.shrink] if args.shrink and args.stop else [Phase.generate]
    with tempfile.TemporaryDirectory(prefix="logbuild-diff-") as tmp:
        seed = prepare_seed(Path(tmp))
        while counter.steps < args.steps:
            sequences = max(1, (args.steps - counter.steps) // (args.step_count + 1))
            try:  # one long run (its first sequences are the simplest); a new one after a failure
                run_state_machine_as_test(machine_for(seed, counter, record=not args.stop), settings=settings(
                    max_examples=sequences, stateful_step_count=args.step_count, deadline=None,
                    database=None, phases=phases, suppress_health_check=list(HealthCheck),
                ))
            except Exception as exc:  # noqa: BLE001 -- every failure is a difference to report
                differences.append(report_of(exc, args.lines))
                print(f"--- difference {len(differences)} (after {counter.steps} steps)\n{differences[-1]}\n",
                      file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    differences += [report for _, report in counter.differences]
    kinds = Tally(kind for kind, _ in counter.differences)
    if args.json:
        print(json.dumps({"steps": counter.steps, "differences": len(differences), "seconds": round(seconds, 1),
                          "kinds": kinds, "rules": counter.rules}))
    else:
        first = dict(reversed(counter.differences))
        for kind, count in kinds.most_common():
            print(f"--- {count} x {kind}\n{first_lines(first[kind], args.lines)}\n")
        print(f"steps run: {counter.steps}   differences found: {len(differences)} (steps whose sites differed;"
              f" {len(kinds)} kinds)   ({seconds:.0f} s)")
        print("rules: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.rules.items())))
    return 1 if differences else 0


def first_lines(text: str, lines: int) -> str:
    out = text.splitlines()
    return "\n".join(out[:lines]) + (f"\n  ... ({len(out) - lines} more lines)" if len(out) > lines else "")


if __name__ == "__main__":
    sys.exit(main())
