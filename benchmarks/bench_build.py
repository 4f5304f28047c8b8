#!/usr/bin/env python3
"""Build benchmark: a synthetic 1,000-entry log, our build beside the floor of our own stack.

    python benchmarks/bench_build.py [--n 1000] [--repeat 3] [--json]

Measures, in one run on one machine: the floor (../shared/bench/floor_build.py, 1 and 2 processes),
our cold build, a no-change rebuild, a one-edited-entry rebuild (checking the edit is in the page),
and the peak RSS of the build process. Targets (issue 2): cold <= 1.5x the 2-process floor,
no-change <= 5% of cold, one edit <= 10% of cold, peak RSS <= 250 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "bench"
TODAY = "2021-12-06"  # the day after the synthetic log's last entry, so the streak is alive


def timed(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB, the largest single process) and CPU seconds (user + system,
    worker processes included) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def median_of(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return (statistics.median(r[0] for r in runs), max(r[1] for r in runs),
            statistics.median(r[2] for r in runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (SHARED / "make_corpus.py").is_file():
        sys.exit(f"needs {SHARED}/make_corpus.py and floor_build.py (the shared/ folder beside the repo)")
    py = sys.executable
    logbuild = [py, "-m", "site_builder.cli"]
    with tempfile.TemporaryDirectory(prefix="logbuild-bench-") as tmp:
        work = Path(tmp)
        subprocess.run([py, SHARED / "make_corpus.py", "--n", str(args.n), "--out", work / "log" / "entries",
                        "--format", "yaml"], check=True, stdout=subprocess.DEVNULL)
        log = work / "log"
        (log / "logbuild.toml").write_text('title = "Benchmark log"\nbase_url = "https://example.org/log/"\n')
        floor1 = median_of([timed([py, SHARED / "floor_build.py", "log/entries", f"floor1-{i}"], work)
                            for i in range(args.repeat)])
        floor2 = median_of([timed([py, SHARED / "floor_build.py", "log/entries", f"floor2-{i}", "--jobs", "2"],
                                  work) for i in range(args.repeat)])
        build = [*logbuild, "build", "--today", TODAY]
        cold_runs = []
        for _ in range(args.repeat):
            shutil.rmtree(log / "site", ignore_errors=True)
            shutil.rmtree(log / ".logbuild", ignore_errors=True)
            cold_runs.append(timed(build, log))
        cold = median_of(cold_runs)
        nochange = median_of([timed(build, log) for _ in range(args.repeat * 2)])
        entries = sorted((log / "entries").glob("*.md"))
        edit_runs = []
        for i in range(args.repeat * 2):
            target = entries[len(entries) // 3 + i]
            marker = f"Benchmark edit number {i} changes this entry."
            with target.open("a", encoding="utf-8") as f:
                f.write(f"\n{marker}\n")
            edit_runs.append(timed(build, log))
            page = log / "site" / "entries" / target.stem / "index.html"
            if marker not in page.read_text("utf-8"):
                sys.exit(f"the one-edit rebuild did not update {page}")
        edit = median_of(edit_runs)
    rows = {
        "floor_1_process_s": floor1[0], "floor_2_processes_s": floor2[0],
        "cold_s": cold[0], "no_change_s": nochange[0], "one_edit_s": edit[0],
        "cold_vs_floor2": cold[0] / floor2[0], "no_change_vs_cold": nochange[0] / cold[0],
        "one_edit_vs_cold": edit[0] / cold[0],
        "peak_rss_mib": max(cold[1], nochange[1], edit[1]), "floor_peak_rss_mib": floor2[1],
        "floor_2_cpu_s": floor2[2], "cold_cpu_s": cold[2], "one_edit_cpu_s": edit[2],
        "entries": args.n, "repeat": args.repeat,
    }
    if args.json:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rows.items()}))
        return 0
    verdict = lambda ok: "meets" if ok else "MISSES"
    print(f"{args.n} entries, median of {args.repeat} (edits/no-change: {args.repeat * 2}) runs, {os.cpu_count()} cores")
    print(f"  floor, 1 process          {floor1[0]:7.2f} s")
    print(f"  floor, 2 processes        {floor2[0]:7.2f} s   (CPU {floor2[2]:.2f} s)")
    print(f"  logbuild cold             {cold[0]:7.2f} s   {rows['cold_vs_floor2']:.2f}x floor  (target <= 1.5x: "
          f"{verdict(rows['cold_vs_floor2'] <= 1.5)}; CPU {cold[2]:.2f} s)")
    print(f"  logbuild no change        {nochange[0]:7.2f} s   {rows['no_change_vs_cold']:.1%} of cold  "
          f"(target <= 5%: {verdict(rows['no_change_vs_cold'] <= 0.05)})")
    print(f"  logbuild one entry edited {edit[0]:7.2f} s   {rows['one_edit_vs_cold']:.1%} of cold  "
          f"(target <= 10%: {verdict(rows['one_edit_vs_cold'] <= 0.10)})")
    print(f"  peak RSS                  {rows['peak_rss_mib']:7.0f} MiB (floor {floor2[1]:.0f} MiB; target <= 250: "
          f"{verdict(rows['peak_rss_mib'] <= 250)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
