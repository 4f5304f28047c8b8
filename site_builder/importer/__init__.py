"""IMPORT (an edge): split a one-README learning log, or a folder of day files, into entry files.

Pure in the middle (`parse_log`, `entry_file_text`), I/O at the edges (`parse_folder`,
`write_entries`, `import_log`).
"""

from __future__ import annotations

from .folder import parse_folder
from .log import parse_log
from .model import ImportedEntry, ImportReport, ImportResult, WriteAction
from .write import entry_file_text, import_log, write_entries

__all__ = [
    "ImportReport",
    "ImportResult",
    "ImportedEntry",
    "WriteAction",
    "entry_file_text",
    "import_log",
    "parse_folder",
    "parse_log",
    "write_entries",
]
