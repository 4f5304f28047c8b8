"""PLAN stage: the pages of a site, their URLs, pagination, tags, archive months and relative roots."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from site_builder.config import SiteConfig
from site_builder.entries import EntryRules, parse_entry
from site_builder.markdown import render_body
from site_builder.model import Page
from site_builder.pages import SiteInputs, entry_url, month_url, plan_pages, root_for, tag_url
from site_builder.streaks import compute_streaks

TODAY = dt.date(2020, 3, 6)


def entry(day: str, tags: str = "", title: str = "", slug_tail: str = ""):
    front = f"---\ntitle: {title or 'Entry ' + day}\ntags: [{tags}]\n---\n"
    path = f"entries/{day}{'-' + slug_tail if slug_tail else ''}.md"
    parsed, problems = parse_entry(path, f"{front}Body of {day}.\n".encode(), EntryRules())
    assert problems == [] and parsed is not None
    return parsed


def plan(entries, per_page: int = 10, base_url: str = "/") -> dict[str, Page]:
    config = SiteConfig(root=Path("."), entries_per_page=per_page, base_url=base_url)
    inputs = SiteInputs(
        config=config, entries=entries, bodies={e.slug: render_body(e.body) for e in entries}, snippets={},
        streaks=compute_streaks([e.date for e in entries], TODAY), today=TODAY, site_digest="d",
    )
    pages = plan_pages(inputs).pages
    urls = [p.url for p in pages]
    assert len(urls) == len(set(urls)), "two pages share a URL"
    return {p.url: p for p in pages}


ENTRIES = [
    entry("2020-01-30", "cnn"),
    entry("2020-02-27", "cnn, pooling"),
    entry("2020-02-28", "keras"),
    entry("2020-02-29", "cnn"),
    entry("2020-03-01", ""),
]


def test_url_helpers() -> None:
    assert entry_url("2020-02-29") == "entries/2020-02-29/"
    assert tag_url("deep-learning") == "tags/deep-learning/"
    assert month_url(dt.date(2020, 2, 29)) == "archive/2020/02/"


@pytest.mark.parametrize(
    "url, root",
    [("", ""), ("feed.xml", ""), ("tags/", "../"), ("entries/2020-02-29/", "../../"),
     ("archive/2020/02/", "../../../")],
)
def test_relative_root(url: str, root: str) -> None:
    assert root_for(url) == root


def test_every_page_is_planned() -> None:
    pages = plan(ENTRIES)
    assert set(pages) == {
        "", "tags/", "tags/cnn/", "tags/pooling/", "tags/keras/",
        "archive/", "archive/2020/01/", "archive/2020/02/", "archive/2020/03/",
        "figures/", "search/", "search.json", "feed.xml", "sitemap.xml", "404.html",
        *(entry_url(e.slug) for e in ENTRIES),
    }
    for page in pages.values():
        if page.template.endswith(".html"):
            assert page.context["page"]["root"] == root_for(page.url) or page.url == "404.html"


def test_404_uses_the_base_path_as_root() -> None:
    pages = plan(ENTRIES, base_url="https://user.github.io/repo/")
    assert pages["404.html"].context["page"]["root"] == "/repo/"
    assert pages["404.html"].output_path == "404.html"
    assert pages["entries/2020-03-01/"].output_path == "entries/2020-03-01/index.html"


def test_pagination_newest_first() -> None:
    pages = plan(ENTRIES, per_page=2)
    homes = ["", "page/2/", "page/3/"]
    assert [u for u in pages if u in homes or u.startswith("page/")] == homes
    assert [c.date.isoformat() for c in pages[""].context["cards"]] == ["2020-03-01", "2020-02-29"]
    assert [c.date.isoformat() for c in pages["page/3/"].context["cards"]] == ["2020-01-30"]
    assert pages[""].context["pager"] == {"number": 1, "count": 3, "prev": None, "next": "page/2/"}
    assert pages["page/2/"].context["pager"] == {"number": 2, "count": 3, "prev": "", "next": "page/3/"}
    assert pages["page/3/"].context["pager"]["next"] is None
    assert pages[""].context["calendars"] and not pages["page/2/"].context["calendars"]


def test_an_empty_log_still_has_a_home_page() -> None:
    pages = plan([])
    assert pages[""].context["cards"] == [] and pages[""].context["pager"]["count"] == 1


def test_tags() -> None:
    pages = plan(ENTRIES)
    assert pages["tags/"].context["tags"] == [("cnn", 3), ("keras", 1), ("pooling", 1)]
    cnn = [c.date.isoformat() for c in pages["tags/cnn/"].context["cards"]]
    assert cnn == ["2020-02-29", "2020-02-27", "2020-01-30"]


def test_archive_months_and_neighbours() -> None:
    pages = plan(ENTRIES)
    months = pages["archive/"].context["months"]
    assert [(m["year"], m["month"], len(m["cards"])) for m in months] == [(2020, 3, 1), (2020, 2, 3), (2020, 1, 1)]
    feb = pages["archive/2020/02/"].context
    assert feb["newer"]["url"] == "archive/2020/03/" and feb["older"]["url"] == "archive/2020/01/"
    assert pages["archive/2020/03/"].context["newer"] is None


def test_entry_neighbours() -> None:
    pages = plan(ENTRIES)
    ctx = pages["entries/2020-02-28/"].context
    assert ctx["prev"]["url"] == "entries/2020-02-27/" and ctx["next"]["url"] == "entries/2020-02-29/"
    assert pages["entries/2020-01-30/"].context["prev"] is None
    assert pages["entries/2020-03-01/"].context["next"] is None


def test_search_index_and_sitemap() -> None:
    pages = plan(ENTRIES)
    records = [r.as_json() for r in pages["search.json"].context["data"]]
    assert [r["d"] for r in records][:2] == ["2020-03-01", "2020-02-29"]
    assert records[-1]["g"] == ["cnn"] and "Body of 2020-01-30" in records[-1]["x"]
    sitemap = pages["sitemap.xml"].context["urls"]
    assert "404.html" not in sitemap and "entries/2020-02-29/" in sitemap


def test_keys_change_only_with_their_inputs() -> None:
    before = plan(ENTRIES)
    edited = [*ENTRIES[:2], entry("2020-02-28", "keras", title="A new title"), *ENTRIES[3:]]
    after = plan(edited)
    changed = {url for url in before if before[url].key != after[url].key}
    # the entry, its neighbours (they show its title), lists that show it, search, feed
    assert {"entries/2020-02-28/", "entries/2020-02-27/", "entries/2020-02-29/", "", "tags/keras/",
            "archive/2020/02/", "search.json", "feed.xml"} <= changed
    assert not changed & {"entries/2020-01-30/", "entries/2020-03-01/", "tags/cnn/", "archive/2020/01/",
                          "archive/2020/03/", "404.html", "search/"}


def test_a_missing_snippet_is_reported_once() -> None:
    text = "---\nsnippets: [listed]\n---\nIntro.\n\n```{snippet} inline\n```\n"
    parsed, _ = parse_entry("entries/2020-01-01.md", text.encode(), EntryRules())
    context = plan([parsed])["entries/2020-01-01/"].context
    assert context["missing_snippets"] == ["listed"]  # `inline` says so where its directive stands


def test_an_entry_pages_key_changes_exactly_when_its_context_does() -> None:
    """Entry pages are keyed by what their context is made of, not by walking the context: for
    every change below, each entry page's key must change if and only if its context did."""
    from site_builder.model import SnippetResult
    from site_builder.pages import context_digest
    from site_builder.undated import UndatedPage

    ran = dt.datetime(2020, 3, 1, tzinfo=dt.timezone.utc)

    def result(stdout: str) -> SnippetResult:
        return SnippetResult("demo", "k", "ok", "print(1)\n", stdout, "", (), 0.5, ran, False)

    def linking(day: str, target: str, extra: str = "") -> object:
        text = f"---\ntitle: Links {day}\nsnippets: [demo]\n---\nSee [that day]({target}).{extra}\n"
        parsed, _ = parse_entry(f"entries/{day}.md", text.encode(), EntryRules())
        return parsed

    about = UndatedPage("pages/about.md", "about/", "About", 0, True, (), (), False, "Hi.\n", 1, "d")

    def site(entries: list, stdout: str = "1\n", today: dt.date = TODAY, undated: tuple = ()) -> dict[str, Page]:
        rules = EntryRules()
        inputs = SiteInputs(
            config=SiteConfig(root=Path(".")), entries=entries,
            bodies={e.slug: render_body(e.body, rules.links_for(e)) for e in entries},
            snippets={"demo": result(stdout)}, streaks=compute_streaks([e.date for e in entries], today),
            today=today, site_digest="d", undated=undated,
            undated_bodies={p.url: render_body(p.body) for p in undated},
        )
        return {p.url: p for p in plan_pages(inputs).pages if p.template == "entry.html"}

    base = [*ENTRIES[:2], linking("2020-02-28", "2020-01-30.md"), *ENTRIES[3:]]  # not a neighbour
    variants = {
        "a neighbour's title": [*ENTRIES[:1], entry("2020-02-27", "cnn", title="Renamed"), *base[2:]],
        "its own text": [*base[:2], linking("2020-02-28", "2020-01-30.md", " More."), *base[3:]],
        "the linked entry's URL": [entry("2020-01-30", "cnn", slug_tail="moved"), *base[1:]],
        "a new neighbour": [*base, entry("2020-03-02")],
    }
    before = site(base)
    cases = [site(entries) for entries in variants.values()]
    cases += [site(base, stdout="2\n"), site(base, today=dt.date(2020, 2, 28)), site(base, undated=(about,))]
    for after in cases:
        for url in before.keys() & after.keys():
            old, new = before[url], after[url]
            assert (old.key != new.key) == (context_digest(old.context, {}) != context_digest(new.context, {})), url
        assert any(before[u].key != after[u].key for u in before.keys() & after.keys())


