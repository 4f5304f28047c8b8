"""BUILD: the one place that knows the order of the stages.

config -> (unchanged? stop) -> read entries -> parse + render bodies (both cores) -> run snippets
-> streaks -> plan pages -> render changed pages (both cores) -> write (swap, or in place).
Everything is read and checked before anything is written; an error leaves the site untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .config import SiteConfig
from .entries import EntryRules, collect_entries, entry_cache_key, parse_entry, scan_entry_files
from .errors import BROKEN_LINK, Diagnostic, errors_in, fails
from .incremental import (
    Freshness,
    config_digest,
    freshness,
    output_dir,
    output_id,
    resolve_today,
    streaks_json,
    with_base_url,
    write_record,
)
from .model import BuildOptions, BuildReport, Entry, Page, RenderedBody, SnippetCounts, SnippetResult, Streaks
from .output import OutputFile, UnsafeOutput, check_output_folder, discard, stage_site, swap_in, update_site
from .state import BuildState, load_state, save_state
from .streaks import compute_streaks, declared_mismatch
from .workers import Workers

__all__ = ["BuildOptions", "build_site", "check_site", "load_site", "resolve_today"]

Progress = Callable[[Any], None]
IN_PLACE_LIMIT = 0.2  # above this share of changed files, a staging swap beats in-place writes


def build_site(config: SiteConfig, options: BuildOptions | None = None,
               progress: Progress | None = None, fresh: Freshness | None = None) -> BuildReport:
    """Build the site; the report's diagnostics say what went wrong (never raises for bad input).

    `fresh` is what `incremental.freshness` said, when the caller already asked."""
    started = time.perf_counter()
    options = options or BuildOptions()
    fresh = fresh or freshness(config, options)
    if fresh.report is not None:
        return fresh.report
    config = with_base_url(config, options)
    today = resolve_today(config, options.today)
    out = output_dir(config, options)
    cache_dir = config.path("cache_dir")
    fingerprint = fresh.fingerprint
    state = load_state(cache_dir, out)
    from .templates import Theme

    theme = Theme(config.path("templates_dir"), config.root, cache_dir / "jinja")
    with Workers(options.jobs or os.cpu_count() or 1, theme=theme) as workers:
        site = load_site(config, options, today, state, progress, workers)
        rendered = render_site(config, site, state, out, theme, workers)
        written, problem = _write(out, rendered, state, cache_dir,
                                  lambda: fails(site.diagnostics + rendered.problems, options.strict))
    diagnostics = site.diagnostics + rendered.problems + ([problem] if problem else [])
    failed = fails(diagnostics, options.strict)
    report = BuildReport(
        pages=rendered.page_count, pages_written=written, entries=len(site.entries),
        seconds=time.perf_counter() - started, streaks=site.streaks,
        snippets=_counts(site.snippets.values()), snippet_results=tuple(site.snippets.values()),
        diagnostics=tuple(diagnostics), output_dir=str(out),
    )
    # a cached-only build (serve) may lack snippet outputs: never call it up to date
    clean = not failed and options.run_snippets and all(r.status == "ok" for r in site.snippets.values())
    _save_quietly(cache_dir, state, out)
    write_record(cache_dir, out, {
        "fingerprint": fingerprint if clean else "", "out_id": output_id(out),
        "summary": {"pages": report.pages, "entries": report.entries, "snippets": len(site.snippets),
                    "streaks": streaks_json(site.streaks)},
    })
    return report


def _write(out: Path, rendered: RenderedSite, state: BuildState, cache_dir: Path,
           failed: Callable[[], bool]) -> tuple[int, Diagnostic | None]:
    """Put the site in place unless `failed()` once every page is rendered; (files written, problem).

    Many changes: pages are staged beside the output while the workers still render, and the
    staging folder is swapped in (or thrown away). A few changes to a site we wrote: render them
    all first, then replace just those files in place."""
    ours = state.out_path == str(out) and output_id(out) is not None
    previous = state.files if ours else {}
    try:
        check_output_folder(out, ours=ours)
        if ours and previous and rendered.to_render <= IN_PLACE_LIMIT * rendered.page_count:
            files = list(rendered.files)
            if failed():
                return 0, None
            write_record(cache_dir, out, {"dirty": True})  # if we die half-way, the next build starts cold
            result = update_site(out, files, previous)
        else:
            staging, result = stage_site(out, rendered.files, previous)
            if failed():
                discard(staging)
                return 0, None
            swap_in(staging, out)
    except (UnsafeOutput, OSError) as exc:
        return 0, Diagnostic(str(out), None, f"cannot write the site: {exc}")
    state.pages, state.files = rendered.page_keys, result.digests
    state.out_path = str(out)
    return result.written, None


@dataclass(frozen=True)
class LoadedSite:
    entries: list[Entry]  # published (drafts only with --drafts), ascending
    bodies: dict[str, RenderedBody]  # slug -> body
    snippets: dict[str, SnippetResult]
    streaks: Streaks
    today: dt.date
    diagnostics: list[Diagnostic]


def load_site(config: SiteConfig, options: BuildOptions, today: dt.date, state: BuildState,
              progress: Progress | None = None, workers: Workers | None = None) -> LoadedSite:
    """Every read-side stage: entries, bodies, snippet outputs, streaks, with all their diagnostics."""
    known = snippet_names(config)
    rules = EntryRules(config.day_ends_at, frozenset(known), config.timezone,
                       _rel(config, "entries_dir"), _rel(config, "static_dir"))
    entries, diagnostics = load_and_render(config, rules, state, workers or Workers(1))
    published = [e for e in entries if options.drafts or not e.draft]
    bodies = {e.slug: state.bodies[_body_key(e)] for e in published}
    names = list(dict.fromkeys(r.name for e in published for r in e.snippets if r.name in known))
    snippets = run_linked_snippets(config, options, names, progress)
    diagnostics += snippet_diagnostics(config, snippets.values())
    diagnostics += link_diagnostics(config, published, bodies)
    streaks = compute_streaks([e.date for e in published], today, config.streak_rule, config.challenge_days)
    diagnostics += date_warnings(published, today, config)
    return LoadedSite(published, bodies, snippets, streaks, today, diagnostics)


def load_and_render(config: SiteConfig, rules: EntryRules, state: BuildState, workers: Workers
                    ) -> tuple[list[Entry], list[Diagnostic]]:
    """Parse every entry and render its body, reusing both for files whose bytes did not change.

    A file whose (inode, mtime, size) is as the last build saw it is not even read."""
    from . import markdown

    markdown.highlights_known = state.highlights  # before the workers fork: they inherit it
    keys: list[str] = []
    todo: list[tuple[str, bytes, EntryRules]] = []
    stat_keys: dict[str, str] = {}
    scanned = scan_entry_files(config.root, config.path("entries_dir"))
    for rel, full, st in scanned:
        key = state.stat_keys.get(rel, "") if state.stats.get(rel) == st else ""
        if not (key.endswith(f"\0{rules!r}") and key in state.entries):
            data = Path(full).read_bytes()  # stat taken before the read: an edit meanwhile shows next time
            key = entry_cache_key(rel, data, rules)
            if key not in state.entries:
                todo.append((rel, data, rules))
        keys.append(key)
        stat_keys[rel] = key
    todo += _missing_bodies(state, keys, rules, {rel: full for rel, full, _ in scanned})
    for (path, data, _), (parsed, body, highlights) in zip(todo, workers.map(parse_and_render, todo)):
        state.entries[entry_cache_key(path, data, rules)] = parsed
        state.highlights.update(highlights)
        if body is not None and parsed[0] is not None:
            state.bodies[_body_key(parsed[0])] = body
    state.stats, state.stat_keys = {rel: st for rel, _, st in scanned}, stat_keys
    _forget_unused(state.entries, set(keys))
    entries, diagnostics = collect_entries(state.entries[k] for k in keys)
    _forget_unused(state.bodies, {_body_key(e) for e in entries})
    return entries, diagnostics


def _missing_bodies(state: BuildState, keys: list[str], rules: EntryRules, paths: dict[str, str]
                    ) -> list[tuple[str, bytes, EntryRules]]:
    """Entries parsed before whose rendered body is gone (e.g. after a renderer upgrade)."""
    out = []
    for key in keys:
        entry = state.entries.get(key, (None,))[0]
        if entry is not None and _body_key(entry) not in state.bodies:
            out.append((entry.path, Path(paths[entry.path]).read_bytes(), rules))
    return out


def parse_and_render(job: tuple[str, bytes, EntryRules]) -> tuple[tuple[Entry | None, list[Diagnostic]],
                                                                   RenderedBody | None, dict[str, Any]]:
    """Worker task: one entry file -> its parse, its rendered body and the code blocks it highlighted."""
    from . import markdown

    markdown.highlights_made = {}
    path, data, rules = job
    entry, problems = parse_entry(path, data, rules)
    body = markdown.render_body(entry.body, rules.links_for(entry)) if entry is not None else None
    return (entry, problems), body, markdown.highlights_made


def _body_key(entry: Entry) -> str:
    """Links are rewritten for the page's place, so where the file is belongs in the key too."""
    from .markdown import RENDERER_VERSION

    return f"{RENDERER_VERSION}\0{entry.digest}\0{entry.path}\0{entry.slug}"


