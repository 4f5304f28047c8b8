"""BUILD: the one place that knows the order of the stages.

config -> (unchanged? stop) -> read entries -> parse + render bodies (both cores) -> run snippets
-> streaks -> plan pages -> render changed pages (both cores) -> write (swap, or in place).
Everything is read and checked before anything is written; an error leaves the site untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__
from .assets import static_files
from .builds import BuildOptions, BuildReport, SnippetCounts
from .checks import date_warnings, link_diagnostics
from .config import SiteConfig
from .confine import Walked
from .entries import EntryRules, collect_entries, entry_cache_key, entry_key, parse_entry, scan_entry_files
from .errors import BROKEN_LINK, Diagnostic, errors_in, fails
from .incremental import (
    Freshness,
    config_digest,
    freshness,
    lock_path,
    output_dir,
    output_id,
    read_record,
    resolve_today,
    spare_path,
    streaks_json,
    warnings_json,
    with_base_url,
    write_record,
)
from .linked import (
    Progress,
    cell_programs,
    entry_docs,
    run_linked_snippets,
    snippet_data,
    snippet_diagnostics,
    snippet_names,
    unlinked_snippet_warnings,
)
from .lock import build_lock
from .model import Entry, Page, PlanMemo, RenderedBody, SnippetResult
from .output import OutputFile, SiteWriter, Trees, UnsafeOutput, Vanished, inode, known_trees, spare_files
from .reuse import body_key, in_full, lazy_bodies, linking_in_full, made_from, search_json
from .state import BuildState, KeptState, StoredHighlights, load_state, made_with, save_state
from .statecodec import BadState, FileSeen, kept_as_state
from .streaks import Streaks, compute_streaks
from .undated import UndatedPage, load_undated_pages, render_undated
from .workers import Shared, Workers

__all__ = ["BuildOptions", "build_site", "check_site", "load_site", "resolve_today"]

log = logging.getLogger(__name__)
COLLECT_EVERY = 20_000  # new objects between two passes of the cyclic collector during a build


def build_site(config: SiteConfig, options: BuildOptions | None = None,
               progress: Progress | None = None, fresh: Freshness | None = None,
               kept: KeptState | None = None) -> BuildReport:
    """Build the site; the report's diagnostics say what went wrong (never raises for bad input).

    One build at a time per output folder (a second one waits for the first, then looks again
    whether anything is left to do). `fresh` is what `incremental.freshness` said, when the
    caller already asked; `kept`, the state a process that builds again and again holds
    between its builds (serve)."""
    started = time.perf_counter()
    options = options or BuildOptions()
    config = with_base_url(config, options)
    out = output_dir(config, options)
    cache_dir = config.path("cache_dir")
    with build_lock(lock_path(cache_dir, out), log.warning) as waited:
        fresh = freshness(config, options) if fresh is None or waited else fresh
        if fresh.report is not None:
            return fresh.report
        with _few_collections():
            return _build(config, options, out, fresh, started, progress, kept)


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """A build keeps most of what it makes (~10 objects per entry) and makes few cycles: the
    collector's default, a pass every 700 new objects over a growing heap, took a tenth of an
    edit's time at 5,000 entries. Fewer passes, and none over the state once it is loaded (it is
    frozen); both undone when the build ends, as `serve` runs many in one process."""
    before = gc.get_threshold()
    gc.set_threshold(COLLECT_EVERY, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _build(config: SiteConfig, options: BuildOptions, out: Path, fresh: Freshness, started: float,
           progress: Progress | None, kept: KeptState | None, cold: bool = False) -> BuildReport:
    today = resolve_today(config, options.today)
    cache_dir = config.path("cache_dir")
    state = BuildState() if cold else load_state(cache_dir, out, kept)  # frozen: no collection walks it again
    diagnostics: list[Diagnostic] = []
    try:
        record = read_record(cache_dir, out)  # none, or a dirty one: the last build did not finish
        trees = known_trees(out, state_trees(state), trusted=bool(record) and not record.get("dirty"))
    except UnsafeOutput as exc:
        trees, diagnostics = None, [Diagnostic(str(out), None, f"cannot write the site: {exc}")]
    if trees is None:  # nothing of the live site can be reused: a cold build
        state.pages, state.files = {}, {}
    from .templates import Theme

    theme = Theme(config.path("templates_dir"), config.root, cache_dir / "jinja")
    written = 0
    with Workers(options.jobs or os.cpu_count() or 1, Shared(theme, StoredHighlights(state))) as workers:
        try:
            site = load_site(config, options, today, state, progress, workers, fresh.entry_files)
            rendered = render_site(config, site, state, out, theme, workers, spare_path(cache_dir, out))
        except BadState:  # a body's HTML in the pack, read only now, is not what the state said
            if cold:
                raise
            return _build(config, options, out, fresh, started, progress, kept, cold=True)
        if not diagnostics:
            try:
                written, diagnostics = _write(out, rendered, state, trees, cache_dir, site.diagnostics, options.strict)
            except (Vanished, BadState):  # a page to reuse nobody has any more; a search item damaged
                if cold:
                    raise
                return _build(config, options, out, fresh, started, progress, kept, cold=True)
    diagnostics = list(dict.fromkeys(site.diagnostics + rendered.problems + diagnostics))  # a link seen twice
    failed = fails(diagnostics, options.strict)
    report = BuildReport(
        pages=rendered.page_count, pages_written=written,
        entries=len(site.entries), seconds=time.perf_counter() - started, streaks=site.streaks,
        snippets=_counts(site.snippets.values()), snippet_results=tuple(site.snippets.values()),
        diagnostics=tuple(diagnostics), output_dir=str(out),
    )
    # a cached-only build (serve) may lack snippet outputs: never call it up to date
    clean = not failed and options.run_snippets and all(r.status == "ok" for r in site.snippets.values())
    _save_quietly(cache_dir, state, out, kept)
    write_record(cache_dir, out, {
        "fingerprint": fresh.fingerprint if clean else "", "out_id": output_id(out),
        "data": snippet_data(config, site.snippets.values()),
        "summary": {"pages": report.pages, "entries": report.entries, "snippets": len(site.snippets),
                    "streaks": streaks_json(site.streaks), "warnings": warnings_json(diagnostics)},
    })
    return report


def _write(out: Path, rendered: RenderedSite, state: BuildState, trees: Trees | None, cache_dir: Path,
           found: list[Diagnostic], strict: bool) -> tuple[int, list[Diagnostic]]:
    """Bring the spare folder up to date while the workers still render, then swap it in unless
    the build failed. A kill at any moment leaves the record dirty: the next build starts cold."""
    write_record(cache_dir, out, {"dirty": True})
    try:
        with SiteWriter(out, spare_path(cache_dir, out), trees) as writer:
            writer.put_all(rendered.files)
            if fails(found + rendered.problems, strict):
                set_trees(state, Trees(state.files, trees.live_inode if trees else None, writer.spare_files,
                                       inode(writer.spare)))
                return 0, []
            written = writer.written
            set_trees(state, writer.swap())
    except Vanished:
        raise
    except (UnsafeOutput, OSError) as exc:
        set_trees(state, Trees())  # whatever is in the folders now, the next build finds out anew
        return 0, [Diagnostic(str(out), None, f"cannot write the site: {exc}")]
    state.pages, state.plan = dict(rendered.memo.keys), rendered.memo  # the memo's keys are the pages'
    return written, []


def state_trees(state: BuildState) -> Trees:
    return Trees(state.files, state.live_inode, state.spare_files, state.spare_inode)


def set_trees(state: BuildState, trees: Trees) -> None:
    state.files, state.live_inode = trees.live, trees.live_inode
    state.spare_files, state.spare_inode = trees.spare, trees.spare_inode


@dataclass(frozen=True)
class LoadedSite:
    entries: list[Entry]  # published (drafts only with --drafts), ascending
    bodies: dict[str, RenderedBody]  # slug -> body
    snippets: dict[str, SnippetResult]
    streaks: Streaks
    today: dt.date
    diagnostics: list[Diagnostic]
    undated: list[UndatedPage] = field(default_factory=list)  # pages/ (drafts only with --drafts)
    undated_bodies: dict[str, RenderedBody] = field(default_factory=dict)  # page url -> body


def load_site(config: SiteConfig, options: BuildOptions, today: dt.date, state: BuildState,
              progress: Progress | None = None, workers: Workers | None = None,
              entry_files: Walked | None = None) -> LoadedSite:
    """Every read-side stage: entries, bodies, snippet outputs, streaks, with all their diagnostics.
    `entry_files`: the walk of entries/ that the freshness check made, if it did."""
    known = snippet_names(config)
    rules = EntryRules(config.day_ends_at, frozenset(known), config.timezone,
                       config.rel_path("entries_dir"), config.rel_path("static_dir"))
    entries, diagnostics = load_and_render(config, rules, state, workers or Workers(1), entry_files)
    published = [e for e in entries if options.drafts or not e.draft]
    bodies = {e.slug: linking_in_full(state, body_key(e)) for e in published}
    every_page, found = load_undated_pages(config.root, config.path("pages_dir"), frozenset(known))
    undated = [p for p in every_page if options.drafts or not p.draft]
    undated_bodies = render_undated(undated, rules.entries_dir, rules.static_dir)
    diagnostics += found
    diagnostics += [d for body in [*bodies.values(), *undated_bodies.values()] for d in body.problems]
    programs = cell_programs(entry_docs(published, rules) + [
        (p.path, p.snippets, p.body, p.link_context(rules.entries_dir, rules.static_dir)) for p in undated])
    refs = [r for e in published for r in e.snippets] + [r for p in undated for r in p.snippets]
    names = list(dict.fromkeys(r.name for r in refs if r.name in known or r.name in programs))
    if not errors_in(diagnostics):  # an entry that failed to load may be the one linking a snippet
        linked = {r.name for e in entries for r in e.snippets} | {r.name for p in every_page for r in p.snippets}
        diagnostics += unlinked_snippet_warnings(config, known, linked, programs)
    if options.shard is not None:
        from .shards import last_run_seconds, shard_names

        names = shard_names(names, last_run_seconds(config.path("cache_dir"), names), options.shard)
    snippets = run_linked_snippets(config, options, names, progress, programs)
    diagnostics += snippet_diagnostics(config, snippets.values())
    sources = [(e.path, e.body_first_line, bodies[e.slug]) for e in published]
    diagnostics += link_diagnostics(config, sources + [(p.path, p.body_first_line, undated_bodies[p.url])
                                                       for p in undated])
    streaks = compute_streaks([e.date for e in published], today, config.streak_rule, config.challenge_days)
    diagnostics += date_warnings(published, today, config)
    return LoadedSite(published, bodies, snippets, streaks, today, diagnostics, undated, undated_bodies)


def load_and_render(config: SiteConfig, rules: EntryRules, state: BuildState, workers: Workers,
                    entry_files: Walked | None = None) -> tuple[list[Entry], list[Diagnostic]]:
    """Parse every entry and render its body, reusing both for files whose bytes did not change.

    A file whose (inode, mtime, size) is as the last build saw it is not even read."""
    keys: list[str] = []
    todo: list[tuple[str, bytes, EntryRules]] = []
    stats: dict[str, FileSeen] = {}
    scanned, refused = scan_entry_files(config.root, config.path("entries_dir"), entry_files)  # links out of the log
    rules_key, seen_before, parsed_before = rules.key, state.stats, state.entries
    for rel, full, st in scanned:
        seen = seen_before.get(rel)
        if seen is not None and seen[:3] == st and (key := entry_key(rel, seen[3], rules_key)) in parsed_before:
            sha = seen[3]
        else:
            data = Path(full).read_bytes()  # stat taken before the read: an edit meanwhile shows next time
            sha = hashlib.sha256(data).hexdigest()
            key = entry_key(rel, sha, rules_key)
            if key not in parsed_before:
                todo.append((rel, data, rules))
        keys.append(key)
        stats[rel] = (*st, sha)
    todo += _missing_bodies(state, keys, rules, {rel: full for rel, full, _ in scanned})
    for (path, data, _), (parsed, body, highlights) in zip(todo, workers.map(parse_and_render, todo)):
        state.entries[entry_cache_key(path, data, rules)] = parsed
        state.highlights.update(highlights)
        if body is not None and parsed[0] is not None:
            state.bodies[body_key(parsed[0])] = body
    state.stats = stats
    _forget_unused(state.entries, set(keys))
    entries, diagnostics = collect_entries(state.entries[k] for k in keys)
    _forget_unused(state.bodies, {body_key(e) for e in entries})
    _forget_unused(state.highlights, {key for body in state.bodies.values() for key in body.blocks})
    return entries, refused + diagnostics


def _missing_bodies(state: BuildState, keys: list[str], rules: EntryRules, paths: dict[str, str]
                    ) -> list[tuple[str, bytes, EntryRules]]:
    """Entries parsed before whose rendered body is gone (e.g. after a renderer upgrade)."""
    out = []
    for key in keys:
        entry = state.entries.get(key, (None,))[0]
        if entry is not None and body_key(entry) not in state.bodies:
            out.append((entry.path, Path(paths[entry.path]).read_bytes(), rules))
    return out


def parse_and_render(job: tuple[str, bytes, EntryRules], shared: Shared
                     ) -> tuple[tuple[Entry | None, list[Diagnostic]], RenderedBody | None, dict[str, str | None]]:
    """Worker task: one entry file -> its parse, its rendered body and the code blocks it highlighted.
    The parse comes back as the state keeps it (kept_as_state): its Markdown, rendered here, does
    not cross the pipe again nor stay in the build's memory, and a parse just made is the one a
    later build reads back."""
    from .markdown import Highlights, render_body

    path, data, rules = job
    entry, problems = parse_entry(path, data, rules)
    highlights = Highlights(shared.highlighted, shared.highlights)
    body = render_body(entry.body, rules.links_for(entry), highlights) if entry is not None else None
    shared.highlighted.update(highlights.made)
    return (entry and kept_as_state(entry), problems), body, highlights.made


def _forget_unused(cache: dict[str, Any], used: set[str]) -> None:
    for key in [k for k in cache if k not in used]:
        del cache[key]


@dataclass(frozen=True)
class RenderedSite:
    page_count: int
    files: Iterable[OutputFile]  # lazy: pages arrive as the renderers finish them
    problems: list[Diagnostic]  # complete once `files` has been consumed
    memo: PlanMemo  # what the plan was made of (its keys: output path -> page key): the next one's shortcut


def render_site(config: SiteConfig, site: LoadedSite, state: BuildState, out: Path, theme: Any,
                workers: Workers, spare: Path) -> RenderedSite:
    """Plan every page; render only those whose key changed (entry pages on both cores)."""
    from .pages import SiteInputs, digest, plan_pages

    site_digest = digest(made_with(), config_digest(config), theme.digest_all)
    live = str(out)
    in_spare = spare_files(spare, state_trees(state)) or {}

    def has_page(path: str, key: str) -> bool:
        """The site has the page's bytes: in the spare folder the writer takes it from (it checks that
        copy), or else in the live site (a page deleted there by hand is rendered again)."""
        held = state.files.get(path) if state.pages.get(path) == key else None
        return held is not None and (in_spare.get(path) == held or os.path.isfile(os.path.join(live, path)))

    plan = plan_pages(SiteInputs(config, site.entries, site.bodies, site.snippets, site.streaks,
                                 site.today, site_digest, site.undated, site.undated_bodies,
                                 made_from=made_from(state, site.entries, site.bodies), has_page=has_page,
                                 memo=replace(state.plan, keys=state.pages)))
    reused: list[OutputFile] = []  # and search.json, written as it is taken
    todo: list[Page] = []
    full = lazy_bodies(state, site.entries, site.bodies)
    for page in plan.pages:
        path = page.output_path
        done = page.reused or has_page(path, page.key)
        if page.template == "@json":
            reused.append(search_json(state, page, not done, full))
        elif done:
            reused.append(OutputFile(path, digest=state.files[path]))
        else:
            todo.append(page)
    todo = [replace(p, context=in_full(p.context, full)) for p in todo]
    problems: list[Diagnostic] = []
    pages = workers.render_pages(todo, {"site": config, "version": __version__})

    def files() -> Iterator[OutputFile]:
        yield from reused
        for path, data, problem in pages:
            if problem is None:
                yield OutputFile.of_bytes(path, data)
            elif problem not in problems:
                problems.append(problem)
        assets, refused = static_files(config, theme.static_dirs, site.snippets.values())
        problems.extend(refused)
        yield from assets

    return RenderedSite(len(plan.pages), files(), problems, plan.memo)


def _counts(results: Iterable[SnippetResult]) -> SnippetCounts:
    results = list(results)
    return SnippetCounts(
        ran=sum(1 for r in results if not r.from_cache),
        cached=sum(1 for r in results if r.from_cache),
        failed=sum(1 for r in results if r.status != "ok"),
    )


def _save_quietly(cache_dir: Path, state: BuildState, out: Path, kept: KeptState | None) -> None:
    try:
        save_state(cache_dir, state, out, kept)
    except (OSError, BadState):  # a read-only cache folder (or a pack damaged meanwhile) costs speed next time
        pass


def check_failures(site: LoadedSite) -> list[Diagnostic]:
    """What makes `check` fail besides a failed snippet: errors, and broken links."""
    return errors_in(site.diagnostics) + [d for d in site.diagnostics if d.code == BROKEN_LINK]


def check_passed(site: LoadedSite) -> bool:
    """`check`'s verdict: no error, no broken link, and every snippet that ran succeeded."""
    return not check_failures(site) and all(r.status == "ok" for r in site.snippets.values())


