"""CHANGE DETECTION: a cheap stat-based fingerprint of every input, and the small record of the
last build that lets an unchanged build return before importing the rendering stack."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import __version__
from .builds import BuildOptions, BuildReport, SnippetCounts
from .config import SiteConfig, default_theme_dir
from .confine import Walked, walk_tree
from .errors import Diagnostic
from .slugs import is_safe_path
from .streaks import Streaks, today_in


def config_digest(config: SiteConfig) -> str:
    items = sorted((k, str(v)) for k, v in vars(config).items() if k != "root")
    return hashlib.sha1(repr(items).encode()).hexdigest()


def input_fingerprint(config: SiteConfig, options: BuildOptions, today: dt.date, out: Path,
                      data: list[str], entry_files: Walked | None = None) -> str:
    """Digest of (path, inode, mtime, size) of every input plus the options: equal means nothing
    to do. `data` are the files and folders the snippets read (`data=`), as the last build found;
    `entry_files` the walk of entries/ (walk_inputs), if there is one already."""
    opts = dataclasses.replace(options, today=None, out=None)
    parts: list[Any] = [__version__, config_digest(config), repr(opts), today.isoformat(), str(out), sys.version]
    parts.append(_stat_tree(entry_files or walk_inputs(config.root, config.path("entries_dir"))))
    for folder in (config.path("pages_dir"), config.path("snippets_dir"), config.path("templates_dir"),
                   config.path("static_dir")):
        parts.append(_stat_tree(walk_inputs(config.root, folder)))
    parts.append(_stat_tree(walk_inputs(default_theme_dir(), default_theme_dir())))
    parts += [_stat_tree(walk_inputs(config.root, config.root / d)) if (config.root / d).is_dir()
              else _stat(config.root / d) for d in data]
    for name in ("logbuild.toml", "pyproject.toml"):
        parts.append(_stat(config.root / name))
    parts += [_stat(Path(p)) for p in sys.path if "site-packages" in p]  # installs and upgrades
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def walk_inputs(root: Path, folder: Path) -> Walked:
    """The same walk as the build's (confine.walk_confined), of every file the build may read."""
    return walk_tree(root, folder, lambda name: not name.endswith(".pyc"))


def _stat_tree(walked: Walked) -> list[Any]:
    """Links that loop or leave the log are problems to the build, and here simply part of what is compared."""
    files, problems = walked.only()
    return [(f.rel, f.stat) for f in files] + [d.format() for d in problems]


def output_id(out: Path) -> list[int] | None:
    """Identifies the output folder we wrote: replaced, emptied or deleted means rebuild."""
    try:
        st = out.stat()
    except OSError:
        return None
    return [st.st_ino, st.st_mtime_ns]


def _tag(out: Path) -> str:
    """Names the cache's files about one output folder (its record, lock and spare)."""
    return hashlib.sha1(str(out).encode()).hexdigest()[:12]


def _record_name(out: Path) -> str:
    return f"last-build-{_tag(out)}.json"


def lock_path(cache_dir: Path, out: Path) -> Path:
    """The lock that keeps a second build of the same output folder waiting."""
    return cache_dir / "build" / f"lock-{_tag(out)}"


