"""A small real log that a hypothesis state machine edits at random, built after every step twice:
incrementally into one site (same out folder, same cache, every time) and cleanly into a fresh
folder with no build state; the two trees must be byte-identical.

Shared by tests/test_incremental_property.py (short, in `make test`) and
benchmarks/bench_differential.py (long). Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

if TYPE_CHECKING:
    from site_builder.state import KeptState

TODAY = dt.date(2020, 3, 6)
DAYS = [dt.date(2020, 2, 24) + dt.timedelta(days=n) for n in range(14)]  # two of them after TODAY
TAGS = ["cnn", "pooling", "optimizers", "Data Sets", "keras"]
WORDS = ["pooling", "strides", "kernels", "momentum", "dropout", "softmax", "entropy", "weights"]
FORMS = ("day", "named", "bundle")  # 2020-03-01.md, 2020-03-01-some-words.md, 2020-03-01/index.md
SNIPPETS = ("hello", "plot")
THEME = Path(__file__).resolve().parent.parent / "templates"
KEEP = "snippets"  # the only part of the cache folder a clean build may share

# A 1x1 PNG: images differ by a trailing comment-like tail (viewers ignore bytes after IEND).
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@dataclass(frozen=True)
class Doc:
    """One entry as the machine wrote it; `text()` is its file."""

    day: dt.date
    form: str = "day"
    title: str = ""
    tags: tuple[str, ...] = ()
    draft: bool = False
    words: str = "first words"
    tail: tuple[str, ...] = ()  # Markdown lines appended: links, images, snippet directives
    snippets: tuple[str, ...] = ()  # front matter `snippets:`

    @property
    def path(self) -> str:
        day = self.day.isoformat()
        return {"day": f"entries/{day}.md", "named": f"entries/{day}-notes-on-{self.words.split()[0]}.md",
                "bundle": f"entries/{day}/index.md"}[self.form]

    @property
    def folder(self) -> str:
        return self.path.rsplit("/", 1)[0]

    def text(self) -> str:
        front = [f"title: {self.title}"] if self.title else []
        if self.tags:
            front.append("tags: [" + ", ".join(f'"{t}"' for t in self.tags) + "]")
        if self.draft:
            front.append("draft: true")
        if self.snippets:
            front.append("snippets: [" + ", ".join(self.snippets) + "]")
        body = [f"Today: {self.words}.", "", *self.tail]
        return "---\n" + "".join(line + "\n" for line in front) + "---\n" + "\n".join(body) + "\n"


def relative(from_folder: str, target: str) -> str:
    return os.path.relpath(target, from_folder).replace(os.sep, "/")


def write_file(path: Path, data: bytes, how: str = "changed") -> None:
    """Write so that a stat-based check can see it, the way editors and scripts do.

    changed:     in place; if the clock did not tick and the size is the same, mtime moves 1 ms on
    same-second: in place, same size, mtime_ns one nanosecond later (a sub-second edit)
    new-inode:   write beside and rename over (as `sed -i` and many editors do), same mtime_ns
    """
    old = path.stat() if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "new-inode" and old is not None:
        tmp = path.with_name(path.name + ".new")
        tmp.write_bytes(data)
        os.utime(tmp, ns=(old.st_atime_ns, old.st_mtime_ns))
        os.replace(tmp, path)
        return
    path.write_bytes(data)
    if old is None:
        return
    now = path.stat()
    if how == "same-second":
        os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns + 1))
    elif (now.st_mtime_ns, now.st_size) == (old.st_mtime_ns, old.st_size):
        os.utime(path, ns=(now.st_atime_ns, now.st_mtime_ns + 1_000_000))


def same_size_words(words: str) -> str:
    """Other words of exactly the same length (so the file keeps its size)."""
    return "".join(chr((ord(c) - 97 + 1) % 26 + 97) if "a" <= c <= "z" else c for c in words)


# ---------------------------------------------------------------------------------------------
# The seed log

HELLO = "from helper import VALUE\n\nprint('hello', VALUE)\n"
HELPER = "VALUE = 1\n"
PLOT = ("import matplotlib.pyplot as plt\n\nfig, ax = plt.subplots(figsize=(1, 1))\n"
        "ax.plot([1, 2], [2, 1])\nax.set_title('Down')\n")


def config_text(title: str, per_page: int) -> str:
    return f'title = "{title}"\ntimezone = "UTC"\nentries_per_page = {per_page}\n'


def seed_docs() -> dict[dt.date, Doc]:
    a, b, c = DAYS[3], DAYS[5], DAYS[6]
    return {
        a: Doc(a, title="Pooling", tags=("cnn", "pooling"), snippets=("plot",)),
        b: Doc(b, tags=("cnn",), words="second day", tail=("```{snippet} hello", "```")),
        c: Doc(c, form="bundle", title="Momentum", tags=("optimizers",), words="a bundle",
               tail=(f"[back]({relative('entries/' + c.isoformat(), f'entries/{a.isoformat()}.md')})",)),
    }


def seed_log(root: Path) -> None:
    """The starting log; its snippets' outputs are cached by the first build."""
    (root / "snippets").mkdir(parents=True)
    (root / "logbuild.toml").write_text(config_text("Property Log", 3))
    (root / "snippets" / "hello.py").write_text(HELLO)
    (root / "snippets" / "helper.py").write_text(HELPER)
    (root / "snippets" / "plot.py").write_text(PLOT)
    for doc in seed_docs().values():
        write_file(root / doc.path, doc.text().encode())


