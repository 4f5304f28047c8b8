"""IMPORT, the edge: read a log (a file or a folder of day files), write its entries, its About page,
the site title and IMPORT-REVIEW.md, then prove that every line of the log is in a file written.

Nothing is refused for an unsure date (that is a guess, listed for review); `strict` refuses
any log with a guess, as the importer once did, and then writes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import tomllib

from ..config import CONFIG_FILE
from ..errors import Diagnostic, not_utf8
from ..scaffold import ABOUT, toml_value
from ..slugs import is_safe_path
from ..streaks import compute_streaks
from .model import GUESS, STREAK, STRICT_REFUSES, ImportReport, ImportResult, Kept, WriteAction
from .review import REVIEW_NAME, missing_lines, review_text
from .write import about_file_text, entry_file_text, entry_path, replace_file, write_new

STREAK_MATCHES = "import-streak-ok"  # a declared streak its dates agree with: said, never refused


def import_log(source: Path, into: Path, *, dry_run: bool = False, start: dt.date | None = None,
               strict: bool = False, today: dt.date | None = None, pages: Path | None = None,
               root: Path | None = None, streak_rule: str = "daily") -> ImportReport:
    """Read everything, then write: entries into `into`, the About page into `pages` (default: beside
    `into`), the review beside `into`, and the log's title into `root`'s logbuild.toml if it has none."""
    root = root or into.parent
    pages = pages or into.parent / "pages"
    result = _parse(source, start, today or dt.date.today())
    diagnostics = list(result.diagnostics) + _streak_checks(result, streak_rule)
    if strict:
        diagnostics = [dataclasses.replace(d, severity="error") if d.code in STRICT_REFUSES else d for d in diagnostics]
    if any(d.severity == "error" for d in diagnostics):
        return ImportReport(result, (), tuple(diagnostics), False, 0, result.total_lines)
    about = result.about
    title = about.site_title if about and about.site_title and _may_set_title(root) else None
    texts, files, kept = _plan(result, into, pages, title)
    actions = _write_files(texts, files, result.assets, into, dry_run)
    for path, action in actions:
        if action == "exists-skip":
            diagnostics.append(Diagnostic(path.as_posix(), None, "already exists, so it was left as it is", "warning",
                                          "merge the imported text by hand, or move the file away and import again"))
    if title is not None and not dry_run:
        _set_title(root, title)
    # the proof reads back what is on disk now (on a dry run: what would be written)
    on_disk = {key: path.read_text("utf-8", errors="replace") for key, path in files.items() if path.is_file()}
    texts = texts | on_disk if dry_run else on_disk
    if title is not None:
        texts["config"] = title if dry_run else str(_configured_title(root))
    diagnostics.sort(key=lambda d: (d.path, d.line or 0))
    items = [d for d in diagnostics if d.severity == "warning"]
    missing = missing_lines(kept, texts | {"review": review_text(source.as_posix(), items, kept, "")})
    found = result.total_lines - len({(k.path, k.line) for k in missing})
    count = len(result.entries)
    summary = (f"{count} {'entry' if count == 1 else 'entries'}{', an About page' if 'about' in files else ''}; "
               f"kept {found} of {result.total_lines} lines.")
    review_path = into.parent / REVIEW_NAME
    if not dry_run:
        replace_file(review_path, review_text(source.as_posix(), items, kept, summary))
    return ImportReport(result, tuple(actions), tuple(diagnostics), not dry_run, found, result.total_lines,
                        review_path, tuple(missing))


def _write_files(texts: dict[str, str], files: dict[str, Path], assets: tuple[tuple[str, str], ...], into: Path,
                 dry_run: bool) -> list[tuple[Path, WriteAction]]:
    """Every new file, never over an existing one but the About placeholder `init` wrote."""
    fresh_about = "about" in files and _is_untouched_scaffold(files["about"])
    actions = [write_new(files[key], texts[key], dry_run) for key in files if key != "about" or not fresh_about]
    if fresh_about:  # never edited: the log's own intro takes its place
        if not dry_run:
            replace_file(files["about"], texts["about"])
        actions.append((files["about"], "write"))
    for rel, real in assets:  # images beside day files, where the entries' links expect them
        if is_safe_path(rel):
            actions.append(write_new(into / rel, Path(real).read_bytes(), dry_run))
    return actions


def _plan(result: ImportResult, into: Path, pages: Path, title: str | None
          ) -> tuple[dict[str, str], dict[str, Path], tuple[Kept, ...]]:
    """What each file to write will say, where it goes, and where each line of the log went."""
    texts = {f"entry:{e.date.isoformat()}": entry_file_text(e) for e in result.entries}
    files = {f"entry:{e.date.isoformat()}": entry_path(into, e.date) for e in result.entries}
    kept = result.kept
    about = result.about
    if about is not None and (about.body or title is None):
        kept_title = about.title_line is not None and title is None  # then it stays on the page
        texts["about"] = about_file_text(about, keep_title=kept_title)
        files["about"] = _free_about_path(pages, texts["about"])
        if kept_title:
            kept = tuple(dataclasses.replace(k, target="about", expect=(("body", f"# {about.site_title}"),))
                         if k.target == "config" else k for k in kept)
    return texts, files, kept


def _free_about_path(pages: Path, text: str) -> Path:
    """pages/about.md, unless the learner has one of their own: then pages/about-imported.md."""
    own = pages / "about.md"
    if not own.exists() or _is_untouched_scaffold(own) or _holds_text(own, text):
        return own
    return pages / "about-imported.md"


def _is_untouched_scaffold(path: Path) -> bool:
    return _holds_text(path, ABOUT)


def _holds_text(path: Path, text: str) -> bool:
    try:
        return path.read_text("utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _parse(source: Path, start: dt.date | None, today: dt.date) -> ImportResult:
    from .folder import parse_folder
    from .log import parse_log

    if source.is_dir():
        return parse_folder(source, start, today)
    data = source.read_bytes()
    try:
        return parse_log(data.decode("utf-8-sig"), source.as_posix(), start, today)
    except UnicodeDecodeError as exc:
        where = not_utf8(source.as_posix(), data, exc)  # where the first byte that is not UTF-8 is
    result = parse_log(data.decode("latin-1"), source.as_posix(), start, today)
    note = dataclasses.replace(where, severity="warning", message=f"{where.message}: read as Latin-1",
                               hint="check its accented letters; save it as UTF-8", code=GUESS)
    return dataclasses.replace(result, diagnostics=(note, *result.diagnostics))


def _streak_checks(result: ImportResult, rule: str) -> list[Diagnostic]:
    """Each streak the log declares, against the one its dates give (on the day of its last entry)."""
    if not result.entries:
        return []
    days = [e.date for e in result.entries]
    streaks = compute_streaks(days, max(days), rule)
    out = []
    for declared in result.declared:
        computed = streaks.current if declared.kind == "current" else streaks.best
        if computed == declared.days:
            out.append(Diagnostic(declared.path, declared.line, f"declares a {declared.kind} streak of "
                                  f"{declared.days} days, as its dates give", "warning", None, STREAK_MATCHES))
        else:
            out.append(Diagnostic(declared.path, declared.line, f"declares a {declared.kind} streak of "
                                  f"{declared.days} days; its dates give {computed}", "warning",
                                  "the site computes streaks from the dates", STREAK))
    return out


def _may_set_title(root: Path) -> bool:
    """True when the log has no title configured and logbuild.toml can say it (it is there, or
    no other file holds the settings)."""
    own = root / CONFIG_FILE
    if own.is_file():
        try:
            return "title" not in tomllib.loads(own.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False
    return not (root / "pyproject.toml").is_file() or b"[tool.logbuild" not in (root / "pyproject.toml").read_bytes()


def _configured_title(root: Path) -> object:
    try:
        return tomllib.loads((root / CONFIG_FILE).read_text("utf-8")).get("title")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _set_title(root: Path, title: str) -> None:
    """A top-level key goes before any [table]: the first line of the file."""
    own = root / CONFIG_FILE
    old = own.read_text("utf-8") if own.is_file() else ""
    replace_file(own, f"title = {toml_value(title)}  # the first heading of the imported log\n" + old)


__all__ = ["REVIEW_NAME", "import_log"]
