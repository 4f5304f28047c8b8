"""PRESENT: a SnippetResult as the values the theme shows (highlighted source, badge, figure URLs). Pure.

Only what the result says, never how this build got it: a page is the same whether the snippet
ran now or came from the cache, and a failure (run again by every build) shows no time of its own.
A notebook shows its cells as Jupyter Book does (cell tags included); an entry's inline cells give
one view per cell, placed under the cell in the entry's body.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .model import Cell, Output, SnippetResult
from .sanitize import sanitize
from .slugs import slugify

BADGES = {
    "ok": ("ran", "ok"),
    "failed": ("failed", "failed"),
    "timeout": ("timed out", "failed"),
    "error": ("could not run", "failed"),
}
SGR = re.compile(r"\x1b\[([0-9;]*)m")
OTHER_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]")
COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")


def figure_url(result: SnippetResult, path: str) -> str:
    """Where a figure file of `result` lives in the site (relative to the site root)."""
    return f"figures/{slugify(result.name, 'snippet')}/{result.key[:16]}/{path}"


def snippet_view(result: SnippetResult) -> dict[str, Any]:
    label, tone = BADGES[result.status]
    ok = result.status == "ok"
    view: dict[str, Any] = {
        "kind": result.kind,
        "name": result.name,
        "file": result.path.rsplit("/", 1)[-1] or f"{result.name}.py",
        "path": result.path,
        "status": result.status,
        "badge": label,
        "tone": tone,
        "ok": ok,
        "seconds": result.seconds if ok else None,  # a stored run's figures, the same on every build
        "ran_at": result.ran_at if ok else None,
        "figures": [
            {"src": figure_url(result, f.path), "width": f.width, "height": f.height, "alt": f.alt,
             "svg": figure_url(result, f.svg_path) if f.svg_path else None}
            for f in result.figures
        ],
    }
    if result.kind == "script":
        view.update(_script(result, ok))
    else:
        view.update(_cells(result, view["figures"]))
    return view


def _script(result: SnippetResult, ok: bool) -> dict[str, Any]:
    from pygments.lexers import PythonTracebackLexer

    return {
        "source_html": _source_html(result.source, result.error_line),
        "stdout": result.stdout,
        "stderr": result.stderr,
        "traceback_html": _highlight(result.traceback, PythonTracebackLexer()) if result.traceback else "",
        "raised_as_expected": ok and bool(result.traceback),
        "error_line": result.error_line,
    }


def _cells(result: SnippetResult, figures: list[dict[str, Any]]) -> dict[str, Any]:
    """Each cell with the outputs this run (or the cache) gave it. The run stops at a cell that
    fails: that cell shows its error (or why the run ended there), the cells after it did not run."""
    outputs = list(result.outputs)
    running = [c for c in result.cells if c.kind == "code" and c.runs]
    last = len(outputs) - 1 if outputs else 0  # where a run that did not succeed ended
    views: list[dict[str, Any]] = []
    n = 0
    for cell in result.cells:
        if cell.kind != "code":
            views.append({"kind": cell.kind, "html": cell.html, "source": cell.source,
                          "removed": "remove-cell" in cell.tags})
            continue
        mine = outputs[n] if cell.runs and n < len(outputs) else None
        stopped, failed_at = None, None
        if cell.runs and n == last and result.status != "ok" and running:
            shown_error = mine is not None and any(o.kind == "error" for o in mine)
            stopped = None if shown_error else _plain_failure(result)
            failed_at = f"{result.path}:{result.error_line}" if result.error_line else None
        views.append(dict(_code_cell(cell, mine, figures, stopped), failed_at=failed_at))
        n += cell.runs
    code = [v for v in views if v["kind"] == "code"]
    return {"cells": views, "by_index": {str(i): v for i, v in enumerate(code)},
            "message": _plain_failure(result) if result.status != "ok" and not running else None}


def _code_cell(cell: Cell, outputs: tuple[Output, ...] | None, figures: list[dict[str, Any]],
               stopped: str | None) -> dict[str, Any]:
    return {
        "kind": "code",
        "source_html": _highlight_python(cell.source),
        "removed": "remove-cell" in cell.tags,
        "show_input": "remove-input" not in cell.tags,
        "fold_input": "hide-input" in cell.tags,
        "show_output": "remove-output" not in cell.tags,
        "fold_output": "hide-output" in cell.tags,
        "ran": outputs is not None and cell.runs,
        "skipped": not cell.runs,
        "stopped": stopped,  # why this cell has no outputs: the run ended here (timeout, kernel died)
        "caption": cell.caption,
        "outputs": [_output(o, figures, cell) for o in outputs or ()],
    }


def _output(output: Output, figures: list[dict[str, Any]], cell: Cell) -> dict[str, Any]:
    if output.kind == "image":
        figure = dict(figures[output.figure])
        if cell.alt:
            figure["alt"] = cell.alt
        return {"kind": "image", "figure": figure}
    if output.kind == "error":
        return {"kind": "error", "html": ansi_html(output.text), "name": output.name}
    if output.kind in ("stream", "text"):
        return {"kind": output.kind, "html": ansi_html(output.text), "stderr": output.name == "stderr"}
    return {"kind": output.kind, "html": sanitize(output.text)}  # text/html, SVG, rendered Markdown: from the cache


def _plain_failure(result: SnippetResult) -> str:
    return (result.traceback or f"the run {BADGES[result.status][0]}").strip()


def ansi_html(text: str) -> str:
    """Escaped text with its ANSI colours (IPython's tracebacks) as <span class="ansi-…"> runs."""
    out: list[str] = []
    classes: list[str] = []
    pos = 0
    text = OTHER_ESCAPES.sub("", text)
    for m in SGR.finditer(text):
        out.append(_span(text[pos:m.start()], classes))
        classes = _apply_sgr(classes, m.group(1))
        pos = m.end()
    out.append(_span(text[pos:], classes))
    return "".join(out)


def _span(text: str, classes: list[str]) -> str:
    if not text:
        return ""
    return f'<span class="{" ".join(classes)}">{html.escape(text)}</span>' if classes else html.escape(text)


def _apply_sgr(classes: list[str], codes: str) -> list[str]:
    found = list(classes)
    parts = (codes or "0").split(";")
    skip = 0
    for i, part in enumerate(parts):
        if skip:
            skip -= 1
            continue
        code = int(part) if part.isdigit() else 0
        if code in (38, 48):  # 256 colours or RGB: 38;5;N or 38;2;R;G;B, not mapped to the theme
            skip = 2 if i + 1 < len(parts) and parts[i + 1] == "5" else 4
            continue
        if code == 0:
            found = []
        elif code == 1:
            found.append("ansi-bold")
        elif code == 22:
            found = [c for c in found if c != "ansi-bold"]
        elif 30 <= code <= 37 or 90 <= code <= 97:
            found = [c for c in found if not c.endswith("-fg")]
            found.append(f"ansi-{COLOURS[code % 10]}{'-intense' if code >= 90 else ''}-fg")
        elif code == 39:
            found = [c for c in found if not c.endswith("-fg")]
        elif 40 <= code <= 47:
            found = [c for c in found if not c.endswith("-bg")]
            found.append(f"ansi-{COLOURS[code % 10]}-bg")
        elif code == 49:
            found = [c for c in found if not c.endswith("-bg")]
    return list(dict.fromkeys(found))


def _highlight(text: str, lexer: Any) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    return highlight(text, lexer, HtmlFormatter(nowrap=True))


def _highlight_python(code: str) -> str:
    from pygments.lexers import PythonLexer

    return _highlight(code, PythonLexer())


def _source_html(source: str, error_line: int | None) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    formatter = HtmlFormatter(nowrap=True, hl_lines=[error_line] if error_line else [],
                              linenos="inline", lineanchors="")
    return highlight(source, PythonLexer(), formatter)


def notebook_links(repo_url: str, path: str) -> dict[str, str] | None:
    """'Open in Colab' and 'View on GitHub' for a notebook, when the log's repository is on GitHub.
    `https://github.com/OWNER/REPO` (branch main) or `.../tree/BRANCH`."""
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?(?:/tree/([\w./-]+?))?/?", repo_url.strip())
    if m is None or not path:
        return None
    owner, repo, branch = m.group(1), m.group(2), m.group(3) or "main"
    where = f"{owner}/{repo}/blob/{branch}/{path}"
    return {"colab": f"https://colab.research.google.com/github/{where}", "github": f"https://github.com/{where}"}