def test_the_last_plan_is_a_shortcut_never_another_answer() -> None:
    """Planned with the last plan's memo (and a site holding the last plan's pages), every page
    has the key a plan from nothing gives it; and an edit below an entry's first paragraph plans
    only its own page, search.json and the feed anew."""
    from site_builder.model import Figure, SnippetResult
    from site_builder.undated import UndatedPage

    ran = dt.datetime(2020, 3, 1, tzinfo=dt.timezone.utc)
    figure = (Figure("fig-1.png", 640, 480, "A plot"),)  # the figures page shows the entry of each
    about = UndatedPage("pages/about.md", "about/", "About", 0, True, (), (), False, "Hi.\n", 1, "d")

    def with_text(day: str, text: str, tags: str = "cnn", snippets: str = "") -> object:
        front = f"---\ntitle: Entry {day}\ntags: [{tags}]\nsnippets: [{snippets}]\n---\n"
        parsed, _ = parse_entry(f"entries/{day}.md", f"{front}{text}\n".encode(), EntryRules())
        return parsed

    def inputs(entries: list, stdout: str = "1\n", today: dt.date = TODAY, undated: tuple = (), **more: object
               ) -> SiteInputs:
        rules = EntryRules()
        return SiteInputs(
            config=SiteConfig(root=Path("."), entries_per_page=2), entries=entries,
            bodies={e.slug: render_body(e.body, rules.links_for(e)) for e in entries},
            snippets={"demo": SnippetResult("demo", "k", "ok", "print(1)\n", stdout, "", figure, 0.5, ran, False)},
            streaks=compute_streaks([e.date for e in entries], today), today=today, site_digest="d",
            undated=undated, undated_bodies={p.url: render_body(p.body) for p in undated}, **more)

    base = [*ENTRIES[:2], with_text("2020-02-28", "First.\n\nSecond.", snippets="demo"), *ENTRIES[3:]]
    variants = {
        "below the summary": [*base[:3], with_text("2020-02-29", "Body of 2020-02-29.\n\nMore."), *base[4:]],
        "the summary": [*base[:3], with_text("2020-02-29", "Another first paragraph."), *base[4:]],
        "its tags": [*base[:3], with_text("2020-02-29", "Body of 2020-02-29.", tags="keras"), *base[4:]],
        "an entry with snippets": [*base[:2], with_text("2020-02-28", "First.\n\nThird.", snippets="demo"), *base[3:]],
        "a new entry": [*base, entry("2020-03-02")],
        "one fewer": base[1:],
    }
    first = plan_pages(inputs(base))
    site = {(p.output_path, p.key) for p in first.pages}
    cases = [(name, inputs(entries)) for name, entries in variants.items()]
    cases += [("an output", inputs(base, stdout="2\n")), ("today", inputs(base, today=dt.date(2020, 3, 2))),
              ("a page", inputs(base, undated=(about,)))]
    for name, after in cases:
        fresh = plan_pages(after)
        memo = plan_pages(dataclasses.replace(after, memo=first.memo, has_page=lambda path, key: (path, key) in site))
        assert [(p.url, p.key) for p in sorted(memo.pages, key=lambda p: p.url)] == [
            (p.url, p.key) for p in sorted(fresh.pages, key=lambda p: p.url)], name
    edited = dataclasses.replace(inputs(variants["below the summary"]), memo=first.memo,
                                 has_page=lambda path, key: (path, key) in site)
    assert sorted(p.url for p in plan_pages(edited).pages if not p.reused) == [
        "entries/2020-02-29/", "feed.xml", "search.json"]
