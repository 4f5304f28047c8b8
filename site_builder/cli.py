"""CLI: thin click commands. Each parses options, loads the configuration, calls one library
function, prints the report and picks the exit code. Heavy imports happen inside the commands."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Iterable, NoReturn

import click

from . import __version__


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; write YYYY-MM-DD") from None


def _root(ctx: click.Context) -> Path:
    return Path(ctx.obj["root"]) if ctx.obj and ctx.obj.get("root") else Path.cwd()


def _config(ctx: click.Context, **overrides: Any) -> Any:
    """Load the configuration; a broken one stops the command with every problem listed."""
    from .config import load_config
    from .errors import errors_in

    config, problems = load_config(_root(ctx), overrides)
    if errors_in(problems):
        _fail([p.format() for p in problems])
    for p in problems:
        click.echo(p.format(), err=True)
    return config


def _fail(lines: Iterable[str], code: int = 1) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logbuild")
@click.option("-C", "--root", type=click.Path(file_okay=False), help="The log's folder (default: here).")
@click.pass_context
def cli(ctx: click.Context, root: str | None) -> None:
    """logbuild turns a folder of dated Markdown entries into a static site, running linked
    Python snippets during the build and computing your streaks from the dates."""
    ctx.obj = {"root": root}


def _build_options(**kw: Any) -> Any:
    from .build import BuildOptions

    return BuildOptions(**kw)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: site/).")
@click.option("--base-url", help="Where the site will live, e.g. https://you.github.io/log/.")
@click.option("--drafts", is_flag=True, help="Include entries marked draft: true.")
@click.option("--strict", is_flag=True, help="Treat warnings (and failed snippets) as errors.")
@click.option("--today", callback=_date, metavar="YYYY-MM-DD", help="Pretend today is this date.")
@click.option("--timeout", type=float, help="Seconds each snippet may run (beats the snippets' own).")
@click.option("-j", "--jobs", type=int, help="Snippets run at once (default: one per core).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary.")
@click.pass_context
def build(ctx: click.Context, as_json: bool, **options: Any) -> None:
    """Build the site into site/ (or --out)."""
    from .build import build_site
    from .report import build_json, print_build_report, progress_display

    config = _config(ctx)
    with progress_display(enabled=not as_json) as progress:
        report = build_site(config, _build_options(**options), progress)
    if as_json:
        click.echo(json.dumps(build_json(report)))
    else:
        print_build_report(report)
    sys.exit(1 if report_failed(report, options["strict"]) else 0)


def report_failed(report: Any, strict: bool) -> bool:
    from .errors import errors_in, warnings_in

    return bool(errors_in(report.diagnostics) or (strict and warnings_in(report.diagnostics)))


@cli.command()
@click.option("--today", callback=_date, metavar="YYYY-MM-DD", help="Pretend today is this date.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def streak(ctx: click.Context, today: dt.date | None, as_json: bool) -> None:
    """Your current and best streak, computed from the entry dates."""
    from .build import resolve_today
    from .entries import EntryRules, load_entries
    from .errors import errors_in
    from .streaks import compute_streaks

    config = _config(ctx)
    today = resolve_today(config, today)
    entries, problems = load_entries(config.root, config.path("entries_dir"), EntryRules(config.day_ends_at))
    for p in problems:
        click.echo(p.format(), err=True)
    days = [e.date for e in entries if not e.draft]
    s = compute_streaks(days, today, config.streak_rule, config.challenge_days)
    if as_json:
        from .report import streak_json

        click.echo(json.dumps({**streak_json(s), "today": today.isoformat()}))
    else:
        from .report import print_streaks

        print_streaks(s, today)
    sys.exit(1 if errors_in(problems) else 0)


@cli.command()
@click.option("--fresh", is_flag=True, help="Ignore cached outputs: run every snippet now.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option("--timeout", type=float, help="Seconds each snippet may run.")
@click.option("-j", "--jobs", type=int, help="Snippets run at once (default: one per core).")
@click.option("--today", callback=_date, metavar="YYYY-MM-DD", help="Pretend today is this date.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def check(ctx: click.Context, fresh: bool, junit: Path | None, as_json: bool, **options: Any) -> None:
    """Validate every entry and run every linked snippet; exit 1 on any failure (for CI)."""
    from .build import check_site
    from .errors import errors_in
    from .report import check_json, print_check_report, progress_display

    config = _config(ctx)
    with progress_display(enabled=not as_json) as progress:
        site = check_site(config, _build_options(fresh=fresh, **options), progress)
    problems = site.diagnostics
    failed_snippets = [r for r in site.snippets.values() if r.status != "ok"]
    if junit:
        from .snippets import write_junit

        write_junit(site.snippets, junit, [(d.path, d.format()) for d in errors_in(problems)])
    if as_json:
        click.echo(json.dumps(check_json(site)))
    else:
        print_check_report(site)
    sys.exit(1 if errors_in(problems) or failed_snippets else 0)


@cli.command(name="run")
@click.argument("snippet")
@click.option("--timeout", type=float, help="Seconds it may run.")
@click.pass_context
def run_command(ctx: click.Context, snippet: str, timeout: float | None) -> None:
    """Run one snippet now (ignoring the cache) and show its output and figures."""
    from .build import snippet_settings
    from .report import print_snippet_run
    from .snippets import available_snippets, run_snippets

    config = _config(ctx)
    name = snippet.removesuffix(".py").split("/")[-1]
    settings = snippet_settings(config, _build_options(timeout=timeout, fresh=True))
    if name not in available_snippets(settings.snippets_dir):
        _fail([f"{config.snippets_dir}/{name}.py: no such snippet"])
    result = run_snippets([name], settings)[name]
    print_snippet_run(result)
    sys.exit(0 if result.status == "ok" else 1)


@cli.command()
@click.argument("snippet")
@click.pass_context
def why(ctx: click.Context, snippet: str) -> None:
    """Say whether SNIPPET would rerun on the next build, and which input changed."""
    from .build import snippet_settings
    from .snippets import available_snippets, explain

    config = _config(ctx)
    name = snippet.removesuffix(".py").split("/")[-1]
    settings = snippet_settings(config, _build_options())
    if name not in available_snippets(settings.snippets_dir):
        _fail([f"{config.snippets_dir}/{name}.py: no such snippet"])
    explanation = explain(name, settings)
    click.echo(explanation.format() if hasattr(explanation, "format") else str(explanation))


def main() -> None:
    cli(prog_name="logbuild")


if __name__ == "__main__":
    main()
