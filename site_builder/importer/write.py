"""IMPORT, writing files: entry files with front matter and the About page, never over an existing file."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from pathlib import Path

import yaml

from .model import AboutPage, ImportedEntry, ImportResult, WriteAction

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


def about_file_text(about: AboutPage, *, keep_title: bool) -> str:
    """pages/about.md, first in the navigation; the log's title heading stays when it is not the site's."""
    head = "---\ntitle: About\nweight: 1\n---\n"
    return head + (f"# {about.site_title}\n\n" if keep_title and about.site_title else "") + about.body


def write_entries(result: ImportResult, into: Path, dry_run: bool) -> list[tuple[Path, WriteAction]]:
    """Write each entry to `into/YYYY-MM-DD.md`; an existing file is left as it is ("exists-skip")."""
    return [write_new(entry_path(into, e.date), entry_file_text(e), dry_run) for e in result.entries]


def write_new(path: Path, text: str | bytes, dry_run: bool) -> tuple[Path, WriteAction]:
    """Write `text` to `path` unless a file is there already (or on a dry run: say what would be)."""
    if path.exists():
        return path, "exists-skip"
    if dry_run:
        return path, "write"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, "write" if _create_new(path, text) else "exists-skip"


def replace_file(path: Path, text: str) -> None:
    """Write our own file (the review) atomically, over its last version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(temp, path)


def _create_new(path: Path, text: str | bytes) -> bool:
    """Write `text` to a new file atomically; False (nothing written) if `path` already exists.

    The temporary file is linked into place rather than `os.replace`d, so a file that
    appears meanwhile is never overwritten.
    """
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
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
