"""EXECUTE (child process only): run a notebook's code cells, or an entry's inline cells, in order
on one real Jupyter kernel (nbclient + ipykernel), and keep what each cell put out.

The harness calls `run_cells` inside the sandbox, so the kernel is a descendant of the supervisor:
a timeout, a failure or the builder's death ends it with the rest of the tree. nbclient, nbformat
and the kernel's libraries are imported here only, never in the builder.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import struct
import time
from typing import Any

from . import sandbox

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
STARTUP_TIMEOUT = 60  # seconds a kernel may take to start
OUTPUT_TEXT_LIMIT = 1024 * 1024  # characters kept of one output
OUTPUTS_LIMIT = 200  # outputs kept per cell
MIME_ORDER = ("text/html", "image/svg+xml", "image/png", "text/markdown", "text/plain")
MIME_KIND = {"text/html": "html", "image/svg+xml": "svg", "image/png": "image", "text/markdown": "markdown",
             "text/plain": "text"}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")


SETUP_FILE = "kernel_setup.py"
# Unix sockets named relative to the run's private folder (the kernel's cwd too), not TCP ports:
# jupyter_client picks free ports, closes them and the kernel binds them later, so two kernels
# starting at once (jobs=2) could take the same one and one died before replying to kernel_info.
# A relative name also stays within the 107 bytes a socket path may have, however deep the log.
KERNEL_TRANSPORT = {"KernelManager": {"transport": "ipc", "ip": "kernel"}}


def setup_code(snippets_dir: str) -> str:
    """Run by the kernel as it starts (unseen, no execution count): local modules import as they do
    for a .py snippet; figures come at 2x, with their size in CSS pixels."""
    return (
        f"import sys as _logbuild_sys\n_logbuild_sys.path.insert(0, {snippets_dir!r})\ndel _logbuild_sys\n"
        "try:\n    get_ipython().run_line_magic('config', \"InlineBackend.figure_formats = ['retina']\")\n"
        "except Exception:\n    pass\n"
    )


def run_cells(spec: dict[str, Any]) -> dict[str, Any]:
    """Execute spec["cells"] ({source, raises, timeout}) on spec["kernel"]; the manifest."""
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.abspath("jupyter-runtime")  # connection files die with the work folder
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbformat import v4
    from traitlets.config import Config

    cells = [v4.new_code_cell(c["source"], metadata={"tags": ["raises-exception"] if c["raises"] else []})  # type: ignore[no-untyped-call]
             for c in spec["cells"]]
    nb = v4.new_notebook(cells=cells)  # type: ignore[no-untyped-call]
    setup = os.path.join(spec["out"], SETUP_FILE)
    with open(setup, "w", encoding="utf-8") as f:
        f.write(setup_code(spec["snippets_dir"]))
    client = NotebookClient(nb, config=Config(KERNEL_TRANSPORT), kernel_name=spec["kernel"], startup_timeout=STARTUP_TIMEOUT,
                            shutdown_kernel="immediate", resources={"metadata": {"path": os.getcwd()}},
                            extra_arguments=[f"--IPKernelApp.exec_files={json.dumps([setup])}"])
    saver = OutputSaver(spec["out"], spec["name"], [c.get("alt", "") for c in spec["cells"]])
    manifest: dict[str, Any] = {"status": "ok", "traceback": None, "error_line": None, "error_cell": None}
    start = time.perf_counter()
    done = 0
    with sandbox.snippet_running(spec["out"]):
        try:
            with client.setup_kernel():
                for i, cell in enumerate(cells):
                    client.timeout = math.ceil(spec["cells"][i]["timeout"])
                    done = i + 1
                    try:
                        client.execute_cell(cell, i)
                    except CellTimeoutError:
                        _fail(manifest, "timeout", i, f"cell {i + 1} ran past its time limit of "
                              f"{client.timeout} s (raise it with `# logbuild: timeout=N`)", None)
                        break
                    except CellExecutionError:
                        text, line = _error_of(cell.outputs)
                        if "MemoryError" in text and spec.get("memory_note"):
                            text += f"\n{spec['memory_note']}\n"  # which limit, and how to raise it
                        _fail(manifest, "failed", i, text, line)
                        break
        except NoSuchKernel as exc:
            _fail(manifest, "error", None, f"no Jupyter kernel named {spec['kernel']!r} is installed ({exc}); "
                  "install it, or name an installed one in the notebook's kernelspec", None)
        except DeadKernelError:
            _fail(manifest, "failed", max(0, done - 1), "the kernel died while running this cell "
                  "(out of memory, os._exit or a crash in native code?)", None)
        except RuntimeError as exc:  # nbclient: the kernel did not start in time
            _fail(manifest, "error", None, f"the Jupyter kernel {spec['kernel']!r} did not start: {exc}", None)
    manifest["seconds"] = time.perf_counter() - start
    manifest["outputs"] = [saver.outputs(cell.get("outputs", [])) for cell in cells[:done]]
    manifest["figures"] = saver.figures
    return manifest


def _fail(manifest: dict[str, Any], status: str, cell: int | None, text: str, line: int | None) -> None:
    manifest.update(status=status, error_cell=cell, traceback=text, error_line=line)


def _error_of(outputs: list[Any]) -> tuple[str, int | None]:
    """The traceback of a cell's error output as plain text, and the line of the cell it points at."""
    for out in outputs:
        if out.get("output_type") == "error":
            text = ANSI.sub("", "\n".join(out.get("traceback") or [f"{out.get('ename')}: {out.get('evalue')}"]))
            m = CELL_LINE.search(text)
            return text, int(m.group(1)) if m else None
    return "the cell failed without an error output", None


