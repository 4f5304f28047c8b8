"""NEW (an edge): start today's entry, carrying yesterday's "Next steps", and say where the streak stands.

The text of the new files is made by pure functions; `create_entry` is the only one that writes,
and it never replaces a file: each file is written under a temporary name and hard-linked into
place, which fails when the name is taken (link semantics, like O_EXCL).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .config import SiteConfig
from .entries import EntryRules, load_entries, normalise_tag, readable_date
from .errors import Diagnostic
from .model import Entry
from .streaks import Streaks, compute_streaks

SNIPPET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NEXT_HEADING = re.compile(
    r"^(?:#{1,6}[ \t]+next[ \t]+steps[ \t]*:?[ \t]*#*|\*\*next[ \t]+steps:?\*\*:?|__next[ \t]+steps:?__:?)[ \t]*$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^[ \t]{0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_PLAN_HEADING = "## Plan"


class NewEntryError(Exception):
    """The entry (or its snippet) cannot be created; the message says why and what to do."""


@dataclass(frozen=True)
class NewEntry:
    entry_path: Path
    snippet_path: Path | None
    carried: tuple[str, ...]  # the "Next steps" items carried into the plan
    carried_from: str | None  # the entry they came from
    streak_message: str
    problems: tuple[Diagnostic, ...]  # found while reading the other entries (shown as warnings)


def next_steps(body: str) -> list[str]:
    """Pure: the bullet items under the last 'Next steps' heading (`## Next steps` or `**Next steps**`)."""
    lines = body.replace("\r\n", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if _NEXT_HEADING.match(line.strip())]
    if not starts:
        return []
    items: list[str] = []
    for line in lines[starts[-1] + 1 :]:
        bullet = _BULLET.match(line)
        if bullet:
            items.append(bullet.group(1).rstrip())
        elif not line.strip():
            continue
        elif items and line.startswith((" ", "\t")):  # a wrapped item goes on
            items[-1] += " " + line.strip()
        else:
            break
    return [i for i in (re.sub(r"^\[[ xX]\][ \t]*", "", item) for item in items) if i.strip()]


def entry_text(date: dt.date, title: str | None, tags: list[str], plan: list[str],
               snippet: str | None) -> str:
    """Pure: the Markdown of a new entry; the plan is the previous entry's next steps."""
    front = [f"date: {date.isoformat()}", f"title: {_yaml_str(title or readable_date(date))}",
             f"tags: [{', '.join(_yaml_str(t) for t in tags)}]"]
    if snippet:
        front.append(f"snippets: [{snippet}]")
    body: list[str] = []
    if plan:
        body += [_PLAN_HEADING, "", *(f"- {item}" for item in plan), ""]
    if snippet:
        body += [f"```{{snippet}} {snippet}", "```", ""]
    body.append("")
    return "---\n" + "\n".join(front) + "\n---\n\n" + "\n".join(body).rstrip("\n") + "\n"


def snippet_text(name: str, title: str, entry: str) -> str:
    """Pure: a small snippet that prints a line and draws one titled figure."""
    return f'''"""{title.replace(chr(34) * 3, "")}.

Linked from {entry}; it runs during the build and its output and figure appear in the entry.
"""

import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 200)
y = np.sin(x)
print(f"max of sin on [0, 2pi]: {{y.max():.3f}}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(x, y, label="sin(x)")
ax.set_title({title!r})
ax.set_xlabel("x")
ax.legend()
'''


def streak_message(earlier: list[dt.date], date: dt.date, rule: str = "daily", challenge_days: int = 0) -> str:
    """Pure: where the learner stands once `date` is logged, given the days logged before it."""
    now = compute_streaks([*earlier, date], date, rule, challenge_days)
    before = sorted(d for d in earlier if d < date)
    if now.current > 1:
        text = f"Day {now.current} of your streak."
    elif not before:
        text = "Day 1: your first entry. Welcome!"
    else:
        last = before[-1]
        ended = compute_streaks(before, last, rule).current
        text = (f"Your {ended}-day streak ended on {last.isoformat()}; today starts a new one."
                if ended > 1 else f"Your last entry was on {last.isoformat()}; today starts a new streak.")
    return text + _challenge(now)


