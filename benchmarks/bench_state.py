#!/usr/bin/env python3
"""Build-state benchmark: how long the incremental state takes to load and to save.

    python benchmarks/bench_state.py [--n 1000] [--repeat 5] [--log DIR]

Every build that is not a no-change build loads the state once and saves it once, so their sum
is a floor under a one-edit rebuild. Makes a synthetic log of --n entries (or uses --log, already
built), builds it once, then times `load_state` and `save_state` on the state that build wrote.
Prints the median (and the least, the better guide on a busy machine) of --repeat runs, and the
state file's size.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = next((p / "shared" / "bench" for p in HERE.parents if (p / "shared" / "bench").is_dir()), HERE)


def built_log(n: int, folder: Path) -> Path:
    log = folder / f"log-{n}"
    subprocess.run([sys.executable, str(SHARED / "make_corpus.py"), "--n", str(n), "--out",
                    str(log / "entries"), "--format", "yaml"], check=True, stdout=subprocess.DEVNULL)
    (log / "logbuild.toml").write_text('title = "Benchmark log"\n')  # what makes the folder a log
    subprocess.run([sys.executable, "-m", "site_builder.cli", "-C", str(log), "build"], check=True,
                   stdout=subprocess.DEVNULL)
    return log


def measure(log: Path, repeat: int) -> tuple[list[float], list[float], int, int]:
    """(load seconds, save seconds, entries in the state, state file bytes)."""
    from site_builder.state import load_state, pack_path, save_state, state_path, texts_path

    cache, out = log / ".logbuild", (log / "site").resolve()
    loads, saves = [], []
    state = load_state(cache, out)
    for _ in range(repeat):
        start = time.perf_counter()
        state = load_state(cache, out)
        loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        save_state(cache, state, out)
        saves.append(time.perf_counter() - start)
    return loads, saves, len(state.entries), sum(p.stat().st_size for p in (state_path(cache, out), pack_path(cache, out), texts_path(cache, out)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--log", type=Path, help="an already built log (skips making one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = args.log or built_log(args.n, Path(tmp))
        loads, saves, entries, size = measure(log, args.repeat)
    if entries == 0:
        sys.exit("the state is empty: was the log built by this version?")
    ms = {name: (statistics.median(v) * 1000, min(v) * 1000) for name, v in (("load", loads), ("save", saves))}
    total = [(a + b) * 1000 for a, b in zip(loads, saves)]
    print(f"{entries} entries, state {size / 1e6:.1f} MB, median (min) of {args.repeat}: "
          + ", ".join(f"{k} {m:.0f} ({lo:.0f}) ms" for k, (m, lo) in ms.items())
          + f", load+save {statistics.median(total):.0f} ({min(total):.0f}) ms")


if __name__ == "__main__":
    main()