class OutputSaver:
    """Turns nbformat outputs into the manifest's plain records; images become figure files."""

    def __init__(self, out: str, name: str, alts: list[str]) -> None:
        self.out, self.name, self.alts = out, name, alts
        self.figures: list[dict[str, Any]] = []
        self.cell = 0

    def outputs(self, raw: list[Any]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for item in raw[:OUTPUTS_LIMIT]:
            record = self._record(item)
            if record is None:
                continue
            last = records[-1] if records else None
            if last and record["kind"] == "stream" == last["kind"] and record["name"] == last["name"]:
                last["text"] = _bounded(last["text"] + record["text"])
            else:
                records.append(record)
        self.cell += 1
        return records

    def _record(self, item: Any) -> dict[str, Any] | None:
        kind = item.get("output_type")
        if kind == "stream":
            return {"kind": "stream", "name": str(item.get("name", "stdout")), "text": _bounded(_text(item.get("text")))}
        if kind == "error":
            text = "\n".join(str(t) for t in item.get("traceback") or [])
            return {"kind": "error", "name": str(item.get("ename", "")), "text": _bounded(text)}
        if kind not in ("display_data", "execute_result"):
            return None
        data = item.get("data") or {}
        for mime in MIME_ORDER:
            if mime in data:
                if mime == "image/png":
                    figure = self._save_png(data[mime], item.get("metadata", {}).get(mime) or item.get("metadata", {}))
                    if figure is not None:
                        return {"kind": "image", "figure": figure}
                    continue
                return {"kind": MIME_KIND[mime], "text": _bounded(_text(data[mime]))}
        return None

    def _save_png(self, encoded: Any, meta: Any) -> int | None:
        try:
            data = base64.b64decode(_text(encoded), validate=False)
        except (binascii.Error, ValueError):
            return None
        if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
            return None
        n = len(self.figures) + 1
        path = f"figure-{n:02d}.png"
        with open(os.path.join(self.out, path), "wb") as f:
            f.write(data)
        width, height = struct.unpack(">II", data[16:24])
        if isinstance(meta, dict) and isinstance(meta.get("width"), int) and isinstance(meta.get("height"), int):
            width, height = meta["width"], meta["height"]  # retina: CSS pixels, the PNG is 2x
        alt = self.alts[self.cell] if self.cell < len(self.alts) and self.alts[self.cell] else ""
        self.figures.append({"path": path, "width": int(width), "height": int(height),
                             "alt": alt or f"Figure {n} of {self.name}", "svg_path": None})
        return n - 1


def _text(value: Any) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def _bounded(text: str) -> str:
    if len(text) <= OUTPUT_TEXT_LIMIT:
        return text
    return text[:OUTPUT_TEXT_LIMIT] + f"\n[logbuild: output truncated; {len(text) - OUTPUT_TEXT_LIMIT:,} more characters]\n"