def _challenge(s: Streaks) -> str:
    return f" Day {s.challenge_day} of your {s.challenge_days}-day challenge." if s.challenge_days else ""


def split_tags(text: str) -> list[str]:
    """`--tags "keras cnn"` or `--tags keras,cnn`: space- or comma-separated, normalised as entries are."""
    return [t for t in (normalise_tag(t) for t in re.split(r"[,\s]+", text)) if t]


def create_entry(config: SiteConfig, date: dt.date, title: str | None = None, tags: str | list[str] = "",
                 snippet: str | None = None) -> NewEntry:
    """Write entries/DATE.md (and snippets/NAME.py); raise NewEntryError rather than replace anything.
    `tags` is a list, or the text of `--tags` (see split_tags)."""
    entries_dir = config.path("entries_dir")
    entry_path = entries_dir / f"{date.isoformat()}.md"
    existing, problems = load_entries(config.root, entries_dir, EntryRules(config.day_ends_at, timezone=config.timezone)) \
        if entries_dir.is_dir() else ([], [])
    same_day = [e for e in existing if e.date == date] + ([] if not entry_path.exists() else [None])
    if same_day:
        where = same_day[0].path if same_day[0] is not None else _rel(entry_path, config.root)
        raise NewEntryError(f"{where}: there is already an entry for {date.isoformat()}; "
                            "it was left as it is (open it, or pass another date)")
    snippet_path = _check_snippet(config, snippet)
    previous = _previous(existing, date)
    plan = next_steps(previous.body) if previous else []
    tag_list = split_tags(tags) if isinstance(tags, str) else [t for t in map(normalise_tag, tags) if t]
    text = entry_text(date, title, tag_list, plan, snippet)
    if snippet_path is not None:
        entry_rel = _rel(entry_path, config.root)
        _write_new(snippet_path, snippet_text(snippet or "", title or f"Snippet {snippet}", entry_rel))
    try:
        _write_new(entry_path, text)
    except FileExistsError:
        if snippet_path is not None:
            snippet_path.unlink()  # we made it a moment ago: leave nothing half done
        raise NewEntryError(f"{_rel(entry_path, config.root)}: already exists; it was left as it is") from None
    published = [e.date for e in existing if not e.draft]
    message = streak_message(published, date, config.streak_rule, config.challenge_days)
    return NewEntry(entry_path, snippet_path, tuple(plan), previous.path if previous and plan else None,
                    message, tuple(problems))


def _check_snippet(config: SiteConfig, snippet: str | None) -> Path | None:
    if snippet is None:
        return None
    if not SNIPPET_NAME.match(snippet):
        raise NewEntryError(f"'{snippet}' is not a snippet name: use letters, digits and _ "
                            "(a Python module name not starting with _)")
    path = config.path("snippets_dir") / f"{snippet}.py"
    if path.exists():
        raise NewEntryError(f"{_rel(path, config.root)}: already exists; it was left as it is "
                            "(link it with 'snippets: [" + snippet + "]' or choose another name)")
    return path


def _previous(entries: list[Entry], date: dt.date) -> Entry | None:
    earlier = [e for e in entries if e.date < date]
    return max(earlier, key=lambda e: (e.date, e.path)) if earlier else None


def _write_new(path: Path, text: str) -> None:
    """Write `text` to a fresh file at `path`; FileExistsError if the name is taken meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # fails if `path` exists: never replaces a file
    finally:
        os.unlink(tmp)


def _yaml_str(text: str) -> str:
    """Plain when YAML reads it back as the same string (not `yes`, `null`, `1.0`), else quoted."""
    try:
        plain_ok = yaml.safe_load(f"k: [{text}]") == {"k": [text]}
    except yaml.YAMLError:
        plain_ok = False
    return text if plain_ok else json.dumps(text, ensure_ascii=False)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
