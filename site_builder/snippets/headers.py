"""EXECUTE (pure): read a snippet's `# logbuild: ...` option lines."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from ..errors import did_you_mean

OPTION_LINE = re.compile(r"^#\s*logbuild:\s*(.*?)\s*$")
FLAGS = ("exclusive", "svg")
VALUED = ("timeout", "raises", "data", "memory")
SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT])(?:i?B)?", re.IGNORECASE)
UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
MIN_MEMORY = 64 * 1024**2  # below this Python cannot even import numpy


@dataclass(frozen=True)
class SnippetOptions:
    """What a snippet's option lines ask for; `problems` are (line, message) pairs."""

    timeout: float | None = None
    exclusive: bool = False
    raises: str | None = None
    raises_line: int | None = None
    data: tuple[str, ...] = ()
    svg: bool = False
    memory: int | None = None  # bytes from `memory=`; None: the default limit; 0: `memory=none`
    problems: tuple[tuple[int, str], ...] = ()

    def key_text(self) -> str:
        """The options that can change a snippet's output, as one stable line (no timeout)."""
        parts = [f"exclusive={int(self.exclusive)}", f"svg={int(self.svg)}", f"raises={self.raises or ''}"]
        parts += [f"data={d}" for d in self.data]
        if self.memory is not None:  # absent from the line when unset, so older keys still hold
            parts.append(f"memory={format_size(self.memory) if self.memory else 'none'}")
        return " ".join(parts)


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
    elif name == "memory":
        memory = parse_size(value)
        if isinstance(memory, str):
            return memory
        values["memory"] = memory
    elif name == "raises":
        if not re.fullmatch(r"[A-Za-z_][\w.]*", value):
            return f"raises must name an exception class, not '{value}'"
        values["raises"], values["raises_line"] = value, line
    else:
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            return f"data path must be relative to the log's root, not '{value}'"
        values["data"].append(value.replace("\\", "/"))  # type: ignore[attr-defined]
    return None


def parse_size(value: str) -> int | str:
    """Bytes for `512M`, `2G`, `1.5G` (binary units), 0 for `none`; or what is wrong with it."""
    if value.lower() == "none":
        return 0
    m = SIZE.fullmatch(value)
    if m is None:
        return f"memory must be a size like 512M or 2G (K, M, G, T), or none, not '{value}'"
    size = int(float(m.group(1)) * UNITS[m.group(2).upper()])
    if size < MIN_MEMORY:
        return f"memory must be at least {format_size(MIN_MEMORY)}, not '{value}'"
    return size


def format_size(size: int) -> str:
    """The shortest exact way to write `size` bytes as the `memory=` option does (2G, 300M)."""
    for unit in ("T", "G", "M", "K"):
        if size % UNITS[unit] == 0:
            return f"{size // UNITS[unit]}{unit}"
    return f"{size / UNITS['M']:.0f}M"
