"""The build state and the last-build record are untrusted input (the cache is restored from CI):
plain JSON, read back exactly, and anything odd in them is a cold build, never a traceback."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import importlib
import json
import os
import pickle
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import run_logbuild

from site_builder.build import build_site, load_site
from site_builder.builds import BuildOptions
from site_builder.config import load_config
from site_builder.errors import Diagnostic
from site_builder.incremental import output_dir
from site_builder.model import CELLS_PREFIX, Entry, Heading, RenderedBody, SnippetRef
from site_builder.state import (
    STATE_FORMAT,
    BuildState,
    KeptState,
    StoredHighlights,
    is_lazy,
    load_state,
    made_with,
    pack_path,
    save_state,
    search_items,
    state_path,
    stored_body,
    texts_path,
)
from site_builder.statecodec import BadState

PACKAGE = Path(__file__).parent.parent / "site_builder"
MISSING = "<no such key>"
OUT = Path("/srv/site")
ZONE = zoneinfo.ZoneInfo("Europe/Berlin")


def _entry(path: str, digest: str, **changes: Any) -> Entry:
    """As the state keeps it: the Markdown only of an entry with inline cells."""
    entry = Entry(path, dt.date(2018, 9, 9), "2018-09-09", "Day 1: pooling", ("cnn", "c++"),
                  (("colab", "https://colab.example/x"),), (SnippetRef("max_pooling", 3, True),), False, None,
                  "", 5, digest)
    return dataclasses.replace(entry, **changes)


def full_state() -> BuildState:
    """A state using every kind of value the format holds."""
    late = dt.datetime(2018, 10, 28, 2, 30, fold=1, tzinfo=ZONE)  # the second 02:30 of a DST change
    first = _entry("entries/2018-09-09.md", "a" * 64, body="Some *text* — with ünïcode.\n```{python}\n1\n```\n",
                   snippets=(SnippetRef("max_pooling", 3, True), SnippetRef(CELLS_PREFIX + "2018-09-09", 7, True)))
    second = _entry("entries/2018-09-10.md", "b" * 64, date=dt.date(2018, 9, 10), slug="2018-09-10",
                    draft=True, declared_streak=2, timestamp=late, tags=(), links=(), snippets=())
    utc = _entry("entries/2018-09-11.md", "c" * 64, timestamp=dt.datetime(2018, 9, 11, 8, tzinfo=dt.timezone.utc))
    warning = Diagnostic("entries/2018-09-10.md", 2, "dated later", "warning", hint="fix it", code="x")
    return BuildState(
        entries={
            "entries/2018-09-09.md\0" + "a" * 64 + "\0rules": (first, []),
            "entries/2018-09-10.md\0" + "b" * 64 + "\0rules": (second, [warning]),
            "entries/2018-09-11.md\0" + "c" * 64 + "\0rules": (utc, []),
            "entries/bad.md\0" + "d" * 64 + "\0rules": (None, [Diagnostic("entries/bad.md", None, "no date")]),
        },
        bodies={"3\0" + "a" * 64: RenderedBody("<p>x &amp; \"y\"</p>\n", "x & y",
                                                (Heading(2, "Code", "code"),), "x & y",
                                                (("entries/2018-09-10.md", 4),), blocks=("h1", "h2"))},
        pages={"index.html": "k1", "entries/2018-09-09/index.html": "k2"},
        files={"index.html": "d1", "static/My plot.png": "d2"},
        live_inode=1234, spare_files={"index.html": "d0"}, spare_inode=None,
        highlights={"h1": "<span>x</span>", "h2": None},
        stats={"entries/2018-09-09.md": (1, 1_600_000_000_000_000_000, 300, "a" * 64)},
        search={"s1": '{"t":"Caf\u00e9 \\"x\\"","x":"line\\none"}'.encode()},
    )


def in_full(state: BuildState) -> BuildState:
    """The state with the texts that were left in the texts file: each body's HTML, each search item."""
    bodies = {k: stored_body(state, k) if is_lazy(state, k) else b for k, b in state.bodies.items()}
    return dataclasses.replace(state, bodies=bodies, search=dict(zip(state.search, search_items(state, [*state.search]))),
                               highlights=dict(StoredHighlights(state)))


