"""CHECK: warnings that look at the whole log at once: links between entries and to files, and
dates (after today, or a declared streak the dates do not give). Pure but for `exists()`."""

from __future__ import annotations

import datetime as dt

from .config import SiteConfig
from .errors import BROKEN_LINK, Diagnostic
from .links import LinkContext
from .model import Entry, RenderedBody
from .streaks import compute_streaks, declared_mismatch


def link_diagnostics(config: SiteConfig, sources: list[tuple[str, int, RenderedBody]]) -> list[Diagnostic]:
    """Relative links to an entry (or page) that is not there, or to a file the site will not have.
    `sources` are (file, line its body starts at, rendered body) of every published entry and page."""
    pages = {path for path, _, _ in sources}
    where = LinkContext("", config.rel_path("entries_dir"), config.rel_path("static_dir"), "")
    out = []
    for path, first_line, body in sources:
        for target, line in body.links:
            at = first_line + line
            if target.endswith(".md"):
                if target not in pages:
                    out.append(Diagnostic(path, at, f"link to {target}, which is not a published entry",
                                          "warning", hint="fix the file name, or link the page's URL",
                                          code=BROKEN_LINK))
            elif not (config.root / target).exists():
                out.append(Diagnostic(path, at, f"link to {target}, which does not exist", "warning",
                                      code=BROKEN_LINK))
            elif where.site_path(target) is None:
                out.append(Diagnostic(path, at, f"link to {target}, outside {where.entries_dir}/ and "
                                      f"{where.static_dir}/, so the site will not have it", "warning",
                                      hint=f"move it into {where.static_dir}/", code=BROKEN_LINK))
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
                out.append(Diagnostic(e.path, e.streak_line or None, mismatch, "warning",
                                      hint="remove 'streak:', logbuild computes it"))
    return out
