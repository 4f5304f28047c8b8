"""EXECUTE: what a snippet name stands for: `snippets/NAME.py`, `snippets/NAME.ipynb`, or an entry's
inline cells; read, checked and (for the cells the page shows) rendered, before anything runs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ..confine import refused_target
from ..errors import Diagnostic
from ..model import Cell, CellProgram, Output, SnippetResult
from ..slugs import is_safe_segment
from .inputs import gather_modules
from .notebook import MAX_NOTEBOOK, key_text, read_notebook

SUFFIXES = (".py", ".ipynb")  # a .py file wins over a notebook of the same name
CHECKPOINTS = ".ipynb_checkpoints"


@dataclass(frozen=True)
class Source:
    name: str
    kind: Literal["script", "notebook", "cells"]
    path: Path
    shown: str  # relative to the root: where its lines are
    text: str  # what the key covers: the file, or the code cells that run (notebook.key_text)
    cells: tuple[Cell, ...] = ()
    kernel: str = ""
    notes: tuple[Diagnostic, ...] = ()

    @property
    def run_cells(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.kind == "code" and c.runs)


class SourceError(Exception):
    """A snippet that cannot run at all: the message, its problems, what text there was."""

    def __init__(self, message: str, problems: tuple[Diagnostic, ...] = (), text: str = "",
                 line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.problems, self.text, self.line = message, problems, text, line


def snippet_file(snippets_dir: Path, name: str) -> Path:
    """The file a name stands for: NAME.py, else NAME.ipynb (NAME.py when neither is there)."""
    for suffix in SUFFIXES:
        path = snippets_dir / f"{name}{suffix}"
        if path.is_file():
            return path
    return snippets_dir / f"{name}.py"


def available_snippets(snippets_dir: Path) -> set[str]:
    """Names an entry may refer to: every `NAME.py` and `NAME.ipynb` in snippets_dir (helpers, _x.py, not)."""
    try:
        return {p.stem for suffix in SUFFIXES for p in snippets_dir.glob(f"*{suffix}")
                if not p.stem.startswith("_")}
    except OSError:
        return set()


def imported_helpers(names: list[str], root: Path, snippets_dir: Path, programs: Mapping[str, CellProgram]) -> set[str]:
    """Local modules the named snippets, notebooks and cells import, followed transitively: the
    helpers a build runs without any entry linking them."""
    helpers: set[str] = set()
    for name in names:
        try:
            source = load_source(name, root, snippets_dir, programs)
        except SourceError:
            continue
        modules, _ = gather_modules(source.text, snippets_dir)
        helpers |= {Path(rel).parts[0].removesuffix(".py") for rel in modules}
    return helpers


def load_source(name: str, root: Path, snippets_dir: Path, programs: Mapping[str, CellProgram]) -> Source:
    """The source behind `name`; raises SourceError when there is nothing that can run."""
    if name in programs:
        return _cells_source(programs[name], root)
    path = snippet_file(snippets_dir, name)
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise SourceError(f"snippet '{name}' not found: no file {_rel(path, root)}")
    shown = Path(os.path.relpath(path, root)).as_posix()  # the link itself, not its target
    if not is_safe_segment(name):
        bad = Diagnostic(shown, None, f"the snippet name '{name}' cannot name a folder of the cache and the site",
                         hint="rename the file with letters, digits, '_', '-', '+' or '.'")
        raise SourceError(bad.format(), (bad,))
    refused = refused_target(root, snippets_dir, str(path), shown)
    if refused is not None:  # a link out of the log: its target is neither run nor shown
        raise SourceError(refused.format(), (refused,))
    try:
        if path.suffix == ".ipynb" and path.stat().st_size > MAX_NOTEBOOK:
            raise SourceError(f"{shown}: notebook larger than {MAX_NOTEBOOK // 2**20} MB; clear its outputs")
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {_rel(path, root)}: {exc}") from None
    if path.suffix != ".ipynb":
        return Source(name, "script", path, shown, text)
    notebook = read_notebook(text, shown)
    broken = tuple(p for p in notebook.problems if p.severity == "error")
    if broken:
        raise SourceError("\n".join(p.format() for p in broken), broken, "", broken[0].line)
    cells, notes = _rendered_cells(notebook.cells, shown)
    return Source(name, "notebook", path, shown, key_text(cells), cells, notebook.kernel,
                  notebook.problems + notes)


def _cells_source(program: CellProgram, root: Path) -> Source:
    return Source(program.name, "cells", root / program.path, program.path, key_text(program.cells),
                  program.cells, "python3")


def _rendered_cells(cells: tuple[Cell, ...], shown: str) -> tuple[tuple[Cell, ...], tuple[Diagnostic, ...]]:
    """Markdown cells through the entries' Markdown pipeline; its warnings at the notebook's lines."""
    from ..markdown import render_body

    out, notes = [], []
    for cell in cells:
        if cell.kind == "markdown":
            body = render_body(cell.source)
            cell = replace(cell, html=body.html)
            notes += [replace(p, path=shown, line=(p.line or 1) - 1 + cell.line) for p in body.problems]
        out.append(cell)
    return tuple(out), tuple(notes)


def with_source(result: SnippetResult, source: Source) -> SnippetResult:
    """A result (a run, or the cache's) shown with the source as it is now: its cells, its notes,
    and Markdown outputs rendered as the entries are."""
    if source.kind == "script":
        return replace(result, path=source.shown)
    outputs = tuple(tuple(_rendered(o) for o in cell) for cell in result.outputs)
    return replace(result, kind=source.kind, cells=source.cells, path=source.shown, outputs=outputs,
                   notes=source.notes)


def _rendered(output: Output) -> Output:
    if output.kind != "markdown":
        return output
    from ..markdown import render_body

    return Output("html", render_body(output.text).html, output.name, output.figure)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
