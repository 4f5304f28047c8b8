"""The build state's values as JSON and back (state.py): each value an array of its fields in
declaration order, and on the way back every field's type checked, since the cache is restored
from elsewhere and is untrusted input. The first odd field rejects the whole state (BadState)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from .errors import Diagnostic, Severity
from .model import CELLS_PREFIX, Entry, Heading, RenderedBody, SnippetRef
from .slugs import is_safe_path

EntryParse = tuple[Entry | None, list[Diagnostic]]  # what entries.parse_entry returned
T = TypeVar("T")


class BadState(ValueError):
    """The saved state is not one this version wrote: start cold."""


# --- encoding ---


def encode_entry(e: Entry) -> list[Any]:
    """The Markdown only of an entry with inline cells (what they run is read from it): any other
    entry's body is kept rendered, and one whose render is gone is read from its file again."""
    return [e.path, e.date.isoformat(), e.slug, e.title, e.tags, e.links,
            [[r.name, r.line, r.inline] for r in e.snippets], e.draft, e.declared_streak,
            e.body if has_cells(e) else None, e.body_first_line, e.digest, _moment_json(e.timestamp), e.streak_line]


def has_cells(e: Entry) -> bool:
    return any(r.name.startswith(CELLS_PREFIX) for r in e.snippets)


def kept_as_state(e: Entry) -> Entry:
    """The entry as the state keeps it (encode_entry): without its Markdown, unless it has cells."""
    return e if not e.body or has_cells(e) else replace(e, body="")


def _moment_json(moment: dt.datetime | None) -> list[Any] | None:
    """[wall-clock time, zone key, fold]: a ZoneInfo comes back as itself, not as a fixed offset."""
    if moment is None:
        return None
    if isinstance(moment.tzinfo, zoneinfo.ZoneInfo):
        return [moment.replace(tzinfo=None).isoformat(), moment.tzinfo.key, moment.fold]
    return [moment.isoformat(), None, moment.fold]


def encode_diagnostic(d: Diagnostic) -> list[Any]:
    return [d.path, d.line, d.message, d.severity, d.hint, d.code]


TextPlace = tuple[int, int]  # [start, stop] of a text in the texts file
BodyPlaces = tuple[TextPlace, TextPlace, "TextPlace | None"]  # its HTML, its plain text, its headings (if any)


def encode_body(b: RenderedBody, places: BodyPlaces) -> list[Any]:
    """All but what only the body's own page shows (its HTML, plain text and headings), which are in
    the texts file (read only for the pages rendered, and for a search item made anew)."""
    return [*(None if p is None else list(p) for p in places), b.summary, b.links,
            [encode_diagnostic(d) for d in b.problems], b.blocks]


def encode_headings(headings: tuple[Heading, ...]) -> list[Any]:
    return [[h.level, h.text, h.anchor] for h in headings]


# --- decoding: every field checked; the first odd one rejects the whole state ---


# --- decoding: every field checked ---


def decode_parse(key: str, value: object) -> EntryParse:
    entry, problems = items_of(value, 2)
    parsed = None if entry is None else _entry(entry)
    if parsed is not None and not key.startswith(f"{parsed.path}\0{parsed.digest}\0"):
        raise BadState("an entry filed under another file's key")
    return parsed, [_diagnostic(p) for p in as_list(problems)] if problems != [] else []


def _entry(value: object) -> Entry:
    """Checked field by field inline, and made at once (_restored): 5,000 entries on every load."""
    path, date, slug, title, tags, links, refs, draft, streak, body, first, digest, moment, streak_line = (
        items_of(value, 14))
    if not (type(path) is str and type(slug) is str and type(title) is str and type(digest) is str
            and type(first) is int and type(streak_line) is int and type(draft) is bool and type(date) is str
            and type(tags) is list and type(links) is list and type(refs) is list
            and (streak is None or type(streak) is int)):
        raise BadState("an entry's field of another type")
    return _restored(
        Entry, path=path, date=dt.date.fromisoformat(date), slug=slug, title=title, tags=_strs(tags),
        links=tuple(_str_pair(p) for p in links) if links else (),
        snippets=tuple(_ref(r) for r in refs) if refs else (), draft=draft,
        declared_streak=streak, body=_markdown(body, refs), body_first_line=first, digest=digest,
        timestamp=None if moment is None else _moment(moment), streak_line=streak_line,
    )


def _restored(cls: type[T], **fields: object) -> T:
    """A frozen dataclass of fields checked already, made as pickle restores one (its __dict__ at
    once): a frozen __init__ sets each field through object.__setattr__, and 10,000 of them are
    a sixth of loading a state of 5,000 entries. Every field must be given (the round-trip test
    checks that none is left to a class default)."""
    value = object.__new__(cls)
    value.__dict__.update(fields)
    return value


def _strs(value: object) -> tuple[str, ...]:
    if type(value) is not list:
        raise BadState("not a list of strings")
    try:
        "".join(value)  # C's check that each is a str (JSON has no subclass of str)
    except TypeError:
        raise BadState("not a list of strings") from None
    return tuple(value)


def _markdown(body: object, refs: list[object]) -> str:
    """An entry's body as kept: the Markdown of one with inline cells, else "" (see encode_entry)."""
    cells = bool(refs) and any(as_str(items_of(r, 3)[0]).startswith(CELLS_PREFIX) for r in refs)
    if cells != (body is not None):
        raise BadState("an entry's Markdown kept for no cells, or its cells without it")
    return "" if body is None else as_str(body)


def _ref(value: object) -> SnippetRef:
    name, line, inline = items_of(value, 3)
    return SnippetRef(as_str(name), as_int(line), as_bool(inline))


