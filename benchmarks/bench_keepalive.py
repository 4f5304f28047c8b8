"""How long does the preview server take per response on one reused (keep-alive) connection, against a
fresh connection per request? A tiny log, a real `logbuild serve` process, http.client on loopback.

    .venv/bin/python benchmarks/bench_keepalive.py [--requests 200] [--path /entries/2024-01-01/]

A browser reuses its connection for every page, stylesheet and image, so keep-alive is the case that
matters. Headers and body written separately meet Nagle's algorithm and the client's delayed ACK:
about 40 ms per response on a reused connection. Target: keep-alive median within 2 ms of fresh.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOGBUILD = Path(sys.executable).parent / "logbuild"
ENTRY = "---\ndate: 2024-01-0{day}\ntitle: Day {day}\ntags: [notes]\n---\nWhat I learned on day {day}.\n"


def make_log(root: Path) -> None:
    (root / "entries").mkdir(parents=True)
    for day in (1, 2):
        (root / "entries" / f"2024-01-0{day}.md").write_text(ENTRY.format(day=day), encoding="utf-8")


def start_server(root: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([str(LOGBUILD), "-C", str(root), "serve", "--no-open", "--port", "0",
                             "--today", "2024-01-02"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:  # type: ignore[union-attr]
        found = re.search(r"Serving http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return proc, int(found.group(1))
    proc.wait(timeout=30)
    raise SystemExit("logbuild serve never said where it serves")


def get(conn: http.client.HTTPConnection, path: str) -> float:
    """Milliseconds for one complete response (headers and the whole body) on `conn`."""
    started = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    elapsed = (time.perf_counter() - started) * 1000
    if resp.status != 200 or len(body) != int(resp.getheader("Content-Length", "-1")):
        raise SystemExit(f"{path}: {resp.status}, {len(body)} bytes")
    return elapsed


def keep_alive(port: int, path: str, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        get(conn, path)  # the first request opens the connection; time only the reused ones
        return [get(conn, path) for _ in range(n)]
    finally:
        conn.close()


def fresh(port: int, path: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            times.append(get(conn, path))
        finally:
            conn.close()
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--path", default="/entries/2024-01-01/")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-keepalive-"))
    try:
        make_log(tmp / "log")
        proc, port = start_server(tmp / "log")
        try:
            rows = [(name, run(port, args.path, args.requests))
                    for name, run in (("fresh connection", fresh), ("keep-alive", keep_alive),
                                      ("fresh connection", fresh), ("keep-alive", keep_alive))]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nlogbuild serve, GET {args.path}, {args.requests} requests per row")
    print(f"{'connection':<18} {'median':>9} {'p95':>9} {'max':>9}")
    for name, times in rows:
        print(f"{name:<18} {statistics.median(times):>6.2f} ms {p95(times):>6.2f} ms {max(times):>6.2f} ms")


if __name__ == "__main__":
    main()
