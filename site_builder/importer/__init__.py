"""IMPORT (an edge): a one-README learning log, or a folder of day files, into entry files, an About
page and a review of every guess.

Pure in the middle (`parse_log`, `parse_day_files`, `entry_file_text`), I/O at the edges
(`parse_folder`, `import_log`).
"""

from __future__ import annotations

from .folder import parse_folder
from .log import parse_log
from .model import AboutPage, ImportedEntry, ImportReport, ImportResult, Kept, WriteAction
from .review import REVIEW_NAME, review_line
from .run import import_log
from .write import entry_file_text, write_entries

__all__ = [
    "REVIEW_NAME",
    "AboutPage",
    "ImportReport",
    "ImportResult",
    "ImportedEntry",
    "Kept",
    "WriteAction",
    "entry_file_text",
    "import_log",
    "parse_folder",
    "parse_log",
    "review_line",
    "write_entries",
]