def _rel(config: SiteConfig, name: str) -> str:
    """A *_dir setting as a POSIX path relative to the root (as written when outside it)."""
    path = config.path(name).resolve()
    try:
        return path.relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _forget_unused(cache: dict[str, Any], used: set[str]) -> None:
    for key in [k for k in cache if k not in used]:
        del cache[key]


def snippet_names(config: SiteConfig) -> set[str]:
    from .snippets.runner import available_snippets

    return available_snippets(config.path("snippets_dir"))


def snippet_settings(config: SiteConfig, options: BuildOptions) -> Any:
    from .snippets import SnippetSettings

    return SnippetSettings(
        root=config.root, snippets_dir=config.path("snippets_dir"), cache_dir=config.path("cache_dir"),
        timeout=options.timeout or config.snippet_timeout, timeout_forced=options.timeout is not None,
        jobs=options.jobs or config.jobs, env=dict(config.snippet_env), fresh=options.fresh,
    )


def run_linked_snippets(config: SiteConfig, options: BuildOptions, names: list[str],
                        progress: Progress | None = None) -> dict[str, SnippetResult]:
    if not names:
        return {}
    settings = snippet_settings(config, options)
    if not options.run_snippets:
        from .snippets.runner import cached_results

        return dict(cached_results(names, settings))
    from .snippets import run_snippets

    return dict(run_snippets(names, settings, progress))


