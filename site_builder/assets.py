"""ASSETS: the files a site has besides its pages, copied as they are: the theme's static files,
Pygments' styles, snippet figures, the log's own static/ folder and the images beside its entries.
Each is confined to the log (confine.py): a link out of it is a problem, never a copy."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .config import SiteConfig
from .confine import walk_confined
from .errors import Diagnostic
from .model import SnippetResult
from .output import OutputFile


def static_files(config: SiteConfig, theme_dirs: Iterable[Path], results: Iterable[SnippetResult]
                 ) -> tuple[list[OutputFile], list[Diagnostic]]:
    """Theme assets, Pygments styles, snippet figures, the log's own static/ folder, .nojekyll;
    and the links among the log's files that may not be published."""
    from .markdown import pygments_css
    from .snippet_view import figure_url

    files = [OutputFile.of_bytes("static/pygments.css", pygments_css().encode()),
             OutputFile.of_bytes(".nojekyll", b"")]
    if config.cname:
        files.append(OutputFile.of_bytes("CNAME", config.cname.encode() + b"\n"))
    problems: list[Diagnostic] = []
    everything: Callable[[str], bool] | None = None
    folders = [(folder, folder, "static/", everything) for folder in theme_dirs]
    folders += [(config.root, config.path("static_dir"), "", None),
                # images and files that entries link to, kept in place under entries/
                (config.root, config.path("entries_dir"), "entries/", lambda name: not name.endswith(".md"))]
    for root, folder, prefix, keep in folders:
        found, refused = walk_confined(root, folder, keep)
        files += [OutputFile(prefix + f.rel, source=Path(f.path), digest=":".join(map(str, f.stat))) for f in found]
        problems += refused
    for r in results:
        if r.output_dir:
            for f in r.figures:
                for rel in filter(None, (f.path, f.svg_path)):
                    files.append(OutputFile(figure_url(r, rel), source=Path(r.output_dir) / rel,
                                            digest=f"{r.key}:{rel}"))
    by_path = {f.path: f for f in files}  # a log's own file wins over the theme's
    return list(by_path.values()), problems
