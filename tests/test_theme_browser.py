"""The theme in real Chromium over a real build: on a phone a traceback keeps its lines and
scrolls sideways (its ^^^^ markers still point at the code) while the page fits the screen; with
use_directory_urls = false the site works opened from disk (file://)."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import run_logbuild

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SNIPPET = ("values = {'a_rather_long_key_name': 1, 'another_long_key_name': 2, 'and_a_third_one': 3}\n"
           "print(values['a_rather_long_key_name'] + values['another_long_key_name'] + values['missing_key_name'])\n")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_traceback_scrolls_sideways_on_a_phone(tmp_path: Path) -> None:
    root = tmp_path / "log"
    (root / "entries").mkdir(parents=True)
    (root / "snippets").mkdir()
    (root / "logbuild.toml").write_text("", "utf-8")
    (root / "snippets" / "wide.py").write_text(SNIPPET, "utf-8")
    (root / "entries" / "2024-01-01.md").write_text("---\ntitle: Wide\n---\n```{snippet} wide\n```\n", "utf-8")
    built = run_logbuild("-C", root, "build", "--today", "2024-01-01")
    assert built.returncode == 0 and "snippet failed" in built.stderr
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    playwright = pytest.importorskip("playwright.sync_api")
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 375, "height": 800})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/entries/2024-01-01/", wait_until="load")
            found = page.evaluate("""() => {
                const pre = [...document.querySelectorAll('pre')].find(p => p.textContent.includes('^^^^'));
                return pre && {style: getComputedStyle(pre).whiteSpace, scroll: pre.scrollWidth,
                               client: pre.clientWidth, page: document.scrollingElement.scrollWidth,
                               screen: window.innerWidth,
                               lines: pre.textContent.split('\\n').filter(l => l.includes('^^^^')).length};
            }""")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert found, "no traceback with ^^^^ markers on the page"
    assert found["style"] == "pre" and found["lines"] >= 1
    assert found["scroll"] > found["client"]  # wider than the screen: it scrolls instead of wrapping
    assert found["page"] <= found["screen"]  # while the page itself fits the phone


def test_a_site_without_directory_urls_is_browsed_from_disk(tmp_path: Path) -> None:
    root = tmp_path / "log"
    (root / "entries").mkdir(parents=True)
    (root / "logbuild.toml").write_text('title = "From disk"\nuse_directory_urls = false\n', "utf-8")
    for day in ("2024-01-01", "2024-01-02"):
        (root / "entries" / f"{day}.md").write_text(f"---\ntitle: Day {day}\ntags: [disk]\n---\nText.\n", "utf-8")
    assert run_logbuild("-C", root, "build", "--today", "2024-01-02").returncode == 0
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_default_timeout(10_000)
        page.goto((root / "site" / "index.html").as_uri(), wait_until="load")
        page.click(".card-title a:has-text('Day 2024-01-01')")
        page.wait_for_load_state()
        at_entry, heading = page.url, page.text_content("h1")
        page.click("main .tags a >> nth=0")
        page.wait_for_load_state()
        at_tag, listed = page.url, page.text_content("main")
        page.click("a.brand")
        page.wait_for_load_state()
        home = page.url
        browser.close()
    assert at_entry.endswith("/site/entries/2024-01-01/index.html") and heading == "Day 2024-01-01"
    assert at_tag.endswith("/site/tags/disk/index.html") and "Day 2024-01-02" in (listed or "")
    assert home.endswith("/site/index.html")
