"""EXECUTE (pure): a `.ipynb` file read as plain JSON (no nbformat in the builder) into Cells,
each with the line of the file where its text starts, and the text its cache key is made of.

Only the cells count: the outputs stored in the file are never read, as they go stale. The key
text holds the code cells that run, in order, with the one tag that changes a run
(raises-exception), so a Markdown cell, an output or another tag can change without a rerun.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import Diagnostic
from ..model import Cell, CellKind

MAX_NOTEBOOK = 64 * 1024 * 1024  # bytes; stored outputs make notebooks big, but not this big
DEFAULT_KERNEL = "python3"  # ipykernel's own kernel: the Python that runs the build
RAISES = "raises-exception"
SKIP = "skip-execution"
_CELL_TYPE = re.compile(r'(?<!\\)"cell_type"\s*:')
_SOURCE = re.compile(r'(?<!\\)"source"\s*:\s*([\["])')
_KERNEL_NAME = re.compile(r"^[A-Za-z0-9._+-]{1,100}$")


@dataclass(frozen=True)
class Notebook:
    cells: tuple[Cell, ...]
    kernel: str
    problems: tuple[Diagnostic, ...] = ()


def read_notebook(text: str, path: str) -> Notebook:
    """The cells and kernel of a notebook's JSON text; a file that is no v4 notebook has problems."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return _broken(path, _json_line(text, exc), f"not a notebook: the JSON does not parse ({exc})")
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return _broken(path, 1, "not a notebook: no list of cells")
    if data.get("nbformat") != 4:
        return _broken(path, 1, f"notebook format {data.get('nbformat')!r} is not supported",
                       "save it with Jupyter 4 or later (nbformat 4)")
    lines = _source_lines(text)
    cells: list[Cell] = []
    problems: list[Diagnostic] = []
    for i, raw in enumerate(data["cells"]):
        line = lines[i] if len(lines) == len(data["cells"]) else 1
        cell = _cell(raw, line)
        if cell is None:
            problems.append(Diagnostic(path, line, f"cell {i + 1} is not a code, Markdown or raw cell", "warning"))
        else:
            cells.append(cell)
    return Notebook(tuple(cells), _kernel(data.get("metadata")), tuple(problems))


def _broken(path: str, line: int | None, message: str, hint: str | None = None) -> Notebook:
    return Notebook((), DEFAULT_KERNEL, (Diagnostic(path, line, message, hint=hint),))


def _json_line(text: str, exc: Exception) -> int | None:
    line = getattr(exc, "lineno", None)
    return line if isinstance(line, int) else None


def _cell(raw: object, line: int) -> Cell | None:
    if not isinstance(raw, dict) or raw.get("cell_type") not in ("code", "markdown", "raw"):
        return None
    source = raw.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    if not isinstance(source, str):
        return None
    meta = raw.get("metadata")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    tags = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
    kind: CellKind = raw["cell_type"]
    runs = kind == "code" and SKIP not in tags and bool(source.strip())
    return Cell(kind=kind, source=source.rstrip("\n"), tags=tags, line=line, runs=runs)


def _kernel(meta: object) -> str:
    spec = meta.get("kernelspec") if isinstance(meta, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and _KERNEL_NAME.match(name) else DEFAULT_KERNEL


def _source_lines(text: str) -> list[int]:
    """Per cell, the line of the file where its source text starts (the cells are found by their
    "cell_type" keys, which a JSON string cannot hold unescaped)."""
    starts = [m.start() for m in _CELL_TYPE.finditer(text)]
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        m = _SOURCE.search(text, start, end)
        at = start
        if m is not None:
            at = m.start(1)
            if m.group(1) == "[":
                first = text.find('"', m.end(1), end)
                close = text.find("]", m.end(1), end)
                at = first if 0 <= first < close or close < 0 <= first else at
        out.append(text.count("\n", 0, at) + 1)
    return out


def key_text(cells: Sequence[Cell]) -> str:
    """The code cells that run, in the percent format (jupytext's): what the cache key covers."""
    parts = []
    for cell in cells:
        if cell.kind == "code" and cell.runs:
            mark = f" [{RAISES}]" if RAISES in cell.tags else ""
            parts.append(f"# %%{mark}\n{cell.source}\n")
    return "\n".join(parts)


def python_text(source: str) -> str:
    """A cell's code with IPython's magics and shell escapes made `pass`, so `ast` can read its
    imports; a cell magic (%%bash) makes the whole cell no Python."""
    if source.lstrip().startswith("%%"):
        return ""
    out = []
    for line in source.split("\n"):
        stripped = line.lstrip()
        out.append(line[: len(line) - len(stripped)] + "pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(out)

