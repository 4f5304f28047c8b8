"""LOAD, undated pages: `pages/about.md` -> an About page at `about/`, outside the log's days.

A page has no date: it is in no streak, calendar, archive or feed. It is written like an entry
(the same Markdown, snippet directives and relative links) and listed in the site's navigation,
ordered by its front matter's `weight` (lower first, as in Hugo's menus), then by title.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .confine import walk_confined
from .entries import EntryRules, read_links, read_snippet_refs, read_typed
from .errors import Diagnostic, did_you_mean, not_utf8
from .frontmatter import KeyLines, parse_yaml, split_front_matter
from .links import LinkContext
from .model import RenderedBody, SnippetRef
from .slugs import slugify

KEYS = ("title", "weight", "nav", "links", "snippets", "draft")
# The first URL segments the site's own pages use: a page there would hide one of them.
RESERVED = frozenset({"entries", "tags", "archive", "page", "search", "figures", "static",
                      "feed.xml", "sitemap.xml", "404.html", "search.json"})
_ALIASES = {"nav_order": "weight", "order": "weight", "menu": "nav"}  # what other tools call them

__all__ = ["KEYS", "UndatedPage", "load_undated_pages", "nav_links", "parse_undated_page", "render_undated"]


@dataclass(frozen=True)
class UndatedPage:
    """One page of `pages/`: where it goes and what it says."""

    path: str  # relative to the project root, POSIX: "pages/about.md"
    url: str  # site-relative, a folder: "about/"
    title: str
    weight: int  # navigation order, lower first
    nav: bool  # listed in the navigation
    links: tuple[tuple[str, str], ...]
    snippets: tuple[SnippetRef, ...]
    draft: bool
    body: str
    body_first_line: int
    digest: str

    def link_context(self, entries_dir: str, static_dir: str) -> LinkContext:
        return LinkContext(self.path, entries_dir, static_dir, self.url, self.body_first_line)


def page_url(rel: str) -> str:
    """'about.md' -> 'about/', 'projects/index.md' -> 'projects/', 'Reading List.md' -> 'reading-list/'."""
    parts = rel.removesuffix(".md").split("/")
    if parts[-1] == "index":
        parts = parts[:-1]
    return "".join(slugify(part, "page") + "/" for part in parts)


def load_undated_pages(root: Path, pages_dir: Path, known_snippets: frozenset[str] | None
                       ) -> tuple[list[UndatedPage], list[Diagnostic]]:
    """Read every `*.md` under `pages_dir` (the walk every folder of the log goes through)."""
    if not pages_dir.is_dir():
        return [], []
    found, problems = walk_confined(root, pages_dir, lambda name: name.endswith(".md"))
    pages: list[UndatedPage] = []
    for f in found:
        try:
            data = Path(f.path).read_bytes()
        except OSError as exc:
            problems.append(Diagnostic(f.shown, None, f"cannot read this file: {exc.strerror}"))
            continue
        page, found_problems = parse_undated_page(f.shown, page_url(f.rel), data, known_snippets)
        problems += found_problems
        if page is not None:
            pages.append(page)
    kept, clashes = _drop_clashes(pages)
    return kept, problems + clashes


def parse_undated_page(path: str, url: str, data: bytes, known_snippets: frozenset[str] | None
                       ) -> tuple[UndatedPage | None, list[Diagnostic]]:
    """Pure: one page file's bytes -> the page (or None) and its problems, each at its line."""
    try:
        text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        return None, [not_utf8(path, data, exc)]
    problems: list[Diagnostic] = []
    front, body, body_line = split_front_matter(text, path, problems)
    meta = parse_yaml(front, path, problems) if front is not None else None
    if meta is None:
        return None, problems
    lines = KeyLines(front or "")
    _unknown_keys(meta, path, lines, problems)
    if url.split("/", 1)[0] in RESERVED or not url:
        problems.append(Diagnostic(path, 1, f"a page at /{url} would hide the site's own page there",
                                   hint="rename the file, e.g. pages/about.md"))
        return None, problems
    title, body, body_line = _title(meta, body, body_line, url, path, lines, problems)
    weight = read_typed(meta, "weight", int, 0, path, lines, problems)
    refs = read_snippet_refs(meta.get("snippets"), body, body_line, path, lines, _rules(known_snippets), problems,
                     "page-" + slugify(url.strip("/").replace("/", "-"), "page"))  # names its inline cells
    return UndatedPage(
        path=path, url=url, title=title, weight=weight, nav=read_typed(meta, "nav", bool, True, path, lines, problems),
        links=read_links(meta.get("links"), path, lambda: lines.of("links"), problems), snippets=tuple(refs),
        draft=read_typed(meta, "draft", bool, False, path, lines, problems),
        body=body, body_first_line=body_line, digest=hashlib.sha256(data).hexdigest(),
    ), problems


def _rules(known_snippets: frozenset[str] | None) -> EntryRules:
    return EntryRules(known_snippets=known_snippets)


def _unknown_keys(meta: dict[str, Any], path: str, lines: KeyLines, problems: list[Diagnostic]) -> None:
    for key in meta:
        if key in KEYS:
            continue
        hint = f"logbuild calls it '{_ALIASES[key]}'" if key in _ALIASES else did_you_mean(key, KEYS)
        if key == "date":
            hint = "a page has no date; move it to entries/ to make it a day of the log"
        problems.append(Diagnostic(path, lines.of(key), f"unknown front matter key '{key}'", "warning", hint))


def _title(meta: dict[str, Any], body: str, body_line: int, url: str, path: str, lines: KeyLines,
           problems: list[Diagnostic]) -> tuple[str, str, int]:
    """Front matter title, else a leading '# Heading' (taken out of the body), else the file name."""
    value = meta.get("title")
    if isinstance(value, (str, int, float)) and str(value).strip():
        return str(value).strip(), body, body_line
    if value is not None:
        problems.append(Diagnostic(path, lines.of("title"), "title must be text"))
    m = re.match(r"(\s*\n)*#[ \t]+(.+?)[ \t#]*\n", body + "\n")
    if m:
        return m.group(2).strip(), body[m.end():], body_line + body[: m.end()].count("\n")
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return name.replace("-", " ").capitalize(), body, body_line


def _drop_clashes(pages: Sequence[UndatedPage]) -> tuple[list[UndatedPage], list[Diagnostic]]:
    """Two files that make one URL ('about.md' and 'About.md', 'x.md' and 'x/index.md'): the
    first by path is kept, the other is an error."""
    seen: dict[str, UndatedPage] = {}
    out = []
    for page in sorted(pages, key=lambda p: p.path):
        first = seen.setdefault(page.url, page)
        if first is not page:
            out.append(Diagnostic(page.path, 1, f"makes the same page /{page.url} as {first.path}",
                                  hint="rename one of them"))
    return sorted(seen.values(), key=lambda p: p.url), out


def nav_links(pages: Sequence[UndatedPage]) -> list[dict[str, str]]:
    """The navigation's page links: by weight, then title."""
    listed = sorted((p for p in pages if p.nav), key=lambda p: (p.weight, p.title.lower(), p.url))
    return [{"url": p.url, "title": p.title} for p in listed]


def render_undated(pages: Sequence[UndatedPage], entries_dir: str, static_dir: str) -> dict[str, RenderedBody]:
    """Each page's body through the entries' renderer, links rewritten for its URL (page url -> body).
    A handful of pages: rendered on every build, in this process."""
    if not pages:
        return {}
    from .markdown import render_body

    return {p.url: render_body(p.body, p.link_context(entries_dir, static_dir)) for p in pages}
