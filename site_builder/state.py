"""STATE: what the last build knew (parsed entries, rendered bodies, page keys, file digests),
kept in the cache folder so the next build redoes only what changed.

Two files: a small index (page keys, file digests, stats: rewritten by every build) and a pack of
content-addressed records (parses, bodies, highlighted code: a build appends only what it made),
so an edit writes what changed, not the whole log again.

The cache folder is restored from CI, so the state is untrusted input: plain JSON, every field's
type checked on load, and anything odd (another format, a wrong type, a missing key, a bad date,
a truncated file, a symlink) is an empty state, i.e. a cold build. Each value is an array of its
fields in declaration order, not an object: no field name repeated 5,000 times to write and read
(statecodec.py).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .model import RenderedBody
from .statecodec import (
    BadState,
    EntryParse,
    as_dict,
    as_int,
    as_str,
    decode_body,
    decode_parse,
    encode_body,
    encode_diagnostic,
    encode_entry,
    items_of,
    optional,
    site_paths,
    stat_triple,
    str_map,
)

STATE_FORMAT = 3  # bump whenever the layout below changes: an older file is then not read
OLD_FORMATS = ("state-1-{tag}.pickle", "state-2-{tag}.json")  # earlier files: removed on save, never opened
COMPACT_SLACK = 1 << 20  # a pack is rewritten once it holds this much (and as much again) of forgotten records



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
    pack: Pack = field(default_factory=lambda: Pack(), compare=False)  # where entries, bodies, highlights are


@dataclass
class Pack:
    """The state's append-only file of content-addressed records (a parse, a body, a highlighted
    block; one JSON line each). A key names one value for good, so a build appends only the
    records it made and never rewrites the others; forgotten ones are dropped when they pile up."""

    id: str = ""  # "" when there is none to append to (a cold build): the next save writes it anew
    size: int = 0  # bytes the index vouches for: anything after them is a killed build's, ignored
    stored: dict[str, int] = field(default_factory=dict)  # record name (kind NUL key) -> its bytes
    # A body's HTML is its own record, decoded only when a page that shows it is rendered: the
    # bodies in `BuildState.bodies` read from here have html "" and their HTML at html[key]
    html: dict[str, tuple[int, int]] = field(default_factory=dict)  # body key -> its bytes in the file
    path: str = ""  # the file read, and its inode: a file put in its place is not read from
    ino: int = 0


def state_path(cache_dir: Path, out: Path | None = None) -> Path:
    """One state per output folder: `serve` (.logbuild/serve-site) and `build` (site/) don't thrash.
    This is its index; pack_path() is beside it."""
    return cache_dir / "build" / f"state-{STATE_FORMAT}-{_tag(out)}.json"


def pack_path(cache_dir: Path, out: Path | None = None) -> Path:
    return state_path(cache_dir, out).with_suffix(".pack")


def _tag(out: Path | None) -> str:
    return hashlib.sha1(str(out).encode()).hexdigest()[:12] if out is not None else "default"


def load_state(cache_dir: Path, out: Path | None = None) -> BuildState:
    """The saved state, or an empty one (a cold build) if it is missing or odd in any way."""
    try:
        with _collector_paused():
            state = decode_index(json.loads(read_plain_file(state_path(cache_dir, out))))
            read_pack(pack_path(cache_dir, out), state)
            return state
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return BuildState()


def read_plain_file(path: Path) -> bytes:
    """Bytes of the regular file at `path` itself. The cache comes from elsewhere: a symlink put
    there (OSError, ELOOP) would read a file outside it, and a FIFO would hang (ValueError)."""
    with _open_plain(path, os.O_RDONLY) as f:
        data: bytes = f.read()
        return data


def _open_plain(path: Path, flags: int) -> Any:
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    f = os.fdopen(fd, "rb" if flags == os.O_RDONLY else "wb")  # "wb" on an open fd: nothing is truncated
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise ValueError(f"{path.name} is not a regular file")
    return f


def read_pack(path: Path, state: BuildState) -> None:
    """Fill `state` with the pack's records, up to the size its index vouches for."""
    expected = state.pack
    with _open_plain(path, os.O_RDONLY) as f:  # decoded as it is read: never its bytes and its text at once
        expected.path, expected.ino = str(path), os.fstat(f.fileno()).st_ino
        text = io.TextIOWrapper(f, encoding="ascii", newline="").read(expected.size)  # written all-ASCII
    if len(text) != expected.size or not text.endswith("\n"):
        raise BadState("a truncated pack")
    decode, end = _DECODER.raw_decode, text.index("\n")
    if decode(text[:end])[0] != _pack_header(expected.id):
        raise BadState("another pack")
    while end + 1 < len(text):
        start = end + 1
        if text.startswith(_HTML_RECORD, start):  # noted, not decoded: see body_html
            key, at = decode(text, start + len(_HTML_RECORD))
            end = text.index("\n", at)
            if type(key) is not str or text[at : at + 2] != ',"' or text[end - 2 : end] != '"]':
                raise BadState("an odd html record")
            expected.html[key] = (at + 1, end - 1)
            expected.stored[f"html\0{key}"] = end + 1 - start
            continue
        record, end = decode(text, start)  # in place: no copy of each line
        if text[end] != "\n":
            raise BadState("a record that is not one line")
        kind, key, value = items_of(record, 3)
        _add_record(state, as_str(kind), as_str(key), value)
        expected.stored[f"{kind}\0{key}"] = end + 1 - start
    for key in [k for k in state.bodies if k not in expected.html]:  # a body without its HTML: render it again
        del state.bodies[key]


