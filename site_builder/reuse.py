"""REUSE: what a build takes from its state as it is, so an edit pays for what changed: the cache
key each entry and body was made from (a page key digests that instead of walking them), the
bodies whose HTML, text and headings are still in the texts file (read only for a page that is rendered),
and search.json's items, kept as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache, partial
from typing import Any

from .model import Entry, Page, RenderedBody
from .output import OutputFile
from .state import BuildState, is_lazy, stored_body, write_json_list


def linking_in_full(state: BuildState, key: str) -> RenderedBody:
    """The body, with its HTML when it links to other entries: planning rewrites those links.
    Any other body's HTML is read only if a page showing it is rendered (in_full)."""
    body = state.bodies[key]
    return full_body(state, key) if any(target.endswith(".md") for target, _ in body.links) else body


def full_body(state: BuildState, key: str) -> RenderedBody:
    return stored_body(state, key) if is_lazy(state, key) else state.bodies[key]


Full = Callable[[RenderedBody], RenderedBody]  # a body of the site with its HTML, text and headings (lazy_bodies)


def in_full(value: Any, full: Full) -> Any:
    """A page context with each body whose HTML was not read in full."""
    if isinstance(value, RenderedBody):
        return full(value)
    if isinstance(value, dict):
        return {k: in_full(v, full) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(in_full(v, full) for v in value)
    return value  # a Card, an Entry, a SearchRecord (it shows the text only): no HTML in them


def body_key(entry: Entry) -> str:
    """Links are rewritten for the page's place, so where the file is belongs in the key too."""
    return f"{renderer_version()}\0{entry.digest}\0{entry.path}\0{entry.slug}"


@cache
def renderer_version() -> str:
    from .markdown import RENDERER_VERSION  # not at the top: `build` imports no renderer until it renders

    return RENDERER_VERSION


def search_json(state: BuildState, page: Page, rendered: bool, full: Full) -> OutputFile:
    """search.json holds the text of every entry, so its items are kept in the state as JSON, by
    key: an edit encodes its own entry's item and writes the others as they were, straight from
    the texts file (state.write_json_list). The state keeps the items of this search.json only.
    An item made anew from a body whose text is still in the texts file reads it (`full`). The
    file's digest is the page's key, which digests every item's: hashing 14 MB of text again
    would say nothing more."""
    from .pages import SearchRecord

    items = page.context["data"]
    assert isinstance(items, list), "search.json lists its items"
    records = [r for r in items if isinstance(r, SearchRecord)]
    state.search = {r.key: state.search[r.key] for r in records if r.key in state.search}
    if not rendered:
        return OutputFile(page.output_path, digest=state.files[page.output_path])
    for r in records:
        if r.key not in state.search:
            state.search[r.key] = json_item(replace(r, body=full(r.body))).encode()
    parts = [r.key if isinstance(r, SearchRecord) else json_item(r).encode() for r in items]
    return OutputFile(page.output_path, write=partial(write_json_list, state, parts), digest=f"page {page.key}")


def json_item(value: Any) -> str:
    """One item of search.json, as every build writes it (an object with as_json(): what that gives)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=lambda v: v.as_json())


def made_from(state: BuildState, entries: list[Entry], bodies: Mapping[str, RenderedBody]) -> dict[int, str]:
    """The cache key of each entry and body, by id(): what they are a pure function of, so a
    page key digests that instead of walking 10 KB of HTML and Markdown once more (and a body
    whose HTML is still in the pack has the key of the one it will be)."""
    keys = {id(parse[0]): f"Entry\0{key}" for key, parse in state.entries.items() if parse[0] is not None}
    keys.update({id(bodies[e.slug]): f"RenderedBody\0{body_key(e)}" for e in entries})
    return keys


def lazy_bodies(state: BuildState, entries: list[Entry], bodies: Mapping[str, RenderedBody]) -> Full:
    """How to have a body of the site in full: those whose HTML, text and headings are still in the
    texts file are read from there (each when a page that is rendered shows it)."""
    keys = {id(bodies[e.slug]): body_key(e) for e in entries}

    def full(body: RenderedBody) -> RenderedBody:
        key = keys.get(id(body))
        if key is not None and body is state.bodies.get(key) and is_lazy(state, key):
            return stored_body(state, key)
        return body

    return full
