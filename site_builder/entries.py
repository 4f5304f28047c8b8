"""LOAD: find the dated Markdown entries, split and validate their front matter into Entry values.

Every problem is collected as a Diagnostic with the line of the entry file it concerns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .confine import Walked, walk_tree
from .errors import Diagnostic, did_you_mean, not_utf8
from .frontmatter import KeyLines, local_time, parse_date, parse_yaml, shown, split_front_matter
from .links import LinkContext
from .model import CALLOUTS, CELLS_PREFIX, Entry, SnippetRef
from .slugs import slugify
from .streaks import log_day

# A date, then nothing or any separator and the rest: "2018-09-21", "2018-09-21 my entry", "2018-09-21_x".
FILE_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[-_. ]+(.*))?$", re.DOTALL)
DIRECTIVE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*\{snippet\}\s*(.*?)\s*$")
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CALLOUT_INFO = re.compile(r"\s*\{([A-Za-z][\w-]*)\}")
CELL_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})\s*\{(python|code-cell)\}", re.MULTILINE)
KEYS = ("date", "title", "tags", "links", "snippets", "draft", "streak")
ENTRY_FORMAT = 3  # bump when parsing a file gives another Entry (2: an entry's ```{python} cells are a snippet; 3: snippets in callouts)
@dataclass(frozen=True)
class EntryRules:
    """What entry parsing needs from the configuration."""

    day_ends_at: int = 0
    known_snippets: frozenset[str] | None = None  # None: do not check names
    timezone: str = "UTC"  # a time with an offset is read as wall-clock time here
    entries_dir: str = "entries"  # POSIX, relative to the root: where relative links start from
    static_dir: str = "static"

    @cached_property
    def key(self) -> str:
        """A digest, the same in every process (a frozenset's repr follows the hash seed): it is
        in the cache key of every entry, and the names of a hundred snippets are 2 KB."""
        known = None if self.known_snippets is None else sorted(self.known_snippets)
        rules = (ENTRY_FORMAT, self.day_ends_at, known, self.timezone, self.entries_dir, self.static_dir)
        return hashlib.sha1(repr(rules).encode("utf-8", "surrogatepass")).hexdigest()

    def links_for(self, entry: Entry) -> LinkContext:
        return LinkContext(entry.path, self.entries_dir, self.static_dir, f"entries/{entry.slug}/",
                           entry.body_first_line)


ScannedFile = tuple[str, str, tuple[int, int, int]]  # (path from the root, real path to read, stat)


def scan_entry_files(root: Path, entries_dir: Path, walked: Walked | None = None
                     ) -> tuple[list[ScannedFile], list[Diagnostic]]:
    """Every entry file (sorted, one stat each) and the links refused on the way (confine.py):
    a symlinked entry is read as its target, and only when that is inside the log. `walked`: a
    walk of `entries_dir` keeping more names, made already (incremental.freshness)."""
    found, problems = (walked or walk_tree(root, entries_dir, _is_entry_name)).only(_is_entry_name)
    return [(f.shown, f.path, f.stat) for f in found], problems


def _is_entry_name(name: str) -> bool:
    return name.endswith(".md")


def read_entry_files(root: Path, entries_dir: Path) -> tuple[list[tuple[str, bytes]], list[Diagnostic]]:
    """(path relative to root, bytes) of every entry file: the only I/O of this stage."""
    scanned, problems = scan_entry_files(root, entries_dir)
    out = []
    for rel, full, _ in scanned:
        try:
            with open(full, "rb") as f:
                out.append((rel, f.read()))
        except OSError as exc:  # removed or made unreadable since the scan
            problems.append(Diagnostic(rel, None, f"cannot read this file: {exc.strerror}"))
    return out, problems


def entry_cache_key(path: str, data: bytes, rules: EntryRules) -> str:
    return entry_key(path, hashlib.sha256(data).hexdigest(), rules.key)


def entry_key(path: str, sha256: str, rules_key: str) -> str:
    """An entry's cache key from the SHA-256 of its bytes (a file seen unchanged is not read again)."""
    return f"{path}\0{sha256}\0{rules_key}"


def load_entries(
    root: Path, entries_dir: Path, rules: EntryRules, cache: dict[str, Any] | None = None
) -> tuple[list[Entry], list[Diagnostic]]:
    """Read and validate every entry; `cache` maps entry_cache_key() to an earlier parse."""
    files, problems = read_entry_files(root, entries_dir)
    parsed: list[tuple[Entry | None, list[Diagnostic]]] = [(None, problems)]
    for path, data in files:
        key = entry_cache_key(path, data, rules)
        if cache is None or key not in cache:
            result = parse_entry(path, data, rules)
            if cache is None:
                parsed.append(result)
                continue
            cache[key] = result
        parsed.append(cache[key])
    return collect_entries(parsed)


def collect_entries(
    parsed: Iterable[tuple[Entry | None, list[Diagnostic]]],
) -> tuple[list[Entry], list[Diagnostic]]:
    """Merge per-file parses: all diagnostics, entries sorted by date, one entry per day."""
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    for entry, problems in parsed:
        diagnostics += problems
        if entry is not None:
            entries.append(entry)
    diagnostics += duplicate_dates(entries)
    entries.sort(key=lambda e: (e.date, e.slug))
    return entries, diagnostics


def duplicate_dates(entries: Iterable[Entry]) -> list[Diagnostic]:
    seen: dict[dt.date, Entry] = {}
    out = []
    for entry in sorted(entries, key=lambda e: e.path):
        if entry.draft:
            continue
        if entry.date in seen:
            first = seen[entry.date]
            out.append(Diagnostic(entry.path, 1, f"a second entry for {entry.date} (the first is {first.path})",
                                  hint="merge the two files, or change one date"))
        else:
            seen[entry.date] = entry
    return out


def parse_entry(path: str, data: bytes, rules: EntryRules) -> tuple[Entry | None, list[Diagnostic]]:
    """Pure: the bytes of one entry file -> an Entry (or None) and its problems."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [not_utf8(path, data, exc)]
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line ends count as one
    problems: list[Diagnostic] = []
    front, body, body_line = split_front_matter(text, path, problems)
    if front is None:
        return None, problems
    meta = parse_yaml(front, path, problems)
    if meta is None:
        return None, problems
    lines = KeyLines(front)
    for key in meta:
        if key not in KEYS:
            problems.append(Diagnostic(path, lines.of(key), f"unknown front matter key '{key}'", "warning",
                                       did_you_mean(str(key), KEYS)))
    stem = Path(path).stem if Path(path).name != "index.md" else Path(path).parent.name  # a page bundle
    name_match = FILE_NAME.match(stem)
    date, timestamp = _entry_date(meta, name_match, path, lines, rules, problems)
    if date is None:
        return None, problems
    title, body, body_line = _title(meta, body, body_line, date, path, lines, problems)
    slug = _entry_slug(name_match, stem, date)
    entry = Entry(
        path=path,
        date=date,
        slug=slug,
        title=title,
        tags=_tags(meta.get("tags"), path, lines, problems),
        links=read_links(meta.get("links"), path, lambda: lines.of("links"), problems),
        snippets=read_snippet_refs(meta.get("snippets"), body, body_line, path, lines, rules, problems, slug),
        draft=read_typed(meta, "draft", bool, False, path, lines, problems),
        declared_streak=read_typed(meta, "streak", int, None, path, lines, problems),
        body=body,
        body_first_line=body_line,
        digest=hashlib.sha256(data).hexdigest(),
        timestamp=timestamp,
        streak_line=lines.of("streak") if "streak" in meta else 0,
    )
    return entry, problems


def _entry_date(meta: dict[str, Any], name_match: re.Match[str] | None, path: str, lines: KeyLines,
                rules: EntryRules, problems: list[Diagnostic]) -> tuple[dt.date | None, dt.datetime | None]:
    """(log day, timestamp when a time was given): the front matter's date wins, checked against
    the file name's."""
    date = _file_date(name_match, path, problems)
    if "date" not in meta:
        if date is None and name_match is None:
            problems.append(Diagnostic(path, 1, "no date: the file name has none and the front matter no 'date'",
                                       hint="name the file YYYY-MM-DD.md or add 'date: YYYY-MM-DD'"))
        return date, None
    parsed = parse_date(meta["date"], path, lambda: lines.of("date"), problems)
    if parsed is None:
        return date, None
    timestamp = None
    try:
        if isinstance(parsed, dt.datetime):
            timestamp = local_time(parsed, rules.timezone)
            day = log_day(timestamp, rules.day_ends_at)
        else:
            day = parsed
    except OverflowError:  # 0001-01-01 00:30 is the day before year 1 once day_ends_at or a time zone moves it
        problems.append(Diagnostic(path, lines.of("date"), f"date '{meta['date']}' falls outside the years "
                                   f"1 to 9999 on the clock of {rules.timezone}", hint="check the year"))
        return None, None
    if date is not None and day != date:
        problems.append(_disagreeing_date(path, lines.of("date"), meta["date"], day, date, timestamp, rules))
    return day, timestamp


def _disagreeing_date(path: str, line: int, written: Any, day: dt.date, named: dt.date,
                      timestamp: dt.datetime | None, rules: EntryRules) -> Diagnostic:
    """The front matter's day is not the one its file (or a bundle's folder) is named after;
    when the day-end hour moved it, say so, or the two dates look the same."""
    what = "folder" if Path(path).name == "index.md" else "file"
    hint = f"rename the {what} or fix the date"
    if timestamp is not None and day != timestamp.date():
        return Diagnostic(path, line, f"date '{written}' counts for {day}, since the day ends at "
                          f"{rules.day_ends_at}:00; the {what} name says {named}", hint=hint)
    return Diagnostic(path, line, f"date {day} disagrees with the {what} name ({named})", hint=hint)


def _entry_slug(name_match: re.Match[str] | None, stem: str, date: dt.date) -> str:
    """'2018-09-21 My entry' -> '2018-09-21-my-entry'; a name without a date gets the entry's.
    Everything after the date goes through slugify, so no name can make a path that climbs."""
    if name_match is None:
        return f"{date.isoformat()}-{slugify(stem, 'entry')}"
    day = f"{name_match[1]}-{name_match[2]}-{name_match[3]}"
    rest = slugify(name_match[4] or "", fallback="")
    return f"{day}-{rest}" if rest else day


def _file_date(match: re.Match[str] | None, path: str, problems: list[Diagnostic]) -> dt.date | None:
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        problems.append(Diagnostic(path, 1, f"the file name's date is impossible: {exc}",
                                   hint="rename the file to a real calendar date"))
        return None


def readable_date(date: dt.date) -> str:
    return f"{date:%A}, {date.day} {date:%B %Y}"


def _title(meta: dict[str, Any], body: str, body_line: int, date: dt.date, path: str, lines: KeyLines,
           problems: list[Diagnostic]) -> tuple[str, str, int]:
    """Front matter title, else a leading '# Heading' (taken out of the body), else the date."""
    if "title" in meta and meta["title"] is not None:
        if isinstance(meta["title"], (dict, list)):
            problems.append(Diagnostic(path, lines.of("title"), "title must be text"))
        else:
            return str(meta["title"]).strip(), body, body_line
    m = re.match(r"(\s*\n)*#[ \t]+(.+?)[ \t#]*\n", body + "\n")
    if m:
        consumed = body[: m.end()].count("\n")
        return m.group(2).strip(), body[m.end():], body_line + consumed
    return readable_date(date), body, body_line


def normalise_tag(tag: str) -> str:
    """'#Machine_Learning' -> 'machine-learning'; '../../x' -> 'x', '..' -> '' (a tag is a path segment)."""
    return slugify(re.sub(r"[\s_]+", "-", tag.strip().lstrip("#").strip().lower()), fallback="")


def _tags(value: Any, path: str, lines: KeyLines, problems: list[Diagnostic]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raw = re.split(r"[,\s]+", value) if "," not in value else value.split(",")
    elif isinstance(value, list):
        raw = [str(t) for t in value if _is_tag_item(t)]
        for i, item in enumerate(value):
            if not _is_tag_item(item):
                problems.append(Diagnostic(path, lines.item("tags", i), f"tag {i + 1} must be text, "
                                           f"not {type(item).__name__}", hint="e.g. 'tags: [keras, cnn]'"))
    else:
        problems.append(Diagnostic(path, lines.of("tags"), f"tags must be a list or a space-separated string, "
                                   f"not {type(value).__name__}", hint="e.g. 'tags: [keras, cnn]'"))
        return ()
    tags = {raw_tag: normalise_tag(raw_tag) for raw_tag in raw}
    for raw_tag, tag in tags.items():
        if raw_tag.strip().lstrip("#").strip() and not tag:
            problems.append(Diagnostic(path, lines.of("tags"), f"tag '{raw_tag.strip()}' has no letter or digit "
                                       "to name its page by; it is left out", "warning"))
    return tuple(dict.fromkeys(t for t in tags.values() if t))


def _is_tag_item(item: Any) -> bool:
    return isinstance(item, (str, int, float)) and not isinstance(item, bool)


# --- front-matter keys that entries and undated pages (undated.py) read alike ---


def read_links(value: Any, path: str, line: Callable[[], int], problems: list[Diagnostic]) -> tuple[tuple[str, str], ...]:
    """`links:` as (label, URL) pairs: a map, or a list (labelled "link 1", ...)."""
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = {f"link {i}": v for i, v in enumerate(value, 1)}
    if not isinstance(value, dict):
        problems.append(Diagnostic(path, line(), "links must map a label to a URL",
                                   hint="e.g. 'links: {colab: https://...}'"))
        return ()
    out = []
    for label, url in value.items():
        if not isinstance(url, str) or not re.match(r"^(https?://|/|\.|#)", url.strip()):
            problems.append(Diagnostic(path, line(), f"link '{label}' is not a URL: {shown(url)}", "warning"))
            continue
        out.append((str(label), url.strip()))
    return tuple(out)


def read_snippet_refs(value: Any, body: str, body_line: int, path: str, lines: KeyLines, rules: EntryRules,
                      problems: list[Diagnostic], slug: str) -> tuple[SnippetRef, ...]:
    """The snippets a file names: `snippets:`, then its ```{snippet} blocks, then its own cells."""
    refs: list[SnippetRef] = []
    if isinstance(value, str):
        value = [value]
    if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        problems.append(Diagnostic(path, lines.of("snippets"), "snippets must be a list of snippet names",
                                   hint="e.g. 'snippets: [max_pooling]'"))
        value = None
    known = rules.known_snippets
    for i, name in enumerate(value or []):
        name = _snippet_name(name)
        # the line is only worth a YAML compose when it goes into an error message
        refs.append(SnippetRef(name, lines.item("snippets", i) if known is not None and name not in known else 0))
    refs += body_directives(body, body_line)
    for ref in refs:
        if not ref.name:
            problems.append(Diagnostic(path, ref.line, "a snippet directive needs a name",
                                       hint="write ```{snippet} NAME"))
        elif len(ref.name.split()) > 1:
            problems.append(Diagnostic(path, ref.line, f"a snippet directive takes one name, not '{ref.name}'",
                                       hint="write one ```{snippet} NAME per snippet"))
        elif rules.known_snippets is not None and ref.name not in rules.known_snippets:
            problems.append(Diagnostic(path, ref.line, f"unknown snippet '{ref.name}'",
                                       hint=did_you_mean(ref.name, rules.known_snippets)
                                       or "add snippets/" + ref.name + ".py"))
    return tuple(refs) + _cells_ref(body, body_line, slug)


def _cells_ref(body: str, body_line: int, slug: str) -> tuple[SnippetRef, ...]:
    """An entry with ```{python} cells runs them as one snippet of its own, shown in place."""
    m = CELL_FENCE.search(body)
    if m is None:
        return ()
    return (SnippetRef(CELLS_PREFIX + slug, body_line + body.count("\n", 0, m.start()), inline=True),)


def _snippet_name(name: str) -> str:
    name = name.strip()
    return name.removesuffix(".py").removesuffix(".ipynb")


def body_directives(body: str, body_line: int) -> list[SnippetRef]:
    """```{snippet} NAME fences, skipping anything inside other fenced blocks but callouts
    (````{note}), whose content is Markdown that the renderer parses: a snippet in a note runs."""
    if "{snippet}" not in body:  # most entries: no need to walk the lines
        return []
    refs = []
    fence: str | None = None  # the code block the line is in
    callouts: list[str] = []  # the callout fences around it, innermost last
    for offset, line in enumerate(body.split("\n")):
        if fence is not None:
            fence = None if _closes(line, fence) else fence
        elif callouts and _closes(line, callouts[-1]):
            callouts.pop()
        else:
            d = DIRECTIVE.match(line)
            if d:
                refs.append(SnippetRef(_snippet_name(d.group(2)), body_line + offset, inline=True))
            m = FENCE.match(line)
            if m and (c := CALLOUT_INFO.match(line, m.end())) and c.group(1) in CALLOUTS:
                callouts.append(m.group(1))
            elif m:
                fence = m.group(1)
    return refs


def _closes(line: str, fence: str) -> bool:
    """Whether `line` ends a block opened by `fence` (the same character, at least as many)."""
    bare = line.strip()
    return bare.startswith(fence[0] * len(fence)) and not bare.strip(fence[0])


def read_typed(meta: dict[str, Any], key: str, kind: type, default: Any, path: str, lines: KeyLines,
               problems: list[Diagnostic]) -> Any:
    """A bool or int key; a value of another type is a problem at its line, and the default."""
    value = meta.get(key, default)
    if value is None or value is default:
        return value
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        problems.append(Diagnostic(path, lines.of(key), f"'{key}' must be {'true or false' if kind is bool else 'a whole number'}, "
                                   f"not {shown(value)}"))
        return default
    return value

