"""RENDER BODY: an entry's Markdown -> HTML with Pygments highlighting, anchors, snippet and cell
placeholders, callouts and MathML (directives.py)."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from . import directives
from .directives import directive_of
from .errors import Diagnostic
from .links import LinkContext
from .model import Cell, Heading, RenderedBody

RENDERER_VERSION = "5"  # bump when the HTML for the same Markdown changes (invalidates cached bodies)
PLACEHOLDER_RE = re.compile(r"<!--logbuild:snippet (\S+?)-->")
TOO_DEEP = "logbuild_too_deep"  # env key: body lines where markdown-it stopped at its nesting limit

HIGHLIGHTS = "logbuild_highlights"  # env key: the Highlights of this render


class Highlights:
    """Highlighted code blocks by (language, code) digest. A prose edit leaves its code blocks alone,
    and Pygments costs as much per block as markdown-it per entry (plus ~70 ms to compile a lexer),
    so the build keeps them between runs: `known` is what this process and earlier builds made, `made` what this
    render adds (the build keeps those for the next time), `used` every block this render showed (the
    body names them, and the build forgets the blocks no body names)."""

    def __init__(self, *known: Mapping[str, str | None]) -> None:
        self.known = known
        self.made: dict[str, str | None] = {}
        self.used: dict[str, None] = {}

    def html(self, code: str, lang: str) -> str | None:
        key = hashlib.sha1(f"{lang}\0{code}".encode()).hexdigest()
        self.used[key] = None
        for known in self.known:
            if key in known:
                return known[key]
        if key not in self.made:
            self.made[key] = highlight_code(code, lang)
        return self.made[key]


@lru_cache(maxsize=64)
def _lexer(lang: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def highlight_code(code: str, lang: str) -> str | None:
    """Pygments HTML for `code` (no wrapper), or None when the language is unknown."""
    from pygments import highlight

    lexer = _lexer(lang.lower()) if lang else None
    return highlight(code, lexer, _formatter()) if lexer is not None else None


def _code_block(code: str, lang: str, env: EnvType) -> str:
    """Highlighted by Pygments (remembered between builds), or escaped when the language is unknown."""
    body = env[HIGHLIGHTS].html(code, lang) if lang else None
    if body is None:
        cls = f' class="language-{html.escape(lang)}"' if lang else ""
        return f"<pre><code{cls}>{html.escape(code)}</code></pre>\n"
    return f'<pre class="highlight"><code class="language-{html.escape(lang)}">{body}</code></pre>\n'


def _image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    tokens[idx].attrSet("loading", "lazy")
    return self.image(tokens, idx, options, env)


def _slug(text: str) -> str:
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-") or "section"


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"linkify": True, "alerts": True})
        .enable(["table", "strikethrough", "linkify"])
        .use(footnote_plugin)
        .use(tasklists_plugin)
        # Pandoc's rule for $: no space inside, no digit after (so "$5 and $10" stays text)
        .use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True, allow_labels=False)
        .use(container_plugin, name="directive", validate=lambda params, *_: directive_of(params) is not None)
        .use(anchors_plugin, min_level=2, max_level=4, slug_func=_slug, permalink=True,
             permalinkSymbol="#")
    )
    # Bare URLs with a scheme and e-mail addresses become links, but not every "word.tld":
    # a code log is full of names like split_dataset.py (.py is a country domain). The
    # prefilter skips linkify's large regex for text runs that cannot hold such a link.
    linkify = md.linkify
    assert linkify is not None, "markdown-it-py[linkify] is a dependency"
    linkify.set({"fuzzy_link": False})
    full_pretest = linkify.pretest
    linkify.pretest = lambda text: ("://" in text or "@" in text) and full_pretest(text)
    directives.install(md, _code_block)
    md.add_render_rule("image", _image)
    _watch_nesting(md)
    return md


def _watch_nesting(md: MarkdownIt) -> None:
    """Past `maxNesting` (quotes and lists inside each other) markdown-it skips to the end of
    what encloses the block, for a list the rest of the entry, without a word. Skip only the
    too-deep block itself (its lines indented at least as far) and note its body line, so the
    build can say so. Same test, in the same order, as ParserBlock.tokenize; nested blocks call
    back through this attribute."""
    tokenize = md.block.tokenize

    def watched(state: StateBlock, start: int, end: int) -> None:
        line = state.skipEmptyLines(start)
        if state.level < md.options.maxNesting or line >= end or state.sCount[line] < state.blkIndent:
            tokenize(state, start, end)
            return
        state.env.setdefault(TOO_DEEP, []).append(line)
        while line < end and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent):
            line += 1
        state.line = line

    md.block.tokenize = watched  # type: ignore[method-assign, assignment]


def render_body(markdown: str, where: LinkContext | None = None, highlights: Highlights | None = None
                ) -> RenderedBody:
    """Pure (given the parser): Markdown -> HTML, headings, plain text, a summary, and the project
    files its relative links point at (rewritten for the page when `where` says where it is).
    `highlights` holds code blocks highlighted before, and collects the new ones."""
    md = markdown_parser()
    env: dict[str, Any] = {}
    ctx = _context(where)
    tokens = directives.prepare(md.parse(markdown, env), md, env, ctx)
    links = _rewrite_links(tokens, where) if where is not None else ()
    highlights = highlights or Highlights()  # one per body: its `used` are this body's blocks
    html_out = md.renderer.render(tokens, md.options, {HIGHLIGHTS: highlights}).replace(
        '<a class="header-anchor" ', '<a class="header-anchor" aria-label="Link to this section" ')
    return RenderedBody(
        html=html_out,
        text=_plain_text(tokens),
        headings=_headings(tokens),
        summary=_summary(tokens),
        links=links,
        problems=_nesting_problems(env.get(TOO_DEEP, ()), where, md.options.maxNesting) + tuple(ctx.problems),
        blocks=tuple(highlights.used),
    )


def _context(where: LinkContext | None) -> directives.Context:
    return directives.Context(where.source, where.body_first_line) if where is not None else directives.Context()


def entry_cells(markdown: str, where: LinkContext) -> tuple[Cell, ...]:
    """The ```{python} cells of a body, in order, as the render numbers them (the same parse)."""
    if "{python}" not in markdown and "{code-cell}" not in markdown:
        return ()
    md = markdown_parser()
    env: dict[str, Any] = {}
    ctx = _context(where)
    directives.prepare(md.parse(markdown, env), md, env, ctx)
    return tuple(ctx.cells)


def _nesting_problems(lines: Sequence[int], where: LinkContext | None, limit: int) -> tuple[Diagnostic, ...]:
    path, first = (where.source, where.body_first_line) if where is not None else ("", 1)
    return tuple(Diagnostic(path, first + line, f"quotes or lists nested more than {limit} deep: this block "
                            "is left out of the page", "warning", hint="nest them less deeply")
                 for line in sorted(set(lines)))


def _rewrite_links(tokens: Sequence[Token], where: LinkContext) -> tuple[tuple[str, int], ...]:
    found = []
    for block in tokens:
        for token in block.children or () if block.type == "inline" else ():
            attr = "href" if token.type == "link_open" else "src" if token.type == "image" else None
            if attr is None:
                continue
            url, target = where.rewrite(str(token.attrGet(attr) or ""))
            token.attrSet(attr, url)
            if target is not None:
                found.append((target, (block.map[0] if block.map else 0)))
    return tuple(found)


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "math_inline", "math_inline_double"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _plain_text(tokens: Sequence[Token]) -> str:
    parts = []
    for token in tokens:
        if token.type == "inline":
            parts.append(_inline_text(token))
        elif token.type in ("fence", "code_block") and not token.info.startswith("{snippet}"):
            parts.append(token.content)
    return re.sub(r"\s+", " ", " ".join(parts)).strip()


def _headings(tokens: Sequence[Token]) -> tuple[Heading, ...]:
    out = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.attrGet("id"):
            out.append(Heading(int(token.tag[1]), _inline_text(tokens[i + 1]).strip(), str(token.attrGet("id"))))
    return tuple(out)


def _summary(tokens: Sequence[Token], limit: int = 280) -> str:
    for i, token in enumerate(tokens):
        if token.type == "paragraph_open":
            text = re.sub(r"\s+", " ", _inline_text(tokens[i + 1])).strip()
            if text:
                return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""


def pygments_css() -> str:
    """Light styles, and dark ones under prefers-color-scheme (and a forced [data-theme])."""
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style="friendly").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    return (f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n")