def test_a_saved_state_reads_back_equal(tmp_path: Path) -> None:
    state = full_state()
    save_state(tmp_path, state, OUT)
    back = load_state(tmp_path, OUT)
    assert all(b.html == b.text == "" for b in back.bodies.values())  # read only for the pages rendered
    assert back.search == {"s1": None}  # likewise, when search.json is written
    assert back.highlights == {"h1": "", "h2": None}  # and a code block's, when an entry that has it renders
    assert in_full(back) == state
    for value in [*(e for e, _ in back.entries.values() if e is not None), *back.bodies.values()]:
        assert vars(value).keys() == {f.name for f in dataclasses.fields(value)}  # none left to a class default
    moments = [e.timestamp for e, _ in back.entries.values() if e is not None and e.timestamp is not None]
    assert [(m.tzinfo, m.fold) for m in moments] == [(ZONE, 1), (dt.timezone.utc, 0)]  # not a fixed offset
    assert state_path(tmp_path, OUT).name.startswith(f"state-{STATE_FORMAT}-") and state_path(tmp_path, OUT).suffix == ".json"
    assert sorted(p.name for p in state_path(tmp_path, OUT).parent.iterdir()) == sorted(
        [state_path(tmp_path, OUT).name, pack_path(tmp_path, OUT).name, texts_path(tmp_path, OUT).name])


def test_an_entry_keeps_its_markdown_only_when_inline_cells_are_run_from_it(tmp_path: Path) -> None:
    plain = _entry("entries/2018-09-12.md", "e" * 64, body="Rendered once, kept as HTML.\n")
    state = BuildState(entries={"entries/2018-09-12.md\0" + "e" * 64 + "\0rules": (plain, [])})
    save_state(tmp_path, state, OUT)
    assert [e.body for e, _ in load_state(tmp_path, OUT).entries.values() if e] == [""]
    assert "Rendered once" not in pack_path(tmp_path, OUT).read_text() + texts_path(tmp_path, OUT).read_text()
    pack = pack_path(tmp_path, OUT)
    pack.write_text(pack.read_text().replace(',null,5,"' + "e" * 64, ',"ab",5,"' + "e" * 64))  # same size
    assert load_state(tmp_path, OUT) == BuildState()  # Markdown kept for no cells: not a state we wrote


def test_a_second_save_appends_only_new_records(tmp_path: Path) -> None:
    state = full_state()
    save_state(tmp_path, state, OUT)
    before = pack_path(tmp_path, OUT).read_bytes()
    state = load_state(tmp_path, OUT)
    state.highlights["h3"] = "<span>new</span>"
    state.pages["index.html"] = "k9"
    save_state(tmp_path, state, OUT)
    after = pack_path(tmp_path, OUT).read_bytes()
    assert after.startswith(before) and after[len(before):].count(b"\n") == 1
    assert in_full(load_state(tmp_path, OUT)) == in_full(state)


def test_a_kept_state_is_used_until_anyone_else_writes_the_state(tmp_path: Path) -> None:
    """serve's builds hand their state to the next one in memory, not through the files; a build
    of another process in between (or a pack written anew) makes the next one read the files."""
    kept = KeptState()
    state = load_state(tmp_path, OUT)
    save_state(tmp_path, state, OUT, kept)
    assert kept.state is None  # a cold save writes the pack anew: nothing to hand over
    state = load_state(tmp_path, OUT, kept)
    state.highlights["h3"] = "<span>new</span>"
    save_state(tmp_path, state, OUT, kept)
    assert kept.state is state
    assert load_state(tmp_path, OUT, kept) is state and kept.state is None  # taken: a build that fails keeps none
    save_state(tmp_path, state, OUT, kept)
    other = load_state(tmp_path, OUT)  # another process's build
    other.highlights["h4"] = "<span>theirs</span>"
    save_state(tmp_path, other, OUT)
    back = load_state(tmp_path, OUT, kept)
    assert back is not state and in_full(back) == in_full(other)
    save_state(tmp_path, back, OUT, kept)
    os.utime(state_path(tmp_path, OUT))  # the index touched by hand
    assert load_state(tmp_path, OUT, kept) is not back


