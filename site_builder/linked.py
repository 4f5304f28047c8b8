"""EXECUTE, from the build's side: which snippets the log links (files, notebooks, an entry's
inline cells), running them (or reading the cache), and the warnings their runs give.

The snippets package runs code; this module only says what to run and reads what came back, so
`build`, `check`, `serve` and `run` share one way to do each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from .builds import BuildOptions
from .config import SiteConfig
from .entries import EntryRules
from .errors import Diagnostic
from .links import LinkContext
from .model import CELLS_PREFIX, CellProgram, Entry, SnippetRef, SnippetResult

Progress = Callable[[Any], None]  # given each runner.ProgressEvent (not imported: the runner loads lazily)


def snippet_names(config: SiteConfig) -> set[str]:
    from .snippets.sources import available_snippets

    return available_snippets(config.path("snippets_dir"))


CellDoc = tuple[str, tuple[SnippetRef, ...], str, LinkContext]  # (file, its snippet refs, body, where it is)


def cell_programs(docs: Iterable[CellDoc]) -> dict[str, CellProgram]:
    """Each entry's (or page's) ```{python} cells, run as one snippet named after it."""
    from .markdown import entry_cells

    out = {}
    for path, refs, body, where in docs:
        for ref in refs:
            if ref.name.startswith(CELLS_PREFIX):
                cells = entry_cells(body, where)
                if cells:
                    out[ref.name] = CellProgram(ref.name, path, cells)
    return out


def entry_docs(entries: Iterable[Entry], rules: EntryRules) -> list[CellDoc]:
    """Those of the entries that name a snippet: only they may have cells to run."""
    return [(e.path, e.snippets, e.body, rules.links_for(e)) for e in entries if e.snippets]


def snippet_data(config: SiteConfig, results: Iterable[SnippetResult]) -> list[str]:
    results = list(results)
    if not results:  # a log without snippets never imports the runner (5 ms)
        return []
    from .snippets.runner import data_paths

    return data_paths(results)


def snippet_settings(config: SiteConfig, options: BuildOptions) -> Any:
    from .snippets import SnippetSettings

    return SnippetSettings(
        root=config.root, snippets_dir=config.path("snippets_dir"), cache_dir=config.path("cache_dir"),
        timeout=options.timeout or config.snippet_timeout, timeout_forced=options.timeout is not None,
        jobs=options.jobs or config.jobs, env=dict(config.snippet_env), fresh=options.fresh,
    )


def run_linked_snippets(config: SiteConfig, options: BuildOptions, names: list[str],
                        progress: Progress | None = None, programs: dict[str, CellProgram] | None = None
                        ) -> dict[str, SnippetResult]:
    if not names:
        return {}
    settings = snippet_settings(config, options)
    if not options.run_snippets:
        from .snippets.runner import cached_results

        return dict(cached_results(names, settings, programs))
    from .snippets import run_snippets

    return dict(run_snippets(names, settings, progress, programs))


def snippet_diagnostics(config: SiteConfig, results: Iterable[SnippetResult]) -> list[Diagnostic]:
    """A failed snippet is a warning (an error with --strict): the page shows its traceback."""
    out: list[Diagnostic] = []
    for r in results:
        out += r.notes  # a formula in a notebook's Markdown that does not parse, ...
        if r.status == "ok":
            continue
        if r.problems:  # its header is wrong: each mistake where it stands, nothing more to see
            out += [replace(p, message=f"snippet could not run: {p.message}") for p in r.problems]
            continue
        what = {"failed": "failed", "timeout": "timed out", "error": "could not run"}[r.status]
        last = (r.traceback or r.stderr or "").strip().splitlines()[-1:] or [""]
        out.append(Diagnostic(r.path or f"{config.snippets_dir}/{r.name}.py", r.error_line,
                              f"snippet {what}: {last[0]}".rstrip(": "), "warning",
                              hint=f"run 'logbuild run {r.name}' to see it all" if r.kind != "cells"
                              else "the page shows its traceback under the cell"))
    return out


def unlinked_snippet_warnings(config: SiteConfig, known: set[str], linked: set[str],
                              programs: dict[str, CellProgram]) -> list[Diagnostic]:
    """Snippets no entry or page links (nor a linked snippet imports, as a helper): builds never run them."""
    from .snippets import imported_helpers
    from .snippets.sources import snippet_file

    unlinked = known - linked
    if not unlinked:
        return []
    folder = config.path("snippets_dir")
    helpers = imported_helpers(sorted(linked & (known | programs.keys())), config.root, folder, programs)
    return [Diagnostic(f"{config.snippets_dir}/{snippet_file(folder, name).name}", None, "no entry links this snippet, so "
                       "builds never run it", "warning", hint=f"link it from an entry with a ```{{snippet}} {name}``` block")
            for name in sorted(unlinked - helpers)]
