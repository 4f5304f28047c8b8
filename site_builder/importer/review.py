"""IMPORT, the proof and the review: every non-blank source line found again in a file written, and
IMPORT-REVIEW.md, which lists every guess and quotes every line deliberately left out. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from ..errors import Diagnostic
from .model import Expect, Kept

REVIEW_NAME = "IMPORT-REVIEW.md"


def review_line(d: Diagnostic) -> str:
    """`log.md:118: guessed 2020-04-12 for 'April 12th' (year from the neighbouring sections)`."""
    where = f"{d.path}:{d.line}" if d.line else d.path
    label = "error: " if d.severity == "error" else ""
    return f"{where}: {label}{d.message}" + (f" ({d.hint})" if d.hint else "")


def review_text(source: str, items: list[Diagnostic], kept: tuple[Kept, ...], summary: str) -> str:
    """The review file: what was guessed or chosen, line by line, then the lines left out, as written."""
    quoted = [k for k in kept if k.target == "review"]
    out = [f"# Import review: {source}", "", summary, "",
           "Each line names a place in the log and what the import chose there. Check it, and fix the entry",
           "file it made if the guess is wrong; delete this file when you are done.", ""]
    out += [f"- {review_line(d)}" for d in items] or ["Nothing was guessed."]
    if quoted:
        texts = [f"{k.path}:{k.line}: {value}" for k in quoted for _, value in k.expect]
        fence = "`" * max(3, 1 + max((len(run) for t in texts for run in re.findall(r"`+", t)), default=0))
        out += ["", "## Lines in no entry", "", "What the import left out on purpose, as it was written:", "",
                fence + "text", *texts, fence]
    return "\n".join(out) + "\n"


def missing_lines(kept: tuple[Kept, ...], texts: Mapping[str, str]) -> list[Kept]:
    """The kept lines whose content is not in the text of their target file (none, unless a bug)."""
    fronts: dict[str, dict[str, Any]] = {}
    missing = []
    for item in kept:
        text = texts.get(item.target)
        if text is None or not all(_holds(text, expect, item.target, fronts) for expect in item.expect):
            missing.append(item)
    return missing


def _holds(text: str, expect: Expect, target: str, fronts: dict[str, dict[str, Any]]) -> bool:
    kind, value = expect
    if kind == "body":
        return value in text.split("\n")
    if kind in ("quote", "site-title"):
        return value in text
    front = fronts.get(target)
    if front is None:
        front = fronts[target] = _front_matter(text)
    if kind == "date":
        return str(front.get("date")) == value
    if kind == "title":
        heading = re.search(r"^# (.+)$", text, re.MULTILINE)
        return front.get("title") == value or (heading is not None and heading.group(1).strip() == value)
    if kind == "tag":
        return value in (front.get("tags") or [])
    if kind == "link":
        return value in (front.get("links") or {}).values()
    return False


def _front_matter(text: str) -> dict[str, Any]:
    if not text.startswith("---\n"):
        return {}
    head = text[4:].split("\n---\n", 1)[0]
    try:
        data = yaml.safe_load(head)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}
