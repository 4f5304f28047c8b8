"""IMPORT, data: what splitting a single-file log gives. No I/O here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import Diagnostic


@dataclass(frozen=True)
class ImportedEntry:
    """One dated section of a log, ready to become `entries/YYYY-MM-DD.md`."""

    date: dt.date
    title: str | None
    tags: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (label, url) in the order written
    body: str  # the section's lines as written, less Tags:/link lines; ends with "\n" unless empty
    source_line: int  # 1-based line of the section's heading (1 for a one-file-per-day file)
    day_number: int | None


@dataclass(frozen=True)
class ImportResult:
    entries: tuple[ImportedEntry, ...]  # sorted by date, one per date
    diagnostics: tuple[Diagnostic, ...]
    declared_current: int | None
    declared_best: int | None


WriteAction = Literal["write", "exists-skip"]


@dataclass(frozen=True)
class ImportReport:
    """What `import_log` did: the parse, and per entry file what happened (or would)."""

    result: ImportResult
    actions: tuple[tuple[Path, WriteAction], ...]
    diagnostics: tuple[Diagnostic, ...]  # the parse's, plus a warning per skipped file
    written: bool  # False on a dry run or when errors stopped the import
