"""SERVE: keep the preview site current. One thread rebuilds (serially) when a watched file changes;
another runs snippets without cached output in the background and asks for a rebuild when they finish.

Builds never run snippets themselves (`run_snippets=False`), so an edit shows in well under a second
even while a long snippet runs; a failing snippet is a warning on the page, never a stop. A saved
snippet starts at once, on a warm worker (snippets/warm.py), and when nothing else changed the
build waits a moment for it, so its new figure comes with one build, not two.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..build import BuildOptions, build_site
from ..config import CONFIG_FILE, SiteConfig, load_config
from ..entries import EntryRules, load_entries
from ..errors import Diagnostic, errors_in, warnings_in
from ..linked import snippet_diagnostics
from ..model import CellProgram
from ..state import KeptState
from ..templates import default_theme_dir
from .events import LiveState

Say = Callable[[str], None]
DEBOUNCE_MS = 30  # editors write a file in bursts (truncate, write, rename); wait this long for quiet
SHOW_RUNNING_AFTER = 1.0  # seconds a build waits for a saved snippet's run before showing it as running


@dataclass(frozen=True)
class PreviewOptions:
    drafts: bool = False
    today: dt.date | None = None
    background_snippets: bool = True  # run snippets that have no cached output, then rebuild
    warm_snippets: bool = True  # run .py snippets on warm workers (snippets/warm.py), not a fresh interpreter


class Preview:
    """Builds `root` into `site_dir` whenever asked; publishes each outcome to `live`."""

    def __init__(self, root: Path, site_dir: Path, base_url: str, options: PreviewOptions, live: LiveState,
                 say: Say, overrides: dict[str, Any] | None = None):
        self.root, self.site_dir, self.base_url = root.resolve(), site_dir, base_url
        self.options, self.live, self.say = options, live, say
        self.overrides = dict(overrides or {})
        self.config: SiteConfig | None = None
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._snippets_busy = threading.Lock()
        self._failed: dict[str, tuple[Any, ...]] = {}  # snippet -> the snippet folder's state it failed in
        self._entry_cache: dict[str, Any] = {}
        self._kept = KeptState()  # the last build's state, for the next one (only the rebuild thread builds)
        self.builds = 0
        self.watching = threading.Event()  # set once every watcher is listening (tests wait on it)
        self._listening = 0
        self._ready_lock = threading.Lock()
        self._rewatch = threading.Event()
        self._rewatched = False
        self._build_warnings: tuple[str, ...] = ()  # of the last build (e.g. a declared streak that is off)
        self._snippet_warnings: tuple[str, ...] = ()  # of the last background snippet run
        self._warm: Any = None  # the WarmPool, once snippets run
        self._linked: tuple[list[str], dict[str, CellProgram]] = ([], {})  # as of the last build
        self._warm_lock = threading.Lock()
        self._stopper: Any = None  # ends the background snippet runs when serve stops (snippets.process)

    # -- building --------------------------------------------------------------------------
    def build_once(self) -> bool:
        """One build; True if the site was updated. Problems are published, never raised."""
        config, problems = load_config(self.root, self.overrides)
        if errors_in(problems):
            self._failed_build(problems)
            return False
        self.config = config
        options = BuildOptions(out=self.site_dir, base_url=self.base_url, drafts=self.options.drafts,
                               today=self.options.today, run_snippets=False)
        try:
            report = build_site(config, options, kept=self._kept)
        except Exception as exc:  # noqa: BLE001 -- a bug of ours must not end the preview; say it like a build error
            self._failed_build([Diagnostic("logbuild", None, f"the build crashed: {exc!r}")])
            return False
        self.builds += 1
        if errors_in(report.diagnostics):
            self._failed_build(report.diagnostics)
            return False
        warnings = tuple(d.format() for d in warnings_in(report.diagnostics))
        news, self._build_warnings = warnings != self._build_warnings or self.builds == 1, warnings
        self.live.publish(built=report.pages_written > 0 or self.live.snapshot.errors != (), errors=(),
                          warnings=self._warnings())
        written = f"{report.pages_written} file(s) written" if report.pages_written else "nothing changed"
        self.say(f"Built {report.pages} pages from {report.entries} entries in {report.seconds:.2f} s "
                 f"({written}" + (f"; {len(warnings)} warning(s)" if warnings else "") + ").")
        if news:  # the same warnings on every save would drown what changed
            for line in warnings:
                self.say("  " + line)
        if self.options.background_snippets:
            self._start_snippets(config, {r.name for r in report.snippet_results})
        return True

    def _warnings(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._build_warnings + self._snippet_warnings))

    def _failed_build(self, problems: Any) -> None:
        lines = tuple(d.format() for d in errors_in(problems))
        self.live.publish(errors=lines)
        self.say("Build failed; still serving the last good site:\n  " + "\n  ".join(lines))

    def request(self) -> None:
        self._wanted.set()

    def run_builds(self) -> None:
        """The rebuild thread: one build at a time, changes during a build give one more build."""
        while not self._stopped.is_set():
            self._wanted.wait()
            if self._stopped.is_set():
                return
            self._wanted.clear()
            self.build_once()

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.set()
        self.live.close()
        with self._warm_lock:
            pool, self._warm = self._warm, False  # False: no pool is started after this
            stopper = self._stopper
        if stopper is not None:
            stopper.stop()  # cold runs in flight end now: their threads are joined at exit
        if pool:
            pool.close()

    # -- watching --------------------------------------------------------------------------
    def watched(self) -> tuple[list[Path], set[str]]:
        """(folders to watch recursively, paths that matter at the top of the root).

        The top-level paths are the configuration files and the folders that do not exist yet:
        creating one (say a first templates/) starts watching it."""
        config = load_config(self.root, self.overrides)[0]
        folders = [config.path(n).resolve() for n in ("entries_dir", "pages_dir", "snippets_dir", "templates_dir",
                                                      "static_dir")]
        folders.append(default_theme_dir().resolve())
        present = sorted({f for f in folders if f.is_dir()})
        outer = [f for f in present if not any(o != f and o in f.parents for o in present)]
        top = {str(self.root / CONFIG_FILE), str(self.root / "pyproject.toml")}
        return outer, top | {str(f) for f in folders if not f.is_dir()}

    def watch(self) -> None:
        """The watcher thread: any change under a watched folder, or to the configuration, rebuilds.

        The root itself is watched shallowly: watching it all would also watch the output and cache
        folders (and .venv in a checkout). Folders named by a changed configuration, or created
        since, are watched from then on."""
        import watchfiles

        default = watchfiles.DefaultFilter()
        while not self._stopped.is_set():
            folders, top = self.watched()
            self._rewatched = self._rewatch.is_set()
            self._rewatch.clear()

            def relevant(change: Any, path: str, folders: list[Path] = folders, top: set[str] = top,
                         default: Any = default) -> bool:
                return path in top or (any(path.startswith(f"{f}/") for f in folders) and default(change, path))

            jobs = [([self.root], False)] + ([(folders, True)] if folders else [])
            threads = [threading.Thread(target=self._watch_loop, args=(watchfiles, paths, recursive, relevant),
                                        daemon=True) for paths, recursive in jobs]
            self._listening = len(threads)
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    def _watch_loop(self, watchfiles: Any, paths: list[Path], recursive: bool,
                    relevant: Callable[..., bool]) -> None:
        ready = False
        stop = _Either(self._stopped, self._rewatch)
        # yield_on_timeout: the first (empty) yield says the watcher is listening
        for changes in watchfiles.watch(*paths, watch_filter=relevant, debounce=DEBOUNCE_MS, step=10,
                                        stop_event=stop, recursive=recursive, rust_timeout=200,
                                        yield_on_timeout=True, raise_interrupt=False):
            if not ready:
                ready = True
                self._ready_one()
                if self.watching.is_set() and recursive and self._rewatched:
                    self.request()  # whatever changed while we were not listening
            if changes:
                saved = self._run_saved_snippets({path for _, path in changes})
                if saved is None:
                    self.request()
                else:  # only linked snippets changed: one build once they ran, unless they take long
                    threading.Thread(target=self._build_after, args=(saved,), daemon=True).start()
                if not recursive:  # the configuration or a top folder changed: watch afresh
                    self._rewatch.set()

    def _ready_one(self) -> None:
        with self._ready_lock:
            self._listening -= 1
            if self._listening <= 0:
                self.watching.set()

    # -- snippets in the background -----------------------------------------------------------
    def _run_saved_snippets(self, paths: set[str]) -> _SavedRun | None:
        """Saved snippets that an entry links start running now. If nothing but .py ones changed, the
        build waits for them (a figure shows in one build, not two), for SHOW_RUNNING_AFTER at most:
        then the page says they are running, as before. None: build now (the run, if any, goes on)."""
        config, (linked, programs) = self.config, self._linked
        if config is None or not self.options.background_snippets:
            return None
        folder = config.path("snippets_dir").resolve()
        files = {str(folder / f"{n}{suffix}"): n for n in linked if n not in programs for suffix in (".py", ".ipynb")}
        names = list(dict.fromkeys(files[p] for p in sorted(paths) if p in files))
        if not names or not self._snippets_busy.acquire(blocking=False):
            return None
        saved = _SavedRun()
        threading.Thread(target=self._run_snippets, args=(config, names, _folder_state(folder), programs, saved),
                         daemon=True).start()
        gone = {p for p in paths if Path(p).parent == folder and Path(p).suffix not in (".py", ".ipynb")
                and not os.path.lexists(p)}  # an editor's temporary file, already renamed into place
        quick = {p for p in files if p.endswith(".py")}  # a kernel takes longer than a build waits
        return saved if paths - gone <= quick else None

    def _build_after(self, saved: _SavedRun) -> None:
        if not saved.done.wait(SHOW_RUNNING_AFTER) or not saved.rebuilt:
            self.request()

    def _start_snippets(self, config: SiteConfig, known: set[str]) -> None:
        linked, programs = self._linked = self._linked_snippets(config)
        if self._warm is None and self.options.warm_snippets:
            from ..snippets.warm import warm_up

            warm_up(linked, self._snippet_settings(config))  # so that even the first save is warm
        todo = [n for n in linked if n not in known]
        state = _folder_state(config.path("snippets_dir"))
        self._failed = {n: s for n, s in self._failed.items() if s == state}
        todo = [n for n in todo if n not in self._failed]
        if not todo or not self._snippets_busy.acquire(blocking=False):
            return
        threading.Thread(target=self._run_snippets, args=(config, todo, state, programs), daemon=True).start()

    def _run_snippets(self, config: SiteConfig, names: list[str], state: tuple[Any, ...],
                      programs: dict[str, CellProgram], saved: _SavedRun | None = None) -> None:
        from ..snippets import run_snippets

        try:
            self.live.publish(running=tuple(names))
            started = time.perf_counter()
            results = run_snippets(names, self._snippet_settings(config), None, programs)
            ran = [r for r in results.values() if not r.from_cache]
            failed = [r for r in results.values() if r.status != "ok"]
            self._failed.update({r.name: state for r in failed})
            warnings = tuple(d.format() for d in snippet_diagnostics(config, failed))
            self._snippet_warnings = warnings
            self.live.publish(running=(), warnings=self._warnings())
            if ran:
                self.say(f"Ran {len(ran)} snippet(s) in {time.perf_counter() - started:.1f} s"
                         + (f"; {len(failed)} failed" if failed else "") + ".")
                for line in warnings:
                    self.say("  " + line)
            if any(r.status == "ok" for r in ran):
                if saved is not None:
                    saved.rebuilt = True
                self.request()
        except Exception as exc:  # noqa: BLE001 -- never let the preview die for a snippet
            self.live.publish(running=(), warnings=(f"snippets could not run: {exc!r}",))
        finally:
            self._snippets_busy.release()
            if saved is not None:
                saved.done.set()

    def _snippet_settings(self, config: SiteConfig) -> Any:
        """A build's snippet settings, with the preview's warm workers unless they are off."""
        from ..linked import snippet_settings
        from ..snippets.process import Stopper

        settings = snippet_settings(config, BuildOptions())
        with self._warm_lock:
            if self._stopper is None:
                self._stopper = Stopper()
                if self._warm is False:  # stopped already
                    self._stopper.stop()
            if self._warm is None and self.options.warm_snippets:
                from ..snippets.warm import WarmPool

                self._warm = WarmPool(config.path("cache_dir"))
            return replace(settings, warm=self._warm or None, stopper=self._stopper)

    def _linked_snippets(self, config: SiteConfig) -> tuple[list[str], dict[str, CellProgram]]:
        """The snippets the shown entries link, and their inline cells (run as snippets too)."""
        from ..linked import cell_programs, entry_docs
        from ..snippets import available_snippets

        rules = EntryRules(config.day_ends_at, timezone=config.timezone)
        entries, _ = load_entries(config.root, config.path("entries_dir"), rules, self._entry_cache)
        if len(self._entry_cache) > 2 * len(entries) + 16:  # edits leave old parses behind
            self._entry_cache.clear()
        shown = [e for e in entries if self.options.drafts or not e.draft]
        available = available_snippets(config.path("snippets_dir"))
        programs = cell_programs(entry_docs(shown, rules))
        names = [r.name for e in shown for r in e.snippets if r.name in available or r.name in programs]
        return list(dict.fromkeys(names)), programs


@dataclass
class _SavedRun:
    """A run of saved snippets that the next build may wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    rebuilt: bool = False  # it asked for the build that shows its outputs


class _Either:
    """Stops a watcher when either event is set (watchfiles asks `is_set()`)."""

    def __init__(self, a: threading.Event, b: threading.Event):
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()


def _folder_state(folder: Path) -> tuple[Any, ...]:
    """What a snippet's failure depends on, cheaply: the files of the snippet folder as they are now."""
    if not folder.is_dir():
        return ()
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(out)
