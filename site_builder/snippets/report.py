"""EXECUTE (edge): show snippet results as a rich table and as JUnit XML for CI."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import SnippetResult

if TYPE_CHECKING:
    from rich.table import Table

STYLES = {"ok": "green", "failed": "red", "timeout": "yellow", "error": "magenta"}


def format_table(results: Mapping[str, SnippetResult] | Iterable[SnippetResult]) -> Table:
    from rich.table import Table

    rows = list(results.values()) if isinstance(results, Mapping) else list(results)
    table = Table(title="Snippets", show_lines=False)
    for column, justify in (
        ("snippet", "left"),
        ("status", "left"),
        ("seconds", "right"),
        ("peak memory", "right"),
        ("output", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        memory = f"{r.peak_memory_mb:.0f} MB" if r.peak_memory_mb is not None else "-"
        origin = f"cached, ran {r.ran_at:%Y-%m-%d %H:%M}" if r.from_cache else "ran now"
        status = f"[{STYLES[r.status]}]{r.status}[/]"
        if r.error_line:
            status += f" (line {r.error_line})"
        table.add_row(r.name, status, f"{r.seconds:.2f}", memory, origin)
    return table


def write_junit(
    results: Mapping[str, SnippetResult], path: Path, extra_failures: Iterable[tuple[str, str]] = ()
) -> None:
    """One test case per snippet (plus one per extra (name, message) failure), written atomically."""
    extra = list(extra_failures)
    suite = ET.Element("testsuite", name="logbuild.snippets")
    counts = {"failures": len(extra), "errors": 0}
    for r in results.values():
        case = ET.SubElement(suite, "testcase", classname="snippets", name=r.name, time=f"{r.seconds:.3f}")
        if r.status in ("failed", "timeout"):
            counts["failures"] += 1
            node = ET.SubElement(case, "failure", type=r.status, message=_first_line(r))
            node.text = r.traceback or ""
        elif r.status == "error":
            counts["errors"] += 1
            ET.SubElement(case, "error", type="error", message=_first_line(r)).text = r.traceback or ""
        if r.stdout:
            ET.SubElement(case, "system-out").text = r.stdout
        if r.stderr:
            ET.SubElement(case, "system-err").text = r.stderr
    for name, message in extra:
        case = ET.SubElement(suite, "testcase", classname="build", name=name, time="0")
        ET.SubElement(
            case, "failure", type="build", message=message.splitlines()[0] if message else ""
        ).text = message
    suite.set("tests", str(len(results) + len(extra)))
    suite.set("failures", str(counts["failures"]))
    suite.set("errors", str(counts["errors"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    ET.ElementTree(suite).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)


def _first_line(r: SnippetResult) -> str:
    lines = (r.traceback or r.status).strip().splitlines()
    return lines[-1] if r.status == "failed" and lines else (lines[0] if lines else r.status)
