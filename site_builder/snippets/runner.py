"""EXECUTE: run snippets in subprocesses (timeouts, process trees, memory, parallelism), using the cache."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import Diagnostic
from ..model import CellProgram, Figure, Output, SnippetResult, SnippetStatus
from . import cache, sandbox
from .headers import SnippetOptions, format_size, parse_options
from .inputs import PackageVersions, gather_inputs
from .kernel import SETUP_FILE
from .notebook import python_text
from .process import Outcome, Stopper, run_process
from .sources import Source, SourceError, load_source, with_source
from .workdirs import private_work_folder, sweep_work_folders

if TYPE_CHECKING:
    from .warm import WarmPool

log = logging.getLogger(__name__)

DEFAULT_MEMORY = 4 * 1024**3  # address space: TensorFlow snippets reserve ~2.9 GB, a 20000x20000 figure 6.4 GB
# (TensorFlow reserves ~2.8 GB of address space on 2 cores for ~0.8 GB resident: README, "Snippets")
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "TF_NUM_INTRAOP_THREADS",
)
KERNEL_START = 90.0  # seconds a kernel run has beyond its cells' time limits (start, shut down)
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # so the child can import the harness


@dataclass(frozen=True)
class SnippetSettings:
    root: Path
    snippets_dir: Path
    cache_dir: Path  # e.g. <root>/.logbuild
    timeout: float = 600.0
    timeout_forced: bool = False  # --timeout beats the snippet's own `timeout=` line
    jobs: int = 0  # 0 = one per core
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment; part of the key
    fresh: bool = False  # ignore cached outputs (new ones are still stored)
    warm: WarmPool | None = None  # serve only: warm workers (warm.py); None runs each snippet cold
    stopper: Stopper | None = None  # ends the runs when stopped (serve keeps one); else one per run_snippets


@dataclass(frozen=True)
class ProgressEvent:
    """`cached` and `finished` carry the result; called from worker threads, one at a time."""

    kind: Literal["cached", "started", "finished"]
    name: str
    result: SnippetResult | None = None
    done: int = 0  # snippets finished (or taken from the cache) so far
    total: int = 0


@dataclass(frozen=True)
class Job:
    name: str
    path: Path
    source: str
    options: SnippetOptions
    key: str
    digests: dict[str, str]
    timeout: float  # the whole run; a kernel's cells each have their own (Source.run_cells)
    origin: Source
    cell_timeouts: tuple[float, ...] = ()


def cpu_count() -> int:
    return os.cpu_count() or 1


def run_snippets(
    names: Iterable[str],
    settings: SnippetSettings,
    progress: Callable[[ProgressEvent], None] | None = None,
    programs: Mapping[str, CellProgram] | None = None,
) -> dict[str, SnippetResult]:
    """Results for each name, from the cache or a fresh run. Never raises for a snippet's failure.

    `programs` are the entries' inline cells, by the snippet name they run under."""
    order = list(dict.fromkeys(names))
    report = _Reporter(progress, len(order))
    results: dict[str, SnippetResult] = {}
    jobs: list[Job] = []
    packages = PackageVersions()
    for name in order:
        try:
            planned = plan(name, settings, packages, programs or {})
        except Exception as exc:  # one broken snippet must not stop the others
            log.exception("could not prepare snippet %s", name)
            planned = _error(name, "", f"could not prepare snippet '{name}': {exc!r}")
        if isinstance(planned, Job):
            jobs.append(planned)
        else:
            results[name] = planned
            report("cached" if planned.from_cache else "finished", name, planned)
    results.update(_run_jobs(jobs, settings, report))
    return {name: results[name] for name in order}


def cached_results(names: Iterable[str], settings: SnippetSettings,
                   programs: Mapping[str, CellProgram] | None = None) -> dict[str, SnippetResult]:
    """Only what is known without running anything: cache hits and errors found before running.

    A preview (serve) shows these at once and runs the rest in the background."""
    packages = PackageVersions()
    out = {}
    for name in dict.fromkeys(names):
        planned = plan(name, settings, packages, programs or {})
        if not isinstance(planned, Job):
            out[name] = planned
    return out