def _str_pair(value: object) -> tuple[str, str]:
    a, b = items_of(value, 2)
    return as_str(a), as_str(b)


def _diagnostic(value: object) -> Diagnostic:
    path, line, message, severity, hint, code = items_of(value, 6)
    return Diagnostic(as_str(path), optional(as_int, line), as_str(message), _severity(severity), optional(as_str, hint),
                      as_str(code))


def _severity(value: object) -> Severity:
    if value == "error":
        return "error"
    if value == "warning":
        return "warning"
    raise BadState("severity")


def decode_body(value: object, texts_size: int) -> tuple[RenderedBody, BodyPlaces]:
    """The body without its HTML, plain text and headings ("", "", ()), and where in the texts file they are."""
    html_at, text_at, headings_at, summary, links, problems, blocks = items_of(value, 7)
    body = _restored(RenderedBody, html="", text="", headings=(), summary=as_str(summary),
                     links=tuple(_link(x) for x in as_list(links)) if links != [] else (),
                     problems=tuple(_diagnostic(d) for d in as_list(problems)) if problems != [] else (),
                     blocks=_strs(blocks) if blocks != [] else ())
    places = (text_place(html_at, texts_size), text_place(text_at, texts_size),
              None if headings_at is None else text_place(headings_at, texts_size))
    return body, places


def decode_headings(value: object) -> tuple[Heading, ...]:
    return tuple(_heading(h) for h in as_list(value))


def text_place(value: object, texts_size: int) -> TextPlace:
    """[start, stop] of a text in a texts file of `texts_size` bytes (its header comes first)."""
    if type(value) is list and len(value) == 2:
        start, stop = value
        if type(start) is int and type(stop) is int and 0 < start < stop <= texts_size:
            return start, stop
    raise BadState("not a place of a text in the texts file")


def _heading(value: object) -> Heading:
    level, text, anchor = items_of(value, 3)
    return Heading(as_int(level), as_str(text), as_str(anchor))


def _link(value: object) -> tuple[str, int]:
    target, line = items_of(value, 2)
    return as_str(target), as_int(line)


FileSeen = tuple[int, int, int, str]  # (inode, mtime in ns, size) of a file when read, and its bytes' SHA-256
FILE_SEEN = (int, int, int, str)


def as_columns(rows: Mapping[str, Sequence[Any]], width: int) -> list[list[Any]]:
    """A map of key -> row of `width` fields as columns: the keys, then each field's values. Its
    JSON is 5,000 short arrays fewer to write and read, and checking a column is one C call."""
    return [list(rows), *(list(column) for column in zip(*rows.values()))] if rows else [[] for _ in range(width + 1)]


def from_columns(value: object, types: tuple[type, ...]) -> dict[str, Any]:
    """as_columns' map back, each key a str and each field of its column's exact type."""
    keys, *fields = (as_list(column) for column in items_of(value, len(types) + 1))
    if not (only(str, keys) and all(len(column) == len(keys) and only(kind, column)
                                    for kind, column in zip(types, fields))):
        raise BadState("not columns of fields")
    rows: dict[str, Any] = dict(zip(keys, zip(*fields)))  # type: ignore[arg-type]  # keys: str, just checked
    if len(rows) != len(keys):
        raise BadState("a key given twice")
    return rows


def only(kind: type, values: list[object]) -> bool:
    """Whether each of `values` is a `kind` exactly (JSON's true is no int here): one C call."""
    return set(map(type, values)) <= {kind}


def _date(value: object) -> dt.date:
    return dt.date.fromisoformat(as_str(value))


def _moment(value: object) -> dt.datetime:
    text, zone, fold = items_of(value, 3)
    moment = dt.datetime.fromisoformat(as_str(text)).replace(fold=as_int(fold))
    if zone is None:
        return moment
    if moment.tzinfo is not None or not all(part.replace("_", "").replace("-", "").replace("+", "").isalnum()
                                            for part in as_str(zone).split("/")):
        raise BadState("zone")  # a zone key names a file of the tz database: no dots, no climbing
    return moment.replace(tzinfo=zoneinfo.ZoneInfo(as_str(zone)))


# --- the type checks themselves (JSON gives exact types: a bool is not an int here) ---


def as_str(value: object) -> str:
    if type(value) is not str:
        raise BadState("not a string")
    return value


def as_int(value: object) -> int:
    if type(value) is not int:
        raise BadState("not an integer")
    return value


def as_bool(value: object) -> bool:
    if type(value) is not bool:
        raise BadState("not a boolean")
    return value


def as_list(value: object) -> list[object]:
    if type(value) is not list:
        raise BadState("not a list")
    return value


def items_of(value: object, n: int) -> list[object]:
    if type(value) is not list or len(value) != n:
        raise BadState(f"not a list of {n}")
    return value


def as_dict(value: object) -> dict[str, object]:
    if type(value) is not dict:
        raise BadState("not an object")
    return value


def optional(check: Callable[[object], T], value: object) -> T | None:
    return None if value is None else check(value)


def str_map(value: object) -> dict[str, str]:
    d = as_dict(value)
    if not all(type(v) is str for v in d.values()):
        raise BadState("not a map of strings")
    return d  # type: ignore[return-value]  # just checked


def site_paths(value: object) -> dict[str, str]:
    """Output paths: the writer reuses and deletes these, so none may climb out of the site."""
    d = str_map(value)
    if not all(_PLAIN_PATH.fullmatch(p) or is_safe_path(p) for p in d):
        raise BadState("an output path that leaves the site")
    return d


# What nearly every path of a site looks like (entries/2018-09-09/index.html): segments of
# letters, digits, "_", "-" and dots, none starting with a dot. Such a path is safe by
# slugs.is_safe_path's rule too, and checking 17,000 of them this way costs a tenth.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*")

