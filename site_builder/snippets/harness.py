"""EXECUTE (child process only): run one snippet as `__main__`, save its figures, write a manifest.

Started as `python -m site_builder.snippets.harness SPEC_JSON` with cwd = the snippet's work folder.
A spec with `cells` (a notebook, or an entry's inline cells) runs them on a Jupyter kernel (kernel.py).
The spec names the snippet file, snippets_dir, the output folder and the options. Matplotlib is
touched only if the snippet imported it, so a numpy-only snippet starts as fast as Python does.
The snippet runs in a forked child under a supervisor that ends its whole process tree (sandbox).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import resource
import runpy
import struct
import sys
import time
import traceback
from types import ModuleType, TracebackType
from typing import Any

from . import sandbox

PYPLOT = "matplotlib.pyplot"


class FigureSaver:
    """Saves every open pyplot figure into `out` as PNG at 2x (and SVG when asked)."""

    def __init__(self, out: str, name: str, svg: bool) -> None:
        self.out, self.name, self.svg = out, name, svg
        self.figures: list[dict[str, Any]] = []

    def save_open_figures(self) -> None:
        plt = sys.modules.get(PYPLOT)
        if plt is None:
            return
        for num in plt.get_fignums():
            self._save(plt.figure(num))
        plt.close("all")

    def _save(self, fig: Any) -> None:
        n = len(self.figures) + 1
        png = f"figure-{n:02d}.png"
        fig.savefig(os.path.join(self.out, png), dpi=fig.dpi * 2, format="png", bbox_inches="tight")
        width, height = _png_size(os.path.join(self.out, png))
        item: dict[str, Any] = {"path": png, "width": round(width / 2), "height": round(height / 2)}
        item["alt"] = _alt_text(fig) or f"Figure {n} of {self.name}"
        item["svg_path"] = None
        if self.svg:
            item["svg_path"] = f"figure-{n:02d}.svg"
            fig.savefig(os.path.join(self.out, item["svg_path"]), format="svg", bbox_inches="tight")
        self.figures.append(item)

    def patch_show(self, pyplot: ModuleType) -> None:
        def show(*args: object, **kwargs: object) -> None:
            self.save_open_figures()

        pyplot.show = show  # type: ignore[attr-defined]


def _png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(24)
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _alt_text(fig: Any) -> str:
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        return str(suptitle.get_text()).strip()
    for ax in fig.get_axes():
        for loc in ("center", "left", "right"):
            title = ax.get_title(loc=loc).strip()
            if title:
                return str(title)
    return ""


class PyplotHook(importlib.abc.MetaPathFinder):
    """Patches `pyplot.show` the moment the snippet imports pyplot, before it can bind `show`."""

    def __init__(self, saver: FigureSaver) -> None:
        self.saver = saver

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PYPLOT:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader, saver = spec.loader, self.saver

        class Loader(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: ModuleType) -> None:
                loader.exec_module(module)
                saver.patch_show(module)

        spec.loader = Loader()
        return spec


def _matches(exc: BaseException, expected: str) -> bool:
    for cls in type(exc).__mro__:
        if expected in (cls.__name__, f"{cls.__module__}.{cls.__qualname__}"):
            return True
    return False


def _snippet_traceback(exc: BaseException, snippet: str, root: str) -> tuple[str, int | None]:
    """The traceback from the snippet's own frame on, with paths relative to the log's root,
    and the line of the snippet it points at (the deepest frame in the snippet file)."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != snippet:
        tb = tb.tb_next
    line = None
    walk = tb
    while walk is not None:
        if walk.tb_frame.f_code.co_filename == snippet:
            line = walk.tb_lineno
        walk = walk.tb_next
    if isinstance(exc, SyntaxError) and exc.filename == snippet:
        line = exc.lineno
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return text.replace(root.rstrip("/") + "/", ""), line


def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run(spec: dict[str, Any]) -> dict[str, Any]:
    snippet, out = spec["snippet"], spec["out"]
    saver = FigureSaver(out, spec["name"], bool(spec.get("svg")))
    if PYPLOT in sys.modules:  # preloaded by a warm zygote (zygote.py)
        saver.patch_show(sys.modules[PYPLOT])
    else:
        sys.meta_path.insert(0, PyplotHook(saver))
    sys.path[0] = spec["snippets_dir"]
    sys.argv = [snippet]
    manifest: dict[str, Any] = {"status": "ok", "traceback": None, "error_line": None, "exc_type": None}
    start = time.perf_counter()
    try:
        with sandbox.snippet_running(out):
            runpy.run_path(snippet, run_name="__main__")
        if spec.get("raises"):
            manifest["status"] = "failed"
            manifest["traceback"] = (
                f"expected the snippet to raise {spec['raises']}, but it finished without raising"
            )
    except BaseException as exc:  # noqa: BLE001 - anything the snippet raises is its result
        if isinstance(exc, SystemExit) and exc.code in (None, 0) and not spec.get("raises"):
            pass
        else:
            expected = bool(spec.get("raises")) and _matches(exc, spec["raises"])
            manifest["status"] = "ok" if expected else "failed"
            manifest["exc_type"] = type(exc).__name__
            manifest["traceback"], manifest["error_line"] = _snippet_traceback(exc, snippet, spec["root"])
            if isinstance(exc, MemoryError) and not expected:
                manifest["traceback"] += _memory_note(spec)
    manifest["seconds"] = time.perf_counter() - start
    try:
        saver.save_open_figures()
    except Exception as exc:  # noqa: BLE001 - a figure that cannot be saved fails the snippet, not us
        manifest["status"] = "failed"
        manifest["traceback"] = "saving the figures failed:\n" + traceback.format_exc()
        if isinstance(exc, MemoryError):
            manifest["traceback"] += _memory_note(spec)
    manifest["figures"] = saver.figures
    manifest["peak_memory_mb"] = _peak_rss_mb()
    return manifest


def _memory_note(spec: dict[str, Any]) -> str:
    """Why a MemoryError happened and what to change, when a limit was in force."""
    note = spec.get("memory_note")
    return f"\n{note}\n" if note else ""


def write_manifest(out: str, manifest: dict[str, Any]) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    tmp = os.path.join(out, "manifest.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    os.replace(tmp, os.path.join(out, "manifest.json"))


def main(argv: list[str], parent: int | None = None) -> int:
    """`parent`: the process whose death ends the run; the spec's (the builder) unless a warm
    zygote forked this process (zygote.py)."""
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    os.environ["MPLBACKEND"] = "Agg"
    sandbox.contain(int(spec["parent"]) if parent is None else parent, spec["out"])  # returns in the child only
    sandbox.limit_memory(spec.get("memory"))
    if spec.get("cells") is None:
        write_manifest(spec["out"], run(spec))
        return 0
    from .kernel import run_cells  # notebooks and inline cells: a Jupyter kernel

    manifest = run_cells(spec)
    manifest["peak_memory_mb"] = max(_peak_rss_mb(), _peak_rss_mb(resource.RUSAGE_CHILDREN))
    write_manifest(spec["out"], manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
