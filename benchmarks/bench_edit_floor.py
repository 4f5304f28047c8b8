#!/usr/bin/env python3
"""The least a one-entry edit can cost at each log size, with the features logbuild has.

    .venv/bin/python benchmarks/bench_edit_floor.py [--sizes 100,5000] [--repeat 7]

Issue 12 asks that an edit at 5,000 entries cost <= 1.5x the same edit at 100. Some of an edit's
work grows with the log whatever the design, because of what the site is: this times those
parts alone, on a real log built by logbuild (../shared/bench/make_corpus.py, then a cold build
and one edit so that the spare folder is filled), each in a fresh process, median of --repeat:

  walk       stat every input, as every build does first (incremental.freshness)
  records    read back and check what the last build saw of each entry file (the state's stats)
  search     search.json anew: it holds the text of every entry, so one edit writes all of it
             (the items joined, its digest, the file written into the spare folder)
  spare      lstat each page the spare folder already has (the writer's check that it is a real
             file, not a link put there, before the swap serves it)
  save       the stats written back (JSON, a temp file, os.replace)

and times the real one-entry edit (`logbuild build` after a sentence is appended) at each size.
An ideal build would cost the edit at the smallest size plus the growth of the floor: the last
column is that ideal's ratio, the best any design that keeps these features can reach.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PARTS = ("walk", "records", "search", "spare", "save")


def shared_bench() -> Path:
    for folder in HERE.parents:
        if (folder / "shared" / "bench" / "make_corpus.py").is_file():
            return folder / "shared" / "bench"
    sys.exit("needs shared/bench/make_corpus.py beside the repository")


def child(log: Path) -> None:
    """Each floor part once, on the built log at `log`; prints their seconds as JSON."""
    import datetime as dt

    from site_builder.builds import BuildOptions
    from site_builder.config import load_config
    from site_builder.incremental import freshness, output_dir, spare_path
    from site_builder.state import state_path
    from site_builder.statecodec import file_seen

    config, _ = load_config(log)
    options = BuildOptions(today=dt.date(2100, 1, 1))
    site = output_dir(config, options)
    index = state_path(config.path("cache_dir"), site)
    stats_json = json.dumps(json.loads(index.read_bytes())["stats"], separators=(",", ":")).encode()
    spare = spare_path(config.path("cache_dir"), site)
    pages = [str(spare / p.relative_to(site)) for p in site.rglob("*") if p.is_file()]
    search = (site / "search.json").read_bytes()
    items = search[1:-1].split(b'},{"t"')  # what the state keeps: one item each (split as they were joined)
    times: dict[str, float] = {}

    def timed(part: str, start: float) -> None:
        times[part] = time.perf_counter() - start

    start = time.perf_counter()
    freshness(config, options)
    timed("walk", start)
    start = time.perf_counter()
    stats = {k: file_seen(v) for k, v in json.loads(stats_json).items()}
    timed("records", start)
    start = time.perf_counter()
    data = b'},{"t"'.join(items).join((b"[", b"]"))
    hashlib.sha1(data).hexdigest()
    with tempfile.NamedTemporaryFile(dir=spare, delete=True) as f:
        f.write(data)
        f.flush()
        timed("search", start)
    start = time.perf_counter()
    for path in pages:
        os.lstat(path)
    timed("spare", start)
    start = time.perf_counter()
    tmp = index.with_name(".floor.tmp")
    tmp.write_bytes(json.dumps(stats, separators=(",", ":")).encode())
    os.replace(tmp, index.with_name(".floor.json"))
    timed("save", start)
    index.with_name(".floor.json").unlink()
    print(json.dumps(times))


def measure(n: int, repeat: int, work: Path) -> dict[str, float]:
    log = work / f"log-{n}"
    subprocess.run([sys.executable, str(shared_bench() / "make_corpus.py"), "--n", str(n), "--out",
                    str(log / "entries"), "--format", "yaml"], check=True, stdout=subprocess.DEVNULL)
    (log / "logbuild.toml").write_text('title = "Benchmark log"\nbase_url = "https://example.org/log/"\n')
    build = [sys.executable, "-m", "site_builder.cli", "-C", str(log), "build", "--today", "2100-01-01"]
    subprocess.run(build, check=True, stdout=subprocess.DEVNULL, env=TOOL_ENV)  # cold
    files = sorted((log / "entries").glob("*.md"))
    edits: list[float] = []
    for i in range(repeat + 1):  # the first edit after the cold build also fills the spare folder: not counted
        target = files[len(files) // 3 + random.randrange(len(files) // 3)]
        with target.open("a", encoding="utf-8") as f:
            f.write(f"\nFloor benchmark edit {i}.\n")
        started = time.perf_counter()
        subprocess.run(build, check=True, stdout=subprocess.DEVNULL, env=TOOL_ENV)
        if i:
            edits.append(time.perf_counter() - started)
    runs = [json.loads(subprocess.run([sys.executable, __file__, "--child", str(log)], check=True,
                                      capture_output=True, text=True, env=TOOL_ENV).stdout.splitlines()[-1])
            for _ in range(repeat)]
    row = {part: statistics.median(r[part] for r in runs) for part in PARTS}
    row["floor"] = sum(row[part] for part in PARTS)
    row["edit"] = statistics.median(edits)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,5000")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="logbuild-floor-") as tmp:
        rows = {n: measure(n, args.repeat, Path(tmp)) for n in sizes}
    first = rows[sizes[0]]
    print(f"median of {args.repeat}, seconds; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")
    print("| entries | " + " | ".join(PARTS) + " | floor | one edit (measured) | edit vs smallest | ideal edit | ideal vs smallest |")
    print("|---:|" + "---:|" * (len(PARTS) + 5))
    for n in sizes:
        row = rows[n]
        ideal = first["edit"] + row["floor"] - first["floor"]
        print(f"| {n:,} | " + " | ".join(f"{row[part]:.3f}" for part in PARTS)
              + f" | {row['floor']:.3f} | {row['edit']:.3f} | {row['edit'] / first['edit']:.2f}x"
              + f" | {ideal:.3f} | {ideal / first['edit']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
