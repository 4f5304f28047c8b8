"""Undated pages: pages/about.md becomes /about/, in the navigation, search and sitemap, never in a
streak, the calendar, the archive or the feed; an incremental build stays equal to a clean one."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from site_machine import build, clean_build, read_tree, tree_difference

from site_builder.undated import nav_links, page_url, parse_undated_page

D = dt.date


def page(text: str, path: str = "pages/about.md") -> tuple[object, list[str]]:
    parsed, problems = parse_undated_page(path, page_url(path.removeprefix("pages/")), text.encode(), None)
    return parsed, [p.format() for p in problems]


@pytest.mark.parametrize(("rel", "url"), [
    ("about.md", "about/"), ("projects/index.md", "projects/"), ("Reading List.md", "reading-list/"),
    ("notes/ML notes.md", "notes/ml-notes/"), ("../../x.md", "page/page/x/"),
])  # fmt: skip
def test_page_urls(rel: str, url: str) -> None:
    assert page_url(rel) == url


def test_title_from_front_matter_then_heading_then_file_name() -> None:
    titled, _ = page("---\ntitle: Who I am\n---\n# Ignored heading\ntext\n")
    headed, _ = page("# About me\n\ntext\n")
    named, _ = page("text\n", "pages/reading-list.md")
    assert [p.title for p in (titled, headed, named)] == ["Who I am", "About me", "Reading list"]  # type: ignore[attr-defined]
    assert headed.body == "\ntext\n" and headed.body_first_line == 2  # type: ignore[attr-defined]


def test_problems_are_at_their_lines() -> None:
    _, problems = page("---\ntitle: About\nnav_order: 2\ndate: 2020-01-01\nweight: high\n---\ntext\n")
    assert problems == [
        "pages/about.md:3: warning: unknown front matter key 'nav_order' (logbuild calls it 'weight')",
        ("pages/about.md:4: warning: unknown front matter key 'date' (a page has no date; move it to entries/"
         " to make it a day of the log)"),
        "pages/about.md:5: 'weight' must be a whole number, not 'high'",
    ]


def test_a_page_may_not_hide_the_sites_own_pages() -> None:
    parsed, problems = page("text\n", "pages/tags.md")
    assert parsed is None
    assert problems == [("pages/tags.md:1: a page at /tags/ would hide the site's own page there "
                         "(rename the file, e.g. pages/about.md)")]


def test_navigation_order_is_weight_then_title() -> None:
    texts = {"pages/b.md": "---\nweight: 1\n---\n# Beta\n", "pages/a.md": "---\nweight: 1\n---\n# Alpha\n",
             "pages/z.md": "---\nweight: -5\n---\n# Zed\n", "pages/hidden.md": "---\nnav: false\n---\n# Hidden\n"}
    pages = [page(text, path)[0] for path, text in texts.items()]
    assert nav_links(pages) == [{"url": "z/", "title": "Zed"}, {"url": "a/", "title": "Alpha"},  # type: ignore[arg-type]
                                {"url": "b/", "title": "Beta"}]


def _log(root: Path) -> Path:
    (root / "entries").mkdir(parents=True)
    (root / "pages" / "notes").mkdir(parents=True)
    (root / "snippets").mkdir()
    (root / "logbuild.toml").write_text('title = "Pages log"\n')
    (root / "snippets" / "hello.py").write_text("print('hello from a page')\n")
    (root / "entries" / "2024-03-01.md").write_text("---\ndate: 2024-03-01\n---\nDay one. [About](../pages/about.md)\n")
    (root / "entries" / "2024-03-02.md").write_text("---\ndate: 2024-03-02\n---\nDay two.\n")
    (root / "pages" / "about.md").write_text(
        "---\nweight: 2\n---\n# About me\n\nI keep a [log](../entries/2024-03-01.md) of zebrafish.\n\n"
        "```{snippet} hello\n```\n")
    (root / "pages" / "notes" / "reading.md").write_text("---\ntitle: Reading list\nweight: 1\n---\n* a book\n")
    return root


def test_pages_are_built_like_entries_without_a_date(tmp_path: Path) -> None:
    root = _log(tmp_path / "log")
    _, diagnostics = build(root, tmp_path / "site", D(2024, 3, 2))
    assert diagnostics == []
    site = tmp_path / "site"
    about = (site / "about" / "index.html").read_text()
    assert "<h1>About me</h1>" in about and "hello from a page" in about
    assert 'href="../entries/2024-03-01/"' in about  # a relative link to an entry file, as in entries
    assert 'href="../../about/"' in (site / "entries" / "2024-03-01" / "index.html").read_text()
    home = (site / "index.html").read_text()
    nav = re.search(r'<nav aria-label="Site">(.*?)</nav>', home, re.DOTALL).group(1)  # type: ignore[union-attr]
    assert re.findall(r'href="([^"]+)">([^<]+)<', nav)[:3] == [
        ("notes/reading/", "Reading list"), ("about/", "About me"), ("archive/", "Archive")]
    records = json.loads((site / "search.json").read_text())
    assert {"t": "About me", "u": "about/", "d": ""} == {k: v for k, v in records[-2].items() if k in "tud"}
    assert "zebrafish" in records[-2]["x"]
    assert "about/" in (site / "sitemap.xml").read_text()
    for not_there in ("feed.xml", "archive/index.html", "archive/2024/03/index.html", "tags/index.html"):
        assert "zebrafish" not in (site / not_there).read_text() and "About me</a></h" not in (site / not_there).read_text()
    assert "About me</a></h" not in home.split("</header>", 1)[1]  # not a card on the home page
    assert "2 days" in home or ">2<" in home  # the streak counts the two entries only


def test_incremental_build_equals_clean_when_pages_change(tmp_path: Path) -> None:
    root = _log(tmp_path / "log")
    site, clean = tmp_path / "site", tmp_path / "clean"
    steps = [
        lambda: (root / "pages" / "projects.md").write_text("---\nweight: 0\n---\n# Projects\nA robot.\n"),
        lambda: (root / "pages" / "about.md").write_text("# About\n\nShorter now.\n"),
        lambda: (root / "pages" / "notes" / "reading.md").unlink(),
        lambda: shutil.rmtree(root / "pages"),
    ]
    build(root, site, D(2024, 3, 2))
    for step in steps:
        step()
        incremental = build(root, site, D(2024, 3, 2))[1]
        assert incremental == clean_build(root, clean, D(2024, 3, 2))
        assert tree_difference(read_tree(site), read_tree(clean)) is None
    assert not (site / "about").exists() and "Projects" not in (site / "index.html").read_text()


def test_init_writes_an_about_page_that_builds(tmp_path: Path) -> None:
    from site_builder.scaffold import init_log

    init_log(tmp_path / "log", today=D(2024, 3, 1))
    text = (tmp_path / "log" / "pages" / "about.md").read_text()
    assert text.startswith("---\ntitle: About\nweight: 1\n---\n")
    (tmp_path / "log" / "entries" / "2024-03-01.md").write_text("---\ndate: 2024-03-01\n---\nNo snippet today.\n")
    (tmp_path / "log" / "snippets" / "first_plot.py").unlink()  # no entry links it now: a warning otherwise
    _, diagnostics = build(tmp_path / "log", tmp_path / "site", D(2024, 3, 1))
    assert diagnostics == []
    assert '<a href="about/">About</a>' in (tmp_path / "site" / "index.html").read_text()
