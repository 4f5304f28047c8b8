"""EXECUTE (pure): read a snippet's `# logbuild: ...` option lines."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from ..errors import did_you_mean

OPTION_LINE = re.compile(r"^#\s*logbuild:\s*(.*?)\s*$")
FLAGS = ("exclusive", "svg")
VALUED = ("timeout", "raises", "data")


@dataclass(frozen=True)
class SnippetOptions:
    """What a snippet's option lines ask for; `problems` are (line, message) pairs."""

    timeout: float | None = None
    exclusive: bool = False
    raises: str | None = None
    raises_line: int | None = None
    data: tuple[str, ...] = ()
    svg: bool = False
    problems: tuple[tuple[int, str], ...] = ()

    def key_text(self) -> str:
        """The options that can change a snippet's output, as one stable line (no timeout)."""
        parts = [f"exclusive={int(self.exclusive)}", f"svg={int(self.svg)}", f"raises={self.raises or ''}"]
        return " ".join(parts + [f"data={d}" for d in self.data])


def option_comments(source: str) -> list[tuple[int, str]]:
    """(line, text after `logbuild:`) for each option comment; tokenize keeps strings out."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        found = [(t.start[0], t.string) for t in tokens if t.type == tokenize.COMMENT and t.start[1] == 0]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        found = list(enumerate(source.splitlines(), start=1))
    out = []
    for line, text in found:
        m = OPTION_LINE.match(text)
        if m:
            out.append((line, m.group(1)))
    return out


def parse_options(source: str) -> SnippetOptions:
    values: dict[str, object] = {"data": []}
    problems: list[tuple[int, str]] = []
    for line, text in option_comments(source):
        for item in filter(None, (part.strip() for part in text.split(","))):
            problem = _apply(item, line, values)
            if problem:
                problems.append((line, problem))
    values["data"] = tuple(values["data"])  # type: ignore[arg-type]
    return SnippetOptions(problems=tuple(problems), **values)  # type: ignore[arg-type]


def _apply(item: str, line: int, values: dict[str, object]) -> str | None:
    name, eq, value = (s.strip() for s in item.partition("="))
    if name in FLAGS and not eq:
        values[name] = True
    elif name in VALUED and eq and value:
        return _apply_valued(name, value, line, values)
    elif name in FLAGS or name in VALUED:
        return f"'{name}' takes no value" if name in FLAGS else f"'{name}' needs a value: {name}=..."
    else:
        hint = did_you_mean(name, FLAGS + VALUED)
        return f"unknown snippet option '{name}'" + (f" ({hint})" if hint else "")
    return None


def _apply_valued(name: str, value: str, line: int, values: dict[str, object]) -> str | None:
    if name == "timeout":
        try:
            seconds = float(value)
        except ValueError:
            return f"timeout must be a number of seconds, not '{value}'"
        if seconds <= 0:
            return "timeout must be more than 0 seconds"
        values["timeout"] = seconds
    elif name == "raises":
        if not re.fullmatch(r"[A-Za-z_][\w.]*", value):
            return f"raises must name an exception class, not '{value}'"
        values["raises"], values["raises_line"] = value, line
    else:
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            return f"data path must be relative to the log's root, not '{value}'"
        values["data"].append(value.replace("\\", "/"))  # type: ignore[attr-defined]
    return None
