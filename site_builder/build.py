"""BUILD: the one place that knows the order of the stages.

load config -> load entries -> render bodies -> run snippets -> streaks -> plan pages
-> render pages -> write (staging + swap). Everything is read and checked before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import __version__
from .config import SiteConfig
from .entries import EntryRules, find_entry_files, load_entries
from .errors import Diagnostic, errors_in, warnings_in
from .markdown import RENDERER_VERSION, pygments_css, render_body
from .model import BuildReport, Entry, Page, RenderedBody, SnippetCounts, SnippetResult, Streaks
from .output import OutputFile, UnsafeOutput, check_output_folder, write_site
from .pages import SiteInputs, digest, plan_pages
from .state import BuildState, load_state, output_id, save_state
from .streaks import compute_streaks, declared_mismatch, today_in

Progress = Callable[[Any], None]
PARALLEL_RENDER_MIN = 48  # below this many bodies, forking workers costs more than it saves


@dataclass(frozen=True)
class BuildOptions:
    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    today: dt.date | None = None
    timeout: float | None = None
    jobs: int | None = None
    fresh: bool = False
    run_snippets: bool = True  # False: use cached outputs only (never run), e.g. while previewing


def resolve_today(config: SiteConfig, today: dt.date | None = None) -> dt.date:
    """The learner's today: an explicit date, else SOURCE_DATE_EPOCH, else the clock (the edge)."""
    if today is not None:
        return today
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return today_in(now, config.timezone, config.day_ends_at)


def output_dir(config: SiteConfig, options: BuildOptions) -> Path:
    return (options.out or config.path("output_dir")).resolve()


def build_site(config: SiteConfig, options: BuildOptions = BuildOptions(),
               progress: Progress | None = None) -> BuildReport:
    """Build the site; return a report whose diagnostics say what went wrong (never raises for input)."""
    started = time.perf_counter()
    if options.base_url:
        config = replace(config, base_url=options.base_url if options.base_url.endswith("/")
                         else options.base_url + "/")
    today = resolve_today(config, options.today)
    out = output_dir(config, options)
    cache_dir = config.path("cache_dir")
    state = load_state(cache_dir)
    fingerprint = input_fingerprint(config, options, today, out)
    if _unchanged(state, fingerprint, out):
        return _report_from_summary(state.summary, time.perf_counter() - started, str(out))

    loaded = load_site(config, options, today, state, progress)
    diagnostics = list(loaded.diagnostics)
    theme_pages, page_keys, files, render_problems = render_site(config, loaded, state, out)
    diagnostics += render_problems
    failed = errors_in(diagnostics) or (options.strict and warnings_in(diagnostics))
    written = 0
    if not failed:
        try:
            check_output_folder(out, ours=state.out_path == str(out))
            result = write_site(out, files, state.files if state.out_path == str(out) else {})
        except (UnsafeOutput, OSError) as exc:
            diagnostics.append(Diagnostic(str(out), None, f"cannot write the site: {exc}"))
        else:
            written = result.written
            state.pages, state.files = page_keys, result.digests
            state.out_path, state.out_id = str(out), output_id(out)
    report = BuildReport(
        pages=theme_pages, pages_written=written, entries=len(loaded.entries),
        seconds=time.perf_counter() - started, streaks=loaded.streaks,
        snippets=_counts(loaded.snippets.values()), snippet_results=tuple(loaded.snippets.values()),
        diagnostics=tuple(diagnostics), output_dir=str(out),
    )
    clean = not errors_in(diagnostics) and not any(r.status != "ok" for r in loaded.snippets.values())
    state.fingerprint = fingerprint if clean and written >= 0 and not failed else ""
    state.summary = _summary(report)
    _save_quietly(cache_dir, state)
    return report


@dataclass(frozen=True)
class LoadedSite:
    entries: list[Entry]  # published (drafts only with --drafts), ascending
    bodies: dict[str, RenderedBody]
    snippets: dict[str, SnippetResult]
    streaks: Streaks
    today: dt.date
    diagnostics: list[Diagnostic]


