"""RENDER BODY (pure): what MyST, Quarto and GitHub add to Markdown, on markdown-it's tokens:
callouts (GitHub's `> [!NOTE]`, MyST's ```{note} and :::{note}), math as MathML, and executable
cells (```{python}, ```{code-cell} python). An unknown {directive} is a warning at its line,
never a code block that silently swallowed the author's intent.

`prepare` runs between parsing and rendering; the render rules `install` adds read what it left in
each token's `meta`. Lines are body lines (0-based, markdown-it's `map`) until turned into file
lines by `at`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .cells import cell_language, parse_cell
from .errors import Diagnostic, did_you_mean
from .mathml import to_mathml
from .model import CALLOUTS, Cell

OTHERS = ("snippet", "python", "code-cell", "math")  # the other directives logbuild knows
DIRECTIVE = re.compile(r"^\{([A-Za-z][\w-]*)\}\s*(.*)$")
OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")
MATH_TYPES = ("math_inline", "math_inline_double", "math_block", "math_block_label")
PLACEHOLDER = "<!--logbuild:snippet {name}-->"


@dataclass
class Context:
    """Where the body is (for file lines) and what preparing it found."""

    path: str = ""
    first_line: int = 1  # the file line of body line 0
    problems: list[Diagnostic] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)

    def at(self, body_line: int) -> int:
        return self.first_line + body_line

    def warn(self, body_line: int, message: str, hint: str | None = None) -> None:
        self.problems.append(Diagnostic(self.path, self.at(body_line), message, "warning", hint=hint))


def directive_of(info: str) -> tuple[str, str] | None:
    """('note', 'the rest') for a fence or container info `{note} the rest`; None for plain code."""
    m = DIRECTIVE.match(info.strip())
    return (m.group(1), m.group(2).strip()) if m else None


def prepare(tokens: list[Token], md: MarkdownIt, env: EnvType, ctx: Context) -> list[Token]:
    """Expand callout fences into Markdown, check every directive, number cells, convert math;
    the problems in the order of their lines."""
    out = _expand(tokens, md, env, ctx)
    for token in out:
        if token.type in ("math_block", "math_block_label"):
            _math(token, True, ctx, _line(token))
        elif token.type == "inline" and token.children:
            line = _line(token)
            for child in token.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type in MATH_TYPES:
                    _math(child, child.type == "math_inline_double", ctx, line)
    ctx.problems.sort(key=lambda p: p.line or 0)
    return out


def _expand(tokens: list[Token], md: MarkdownIt, env: EnvType, ctx: Context) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        if token.type == "fence" and (found := directive_of(token.info)) is not None:
            out += _fence(token, found, md, env, ctx)
        else:
            if token.type == "container_directive_open":
                _container(token, ctx)
            out.append(token)
    return out


def _line(token: Token) -> int:
    return token.map[0] if token.map else 0


def _fence(token: Token, found: tuple[str, str], md: MarkdownIt, env: EnvType, ctx: Context) -> list[Token]:
    name, argument = found
    line = _line(token)
    if name in CALLOUTS:
        return _callout_tokens(token, name, argument, md, env, ctx)
    if name == "math":
        token.type, token.meta = "math_block", {}
        return [token]
    if name in ("python", "code-cell"):
        language = cell_language(token.info)
        if language == "python":
            cell, problems = parse_cell(token.content.rstrip("\n"), ctx.at(line) + 1, ctx.path)
            ctx.problems.extend(problems)
            token.meta = {"cell": len(ctx.cells), "cell_value": cell}
            ctx.cells.append(cell)
        else:
            ctx.warn(line, f"a '{language}' cell does not run: logbuild runs Python cells only",
                     "use ```{code-cell} python, or ```" + str(language) + " to show the code")
            token.info = str(language)
        return [token]
    if name != "snippet":
        ctx.warn(line, f"unknown directive '{{{name}}}': shown as a code block",
                 did_you_mean(name, [*CALLOUTS, *OTHERS]) or "known: " + ", ".join(sorted([*CALLOUTS, *OTHERS])))
        token.info = ""
    return [token]


def _callout_tokens(token: Token, name: str, argument: str, md: MarkdownIt, env: EnvType, ctx: Context
                    ) -> list[Token]:
    """A ```{note} fence: its content parsed as Markdown between two callout tokens (lines kept)."""
    lines = token.content.split("\n")
    options = {}
    while lines and (m := OPTION.match(lines[0].strip())):
        options[m.group(1)] = m.group(2)
        lines = lines[1:]
    skipped = len(token.content.split("\n")) - len(lines)
    title, body = _title(name, argument, options)
    inner = md.parse("\n".join(([body] if body else []) + lines), env)
    shift = _line(token) + 1 + skipped - (1 if body else 0)
    for t in inner:
        if t.map:
            t.map = [t.map[0] + shift, t.map[1] + shift]
    extra = options.get("class", "").split()
    kind = extra[0] if name == "admonition" and extra and extra[0] in CALLOUTS else name  # MyST's colour by class
    opening = Token("callout_open", "aside", 1, map=token.map, meta={"kind": kind, "title": title,
                                                                      "class": " ".join(extra[kind != name:])})
    return [opening, *_expand(inner, md, env, ctx), Token("callout_close", "aside", -1)]


def _title(name: str, argument: str, options: dict[str, str]) -> tuple[str, str]:
    """(title, text that starts the body): `{admonition} Title` names it; `{note} words` begins it."""
    if name == "admonition":
        return argument or "Note", ""
    return CALLOUTS[name][0], argument


def _container(token: Token, ctx: Context) -> None:
    found = directive_of(token.info)
    name, argument = found if found else ("", "")
    if name in CALLOUTS:
        title, body = _title(name, argument, {})
        token.meta = {"kind": name, "title": title, "class": "", "lead": body}
    else:
        ctx.warn(_line(token), f"unknown directive '{{{name}}}' in a ::: block: shown as plain text",
                 did_you_mean(name, list(CALLOUTS)) or "known here: " + ", ".join(sorted(CALLOUTS)))
        token.meta = {"kind": "", "title": "", "class": ""}


def _math(token: Token, display: bool, ctx: Context, line: int) -> None:
    mathml, problem = to_mathml(token.content.strip(), display)
    token.meta = {"mathml": mathml, "display": display}
    if problem:
        ctx.warn(line, f"formula does not parse ({problem}): shown as code",
                 "fix the LaTeX, or escape a literal dollar sign as \\$")


# --- render rules ---

Rule = Callable[[RendererHTML, Sequence[Token], int, OptionsDict, EnvType], str]


def install(md: MarkdownIt, code_block: Callable[[str, str, EnvType], str]) -> None:
    """Render rules for what `prepare` marked; `code_block(code, lang, env)` highlights code."""
    md.add_render_rule("callout_open", _callout_open)
    md.add_render_rule("callout_close", lambda self, tokens, idx, options, env: "</aside>\n")
    md.add_render_rule("container_directive_open", _container_open)
    md.add_render_rule("container_directive_close", _container_close)
    md.add_render_rule("alert_open", _alert_open)
    md.add_render_rule("alert_close", lambda self, tokens, idx, options, env: "</aside>\n")
    md.add_render_rule("alert_title_open", lambda self, tokens, idx, options, env: '<p class="callout-title">')
    for kind in MATH_TYPES:
        md.add_render_rule(kind, _math_html)
    md.add_render_rule("fence", _fence_rule(RendererHTML.fence, code_block))


def _callout(kind: str, title: str, extra: str = "") -> str:
    family = CALLOUTS.get(kind, ("", "note"))[1]
    classes = " ".join(filter(None, ["callout", f"callout-{family}", html.escape(extra)]))
    return f'<aside class="{classes}" role="note">\n<p class="callout-title">{html.escape(title)}</p>\n'


def _callout_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    meta = tokens[idx].meta
    return _callout(meta["kind"], meta["title"], meta.get("class", ""))


def _container_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
                    ) -> str:
    meta = tokens[idx].meta
    if not meta.get("kind"):
        return '<div class="directive-unknown">\n'
    lead = f"<p>{html.escape(meta['lead'])}</p>\n" if meta.get("lead") else ""
    return _callout(meta["kind"], meta["title"]) + lead


def _container_close(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
                     ) -> str:
    opening = next((t for t in reversed(tokens[:idx]) if t.type == "container_directive_open"
                    and t.level == tokens[idx].level), None)
    return "</aside>\n" if opening is not None and opening.meta.get("kind") else "</div>\n"


def _alert_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    kind = str(tokens[idx].meta.get("kind", "note")).lower()
    return f'<aside class="callout callout-{CALLOUTS.get(kind, ("", "note"))[1]}" role="note">\n'


def _math_html(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    meta = token.meta or {}
    display = bool(meta.get("display"))
    if not meta.get("mathml"):  # it did not parse: the author's text, as code
        mark = "$$" if display else "$"
        shown = f'<code class="math-error">{html.escape(mark + token.content.strip() + mark)}</code>'
        return f"<p>{shown}</p>\n" if token.type.startswith("math_block") else shown
    if token.type.startswith("math_block"):
        return f'<div class="math-display">{meta["mathml"]}</div>\n'
    return str(meta["mathml"])


def _fence_rule(plain: Any, code_block: Callable[[str, str, EnvType], str]) -> Rule:
    def rule(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        found = directive_of(token.info)
        if found and found[0] == "snippet":
            name = found[1].removesuffix(".py").removesuffix(".ipynb")
            return PLACEHOLDER.format(name=html.escape(name)) + "\n"
        if "cell_value" in (token.meta or {}):
            return _cell_html(token.meta["cell"], token.meta["cell_value"], code_block, env)
        lang = unescapeAll(token.info).split(maxsplit=1)[0] if token.info.strip() else ""
        return code_block(token.content, lang, env) if lang else str(plain(self, tokens, idx, options, env))

    return rule


def _cell_html(index: int, cell: Cell, code_block: Callable[[str, str, EnvType], str], env: EnvType) -> str:
    """The cell's code (unless echo: false), then a placeholder its outputs replace on the page."""
    if "remove-cell" in cell.tags:
        return ""
    parts = [f'<div class="cell" id="cell-{index + 1}">']
    if "remove-input" not in cell.tags and cell.source.strip():
        code = code_block(cell.source + "\n", "python", env).rstrip("\n")
        fold = "hide-input" in cell.tags
        parts.append(f'<details class="cell-fold"><summary>Show code</summary>{code}</details>' if fold else code)
    if cell.runs:
        parts.append(PLACEHOLDER.format(name=f"@{index}"))
    parts.append("</div>\n")
    return "\n".join(parts)