def body_html(state: BuildState, key: str) -> str:
    """The HTML of a body read from the pack (state.bodies[key].html is "" until then). Raises
    BadState when the pack does not hold it after all: the build then starts cold."""
    start, stop = state.pack.html[key]
    try:
        with _open_plain(Path(state.pack.path), os.O_RDONLY) as f:
            if os.fstat(f.fileno()).st_ino != state.pack.ino:
                raise BadState("another pack")
            html = json.loads(os.pread(f.fileno(), stop - start, start))
    except (OSError, ValueError, RecursionError) as exc:
        raise BadState(f"a body's HTML cannot be read: {exc}") from None
    if type(html) is not str:
        raise BadState("an odd html record")
    return html


def is_lazy(state: BuildState, key: str) -> bool:
    """Whether state.bodies[key] still lacks its HTML (body_html gives it)."""
    return key in state.pack.html


_DECODER = json.JSONDecoder()
_HTML_RECORD = '["html",'


def _pack_header(pack_id: str) -> list[Any]:
    return ["logbuild-pack", STATE_FORMAT, __version__, pack_id]


def _add_record(state: BuildState, kind: str, key: str, value: object) -> None:
    if kind == "entry":
        state.entries[key] = decode_parse(key, value)
    elif kind == "body":
        state.bodies[key] = decode_body(value)
    elif kind == "highlight":
        state.highlights[key] = optional(as_str, value)
    else:
        raise BadState("a record of no known kind")


