"""COMMANDS (an edge): the library side of each CLI command that is more than one call — where the
log is, the build that returns early when nothing changed, check's run and verdict, `why`,
`clean`, publish's closing line — so that cli.py only wires options to these."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .builds import BuildOptions, BuildReport
from .config import CONFIG_FILE, SiteConfig, find_log_root
from .errors import Diagnostic, errors_in
from .incremental import freshness


class CommandError(Exception):
    """A command cannot start: the message says why and what to do."""


def log_root(given: Path | None, here: Path) -> Path:
    """The folder of the log a command works on: the nearest one at or above `given` (-C) or `here`
    holding logbuild.toml or a pyproject.toml with [tool.logbuild]. Never a folder made up."""
    start = given if given is not None else here
    if not start.is_dir():
        raise CommandError(f"{start}: no such folder")
    root = find_log_root(start)
    if root is None:
        raise CommandError(f"{start.resolve()}: not inside a log (no {CONFIG_FILE}, nor a pyproject.toml with "
                           "[tool.logbuild], here or in any folder above); start one with 'logbuild init DIR', "
                           "or pass -C with the log's folder")
    return root


def empty_log_note(config: SiteConfig, entries: int, diagnostics: Iterable[Diagnostic]) -> str | None:
    """What to say when a log has nothing to build yet (a build of it is not an error). Entries
    that failed to load have their own errors; drafts are not published without --drafts."""
    if entries or errors_in(diagnostics):
        return None
    folder = config.path("entries_dir")
    where = config.entries_dir.rstrip("/") + "/"
    if not folder.is_dir():
        return f"The log has no entries: there is no {where} folder yet. Start one with 'logbuild new'."
    from .entries import scan_entry_files

    if scan_entry_files(config.root, folder)[0]:  # files there, none published: drafts
        return f"The log has no published entries: those in {where} are drafts (--drafts includes them)."
    return f"The log has no entries yet: {where} holds no dated .md file. Start one with 'logbuild new'."


def build_notes(config: SiteConfig, options: BuildOptions, report: BuildReport) -> list[str]:
    """What a finished build says besides its diagnostics: an empty log, a base_url that is a path."""
    from .config import relative_base_url_note
    from .errors import fails
    from .incremental import with_base_url

    if fails(report.diagnostics, options.strict):
        return []
    notes = [empty_log_note(config, report.entries, report.diagnostics),
             relative_base_url_note(with_base_url(config, options))]
    return [n for n in notes if n]


def build_log(config: SiteConfig, options: BuildOptions, show_progress: bool) -> BuildReport:
    """Build the site, returning the last report at once when no input changed (before the
    rendering stack is even imported: `logbuild build` on an unchanged log stays instant)."""
    fresh = freshness(config, options)
    if fresh.report is not None:
        return fresh.report
    from .build import build_site
    from .report import progress_display

    with progress_display(enabled=show_progress) as progress:
        return build_site(config, options, progress, fresh)


def streaks_of_log(config: SiteConfig, today: dt.date | None) -> tuple[Any, dt.date, list[Diagnostic]]:
    """The streaks of the published entries as of `today` (None: the learner's today), the day
    used, and the problems met reading the entries."""
    from .entries import EntryRules, load_entries
    from .incremental import resolve_today
    from .streaks import compute_streaks

    day = resolve_today(config, today)
    entries, problems = load_entries(config.root, config.path("entries_dir"),
                                     EntryRules(config.day_ends_at, timezone=config.timezone))
    days = [e.date for e in entries if not e.draft]
    return compute_streaks(days, day, config.streak_rule, config.challenge_days), day, problems


@dataclass(frozen=True)
class CheckRun:
    site: Any  # build.LoadedSite
    passed: bool


def check_log(config: SiteConfig, options: BuildOptions, show_progress: bool, junit: Path | None) -> CheckRun:
    """Validate every entry and link, run the linked snippets (this shard's, with --shard), write
    the JUnit report when asked; the verdict is `build.check_passed`."""
    from .build import check_failures, check_passed, check_site
    from .report import progress_display

    with progress_display(enabled=show_progress) as progress:
        site = check_site(config, options, progress)
    if junit:
        from .snippets import write_junit

        write_junit(site.snippets, junit, [(d.path, d.format()) for d in check_failures(site)])
    return CheckRun(site, check_passed(site))


def snippet_name(config: SiteConfig, given: str) -> str:
    """NAME from `NAME`, `NAME.py`, `NAME.ipynb` or `snippets/NAME.py`; CommandError when there is no such snippet."""
    from .snippets import available_snippets

    name = given.removesuffix(".py").removesuffix(".ipynb").split("/")[-1]
    if name not in available_snippets(config.path("snippets_dir")):
        raise CommandError(f"{config.snippets_dir}/{name}.py: no such snippet")
    return name


def why_snippet(config: SiteConfig, given: str) -> str:
    """Whether the next build runs the snippet and why: first whether any entry or page links it."""
    from .entries import EntryRules, load_entries
    from .linked import snippet_settings
    from .snippets import available_snippets, explain
    from .undated import load_undated_pages

    name = snippet_name(config, given)
    entries, _ = load_entries(config.root, config.path("entries_dir"),
                              EntryRules(config.day_ends_at, timezone=config.timezone))
    known = frozenset(available_snippets(config.path("snippets_dir")))
    pages, _ = load_undated_pages(config.root, config.path("pages_dir"), known)
    linking = [(e.path, e.draft) for e in entries if any(r.name == name for r in e.snippets)]
    linking += [(p.path, p.draft) for p in pages if any(r.name == name for r in p.snippets)]
    if not linking:
        return (f"{name}: not linked from any entry or page, so no build runs it "
                f"(link it with a ```{{snippet}} {name}``` block; 'logbuild run {name}' runs it now)")
    if all(draft for _, draft in linking):
        return f"{name}: linked only from drafts ({', '.join(str(path) for path, _ in linking)}), so only 'build --drafts' runs it"
    explanation = explain(name, snippet_settings(config, BuildOptions()))
    return str(explanation.format())


def clean_log(config: SiteConfig, snippet_cache: bool) -> list[Path]:
    """Remove the site and what builds keep in the cache folder; the snippet outputs too when
    `snippet_cache` (they cost a run of every snippet to remake). Returns what was removed.

    Only a site logbuild built is removed, and never a folder holding the log's own files."""
    from .output import Trees, UnsafeOutput, known_trees

    out, cache = config.path("output_dir").resolve(), config.path("cache_dir").resolve()
    for folder, setting in ((out, "output_dir"), (cache, "cache_dir")):
        if _holds_log_files(config, folder):
            raise CommandError(f"{config.source or CONFIG_FILE}: {setting} '{getattr(config, setting)}' holds the "
                               "log's own files; nothing was removed")
    try:
        known_trees(out, Trees(), trusted=False)
    except UnsafeOutput as exc:
        raise CommandError(f"{exc}; nothing was removed") from None
    removed = [out] if out.exists() else []
    if cache.is_dir():
        removed += [p for p in sorted(cache.iterdir()) if snippet_cache or p.name != "snippets"]
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if snippet_cache and cache.is_dir() and not any(cache.iterdir()):
        cache.rmdir()
    return removed


def _holds_log_files(config: SiteConfig, folder: Path) -> bool:
    own = [config.path(n).resolve() for n in ("entries_dir", "pages_dir", "snippets_dir", "templates_dir", "static_dir")]
    return folder == config.root or folder in config.root.parents or any(
        p == folder or folder in p.parents for p in own)


def publish_outcome(report: Any, options: Any, config: Any) -> str:
    """The closing line of `publish`: what happened to the branch (a refusal names the log)."""
    from .publish import log_name

    where = f"{options.remote}/{options.branch}"
    if report.outcome == "refused":
        return f"{log_name(config)}: not published to {where}"
    if report.outcome == "up-to-date":
        return f"{where} already holds this site ({report.commit[:10]}); nothing to push"
    if report.outcome == "would-push":
        base = f"on top of {report.commit[:10]}" if report.commit else "as its first commit"
        return f"would push {report.files} files to {where} {base} (tree {report.tree[:10]})"
    return f"pushed {report.files} files to {where} ({report.commit[:10]})"
