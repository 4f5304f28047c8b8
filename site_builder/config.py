"""CONFIGURE: read `logbuild.toml` or `[tool.logbuild]` of `pyproject.toml` into a frozen SiteConfig.

Every wrong key or type is collected as a Diagnostic naming the key and its line.
"""

from __future__ import annotations

import re
import sys
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Diagnostic, did_you_mean, not_utf8

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "logbuild.toml"
STREAK_RULES = ("daily", "never-miss-twice")


@dataclass(frozen=True)
class SiteConfig:
    """Settings of one log. Paths are relative to `root` unless absolute."""

    root: Path = Path(".")
    title: str = "Learning log"
    author: str = ""
    description: str = "What I learn, one day at a time."
    base_url: str = "/"
    use_directory_urls: bool = True
    language: str = "en"
    timezone: str = "UTC"
    day_ends_at: int = 0
    streak_rule: str = "daily"
    challenge_days: int = 0
    entries_per_page: int = 10
    entries_dir: str = "entries"
    pages_dir: str = "pages"
    snippets_dir: str = "snippets"
    templates_dir: str = "templates"
    static_dir: str = "static"
    output_dir: str = "site"
    cache_dir: str = ".logbuild"
    snippet_timeout: float = 600.0
    jobs: int = 0
    cname: str = ""
    repo_url: str = ""
    snippet_env: dict[str, str] = field(default_factory=dict)
    source: str = ""  # the file the settings came from, "" for defaults

    def path(self, name: str) -> Path:
        """An absolute path for one of the *_dir settings."""
        p = Path(getattr(self, name))
        return p if p.is_absolute() else self.root / p

    def rel_path(self, name: str) -> str:
        """A *_dir setting as a POSIX path relative to the root (as written when outside it)."""
        path = self.path(name).resolve()
        try:
            return path.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    @property
    def base_path(self) -> str:
        """The path part of base_url ("/repo/"), for pages served at any depth (404)."""
        m = re.match(r"^[a-z][a-z0-9+.-]*://[^/]*(/.*)?$", self.base_url, re.IGNORECASE)
        path = (m.group(1) or "/") if m else self.base_url
        return path if path.endswith("/") else path + "/"


# key -> (accepted types, description); README's configuration table mirrors this.
KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "title": ((str,), "site title, shown in the header and the feed"),
    "author": ((str,), "your name, for the feed and the footer"),
    "description": ((str,), "one line under the title; also the meta description"),
    "base_url": ((str,), "where the site is published, e.g. https://you.github.io/log/"),
    "use_directory_urls": ((bool,), "false links page/index.html files, so the site also works opened from disk"),
    "language": ((str,), "the pages' lang attribute"),
    "timezone": ((str,), "IANA time zone that decides what 'today' is, e.g. Asia/Manila"),
    "day_ends_at": ((int,), "hour (0-23) at which your day ends: 4 lets 00:44 count for the evening before"),
    "streak_rule": ((str,), "'daily' (miss a day, lose the streak) or 'never-miss-twice'"),
    "challenge_days": ((int,), "length of a challenge such as 100 for '#100DaysOfCode'; 0 for none"),
    "entries_per_page": ((int,), "entries on each page of the home list"),
    "entries_dir": ((str,), "folder of dated Markdown entries"),
    "pages_dir": ((str,), "folder of undated pages (pages/about.md becomes /about/)"),
    "snippets_dir": ((str,), "folder of Python snippets"),
    "templates_dir": ((str,), "folder whose templates override the default theme's"),
    "static_dir": ((str,), "folder copied as-is into the site"),
    "output_dir": ((str,), "where the site is written"),
    "cache_dir": ((str,), "where snippet outputs and build state are kept"),
    "snippet_timeout": ((int, float), "seconds a snippet may run before it is killed"),
    "jobs": ((int,), "snippets run at once; 0 means one per core"),
    "cname": ((str,), "custom domain written to CNAME when publishing"),
    "repo_url": ((str,), "the log's repository, linked from each page"),
    "snippet_env": ((dict,), "environment variables given to every snippet (part of the cache key)"),
}


def default_theme_dir() -> Path:
    """The theme shipped in the wheel (site_builder/theme), or the repo's templates/ in a checkout."""
    packaged = Path(__file__).parent / "theme"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"


def find_config_file(root: Path) -> Path | None:
    """`logbuild.toml` wins; else `pyproject.toml` if it has a [tool.logbuild] table."""
    own = root / CONFIG_FILE
    if own.is_file():
        return own
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and re.search(rb"^\[tool\.logbuild(\.|\])", _read(pyproject), re.MULTILINE):
        return pyproject  # found in the bytes: a file that is not UTF-8 is reported when it is read
    return None


