"""How fast does `logbuild serve` show a save? A 1,000-entry log, a real server process, a real
SSE client: time from writing the file to the `reload` event, and to the new content being served.

    .venv/bin/python benchmarks/bench_serve.py [--n 1000] [--repeat 10]

Scenarios: a one-entry edit (only that page and the lists it appears on re-render) and an edit
of the log's own copy of entry.html (every entry page re-renders). Target: reload <= 300 ms for
the one-entry edit.

The notebook scenario (`--scenario notebook`) does the same with a two-cell notebook (a kernel
per run, warm or not: the warm worker spares only the harness's Jupyter client).

The snippet scenario (`--scenario snippet`) saves a numpy + matplotlib snippet that an entry links,
with a new figure title each time, and times the save to the first reload, to the reload that
brings the new figure, and to the page serving it (its <img alt> and the PNG behind it), once
with `serve --cold-snippets` (a fresh interpreter per run, as builds do) and once with the warm
workers. Target: the new figure served <= 300 ms after the save, warm.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from site_builder.serve.events import read_event

REPO = Path(__file__).resolve().parent.parent
MAKE_CORPUS = next((p for p in (REPO.parent / "shared" / "bench" / "make_corpus.py",
                                REPO.parent.parent / "shared" / "bench" / "make_corpus.py") if p.is_file()),
                   REPO.parent / "shared" / "bench" / "make_corpus.py")
FIGURE_SNIPPET = """\
import numpy as np
import matplotlib.pyplot as plt

