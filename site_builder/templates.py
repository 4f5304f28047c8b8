"""THEME: the Jinja2 environment (a log's own templates/ over the default theme), filters, and
template digests so a page is re-rendered when a template it uses changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import traceback
from collections.abc import Callable, Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from .config import default_theme_dir
from .confine import refused_target
from .errors import Diagnostic, not_utf8
from .markdown import PLACEHOLDER_RE
from .model import CELLS_PREFIX
from .snippet_view import notebook_links


class TemplateInputError(jinja2.TemplateError):
    """A template file that must not or cannot be read, as the Diagnostic to report."""

    def __init__(self, problem: Diagnostic):
        super().__init__(problem.message)
        self.problem = problem


class _ConfinedLoader(jinja2.FileSystemLoader):
    """The log's templates/ over the theme, by Jinja's rules, and by confine's rule for links:
    a template that is a link out of the log is refused (its target would be in every page)."""

    def __init__(self, dirs: list[Path], root: Path):
        super().__init__([str(d) for d in dirs])
        self.dirs, self.root = dirs, root

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            path = self._find(template)
            raise TemplateInputError(not_utf8(_rel(path, self.root), path.read_bytes(), exc)) from None
        if os.path.realpath(filename) != os.path.abspath(filename):
            folder = next(d for d in self.dirs if Path(filename).is_relative_to(d))
            refused = refused_target(self.root, folder, filename, _rel(Path(filename), self.root))
            if refused is not None:
                raise TemplateInputError(refused)
        return source, filename, uptodate

    def _find(self, template: str) -> Path:
        return next(d / template for d in self.dirs if (d / template).is_file())


class Theme:
    """Template lookup and rendering for one build."""

    def __init__(self, user_dir: Path | None, root: Path, bytecode_dir: Path | None = None):
        self.dirs = [d for d in (user_dir, default_theme_dir()) if d is not None and d.is_dir()]
        self.root = root
        self.user_label = _rel(user_dir, root) + "/" if user_dir is not None else "templates/"
        bytecode = None
        if bytecode_dir is not None:
            try:
                bytecode_dir.mkdir(parents=True, exist_ok=True)
                bytecode = jinja2.FileSystemBytecodeCache(str(bytecode_dir))
            except OSError:
                pass
        self.env = jinja2.Environment(
            # a build renders with the templates as they were when it began (digest_all keys its
            # pages so; the next build has a Theme of its own): not an mtime check of each of a
            # page's templates for every page it renders, 6 stats a page
            auto_reload=False,
            bytecode_cache=bytecode,
            loader=_ConfinedLoader(self.dirs, root),
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(isodate=_isodate, longdate=_longdate, with_snippets=_with_snippets,
                                plural=_plural, notebook_links=notebook_links)

    def source_path(self, name: str) -> Path | None:
        for d in self.dirs:
            if (d / name).is_file():
                return d / name
        return None

    @cached_property
    def static_dirs(self) -> list[Path]:
        """Theme static folders, the default's first so a log's own files win."""
        return [d / "static" for d in reversed(self.dirs) if (d / "static").is_dir()]

    @cached_property
    def digest_all(self) -> str:
        """sha1 over every template of the theme and the log's templates/: any template change
        re-renders every page (a filter can load a partial that no `{% include %}` names)."""
        h = hashlib.sha1()
        for folder in self.dirs:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "static" not in path.relative_to(folder).parts[:1]:
                    try:  # only hashed: a template rendering may not read is reported by render()
                        data = path.read_bytes()
                    except OSError:
                        data = b""
                    h.update(f"{path.relative_to(folder).as_posix()}\0".encode() + data + b"\0")
        return h.hexdigest()

    def render(self, name: str, context: Mapping[str, Any]) -> tuple[str | None, Diagnostic | None]:
        """Render, turning template mistakes into a Diagnostic at the template's file:line."""
        try:
            return self.env.get_template(name).render(context), None
        except jinja2.TemplateSyntaxError as exc:
            return None, Diagnostic(self._rel(exc.filename, name), exc.lineno, f"template error: {exc.message}")
        except jinja2.TemplateNotFound as exc:  # an {% include %} or {% extends %}: name where it stands
            path, line = self._template_frame(exc)
            return None, Diagnostic(path or name, line, f"template '{exc.name}' not found in {self.user_label} or "
                                    "the default theme", hint="fix the name, or add the file")
        except TemplateInputError as exc:
            return None, exc.problem
        except Exception as exc:  # noqa: BLE001 -- an error raised while rendering: point at the template line
            path, line = self._template_frame(exc)
            return None, Diagnostic(path or name, line, f"template error: {type(exc).__name__}: {exc}")

    def _template_frame(self, exc: BaseException) -> tuple[str | None, int | None]:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith((".html", ".xml")):
                return self._rel(frame.filename, None), frame.lineno
        return None, None

    def _rel(self, filename: str | None, fallback: str | None) -> str:
        if not filename:
            return fallback or "templates"
        path = Path(filename)
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


def _rel(path: Path, root: Path) -> str:
    """A folder or file as the user names it: relative to the root when it is inside."""
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.as_posix()


def _isodate(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return aware.isoformat(timespec="seconds")
    return value.isoformat()


def _longdate(value: dt.date) -> str:
    # only a plain date is cached: two aware times in different zones are equal, yet their days differ
    return _day_long(value) if type(value) is dt.date else f"{value.day} {value:%B %Y}"


@lru_cache(maxsize=1 << 14)  # lists show each day again and again (5 times at 5,000 entries)
def _day_long(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@jinja2.pass_context
def _with_snippets(ctx: jinja2.runtime.Context, html: str, views: Mapping[str, Any], root: str) -> Markup:
    """Put each snippet's rendered output where its ```{snippet} directive stood, and each inline
    cell's outputs under the cell (`@N` is the entry's N-th cell)."""
    partial = ctx.environment.get_template("_snippet.html")
    site = ctx.get("site")

    def replace(match: re.Match[str]) -> str:
        if match.group(1).startswith("@"):
            return _cell_outputs(ctx.environment, match.group(1)[1:], views, root)
        view = views.get(match.group(1))
        if view is None:
            return str(Markup('<p class="snippet-missing">Snippet <code>{}</code> has no output yet.</p>')
                       .format(match.group(1)))
        return partial.render(snippet=view, root=root, site=site)

    return Markup(PLACEHOLDER_RE.sub(replace, str(html)))


def _cell_outputs(env: jinja2.Environment, index: str, views: Mapping[str, Any], root: str) -> str:
    cells = next((v for name, v in views.items() if name.startswith(CELLS_PREFIX)), None)
    if cells is None:
        return str(Markup('<p class="snippet-missing">This cell has no output yet.</p>'))
    if "by_index" not in cells:  # the cells could not run at all: say why, at the first one
        return env.get_template("_snippet.html").render(snippet=cells, root=root) if index == "0" else ""
    cell = cells["by_index"].get(index)
    if cell is None:
        return ""
    head = str(Markup('<div class="snippet-out traceback"><p class="out-label">Could not run</p><pre>{}</pre></div>')
               .format(cells["message"])) if cells["message"] and index == "0" else ""
    return head + env.get_template("_cell.html").render(c=cell, root=root, with_input=False)


__all__ = ["Theme", "default_theme_dir", "escape"]