def spare_path(cache_dir: Path, out: Path) -> Path:
    """Where the site's spare folder (output.SiteWriter) lives: in the cache, which git ignores,
    when that is on the site's file system (only there can two folders be exchanged), else beside it."""
    inside = cache_dir / "build" / f"site-{_tag(out)}"
    try:
        inside.parent.mkdir(parents=True, exist_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        if os.stat(inside.parent).st_dev == os.stat(out.parent).st_dev:
            return inside
    except OSError:
        pass
    return out.parent / f".{out.name}.staging"


def forget_output(cache_dir: Path, out: Path) -> None:
    """Drop what builds into `out` left in the cache (state, record, lock, spare folder): for an
    output folder that is thrown away, such as publish's, they would only pile up."""
    folder = cache_dir / "build"
    for path in folder.glob(f"*{_tag(out)}*") if folder.is_dir() else []:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def read_record(cache_dir: Path, out: Path) -> dict[str, Any]:
    """The last build's record, or {} (no record) when it is missing or not of the shape
    build_site writes: the cache is restored from CI, so a damaged one is no reason to fail."""
    try:
        data = json.loads((cache_dir / "build" / _record_name(out)).read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if _is_record(data) else {}


def _is_record(data: object) -> bool:
    """{"dirty": true}, or {"fingerprint", "out_id", "summary"} with every field of its type."""
    if not isinstance(data, dict) or not set(data) <= {"dirty", "fingerprint", "out_id", "summary", "data"}:
        return False
    if not (isinstance(data.get("data", []), list) and all(isinstance(d, str) and is_safe_path(d)
                                                           for d in data.get("data", []))):
        return False
    out_id = data.get("out_id")
    return (isinstance(data.get("dirty", False), bool) and isinstance(data.get("fingerprint", ""), str)
            and (out_id is None or (isinstance(out_id, list) and len(out_id) == 2 and all(map(_is_int, out_id))))
            and (_is_summary(data["summary"]) if "summary" in data else not data.get("fingerprint")))


def _is_summary(summary: object) -> bool:
    return (isinstance(summary, dict) and set(summary) == {"pages", "entries", "snippets", "streaks", "warnings"}
            and all(_is_int(summary[k]) for k in ("pages", "entries", "snippets"))
            and _is_streaks(summary["streaks"]) and isinstance(summary["warnings"], list)
            and all(map(_is_warning, summary["warnings"])))


def warnings_json(diagnostics: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    """The warnings of a clean build, kept so that a build that finds nothing changed repeats them."""
    return [{"path": d.path, "line": d.line, "message": d.message, "hint": d.hint, "code": d.code}
            for d in diagnostics if d.severity == "warning"]


def _is_warning(data: object) -> bool:
    return (isinstance(data, dict) and set(data) == {"path", "line", "message", "hint", "code"}
            and all(isinstance(data[k], str) for k in ("path", "message", "code"))
            and (data["line"] is None or _is_int(data["line"])) and isinstance(data["hint"], (str, type(None))))


def _is_streaks(data: object) -> bool:
    """What streaks_json wrote: each field of Streaks but `counts`, a date as ISO text."""
    kinds = {f.name: str(f.type) for f in dataclasses.fields(Streaks) if f.name != "counts"}
    return isinstance(data, dict) and set(data) == set(kinds) and all(
        (v is None and "None" in kinds[k]) or (_is_day(v) if "date" in kinds[k] else _is_int(v))
        for k, v in data.items())


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_day(value: object) -> bool:
    try:
        return isinstance(value, str) and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


def write_record(cache_dir: Path, out: Path, record: dict[str, Any]) -> None:
    folder = cache_dir / "build"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{_record_name(out)}.{os.getpid()}"
        tmp.write_text(json.dumps(record), "utf-8")
        os.replace(tmp, folder / _record_name(out))
    except OSError:  # a read-only cache costs speed next time, nothing else
        pass


def is_unchanged(record: dict[str, Any], fingerprint: str, out: Path) -> bool:
    return (bool(record.get("fingerprint")) and record["fingerprint"] == fingerprint
            and not record.get("dirty") and record.get("out_id") == output_id(out))


def resolve_today(config: SiteConfig, today: dt.date | None = None) -> dt.date:
    """The learner's today: an explicit date, else SOURCE_DATE_EPOCH, else the clock (the edge)."""
    if today is not None:
        return today
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return today_in(now, config.timezone, config.day_ends_at)


def output_dir(config: SiteConfig, options: BuildOptions) -> Path:
    return (options.out or config.path("output_dir")).resolve()


def with_base_url(config: SiteConfig, options: BuildOptions) -> SiteConfig:
    if not options.base_url:
        return config
    url = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
    return replace(config, base_url=url)


@dataclass(frozen=True)
class Freshness:
    """Whether a build has anything to do: `report` is the last build's when nothing changed."""

    fingerprint: str
    report: BuildReport | None
    entry_files: Walked | None = None  # the walk of entries/ it made: the build reads the entries it found


def freshness(config: SiteConfig, options: BuildOptions) -> Freshness:
    """Light on purpose: the CLI asks this before importing the rendering stack."""
    started = time.perf_counter()
    config = with_base_url(config, options)
    out = output_dir(config, options)
    record = read_record(config.path("cache_dir"), out)
    entry_files = walk_inputs(config.root, config.path("entries_dir"))
    fingerprint = input_fingerprint(config, options, resolve_today(config, options.today), out,
                                    record.get("data", []), entry_files)
    if not is_unchanged(record, fingerprint, out):
        return Freshness(fingerprint, None, entry_files)
    summary = record["summary"]
    return Freshness(fingerprint, BuildReport(
        pages=summary["pages"], pages_written=0, entries=summary["entries"],
        seconds=time.perf_counter() - started, streaks=streaks_from_json(summary["streaks"]),
        snippets=SnippetCounts(cached=summary["snippets"]), snippet_results=(), output_dir=str(out),
        diagnostics=tuple(Diagnostic(w["path"], w["line"], w["message"], "warning", w["hint"], w["code"])
                          for w in summary["warnings"]),
    ))


def streaks_json(s: Streaks) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in vars(s).items() if k != "counts"}


def streaks_from_json(data: dict[str, Any]) -> Streaks:
    def day(v: Any) -> Any:
        return dt.date.fromisoformat(v) if isinstance(v, str) else v

    return Streaks(**{k: day(v) for k, v in data.items()}, counts=())
