"""FRONT MATTER: split the YAML block off an entry, read it (dates stay text, so 2016-02-30 is
our error and not a crash), read dates and times, and find the file line of any key on demand."""

from __future__ import annotations

import datetime as dt
import re
import reprlib
from collections.abc import Callable
from typing import Any

import yaml

from .errors import Diagnostic

# YYYY-MM-DD, optionally with a time ("2018-09-10 00:44", Hugo's "2018-09-10T00:44:00+08:00", "...Z").
TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?)?\s*$"
)


MAX_NODES = 10_000  # values front matter may stand for once aliases are copied out; real ones have ~30


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader that leaves dates as strings, so 2016-02-30 becomes our error, not a crash."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def split_front_matter(text: str, path: str, problems: list[Diagnostic]) -> tuple[str | None, str, int]:
    """-> (front matter text, body, line where the body starts). No front matter is fine."""
    if not text.startswith("---\n"):
        return "", text, 1
    end = re.search(r"^(---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
    if end is None:
        problems.append(Diagnostic(path, 1, "front matter opened with '---' is never closed",
                                   hint="add a line '---' after the last key"))
        return None, "", 1
    front = text[4 : 4 + end.start()]
    rest = text[4 + end.end() :]
    body = rest.removeprefix("\n")
    return front, body, front.count("\n") + 3


def parse_yaml(front: str, path: str, problems: list[Diagnostic]) -> dict[str, Any] | None:
    """The front matter as a dict, or None with the problem at its line. Aliases are bounded:
    twelve lines of nested `*a` (an alias bomb) would otherwise stand for a billion values."""
    if not front.strip():
        return {}
    loader = _Loader(front)
    try:
        node = loader.get_single_node()
        if node is not None and "&" in front and "*" in front:  # no anchor, no alias: size is the text's
            where = _oversized(node)
            if where is not None:
                problems.append(Diagnostic(path, where, f"front matter stands for more than {MAX_NODES:,} values "
                                           "once its aliases (*name) are copied out",
                                           hint="write the values out; front matter needs no anchors and aliases"))
                return None
        problems += _duplicate_keys(node, path) if node is not None else []  # an error, but read on
        meta = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(exc, path))
        return None
    finally:
        loader.dispose()
    if not isinstance(meta, dict):
        problems.append(Diagnostic(path, 2, "front matter must be 'key: value' lines"))
        return None
    return {str(k): v for k, v in meta.items()}


def _yaml_problem(exc: yaml.YAMLError, path: str) -> Diagnostic:
    """At the line of the problem; but "end of stream" is no place, so an unclosed quote is
    reported where it opened ("... while scanning a quoted scalar")."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if reason == "found unexpected end of stream" and context and context_mark is not None:
        reason, mark = f"{reason} {context}", context_mark
    return Diagnostic(path, mark.line + 2 if mark is not None else 1, f"invalid YAML in front matter: {reason}",
                      hint="check indentation and quote values that contain ': '")


def _duplicate_keys(root: yaml.Node, path: str) -> list[Diagnostic]:
    """A key given twice: YAML keeps the last without a word, which hides the first."""
    if not isinstance(root, yaml.MappingNode):
        return []
    first: dict[str, int] = {}
    out = []
    for key, _ in root.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        line = int(key.start_mark.line) + 2
        if key.value in first:
            out.append(Diagnostic(path, line, f"front matter key '{key.value}' is given twice "
                                  f"(first on line {first[key.value]})", hint="keep one of them"))
        else:
            first[key.value] = line
    return out


def _oversized(root: yaml.Node) -> int | None:
    """The file line of the key where the expanded size first passes MAX_NODES, else None."""
    sizes: dict[int, int] = {}
    pairs = root.value if isinstance(root, yaml.MappingNode) else [(root, root)]
    total = 0
    for key, value in pairs:
        total += 1 + _expanded_size(value, sizes)
        if total > MAX_NODES:
            return int(key.start_mark.line) + 2
    return None


def _expanded_size(root: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes `root` stands for with every alias copied out, capped just above MAX_NODES.
    Iterative and memoised (a shared node is counted once per use, computed once); a value that
    contains itself is infinite."""
    over = MAX_NODES + 1
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = _children(node)
        if done:
            visiting.discard(id(node))
            sizes[id(node)] = min(over, 1 + sum(sizes.get(id(c), over) for c in children))
        elif id(node) in visiting:
            return over
        elif id(node) not in sizes:
            visiting.add(id(node))
            stack.append((node, True))
            stack += [(c, False) for c in children if id(c) not in sizes]
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def shown(value: Any) -> str:
    """A user's value for a message: short and shallow whatever it holds (deep, shared or huge)."""
    return reprlib.repr(value)


class KeyLines:
    """Finds the file line of a front matter key, composing the YAML only when asked."""

    def __init__(self, front: str):
        self.front = front
        self._lines: dict[str, int] | None = None

    def of(self, key: str) -> int:
        if self._lines is None:
            self._lines = {}
            node = yaml.compose(self.front, Loader=_Loader)
            if isinstance(node, yaml.MappingNode):
                for k, _ in node.value:
                    self._lines.setdefault(str(k.value), k.start_mark.line + 2)
        return self._lines.get(key, 1)

    def item(self, key: str, index: int) -> int:
        node = yaml.compose(self.front, Loader=_Loader)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key and isinstance(v, yaml.SequenceNode) and index < len(v.value):
                    return int(v.value[index].start_mark.line) + 2
        return self.of(key)


def parse_date(value: Any, path: str, line: Callable[[], int], problems: list[Diagnostic]
                ) -> dt.date | dt.datetime | None:
    m = TIMESTAMP.match(value.strip()) if isinstance(value, str) else None
    if m is None:
        problems.append(Diagnostic(path, line(), f"{_quoted(value)} is not a date",
                                   hint="write it as YYYY-MM-DD, or 'YYYY-MM-DD HH:MM'"))
        return None
    y, mo, d, h, mi, s = (int(g) if g else None for g in m.groups()[:6])
    try:
        if h is None:
            return dt.date(y, mo, d)  # type: ignore[arg-type]
        return dt.datetime(y, mo, d, h, mi or 0, s or 0, tzinfo=_offset(m.group(7)))  # type: ignore[arg-type]
    except ValueError as exc:
        problems.append(Diagnostic(path, line(), f"impossible date {_quoted(value)}: {exc}",
                                   hint="check the day and month"))
        return None


def _quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, (str, int, float)) else shown(value)


def _offset(text: str | None) -> dt.tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return dt.timezone.utc
    digits = text[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt.timezone(delta if text[0] == "+" else -delta)


def local_time(moment: dt.datetime, timezone: str) -> dt.datetime:
    """The time in the learner's zone: a naive time is taken as written there, an aware one converted."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(timezone)
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