def find_log_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` with the log's configuration, as git finds `.git`
    and MkDocs `mkdocs.yml`: a command run in `entries/` works on the whole log."""
    start = start.resolve()
    return next((folder for folder in (start, *start.parents) if find_config_file(folder) is not None), None)


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> tuple[SiteConfig, list[Diagnostic]]:
    """Read the configuration under `root`; return it with every problem found."""
    root = root.resolve()
    file = find_config_file(root)
    diagnostics: list[Diagnostic] = []
    raw: dict[str, Any] = {}
    source = ""
    if file is not None:
        source = file.name
        text, unreadable = _read_text(file)
        if unreadable is not None:
            return SiteConfig(root=root), [unreadable]
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = _toml_error_line(str(exc))
            return SiteConfig(root=root), [Diagnostic(source, line, f"invalid TOML: {exc}")]
        raw = data if file.name == CONFIG_FILE else data.get("tool", {}).get("logbuild", {})
        if file.name != CONFIG_FILE:  # look up key lines inside [tool.logbuild] only, not [project]
            table = re.search(r"^\[tool\.logbuild\][ \t]*$", text, re.MULTILINE)
            text = re.sub(r"[^\n]", "", text[: table.start()]) + text[table.start() :] if table else text
        diagnostics += _validate(raw, source, text)
    values = {k: v for k, v in raw.items() if k in KEYS and _type_ok(k, v)}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    values = _normalise(values, source, text if file else "", diagnostics)
    config = SiteConfig(root=root, source=source, **values)
    if "entries_dir" in raw and "entries_dir" in values and not config.path("entries_dir").is_dir():
        diagnostics.append(Diagnostic(source, _key_line(text, "entries_dir"), f"entries_dir '{config.entries_dir}' "
                                      "is not a folder", hint="create it, or fix the setting"))
    return config, diagnostics


def _read_text(file: Path) -> tuple[str, Diagnostic | None]:
    """The file's text, or why there is none (unreadable, not UTF-8) as a Diagnostic."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        return "", Diagnostic(file.name, None, f"cannot read this file: {exc.strerror}")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return "", not_utf8(file.name, data, exc)


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError:  # an unreadable pyproject.toml is not taken for ours
        return b""


def _validate(raw: dict[str, Any], source: str, text: str) -> list[Diagnostic]:
    out = []
    for key, value in raw.items():
        line = _key_line(text, key)
        if key not in KEYS:
            out.append(Diagnostic(source, line, f"unknown setting '{key}'", hint=did_you_mean(key, KEYS)))
        elif not _type_ok(key, value):
            types = KEYS[key][0]
            want = "a number" if types == (int, float) else " or ".join(_TYPE_NAMES[t] for t in types)
            got = "a decimal number" if isinstance(value, float) else _TYPE_NAMES.get(type(value), type(value).__name__)
            out.append(Diagnostic(source, line, f"'{key}' must be {want}, not {got}"))
    return out


_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
               dict: "a table", list: "a list"}


def _type_ok(key: str, value: Any) -> bool:
    types = KEYS[key][0]
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _normalise(values: dict[str, Any], source: str, text: str, out: list[Diagnostic]) -> dict[str, Any]:
    def bad(key: str, message: str, hint: str | None = None) -> None:
        out.append(Diagnostic(source or "configuration", _key_line(text, key), message, hint=hint))
        values.pop(key, None)

    if "timezone" in values:
        try:
            zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            bad("timezone", f"unknown time zone '{values['timezone']}'", "use an IANA name such as 'Europe/Berlin'")
    if "streak_rule" in values and values["streak_rule"] not in STREAK_RULES:
        bad("streak_rule", f"streak_rule must be one of {', '.join(STREAK_RULES)}")
    if "day_ends_at" in values and not 0 <= values["day_ends_at"] <= 23:
        bad("day_ends_at", "day_ends_at must be an hour from 0 to 23")
    if "entries_per_page" in values and values["entries_per_page"] < 1:
        bad("entries_per_page", "entries_per_page must be at least 1")
    if "challenge_days" in values and values["challenge_days"] < 0:
        bad("challenge_days", "challenge_days must be 0 (none) or more")
    if "snippet_timeout" in values and values["snippet_timeout"] <= 0:
        bad("snippet_timeout", "snippet_timeout must be more than 0 seconds")
    if "base_url" in values and not values["base_url"].endswith("/"):
        values["base_url"] += "/"
    if "snippet_env" in values:
        values["snippet_env"] = {str(k): str(v) for k, v in values["snippet_env"].items()}
    if values.get("cname") and url_host(values.get("base_url", "/")) not in (None, values["cname"].lower()):
        out.append(Diagnostic(source or "configuration", _key_line(text, "cname"),
                              f"cname '{values['cname']}' is not the host of base_url '{values['base_url']}'; "
                              "the pages, feed and sitemap link base_url", "warning",
                              hint=f"set base_url = \"https://{values['cname']}/\", or drop cname"))
    return values


def url_host(url: str) -> str | None:
    """The host of an absolute URL, lowercase; None for a path such as "/" or "/log/"."""
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]*)", url, re.IGNORECASE)
    return m.group(1).lower() if m else None


def relative_base_url_note(config: SiteConfig) -> str | None:
    """Said once per build while base_url is a path: pages link each other relatively and work at
    any address, but a feed and a sitemap need the site's full URL."""
    if url_host(config.base_url):
        return None
    return (f"Note: base_url is '{config.base_url}', so the feed and sitemap have no full URLs (their ids and "
            "links are paths); set base_url to where the site lives, e.g. https://you.github.io/log/, or pass "
            "--base-url (the Pages workflow does). The pages themselves work at any address.")


def _key_line(text: str, key: str) -> int | None:
    m = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _toml_error_line(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None
