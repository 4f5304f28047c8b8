"""PRESENT: a SnippetResult as the values the theme shows (highlighted source, badge, figure URLs). Pure.

Only what the result says, never how this build got it: a page is the same whether the snippet
ran now or came from the cache, and a failure (run again by every build) shows no time of its own."""

from __future__ import annotations

from typing import Any

from .model import SnippetResult
from .slugs import slugify

BADGES = {
    "ok": ("ran", "ok"),
    "failed": ("failed", "failed"),
    "timeout": ("timed out", "failed"),
    "error": ("could not run", "failed"),
}


def figure_url(result: SnippetResult, path: str) -> str:
    """Where a figure file of `result` lives in the site (relative to the site root)."""
    return f"figures/{slugify(result.name, 'snippet')}/{result.key[:16]}/{path}"


def snippet_view(result: SnippetResult) -> dict[str, Any]:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonTracebackLexer

    label, tone = BADGES[result.status]
    ok = result.status == "ok"
    return {
        "name": result.name,
        "status": result.status,
        "badge": label,
        "tone": tone,
        "ok": ok,
        "source_html": _source_html(result.source, result.error_line),
        "stdout": result.stdout,
        "stderr": result.stderr,
        "traceback_html": highlight(result.traceback, PythonTracebackLexer(), HtmlFormatter(nowrap=True))
        if result.traceback else "",
        "raised_as_expected": ok and bool(result.traceback),
        "error_line": result.error_line,
        "seconds": result.seconds if ok else None,  # a stored run's figures, the same on every build
        "ran_at": result.ran_at if ok else None,
        "figures": [
            {"src": figure_url(result, f.path), "width": f.width, "height": f.height, "alt": f.alt,
             "svg": figure_url(result, f.svg_path) if f.svg_path else None}
            for f in result.figures
        ],
    }


def _source_html(source: str, error_line: int | None) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    formatter = HtmlFormatter(nowrap=True, hl_lines=[error_line] if error_line else [],
                              linenos="inline", lineanchors="")
    return highlight(source, PythonLexer(), formatter)
