"""CELLS (pure): an entry's ```{python} / ```{code-cell} python block as a Cell, with Quarto's
`#|` options read the way Quarto reads them (YAML lines at the top of the cell), after MyST-NB's
`:tags: [...]` line when there is one.

The options become Jupyter Book's tags, so notebooks and inline cells render with one set of
rules: echo: false = remove-input, output: false = remove-output, include: false = remove-cell,
error: true = raises-exception (the cell may raise; the error is shown and the run goes on).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import Diagnostic, did_you_mean
from .model import Cell

CELL_INFO = re.compile(r"^\{(?:python|code-cell)\}(?:\s+(\S+))?\s*(.*)$")
OPTION_LINE = re.compile(r"^#\|\s?(.*)$")
MYST_OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")  # MyST-NB: `:tags: [hide-input]` before the code
BOOLEANS = {"echo": "remove-input", "output": "remove-output", "include": "remove-cell"}
KNOWN = ("echo", "eval", "output", "error", "include", "fig-cap", "fig-alt", "timeout", "label")
PYTHON_NAMES = ("python", "python3", "ipython", "ipython3")


def cell_language(info: str) -> str | None:
    """'python' for a fence that is an executable cell (```{python}, ```{code-cell} python,
    ```{code-cell} ipython3; bare ```{code-cell} is Python too); the other language it names
    (not run), or None when the fence is no cell at all."""
    m = CELL_INFO.match(info.strip())
    if m is None:
        return None
    if info.strip().startswith("{python}"):
        return "python"
    lang = (m.group(1) or "python").lower()
    return "python" if lang in PYTHON_NAMES else lang


def parse_cell(code: str, first_line: int, path: str) -> tuple[Cell, list[Diagnostic]]:
    """The cell whose code starts at `first_line` of `path`, and the mistakes in its options."""
    lines = code.split("\n")
    count = 0
    problems: list[Diagnostic] = []
    tags: list[str] = []
    while count < len(lines) and (m := MYST_OPTION.match(lines[count])):
        tags += _myst_tags(m.group(1), m.group(2), first_line + count, path, problems)
        count += 1
    myst = count
    while count < len(lines) and OPTION_LINE.match(lines[count]):
        count += 1
    options = _options(lines[myst:count], first_line + myst, path, problems)
    tags += [tag for key, tag in BOOLEANS.items() if options.get(key) is False]
    if options.get("error") is True:
        tags.append("raises-exception")
    timeout = options.get("timeout")
    cell = Cell(
        kind="code",
        source="\n".join(lines[count:]).rstrip("\n"),
        tags=tuple(tags),
        line=first_line + count,
        runs=options.get("eval") is not False,
        timeout=float(timeout) if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else None,
        caption=str(options.get("fig-cap") or ""),
        alt=str(options.get("fig-alt") or ""),
    )
    return cell, problems


def _myst_tags(key: str, value: str, line: int, path: str, problems: list[Diagnostic]) -> list[str]:
    try:
        tags = yaml.safe_load(value) if key == "tags" else None
    except yaml.YAMLError:
        tags = None
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        return tags
    message = "a cell's :tags: is a list, e.g. :tags: [hide-input]" if key == "tags" else f"unknown cell option ':{key}:'"
    problems.append(Diagnostic(path, line, message, "warning", hint="logbuild reads :tags: and Quarto's #| options"))
    return []


def _options(lines: list[str], first_line: int, path: str, problems: list[Diagnostic]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for offset, line in enumerate(lines):
        text = OPTION_LINE.match(line).group(1)  # type: ignore[union-attr]
        at = first_line + offset
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = "bad"
        if value is None:
            continue
        if not isinstance(value, dict) or len(value) != 1:
            problems.append(Diagnostic(path, at, f"a cell option is 'key: value', not '{text.strip()}'",
                                       "warning", hint="e.g. '#| echo: false'"))
            continue
        key, val = next(iter(value.items()))
        problem = _check(str(key), val)
        if problem:
            problems.append(Diagnostic(path, at, problem, "warning", hint=did_you_mean(str(key), KNOWN)))
        else:
            found[str(key)] = val
    return found


def _check(key: str, value: Any) -> str | None:
    if key not in KNOWN:
        return f"unknown cell option '{key}'"
    if key in ("echo", "eval", "output", "error", "include") and not isinstance(value, bool):
        return f"cell option '{key}' is true or false, not {value!r}"
    if key == "timeout" and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        return f"cell option 'timeout' is a number of seconds above 0, not {value!r}"
    if key in ("fig-cap", "fig-alt") and not isinstance(value, (str, int, float)):
        return f"cell option '{key}' is a text, not {value!r}"
    return None
