#!/usr/bin/env python3
"""A/B: one-entry edits built by another commit and by this checkout, taking turns.

    .venv/bin/python benchmarks/bench_ab.py [--base HEAD~1] [--n 5000] [--pairs 13]

A machine whose speed drifts by a fifth within an hour hides a 5% change from two separate runs
of bench_build.py. Here the baseline (a `git worktree` of --base, imported through PYTHONPATH)
and this checkout build the same synthetic log (../shared/bench/make_corpus.py, one copy each, so
neither reads the other's state) in alternating order, an edit each time: both see the same
drift. Prints the median and the minimum wall time of each side, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def make_corpus(n: int, log: Path) -> None:
    corpus = next((f / "shared" / "bench" / "make_corpus.py" for f in HERE.parents
                   if (f / "shared" / "bench" / "make_corpus.py").is_file()), None)
    if corpus is None:
        sys.exit("needs shared/bench/make_corpus.py beside the repository")
    subprocess.run([sys.executable, str(corpus), "--n", str(n), "--out", str(log / "entries"), "--format", "yaml"],
                   check=True, stdout=subprocess.DEVNULL)
    (log / "logbuild.toml").write_text('title = "Benchmark log"\nbase_url = "https://example.org/log/"\n')


def edit_and_build(src: Path, log: Path, files: list[Path]) -> float:
    """Append a sentence to an entry in the middle of the log, then time `logbuild build` from `src`."""
    target = files[len(files) // 3 + random.randrange(len(files) // 3)]
    with target.open("a", encoding="utf-8") as f:
        f.write("\nA/B edit.\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(src)}
    started = time.perf_counter()
    # run from the log: `-m` puts the folder it runs in first on the path, before PYTHONPATH (run
    # from this checkout, both sides would import this checkout's package)
    subprocess.run([sys.executable, "-m", "site_builder.cli", "-C", str(log), "build", "--today", "2100-01-01"],
                   check=True, stdout=subprocess.DEVNULL, env=env, cwd=log)
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    ap.add_argument("--n", type=int, default=5000, help="entries in the log (default 5000)")
    ap.add_argument("--pairs", type=int, default=13, help="edits built by each side (default 13)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="logbuild-ab-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            sides = {"base": base, "this": REPO}
            logs = {name: Path(tmp) / f"log-{name}" for name in sides}
            make_corpus(args.n, logs["base"])
            shutil.copytree(logs["base"], logs["this"])
            files = {name: sorted((log / "entries").glob("*.md")) for name, log in logs.items()}
            for _ in range(2):  # a cold build, then the first edit (which also fills the spare folder)
                for name, src in sides.items():
                    edit_and_build(src, logs[name], files[name])
            for name, src in sides.items():  # each side runs the package it names
                where = subprocess.run([sys.executable, "-c", "import site_builder; print(site_builder.__file__)"],
                                       env={**os.environ, "PYTHONPATH": str(src)}, cwd=logs[name],
                                       capture_output=True, text=True, check=True).stdout.strip()
                assert Path(where).is_relative_to(src), f"{name} imports {where}, not {src}"
            times: dict[str, list[float]] = {name: [] for name in sides}
            for i in range(args.pairs):
                for name in (("base", "this") if i % 2 else ("this", "base")):
                    times[name].append(edit_and_build(sides[name], logs[name], files[name]))
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"one-entry edit at {args.n:,} entries, {args.pairs} pairs, alternating; {os.cpu_count()} cores\n")
    for name, ts in times.items():
        print(f"{name:5} ({args.base if name == 'base' else 'this checkout'}): median {medians[name] * 1000:.1f} ms,"
              f" min {min(ts) * 1000:.1f} ms")
    print(f"\nthis / base: {medians['this'] / medians['base']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
