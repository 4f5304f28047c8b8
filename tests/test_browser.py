"""The built fixture site in headless Chromium: search, calendar, phone layout, dark mode, accessibility.

Screenshots of the home and an entry page (desktop and phone, light and dark) land in
`$LOGBUILD_SCREENSHOTS` if set, else in the test's temporary folder.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import BuiltSite

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),  # one Chromium per worker; builds its own copy of the site
    # `make test` installs this tool; in CI a missing one must fail, not skip
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"), reason="needs Debian's chromium"),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # the browser hung up on a lazy image: fine


@pytest.fixture(scope="module")
def base_url(site: BuiltSite) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site.out))
    server = _Server(("127.0.0.1", 0), handler)  # port 0: a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, base_url: str) -> Iterator[Any]:
    """open_page(path, width=1280, dark=False) -> a loaded page; fails the test on any console error."""
    contexts: list[Any] = []
    errors: list[str] = []

    def opener(path: str, width: int = 1280, dark: bool = False) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      color_scheme="dark" if dark else "light")
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(f"{path}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"{path}: {e}"))
        # a request cut short because the test navigated on (net::ERR_ABORTED) is not a broken page
        page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
                else errors.append(f"{path}: failed {r.url} ({r.failure})"))
        response = page.goto(base_url + path, wait_until="load")
        assert response is not None and response.status == 200, path
        return page

    yield opener
    for context in contexts:
        context.close()
    assert errors == []


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("LOGBUILD_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


PAGES = ["", "entries/2020-02-29/", "entries/2020-02-28/", "tags/", "archive/", "search/", "figures/", "404.html"]


@pytest.mark.parametrize("path", PAGES)
def test_no_console_errors_and_accessibility_basics(open_page: Any, path: str) -> None:
    page = open_page(path)
    facts = page.evaluate("""() => ({
        h1: document.querySelectorAll('h1').length,
        imgsWithoutAlt: [...document.images].filter(i => !i.hasAttribute('alt')).map(i => i.src),
        main: document.querySelectorAll('main').length,
        header: document.querySelectorAll('body > header').length,
        footer: document.querySelectorAll('body > footer').length,
        nav: document.querySelectorAll('nav').length,
        lang: document.documentElement.lang,
        title: document.title,
        unlabelled: [...document.querySelectorAll('input:not([type=hidden]):not([disabled])')]
            .filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map(i => i.outerHTML),
    })""")
    assert facts["h1"] == 1
    assert facts["imgsWithoutAlt"] == []
    assert (facts["main"], facts["header"], facts["footer"]) == (1, 1, 1) and facts["nav"] >= 1
    assert facts["lang"] == "en" and facts["title"]
    assert facts["unlabelled"] == []


def test_focus_is_visible(open_page: Any) -> None:
    page = open_page("")
    page.keyboard.press("Tab")
    skip = page.evaluate("""() => { const a = document.activeElement, s = getComputedStyle(a);
        const r = a.getBoundingClientRect();
        return {text: a.textContent, outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                onScreen: r.left >= 0 && r.top >= 0 && r.width > 0}; }""")
    assert skip["text"] == "Skip to content" and skip["onScreen"]
    assert skip["outline"] != "none" and skip["width"] >= 2
    for _ in range(2):
        page.keyboard.press("Tab")
    link = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert link[0] == "A" and link[1] != "none" and link[2] >= 2


@pytest.mark.parametrize("query, expected", [("zebrafish", "Starting with pooling"), ("keras", "Convolutions by hand"),
                                             ("data-sets", "Saturday, 29 February 2020")])
def test_search_finds_by_body_word_and_tag(open_page: Any, query: str, expected: str) -> None:
    page = open_page("search/")
    page.fill("#q", query)
    page.wait_for_selector("#search-results li")
    titles = page.locator("#search-results .card-title").all_inner_texts()
    assert titles[0] == expected
    assert "found" in page.inner_text("#search-status")


def test_search_from_the_header_box(open_page: Any) -> None:
    page = open_page("entries/2020-02-28/")
    page.fill("#q-top", "zebrafish")
    page.press("#q-top", "Enter")
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results .card-title").all_inner_texts() == ["Starting with pooling"]
    page.click("#search-results .card-title a")
    page.wait_for_load_state()
    assert page.url.endswith("/entries/2020-02-27/")


def test_search_with_no_match_says_so(open_page: Any) -> None:
    page = open_page("search/?q=xylophone")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('Nothing')")
    assert page.locator("#search-results li").count() == 0


def test_calendar_has_a_link_per_logged_day(open_page: Any) -> None:
    page = open_page("")
    hrefs = page.eval_on_selector_all("svg.calendar a", "as => as.map(a => a.getAttribute('href'))")
    assert hrefs == [f"entries/{d}/" for d in
                     ("2020-02-27", "2020-02-28", "2020-02-29", "2020-03-01", "2020-03-05", "2020-03-20")]
    tooltip = page.eval_on_selector("svg.calendar a rect title", "t => t.textContent")
    assert tooltip == "Thu 27 Feb 2020: Starting with pooling"
    page.click("svg.calendar a[href='entries/2020-02-29/'] rect")
    page.wait_for_load_state()
    assert page.url.endswith("/entries/2020-02-29/")


@pytest.mark.parametrize("path", PAGES)
def test_no_horizontal_overflow_on_a_phone(open_page: Any, path: str) -> None:
    page = open_page(path, width=375)
    width = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{path} is {width[0]} px wide at {width[1]} px"


def test_dark_mode_changes_the_background(open_page: Any) -> None:
    colour = "() => getComputedStyle(document.body).backgroundColor"
    light = open_page("").evaluate(colour)
    dark = open_page("", dark=True).evaluate(colour)
    assert light != dark

    def luminance(css: str) -> float:
        r, g, b = (int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert luminance(dark) < 60 and luminance(light) > 200


def _contrast(page: Any, selector: str) -> float:
    """WCAG contrast ratio of the first `selector`'s text against the nearest opaque background."""
    return page.eval_on_selector(selector, """el => {
        const rgb = c => c.match(/[\\d.]+/g).map(Number);
        const lum = ([r, g, b]) => { const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
                                      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
        let bg = el, c;
        while (bg && ((c = rgb(getComputedStyle(bg).backgroundColor)).length === 4 && c[3] === 0)) bg = bg.parentElement;
        const fg = lum(rgb(getComputedStyle(el).color)), back = lum(bg ? c : [255, 255, 255]);
        return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
    }""")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_contrast(open_page: Any, dark: bool) -> None:
    home = open_page("", dark=dark)
    for selector in ("body", ".meta", ".tags a", ".stat dt", ".site-header nav a", ".site-footer"):
        assert _contrast(home, selector) >= 4.5, selector
    entry = open_page("entries/2020-02-29/", dark=dark)
    for selector in (".badge", ".snippet-meta", ".prose p"):
        assert _contrast(entry, selector) >= 4.5, selector


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_math_is_laid_out_and_callouts_are_readable(open_page: Any, dark: bool) -> None:
    """MathML Core, with no script: Chromium stacks a fraction (taller than a line of text)."""
    page = open_page("entries/2020-02-28/", dark=dark)
    sizes = page.evaluate("""() => {
        const box = s => document.querySelector(s).getBoundingClientRect();
        return {fraction: box('.math-display mfrac').height, line: box('.prose p math').height,
                over: box('mfrac > :first-child').bottom, under: box('mfrac > :last-child').top};
    }""")
    assert sizes["fraction"] > 1.5 * sizes["line"] > 0 and sizes["over"] <= sizes["under"]
    for selector in (".callout-title", ".callout p:not(.callout-title)"):
        assert _contrast(page, selector) >= 4.5, selector


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_screenshots(open_page: Any, shots: Path, width: int, dark: bool) -> None:
    scheme = "dark" if dark else "light"
    for name, path in (("home", ""), ("entry", "entries/2020-02-29/")):
        page = open_page(path, width=width, dark=dark)
        file = shots / f"{name}-{width}-{scheme}.png"
        page.screenshot(path=str(file), full_page=True)
        assert file.stat().st_size > 10_000