def snippet_diagnostics(config: SiteConfig, results: Iterable[SnippetResult]) -> list[Diagnostic]:
    """A failed snippet is a warning (an error with --strict): the page shows its traceback."""
    out = []
    for r in results:
        if r.status == "ok":
            continue
        what = {"failed": "failed", "timeout": "timed out", "error": "could not run"}[r.status]
        last = (r.traceback or r.stderr or "").strip().splitlines()[-1:] or [""]
        out.append(Diagnostic(f"{config.snippets_dir}/{r.name}.py", r.error_line,
                              f"snippet {what}: {last[0]}".rstrip(": "), "warning",
                              hint=f"run 'logbuild run {r.name}' to see it all"))
    return out


def link_diagnostics(config: SiteConfig, entries: list[Entry], bodies: dict[str, RenderedBody]
                     ) -> list[Diagnostic]:
    """Relative links to an entry that is not there, or to a file the site will not have."""
    pages = {e.path for e in entries}
    where = EntryRules(entries_dir=_rel(config, "entries_dir"), static_dir=_rel(config, "static_dir"))
    out = []
    for entry in entries:
        for target, line in bodies[entry.slug].links:
            at = entry.body_first_line + line
            if target.endswith(".md"):
                if target not in pages:
                    out.append(Diagnostic(entry.path, at, f"link to {target}, which is not a published entry",
                                          "warning", hint="fix the file name, or link the page's URL",
                                          code=BROKEN_LINK))
            elif not (config.root / target).exists():
                out.append(Diagnostic(entry.path, at, f"link to {target}, which does not exist", "warning",
                                      code=BROKEN_LINK))
            elif where.links_for(entry).site_path(target) is None:
                out.append(Diagnostic(entry.path, at, f"link to {target}, outside {where.entries_dir}/ and "
                                      f"{where.static_dir}/, so the site will not have it", "warning",
                                      hint=f"move it into {where.static_dir}/", code=BROKEN_LINK))
    return out


def date_warnings(entries: list[Entry], today: dt.date, config: SiteConfig) -> list[Diagnostic]:
    out = []
    days = sorted(e.date for e in entries)
    for e in entries:
        if e.date > today:
            out.append(Diagnostic(e.path, None, f"dated {e.date}, after today ({today}); it is shown anyway",
                                  "warning", hint="fix the date, or pass --today"))
        if e.declared_streak is not None:
            upto = compute_streaks([d for d in days if d <= e.date], e.date, config.streak_rule)
            mismatch = declared_mismatch(e.declared_streak, upto)
            if mismatch:
                out.append(Diagnostic(e.path, None, mismatch, "warning",
                                      hint="remove 'streak:', logbuild computes it"))
    return out


@dataclass(frozen=True)
class RenderedSite:
    page_count: int
    page_keys: dict[str, str]  # output path -> key
    to_render: int  # pages whose key changed
    files: Iterable[OutputFile]  # lazy: pages arrive as the renderers finish them
    problems: list[Diagnostic]  # complete once `files` has been consumed