# ---------------------------------------------------------------------------------------------
# Builds and trees

def build(root: Path, out: Path, today: dt.date = TODAY, kept: KeptState | None = None) -> tuple[bool, list[str]]:
    """Build `root` into `out` in-process as `logbuild build` does (or as serve does, holding the
    state in `kept` between builds): (up to date, diagnostics)."""
    from site_builder.build import BuildOptions, build_site
    from site_builder.config import load_config
    from site_builder.incremental import freshness

    config, problems = load_config(root)
    assert not [p for p in problems if p.severity == "error"], [p.format() for p in problems]
    options = BuildOptions(out=out, today=today)
    fresh = freshness(config, options)
    report = build_site(config, options, fresh=fresh, kept=kept)
    return fresh.report is not None, sorted(d.format() for d in report.diagnostics)


def clean_build(root: Path, out: Path, today: dt.date = TODAY) -> list[str]:
    """A build with no build state: a fresh out folder, and every part of the cache folder but the
    snippet outputs moved aside meanwhile (then put back as it was)."""
    cache = root / ".logbuild"
    aside = Path(tempfile.mkdtemp(prefix="aside-", dir=root.parent))
    kept = [p for p in cache.iterdir() if p.name != KEEP] if cache.is_dir() else []
    for p in kept:
        os.replace(p, aside / p.name)
    shutil.rmtree(out, ignore_errors=True)
    try:
        return build(root, out, today)[1]
    finally:
        forget_build_state(root)
        for p in kept:
            os.replace(aside / p.name, p)
        aside.rmdir()


def read_tree(folder: Path) -> dict[str, bytes] | None:
    """Every entry below `folder`, hidden ones too; a symlink reads as its target. None: absent."""
    if not folder.exists():
        return None
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            if os.path.islink(path):
                out[rel] = b"<symlink to " + os.fsencode(os.readlink(path)) + b">"
            else:
                with open(path, "rb") as f:
                    out[rel] = f.read()
        if not filenames and not dirnames and dirpath != str(folder):
            out[os.path.relpath(dirpath, folder).replace(os.sep, "/") + "/"] = b"<empty folder>"
    return out


def tree_difference(a: dict[str, bytes] | None, b: dict[str, bytes] | None,
                    names: tuple[str, str] = ("incremental", "clean")) -> str | None:
    """None if equal, else what differs first: the file lists, or one file's bytes (a diff excerpt)."""
    if a is None or b is None:
        return None if a is b else f"{names[0]}: {'absent' if a is None else 'present'}, " \
                                   f"{names[1]}: {'absent' if b is None else 'present'}"
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        return f"only in {names[0]}: {only_a[:8]}; only in {names[1]}: {only_b[:8]}"
    for path in sorted(a):
        if a[path] != b[path]:
            return f"{path} differs:\n" + diff_excerpt(a[path], b[path], names)
    return None