x = np.linspace(0, 2 * np.pi, 200)
plt.plot(x, np.sin({k} * x))
plt.title("{marker}")
print("{marker}")
plt.show()
"""
LOGBUILD = Path(sys.executable).parent / "logbuild"


class Events:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.sendall(b"GET /__logbuild/events HTTP/1.1\r\nHost: bench\r\n\r\n")
        self.file = self.sock.makefile("rb")
        while self.file.readline() not in (b"\r\n", b""):
            pass

    def next(self, kind: str) -> dict[str, object]:
        while True:
            got = read_event(iter(self.file.readline, b""))
            if got is None:
                raise SystemExit("the event stream ended")
            event, data = got
            if event == kind:
                return json.loads(data)
            if event == "status" and json.loads(data)["errors"]:
                raise SystemExit(f"build failed: {data}")


def fetch(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    body = conn.getresponse().read()
    conn.close()
    return body


def measure(port: int, events: Events, change: callable, url: str, marker: str) -> tuple[float, float]:
    """(ms to the reload event, ms until `url` serves `marker`) after `change()`."""
    started = time.perf_counter()
    change()
    events.next("reload")
    reloaded = time.perf_counter()
    while marker.encode() not in fetch(port, url):
        if time.perf_counter() - started > 60:
            raise SystemExit(f"{url} never showed {marker!r}")
        time.sleep(0.005)
    return (reloaded - started) * 1000, (time.perf_counter() - started) * 1000


def measure_snippet(port: int, events: Events, change: callable, url: str, shown: bytes
                    ) -> tuple[float, float, float]:
    """(ms to the first reload, ms to the reload whose page shows `shown` (a figure's alt text),
    ms until that page and the PNG of its first figure are served) after `change()`."""
    started = time.perf_counter()
    change()
    events.next("reload")
    first = time.perf_counter()
    while True:
        page = fetch(port, url)
        if shown in page:
            break
        if time.perf_counter() - started > 120:
            raise SystemExit(f"{url} never showed {shown!r}")
        events.next("reload")
    figure_reload = time.perf_counter()
    img = re.search(rb'<img[^>]*src="([^"]+)"[^>]*' + re.escape(shown), page) or re.search(
        rb'<img[^>]*' + re.escape(shown) + rb'[^>]*src="([^"]+)"', page) or re.search(
        rb'<img[^>]*src="([^"]*figures/[^"]+)"', page)
    if img is None:
        raise SystemExit(f"no <img> on {url}")
    src = img.group(1).decode()
    png = fetch(port, urllib.parse.urljoin(url, src))
    if not png.startswith(b"\x89PNG"):
        raise SystemExit(f"{src} did not serve a PNG")
    served = time.perf_counter()
    return (first - started) * 1000, (figure_reload - started) * 1000, (served - started) * 1000


BREAKDOWN: dict[str, list[tuple[list[float], list[float]]]] = {}  # per save: (builds, runs) serve reported
SAID: list[str] = []  # what the serve being measured printed since the last save


def start_serve(log: Path, today: str, *extra: str) -> tuple[subprocess.Popen[str], int, float]:
    proc = subprocess.Popen([str(LOGBUILD), "-C", str(log), "serve", "--no-open", "--port", "0", "--today", today,
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.perf_counter()
    for line in proc.stdout:  # type: ignore[union-attr]
        m = re.search(r"Serving http://127\.0\.0\.1:(\d+)/", line)
        if m:
            threading.Thread(target=lambda: SAID.extend(proc.stdout), daemon=True).start()  # keep draining
            return proc, int(m.group(1)), time.perf_counter() - started
    raise SystemExit("serve did not start")


def said_seconds() -> tuple[list[float], list[float]]:
    """(build seconds, snippet-run seconds) serve printed since the last call."""
    lines, SAID[:] = list(SAID), []
    builds = [float(m.group(1)) for line in lines if (m := re.search(r"^Built .* in ([0-9.]+) s", line))]
    runs = [float(m.group(1)) for line in lines if (m := re.search(r"^Ran \d+ snippet\(s\) in ([0-9.]+) s", line))]
    return builds, runs


def stop_serve(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def entry_scenarios(log: Path, entries: list[Path], today: str, repeat: int) -> tuple[float, list[Any]]:
    proc, port, cold = start_serve(log, today)
    rows: list[Any] = []
    try:
        events = Events(port)
        events.next("hello")
        time.sleep(1.0)  # let the watcher settle

        target = entries[len(entries) // 2]
        slug = target.stem
        original = target.read_text()
        results = []
        for i in range(repeat):
            marker = f"bench-entry-edit-{i}-{time.time_ns()}"
            results.append(measure(port, events, lambda m=marker: target.write_text(original + f"\n{m}\n"),
                                   f"/entries/{slug}/", marker))
            time.sleep(0.3)
        rows.append(("one-entry edit", results))

        theme = REPO / "templates" / "entry.html"
        own = log / "templates" / "entry.html"
        own.parent.mkdir()
        base = theme.read_text()
        first = "<!-- bench-template-copy -->"
        measure(port, events, lambda: own.write_text(base.replace("{% block main %}", "{% block main %}" + first)),
                f"/entries/{slug}/", first)
        time.sleep(0.3)
        results = []
        for i in range(repeat):
            marker = f"bench-template-edit-{i}-{time.time_ns()}"
            text = base.replace("{% block main %}", "{% block main %}<!-- " + marker + " -->")
            results.append(measure(port, events, lambda t=text: own.write_text(t), f"/entries/{slug}/", marker))
            time.sleep(0.3)
        rows.append(("entry.html template edit", results))
        shutil.rmtree(own.parent)
    finally:
        stop_serve(proc)
    return cold, rows


def notebook_text(marker: str, k: int) -> str:
    cells = [f"import numpy as np\nprint('{marker}'.upper())",  # upper: the output, not the source shown
             f"import matplotlib.pyplot as plt\nplt.plot(np.sin({k} * np.linspace(0, 6, 100)))\nplt.show()"]
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                                  "execution_count": None} for c in cells],
                       "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                   "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5})


def snippet_scenario(log: Path, today: str, slug: str, repeat: int, mode: str, kind: str
                     ) -> list[tuple[float, float, float]]:
    """Saves of snippets/bench_figure.py (or bench_notebook.ipynb), linked from the entry `slug`,
    under `serve` in `mode`."""
    if kind == "py":
        snippet = log / "snippets" / "bench_figure.py"
        text_for = lambda marker, k: FIGURE_SNIPPET.format(k=k, marker=marker)
        shown_for = lambda marker: f'alt="{marker}"'.encode()
    else:
        snippet = log / "snippets" / "bench_notebook.ipynb"
        text_for, shown_for = notebook_text, lambda marker: marker.upper().encode()
    snippet.write_text(text_for("bench-start", 1))
    proc, port, _ = start_serve(log, today, *(["--cold-snippets"] if mode == "cold" else []))
    try:
        events = Events(port)
        events.next("hello")
        url = f"/entries/{slug}/"
        deadline = time.monotonic() + 300
        while shown_for("bench-start") not in fetch(port, url):  # the first run, in the background
            if time.monotonic() > deadline:
                raise SystemExit("the snippet never ran at the start")
            time.sleep(0.2)
        time.sleep(3.0)  # let the watcher and the warm worker settle
        results = []
        said_seconds()
        for i in range(repeat):
            marker = f"bench-{kind}-{mode}-{i}-{time.time_ns()}"
            text = text_for(marker, i + 2)
            results.append(measure_snippet(port, events, lambda t=text: snippet.write_text(t), url, shown_for(marker)))
            time.sleep(1.0)
            builds, runs = said_seconds()
            BREAKDOWN.setdefault(f"{kind} {mode}", []).append((builds, runs))
    finally:
        stop_serve(proc)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--scenario", choices=("all", "entries", "snippet", "notebook"), default="all")
    args = parser.parse_args()
    if not MAKE_CORPUS.is_file():
        raise SystemExit(f"needs {MAKE_CORPUS} (the shared/ folder beside the repo)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    log = tmp / "log"
    log.mkdir()
    subprocess.run([sys.executable, str(MAKE_CORPUS), "--n", str(args.n), "--out", str(log / "corpus"),
                    "--format", "yaml"], check=True, capture_output=True)
    (log / "logbuild.toml").write_text('title = "Bench"\nentries_dir = "corpus"\n')
    entries = sorted((log / "corpus").glob("*.md"))
    today = entries[-1].stem[:10]
    (log / "snippets").mkdir()
    (log / "snippets" / "bench_figure.py").write_text(FIGURE_SNIPPET.format(k=1, marker="bench-figure-start"))
    last = entries[-1]  # links the snippet for its scenario (one entry a day)
    rows: list[Any] = []
    snippet_rows: list[Any] = []
    cold = 0.0
    try:
        if args.scenario in ("all", "entries"):
            cold, rows = entry_scenarios(log, entries, today, args.repeat)
        last.write_text(last.read_text() + "\n```{snippet} bench_figure\n```\n\n```{snippet} bench_notebook\n```\n")
        (log / "snippets" / "bench_notebook.ipynb").write_text(notebook_text("bench-start", 1))
        for kind, scenario in (("py", "snippet"), ("notebook", "notebook")):
            if args.scenario in ("all", scenario):
                for mode in ("cold", "warm"):
                    name = f"{'.py' if kind == 'py' else '.ipynb'} save, {mode}"
                    snippet_rows.append((name, snippet_scenario(log, today, last.stem, args.repeat, mode, kind)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nlogbuild serve, {args.n} entries, {args.repeat} saves each (load average now {load})")
    if rows:
        print(f"(cold first build + bind: {cold:.1f} s)")
        print(f"{'scenario':<28} {'reload median':>14} {'reload max':>11} {'content median':>15}")
        for name, results in rows:
            reload_ms = [r for r, _ in results]
            content_ms = [c for _, c in results]
            print(f"{name:<28} {statistics.median(reload_ms):>11.0f} ms {max(reload_ms):>8.0f} ms "
                  f"{statistics.median(content_ms):>12.0f} ms")
    if snippet_rows:
        print(f"\n{'scenario':<22} {'first reload':>13} {'figure reload':>14} {'figure served':>14} "
              f"{'served max':>11}   (medians, ms after the save)")
        for name, results in snippet_rows:
            first = statistics.median(r[0] for r in results)
            reload_ = statistics.median(r[1] for r in results)
            served = [r[2] for r in results]
            print(f"{name:<22} {first:>10.0f} ms {reload_:>11.0f} ms {statistics.median(served):>11.0f} ms "
                  f"{max(served):>8.0f} ms")
        print("\nwhere the time goes, as serve reports it (medians over the saves):")
        for mode, saves in BREAKDOWN.items():
            builds = statistics.median(len(b) for b, _ in saves)
            each = statistics.median(x for b, _ in saves for x in b) if any(b for b, _ in saves) else 0.0
            run = statistics.median(r[0] for _, r in saves if r)
            print(f"  {mode}: {builds:g} build(s) per save, {each * 1000:.0f} ms each; "
                  f"the snippet's run (plan, run, store) {run * 1000:.0f} ms")


if __name__ == "__main__":
    main()