def data_paths(results: Iterable[SnippetResult]) -> list[str]:
    """The files and folders these snippets read (`data=`), for the build's change detection."""
    return sorted({d for r in results for d in parse_options(r.source).data})


def prepare(name: str, settings: SnippetSettings, packages: PackageVersions,
            programs: Mapping[str, CellProgram]) -> tuple[Source, SnippetOptions, dict[str, str]] | SnippetResult:
    """The source, options and key inputs of a snippet; or the error that keeps it from running."""
    try:
        source = load_source(name, settings.root, settings.snippets_dir, programs)
    except SourceError as exc:
        return replace(_error(name, exc.text, exc.message, exc.line), problems=exc.problems)
    options = parse_options(source.text)
    if options.problems:
        where = source.shown
        lines = source.kind == "script"  # a notebook's key text has lines of its own
        problems = tuple(Diagnostic(where, line if lines else None, message, "warning")
                         for line, message in options.problems)
        text = "\n".join(f"{p.path}:{p.line}: {p.message}" if p.line else f"{p.path}: {p.message}" for p in problems)
        return replace(_error(name, source.text, text, problems[0].line),
                       problems=problems, path=source.shown)
    cells = None if source.kind == "script" else [python_text(c.source) for c in source.run_cells]
    inputs = gather_inputs(name, source.text, options, settings.root, settings.snippets_dir, settings.env,
                           packages, cells, source.kernel)
    return source, options, cache.input_digests(inputs)


def plan(name: str, settings: SnippetSettings, packages: PackageVersions,
         programs: Mapping[str, CellProgram] | None = None) -> Job | SnippetResult:
    """A Job to run, or a result already known: a cache hit or an error found before running."""
    prepared = prepare(name, settings, packages, programs or {})
    if isinstance(prepared, SnippetResult):
        return prepared
    source, options, digests = prepared
    key = cache.key_of(digests)
    if not settings.fresh:
        hit = cache.load_result(settings.cache_dir, name, key)
        if hit is not None:
            _touch(Path(hit.output_dir or "."))
            return with_source(hit, source)
    timeout = settings.timeout if settings.timeout_forced or options.timeout is None else options.timeout
    if source.kind == "script":
        return Job(name, source.path, source.text, options, key, digests, timeout, source)
    per_cell = tuple(timeout if settings.timeout_forced or c.timeout is None else c.timeout
                     for c in source.run_cells)
    return Job(name, source.path, source.text, options, key, digests, sum(per_cell) + KERNEL_START, source,
               per_cell)


