"""EXECUTE: run the log's snippets in subprocesses, with a content-addressed cache.

Names load lazily (PEP 562): the child process imports `harness` through this package and must
not pay for the runner, the cache or rich.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import format_table, write_junit
    from .runner import ProgressEvent, SnippetSettings, cached_results, run_snippets  # noqa: F401
    from .sources import available_snippets, imported_helpers
    from .why import Explanation, explain

_EXPORTS = {
    "SnippetSettings": "runner",
    "ProgressEvent": "runner",
    "available_snippets": "sources",
    "imported_helpers": "sources",
    "run_snippets": "runner",
    "cached_results": "runner",
    "Explanation": "why",
    "explain": "why",
    "format_table": "report",
    "write_junit": "report",
}
__all__ = [
    "Explanation",
    "ProgressEvent",
    "SnippetSettings",
    "available_snippets",
    "explain",
    "format_table",
    "imported_helpers",
    "run_snippets",
    "write_junit",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
