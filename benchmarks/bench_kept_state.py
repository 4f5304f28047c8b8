#!/usr/bin/env python3
"""serve's builds with and without the state kept in memory between them (state.KeptState).

    .venv/bin/python benchmarks/bench_kept_state.py [--n 5000] [--edits 9] [--rounds 2]

One synthetic log (../shared/bench/make_corpus.py), built once; then, in one process as serve
builds, --edits one-entry edits (a sentence appended), each followed by `build_site`, with a
KeptState handed from build to build and without one (each build reads the index and the pack),
the two taking turns for --rounds. Prints the median build of each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def shared_bench() -> Path:
    for folder in HERE.parents:
        if (folder / "shared" / "bench" / "make_corpus.py").is_file():
            return folder / "shared" / "bench"
    sys.exit("needs shared/bench/make_corpus.py beside the repository")


def run(log: Path, keep: bool, edits: int) -> list[float]:
    from site_builder.build import BuildOptions, build_site
    from site_builder.config import load_config
    from site_builder.state import KeptState

    config, _ = load_config(log)
    options = BuildOptions(today=dt.date(2100, 1, 1))
    kept = KeptState() if keep else None
    files = sorted((log / "entries").glob("*.md"))
    build_site(config, options, kept=kept)
    times = []
    for i in range(edits):
        with files[len(files) // 3 + random.randrange(len(files) // 3)].open("a", encoding="utf-8") as f:
            f.write(f"\nKept state benchmark edit {i}.\n")
        started = time.perf_counter()
        build_site(config, options, kept=kept)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--edits", type=int, default=9)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="logbuild-kept-") as tmp:
        log = Path(tmp) / "log"
        subprocess.run([sys.executable, str(shared_bench() / "make_corpus.py"), "--n", str(args.n), "--out",
                        str(log / "entries"), "--format", "yaml"], check=True, stdout=subprocess.DEVNULL)
        (log / "logbuild.toml").write_text('title = "Benchmark log"\nbase_url = "https://example.org/log/"\n')
        subprocess.run([sys.executable, "-m", "site_builder.cli", "-C", str(log), "build", "--today", "2100-01-01"],
                       check=True, stdout=subprocess.DEVNULL)
        for _ in range(args.rounds):
            for keep in (False, True):
                times = run(log, keep, args.edits)
                print(f"{args.n:,} entries, {'kept state ' if keep else 'read state '}: median "
                      f"{statistics.median(times) * 1000:.0f} ms of {args.edits} edits", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