def save_state(cache_dir: Path, state: BuildState, out: Path | None = None) -> None:
    """Append the new records to the pack (or write it anew when it is mostly forgotten records),
    then replace the index atomically (a temp file beside it, then os.replace): a build killed at
    any moment leaves an index that vouches only for records written whole."""
    path = state_path(cache_dir, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in [*OLD_FORMATS, f".{path.name}.*.tmp", f".{pack_path(cache_dir, out).name}.*.tmp"]:
        for leftover in path.parent.glob(old.format(tag=_tag(out))):  # an earlier format, a killed build's temp file
            leftover.unlink(missing_ok=True)
    with _collector_paused():
        _save_pack(pack_path(cache_dir, out), state)
        data = json.dumps(encode_index(state), separators=(",", ":"), check_circular=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.encode("ascii"))  # ensure_ascii: an all-ASCII text parses twice as fast
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _records(state: BuildState) -> Iterator[tuple[str, str, Any]]:
    """(kind, key, value) of every record the state holds; _encoded() makes the value JSON."""
    yield from (("entry", key, parse) for key, parse in state.entries.items())
    yield from (("body", key, body) for key, body in state.bodies.items())
    yield from (("html", key, body) for key, body in state.bodies.items())
    yield from (("highlight", key, html) for key, html in state.highlights.items())


def _encoded(state: BuildState, kind: str, key: str, value: Any) -> Any:
    if kind == "entry":
        entry, problems = value
        return [encode_entry(entry) if entry else None, [encode_diagnostic(d) for d in problems]]
    if kind == "html":
        return body_html(state, key) if is_lazy(state, key) else value.html
    return encode_body(value) if kind == "body" else value


def _save_pack(path: Path, state: BuildState) -> None:
    pack = state.pack
    records = list(_records(state))
    live = sum(pack.stored.get(f"{kind}\0{key}", 0) for kind, key, _ in records)
    if not pack.id or pack.size > 2 * live + COMPACT_SLACK:
        _write_pack(path, state, records)
        return
    fresh = [(kind, key, value) for kind, key, value in records if f"{kind}\0{key}" not in pack.stored]
    if not fresh:
        return
    with _open_plain(path, os.O_WRONLY) as f:
        f.truncate(pack.size)  # what a killed build appended is not vouched for: drop it
        f.seek(pack.size)
        for kind, key, value in fresh:
            line = _record_line(kind, key, _encoded(state, kind, key, value))
            f.write(line)
            pack.stored[f"{kind}\0{key}"] = len(line)
            pack.size += len(line)


def _write_pack(path: Path, state: BuildState, records: list[tuple[str, str, Any]]) -> None:
    """A new pack, under a new id: an index still naming the old one reads it as no pack at all."""
    pack = Pack(os.urandom(8).hex())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            header = json.dumps(_pack_header(pack.id)).encode("ascii") + b"\n"
            f.write(header)
            pack.size = len(header)
            for kind, key, value in records:
                line = _record_line(kind, key, _encoded(state, kind, key, value))
                f.write(line)
                pack.stored[f"{kind}\0{key}"] = len(line)
                pack.size += len(line)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    state.pack = pack


def _record_line(kind: str, key: str, value: Any) -> bytes:
    return json.dumps([kind, key, value], separators=(",", ":"), check_circular=False).encode("ascii") + b"\n"


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


def encode_index(state: BuildState) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "logbuild": __version__,
        "pack": [state.pack.id, state.pack.size],
        "pages": state.pages,
        "files": state.files,
        "live_inode": state.live_inode,
        "spare_files": state.spare_files,
        "spare_inode": state.spare_inode,
        "stats": state.stats,
        "stat_keys": state.stat_keys,
    }


_KEYS = frozenset(encode_index(BuildState()))


def decode_index(doc: object) -> BuildState:
    """Everything but the pack's records, and which pack (and how much of it) holds those."""
    d = as_dict(doc)
    if d.keys() != _KEYS or d["format"] != STATE_FORMAT or d["logbuild"] != __version__:
        raise BadState("another format")
    pack_id, size = items_of(d["pack"], 2)
    return BuildState(
        pages=site_paths(d["pages"]),
        files=site_paths(d["files"]),
        live_inode=optional(as_int, d["live_inode"]),
        spare_files=site_paths(d["spare_files"]),
        spare_inode=optional(as_int, d["spare_inode"]),
        stats={k: stat_triple(v) for k, v in as_dict(d["stats"]).items()},
        stat_keys=str_map(d["stat_keys"]),
        pack=Pack(as_str(pack_id), as_int(size)),
    )


