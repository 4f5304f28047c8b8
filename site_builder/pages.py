"""PLAN: every page of the site as a Page(url, template, context, key). Pure: no I/O, no clock
(but for SiteInputs.has_page, which the build gives to ask what the site has).

A page's `key` digests exactly what its context is made of, so the render stage can skip a page
whose inputs did not change since the last build: a list page's by walking its context, an entry
page's (one per entry, the many) from the few values its context is built from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from .calendar import CalendarYear, calendar_years
from .config import SiteConfig
from .links import file_url, resolve_entry_links
from .model import Entry, Page, PlanMemo, RenderedBody, SnippetResult, output_path
from .snippet_view import snippet_view
from .streaks import Streaks
from .undated import UndatedPage, nav_links

FEED_SIZE = 20
T = TypeVar("T")


@dataclass(frozen=True)
class Card:
    """An entry as lists show it."""

    slug: str
    url: str
    title: str
    date: dt.date
    tags: tuple[str, ...]
    summary: str
    figures: int = 0


@dataclass(frozen=True)
class SiteInputs:
    """Everything page planning reads, gathered by the build."""

    config: SiteConfig
    entries: Sequence[Entry]  # published entries, ascending by date
    bodies: Mapping[str, RenderedBody]  # slug -> body
    snippets: Mapping[str, SnippetResult]
    streaks: Streaks
    today: dt.date
    site_digest: str  # configuration, theme, options: mixed into every key
    undated: Sequence[UndatedPage] = ()  # pages/: in the navigation and search, never in lists or the feed
    undated_bodies: Mapping[str, RenderedBody] = field(default_factory=dict)  # page url -> body
    # id() of a large cached value (an entry, a rendered body) -> the cache key it was made from,
    # its digest: it is not walked again for every page (they must outlive plan_pages)
    made_from: Mapping[int, str] = field(default_factory=dict)
    # (output path, key) -> whether the site has that page already: an entry page it has is
    # planned without its context (Page.reused), as nothing will render it
    has_page: Callable[[str, str], bool] = lambda path, key: False
    memo: PlanMemo = field(default_factory=PlanMemo)  # the last plan's, with its page keys


@dataclass(frozen=True)
class Plan:
    pages: list[Page]
    memo: PlanMemo  # for the next plan, once this one's pages are in the site


def entry_url(slug: str) -> str:
    return f"entries/{slug}/"


def tag_url(tag: str) -> str:
    return f"tags/{tag}/"


def month_url(day: dt.date) -> str:
    return f"archive/{day.year}/{day.month:02d}/"


def root_for(url: str) -> str:
    """The relative way back to the site root from a page at `url` (works under any subpath)."""
    return "../" * url.count("/")


def digest(*parts: Any) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def context_digest(value: Any, seen: dict[int, str]) -> str:
    """A digest of everything a page is rendered from, so a page's key cannot forget an input:
    whatever is in the context is in the key. `seen` memoises frozen values (cards, entries
    shared by many pages) by identity, so it must not outlive them; it may start with the cache
    keys that large values were made from (SiteInputs.made_from)."""
    return hashlib.sha1(_encode(value, seen).encode("utf-8", "surrogatepass")).hexdigest()


def _encode(value: Any, seen: dict[int, str]) -> str:
    """JSON's C encoder walks the plain values; dataclasses and dates are handed to `_part`."""
    return json.dumps(value, default=lambda o: _part(o, seen), ensure_ascii=False, check_circular=False,
                      separators=(",", ":"))