def _run_jobs(jobs: list[Job], settings: SnippetSettings, report: _Reporter) -> dict[str, SnippetResult]:
    """Shared jobs in a pool of `jobs` workers, then each exclusive one with nothing beside it."""
    cores = cpu_count()
    shared = [j for j in jobs if not j.options.exclusive]
    width = max(1, min(settings.jobs or cores, len(shared) or 1))
    results: dict[str, SnippetResult] = {}
    if jobs:
        sweep_work_folders(settings.cache_dir)
    stopper = settings.stopper or Stopper()
    settings = replace(settings, stopper=stopper)

    def run(job: Job, threads: int) -> None:
        report("started", job.name)
        try:
            results[job.name] = execute(job, settings, threads)
        except Exception as exc:  # our side broke (disk full, ...): report, go on
            log.exception("running snippet %s failed", job.name)
            results[job.name] = _error(job.name, job.source, f"could not run snippet '{job.name}': {exc!r}")
        report("finished", job.name, results[job.name])

    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="snippet") as pool:
        try:
            for future in [pool.submit(run, job, max(1, cores // width)) for job in shared]:
                future.result()
        except BaseException:  # Ctrl-C: the runs end now, the rest never start
            stopper.stop()
            pool.shutdown(cancel_futures=True)
            raise
    for job in jobs:
        if job.options.exclusive:
            run(job, cores)
    return results


class _Reporter:
    def __init__(self, progress: Callable[[ProgressEvent], None] | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self.lock = threading.Lock()

    def __call__(
        self, kind: Literal["cached", "started", "finished"], name: str, result: SnippetResult | None = None
    ) -> None:
        with self.lock:
            self.done += kind != "started"
            if self.progress is not None:
                self.progress(ProgressEvent(kind, name, result, self.done, self.total))


def execute(job: Job, settings: SnippetSettings, threads: int) -> SnippetResult:
    """Run one snippet in its own work folder and process group, and store what it made."""
    staging = cache.new_staging(settings.cache_dir, job.name)
    limit = memory_limit(job.options)
    spec = {
        "name": job.name,
        "snippet": str(job.path.resolve()),
        "snippets_dir": str(settings.snippets_dir.resolve()),
        "root": str(settings.root.resolve()),
        "out": str(staging.resolve()),
        "svg": job.options.svg,
        "raises": job.options.raises,
        "parent": os.getpid(),
        "memory": limit,
        "memory_note": memory_note(job.options),
    }
    if job.origin.kind != "script":
        spec["kernel"] = job.origin.kernel
        spec["cells"] = [{"source": c.source, "raises": "raises-exception" in c.tags, "timeout": t, "alt": c.alt}
                         for c, t in zip(job.origin.run_cells, job.cell_timeouts)]
    (staging / "spec.json").write_text(json.dumps(spec), "utf-8")
    command = [sys.executable, "-m", "site_builder.snippets.harness", str(staging / "spec.json")]
    ran_at = dt.datetime.now(dt.timezone.utc)
    with private_work_folder(settings.cache_dir, job.name) as work:
        env = child_env(settings.env, threads)

        def cold() -> Outcome:
            return run_process(command, work.path, env, job.timeout, (work.lock_fd,), settings.stopper)

        source = job.source if job.origin.kind == "script" else None  # None: cells, on a kernel
        warm = settings.warm
        outcome = cold() if warm is None else warm.run(source, settings.snippets_dir, staging / "spec.json",
                                                       work.path, env, job.timeout, (work.lock_fd,), cold)
    result = _result(job, outcome, staging, ran_at)
    for leftover in ("spec.json", "manifest.json", sandbox.EXIT_FILE, sandbox.RUNNING_FILE, SETUP_FILE):
        (staging / leftover).unlink(missing_ok=True)
    if result.error_line is None and result.status == "failed" and job.options.raises_line:
        result = replace(result, error_line=job.options.raises_line)
    return with_source(cache.store_result(staging, result, job.digests, settings.cache_dir), job.origin)


def memory_limit(options: SnippetOptions) -> int | None:
    """Bytes of address space the snippet may use; None: no limit (`memory=none`)."""
    if options.memory is None:
        return default_memory()
    return options.memory or None


def default_memory() -> int:
    """Without `memory=`, 4G of address space: room for the TensorFlow snippets (2.9 GB reserved,
    0.8 GB used), while a runaway allocation fails cleanly instead of swapping the machine."""
    return DEFAULT_MEMORY


def memory_note(options: SnippetOptions) -> str | None:
    """The line added to a failure that ran out of memory under the limit: which one, how to raise it."""
    limit = memory_limit(options)
    if limit is None:
        return None
    whose = "logbuild's default memory limit" if options.memory is None else "its memory limit"
    return (
        f"logbuild: the snippet hit {whose} of {format_size(limit)} (address space, RLIMIT_AS); "
        f"raise it with `# logbuild: memory={format_size(2 * limit)}` or lift it with `# logbuild: memory=none`"
    )


def child_env(extra: Mapping[str, str], threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({var: str(threads) for var in THREAD_VARS})
    env.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _result(job: Job, outcome: Outcome, staging: Path, ran_at: dt.datetime) -> SnippetResult:
    base = SnippetResult(
        name=job.name,
        key=job.key,
        status="error",
        source=job.source,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        figures=(),
        seconds=outcome.seconds,
        ran_at=ran_at,
        from_cache=False,
    )
    if outcome.timed_out:
        message = f"killed after {job.timeout:g} s, the time limit (raise it with `# logbuild: timeout=N`)"
        return replace(base, status="timeout", traceback=message)
    manifest = cache.read_json(staging / "manifest.json")
    if manifest is None:
        crash, text = _without_manifest(job, outcome, staging)
        return replace(base, status=crash, traceback=text)
    try:
        figures = tuple(
            Figure(f["path"], f["width"], f["height"], f["alt"], f.get("svg_path"))
            for f in manifest["figures"]
        )
        status: SnippetStatus = manifest["status"]
        result = replace(
            base,
            status=status,
            figures=figures,
            seconds=float(manifest["seconds"]),
            traceback=manifest["traceback"],
            error_line=manifest["error_line"],
            peak_memory_mb=manifest["peak_memory_mb"],
        )
        return result if job.origin.kind == "script" else _with_cells(result, job, manifest)
    except (KeyError, TypeError, ValueError) as exc:
        return replace(base, traceback=f"unreadable manifest from the snippet harness: {exc!r}")


def _with_cells(result: SnippetResult, job: Job, manifest: dict[str, Any]) -> SnippetResult:
    """A kernel run's outputs per cell; its error line is a line of the notebook or entry file."""
    outputs = tuple(tuple(Output(o["kind"], str(o.get("text", "")), str(o.get("name", "")), int(o.get("figure", -1)))
                          for o in cell) for cell in manifest["outputs"])
    streams = [o for cell in outputs for o in cell if o.kind == "stream"]
    line = None
    if manifest["error_cell"] is not None:
        cell = job.origin.run_cells[int(manifest["error_cell"])]
        line = cell.line + max(0, int(manifest["error_line"] or 1) - 1)
    return replace(result, outputs=outputs, error_line=line,
                   stdout="".join(o.text for o in streams if o.name == "stdout"),
                   stderr="".join(o.text for o in streams if o.name == "stderr")
                   + (result.stderr if result.status != "ok" else ""))  # the kernel's own chatter, when it matters


def _without_manifest(job: Job, outcome: Outcome, staging: Path) -> tuple[SnippetStatus, str]:
    """Whose doing a run without a manifest was: the snippet's (it ended or crashed its own
    process) is `failed`; the harness stopping on its own is ours, `error`."""
    ended = cache.read_json(staging / sandbox.EXIT_FILE) or {}
    signum = ended.get("signal") or (-outcome.returncode if outcome.returncode < 0 else None)
    if isinstance(signum, int):
        return "failed", _killed_text(signum, job.options)
    code = ended.get("code")
    if isinstance(code, int) and (staging / sandbox.RUNNING_FILE).exists():
        return "failed", (
            f"the snippet ended its own process (exit code {code}: os._exit or a crash) before "
            "logbuild could collect its output; its figures and any output it had not flushed are lost"
        )
    tail = "\n".join(outcome.stderr.splitlines()[-20:])
    return "error", f"the snippet harness stopped without a manifest (exit code {outcome.returncode})\n{tail}"


def _killed_text(signum: int, options: SnippetOptions) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    text = f"the snippet's process was killed by {name} (out of memory, or a crash in native code?)"
    limit = memory_limit(options)
    if limit is not None:
        text += (
            f"; it ran with a memory limit of {format_size(limit)} "
            f"(`# logbuild: memory={format_size(2 * limit)}` raises it, `memory=none` lifts it)"
        )
    return text


def _error(name: str, source: str, message: str, line: int | None = None) -> SnippetResult:
    now = dt.datetime.now(dt.timezone.utc)
    return SnippetResult(
        name=name,
        key="",
        status="error",
        source=source,
        stdout="",
        stderr="",
        figures=(),
        seconds=0.0,
        ran_at=now,
        from_cache=False,
        traceback=message,
        error_line=line,
    )


def _touch(folder: Path) -> None:
    try:
        os.utime(folder)  # pruning keeps what was used lately
    except OSError:
        pass
