"""BUILDS: what one build (or check) is asked for, and what it reports. Apart from the model: the
no-change check answers with these alone, before the rest of the package is imported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Diagnostic

if TYPE_CHECKING:
    from .model import SnippetResult
    from .streaks import Streaks


@dataclass(frozen=True)
class BuildOptions:
    """What one `build`/`check` run was asked for on the command line."""

    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    today: dt.date | None = None
    timeout: float | None = None
    jobs: int | None = None
    fresh: bool = False
    run_snippets: bool = True  # False: cached outputs only, never run (a preview shows them at once)
    shard: tuple[int, int] | None = None  # `check --shard K/N`: run only share K of N of the snippets


@dataclass(frozen=True)
class SnippetCounts:
    ran: int = 0
    cached: int = 0
    failed: int = 0


@dataclass(frozen=True)
class BuildReport:
    pages: int  # pages in the site
    pages_written: int  # files whose bytes changed this run
    entries: int
    seconds: float
    streaks: Streaks | None
    snippets: SnippetCounts
    snippet_results: tuple[SnippetResult, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    output_dir: str = ""
