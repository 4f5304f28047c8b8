"""STATE: what the last build knew (parsed entries, rendered bodies, page keys, file digests),
kept in the cache folder so the next build redoes only what changed.

The cache folder is restored from CI, so the state is untrusted input: plain JSON, every field's
type checked on load, and anything odd (another format, a wrong type, a missing key, a bad date,
a truncated file, a symlink) is an empty state, i.e. a cold build. Each value is an array of its
fields in declaration order, not an object: no field name repeated 5,000 times to write and read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import stat
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import __version__
from .errors import Diagnostic, Severity
from .model import Entry, Heading, RenderedBody, SnippetRef
from .slugs import is_safe_path

STATE_FORMAT = 2  # bump whenever the layout below changes: an older file is then not read
OLD_FORMATS = ("state-1-{tag}.pickle",)  # earlier files: removed on save, never opened

EntryParse = tuple[Entry | None, list[Diagnostic]]  # what entries.parse_entry returned
T = TypeVar("T")


@dataclass
class BuildState:
    entries: dict[str, EntryParse] = field(default_factory=dict)  # entry_cache_key -> parse
    bodies: dict[str, RenderedBody] = field(default_factory=dict)  # build._body_key -> body
    pages: dict[str, str] = field(default_factory=dict)  # output path -> page key
    files: dict[str, str] = field(default_factory=dict)  # live folder: output path -> content digest
    live_inode: int | None = None
    spare_files: dict[str, str] = field(default_factory=dict)  # spare folder: output path -> digest
    spare_inode: int | None = None
    highlights: dict[str, str | None] = field(default_factory=dict)  # code block digest -> HTML
    stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # entry path -> (ino, mtime, size)
    stat_keys: dict[str, str] = field(default_factory=dict)  # entry path -> entry cache key


def state_path(cache_dir: Path, out: Path | None = None) -> Path:
    """One state per output folder: `serve` (.logbuild/serve-site) and `build` (site/) don't thrash."""
    return cache_dir / "build" / f"state-{STATE_FORMAT}-{_tag(out)}.json"


def _tag(out: Path | None) -> str:
    return hashlib.sha1(str(out).encode()).hexdigest()[:12] if out is not None else "default"


def load_state(cache_dir: Path, out: Path | None = None) -> BuildState:
    """The saved state, or an empty one (a cold build) if it is missing or odd in any way."""
    try:
        with _collector_paused():
            return decode_state(json.loads(read_plain_file(state_path(cache_dir, out))))
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return BuildState()


