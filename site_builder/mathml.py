"""MATH (pure): a LaTeX formula as MathML Core, made at build time (latex2mathml), so a page needs
no script and no CDN; a formula that does not parse is reported, never guessed at.

latex2mathml is lenient (an unknown `\\foo` becomes the text "\\foo", `\\frac{a` a fraction with one
part), so its output is checked too: balanced braces, no command left as text, every fraction,
root and script with all its parts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache

MATHML = "{http://www.w3.org/1998/Math/MathML}"
ARITY = {"mfrac": 2, "msup": 2, "msub": 2, "msubsup": 3, "mroot": 2, "munder": 2, "mover": 2, "munderover": 3}
MAX_FORMULA = 10_000  # characters; a longer one is surely a stray `$`
_COMMAND_TEXT = re.compile(r"^\\[A-Za-z]+$")


@lru_cache(maxsize=4096)
def to_mathml(latex: str, display: bool) -> tuple[str, str | None]:
    """(MathML, None), or ("", what is wrong with the formula)."""
    problem = _brace_problem(latex) if len(latex) <= MAX_FORMULA else f"longer than {MAX_FORMULA} characters"
    if problem:
        return "", problem
    from latex2mathml.converter import convert

    try:
        out = convert(latex, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 - latex2mathml raises many kinds; each means "does not parse"
        return "", _describe(exc)
    problem = _output_problem(out)
    return ("", problem) if problem else (out, None)


def _brace_problem(latex: str) -> str | None:
    depth = 0
    for m in re.finditer(r"\\.|[{}]", latex, re.DOTALL):
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
            if depth < 0:
                return "a '}' closes no '{'"
    return "a '{' is never closed" if depth else None


def _describe(exc: Exception) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(exc).__name__).lower().removesuffix(" error")
    return f"{words}: {exc}" if str(exc) else words


def _output_problem(out: str) -> str | None:
    try:
        tree = ET.fromstring(out)
    except ET.ParseError as exc:
        return f"no valid MathML came of it ({exc})"
    for node in tree.iter():
        tag = node.tag.removeprefix(MATHML)
        text = (node.text or "").strip()
        if tag in ("mi", "mo") and _COMMAND_TEXT.match(text):
            return f"unknown command {text}"
        if tag in ARITY and len(node) < ARITY[tag]:
            return f"a {'fraction' if tag == 'mfrac' else 'root' if tag == 'mroot' else 'script'} lacks a part"
    return None