def _part(value: Any, seen: dict[int, str]) -> Any:
    known = seen.get(id(value))  # first: most values handed here are shared ones walked before
    if known is not None:
        return known
    if isinstance(value, dt.date):
        return ["date", value.isoformat()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if id(value) not in seen:
            fields = [getattr(value, f.name) for f in dataclasses.fields(value)]
            seen[id(value)] = type(value).__name__ + context_digest(fields, seen)
        return seen[id(value)]
    raise TypeError(f"a page context holds a {type(value).__name__}, which has no digest")


def plan_pages(site: SiteInputs) -> Plan:
    seen = dict(site.made_from)  # values shared by many pages (cards, entries) are walked once
    identities = [_identity(e, site.bodies[e.slug], seen) for e in site.entries]
    memo = site.memo.entries
    same = {e.slug: memo[e.slug] for e, identity in zip(site.entries, identities)
            if memo.get(e.slug, ("",))[0] == identity}  # made from the same cache keys as the last plan
    rows = [same[e.slug][1] if e.slug in same else _row(e, site.bodies[e.slug], identity)
            for e, identity in zip(site.entries, identities)]
    outline = _outline(site, rows, seen)
    last = site.memo if site.memo.outline == outline else PlanMemo()
    if last is not site.memo:
        same = {}
    cards = [_card(e, site.bodies[e.slug], site.snippets) for e in site.entries]
    nav = nav_links(site.undated)  # every page's header lists the undated pages
    entry_pages = _entry_pages(site, cards, nav, seen, set(same), last.keys)
    search, records = _search_pages(site, cards, seen, {slug: e[2] for slug, e in same.items()})
    pages = [*search, _feed(site)]
    kept = _kept_pages(site, last)
    listed = kept if kept is not None else _outline_pages(site, cards, [p.url for p in entry_pages + pages], seen)
    for p in pages + listed:
        if not p.reused:
            p.context["nav"] = nav
    keyed = [p if p.reused else replace(p, key=digest(site.site_digest, p.url, p.template, context_digest(p.context, seen)))
             for p in pages + listed]
    every = entry_pages + keyed
    entries = {e.slug: (identity, row, records[e.slug]) for e, identity, row in zip(site.entries, identities, rows)}
    return Plan(every, PlanMemo(outline, entries, {p.url: p.template for p in listed},
                                {p.output_path: p.key for p in every}))


def _identity(entry: Entry, body: RenderedBody, seen: dict[int, str]) -> str:
    """What an entry's own page is made of, besides the outline: its entry's and body's cache keys."""
    return hashlib.sha1(f"{_known(entry, seen)}\0{_known(body, seen)}".encode("utf-8", "surrogatepass")).hexdigest()


def _row(entry: Entry, body: RenderedBody, identity: str) -> str:
    """Digest of what pages but its own, search.json and the feed show of an entry: what lists show
    of it, where it is, and all of one with snippets (the figures page shows it)."""
    names = [r.name for r in entry.snippets]
    return digest(entry.slug, entry.path, entry.title, entry.date, entry.tags, body.summary, names,
                  identity if names else "")


def _outline(site: SiteInputs, rows: list[str], seen: dict[int, str]) -> str:
    """Digest of what the pages but an entry's own, search.json and the feed are made of: each
    entry's row, and everything that is not an entry."""
    shown = {name: snippet_view(result) for name, result in sorted(site.snippets.items())}
    others = context_digest([site.today, list(site.undated), sorted(site.undated_bodies.items()), shown], seen)
    return digest(site.site_digest, repr(site.streaks), others, hashlib.sha1("".join(rows).encode()).hexdigest())


def _kept_pages(site: SiteInputs, last: PlanMemo) -> list[Page] | None:
    """The last plan's pages that read only the outline, if it is as it was and the site has them all."""
    kept = [Page(url, template, {}, last.keys.get(output_path(url), ""), reused=True)
            for url, template in last.pages.items()]
    return kept if kept and all(site.has_page(p.output_path, p.key) for p in kept) else None


def _outline_pages(site: SiteInputs, cards: list[Card], urls: list[str], seen: dict[int, str]) -> list[Page]:
    for card in cards:  # each card's digest from its few fields, not by walking it
        _card_key(card, seen)
    pages: list[Page] = []
    pages += _undated_pages(site)
    pages += _home_pages(site, cards)
    pages += _tag_pages(site, cards)
    pages += _archive_pages(site, cards)
    pages.append(_figures_page(site))
    pages.append(_page(site, "search/", "search.html", "Search"))
    pages.append(_page(site, "404.html", "404.html", "Page not found", root=site.config.base_path))
    every = urls + [p.url for p in pages]
    pages.append(_sitemap(site, cards, every + ["sitemap.xml"]))
    return pages


def _page(site: SiteInputs, url: str, template: str, title: str, root: str | None = None,
          **context: Any) -> Page:
    context.update(page={"url": url, "title": title, "root": root_for(url) if root is None else root})
    return Page(url, template, context)


def _card(entry: Entry, body: RenderedBody, snippets: Mapping[str, SnippetResult]) -> Card:
    figures = sum(len(snippets[r.name].figures) for r in _unique_refs(entry) if r.name in snippets) if snippets else 0
    return Card(entry.slug, entry_url(entry.slug), entry.title, entry.date, entry.tags, body.summary, figures)


def _card_key(card: Card, seen: dict[int, str]) -> str:
    """A card is a pure function of its few fields: digest those, every field in order."""
    return seen.get(id(card)) or seen[id(_made_of(card, seen, *vars(card).values()))]


def _made_of(value: T, seen: dict[int, str], *parts: Any) -> T:
    """Note that `value` is a pure function of `parts` (a card: of its own small fields; a search
    record: of its card and body), so a page key digests those few strings instead of walking it."""
    seen[id(value)] = type(value).__name__ + digest(*parts)
    return value


def _unique_refs(entry: Entry | UndatedPage) -> list[Any]:
    if not entry.snippets:  # most entries: nothing to do, 5,000 times
        return []
    return list({r.name: r for r in reversed(entry.snippets)}.values())[::-1]


def _slugs(site: SiteInputs) -> dict[str, str]:
    """Entry or page file -> its page's URL, what relative links between them resolve against."""
    return {e.path: entry_url(e.slug) for e in site.entries} | {p.path: p.url for p in site.undated}


def _with_entry_links(body: RenderedBody, urls: Mapping[str, str], prefix: str) -> RenderedBody:
    """The body with links to entry and page files pointing at their pages."""
    html = resolve_entry_links(body.html, lambda path: prefix + urls[path] if path in urls else None)
    return body if html is body.html else replace(body, html=html)


def _entry_pages(site: SiteInputs, cards: list[Card], nav: list[dict[str, str]], seen: dict[int, str],
                 same: set[str], last_keys: Mapping[str, str]) -> list[Page]:
    """Each entry's page, keyed by the values its context is made of (cache keys, mostly) rather
    than by walking the context: there is one per entry, and every build plans them all. The
    context below is made from exactly the values in `made_of`, and from nothing else. An entry
    in `same` (its cache keys and the outline as the last plan had them) keeps its last key."""
    slugs = _slugs(site)
    nav_key = context_digest(nav, seen)
    shown: dict[str, str | None] = {}  # snippet name -> digest of what a page shows of it

    def shown_key(name: str) -> str | None:
        if name not in shown:
            result = site.snippets.get(name)
            shown[name] = None if result is None else context_digest(snippet_view(result), seen)
        return shown[name]

    def nav_keys(i: int) -> tuple[str, str, str] | None:  # what a neighbour's page shows of it
        return (cards[i].url, cards[i].title, cards[i].date.isoformat()) if 0 <= i < len(cards) else None

    def made_of(i: int, entry: Entry) -> tuple[Any, ...]:
        source = site.bodies[entry.slug]
        return (_known(entry, seen), _known(source, seen), nav_keys(i - 1), nav_keys(i + 1),
                [shown_key(r.name) for r in _unique_refs(entry)], entry.date > site.today, nav_key,
                [slugs.get(target) for target, _ in source.links if target.endswith(".md")])

    pages = []
    for i, entry in enumerate(site.entries):
        url = cards[i].url
        path = url + "index.html"
        key = (last_keys.get(path, "") if entry.slug in same else "") or digest(
            site.site_digest, url, "entry.html", made_of(i, entry))
        if site.has_page(path, key):
            pages.append(Page(url, "entry.html", {}, key, reused=True))
            continue
        names = [r.name for r in _unique_refs(entry)]
        source = site.bodies[entry.slug]
        prev = _nav(cards[i - 1]) if i > 0 else None
        nxt = _nav(cards[i + 1]) if i + 1 < len(cards) else None
        results = {n: site.snippets.get(n) for n in names}
        inline = {r.name for r in entry.snippets if r.inline}
        views = _views(entry, site.snippets)
        page = _page(
            site, url, "entry.html", entry.title,
            entry=entry, body=_with_entry_links(source, slugs, root_for(url)), prev=prev, next=nxt, snippets=views,
            trailing_snippets=[views[n] for n in names if n not in inline and n in views],
            missing_snippets=[n for n, r in results.items() if r is None and n not in inline],
            is_future=entry.date > site.today, nav=nav,
        )
        pages.append(replace(page, key=key))
    return pages


def _known(value: Any, seen: dict[int, str]) -> str:
    """The digest of a frozen value: its cache key when it has one (SiteInputs.made_from)."""
    return seen.get(id(value)) or _part(value, seen)


def _undated_pages(site: SiteInputs) -> list[Page]:
    """pages/about.md -> about/: the entries' body, snippets and links, with no date around them."""
    slugs = _slugs(site)
    pages = []
    for undated in site.undated:
        views = _views(undated, site.snippets)
        names = [r.name for r in _unique_refs(undated)]
        inline = {r.name for r in undated.snippets if r.inline}
        pages.append(_page(
            site, undated.url, "page.html", undated.title, undated=undated,
            body=_with_entry_links(site.undated_bodies[undated.url], slugs, root_for(undated.url)),
            snippets=views, trailing_snippets=[views[n] for n in names if n not in inline and n in views],
            missing_snippets=[n for n in names if n not in site.snippets and n not in inline],
        ))
    return pages


def _nav(card: Card) -> dict[str, Any]:
    """What a page shows of a neighbour: a context holds only what its page shows, so that the key
    made from it changes only when the page would."""
    return {"url": card.url, "title": card.title, "date": card.date}


def _views(entry: Entry | UndatedPage, snippets: Mapping[str, SnippetResult]) -> dict[str, dict[str, Any]]:
    """What the entry shows of each snippet it names (those with a result)."""
    return {r.name: snippet_view(snippets[r.name]) for r in _unique_refs(entry) if r.name in snippets}


def _home_pages(site: SiteInputs, cards: list[Card]) -> list[Page]:
    newest = cards[::-1]
    per = site.config.entries_per_page
    chunks = [newest[i : i + per] for i in range(0, len(newest), per)] or [[]]
    calendars = _calendars(site, cards)
    streak = _streak_view(site.streaks)
    pages = []
    for n, chunk in enumerate(chunks, 1):
        url = "" if n == 1 else f"page/{n}/"
        pager = {"number": n, "count": len(chunks),
                 "prev": None if n == 1 else ("" if n == 2 else f"page/{n - 1}/"),
                 "next": f"page/{n + 1}/" if n < len(chunks) else None}
        pages.append(_page(
            site, url, "home.html", site.config.title if n == 1 else f"{site.config.title}, page {n}",
            cards=chunk, pager=pager, streak=streak, calendars=calendars if n == 1 else [],
            today=site.today, total_entries=len(cards),
        ))
    return pages


def _streak_view(s: Streaks) -> dict[str, Any]:
    return {
        "current": s.current, "best": s.best, "total_days": s.total_days,
        "best_start": s.best_start, "best_end": s.best_end, "current_start": s.current_start,
        "longest_gap": s.longest_gap, "last_day": s.last_day,
        "challenge_days": s.challenge_days, "challenge_day": s.challenge_day,
    }


def _calendars(site: SiteInputs, cards: list[Card]) -> list[CalendarYear]:
    by_day = {c.date: c for c in cards}
    years: dict[int, list[tuple[str, int, str, str]]] = defaultdict(list)
    for day, count in site.streaks.counts:
        years[day.year].append((day.isoformat(), count, by_day[day].title, by_day[day].url))
    return [CalendarYear(year, tuple(years[year]), site.today.isoformat()) for year in calendar_years(site.streaks.counts)]


def _tag_pages(site: SiteInputs, cards: list[Card]) -> list[Page]:
    by_tag: dict[str, list[Card]] = defaultdict(list)
    for card in reversed(cards):
        for tag in card.tags:
            by_tag[tag].append(card)
    tags = sorted(by_tag.items())
    counts = [(tag, len(members)) for tag, members in tags]
    pages = [_page(site, "tags/", "tags.html", "Tags", tags=counts)]
    for tag, members in tags:
        pages.append(_page(site, tag_url(tag), "tag.html", f"Tagged “{tag}”", tag=tag, cards=members))
    return pages


def _archive_pages(site: SiteInputs, cards: list[Card]) -> list[Page]:
    months: dict[tuple[int, int], list[Card]] = defaultdict(list)
    for card in reversed(cards):
        months[(card.date.year, card.date.month)].append(card)
    listing: list[dict[str, Any]] = [{"year": y, "month": m, "date": dt.date(y, m, 1), "url": month_url(dt.date(y, m, 1)),
                "cards": members} for (y, m), members in sorted(months.items(), reverse=True)]
    pages = [_page(site, "archive/", "archive.html", "Archive", months=listing)]
    for i, month in enumerate(listing):
        newer = _month_nav(listing[i - 1]) if i > 0 else None
        older = _month_nav(listing[i + 1]) if i + 1 < len(listing) else None
        title = f"{month['date']:%B %Y}"
        pages.append(_page(site, month["url"], "month.html", title, month=month, newer=newer, older=older))
    return pages


def _month_nav(month: dict[str, Any]) -> dict[str, Any]:
    return {"url": month["url"], "date": month["date"]}


def _figures_page(site: SiteInputs) -> Page:
    figures = []
    for entry in reversed(site.entries):
        for ref in _unique_refs(entry):
            result = site.snippets.get(ref.name)
            if result is None:
                continue
            for figure in snippet_view(result)["figures"]:
                figures.append({"entry": entry, "url": entry_url(entry.slug), "snippet": ref.name, **figure})
    return _page(site, "figures/", "figures.html", "Figures", figures=figures)


@dataclass(frozen=True)
class SearchRecord:
    """One entry in search.json. It holds the body itself (not a copy of its text), so that the
    page's key digests the body's cache key instead of the text of every entry."""

    card: Card
    body: RenderedBody
    url: str  # the card's, as links are written (use_directory_urls)
    key: str = ""  # digests all of the above: the build keeps each record's JSON under it

    def as_json(self) -> dict[str, Any]:
        c = self.card
        return {"t": c.title, "u": self.url, "d": c.date.isoformat(), "g": list(c.tags), "s": c.summary,
                "x": self.body.text}


def _search_pages(site: SiteInputs, cards: list[Card], seen: dict[int, str], same: Mapping[str, str]
                  ) -> tuple[list[Page], dict[str, str]]:
    """search.json, and the key of each entry's record in it (`same`: those the last plan made)."""
    link = (lambda url: url) if site.config.use_directory_urls else file_url
    records: list[Any] = []
    keys: dict[str, str] = {}
    for card in reversed(cards):
        body, url = site.bodies[card.slug], link(card.url)
        key = same.get(card.slug) or digest(_card_key(card, seen), _known(body, seen), url)
        record = SearchRecord(card, body, url, key)
        seen[id(record)] = "SearchRecord" + key  # a pure function of what `key` digests
        records.append(record)
        keys[card.slug] = key
    records += [{"t": p.title, "u": link(p.url), "d": "", "g": [], "s": site.undated_bodies[p.url].summary,
                 "x": site.undated_bodies[p.url].text} for p in site.undated]
    return [Page("search.json", "@json", {"data": records})], keys


def _published(entry: Entry, zone: dt.tzinfo) -> dt.datetime:
    """When an entry was written: its time if given, else the start of its day, in the learner's zone."""
    return entry.timestamp or dt.datetime.combine(entry.date, dt.time(), tzinfo=zone)


def _feed(site: SiteInputs) -> Page:
    zone = zoneinfo.ZoneInfo(site.config.timezone)
    latest = [e for e in reversed(site.entries)][:FEED_SIZE]
    slugs = _slugs(site)
    feed_items = [(e, _with_entry_links(site.bodies[e.slug], slugs, site.config.base_url), _published(e, zone),
                   _views(e, site.snippets)) for e in latest]
    updated = max((item[2] for item in feed_items), default=None)
    return _page(site, "feed.xml", "feed.xml", site.config.title, items=feed_items, updated=updated)


def _sitemap(site: SiteInputs, cards: list[Card], urls: list[str]) -> Page:
    lastmod = {c.url: c.date for c in cards}
    return _page(site, "sitemap.xml", "sitemap.xml", "Sitemap", urls=[u for u in urls if u != "404.html"],
                 lastmod=lastmod)
