"""IMPORT, writing (the edge): entry files with front matter, never over an existing file."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from pathlib import Path

import yaml

from ..errors import Diagnostic, errors_in
from .model import ImportedEntry, ImportReport, ImportResult, WriteAction

log = logging.getLogger(__name__)


def entry_file_text(entry: ImportedEntry) -> str:
    """Front matter (date, title?, tags?, links?) then the body, unchanged. Pure.

    The title is left out when the body opens with it as a `# Heading`, which the entry
    loader reads as the title (and so does not show twice).
    """
    head: dict[str, object] = {"date": entry.date}
    if entry.title and not _leads_with_heading(entry.body, entry.title):
        head["title"] = entry.title
    parts = [_dump(head, block=True)]
    if entry.tags:
        parts.append(_dump({"tags": list(entry.tags)}, block=False))
    if entry.links:
        parts.append(_dump({"links": dict(entry.links)}, block=True))
    return "---\n" + "".join(parts) + "---\n" + entry.body


def _leads_with_heading(body: str, title: str) -> bool:
    """A body that opens with `# <title>`: the entry loader takes its title from there."""
    first = next((line for line in body.split("\n") if line.strip()), "")
    return first.startswith("# ") and first[2:].strip(" \t#") == title


def _dump(data: dict[str, object], *, block: bool) -> str:
    # Flow style for the tag list (`tags: [a, b]`), block style for everything else.
    for allow_unicode in (True, False):
        text: str = yaml.safe_dump(
            data,
            sort_keys=False,
            allow_unicode=allow_unicode,
            default_flow_style=False if block else None,
            width=2**31 - 1,  # never fold a long title over two lines
        )
        # PyYAML writes NEL and the Unicode line separators raw, and then reads them as
        # line breaks: escape everything in the rare text where that happens.
        if yaml.safe_load(text) == data:
            break
    return text


def entry_path(into: Path, date: dt.date) -> Path:
    return into / f"{date.isoformat()}.md"


def write_entries(result: ImportResult, into: Path, dry_run: bool) -> list[tuple[Path, WriteAction]]:
    """Write each entry to `into/YYYY-MM-DD.md`; an existing file is left as it is ("exists-skip")."""
    actions: list[tuple[Path, WriteAction]] = []
    if not dry_run and result.entries:
        into.mkdir(parents=True, exist_ok=True)
    for entry in result.entries:
        path = entry_path(into, entry.date)
        if path.exists():
            actions.append((path, "exists-skip"))
        elif dry_run:
            actions.append((path, "write"))
        else:
            created = _create_new(path, entry_file_text(entry))
            actions.append((path, "write" if created else "exists-skip"))
    return actions


def _create_new(path: Path, text: str) -> bool:
    """Write `text` to a new file atomically; False (nothing written) if `path` already exists.

    The temporary file is linked into place rather than `os.replace`d, so a file that
    appears meanwhile is never overwritten.
    """
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links
            if path.exists():
                return False
            os.replace(temp, path)
            return True
        log.debug("wrote %s", path)
        return True
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def import_log(
    source: Path, into: Path, *, dry_run: bool = False, start: dt.date | None = None
) -> ImportReport:
    """Read a log (a file, or a folder of day files), then write its entries.

    Nothing is written when the log has errors: read everything, then write.
    """
    from .folder import parse_folder
    from .log import parse_log

    if source.is_dir():
        result = parse_folder(source, start)
    else:
        result = parse_log(source.read_text(encoding="utf-8"), source.as_posix(), start)
    failed = bool(errors_in(result.diagnostics))
    actions = [] if failed and not dry_run else write_entries(result, into, dry_run)
    skipped = [
        Diagnostic(path.as_posix(), None, "already exists, so it was left as it is", "warning",
                   "merge the imported day by hand, or move the file away and import again")
        for path, action in actions
        if action == "exists-skip"
    ]  # fmt: skip
    written = not failed and not dry_run
    return ImportReport(result, tuple(actions), result.diagnostics + tuple(skipped), written)