def load_site(config: SiteConfig, options: BuildOptions, today: dt.date, state: BuildState,
              progress: Progress | None = None) -> LoadedSite:
    """Every read-side stage: entries, bodies, snippet outputs, streaks, with all their diagnostics."""
    known = _snippet_names(config)
    rules = EntryRules(config.day_ends_at, frozenset(known))
    entries, diagnostics = load_entries(config.root, config.path("entries_dir"), rules, state.entries)
    _forget_unused(state.entries, {f"{e.path}\0{e.digest}\0{rules!r}" for e in entries})
    published = [e for e in entries if options.drafts or not e.draft]
    bodies = render_bodies(published, state.bodies, options.jobs or os.cpu_count() or 1)
    names = list(dict.fromkeys(r.name for e in published for r in e.snippets if r.name in known))
    snippets = run_linked_snippets(config, options, names, progress)
    diagnostics += snippet_diagnostics(config, snippets.values())
    streaks = compute_streaks([e.date for e in published], today, config.streak_rule, config.challenge_days)
    diagnostics += date_warnings(published, today, config)
    return LoadedSite(published, bodies, snippets, streaks, today, diagnostics)


def render_bodies(entries: list[Entry], cache: dict[str, Any], jobs: int) -> dict[str, RenderedBody]:
    """Markdown -> HTML for each entry, reusing bodies whose file did not change; both cores when cold."""
    todo = [e for e in entries if _body_key(e) not in cache]
    if len(todo) >= PARALLEL_RENDER_MIN and jobs > 1:
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
            chunk = max(1, len(todo) // (jobs * 4))
            for entry, body in zip(todo, pool.map(render_body, [e.body for e in todo], chunksize=chunk)):
                cache[_body_key(entry)] = body
    else:
        for entry in todo:
            cache[_body_key(entry)] = render_body(entry.body)
    _forget_unused(cache, {_body_key(e) for e in entries})
    return {e.slug: cache[_body_key(e)] for e in entries}


def _body_key(entry: Entry) -> str:
    return f"{RENDERER_VERSION}\0{hashlib.sha1(entry.body.encode()).hexdigest()}"


def _forget_unused(cache: dict[str, Any], used: set[str]) -> None:
    for key in [k for k in cache if k not in used]:
        del cache[key]


def _snippet_names(config: SiteConfig) -> set[str]:
    folder = config.path("snippets_dir")
    return {p.stem for p in folder.glob("*.py") if not p.name.startswith("_")} if folder.is_dir() else set()


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
    from .snippets import run_snippets

    settings = snippet_settings(config, options)
    if not options.run_snippets:
        from .snippets import cached_results

        return dict(cached_results(names, settings))
    return dict(run_snippets(names, settings, progress))


def snippet_diagnostics(config: SiteConfig, results: Iterable[SnippetResult]) -> list[Diagnostic]:
    """A failed snippet is a warning (an error with --strict): the page shows its traceback."""
    out = []
    folder = config.snippets_dir
    for r in results:
        if r.status == "ok":
            continue
        what = {"failed": "failed", "timeout": "timed out", "error": "could not run"}[r.status]
        last = (r.traceback or r.stderr or "").strip().splitlines()[-1:] or [""]
        out.append(Diagnostic(f"{folder}/{r.name}.py", r.error_line, f"snippet {what}: {last[0]}".rstrip(": "),
                              "warning", hint=f"run 'logbuild run {r.name}' to see it all"))
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


def render_site(config: SiteConfig, site: LoadedSite, state: BuildState, out: Path
                ) -> tuple[int, dict[str, str], list[OutputFile], list[Diagnostic]]:
    """Plan and render every page; unchanged pages (same key, file still there) are not rendered."""
    from .templates import Theme

    theme = Theme(config.path("templates_dir"), config.root)
    site_digest = digest(__version__, _config_digest(config))
    inputs = SiteInputs(config, site.entries, site.bodies, site.snippets, site.streaks, site.today, site_digest)
    pages = plan_pages(inputs)
    template_digests: dict[str, str] = {}
    same_output = state.out_path == str(out)
    files: list[OutputFile] = []
    keys: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for page in pages:
        if page.template not in template_digests:
            template_digests[page.template] = theme.digest(page.template) if page.template[0] != "@" else ""
        key = digest(page.key, template_digests[page.template])
        path = page.output_path
        keys[path] = key
        if same_output and state.pages.get(path) == key and (out / path).is_file():
            files.append(OutputFile(path, digest=state.files.get(path, "")))
            continue
        data, problem = _render_page(theme, page, config)
        if problem is not None:
            problems.append(problem)
            continue
        files.append(OutputFile.of_bytes(path, data))
    files += static_files(config, theme, site.snippets.values())
    return len(pages), keys, files, _dedupe(problems)


def _render_page(theme: Any, page: Page, config: SiteConfig) -> tuple[bytes, Diagnostic | None]:
    if page.template == "@json":
        import json

        return json.dumps(page.context["data"], ensure_ascii=False, separators=(",", ":")).encode(), None
    html, problem = theme.render(page.template, {**page.context, "site": config, "version": __version__})
    return (html or "").encode(), problem


def static_files(config: SiteConfig, theme: Any, results: Iterable[SnippetResult]) -> list[OutputFile]:
    """Theme assets, Pygments styles, snippet figures, the log's own static/ folder, .nojekyll."""
    files = [OutputFile.of_bytes("static/pygments.css", pygments_css().encode()),
             OutputFile.of_bytes(".nojekyll", b"")]
    if config.cname:
        files.append(OutputFile.of_bytes("CNAME", config.cname.encode() + b"\n"))
    for folder in theme.static_dirs:
        files += _folder_files(folder, "static/")
    user_static = config.path("static_dir")
    if user_static.is_dir():
        files += _folder_files(user_static, "")
    from .snippet_view import figure_url

    for r in results:
        if r.output_dir:
            for f in r.figures:
                for rel in filter(None, (f.path, f.svg_path)):
                    files.append(OutputFile(figure_url(r, rel), source=Path(r.output_dir) / rel,
                                            digest=f"{r.key}:{rel}"))
    by_path = {f.path: f for f in files}  # a log's own file wins over the theme's
    return list(by_path.values())


def _folder_files(folder: Path, prefix: str) -> list[OutputFile]:
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(folder).parts):
            st = path.stat()
            rel = prefix + path.relative_to(folder).as_posix()
            out.append(OutputFile(rel, source=path, digest=f"{st.st_size}:{st.st_mtime_ns}"))
    return out


