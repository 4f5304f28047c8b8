"""IMPORT, data: what splitting a log gives, and where each of its lines went. No I/O here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import Diagnostic

# Review items are warnings with a code. --strict refuses what the importer once refused: a guessed
# date, a date it cannot read (UNREADABLE: skipped), two sections for one day, a range. A skipped
# template, comment or empty heading, and a declared streak, are only said.
GUESS, UNREADABLE, MERGED, RANGE = "import-guess", "import-unreadable", "import-merged", "import-range"
SKIPPED, STREAK = "import-skipped", "import-streak"
STRICT_REFUSES = frozenset({GUESS, UNREADABLE, MERGED, RANGE})


@dataclass(frozen=True)
class ImportedEntry:
    """One day of a log (one or more of its sections), ready to become `entries/YYYY-MM-DD.md`."""

    date: dt.date
    title: str | None
    tags: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (label, url) in the order written
    body: str  # the section's lines as written, less Tags:/link lines; ends with "\n" unless empty
    source_line: int  # 1-based line of the section's heading (1 for a one-file-per-day file)
    day_number: int | None


Expect = tuple[str, str]  # ("body" | "date" | "title" | "tag" | "link" | "site-title" | "quote", text)
Target = str  # "entry:YYYY-MM-DD", "about", "config" or "review"


@dataclass(frozen=True)
class Kept:
    """A non-blank source line, the file it went to, and what that file must hold to prove it."""

    path: str
    line: int  # 1-based
    target: Target
    expect: tuple[Expect, ...]


@dataclass(frozen=True)
class AboutPage:
    """What stood before the first day (and the sections with no date): an undated page."""

    body: str
    site_title: str | None  # the log's first '# heading', for a site with no title configured
    title_line: int | None  # its line (1-based): kept in the body when the title is not used


@dataclass(frozen=True)
class Declared:
    """A streak the log states ('### Current streak: 11 days'), to compare with its dates."""

    path: str
    line: int
    kind: Literal["current", "best"]
    days: int


@dataclass(frozen=True)
class ImportResult:
    entries: tuple[ImportedEntry, ...]  # sorted by date, one per date
    diagnostics: tuple[Diagnostic, ...]  # the review items (warnings with the codes above) and any others
    declared: tuple[Declared, ...] = ()
    about: AboutPage | None = None
    kept: tuple[Kept, ...] = ()  # every non-blank source line, once
    total_lines: int = 0  # non-blank source lines
    assets: tuple[tuple[str, str], ...] = ()  # (path in the folder, real path): files beside day files

    def declared_days(self, kind: str) -> int | None:
        return next((d.days for d in self.declared if d.kind == kind), None)


WriteAction = Literal["write", "exists-skip"]


@dataclass(frozen=True)
class ImportReport:
    """What `import_log` did: the parse, and per file what happened (or would)."""

    result: ImportResult
    actions: tuple[tuple[Path, WriteAction], ...]
    diagnostics: tuple[Diagnostic, ...]  # the parse's, the streak comparison, a warning per skipped file
    written: bool  # False on a dry run or when errors stopped the import
    kept: int = 0  # source lines found again in the files written (or that would be)
    total: int = 0
    review_path: Path | None = None
    missing: tuple[Kept, ...] = ()  # lines the check did not find: a bug in the importer, never expected