def render_site(config: SiteConfig, site: LoadedSite, state: BuildState, out: Path, theme: Any,
                workers: Workers) -> RenderedSite:
    """Plan every page; render only those whose key changed (entry pages on both cores)."""
    from .markdown import RENDERER_VERSION
    from .pages import SiteInputs, digest, plan_pages

    site_digest = digest(__version__, RENDERER_VERSION, config_digest(config))
    pages = plan_pages(SiteInputs(config, site.entries, site.bodies, site.snippets, site.streaks,
                                  site.today, site_digest))
    template_digests: dict[str, str] = {}
    reuse = state.out_path == str(out) and output_id(out) is not None
    keys: dict[str, str] = {}
    reused: list[OutputFile] = []
    todo: list[Page] = []
    for page in pages:
        if page.template not in template_digests:
            template_digests[page.template] = theme.digest(page.template) if page.template[0] != "@" else ""
        key = digest(page.key, template_digests[page.template])
        path = page.output_path
        keys[path] = key
        if reuse and state.pages.get(path) == key and path in state.files and (out / path).is_file():
            reused.append(OutputFile(path, digest=state.files[path]))
        else:
            todo.append(page)
    problems: list[Diagnostic] = []

    def files() -> Iterator[OutputFile]:
        yield from reused
        for path, data, problem in workers.render_pages(todo, {"site": config, "version": __version__}):
            if problem is None:
                yield OutputFile.of_bytes(path, data)
            elif problem not in problems:
                problems.append(problem)
        yield from static_files(config, theme, site.snippets.values())

    return RenderedSite(len(pages), keys, len(todo), files(), problems)


def static_files(config: SiteConfig, theme: Any, results: Iterable[SnippetResult]) -> list[OutputFile]:
    """Theme assets, Pygments styles, snippet figures, the log's own static/ folder, .nojekyll."""
    from .markdown import pygments_css
    from .snippet_view import figure_url

    files = [OutputFile.of_bytes("static/pygments.css", pygments_css().encode()),
             OutputFile.of_bytes(".nojekyll", b"")]
    if config.cname:
        files.append(OutputFile.of_bytes("CNAME", config.cname.encode() + b"\n"))
    for folder in theme.static_dirs:
        files += _folder_files(folder, "static/")
    user_static = config.path("static_dir")
    if user_static.is_dir():
        files += _folder_files(user_static, "")
    entries_dir = config.path("entries_dir")
    if entries_dir.is_dir():  # images and files that entries link to, kept in place under entries/
        files += _folder_files(entries_dir, "entries/", skip_suffix=".md")
    for r in results:
        if r.output_dir:
            for f in r.figures:
                for rel in filter(None, (f.path, f.svg_path)):
                    files.append(OutputFile(figure_url(r, rel), source=Path(r.output_dir) / rel,
                                            digest=f"{r.key}:{rel}"))
    by_path = {f.path: f for f in files}  # a log's own file wins over the theme's
    return list(by_path.values())


def _folder_files(folder: Path, prefix: str, skip_suffix: str = "\0") -> list[OutputFile]:
    """Every non-hidden file below `folder` (os.walk: this runs on every build, over 1,000 entries)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, folder).replace(os.sep, "/")
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith(skip_suffix):
                continue
            path = os.path.join(dirpath, name)
            st = os.stat(path)
            rel = prefix + (name if rel_dir == "." else f"{rel_dir}/{name}")
            out.append(OutputFile(rel, source=Path(path), digest=f"{st.st_size}:{st.st_mtime_ns}"))
    return out


def _counts(results: Iterable[SnippetResult]) -> SnippetCounts:
    results = list(results)
    return SnippetCounts(
        ran=sum(1 for r in results if not r.from_cache),
        cached=sum(1 for r in results if r.from_cache),
        failed=sum(1 for r in results if r.status != "ok"),
    )


def _save_quietly(cache_dir: Path, state: BuildState, out: Path) -> None:
    try:
        save_state(cache_dir, state, out)
    except OSError:  # a read-only cache folder costs speed next time, nothing else
        pass


def check_failures(site: LoadedSite) -> list[Diagnostic]:
    """What makes `check` fail besides a failed snippet: errors, and broken links."""
    return errors_in(site.diagnostics) + [d for d in site.diagnostics if d.code == BROKEN_LINK]


def check_site(config: SiteConfig, options: BuildOptions | None = None,
               progress: Progress | None = None) -> LoadedSite:
    """What CI runs: load and validate every entry and run every linked snippet. Writes no site."""
    options = options or BuildOptions()
    return load_site(config, options, resolve_today(config, options.today), BuildState(), progress)
