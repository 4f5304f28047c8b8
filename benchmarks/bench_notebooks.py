"""Benchmark notebook snippets: what a Jupyter kernel costs, N small notebooks on the cores, and
a no-change build that starts no kernel at all.

Run: .venv/bin/python benchmarks/bench_notebooks.py [--count 8] [--repeat 5]
Measures:
  1. kernel start per notebook: wall time of a one-cell notebook minus that of the same code as a
     .py snippet (both fresh runs through run_snippets, median of --repeat);
  2. --count small notebooks (one ~0.2 s CPU cell each) with 1 job and with 2 jobs;
  3. a full build of a log linking them, then the same build again with nothing changed: the
     second must run 0 snippets, and /proc is watched throughout for an ipykernel process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from site_builder.build import build_site
from site_builder.builds import BuildOptions
from site_builder.config import load_config
from site_builder.snippets import SnippetSettings, run_snippets

WORK = "total = sum(i * i for i in range({loops}))\nprint(total % 1000, {n})"


def write_notebook(path: Path, code: str) -> None:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": code.splitlines(keepends=True)}
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path.write_text(json.dumps({"cells": [cell], "metadata": meta, "nbformat": 4, "nbformat_minor": 5}, indent=1))


def timed(names: list[str], settings: SnippetSettings) -> float:
    start = time.perf_counter()
    results = run_snippets(names, settings)
    assert all(r.status == "ok" for r in results.values()), [r.traceback for r in results.values()]
    return time.perf_counter() - start


class KernelWatch:
    """Scans /proc every 20 ms for a kernel of this log (ipykernel, its connection file in the log's
    work folders); counts the distinct ones seen."""

    def __init__(self, root: Path) -> None:
        self.marker = str(root).encode()
        self.seen: set[int] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()

    def _watch(self) -> None:
        while not self.stop.is_set():
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"ipykernel" in cmdline and self.marker in cmdline:
                        self.seen.add(int(pid))
                except OSError:
                    pass
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nb-") as tmp:
        root = Path(tmp)
        snippets = root / "snippets"
        snippets.mkdir()
        (snippets / "tiny.py").write_text("print(1)\n")
        write_notebook(snippets / "tiny_nb.ipynb", "print(1)")
        settings = SnippetSettings(root, snippets, root / ".logbuild", fresh=True, jobs=1)
        py = [timed(["tiny"], settings) for _ in range(args.repeat)]
        nb = [timed(["tiny_nb"], settings) for _ in range(args.repeat)]
        start = statistics.median(nb) - statistics.median(py)
        print(f"one-cell .py snippet:  median {statistics.median(py):.2f} s (of {args.repeat})")
        print(f"one-cell notebook:     median {statistics.median(nb):.2f} s (of {args.repeat})")
        print(f"kernel start per notebook: {start:.2f} s")

        names = []
        for n in range(args.count):
            names.append(f"nb{n}")
            write_notebook(snippets / f"nb{n}.ipynb", WORK.format(loops=2_000_000, n=n))
        one = timed(names, SnippetSettings(root, snippets, root / ".logbuild", fresh=True, jobs=1))
        two = timed(names, SnippetSettings(root, snippets, root / ".logbuild", fresh=True, jobs=2))
        print(f"{args.count} small notebooks, 1 job:  {one:.2f} s")
        print(f"{args.count} small notebooks, 2 jobs: {two:.2f} s  (speed-up {one / two:.2f}x on {os.cpu_count()} cores)")

        (root / "entries").mkdir()
        links = ", ".join(names)
        (root / "entries" / "2024-01-01.md").write_text(f"---\ntitle: All\nsnippets: [{links}]\n---\nWords.\n")
        (root / "logbuild.toml").write_text('title = "Bench"\nbase_url = "https://example.org/"\n')
        config, problems = load_config(root)
        assert not problems, problems
        cold = KernelWatch(root)
        first = build_site(config, BuildOptions(jobs=2, fresh=True))
        cold.close()
        print(f"first build (--fresh): {first.snippets.ran} ran, {len(cold.seen)} kernel processes seen")
        for label, edit in (("no-change build", ""), ("prose-edit build", "More words.\n")):
            entry = root / "entries" / "2024-01-01.md"
            entry.write_text(entry.read_text() + edit)
            warm = KernelWatch(root)
            started = time.perf_counter()
            again = build_site(config, BuildOptions(jobs=2))
            seconds = time.perf_counter() - started
            warm.close()
            print(f"{label}: {again.snippets.ran} ran, {again.snippets.cached} cached, "
                  f"{len(warm.seen)} kernel processes seen, {seconds:.2f} s")
            assert again.snippets.ran == 0 and not warm.seen, "an unchanged notebook must start no kernel"


if __name__ == "__main__":
    main()
