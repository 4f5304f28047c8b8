"""STATE: what the last build knew (parsed entries, rendered bodies, page keys, file digests),
kept in the cache folder so the next build redoes only what changed.

Three files: a small index (page keys, file digests, stats: rewritten by every build), a pack of
content-addressed records (parses, bodies, highlighted code: a build appends only what it made),
so an edit writes what changed, not the whole log again, and beside the pack its long texts (each
body's HTML and plain text, each highlighted code block, each search.json item), read one by one
when a page or a changed entry needs them: a build reads the pack whole, never the texts. An
entry's Markdown is kept only where inline cells are run from it.

The cache folder is restored from CI, so the state is untrusted input: plain JSON, every field's
type checked on load, and anything odd (another format, a wrong type, a missing key, a bad date,
a truncated file, a symlink) is an empty state, i.e. a cold build. Each value is an array of its
fields in declaration order, not an object: no field name repeated 5,000 times to write and read
(statecodec.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import json
import mmap
import os
import stat
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from . import __version__
from .model import PlanMemo, RenderedBody
from .statecodec import (
    FILE_SEEN,
    BadState,
    BodyPlaces,
    EntryParse,
    FileSeen,
    as_columns,
    as_dict,
    as_int,
    as_list,
    as_str,
    decode_body,
    decode_headings,
    decode_parse,
    encode_body,
    encode_diagnostic,
    encode_entry,
    encode_headings,
    from_columns,
    items_of,
    optional,
    site_paths,
    str_map,
    text_place,
)

STATE_FORMAT = 9  # bump whenever the layout below changes: an older file is then not read
OLD_FORMATS = ("state-1-{tag}.pickle", "state-2-{tag}.json", "state-3-{tag}.json", "state-3-{tag}.pack",
               "state-4-{tag}.json", "state-4-{tag}.pack", "state-4-{tag}.texts",
               "state-5-{tag}.json", "state-5-{tag}.pack", "state-5-{tag}.texts",
               "state-6-{tag}.json", "state-6-{tag}.pack", "state-6-{tag}.texts",
               "state-7-{tag}.json", "state-7-{tag}.pack", "state-7-{tag}.texts",
               "state-8-{tag}.json", "state-8-{tag}.pack", "state-8-{tag}.texts")  # earlier files: removed on save, never opened
KINDS = ("entry", "body", "highlight")  # of the pack's records
COMPACT_SLACK = 1 << 20  # a pack is rewritten once it holds this much (and as much again) of forgotten records



@dataclass
class BuildState:
    entries: dict[str, EntryParse] = field(default_factory=dict)  # entry_cache_key -> parse
    bodies: dict[str, RenderedBody] = field(default_factory=dict)  # reuse.body_key -> body
    pages: dict[str, str] = field(default_factory=dict)  # output path -> page key
    files: dict[str, str] = field(default_factory=dict)  # live folder: output path -> content digest
    live_inode: int | None = None
    spare_files: dict[str, str] = field(default_factory=dict)  # spare folder: output path -> digest
    spare_inode: int | None = None
    # code block digest -> HTML; "" while it is only in the texts file (StoredHighlights reads it)
    highlights: dict[str, str | None] = field(default_factory=dict)
    # entry path -> (ino, mtime, size) as last read, and the SHA-256 of the bytes read (its cache key's)
    stats: dict[str, FileSeen] = field(default_factory=dict)
    # search.json: each entry's item as JSON (UTF-8), by SearchRecord.key; None while it is only in the pack
    search: dict[str, bytes | None] = field(default_factory=dict)
    plan: PlanMemo = field(default_factory=PlanMemo)  # saved without its keys: they are `pages`
    pack: Pack = field(default_factory=lambda: Pack(), compare=False)  # where the records and the texts are


@dataclass
class Pack:
    """The state's append-only files of content-addressed records (a parse, a body, a highlighted
    block; one JSON line each) and of long texts (one JSON string a line; a record of the pack
    says where each is). A key names one value for good, so a build appends only the records it
    made and never rewrites the others; forgotten ones are dropped when they pile up."""

    id: str = ""  # "" when there is none to append to (a cold build): the next save writes it anew
    size: int = 0  # bytes of the pack the index vouches for: anything after them is a killed build's
    texts_size: int = 0  # likewise, of the texts file
    # kind of record -> its key -> its bytes in the pack, and of its texts in the texts file
    stored: dict[str, dict[str, tuple[int, int]]] = field(default_factory=lambda: {kind: {} for kind in KINDS})
    # The bodies in `BuildState.bodies` read from the pack have html, text and headings empty (stored_body reads
    # them) and the search items None (search_items): where each text is, by its key. A body's
    # record says where its HTML and plain text are; the index says where the search items are.
    bodies: dict[str, BodyPlaces] = field(default_factory=dict)
    search: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # start, stop, CRC-32
    highlights: dict[str, tuple[int, int]] = field(default_factory=dict)  # where each block's HTML is
    texts_path: str = ""  # the texts file read, and its inode: a file put in its place is not read from
    texts_ino: int = 0


@cache
def made_with() -> str:
    """What rendered the state's records: logbuild, its body renderer's version and the libraries
    behind both. An upgrade of markdown-it-py or Pygments changes the HTML of the same Markdown,
    so a state made with others is not read, and every page key mixes this in."""
    import jinja2
    import markdown_it
    import mdit_py_plugins
    import pygments

    from .markdown import RENDERER_VERSION

    return repr([__version__, RENDERER_VERSION, *(m.__version__ for m in (markdown_it, mdit_py_plugins, pygments, jinja2))])


def state_path(cache_dir: Path, out: Path | None = None) -> Path:
    """One state per output folder: `serve` (.logbuild/serve-site) and `build` (site/) don't thrash.
    This is its index; pack_path() and texts_path() are beside it."""
    return cache_dir / "build" / f"state-{STATE_FORMAT}-{_tag(out)}.json"


def pack_path(cache_dir: Path, out: Path | None = None) -> Path:
    return state_path(cache_dir, out).with_suffix(".pack")


def texts_path(cache_dir: Path, out: Path | None = None) -> Path:
    return state_path(cache_dir, out).with_suffix(".texts")


def _tag(out: Path | None) -> str:
    return hashlib.sha1(str(out).encode()).hexdigest()[:12] if out is not None else "default"


Seen = tuple[int, int, int, int] | None  # a file's (inode, mtime, ctime, size), None if there is none


@dataclass
class KeptState:
    """What a process that builds again and again (serve) keeps between its builds: the state it
    saved last, and what its three files were just after. The next build takes it instead of
    reading them again (a third of an edit's time at 5,000 entries), unless anyone has written
    them since (each save replaces the index: a new file). A build takes it out while it runs,
    and it is put back only by a save that appended to the pack: a pack written anew leaves the
    bodies still in the old texts file behind (only a load reads where they are now)."""

    state: BuildState | None = None
    files: tuple[Seen, ...] = ()  # the index's, the pack's and the texts file's, as the save left them


def _files_now(cache_dir: Path, out: Path | None) -> tuple[Seen, ...]:
    seen: list[Seen] = []
    for path in (state_path(cache_dir, out), pack_path(cache_dir, out), texts_path(cache_dir, out)):
        try:
            st = os.lstat(path)
            seen.append((st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size))
        except OSError:
            seen.append(None)
    return tuple(seen)


def load_state(cache_dir: Path, out: Path | None = None, kept: KeptState | None = None) -> BuildState:
    """The saved state, or an empty one (a cold build) if it is missing or odd in any way; the
    one `kept` holds if its files are still as its save left them. What it loads is frozen out
    of the cyclic collector: it lives as long as the build (which unfreezes when it ends:
    build._few_collections)."""
    if kept is not None:
        state, kept.state = kept.state, None  # a build that ends before its save keeps nothing
        if state is not None and kept.files == _files_now(cache_dir, out):
            gc.freeze()
            return state
    try:
        with _collector_paused(freeze=True):
            state = decode_index(json.loads(read_plain_file(state_path(cache_dir, out))))
            read_pack(pack_path(cache_dir, out), state)
            check_texts(texts_path(cache_dir, out), state.pack)
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
    with (_open_plain(path, os.O_RDONLY) as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
          memoryview(mapped) as whole, whole[:expected.size] as vouched):
        text = str(vouched, "ascii")  # decoded from the mapped file: no copy of its bytes first (written all-ASCII)
    if len(text) != expected.size or not text.endswith("\n"):
        raise BadState("a truncated pack")
    decode, end = _DECODER.raw_decode, text.index("\n")
    if decode(text[:end])[0] != _header("pack", expected.id):
        raise BadState("another pack")
    while end + 1 < len(text):
        start = end + 1
        record, end = decode(text, start)  # in place: no copy of each line
        if text[end] != "\n":
            raise BadState("a record that is not one line")
        fields = items_of(record, 3)
        kind, key = as_str(fields[0]), as_str(fields[1])
        size = _add_record(state, kind, key, fields[2])
        expected.stored[kind][key] = (end + 1 - start, size)


def check_texts(path: Path, pack: Pack) -> None:
    """The texts file is the pack's own (its header names the pack) and holds what the index says."""
    with _open_plain(path, os.O_RDONLY) as f:
        st = os.fstat(f.fileno())
        header = f.readline(4096)
    if st.st_size < pack.texts_size or json.loads(header) != _header("texts", pack.id):
        raise BadState("the texts of another pack")
    pack.texts_path, pack.texts_ino = str(path), st.st_ino


def stored_body(state: BuildState, key: str) -> RenderedBody:
    """A body read from the pack, with its HTML, plain text and headings read from the texts file
    (state.bodies[key] lacks them). Raises BadState when the pack does not hold them after all:
    the build then starts cold."""
    html_at, text_at, headings_at = state.pack.bodies[key]
    html, text = _lazy_texts(state, [html_at, text_at], "a body's text", as_str)
    headings = () if headings_at is None else _lazy_texts(state, [headings_at], "a body's headings", decode_headings)[0]
    return dataclasses.replace(state.bodies[key], html=html, text=text, headings=headings)


def search_items(state: BuildState, keys: list[str]) -> list[bytes]:
    """The JSON (UTF-8) of these items of search.json, made in this build or read from the texts,
    where each is kept as it is written (a line of its own: JSON has no raw newline), so reading
    one is slicing the mapped file; BadState as above. Each item is its bytes only: the text of
    every entry is held once, not as text and bytes too."""
    items = [state.search[key] for key in keys]
    missing = [state.pack.search[key] for key, item in zip(keys, items) if item is None]
    read = iter(_raw_texts(state, missing) if missing else [])
    return [item if item is not None else next(read) for item in items]


def _raw_texts(state: BuildState, places: list[tuple[int, int, int]]) -> list[bytes]:
    """The bytes at `places` (start, stop, CRC-32) in the texts file: a slice each, checked against
    the CRC the index keeps (a damaged item would make search.json something else, or not JSON)."""
    with _texts_view(state) as texts:
        return [_checked_item(texts, place).tobytes() for place in places]


def write_json_list(state: BuildState, items: list[str | bytes], f: BinaryIO) -> None:
    """Write the JSON list of `items` to `f`: each bytes as it is (JSON already), each str the key
    of a search item (see search_items), an item read in this build from memory, any other
    straight from the mapped texts file: search.json, 14 MB at 5,000 entries, is never copied into
    the build's memory (as slices, then joined) to be written out. BadState as above, mid-write."""
    with _texts_view(state) as texts:
        f.write(b"[")
        for i, item in enumerate(items):
            if i:
                f.write(b",")
            if isinstance(item, bytes):
                f.write(item)
            elif (made := state.search[item]) is not None:
                f.write(made)
            else:
                with _checked_item(texts, state.pack.search[item]) as view:
                    f.write(view)
        f.write(b"]")


@contextlib.contextmanager
def _texts_view(state: BuildState) -> Iterator[memoryview]:
    """The texts file the pack was read with, mapped (no view of it when there is none: a cold build)."""
    if not state.pack.texts_path:
        yield memoryview(b"")
        return
    try:
        f = _open_plain(Path(state.pack.texts_path), os.O_RDONLY)
    except (OSError, ValueError) as exc:
        raise BadState(f"the texts file cannot be read: {exc}") from None
    with f:
        if os.fstat(f.fileno()).st_ino != state.pack.texts_ino:
            raise BadState("another texts file")
        try:
            texts = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise BadState(f"the texts file cannot be read: {exc}") from None
        with texts, memoryview(texts) as view:
            yield view


def _checked_item(texts: memoryview, place: tuple[int, int, int]) -> memoryview:
    """The view of one search item, checked against its CRC (released by the caller, or at once)."""
    start, stop, crc = place
    item = texts[start:stop]
    if len(item) != stop - start or zlib.crc32(item) != crc:
        item.release()
        raise BadState("a search item that is not the one written")
    return item


def _item_places(value: object, texts_size: int) -> dict[str, tuple[int, int, int]]:
    """Where each search item is in the texts file: start, stop and CRC-32, by its key."""
    places = from_columns(value, (int, int, int))
    if not all(0 < start < stop <= texts_size for start, stop, _ in places.values()):
        raise BadState("not a place of a search item in the texts file")
    return places


def _lazy_texts(state: BuildState, places: list[tuple[int, int]], what: str,
                then: Callable[[object], T]) -> list[T]:
    """The JSON values at `places` in the texts file, each checked by `then` as it is read."""
    out = []
    try:
        with _open_plain(Path(state.pack.texts_path), os.O_RDONLY) as f:
            if os.fstat(f.fileno()).st_ino != state.pack.texts_ino:
                raise BadState("another texts file")
            for start, stop in places:
                out.append(then(json.loads(os.pread(f.fileno(), stop - start, start))))
    except (OSError, ValueError, RecursionError) as exc:
        raise BadState(f"{what} cannot be read: {exc}") from None
    return out


class StoredHighlights(Mapping[str, "str | None"]):
    """state.highlights as the renderer looks them up: a block's HTML still in the texts file is
    read when an entry being rendered has that block (few do: an edit renders its own entry)."""

    def __init__(self, state: BuildState) -> None:
        self.state = state

    def __getitem__(self, key: str) -> str | None:
        html = self.state.highlights[key]
        if key in self.state.pack.highlights:
            html = highlight_text(self.state, key)
        return html

    def __contains__(self, key: object) -> bool:  # without reading the text
        return key in self.state.highlights

    def __iter__(self) -> Iterator[str]:
        return iter(self.state.highlights)

    def __len__(self) -> int:
        return len(self.state.highlights)


def highlight_text(state: BuildState, key: str) -> str:
    """The HTML of a highlighted block read from the pack ("" in state.highlights until then); BadState as above."""
    html: str = _lazy_texts(state, [state.pack.highlights[key]], "a highlighted block", as_str)[0]
    return html


def is_lazy(state: BuildState, key: str) -> bool:
    """Whether state.bodies[key] still lacks its HTML, text and headings (stored_body gives them)."""
    return key in state.pack.bodies


_DECODER = json.JSONDecoder()
T = TypeVar("T")


def _header(what: str, pack_id: str) -> list[Any]:
    return [f"logbuild-{what}", STATE_FORMAT, __version__, pack_id]


def _add_record(state: BuildState, kind: str, key: str, value: object) -> int:
    """Add one record of the pack to the state; the bytes of its text in the texts file, if any."""
    if kind == "entry":
        state.entries[key] = decode_parse(key, value)
    elif kind == "body":
        state.bodies[key], places = decode_body(value, state.pack.texts_size)
        state.pack.bodies[key] = places
        return sum(p[1] - p[0] + 1 for p in places if p is not None)
    elif kind == "highlight":  # null: code no lexer knows
        state.highlights[key] = None if value is None else ""
        if value is not None:
            start, stop = state.pack.highlights[key] = text_place(value, state.pack.texts_size)
            return stop - start + 1
    else:
        raise BadState("a record of no known kind")
    return 0


def save_state(cache_dir: Path, state: BuildState, out: Path | None = None, kept: KeptState | None = None) -> None:
    """Append the new records to the pack (or write it anew when it is mostly forgotten records),
    then replace the index atomically (a temp file beside it, then os.replace): a build killed at
    any moment leaves an index that vouches only for records written whole. `kept` then holds
    the state, if the pack was appended to."""
    pack_before = state.pack.id  # a new id once the pack is written anew
    path = state_path(cache_dir, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = [f".{p.name}.*.tmp" for p in (path, pack_path(cache_dir, out), texts_path(cache_dir, out))]
    for old in [*OLD_FORMATS, *temporary]:
        for leftover in path.parent.glob(old.format(tag=_tag(out))):  # an earlier format, a killed build's temp file
            leftover.unlink(missing_ok=True)
    with _collector_paused():
        _save_pack(pack_path(cache_dir, out), texts_path(cache_dir, out), state)
        data = json.dumps(encode_index(state), separators=(",", ":"), check_circular=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.encode("ascii"))  # ensure_ascii: an all-ASCII text parses twice as fast
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if kept is not None and pack_before == state.pack.id:
        kept.state, kept.files = state, _files_now(cache_dir, out)


def _records(state: BuildState) -> Iterator[tuple[str, str, Any]]:
    """(kind, key, value) of every record the state holds; _append writes one."""
    yield from (("entry", key, parse) for key, parse in state.entries.items())
    yield from (("body", key, body) for key, body in state.bodies.items())
    yield from (("highlight", key, html) for key, html in state.highlights.items())


def _save_pack(path: Path, texts: Path, state: BuildState) -> None:
    pack = state.pack
    records = list(_records(state))
    sizes = [pack.stored[kind].get(key) for kind, key, _ in records]  # None: not in the pack yet
    if not pack.id or _mostly_forgotten(state, sizes):
        _write_pack(path, texts, state, records)
        return
    fresh = [record for record, size in zip(records, sizes) if size is None]
    items = [key for key in state.search if key not in pack.search]
    if not fresh and not items:
        return
    with _open_plain(path, os.O_WRONLY) as f, _open_plain(texts, os.O_WRONLY) as t:
        for file, size in ((f, pack.size), (t, pack.texts_size)):
            file.truncate(size)  # what a killed build appended is not vouched for: drop it
            file.seek(size)
        for kind, key, value in fresh:
            _append(state, pack, f, t, kind, key, value)
        _append_search_items(state, pack, t, items)


def _mostly_forgotten(state: BuildState, sizes: list[tuple[int, int] | None]) -> bool:
    """Whether the pack holds a quarter more than its live records, or the texts file more forgotten
    bytes than live ones (each with some to spare). Each file on its own, and the pack kept tight:
    every build reads it whole, so dead records there (after a change of every entry's key, say)
    would cost every load, however large the texts (read one by one) are."""
    pack = state.pack
    live_pack = sum(size[0] for size in sizes if size is not None)
    live_texts = sum(size[1] for size in sizes if size is not None) + sum(
        place[1] - place[0] + 1 for place in (pack.search.get(k, (0, -1, 0)) for k in state.search))
    return pack.size > live_pack * 5 // 4 + COMPACT_SLACK // 4 or pack.texts_size > 2 * live_texts + COMPACT_SLACK


def _write_pack(path: Path, texts: Path, state: BuildState, records: list[tuple[str, str, Any]]) -> None:
    """A new pack and texts file, under a new id: an index still naming the old one reads them as
    no pack at all. The old texts are read (through state.pack) while the new ones are written."""
    pack = Pack(os.urandom(8).hex())
    tmp, tmp_texts = (p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in (path, texts))
    try:
        with tmp.open("wb") as f, tmp_texts.open("wb") as t:
            for file, what in ((f, "pack"), (t, "texts")):
                file.write(json.dumps(_header(what, pack.id)).encode("ascii") + b"\n")
            pack.size, pack.texts_size = f.tell(), t.tell()
            for kind, key, value in records:
                _append(state, pack, f, t, kind, key, value)
            _append_search_items(state, pack, t, list(state.search))
        os.replace(tmp_texts, texts)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_texts.unlink(missing_ok=True)
    state.pack = pack


def _append(state: BuildState, pack: Pack, f: Any, texts: Any, kind: str, key: str, value: Any) -> None:
    """Write one record at the end of the pack (a body's or a highlight's texts at the end of the texts file)."""
    text_bytes = 0
    if kind == "entry":
        entry, problems = value
        encoded: Any = [encode_entry(entry) if entry else None, [encode_diagnostic(d) for d in problems]]
    elif kind == "body":
        body = stored_body(state, key) if is_lazy(state, key) else value
        places = (_append_text(pack, texts, body.html), _append_text(pack, texts, body.text),
                  _append_text(pack, texts, encode_headings(body.headings)) if body.headings else None)
        text_bytes = sum(stop - start + 1 for start, stop in filter(None, places))
        encoded = encode_body(value, places)
    elif value is None:  # a highlight of code no lexer knows
        encoded = None
    else:
        start, stop = pack.highlights[key] = _append_text(
            pack, texts, highlight_text(state, key) if key in state.pack.highlights else value)
        encoded, text_bytes = [start, stop], stop - start + 1
    line = _record_line(kind, key, encoded)
    f.write(line)
    pack.stored[kind][key] = (len(line), text_bytes)
    pack.size += len(line)


def _append_search_items(state: BuildState, pack: Pack, texts: Any, keys: list[str]) -> None:
    """Each item as it is (compact JSON, one line), not as a JSON string: see search_items."""
    for key, item in zip(keys, search_items(state, keys)):
        if b"\n" in item:
            raise BadState("a search item of more than one line")  # json_item never writes one
        start = pack.texts_size
        texts.write(item + b"\n")
        pack.texts_size += len(item) + 1
        pack.search[key] = (start, start + len(item), zlib.crc32(item))


def _append_text(pack: Pack, texts: Any, text: str | list[Any]) -> tuple[int, int]:
    """Write `text` as one JSON line at the end of the texts file; where it is (its newline follows)."""
    line = json.dumps(text, separators=(",", ":")).encode("ascii") + b"\n"
    start = pack.texts_size
    texts.write(line)
    pack.texts_size += len(line)
    return start, pack.texts_size - 1


def _record_line(kind: str, key: str, value: Any) -> bytes:
    return json.dumps([kind, key, value], separators=(",", ":"), check_circular=False).encode("ascii") + b"\n"


@contextlib.contextmanager
def _collector_paused(freeze: bool = False) -> Iterator[None]:
    """The state is ~10 objects per entry and holds no cycles: the cyclic collector would walk them
    all again and again while they are made (a third of a load's time at 5,000 entries). With
    `freeze`, what was made is then moved out of its sight for good (gc.freeze), before the first
    pass after the pause would walk all of it once more (a tenth of a load's time)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_on:
            gc.enable()


# --- encoding: each value as an array of its fields, in declaration order ---


def encode_index(state: BuildState) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "made_with": made_with(),
        "pack": [state.pack.id, state.pack.size, state.pack.texts_size],
        "search": as_columns({key: state.pack.search[key] for key in state.search if key in state.pack.search}, 3),
        "pages": state.pages,
        "files": state.files,
        "live_inode": state.live_inode,
        "spare_files": _delta(state.spare_files, state.files),
        "spare_inode": state.spare_inode,
        "stats": as_columns(state.stats, 4),
        "plan": [state.plan.outline, as_columns(state.plan.entries, 3), state.plan.pages],
    }


_KEYS = frozenset({"format", "made_with", "pack", "search", "pages", "files", "live_inode", "spare_files",
                   "spare_inode", "stats", "plan"})  # encode_index's; made_with() is not asked at import


def decode_index(doc: object) -> BuildState:
    """Everything but the pack's records, and which pack (and how much of it and of its texts) holds those."""
    d = as_dict(doc)
    if d.keys() != _KEYS or d["format"] != STATE_FORMAT or d["made_with"] != made_with():
        raise BadState("another format")
    pack_id, size, texts_size = items_of(d["pack"], 3)
    search = _item_places(d["search"], as_int(texts_size))
    outline, entries, pages = items_of(d["plan"], 3)
    plan = PlanMemo(as_str(outline), from_columns(entries, (str, str, str)), str_map(pages))
    files = site_paths(d["files"])
    return BuildState(
        pages=site_paths(d["pages"]),
        files=files,
        live_inode=optional(as_int, d["live_inode"]),
        spare_files=_undelta(d["spare_files"], files),
        spare_inode=optional(as_int, d["spare_inode"]),
        stats=from_columns(d["stats"], FILE_SEEN),
        search={key: None for key in search},
        plan=plan,
        pack=Pack(as_str(pack_id), as_int(size), as_int(texts_size), search=search),
    )




def _delta(spare: dict[str, str], live: dict[str, str]) -> list[Any]:
    """The spare folder's files as what they have that the live site has not, and what they lack:
    after a swap the spare is the site before, so that is a few files, not a third of the index."""
    return [{path: d for path, d in spare.items() if live.get(path) != d}, [path for path in live if path not in spare]]


def _undelta(value: object, live: dict[str, str]) -> dict[str, str]:
    other, lacking = items_of(value, 2)
    spare = live | site_paths(other)
    for path in as_list(lacking):
        if spare.pop(as_str(path), None) is None:
            raise BadState("a file the site lacks, missing from the spare")
    return spare
