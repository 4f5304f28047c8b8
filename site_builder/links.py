"""LINKS: relative links in an entry, as MkDocs and Hugo users write them (pure).

`[yesterday](2018-09-14.md)` points at another entry's file: it becomes that entry's page.
`![plot](images/plot.png)` points at a file beside the entries: the file is copied into the site
(entries/... keeps its place under `entries/`, static/... goes to the site root) and the URL is
rewritten to work from the entry's page. Every such target is returned with its line, so the
build can report the broken ones as `file:line`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

ENTRY_LINK = "logbuild-entry:"  # placeholder for a link to another entry, resolved when pages are planned
_ENTRY_LINK_RE = re.compile(r'logbuild-entry:([^"#?]*)')
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass(frozen=True)
class LinkContext:
    """Where an entry file sits (and its body in it) and where its page will be, all POSIX paths
    relative to the root."""

    source: str  # "entries/2018-09-15.md"
    entries_dir: str  # "entries"
    static_dir: str  # "static"
    page_dir: str  # "entries/2018-09-15/"
    body_first_line: int = 1  # the line of the file where the Markdown body starts

    def rewrite(self, url: str) -> tuple[str, str | None]:
        """(URL to write in the page, the project file it points at or None for external links)."""
        if not url or _SCHEME.match(url) or url.startswith(("/", "#", "//")):
            return url, None
        cut = min((i for i in (url.find("#"), url.find("?")) if i >= 0), default=len(url))
        path, rest = unquote(url[:cut]), url[cut:]
        if not path:
            return url, None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.source), path))
        if target.endswith(".md"):
            return ENTRY_LINK + target + rest, target
        site_path = self.site_path(target)
        if site_path is None:
            return url, target
        relative = posixpath.relpath(site_path, self.page_dir.rstrip("/") or ".")
        return quote(relative) + ("/" if path.endswith("/") else "") + rest, target

    def site_path(self, target: str) -> str | None:
        """Where a project file is copied in the site, if it is one we copy."""
        for folder, prefix in ((self.entries_dir, "entries/"), (self.static_dir, "")):
            if target.startswith(folder.rstrip("/") + "/"):
                return prefix + target[len(folder.rstrip("/")) + 1 :]
        return None


def entry_link_targets(html: str) -> list[str]:
    return _ENTRY_LINK_RE.findall(html)


def resolve_entry_links(html: str, url_of: Callable[[str], str | None]) -> str:
    """Replace entry-link placeholders; `url_of(path)` gives the page URL, None when there is none."""
    if ENTRY_LINK not in html:
        return html
    return _ENTRY_LINK_RE.sub(lambda m: url_of(m.group(1)) or "#missing-entry", html)


# -- use_directory_urls = false: a site that works opened from disk (file://) --------------------
_FOLDER_HREF = re.compile(r'(\s(?:href|xlink:href)=")([^"]*)(")')


def file_url(url: str) -> str:
    """`entries/x/` -> `entries/x/index.html`: a browser shows a folder's listing, not its
    index.html, when the site is opened from disk. Other URLs are kept as they are."""
    if _SCHEME.match(url) or url.startswith(("/", "#")):
        return url
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    path, rest = url[:cut], url[cut:]
    if (rest and not path) or (path and not path.endswith("/") and path.rsplit("/", 1)[-1] not in (".", "..")):
        return url
    folder = path if path.endswith("/") or not path else path + "/"
    return ("" if folder == "./" else folder) + "index.html" + rest


def with_file_urls(html: str) -> str:
    """Every relative link to a folder in a rendered page, pointed at its index.html."""
    return _FOLDER_HREF.sub(lambda m: m.group(1) + file_url(m.group(2)) + m.group(3), html)