def _dedupe(problems: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(problems))


def _config_digest(config: SiteConfig) -> str:
    return digest(sorted((k, str(v)) for k, v in vars(config).items() if k != "root"))


def input_fingerprint(config: SiteConfig, options: BuildOptions, today: dt.date, out: Path) -> str:
    """Cheap stat-based digest of every input: equal fingerprints mean nothing to do."""
    from .templates import default_theme_dir

    parts: list[Any] = [__version__, _config_digest(config), options, today, str(out), sys.version]
    for folder in (config.path("entries_dir"), config.path("snippets_dir"), config.path("templates_dir"),
                   config.path("static_dir"), default_theme_dir()):
        parts.append(_stat_tree(folder))
    for name in ("logbuild.toml", "pyproject.toml"):
        parts.append(_stat(config.root / name))
    parts += [_stat(Path(p)) for p in sys.path if "site-packages" in p]  # installs and upgrades
    return digest(*parts)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _stat_tree(folder: Path) -> list[Any]:
    if not folder.is_dir():
        return []
    out: list[Any] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
        for name in sorted(filenames):
            st = os.stat(os.path.join(dirpath, name))
            out.append((dirpath, name, st.st_mtime_ns, st.st_size))
    return out


def _unchanged(state: BuildState, fingerprint: str, out: Path) -> bool:
    return bool(state.fingerprint) and state.fingerprint == fingerprint and output_id(out) == state.out_id


def _counts(results: Iterable[SnippetResult]) -> SnippetCounts:
    results = list(results)
    return SnippetCounts(
        ran=sum(1 for r in results if not r.from_cache),
        cached=sum(1 for r in results if r.from_cache),
        failed=sum(1 for r in results if r.status != "ok"),
    )


def _summary(report: BuildReport) -> dict[str, Any]:
    return {"pages": report.pages, "entries": report.entries, "streaks": report.streaks,
            "snippets": len(report.snippet_results)}


def _report_from_summary(summary: Mapping[str, Any], seconds: float, out: str) -> BuildReport:
    return BuildReport(
        pages=summary["pages"], pages_written=0, entries=summary["entries"], seconds=seconds,
        streaks=summary["streaks"], snippets=SnippetCounts(cached=summary["snippets"]), snippet_results=(),
        output_dir=out,
    )


def _save_quietly(cache_dir: Path, state: BuildState) -> None:
    try:
        save_state(cache_dir, state)
    except OSError:  # a read-only cache folder costs speed next time, nothing else
        pass


def check_site(config: SiteConfig, options: BuildOptions = BuildOptions(),
               progress: Progress | None = None) -> LoadedSite:
    """What CI runs: load and validate every entry and run every linked snippet. Writes no site."""
    return load_site(config, options, resolve_today(config, options.today), BuildState(), progress)


def entry_files(config: SiteConfig) -> list[Path]:
    return find_entry_files(config.path("entries_dir"))
