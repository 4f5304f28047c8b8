"""Diagnostics: every problem a stage finds, with the file and line a user must open."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem in the user's input, located as precisely as we can."""

    path: str
    line: int | None
    message: str
    severity: Severity = "error"
    hint: str | None = None
    code: str = ""  # a stable name for a kind of problem, e.g. "broken-link" (check fails on those)

    def format(self) -> str:
        """`path:line: message`, the form editors and CI annotate."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        label = "" if self.severity == "error" else "warning: "
        text = f"{where}: {label}{self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


def errors_in(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


def warnings_in(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "warning"]


BROKEN_LINK = "broken-link"  # Diagnostic.code of a relative link with nothing behind it


def fails(diagnostics: Iterable[Diagnostic], strict: bool = False) -> bool:
    """Errors fail a run; with --strict, warnings do too."""
    found = list(diagnostics)
    return bool(errors_in(found) or (strict and warnings_in(found)))


def not_utf8(path: str, data: bytes, exc: UnicodeDecodeError) -> Diagnostic:
    """A file that is not UTF-8, at the line of its first bad byte (\r\n, \r and \n each end a line)."""
    head = data[: exc.start]
    line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
    return Diagnostic(path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", hint="save the file as UTF-8")


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt key, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else None
