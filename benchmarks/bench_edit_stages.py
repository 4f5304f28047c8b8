#!/usr/bin/env python3
"""Where a one-entry edit's time goes, stage by stage, at several log sizes.

    .venv/bin/python benchmarks/bench_edit_stages.py [--sizes 100,1000,5000] [--repeat 5]

For each size: a synthetic log (../shared/bench/make_corpus.py), built once, then --repeat edits
(a sentence appended to an entry in the middle of the log), each rebuilt by `logbuild build` in a
fresh process that times its own stages (the stage functions wrapped, nothing else changed).
Prints the median seconds of each stage: what grows with the log is what an edit still pays for
the whole of it. The rendering stack's imports (Jinja2, markdown-it-py) fall in the stage that
first needs them.
"""

from __future__ import annotations

import argparse
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
STAGES = [  # (module, function, label): nested ones are listed after the stage they are part of
    ("site_builder.incremental", "freshness", "freshness (stat every input)"),
    ("site_builder.state", "load_state", "load state"),
    ("site_builder.build", "load_site", "load site"),
    ("site_builder.build", "load_and_render", "  of which: entries (walk, parse new)"),
    ("site_builder.build", "render_site", "plan"),
    ("site_builder.build", "_write", "render changed + write"),
    ("site_builder.build", "_save_quietly", "save state"),
]
TOP_LEVEL = {label for _, _, label in STAGES if not label.startswith(" ")}


def shared_bench() -> Path:
    for folder in HERE.parents:
        if (folder / "shared" / "bench" / "make_corpus.py").is_file():
            return folder / "shared" / "bench"
    sys.exit("needs shared/bench/make_corpus.py beside the repository")


def child(log: Path) -> None:
    """One build of `log`, timing its stages; prints them as JSON on the last line."""
    import importlib

    times: dict[str, float] = {}
    started = time.perf_counter()
    for module, name, label in STAGES:
        mod = importlib.import_module(module)
        inner = getattr(mod, name)

        def timed(*args: object, _inner=inner, _label=label, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                times[_label] = times.get(_label, 0.0) + time.perf_counter() - start

        setattr(mod, name, timed)
        if module == "site_builder.incremental":
            importlib.import_module("site_builder.commands").freshness = timed
        if module == "site_builder.state":
            importlib.import_module("site_builder.build").load_state = timed
    from site_builder.cli import main

    times["CLI imports"] = time.perf_counter() - started
    sys.argv = ["logbuild", "-C", str(log), "build", "--today", "2100-01-01"]
    began = time.perf_counter()
    code: object = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    times["total in process"] = time.perf_counter() - began
    print(json.dumps(times))
    if code:
        sys.exit(f"the build failed ({code})")


def measure(n: int, repeat: int, work: Path) -> dict[str, float]:
    log = work / f"log-{n}"
    subprocess.run([sys.executable, str(shared_bench() / "make_corpus.py"), "--n", str(n), "--out",
                    str(log / "entries"), "--format", "yaml"], check=True, stdout=subprocess.DEVNULL)
    (log / "logbuild.toml").write_text('title = "Benchmark log"\nbase_url = "https://example.org/log/"\n')
    build = [sys.executable, __file__, "--child", str(log)]
    subprocess.run(build, check=True, stdout=subprocess.DEVNULL)  # cold
    files = sorted((log / "entries").glob("*.md"))
    runs: list[dict[str, float]] = []
    for i in range(repeat + 1):  # the first edit after a cold build also fills the spare folder: not counted
        target = files[len(files) // 3 + random.randrange(len(files) // 3)]
        with target.open("a", encoding="utf-8") as f:
            f.write(f"\nBenchmark edit {i}.\n")
        started = time.perf_counter()
        out = subprocess.run(build, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - started
        if i:
            stages = json.loads(out.strip().splitlines()[-1])
            inside = stages["CLI imports"] + stages["total in process"]
            covered = sum(v for label, v in stages.items() if label in TOP_LEVEL)
            runs.append({**stages, "other (rendering stack's imports, theme)": stages["total in process"] - covered,
                         "interpreter start and exit": wall - inside, "wall": wall})
    keys = list(dict.fromkeys(k for r in runs for k in r))
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="logbuild-stages-") as tmp:
        rows = {n: measure(n, args.repeat, Path(tmp)) for n in sizes}
    labels = ["CLI imports", *(label for _, _, label in STAGES), "other (rendering stack's imports, theme)",
              "total in process", "interpreter start and exit", "wall"]
    print(f"median of {args.repeat} one-entry edits, seconds; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")
    print("| stage | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for label in labels:
        print(f"| {label} | " + " | ".join(f"{rows[n].get(label, 0.0):.3f}" for n in sizes) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