def test_a_state_kept_in_memory_holds_the_parses_a_load_reads_back(tmp_path: Path) -> None:
    """An entry parsed in this build is held as the state keeps it: the Markdown only of one
    with inline cells, so the next build of serve sees what a build reading the files would."""
    root = tiny_log(tmp_path / "log")
    (root / "entries" / "2020-01-03.md").write_text("---\ntitle: Three\n---\nCells.\n\n```{python}\n1 + 1\n```\n")
    config, _ = load_config(root)
    options = BuildOptions(today=dt.date(2020, 1, 3), run_snippets=False)
    kept = KeptState()
    for day in range(2):  # the first is cold (its pack is new: nothing kept), the second appends
        (root / "entries" / "2020-01-01.md").write_text(f"---\ntitle: One\n---\nDay {day}.\n")
        build_site(config, options, kept=kept)
    assert kept.state is not None
    back = load_state(config.path("cache_dir"), output_dir(config, options))
    assert kept.state.entries == {key: back.entries[key] for key in kept.state.entries}
    assert sorted(e.body for e, _ in kept.state.entries.values() if e) == ["", "", "Cells.\n\n```{python}\n1 + 1\n```\n"]


def test_a_pack_written_anew_is_not_kept(tmp_path: Path) -> None:
    state = full_state()
    for i in range(300):
        state.highlights[f"x{i}"] = "<span>" + "x" * 5000 + "</span>"
    save_state(tmp_path, state, OUT)
    state = load_state(tmp_path, OUT)
    state.highlights = {"h1": "<span>x</span>"}
    expected, kept = in_full(state), KeptState()
    save_state(tmp_path, state, OUT, kept)  # mostly forgotten: a new pack, whose texts the state read does not know
    assert kept.state is None
    assert in_full(load_state(tmp_path, OUT, kept)) == expected


def test_a_pack_of_forgotten_records_is_written_anew(tmp_path: Path) -> None:
    state = full_state()
    for i in range(300):
        state.highlights[f"x{i}"] = "<span>" + "x" * 5000 + "</span>"
    save_state(tmp_path, state, OUT)
    state = load_state(tmp_path, OUT)
    state.highlights = {"h1": "<span>x</span>"}
    expected = in_full(state)
    save_state(tmp_path, state, OUT)
    assert pack_path(tmp_path, OUT).stat().st_size < 10_000
    assert in_full(load_state(tmp_path, OUT)) == expected


def test_a_pack_of_forgotten_records_is_written_anew_however_large_the_live_texts(tmp_path: Path) -> None:
    """Every build reads the pack whole: once every entry's key has changed (a new entry format, say),
    the old records are dropped even though the texts file, read lazily, is mostly live."""
    state = full_state()
    for i in range(400):
        state.highlights[f"big{i}"] = "<span>" + "x" * 10_000 + "</span>"  # 4 MB of live texts
    for i in range(6000):
        state.entries[f"entries/{i}.md\0{i:064d}\0rules"] = (_entry(f"entries/{i}.md", f"{i:064d}"), [])
    save_state(tmp_path, state, OUT)
    state = load_state(tmp_path, OUT)
    state.entries = dict(list(state.entries.items())[:4])  # the others forgotten: 2 MB of the pack
    expected = in_full(state)
    save_state(tmp_path, state, OUT)
    assert pack_path(tmp_path, OUT).stat().st_size < 50_000
    assert in_full(load_state(tmp_path, OUT)) == expected