def diff_excerpt(a: bytes, b: bytes, names: tuple[str, str], lines: int = 24) -> str:
    text_a = a.decode("utf-8", "replace").splitlines()
    text_b = b.decode("utf-8", "replace").splitlines()
    diff = list(difflib.unified_diff(text_a, text_b, names[0], names[1], n=1, lineterm=""))
    if not diff:
        return f"  (binary: {len(a)} vs {len(b)} bytes)"
    return "\n".join(line[:300] for line in diff[:lines]) + ("\n  ..." if len(diff) > lines else "")


def shared_inodes(site: Path, root: Path, skip: str = ".logbuild") -> list[str]:
    """Site files that are the same file (hard link) as one of the log's own: editing one edits both."""
    own = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != skip]
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            own.add((st.st_dev, st.st_ino))
    out = []
    for dirpath, _, filenames in os.walk(site):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) in own:
                out.append(os.path.relpath(os.path.join(dirpath, name), site))
    return sorted(out)


def prepare_seed(folder: Path) -> Path:
    """The seed log with its snippets already run once (copied per example, so none reruns)."""
    root = folder / "log"
    seed_log(root)
    build(root, folder / "warm-site")
    shutil.rmtree(folder / "warm-site")
    forget_build_state(root)
    return root


def forget_build_state(root: Path) -> None:
    """Everything in the cache folder but the snippets' outputs goes: the next build is cold."""
    cache = root / ".logbuild"
    for p in cache.iterdir() if cache.is_dir() else []:
        if p.name != KEEP:
            _remove(p)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


# ---------------------------------------------------------------------------------------------
# The machine

@dataclass
class Counter:
    """Steps checked across runs (the bench prints it)."""

    steps: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    differences: list[tuple[str, str]] = field(default_factory=list)  # (kind, report): when recording


