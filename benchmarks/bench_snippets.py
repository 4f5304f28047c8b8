"""Benchmark the snippet engine: 8 independent ~1 s CPU-bound snippets, cold, then with no change.

Run: .venv/bin/python benchmarks/bench_snippets.py [--jobs N] [--count 8]
Targets: cold wall time ~ count / jobs seconds (plus process start-up); no-change: 0 runs, <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from site_builder.snippets import SnippetSettings, run_snippets

SNIPPET = """\
import numpy as np


def work() -> int:
    total = 0
    for i in range({loops}):
        total += i * i
    return total


print(np.int64(work() % 1000), {n})
"""


def loops_per_second() -> int:
    """How many loop turns of SNIPPET this machine does in a second, on one core."""
    start, total, loops = time.perf_counter(), 0, 2_000_000
    for i in range(loops):
        total += i * i
    return int(loops / (time.perf_counter() - start))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--count", type=int, default=8)
    args = parser.parse_args()
    loops = loops_per_second()
    with tempfile.TemporaryDirectory(prefix="logbuild-bench-") as tmp:
        root = Path(tmp)
        (root / "snippets").mkdir()
        names = [f"busy_{n}" for n in range(args.count)]
        for n, name in enumerate(names):
            (root / "snippets" / f"{name}.py").write_text(SNIPPET.format(loops=loops, n=n))
        settings = SnippetSettings(
            root=root, snippets_dir=root / "snippets", cache_dir=root / ".logbuild", jobs=args.jobs
        )
        rows = []
        for label in ("cold", "no change"):
            start = time.perf_counter()
            results = run_snippets(names, settings)
            wall = time.perf_counter() - start
            ran = sum(not r.from_cache for r in results.values())
            assert all(r.status == "ok" for r in results.values()), [r.traceback for r in results.values()]
            mean = sum(r.seconds for r in results.values()) / len(results)
            rows.append((label, wall, ran, mean))
    target = args.count / args.jobs
    table = Table(title=f"{args.count} snippets of ~1 s, jobs={args.jobs}, cores={os.cpu_count()}")
    for column in ("run", "wall s", "snippets run", "mean s", "sum/jobs", "target"):
        table.add_column(column, justify="right")
    table.add_row(
        "cold",
        f"{rows[0][1]:.2f}",
        str(rows[0][2]),
        f"{rows[0][3]:.2f}",
        f"{rows[0][3] * args.count / args.jobs:.2f}",
        f"~{target:.1f} s",
    )
    table.add_row("no change", f"{rows[1][1]:.3f}", str(rows[1][2]), "-", "-", "0 runs, <=0.5 s")
    Console().print(table)


if __name__ == "__main__":
    main()