def test_what_a_killed_save_appended_is_not_read(tmp_path: Path) -> None:
    state = full_state()
    save_state(tmp_path, state, OUT)
    with pack_path(tmp_path, OUT).open("ab") as f:  # appended, but the index was never replaced
        f.write(b'["highlight","h9","<span>half</span>"]\n["highl')
    assert in_full(load_state(tmp_path, OUT)) == state
    state = load_state(tmp_path, OUT)
    state.highlights["h3"] = "<span>new</span>"
    save_state(tmp_path, state, OUT)
    assert in_full(load_state(tmp_path, OUT)) == in_full(state)
    assert b"half" not in pack_path(tmp_path, OUT).read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "another pack", "not utf-8", "missing", "a symlink"])
def test_an_odd_pack_is_a_cold_build(tmp_path: Path, damage: str) -> None:
    save_state(tmp_path, full_state(), OUT)
    pack = pack_path(tmp_path, OUT)
    data = pack.read_bytes()
    if damage == "truncated":
        pack.write_bytes(data[:-10])
    elif damage == "another pack":
        save_state(tmp_path / "other", full_state(), OUT)
        pack.write_bytes(pack_path(tmp_path / "other", OUT).read_bytes())
    elif damage == "not utf-8":
        pack.write_bytes(data.replace(b"Day 1", b"Day \xff"))
    elif damage == "missing":
        pack.unlink()
    else:
        pack.rename(tmp_path / "elsewhere.pack")
        pack.symlink_to(tmp_path / "elsewhere.pack")
    assert load_state(tmp_path, OUT) == BuildState()


@pytest.mark.parametrize("library", ["pygments", "markdown_it"])
def test_a_state_made_with_another_renderer_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        library: str) -> None:
    """Cached bodies and highlighted code are the old library's HTML: after an upgrade they are made anew."""
    save_state(tmp_path, full_state(), OUT)
    assert load_state(tmp_path, OUT) != BuildState()
    monkeypatch.setattr(importlib.import_module(library), "__version__", "999.0")
    made_with.cache_clear()
    try:
        assert load_state(tmp_path, OUT) == BuildState()
    finally:
        monkeypatch.undo()
        made_with.cache_clear()


def test_a_body_s_headings_are_read_with_its_html_and_checked_then(tmp_path: Path) -> None:
    save_state(tmp_path, full_state(), OUT)
    texts = texts_path(tmp_path, OUT)
    texts.write_bytes(texts.read_bytes().replace(b'[[2,"Code","code"]]', b'[[2,"Code",123456]]'))  # same length
    state = load_state(tmp_path, OUT)
    key = next(iter(state.bodies))
    assert state.bodies[key].headings == () and is_lazy(state, key)  # not read with the pack
    with pytest.raises(BadState):
        stored_body(state, key)


def test_missing_state_is_empty(tmp_path: Path) -> None:
    assert load_state(tmp_path, OUT) == BuildState()


PACKED = {"entry": "entries", "body": "bodies", "highlight": "highlights"}


def _doc(tmp_path: Path) -> dict[str, Any]:
    """The saved index, with the pack's records under the keys they would have in it."""
    save_state(tmp_path, full_state(), OUT)
    data: dict[str, Any] = json.loads(state_path(tmp_path, OUT).read_text())
    lines = pack_path(tmp_path, OUT).read_text().splitlines()
    data["header"] = json.loads(lines[0])
    data.update({name: {} for name in PACKED.values()})
    for line in lines[1:]:
        kind, key, value = json.loads(line)
        data[PACKED[kind]][key] = value
    return data


def _write_doc(tmp_path: Path, doc: dict[str, Any]) -> None:
    """_doc's inverse: the records back into the pack, the rest into the index."""
    doc = dict(doc)
    lines = [json.dumps(doc.pop("header"))]
    for kind, name in PACKED.items():
        lines += [json.dumps([kind, key, value], separators=(",", ":")) for key, value in doc.pop(name, {}).items()]
    text = "\n".join(lines) + "\n"
    pack_path(tmp_path, OUT).write_text(text)
    if isinstance(doc.get("pack"), list) and type(doc["pack"][1]) is int:
        doc["pack"][1] = len(text.encode())
    state_path(tmp_path, OUT).write_text(json.dumps(doc))


def _first(d: dict[str, Any]) -> Any:
    return next(iter(d.values()))


