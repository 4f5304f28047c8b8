"""CLI: thin click commands. Each parses options, loads the configuration, calls one library
function, prints the report and picks the exit code. Heavy imports happen inside the commands."""

from __future__ import annotations

import datetime as dt
import gc
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; write YYYY-MM-DD") from None


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    from .shards import parse_shard

    try:
        return parse_shard(value) if value is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# Options several commands share, declared once (as MkDocs' __main__.py does).
today_option = click.option("--today", callback=_date, metavar="YYYY-MM-DD", help="Pretend today is this date.")
timeout_option = click.option("--timeout", type=float, help="Seconds each snippet may run (beats the snippets' own).")
jobs_option = click.option("-j", "--jobs", type=int, help="Snippets run at once (default: one per core).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary.")
drafts_option = click.option("--drafts", is_flag=True, help="Include entries marked draft: true.")


def _root(ctx: click.Context) -> Path:
    """The log's folder, found once per command by walking up (commands.log_root)."""
    from .commands import CommandError, log_root

    if "log_root" not in ctx.obj:
        try:
            ctx.obj["log_root"] = log_root(ctx.obj.get("root"), Path.cwd())
        except CommandError as exc:
            _fail([str(exc)])
    return Path(ctx.obj["log_root"])


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


def _library(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a commands.* function; its CommandError stops the command with its message."""
    from .commands import CommandError

    try:
        return call(*args, **kwargs)
    except CommandError as exc:
        _fail([str(exc)])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logbuild")
@click.option("-C", "--root", type=click.Path(file_okay=False, path_type=Path),
              help="The log's folder, or a folder inside it (default: here).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """logbuild turns a folder of dated Markdown entries into a static site, running linked
    Python snippets during the build and computing your streaks from the dates.

    Commands work on the log around the current folder (or -C): the nearest folder at or above
    it with logbuild.toml, or a pyproject.toml with a [tool.logbuild] table."""
    ctx.obj = {"root": root}


def _build_options(**kw: Any) -> Any:
    from .builds import BuildOptions

    return BuildOptions(**kw)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: site/).")
@click.option("--base-url", help="Where the site will live, e.g. https://you.github.io/log/.")
@drafts_option
@click.option("--strict", is_flag=True, help="Treat warnings (and failed snippets) as errors.")
@today_option
@timeout_option
@jobs_option
@json_option
@click.pass_context
def build(ctx: click.Context, /, as_json: bool, **options: Any) -> None:
    """Build the site into site/ (or --out)."""
    from .commands import build_log, build_notes
    from .errors import fails
    from .report import build_json, print_build_report

    config = _config(ctx)
    build_options = _build_options(**options)
    report = build_log(config, build_options, show_progress=not as_json)
    if as_json:
        click.echo(json.dumps(build_json(report)))
    else:
        print_build_report(report, options["strict"])
        for note in build_notes(config, build_options, report):
            click.echo(note)
    sys.exit(1 if fails(report.diagnostics, options["strict"]) else 0)


@cli.command()
@today_option
@json_option
@click.pass_context
def streak(ctx: click.Context, today: dt.date | None, as_json: bool) -> None:
    """Your current and best streak, computed from the entry dates."""
    from .commands import streaks_of_log
    from .errors import errors_in
    from .report import print_streaks, streak_json

    config = _config(ctx)
    s, today, problems = streaks_of_log(config, today)
    for p in problems:
        click.echo(p.format(), err=True)
    if as_json:
        click.echo(json.dumps({**streak_json(s), "today": today.isoformat()}))
    else:
        print_streaks(s, today)
    sys.exit(1 if errors_in(problems) else 0)


@cli.command()
@click.option("--fresh", is_flag=True, help="Ignore cached outputs: run every snippet now.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option("--shard", callback=_shard, metavar="K/N",
              help="Run only the K-th of N shares of the snippets (stable by name, balanced by their last run "
                   "times), for a CI matrix; entries and links are checked in full.")
@timeout_option
@jobs_option
@today_option
@json_option
@click.pass_context
def check(ctx: click.Context, /, junit: Path | None, as_json: bool, **options: Any) -> None:
    """Validate every entry and link and run every linked snippet; exit 1 on any failure (for CI):
    an error, a failed snippet or a broken link."""
    from .commands import check_log, empty_log_note
    from .report import check_json, print_check_report

    config = _config(ctx)
    run = check_log(config, _build_options(**options), not as_json, junit)
    if as_json:
        click.echo(json.dumps(check_json(run.site, run.passed)))
    else:
        print_check_report(run.site, run.passed)
        note = empty_log_note(config, len(run.site.entries), run.site.diagnostics)
        if note:
            click.echo(note)
    sys.exit(0 if run.passed else 1)


@cli.command(name="run")
@click.argument("snippet")
@timeout_option
@click.pass_context
def run_command(ctx: click.Context, snippet: str, timeout: float | None) -> None:
    """Run one snippet now (ignoring the cache) and show its output and figures."""
    from .commands import snippet_name
    from .linked import snippet_settings
    from .report import print_snippet_run
    from .snippets import run_snippets

    config = _config(ctx)
    name = _library(snippet_name, config, snippet)
    result = run_snippets([name], snippet_settings(config, _build_options(timeout=timeout, fresh=True)))[name]
    print_snippet_run(result)
    sys.exit(0 if result.status == "ok" else 1)


@cli.command()
@click.argument("snippet")
@click.pass_context
def why(ctx: click.Context, snippet: str) -> None:
    """Say whether SNIPPET would rerun on the next build, and which input changed (or that no
    entry links it, so no build runs it)."""
    from .commands import why_snippet

    click.echo(_library(why_snippet, _config(ctx), snippet))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="The site's title (default: 'Learning log').")
@click.option("--copy-templates", is_flag=True, help="Copy the default theme into DIRECTORY/templates to edit it.")
@click.option("--force", is_flag=True, help="Add the missing files to a non-empty folder (never overwrites).")
def init(directory: Path, title: str | None, copy_templates: bool, force: bool) -> None:
    """Start a new log in DIRECTORY: a first entry, a snippet, an About page, logbuild.toml,
    requirements.txt, a Pages workflow and a Dependabot configuration."""
    from .scaffold import init_log

    report = init_log(directory, title=title, copy_templates=copy_templates, force=force)
    if report.refused:
        _fail([report.refused])
    for path in report.created:
        click.echo(f"created {path}")
    for path in report.skipped:
        click.echo(f"exists, skipped {path}")
    for note in report.notes:
        click.echo(f"Before your first push, {note}.")
    click.echo(f"Next: cd {directory} && logbuild build (or logbuild serve)")


@cli.command(name="import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--into", type=click.Path(file_okay=False, path_type=Path),
              help="Where entry files go (default: the log's entries folder).")
@click.option("--dry-run", is_flag=True, help="Say what would be written; write nothing.")
@click.option("--start", callback=_date, metavar="YYYY-MM-DD", help="The date of 'Day 1', for logs that count days.")
@click.option("--strict", is_flag=True, help="Refuse a log with a guessed or unreadable date, two sections for a day or a range; write nothing.")
@click.pass_context
def import_command(ctx: click.Context, source: Path, into: Path | None, dry_run: bool,
                   start: dt.date | None, strict: bool) -> None:
    """Split a one-file learning log (a README with a section or a list item per day), or a folder
    of day files, into entry files and an About page. Unsure dates are guessed, listed with their lines and
    written to IMPORT-REVIEW.md; every line of the log is checked to be in a file written.
    Existing files are never overwritten."""
    from .errors import errors_in
    from .importer import import_log, review_line
    from .incremental import resolve_today

    config = _config(ctx)
    report = import_log(source, into or config.path("entries_dir"), dry_run=dry_run, start=start, strict=strict,
                        today=resolve_today(config), pages=config.path("pages_dir"), root=config.root,
                        streak_rule=config.streak_rule)
    for d in report.diagnostics:
        click.echo(review_line(d), err=True)
    verbs = {"write": "would write" if dry_run else "write", "exists-skip": "exists, skipped"}
    for path, action in report.actions:
        click.echo(f"{verbs[action]} {_shown(path, config.root)}")
    if report.written and report.review_path is not None:
        click.echo(f"review {_shown(report.review_path, config.root)}")
    click.echo(f"kept {report.kept} of {report.total} lines")
    sys.exit(1 if errors_in(report.diagnostics) or report.missing else 0)


def _shown(path: Path, root: Path) -> str:
    """A path relative to the log's folder when it is inside it."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


@cli.command(name="new")
@click.argument("date", required=False, metavar="[YYYY-MM-DD]")
@click.option("--title", help="The entry's title (default: the date, written out).")
@click.option("--tags", help='Tags, space- or comma-separated: --tags "keras cnn".')
@click.option("--snippet", metavar="NAME", help="Also create snippets/NAME.py from a template and link it.")
@click.option("--edit", is_flag=True, help="Open the new entry in $VISUAL or $EDITOR.")
@click.pass_context
def new_command(ctx: click.Context, date: str | None, title: str | None, tags: str | None,
                snippet: str | None, edit: bool) -> None:
    """Start the entry for today (in your time zone) or DATE: entries/YYYY-MM-DD.md.

    The latest earlier entry's next steps (the bullet list under a '## Next steps' heading or a
    '**Next steps**' line) are carried into the new entry under '## Plan'. Never replaces a file:
    an existing entry or snippet stops the command with exit status 1.
    """
    import os

    from .build import resolve_today
    from .newentry import NewEntryError, create_entry

    config = _config(ctx)
    day = _date(ctx, click.Argument(["date"]), date) or resolve_today(config)
    try:
        made = create_entry(config, day, title, tags or "", snippet)
    except NewEntryError as exc:
        _fail([str(exc)])
    for p in made.problems:
        click.echo(p.format(), err=True)
    rel = os.path.relpath(made.entry_path)
    click.echo(f"Created {rel}")
    if made.snippet_path is not None:
        click.echo(f"Created {os.path.relpath(made.snippet_path)} (linked from the entry)")
    if made.carried:
        click.echo(f"Carried {len(made.carried)} next step(s) from {made.carried_from} under '## Plan'.")
    click.echo(made.streak_message)
    if edit:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            _fail([f"set $EDITOR (or $VISUAL) to open {rel}"])
        click.edit(filename=str(made.entry_path), editor=editor)


@cli.command()
@click.option("--cache", "snippet_cache", is_flag=True,
              help="Also drop the snippet cache (every snippet runs again on the next build).")
@click.pass_context
def clean(ctx: click.Context, snippet_cache: bool) -> None:
    """Remove the built site and what builds keep in .logbuild/; the snippet outputs stay unless
    --cache. Only a folder logbuild built is removed."""
    from .commands import clean_log

    config = _config(ctx)
    removed = _library(clean_log, config, snippet_cache)
    for path in removed:
        click.echo(f"removed {_shown(path, config.root)}")
    if not removed:
        click.echo("nothing to remove")
    elif not snippet_cache and (config.path("cache_dir") / "snippets").is_dir():
        click.echo(f"kept {config.cache_dir}/snippets (pass --cache to drop the snippet outputs too)")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; only this machine can connect unless you change it.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port; the next free one if taken.")
@click.option("--strict-port", is_flag=True, help="Fail instead of taking the next free port.")
@click.option("--no-open", is_flag=True, help="Do not open a browser tab.")
@drafts_option
@today_option
@click.option("--no-snippets", is_flag=True, help="Never run snippets; show cached outputs only.")
@click.option("--cold-snippets", is_flag=True,
              help="Start every snippet run in a fresh interpreter, as builds do (no warm workers).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, strict_port: bool, no_open: bool, drafts: bool,
          today: dt.date | None, no_snippets: bool, cold_snippets: bool) -> None:
    """Preview the log at http://127.0.0.1:8000/, rebuilding and reloading the tab on every save.

    Builds into .logbuild/serve-site (never into site/). Snippets without cached output run in the
    background and their pages update when they finish; build errors show over the last good page.
    """
    from .serve import PreviewOptions, ServeError, ServeOptions, serve_site

    _config(ctx)  # a broken configuration stops here with every problem listed
    preview = PreviewOptions(drafts, today, not no_snippets, not cold_snippets)
    options = ServeOptions(host, port, strict_port, not no_open, preview)
    try:
        serve_site(_root(ctx), options, click.echo)
    except ServeError as exc:
        _fail([str(exc)])
    except KeyboardInterrupt:
        click.echo("\nStopped.")


@cli.command()
@click.option("--remote", default="origin", show_default=True, help="The git remote to push to.")
@click.option("--branch", default="gh-pages", show_default=True, help="The branch GitHub Pages serves.")
@click.option("--message", "-m", help="Commit message (default: names the commit published from).")
@click.option("--dry-run", is_flag=True, help="Build and say what would be pushed; push nothing.")
@click.option("--allow-failures", is_flag=True, help="Publish even when snippets failed (their tracebacks show).")
@click.option("--base-url", help="Where the site lives (default: base_url from the configuration).")
@click.pass_context
def publish(ctx: click.Context, /, **options: Any) -> None:
    """Build the site with its production base_url and push it to the gh-pages branch.

    Builds in a temporary folder and never touches your working tree, index or current
    branch. Refuses when the build has errors or a snippet failed; pushes nothing when the
    branch already holds this very site."""
    from .commands import publish_outcome
    from .publish import PublishOptions, publish_site
    from .report import print_diagnostics, progress_display

    config = _config(ctx)
    opts = PublishOptions(**options)
    with progress_display(enabled=True) as progress:
        report = publish_site(config, opts, progress)
    print_diagnostics(report.diagnostics)
    line = publish_outcome(report, opts, config)
    if report.outcome == "refused":
        _fail([line])
    click.echo(line)


def main() -> None:
    try:
        cli(prog_name="logbuild")
    finally:
        # The process ends here: without this, the cyclic collector walks every object the command
        # made once more on the way out (a tenth of a second after a build). Nothing is skipped:
        # atexit handlers run and files are closed as before.
        gc.freeze()


if __name__ == "__main__":
    main()
