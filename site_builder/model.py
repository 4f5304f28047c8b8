"""The frozen values that flow between stages. No I/O here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .errors import Diagnostic


@dataclass(frozen=True)
class SnippetRef:
    """A place where an entry asks for a snippet's output.

    `line` is the 1-based line in the entry file (front matter or body directive);
    `inline` is True for a body directive, which places the output where it stands.
    """

    name: str
    line: int
    inline: bool = False


@dataclass(frozen=True)
class Entry:
    """One day of the log, parsed and validated."""

    path: str  # relative to the project root, POSIX separators: "entries/2018-09-09.md"
    date: dt.date  # the log day it counts for (after the day-end-hour rule)
    slug: str  # URL segment: "2018-09-09" or "2018-09-09-max-pooling"
    title: str
    tags: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (label, url) in the order written
    snippets: tuple[SnippetRef, ...]
    draft: bool
    declared_streak: int | None
    body: str  # Markdown after the front matter
    body_first_line: int  # line of the file where `body` starts (1-based)
    digest: str  # sha256 of the file's bytes: what caches key on
    timestamp: dt.datetime | None = None  # when a time was given in `date`
    streak_line: int = 0  # the line of `streak:` in the file, when it has one


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class RenderedBody:
    """An entry's Markdown as HTML. Snippet directives stay as placeholders
    (`<!--logbuild:snippet NAME-->`) so the body can be cached apart from snippet runs."""

    html: str
    text: str  # plain text for the search index and the feed summary
    headings: tuple[Heading, ...]
    summary: str  # first paragraph as plain text, for lists and meta description
    links: tuple[tuple[str, int], ...] = ()  # (project file a relative link points at, line in the body)
    problems: tuple[Diagnostic, ...] = ()  # found while rendering (too deep to render), at lines of the file
    blocks: tuple[str, ...] = ()  # the keys of its highlighted code blocks (markdown.Highlights): the state keeps those


SnippetStatus = Literal["ok", "failed", "timeout", "error"]
OutputKind = Literal["stream", "text", "html", "markdown", "svg", "image", "error"]


@dataclass(frozen=True)
class Output:
    """One output of a notebook or inline code cell, as the kernel gave it (never the .ipynb's).

    `text` is the stream text, text/plain, HTML, Markdown, SVG or the (ANSI) traceback; `name`
    the stream (stdout/stderr) or the exception's class; `figure` indexes SnippetResult.figures."""

    kind: OutputKind
    text: str = ""
    name: str = ""
    figure: int = -1


CellKind = Literal["code", "markdown", "raw"]


@dataclass(frozen=True)
class Cell:
    """A cell of a notebook, or a ```{python} cell of an entry: what the page shows around its outputs.

    Quarto's `#|` options become Jupyter Book's tags (echo: false = remove-input, output: false =
    remove-output, error: true = raises-exception); `line` is where its code (or text) starts in
    its file; `html` is a Markdown cell rendered."""

    kind: CellKind
    source: str
    tags: tuple[str, ...] = ()
    line: int = 0
    html: str = ""
    runs: bool = True  # eval: false keeps a code cell from running
    timeout: float | None = None
    caption: str = ""  # fig-cap
    alt: str = ""  # fig-alt


@dataclass(frozen=True)
class Figure:
    """A figure a snippet made; `path` is relative to the cache entry folder."""

    path: str
    width: int  # CSS pixels (the PNG itself is 2x)
    height: int
    alt: str
    svg_path: str | None = None


@dataclass(frozen=True)
class CellProgram:
    """An entry's inline cells: run in order on one kernel, cached and reported as a snippet."""

    name: str  # CELLS_PREFIX + the entry's slug
    path: str  # the entry file, relative to the root
    cells: tuple[Cell, ...]


CELLS_PREFIX = "_cells."  # a snippet name no file can claim (a leading _ marks helpers)

# The callout directives (```{note}): name -> (title, colour family). Their content is Markdown,
# so the entry scanner looks inside them for snippet directives, as the renderer does.
CALLOUTS = {  # name -> (title, colour family)
    "note": ("Note", "note"), "seealso": ("See also", "note"), "tip": ("Tip", "tip"), "hint": ("Hint", "tip"),
    "important": ("Important", "important"), "warning": ("Warning", "warning"),
    "attention": ("Attention", "warning"), "caution": ("Caution", "caution"),
    "danger": ("Danger", "caution"), "error": ("Error", "caution"), "admonition": ("Note", "note"),
}


@dataclass(frozen=True)
class SnippetResult:
    """What one run (or cache hit) of a snippet produced.

    `status`: ok (ran, or raised what `# logbuild: raises=` expected), failed (the snippet
    raised), timeout (killed at its limit), error (our side broke, e.g. missing file).
    """

    name: str
    key: str  # cache key: sha256 of everything that can change the output
    status: SnippetStatus
    source: str
    stdout: str
    stderr: str
    figures: tuple[Figure, ...]
    seconds: float
    ran_at: dt.datetime  # when these outputs were made (UTC)
    from_cache: bool
    traceback: str | None = None
    error_line: int | None = None  # line of the snippet the traceback points at
    peak_memory_mb: float | None = None
    output_dir: str | None = None  # folder holding the figure files (absolute, local only)
    problems: tuple[Diagnostic, ...] = ()  # mistakes in its `# logbuild:` header, each at its line
    notes: tuple[Diagnostic, ...] = ()  # warnings on what it shows (a formula, a cell option); it still runs
    outputs: tuple[tuple[Output, ...], ...] = ()  # notebooks and inline cells: per code cell that runs
    cells: tuple[Cell, ...] = ()  # notebooks and inline cells: the document, as it is now
    kind: Literal["script", "notebook", "cells"] = "script"
    path: str = ""  # the file it comes from, relative to the root: where its lines are


@dataclass(frozen=True)
class Page:
    """One file of the site: where it goes, which template renders it, with what.

    `key` digests every input of the page, so an unchanged page is not rendered again.
    """

    url: str  # site-relative: "entries/2018-09-09/" (directory pages) or "feed.xml"
    template: str
    context: dict[str, object] = field(hash=False, compare=False)
    key: str = ""
    reused: bool = False  # the build has this page already (SiteInputs.has_page): planned without its context

    @property
    def output_path(self) -> str:
        return output_path(self.url)


def output_path(url: str) -> str:
    """The file of the page at `url`: a folder's is its index.html."""
    return url + "index.html" if url.endswith("/") or not url else url


@dataclass(frozen=True)
class PlanMemo:
    """What the last plan was made of, beside the keys of the pages it planned: a shortcut, never
    a different answer. Most pages read only the outline of the entries (what lists show of one:
    title, date, tags, summary, where it is); editing an entry's body changes its own page,
    search.json and the feed. So while the outline of the site is as it was, the other pages keep
    their keys without being planned, and an entry made from the same cache keys as before keeps
    its page's key and its search record's: an edit plans what it changed, at any size of log."""

    outline: str = ""  # digest of every input but what only an entry's own page, the search and the feed read
    # slug -> (its identity, its row of the outline, its search record's key): pages.py says what each is
    entries: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    pages: Mapping[str, str] = field(default_factory=dict)  # url -> template: the pages that read only the outline
    keys: Mapping[str, str] = field(default_factory=dict)  # output path -> key, of every page planned
