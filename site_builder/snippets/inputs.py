"""EXECUTE (edge): gather what a snippet's cache key needs from disk and the installed packages."""

from __future__ import annotations

import ast
import hashlib
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .cache import KeyInputs
from .headers import SnippetOptions


def imported_modules(source: str, relpath: str = "") -> set[str]:
    """Top-level names a file imports; relative imports are resolved against `relpath`
    (a POSIX path inside snippets_dir), so `from . import x` in a top-level file gives `x`."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()  # the run reports the syntax error; failures are never cached
    package = relpath.split("/")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = package[: max(0, len(package) - (node.level - 1))]
            if base:
                names.add(base[0])
            elif node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
    return names - {"__future__"}


def local_module_files(snippets_dir: Path, name: str) -> list[Path]:
    """The files of local module `name`: `name.py`, or every .py file of the `name/` package."""
    single = snippets_dir / f"{name}.py"
    if single.is_file():
        return [single]
    package = snippets_dir / name
    if (package / "__init__.py").is_file():
        return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return []


def gather_modules(source: str, snippets_dir: Path) -> tuple[dict[str, str], set[str]]:
    """Local modules the snippet imports, followed transitively ({relpath: source}), and the
    top-level names that are not local (third-party or standard library)."""
    modules: dict[str, str] = {}
    outside: set[str] = set()
    pending = [(source, "")]
    seen: set[str] = set()
    while pending:
        text, relpath = pending.pop()
        for name in imported_modules(text, relpath) - seen:
            seen.add(name)
            files = local_module_files(snippets_dir, name)
            if not files:
                outside.add(name)
            for f in files:
                rel = f.relative_to(snippets_dir).as_posix()
                modules[rel] = f.read_text("utf-8", errors="replace")
                pending.append((modules[rel], rel))
    return modules, outside


class PackageVersions:
    """Versions of installed distributions by import name; the slow full scan runs at most once."""

    def __init__(self) -> None:
        self._by_import: Mapping[str, list[str]] | None = None

    def versions(self, names: set[str]) -> dict[str, str]:
        from importlib import metadata  # here: 7 ms that a build whose log has no snippet never pays

        out: dict[str, str] = {}
        for name in sorted(names - set(sys.stdlib_module_names) - set(sys.builtin_module_names)):
            for dist in self._distributions(name):
                try:
                    out[dist] = metadata.version(dist)
                except metadata.PackageNotFoundError:
                    out[dist] = "not installed"
        return out

    def _distributions(self, name: str) -> list[str]:
        from importlib import metadata

        try:
            metadata.distribution(name)  # the usual case: import name == distribution name
            return [name]
        except metadata.PackageNotFoundError:
            pass
        if self._by_import is None:
            self._by_import = metadata.packages_distributions()
        return list(self._by_import.get(name, [])) or [name]


def data_digest(root: Path, relpath: str) -> str:
    """sha256 of a data file, or of a folder's relative names and contents; 'missing' if absent."""
    path = root / relpath
    if path.is_file():
        return _file_sha(path)
    if not path.is_dir():
        return "missing"
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for fname in sorted(filenames):
            f = Path(dirpath, fname)
            h.update(f"{f.relative_to(path).as_posix()}\0{_file_sha(f)}\n".encode())
    return h.hexdigest()


def _file_sha(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def gather_inputs(
    name: str,
    source: str,
    options: SnippetOptions,
    root: Path,
    snippets_dir: Path,
    env: Mapping[str, str],
    packages: PackageVersions,
    cells: Sequence[str] | None = None,
    kernel: str = "",
) -> KeyInputs:
    """`cells`: the code of a notebook's (or an entry's) cells, read one by one for imports, so
    a magic or a syntax error in one cell hides no other's; `kernel` names the kernel that runs them."""
    modules: dict[str, str] = {}
    outside: set[str] = set()
    for text in [source] if cells is None else cells:
        found, beyond = gather_modules(text, snippets_dir)
        modules.update(found)
        outside |= beyond
    if kernel:
        outside.add("ipykernel")
    return KeyInputs(
        name=name,
        source=source,
        modules=modules,
        data={d: data_digest(root, d) for d in options.data},
        python=platform.python_version(),
        packages=packages.versions(outside),
        env=dict(env),
        options=options.key_text(),
        kernel=kernel,
    )