class IncrementalMachine(RuleBasedStateMachine):
    """Random edits to a real log; after each, incremental site == clean site, byte for byte."""

    seed: Path  # a prepared seed log (prepare_seed): machine_for sets it, the counter and `record`
    counter: Counter
    record: bool  # note a difference in the counter and go on (from a clean site) instead of failing

    def __init__(self) -> None:
        super().__init__()
        self.work = Path(tempfile.mkdtemp(prefix="logbuild-prop-"))
        self.root = self.work / "log"
        shutil.copytree(self.seed, self.root)
        self.site = self.work / "site-incremental"
        self.clean = self.work / "site-clean"
        self.docs = seed_docs()
        self.title, self.per_page = "Property Log", 3
        self.static: dict[str, bytes] = {}
        self.pages: dict[str, bytes] = {}  # pages/NAME.md written
        self.images: list[str] = []  # project paths of images written
        self.override: str | None = None
        self.hello, self.helper = HELLO, HELPER
        self.last_rule = "start"
        self.history: list[str] = []
        from site_builder.state import KeptState

        self.kept = KeptState()  # most builds hold their state in memory for the next one, as serve does

    def teardown(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    # -- helpers --

    def _pick(self, data: st.DataObject, drafts: bool | None = None) -> Doc:
        docs = [d for d in sorted(self.docs.values(), key=lambda d: d.day) if drafts is None or d.draft == drafts]
        return data.draw(st.sampled_from(docs), label="entry")

    def _write_doc(self, old: Doc | None, new: Doc, how: str = "changed") -> None:
        if old is not None and old.path != new.path:
            (self.root / old.path).unlink()
            _prune(self.root / old.folder, self.root / "entries")
        self.docs.pop(old.day if old else new.day, None)
        self.docs[new.day] = new
        write_file(self.root / new.path, new.text().encode(), how)

    def _note(self, name: str) -> None:
        self.last_rule = name
        self.history.append(name)
        self.counter.rules[name] = self.counter.rules.get(name, 0) + 1

    # -- entries --

    @rule(day=st.sampled_from(DAYS), form=st.sampled_from(FORMS), title=st.sampled_from(["", "A title", "Pooling"]),
          tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
          snippets=st.sampled_from([(), ("hello",), ("plot",), ("hello", "plot")]))
    def add_entry(self, day: dt.date, form: str, title: str, tags: list[str], snippets: tuple[str, ...]) -> None:
        if day in self.docs:
            self._note("nothing (a rebuild with no change)")
            return
        self._note("add_entry")
        self._write_doc(None, Doc(day, form, title, tuple(tags), words=f"notes on {WORDS[day.day % 8]}",
                                  snippets=snippets))

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), words=st.sampled_from(WORDS), title=st.sampled_from(["", "Edited", "Pooling"]))
    def edit_entry(self, data: st.DataObject, words: str, title: str) -> None:
        self._note("edit_entry")
        doc = self._pick(data)
        self._write_doc(doc, replace(doc, words=f"{doc.words.split()[0]} then {words}", title=title))

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), how=st.sampled_from(["same-second", "new-inode"]))
    def edit_same_size(self, data: st.DataObject, how: str) -> None:
        """The same size and (nearly) the same mtime: only the inode or mtime_ns tells."""
        self._note(f"edit_same_size:{how}")
        doc = self._pick(data)
        first, _, rest = doc.words.partition(" ")
        self._write_doc(doc, replace(doc, words=f"{first} {same_size_words(rest)}".strip()), how)

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), tags=st.lists(st.sampled_from(TAGS), max_size=3, unique=True))
    def retag(self, data: st.DataObject, tags: list[str]) -> None:
        self._note("retag")
        doc = self._pick(data)
        self._write_doc(doc, replace(doc, tags=tuple(tags)))

    @precondition(lambda self: self.docs)
    @rule(data=st.data())
    def delete_entry(self, data: st.DataObject) -> None:
        self._note("delete_entry")
        doc = self._pick(data)
        (self.root / doc.path).unlink()
        _prune(self.root / doc.folder, self.root / "entries")
        del self.docs[doc.day]

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), day=st.sampled_from(DAYS), form=st.sampled_from(FORMS))
    def rename_entry(self, data: st.DataObject, day: dt.date, form: str) -> None:
        """`git mv`: same bytes, new name (maybe a new date, a slug, or a page bundle)."""
        doc = self._pick(data)
        new = replace(doc, day=day, form=form)
        if new.path == doc.path or (day != doc.day and day in self.docs):
            self._note("nothing (a rebuild with no change)")
            return
        self._note("rename_entry")
        (self.root / new.path).parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.root / doc.path, self.root / new.path)
        _prune(self.root / doc.folder, self.root / "entries")
        del self.docs[doc.day]
        self.docs[day] = new

    @precondition(lambda self: self.docs)
    @rule(data=st.data())
    def toggle_draft(self, data: st.DataObject) -> None:
        self._note("toggle_draft")
        doc = self._pick(data)
        self._write_doc(doc, replace(doc, draft=not doc.draft))

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), words=st.sampled_from(WORDS))
    def add_paragraph(self, data: st.DataObject, words: str) -> None:
        """Text below the first paragraph: the outline of the log stays, the plan takes its shortcut."""
        self._note("add_paragraph")
        doc = self._pick(data)
        self._write_doc(doc, replace(doc, tail=(*doc.tail, f"Later: {words}.", "")))

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), words=st.sampled_from(WORDS), lang=st.sampled_from(["python", "nosuchlexer"]))
    def add_code(self, data: st.DataObject, words: str, lang: str) -> None:
        """A code block (highlighted, or in a language no lexer knows): the same code in two entries
        is one block of the state, and one no entry shows any more is forgotten."""
        self._note("add_code")
        doc = self._pick(data)
        self._write_doc(doc, replace(doc, tail=(*doc.tail, f"```{lang}", f"{words} = 1", "```", "")))

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), to_day=st.sampled_from(DAYS))
    def link_entry(self, data: st.DataObject, to_day: dt.date) -> None:
        """A relative link to another entry's file (as it is named now, or a plain day name)."""
        self._note("link_entry")
        doc = self._pick(data)
        to = self.docs[to_day].path if to_day in self.docs else f"entries/{to_day.isoformat()}.md"
        link = f"See [that day]({relative(doc.folder, to)})."
        self._write_doc(doc, replace(doc, tail=(*doc.tail, link)))

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), snippet=st.sampled_from(SNIPPETS), inline=st.booleans())
    def use_snippet(self, data: st.DataObject, snippet: str, inline: bool) -> None:
        self._note("use_snippet")
        doc = self._pick(data)
        if inline:
            new = replace(doc, tail=(*doc.tail, f"```{{snippet}} {snippet}", "```"))
        else:
            new = replace(doc, snippets=tuple(s for s in doc.snippets if s != snippet) or (snippet,))
        self._write_doc(doc, new)

    @precondition(lambda self: self.docs)
    @rule(data=st.data())
    def touch_entry(self, data: st.DataObject) -> None:
        """A new mtime, the same bytes (a checkout, a `touch`)."""
        self._note("touch_entry")
        path = self.root / self._pick(data).path
        st_ = path.stat()
        os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 2_000_000_000))

    # -- images beside entries --

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), beside=st.booleans())
    def add_image(self, data: st.DataObject, beside: bool) -> None:
        self._note("add_image")
        doc = self._pick(data)
        folder = doc.folder if beside else "entries/images"
        path = f"{folder}/figure-{len(self.images)}.png"
        self.images.append(path)
        write_file(self.root / path, PNG + b"v0")
        self._write_doc(doc, replace(doc, tail=(*doc.tail, f"![a figure]({relative(doc.folder, path)})")))

    @precondition(lambda self: any((self.root / p).exists() for p in self.images))
    @rule(data=st.data(), grow=st.booleans())
    def edit_image(self, data: st.DataObject, grow: bool) -> None:
        self._note("edit_image")
        path = self.root / data.draw(st.sampled_from([p for p in self.images if (self.root / p).exists()]))
        old = path.read_bytes()
        write_file(path, old + b"x" if grow else old[:-1] + bytes([(old[-1] + 1) % 256]), "changed")

    @precondition(lambda self: any((self.root / p).exists() for p in self.images))
    @rule(data=st.data())
    def delete_image(self, data: st.DataObject) -> None:
        self._note("delete_image")
        path = self.root / data.draw(st.sampled_from([p for p in self.images if (self.root / p).exists()]))
        path.unlink()

    # -- configuration, templates, static files --

    @rule(title=st.sampled_from(["Property Log", "Another Title"]), per_page=st.sampled_from([1, 2, 3, 10]))
    def change_config(self, title: str, per_page: int) -> None:
        self._note("change_config")
        self.title, self.per_page = title, per_page
        write_file(self.root / "logbuild.toml", config_text(title, per_page).encode())

    @rule(mark=st.sampled_from(["one", "two"]))
    def override_template(self, mark: str) -> None:
        """templates/entry.html: the default theme's, with one change."""
        self._note("override_template")
        self.override = mark
        text = (THEME / "entry.html").read_text("utf-8")
        text = text.replace('<article class="entry">', f'<article class="entry" data-override="{mark}">')
        write_file(self.root / "templates" / "entry.html", text.encode())

    @precondition(lambda self: self.override is not None)
    @rule()
    def remove_override(self) -> None:
        self._note("remove_override")
        self.override = None
        (self.root / "templates" / "entry.html").unlink()

    @rule(name=st.sampled_from(["note.txt", "deep/data.csv", "robots.txt"]),
          text=st.sampled_from(["a", "bb", "a,b\n1,2\n"]),
          how=st.sampled_from(["changed", "changed", "same-second", "new-inode"]))
    def write_static(self, name: str, text: str, how: str) -> None:
        data = text.encode()
        if how != "changed" and name in self.static:  # the same size as now, other bytes
            data = bytes(c ^ 1 for c in self.static[name])
        else:
            how = "changed"
        self._note(f"write_static:{how}")
        self.static[name] = data
        write_file(self.root / "static" / name, data, how)

    @precondition(lambda self: self.static)
    @rule(data=st.data())
    def remove_static(self, data: st.DataObject) -> None:
        self._note("remove_static")
        name = data.draw(st.sampled_from(sorted(self.static)))
        del self.static[name]
        (self.root / "static" / name).unlink()
        _prune(self.root / "static" / name.rpartition("/")[0], self.root / "static")

    # -- undated pages --

    @rule(name=st.sampled_from(["about", "projects", "notes/reading"]), weight=st.integers(-1, 2),
          words=st.sampled_from(WORDS), link=st.booleans(),
          how=st.sampled_from(["changed", "same-second", "new-inode"]))
    def write_page(self, name: str, weight: int, words: str, link: bool, how: str) -> None:
        self._note(f"write_page:{how}")
        target = next(iter(sorted(self.docs.values(), key=lambda d: d.day)), None)
        to = f" See [a day]({relative('pages/' + name.rpartition('/')[0], target.path)})." if link and target else ""
        self.pages[name] = f"---\nweight: {weight}\n---\n# {name.title()}\n\nNotes on {words}.{to}\n".encode()
        write_file(self.root / "pages" / f"{name}.md", self.pages[name], how)

    @precondition(lambda self: self.pages)
    @rule(data=st.data())
    def remove_page(self, data: st.DataObject) -> None:
        self._note("remove_page")
        name = data.draw(st.sampled_from(sorted(self.pages)))
        del self.pages[name]
        (self.root / "pages" / f"{name}.md").unlink()
        _prune(self.root / "pages" / name.rpartition("/")[0], self.root / "pages")

    # -- snippets --

    @rule(variant=st.sampled_from(["print", "print2", "fail"]), how=st.sampled_from(["changed", "new-inode"]))
    def edit_snippet(self, variant: str, how: str) -> None:
        self._note(f"edit_snippet:{variant}")
        self.hello = {"print": HELLO, "print2": HELLO.replace("'hello'", "'hi there'"),
                      "fail": HELLO + "raise ValueError('on purpose')\n"}[variant]
        write_file(self.root / "snippets" / "hello.py", self.hello.encode(), how)

    @rule(value=st.integers(1, 3), how=st.sampled_from(["changed", "same-second", "new-inode"]))
    def edit_helper(self, value: int, how: str) -> None:
        """VALUE = 1 -> VALUE = 2 keeps the size: only the stat's inode or mtime_ns tells."""
        self._note(f"edit_helper:{how}")
        self.helper = f"VALUE = {value}\n"
        write_file(self.root / "snippets" / "helper.py", self.helper.encode(), how)

    # -- the invariant --

    @invariant()
    def incremental_equals_clean(self) -> None:
        self.counter.steps += 1
        problem = self._difference()
        if problem is None:
            return
        if not self.record:
            raise AssertionError(problem)
        kind = re.sub(r"\d+", "#", problem.splitlines()[0].split(": ", 1)[1])  # what differs, not when
        kind = re.sub(r"(hard-linked to the log's own).*", r"\1", kind)
        self.counter.differences.append((kind, problem + "\nrules so far: " + ", ".join(self.history)))
        shutil.rmtree(self.site, ignore_errors=True)  # go on from a clean start
        forget_build_state(self.root)
        build(self.root, self.site)

    def _difference(self) -> str | None:
        """What makes the incremental site not the clean one, first thing first; None if nothing."""
        # every fourth build as `logbuild build` does: it reads the state, and writes it anew under the kept one
        kept = None if self.counter.steps % 4 == 0 else self.kept
        up_to_date, incremental = build(self.root, self.site, kept=kept)
        clean = clean_build(self.root, self.clean)
        difference = tree_difference(read_tree(self.site), read_tree(self.clean))
        if difference is not None:
            return f"after {self.last_rule}: {difference}\n(diagnostics: {incremental})"
        # an up-to-date build returns the last report, which keeps no diagnostics (by design, today)
        if not up_to_date and incremental != clean:
            return f"after {self.last_rule}: diagnostics differ:\n" + "\n".join(
                difflib.unified_diff(incremental, clean, "incremental", "clean", lineterm=""))
        linked = shared_inodes(self.site, self.root)
        if linked:
            return f"after {self.last_rule}: site files hard-linked to the log's own: {linked}"
        return None


def _prune(folder: Path, top: Path) -> None:
    """Remove now-empty folders up to `top` (git does)."""
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def machine_for(seed: Path, counter: Counter | None = None, record: bool = False
                ) -> Callable[[], IncrementalMachine]:
    """A factory for `run_state_machine_as_test`, bound to one prepared seed log."""
    return type("Machine", (IncrementalMachine,), {"seed": seed, "counter": counter or Counter(), "record": record})