def _add_row(columns: list[list[Any]], key: str, *fields: Any) -> None:
    """One more row in an index map kept as columns (statecodec.as_columns)."""
    for column, value in zip(columns, (key, *fields), strict=True):
        column.append(value)


def _set_entry_field(index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        _first(doc["entries"])[0][index] = value
    return edit


DAMAGE: dict[str, Callable[[dict[str, Any]], None]] = {
    "another format": lambda d: d.update(format=1),
    "another logbuild": lambda d: d.update(made_with=d["made_with"].replace("'", "'0.0.1+", 1)),
    "a key missing": lambda d: d.pop("stats"),
    "an unknown key": lambda d: d.update(extra=1),
    "a list for a string": lambda d: _add_row(d["stats"], "entries/x.md", 1, 2, 3, ["x"]),
    "a bool for an inode": lambda d: _add_row(d["stats"], "entries/x.md", True, 2, 3, "x"),
    "a file seen twice": lambda d: _add_row(d["stats"], d["stats"][0][0], *(c[0] for c in d["stats"][1:])),
    "a string for a map": lambda d: d.update(pages="x"),
    "a number in a map of strings": lambda d: d["files"].update({"a.html": 1}),
    "a bad date": _set_entry_field(1, "2018-02-30"),
    "a date that is a number": _set_entry_field(1, 20180909),
    "a bool for a line": _set_entry_field(10, True),
    "a float for a line": _set_entry_field(10, 5.0),
    "a string for the tags": _set_entry_field(4, "cnn"),
    "a short entry": lambda d: _first(d["entries"])[0].pop(),
    "a long entry": lambda d: _first(d["entries"])[0].append(1),
    "a null entry list": lambda d: d["entries"].update({"k": None}),
    "a bad severity": lambda d: list(d["entries"].values())[1][1][0].__setitem__(3, "fatal"),
    "a bad snippet ref": _set_entry_field(6, [["max_pooling", "3", True]]),
    "a bad timestamp": lambda d: list(d["entries"].values())[1][0].__setitem__(12, ["yesterday", None, 0]),
    "a zone that climbs": lambda d: list(d["entries"].values())[1][0][12].__setitem__(1, "../../etc/passwd"),
    "an unknown zone": lambda d: list(d["entries"].values())[1][0][12].__setitem__(1, "Mars/Olympus"),
    "an aware time with a zone": lambda d: list(d["entries"].values())[1][0][12].__setitem__(
        0, "2018-10-28T02:30:00+01:00"),
    "an entry filed under another file": lambda d: d["entries"].update(
        {"entries/other.md\0" + "a" * 64 + "\0rules": _first(d["entries"])}),
    "a place of one for the headings": lambda d: _first(d["bodies"]).__setitem__(2, [5]),
    "a stat of two": lambda d: d["stats"].pop(),
    "a column short": lambda d: d["stats"][2].pop(),
    "an output path that climbs": lambda d: d["files"].update({"../victim/index.html": "d"}),
    "an absolute output path": lambda d: d["pages"].update({"/etc/passwd": "k"}),
    "a spare path with a backslash": lambda d: d["spare_files"][0].update({"a\\..\\b": "d"}),
    "a spare lacking what the site lacks too": lambda d: d["spare_files"][1].append("nowhere.html"),
    "a string inode": lambda d: d.update(live_inode="1234"),
    "a pack of another format": lambda d: d["header"].__setitem__(1, 2),
    "a string for the pack size": lambda d: d.update(pack=[d["pack"][0], "10"]),
    "a number for a highlight": lambda d: d["highlights"].update(h1=1),
    "a text past the texts file": lambda d: _first(d["bodies"])[0].__setitem__(1, 10**9),
    "a text before its start": lambda d: _add_row(d["search"], "s1", 5, 3, 0),
    "a text at no place": lambda d: d["search"].append(["here"]),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_any_odd_field_is_a_cold_build(tmp_path: Path, damage: str) -> None:
    doc = _doc(tmp_path)
    DAMAGE[damage](doc)
    _write_doc(tmp_path, doc)
    assert load_state(tmp_path, OUT) == BuildState()


def test_the_helpers_write_back_a_state_that_loads(tmp_path: Path) -> None:
    _write_doc(tmp_path, _doc(tmp_path))  # so that each damage above is what makes a cold build
    assert in_full(load_state(tmp_path, OUT)) == full_state()


@pytest.mark.parametrize("damage", ["truncated", "empty", "not utf-8", "deeply nested", "huge number",
                                    "a list at the top", "NaN for an inode"])
def test_an_odd_file_is_a_cold_build(tmp_path: Path, damage: str) -> None:
    path = state_path(tmp_path, OUT)
    doc = _doc(tmp_path)
    for name in [*PACKED.values(), "header"]:
        doc.pop(name)
    text = json.dumps(doc, separators=(",", ":"))
    data = {
        "truncated": text[: len(text) // 2].encode(),
        "empty": b"",
        "not utf-8": text.replace("index.html", "index\udcff.html").encode("utf-8", "surrogateescape"),
        "deeply nested": text.replace('"pages":', '"x":' + "[" * 100_000 + "]" * 100_000 + ',"pages":')
        .encode(),
        "huge number": text.replace('"live_inode":1234', '"live_inode":' + "9" * 10_000).encode(),
        "a list at the top": b"[1, 2]",
        "NaN for an inode": text.replace('"live_inode":1234', '"live_inode":NaN').encode(),
    }[damage]
    path.write_bytes(data)
    assert load_state(tmp_path, OUT) == BuildState()


def test_a_symlinked_state_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    save_state(elsewhere, full_state(), OUT)
    path = state_path(tmp_path / "cache", OUT)
    path.parent.mkdir(parents=True)
    path.symlink_to(state_path(elsewhere, OUT))
    assert load_state(tmp_path / "cache", OUT) == BuildState()


def test_a_fifo_in_place_of_the_state_does_not_hang(tmp_path: Path) -> None:
    path = state_path(tmp_path, OUT)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    assert load_state(tmp_path, OUT) == BuildState()


def test_save_replaces_atomically_and_clears_leftovers(tmp_path: Path) -> None:
    path = state_path(tmp_path, OUT)
    path.parent.mkdir(parents=True)
    leftover = path.with_name(f".{path.name}.99999.tmp")  # a build killed while saving
    leftover.write_text("half")
    half_pack = pack_path(tmp_path, OUT).with_name(f".{pack_path(tmp_path, OUT).name}.99999.tmp")
    half_pack.write_text("half")
    older = path.with_name(path.name.replace(f"state-{STATE_FORMAT}-", f"state-{STATE_FORMAT - 1}-"))  # the format before
    older.write_text("{}")
    other = path.with_name(".state-3-0123456789ab.json.1.tmp")  # another output folder's: not ours
    other.write_text("half")
    save_state(tmp_path, full_state(), OUT)
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, pack_path(tmp_path, OUT).name,
                                                                    texts_path(tmp_path, OUT).name, other.name])


def test_no_module_of_logbuild_imports_pickle() -> None:
    for module in PACKAGE.rglob("*.py"):
        tree = ast.parse(module.read_text("utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not names & {"pickle", "cPickle", "_pickle", "dill", "shelve", "marshal"}, module


class _Touch:
    """Unpickling this creates `path`: the harm a crafted state-1 pickle could do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def tiny_log(root: Path) -> Path:
    (root / "entries").mkdir(parents=True)
    (root / "logbuild.toml").write_text("# the defaults\n")  # what makes the folder a log
    (root / "entries" / "2020-01-01.md").write_text("---\ntitle: One\n---\nFirst day.\n")
    (root / "entries" / "2020-01-02.md").write_text("---\ntitle: Two\n---\nSecond day.\n")
    return root


def build(root: Path) -> None:
    done = run_logbuild("-C", root, "build", "--today", "2020-01-02")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_an_old_pickle_state_is_never_opened(tmp_path: Path) -> None:
    root = tiny_log(tmp_path / "log")
    build(root)
    record = next((root / ".logbuild" / "build").glob("last-build-*.json"))
    tag = record.stem.removeprefix("last-build-")
    marker = tmp_path / "pwned"
    old = root / ".logbuild" / "build" / f"state-1-{tag}.pickle"
    old.write_bytes(pickle.dumps(("0.1.0:anything", _Touch(marker))))
    (root / "entries" / "2020-01-02.md").write_text("---\ntitle: Two\n---\nSecond day, edited.\n")
    build(root)
    assert not marker.exists()
    assert not old.exists()  # a leftover of the old format is removed, unread
    assert "Second day, edited." in (root / "site" / "entries" / "2020-01-02" / "index.html").read_text()


def test_a_damaged_state_file_means_a_cold_build(tmp_path: Path) -> None:
    root = tiny_log(tmp_path / "log")
    build(root)
    path = next((root / ".logbuild" / "build").glob(f"state-{STATE_FORMAT}-*.json"))
    path.write_text(path.read_text()[:-100])
    (root / "entries" / "2020-01-01.md").write_text("---\ntitle: One\n---\nFirst day, edited.\n")
    build(root)
    assert "First day, edited." in (root / "site" / "entries" / "2020-01-01" / "index.html").read_text()
    assert load_state(root / ".logbuild", (root / "site").resolve()).entries  # and saved anew


@pytest.mark.parametrize("damage", [
    {"summary": "x"},
    {"summary": {"pages": "1", "entries": 2, "snippets": 0, "streaks": {}}},
    {"summary": {"pages": 1, "entries": 2, "snippets": 0, "streaks": {"current": 1}}},
    {"summary": None},
    {"summary": MISSING},
    {"summary": {"pages": 1, "entries": 2, "snippets": 0, "streaks": {
        "current": 1, "current_start": "2020-13-01", "best": 1, "best_start": None, "best_end": None,
        "total_days": 1, "longest_gap": 0, "longest_gap_after": None, "first_day": None, "last_day": None,
        "challenge_days": None, "challenge_day": None}}},
    {"fingerprint": ["x"]},
    {"dirty": "yes"},
    {"out_id": "x"},
])
def test_a_damaged_build_record_is_no_record(tmp_path: Path, damage: dict[str, Any]) -> None:
    root = tiny_log(tmp_path / "log")
    build(root)
    path = next((root / ".logbuild" / "build").glob("last-build-*.json"))
    record = json.loads(path.read_text())
    assert record["fingerprint"]  # an unchanged log would come back with the record's summary
    record.update(damage)
    record = {k: v for k, v in record.items() if v != MISSING}
    path.write_text(json.dumps(record))
    build(root)
    assert json.loads(path.read_text())["summary"]["entries"] == 2  # rebuilt, a good record again


@pytest.mark.parametrize("damage", [(b"<p>", b"\\q>"), (b'"t":"', b'"q":"')], ids=["a body's HTML", "a search item"])
def test_a_text_damaged_in_the_texts_file_means_a_cold_build(tmp_path: Path, damage: tuple[bytes, bytes]) -> None:
    """A text is checked only when read (a page showing it is rendered): then the build starts over cold."""
    root = tiny_log(tmp_path / "log")
    build(root)
    texts = next((root / ".logbuild" / "build").glob(f"state-{STATE_FORMAT}-*.texts"))
    data = texts.read_bytes()
    assert data.count(damage[0]) == 2
    texts.write_bytes(data.replace(*damage))  # the same length: the index still vouches for it
    (root / "entries" / "2020-01-02.md").write_text("---\ntitle: Two, renamed\n---\nSecond day.\n")
    build(root)  # the first day's page shows the second's title (its HTML is read), search.json changes
    first = (root / "site" / "entries" / "2020-01-01" / "index.html").read_text()
    assert "Two, renamed" in first and "First day." in first
    assert json.loads((root / "site" / "search.json").read_text())[1]["t"] == "One"


def test_a_highlighted_block_damaged_in_the_texts_file_means_a_cold_build(tmp_path: Path) -> None:
    """A code block's HTML is read only when an entry that has it renders again: a damaged one then
    starts the build over cold, and the page shows the block highlighted anew."""
    root = tiny_log(tmp_path / "log")
    code = "```python\nsquares = [n * n for n in range(3)]\n```\n"
    (root / "entries" / "2020-01-02.md").write_text(f"---\ntitle: Two\n---\nSecond day.\n\n{code}")
    build(root)
    texts = next((root / ".logbuild" / "build").glob(f"state-{STATE_FORMAT}-*.texts"))
    data = texts.read_bytes()
    highlighted = next(line for line in data.splitlines() if b"squares" in line and b"<span" in line and b"<pre" not in line)
    texts.write_bytes(data.replace(highlighted, highlighted.replace(b"<span", b"\\qspn")))  # same length, not JSON
    (root / "entries" / "2020-01-02.md").write_text(f"---\ntitle: Two\n---\nSecond day, edited.\n\n{code}")
    build(root)
    page = (root / "site" / "entries" / "2020-01-02" / "index.html").read_text()
    assert "edited" in page and "qspn" not in page and '<span class="n">squares</span>' in page


def test_the_state_keeps_only_the_code_blocks_some_body_shows(tmp_path: Path) -> None:
    """Each edit of a code block highlights it anew; the block it was is forgotten, not kept for
    good (the state, read whole by every build, would grow with every edit ever made)."""
    root = tiny_log(tmp_path / "log")
    shared = "```python\nshared = 1\n```\n"
    (root / "entries" / "2020-01-01.md").write_text(f"---\ntitle: One\n---\nFirst day.\n\n{shared}")

    def blocks() -> set[str]:
        """The blocks the next build keeps (and saves): the pack still holds the others until it is
        written anew, as it does forgotten entries and bodies (they count as forgotten bytes there)."""
        config, _ = load_config(root)
        state = load_state(config.path("cache_dir"), (root / "site").resolve())
        assert state.entries, "the state was read"
        load_site(config, BuildOptions(), dt.date(2020, 1, 2), state)
        return {html_text(state, key) for key in state.highlights}

    for n in range(3):
        (root / "entries" / "2020-01-02.md").write_text(
            f"---\ntitle: Two\n---\nSecond day.\n\n```python\nedit_{n} = {n}\n```\n\n{shared}\n```unknownlang\nx\n```\n")
        build(root)
        names = {name for text in blocks() for name in ("shared", *(f"edit_{i}" for i in range(3))) if name in text}
        assert names == {"shared", f"edit_{n}"}
        assert len(blocks()) == 3  # and the block no lexer knows, kept as such
    (root / "entries" / "2020-01-02.md").write_text("---\ntitle: Two\n---\nNo code now.\n")
    (root / "entries" / "2020-01-01.md").write_text("---\ntitle: One\n---\nNone here either.\n")
    build(root)
    assert blocks() == set()


def html_text(state: BuildState, key: str) -> str:
    """A kept block's HTML ("?" for code no lexer knows)."""
    html = StoredHighlights(state)[key]
    return "?" if html is None else html


@pytest.mark.parametrize("damage", ["missing", "a symlink", "another pack's", "shorter than vouched for", "not a file"])
def test_an_odd_texts_file_is_a_cold_build(tmp_path: Path, damage: str) -> None:
    save_state(tmp_path, full_state(), OUT)
    texts = texts_path(tmp_path, OUT)
    if damage == "missing":
        texts.unlink()
    elif damage == "a symlink":
        texts.rename(tmp_path / "elsewhere.texts")
        texts.symlink_to(tmp_path / "elsewhere.texts")
    elif damage == "another pack's":
        save_state(tmp_path / "other", full_state(), OUT)
        texts.write_bytes(texts_path(tmp_path / "other", OUT).read_bytes())
    elif damage == "shorter than vouched for":
        texts.write_bytes(texts.read_bytes()[:-5])
    else:
        texts.unlink()
        texts.mkdir()
    assert load_state(tmp_path, OUT) == BuildState()