def check_site(config: SiteConfig, options: BuildOptions | None = None,
               progress: Progress | None = None) -> LoadedSite:
    """What CI runs: load and validate every entry, run every linked snippet, and render every page
    (to memory) so that what would fail the build fails the check: a pull request is checked, not
    built. Writes no site."""
    options = options or BuildOptions()
    site = load_site(config, options, resolve_today(config, options.today), BuildState(), progress)
    if errors_in(site.diagnostics):  # the build would stop there too
        return site
    return replace(site, diagnostics=site.diagnostics + [d for d in _page_problems(config, site, options)
                                                         if d not in site.diagnostics])


def _page_problems(config: SiteConfig, site: LoadedSite, options: BuildOptions) -> list[Diagnostic]:
    """What rendering every page of `site` finds (a template's mistakes, a static file refused)."""
    from .templates import Theme

    state = BuildState()  # nothing reused: every page is rendered
    out = output_dir(config, options)
    theme = Theme(config.path("templates_dir"), config.root, config.path("cache_dir") / "jinja")
    with Workers(options.jobs or os.cpu_count() or 1, Shared(theme, StoredHighlights(state))) as workers:
        rendered = render_site(config, site, state, out, theme, workers, spare=out)  # no spare is looked at
        for _ in rendered.files:  # each page's bytes dropped as soon as it is made
            pass
    return rendered.problems
