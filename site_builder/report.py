"""REPORT (edge): what the CLI prints — build summaries, JSON objects, streaks, a progress display."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from .builds import BuildReport
from .errors import errors_in, fails, warnings_in
from .incremental import streaks_json
from .streaks import Streaks

if TYPE_CHECKING:
    from .model import SnippetResult  # a type only: `build` on an unchanged log imports no model


def streak_json(s: Streaks | None) -> dict[str, Any]:
    return streaks_json(s) if s is not None else {}


def build_json(report: BuildReport) -> dict[str, Any]:
    return {
        "pages": report.pages,
        "pages_written": report.pages_written,
        "entries": report.entries,
        "warnings": [d.format() for d in warnings_in(report.diagnostics)],
        "errors": [d.format() for d in errors_in(report.diagnostics)],
        "diagnostics": [d.as_json() for d in report.diagnostics],
        "streak": streak_json(report.streaks),
        "snippets": {"ran": report.snippets.ran, "cached": report.snippets.cached,
                     "failed": report.snippets.failed},
        "seconds": round(report.seconds, 3),
        "output": report.output_dir,
    }


def print_diagnostics(diagnostics: Any) -> None:
    for d in diagnostics:
        click.secho(d.format(), fg="red" if d.severity == "error" else "yellow", err=True)


def print_build_report(report: BuildReport, strict: bool = False) -> None:
    print_diagnostics(report.diagnostics)
    errors = errors_in(report.diagnostics)
    warns = warnings_in(report.diagnostics)
    if report.snippet_results:
        print_snippet_table(report.snippet_results)
    s = report.streaks
    streak = f"; streak {s.current} (best {s.best}, {s.total_days} days)" if s else ""
    if fails(report.diagnostics, strict):
        why = "" if errors else " (warnings are errors under --strict)"
        click.secho(f"Build failed: {len(errors)} error(s), {len(warns)} warning(s){why}; the site was not changed.",
                    fg="red", err=True)
        return
    click.echo(
        f"Built {report.pages} pages ({report.pages_written} written) from {report.entries} entries "
        f"in {report.seconds:.2f} s{streak}; {len(warns)} warning(s). -> {report.output_dir}"
    )


def print_snippet_table(results: Any) -> None:
    from rich.console import Console

    from .snippets import format_table

    Console(stderr=True).print(format_table(list(results)))


def check_json(site: Any, passed: bool) -> dict[str, Any]:
    results = list(site.snippets.values())
    return {
        "entries": len(site.entries),
        "errors": [d.format() for d in errors_in(site.diagnostics)],
        "warnings": [d.format() for d in warnings_in(site.diagnostics)],
        "snippets": {r.name: {"status": r.status, "seconds": round(r.seconds, 3), "from_cache": r.from_cache,
                              "error_line": r.error_line} for r in results},
        "streak": streak_json(site.streaks),
        "ok": passed,
    }


def print_check_report(site: Any, passed: bool) -> None:
    from .build import check_failures

    print_diagnostics(site.diagnostics)
    if site.snippets:
        print_snippet_table(site.snippets.values())
    failed = [r for r in site.snippets.values() if r.status != "ok"]
    errors = check_failures(site)
    verdict = "OK" if passed else "FAILED"
    click.echo(f"check {verdict}: {len(site.entries)} entries, {len(site.snippets)} snippets, "
               f"{len(failed)} failed, {len(errors)} error(s)")


def print_snippet_run(result: SnippetResult) -> None:
    if result.stdout:
        click.echo(result.stdout.rstrip("\n"))
    if result.stderr:
        click.echo(result.stderr.rstrip("\n"), err=True)
    if result.traceback and result.status != "ok":
        click.secho(result.traceback.rstrip("\n"), fg="red", err=True)
    for f in result.figures:
        click.echo(f"figure: {result.output_dir}/{f.path}  ({f.alt})")
    click.echo(f"{result.name}: {result.status} in {result.seconds:.2f} s")


def print_streaks(s: Streaks, today: Any) -> None:
    alive = f"since {s.current_start}" if s.current else "no entry today or yesterday"
    click.echo(f"Current streak: {s.current} day{'s' if s.current != 1 else ''} ({alive}; today is {today})")
    if s.best:
        click.echo(f"Best streak:    {s.best} days ({s.best_start} to {s.best_end})")
    click.echo(f"Total days:     {s.total_days}; longest gap {s.longest_gap} day(s)")
    if s.challenge_days:
        click.echo(f"Challenge:      day {s.challenge_day} of {s.challenge_days}")


@contextlib.contextmanager
def progress_display(enabled: bool) -> Iterator[Callable[[Any], None] | None]:
    """A live line per running snippet (rich), only on a terminal; otherwise one line per finish."""
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        def plain(event: Any) -> None:
            if getattr(event, "kind", "") == "finished" and event.result is not None:
                r = event.result
                click.echo(f"[{event.done}/{event.total}] {r.name}: {r.status} ({r.seconds:.1f} s)", err=True)
        yield plain
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(event: Any) -> None:
            if event.kind == "started":
                tasks[event.name] = bar.add_task(f"running {event.name}", total=None)
            elif event.kind == "finished" and event.name in tasks:
                bar.remove_task(tasks.pop(event.name))

        yield update