def read_plain_file(path: Path) -> bytes:
    """Bytes of the regular file at `path` itself. The cache comes from elsewhere: a symlink put
    there (OSError, ELOOP) would read a file outside it, and a FIFO would hang (ValueError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        return f.read()


def save_state(cache_dir: Path, state: BuildState, out: Path | None = None) -> None:
    """Write atomically (a temp file beside it, then os.replace): a killed build leaves the old one."""
    path = state_path(cache_dir, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in [*OLD_FORMATS, f".{path.name}.*.tmp"]:  # an earlier format, a killed build's temp file
        for leftover in path.parent.glob(old.format(tag=_tag(out))):
            leftover.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with _collector_paused():
        data = json.dumps(encode_state(state), separators=(",", ":"), check_circular=False)
    try:
        tmp.write_bytes(data.encode("ascii"))  # ensure_ascii: an all-ASCII text parses twice as fast
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The state is ~10 objects per entry and holds no cycles: the cyclic collector would walk them
    all again and again while they are made (a third of a load's time at 5,000 entries)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# --- encoding: each value as an array of its fields, in declaration order ---


def encode_state(state: BuildState) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "logbuild": __version__,
        "entries": {k: [_entry_json(e) if e else None, [_diagnostic_json(d) for d in ds]]
                    for k, (e, ds) in state.entries.items()},
        "bodies": {k: _body_json(b) for k, b in state.bodies.items()},
        "pages": state.pages,
        "files": state.files,
        "live_inode": state.live_inode,
        "spare_files": state.spare_files,
        "spare_inode": state.spare_inode,
        "highlights": state.highlights,
        "stats": state.stats,
        "stat_keys": state.stat_keys,
    }


def _entry_json(e: Entry) -> list[Any]:
    return [e.path, e.date.isoformat(), e.slug, e.title, e.tags, e.links,
            [[r.name, r.line, r.inline] for r in e.snippets], e.draft, e.declared_streak, e.body,
            e.body_first_line, e.digest, _moment_json(e.timestamp), e.streak_line]


def _moment_json(moment: dt.datetime | None) -> list[Any] | None:
    """[wall-clock time, zone key, fold]: a ZoneInfo comes back as itself, not as a fixed offset."""
    if moment is None:
        return None
    if isinstance(moment.tzinfo, zoneinfo.ZoneInfo):
        return [moment.replace(tzinfo=None).isoformat(), moment.tzinfo.key, moment.fold]
    return [moment.isoformat(), None, moment.fold]


def _diagnostic_json(d: Diagnostic) -> list[Any]:
    return [d.path, d.line, d.message, d.severity, d.hint, d.code]


def _body_json(b: RenderedBody) -> list[Any]:
    return [b.html, b.text, [[h.level, h.text, h.anchor] for h in b.headings], b.summary, b.links,
            [_diagnostic_json(d) for d in b.problems]]


# --- decoding: every field checked; the first odd one rejects the whole state ---


class BadState(ValueError):
    """The saved state is not one this version wrote: start cold."""


_KEYS = frozenset(encode_state(BuildState()))


def decode_state(doc: object) -> BuildState:
    d = _dict(doc)
    if d.keys() != _KEYS or d["format"] != STATE_FORMAT or d["logbuild"] != __version__:
        raise BadState("another format")
    return BuildState(
        entries={k: _parse(k, v) for k, v in _dict(d["entries"]).items()},
        bodies={k: _body(v) for k, v in _dict(d["bodies"]).items()},
        pages=_paths(d["pages"]),
        files=_paths(d["files"]),
        live_inode=_opt(_int, d["live_inode"]),
        spare_files=_paths(d["spare_files"]),
        spare_inode=_opt(_int, d["spare_inode"]),
        highlights={k: _opt(_str, v) for k, v in _dict(d["highlights"]).items()},
        stats={k: _stat(v) for k, v in _dict(d["stats"]).items()},
        stat_keys=_str_map(d["stat_keys"]),
    )


def _parse(key: str, value: object) -> EntryParse:
    entry, problems = _items(value, 2)
    parsed = _opt(_entry, entry)
    if parsed is not None and not key.startswith(f"{parsed.path}\0{parsed.digest}\0"):
        raise BadState("an entry filed under another file's key")
    return parsed, [_diagnostic(p) for p in _list(problems)]


def _entry(value: object) -> Entry:
    path, date, slug, title, tags, links, refs, draft, streak, body, first, digest, moment, streak_line = (
        _items(value, 14))
    return Entry(
        path=_str(path), date=_date(date), slug=_str(slug), title=_str(title),
        tags=tuple(_str(t) for t in _list(tags)), links=tuple(_str_pair(p) for p in _list(links)),
        snippets=tuple(_ref(r) for r in _list(refs)), draft=_bool(draft), declared_streak=_opt(_int, streak),
        body=_str(body), body_first_line=_int(first), digest=_str(digest), timestamp=_opt(_moment, moment),
        streak_line=_int(streak_line),
    )


def _ref(value: object) -> SnippetRef:
    name, line, inline = _items(value, 3)
    return SnippetRef(_str(name), _int(line), _bool(inline))


def _str_pair(value: object) -> tuple[str, str]:
    a, b = _items(value, 2)
    return _str(a), _str(b)


def _diagnostic(value: object) -> Diagnostic:
    path, line, message, severity, hint, code = _items(value, 6)
    return Diagnostic(_str(path), _opt(_int, line), _str(message), _severity(severity), _opt(_str, hint),
                      _str(code))


def _severity(value: object) -> Severity:
    if value == "error":
        return "error"
    if value == "warning":
        return "warning"
    raise BadState("severity")


def _body(value: object) -> RenderedBody:
    html, text, headings, summary, links, problems = _items(value, 6)
    return RenderedBody(_str(html), _str(text), tuple(_heading(h) for h in _list(headings)), _str(summary),
                        tuple(_link(x) for x in _list(links)), tuple(_diagnostic(d) for d in _list(problems)))


def _heading(value: object) -> Heading:
    level, text, anchor = _items(value, 3)
    return Heading(_int(level), _str(text), _str(anchor))


def _link(value: object) -> tuple[str, int]:
    target, line = _items(value, 2)
    return _str(target), _int(line)


def _stat(value: object) -> tuple[int, int, int]:
    ino, mtime, size = _items(value, 3)
    return _int(ino), _int(mtime), _int(size)


def _date(value: object) -> dt.date:
    return dt.date.fromisoformat(_str(value))


def _moment(value: object) -> dt.datetime:
    text, zone, fold = _items(value, 3)
    moment = dt.datetime.fromisoformat(_str(text)).replace(fold=_int(fold))
    if zone is None:
        return moment
    if moment.tzinfo is not None or not all(part.replace("_", "").replace("-", "").replace("+", "").isalnum()
                                            for part in _str(zone).split("/")):
        raise BadState("zone")  # a zone key names a file of the tz database: no dots, no climbing
    return moment.replace(tzinfo=zoneinfo.ZoneInfo(_str(zone)))


# --- the type checks themselves (JSON gives exact types: a bool is not an int here) ---


def _str(value: object) -> str:
    if type(value) is not str:
        raise BadState("not a string")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise BadState("not an integer")
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise BadState("not a boolean")
    return value


def _list(value: object) -> list[object]:
    if type(value) is not list:
        raise BadState("not a list")
    return value


def _items(value: object, n: int) -> list[object]:
    if type(value) is not list or len(value) != n:
        raise BadState(f"not a list of {n}")
    return value


def _dict(value: object) -> dict[str, object]:
    if type(value) is not dict:
        raise BadState("not an object")
    return value


def _opt(check: Callable[[object], T], value: object) -> T | None:
    return None if value is None else check(value)


def _str_map(value: object) -> dict[str, str]:
    d = _dict(value)
    if not all(type(v) is str for v in d.values()):
        raise BadState("not a map of strings")
    return d  # type: ignore[return-value]  # just checked


def _paths(value: object) -> dict[str, str]:
    """Output paths: the writer reuses and deletes these, so none may climb out of the site."""
    d = _str_map(value)
    if not all(is_safe_path(p) for p in d):
        raise BadState("an output path that leaves the site")
    return d

