"""PRESENT: a SnippetResult as the values the theme shows (highlighted source, badge, figure URLs). Pure."""

from __future__ import annotations

from typing import Any

from .model import SnippetResult

BADGES = {
    "ok": ("ran", "ok"),
    "cached": ("from cache", "cached"),
    "failed": ("failed", "failed"),
    "timeout": ("timed out", "failed"),
    "error": ("could not run", "failed"),
}


def figure_url(result: SnippetResult, path: str) -> str:
    """Where a figure file of `result` lives in the site (relative to the site root)."""
    return f"figures/{result.name}/{result.key[:16]}/{path}"


def snippet_view(result: SnippetResult) -> dict[str, Any]:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonTracebackLexer

    status = "cached" if result.status == "ok" and result.from_cache else result.status
    label, tone = BADGES[status]
    return {
        "name": result.name,
        "status": status,
        "badge": label,
        "tone": tone,
        "ok": result.status == "ok",
        "source_html": _source_html(result.source, result.error_line),
        "stdout": result.stdout,
        "stderr": result.stderr,
        "traceback_html": highlight(result.traceback, PythonTracebackLexer(), HtmlFormatter(nowrap=True))
        if result.traceback else "",
        "raised_as_expected": result.status == "ok" and bool(result.traceback),
        "error_line": result.error_line,
        "seconds": result.seconds,
        "ran_at": result.ran_at,
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
