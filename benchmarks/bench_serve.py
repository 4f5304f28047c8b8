"""How fast does `logbuild serve` show a save? A 1,000-entry log, a real server process, a real
SSE client: time from writing the file to the `reload` event, and to the new content being served.

    .venv/bin/python benchmarks/bench_serve.py [--n 1000] [--repeat 10]

Scenarios: a one-entry edit (only that page and the lists it appears on re-render) and an edit
of the log's own copy of entry.html (every entry page re-renders). Target: reload <= 300 ms for
the one-entry edit.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from site_builder.serve.events import read_event

REPO = Path(__file__).resolve().parent.parent
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
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
    proc = subprocess.Popen([str(LOGBUILD), "-C", str(log), "serve", "--no-open", "--port", "0", "--today", today],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        started = time.perf_counter()
        port = 0
        for line in proc.stdout:  # type: ignore[union-attr]
            m = re.search(r"Serving http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        cold = time.perf_counter() - started
        events = Events(port)
        events.next("hello")
        time.sleep(1.0)  # let the watcher settle
        rows = []

        target = entries[len(entries) // 2]
        slug = target.stem
        original = target.read_text()
        results = []
        for i in range(args.repeat):
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
        for i in range(args.repeat):
            marker = f"bench-template-edit-{i}-{time.time_ns()}"
            text = base.replace("{% block main %}", "{% block main %}<!-- " + marker + " -->")
            results.append(measure(port, events, lambda t=text: own.write_text(t), f"/entries/{slug}/", marker))
            time.sleep(0.3)
        rows.append(("entry.html template edit", results))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nlogbuild serve, {args.n} entries, {args.repeat} saves each (cold first build + bind: {cold:.1f} s)")
    print(f"{'scenario':<28} {'reload median':>14} {'reload max':>11} {'content median':>15}")
    for name, results in rows:
        reload_ms = [r for r, _ in results]
        content_ms = [c for _, c in results]
        print(f"{name:<28} {statistics.median(reload_ms):>11.0f} ms {max(reload_ms):>8.0f} ms "
              f"{statistics.median(content_ms):>12.0f} ms")


if __name__ == "__main__":
    main()
