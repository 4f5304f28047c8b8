"""WRITE: put the new site in place without ever exposing a half-written page.

Two ways, both entered only after every page rendered without error:
- `write_site` (cold builds, many changes): lay the whole tree out in a staging folder beside
  the output, hard-linking unchanged files, then swap the two folders at once;
- `update_site` (a few changed files): replace just those files in place, each written to a
  temporary name and renamed over the old one, and remove the files the site no longer has.
  Swapping a 1,000-page tree costs ~0.4 s of directory work; an edit should cost its own pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class OutputFile:
    """One file of the new site: bytes to write, or an existing file to link/copy (`source`)."""

    path: str  # relative, POSIX
    data: bytes | None = None
    source: Path | None = None
    digest: str = ""  # of the bytes; for `source` files, whatever identifies their content

    @staticmethod
    def of_bytes(path: str, data: bytes) -> OutputFile:
        return OutputFile(path, data=data, digest=hashlib.sha1(data).hexdigest())


@dataclass(frozen=True)
class WriteResult:
    written: int  # files whose content is new
    total: int
    digests: dict[str, str]


class UnsafeOutput(Exception):
    """The output folder holds something that is not a site we made: we will not replace it."""


def check_output_folder(out: Path, ours: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UnsafeOutput(f"{out} is a file, not a folder")
    if out.is_dir() and not ours and any(out.iterdir()) and not (out / "index.html").is_file():
        raise UnsafeOutput(f"{out} is not empty and does not look like a built site; "
                           "choose another --out or empty it first")


def write_site(out: Path, files: Iterable[OutputFile], previous: Mapping[str, str]) -> WriteResult:
    """Build the new tree in `.<out>.staging`, reusing unchanged files, then swap it with `out`."""
    staging, result = stage_site(out, files, previous)
    swap_in(staging, out)
    return result


def stage_site(out: Path, files: Iterable[OutputFile], previous: Mapping[str, str]) -> tuple[Path, WriteResult]:
    """Lay the new tree out beside `out` (files may still be arriving from the renderers); `out` is
    untouched until `swap_in`, and `discard` throws the staging folder away."""
    staging = out.parent / f".{out.name}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    made: set[Path] = {staging}
    written = 0
    digests: dict[str, str] = {}
    for file in files:
        dest = staging / file.path
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        current = out / file.path
        if file.digest and previous.get(file.path) == file.digest and _link(current, dest):
            pass
        elif file.data is not None:
            dest.write_bytes(file.data)
            written += 1
        elif file.source is not None:
            if not _link(file.source, dest):
                shutil.copyfile(file.source, dest)
            written += 1
        else:  # a page we chose not to render again: it must already be in the site
            if not _link(current, dest):
                raise FileNotFoundError(f"{current} vanished during the build")
        digests[file.path] = file.digest
    return staging, WriteResult(written, len(digests), digests)


def swap_in(staging: Path, out: Path) -> None:
    _swap(staging, out)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _link(src: Path, dest: Path) -> bool:
    try:
        os.link(src, dest)
        return True
    except OSError:
        return False


def _swap(staging: Path, out: Path) -> None:
    """Exchange the two folders atomically where the kernel can (renameat2), else rename twice."""
    if not out.exists():
        os.replace(staging, out)
        return
    if not _exchange(staging, out):
        old = out.parent / f".{out.name}.old"
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
        os.replace(staging, out)
        staging = old
    shutil.rmtree(staging, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    return bool(renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0)


def update_site(out: Path, files: Iterable[OutputFile], previous: Mapping[str, str]) -> WriteResult:
    """Change only what changed, in place; `previous` lists the files (and digests) we wrote last time."""
    written = 0
    digests: dict[str, str] = {}
    for file in files:
        digests[file.path] = file.digest
        dest = out / file.path
        if (file.data is None and file.source is None) or (
            file.digest and previous.get(file.path) == file.digest and dest.exists()
        ):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.logbuild-tmp"
        if file.data is not None:
            tmp.write_bytes(file.data)
        elif not _link(file.source, tmp):  # type: ignore[arg-type]
            shutil.copyfile(file.source, tmp)  # type: ignore[arg-type]
        os.replace(tmp, dest)
        written += 1
    for gone in set(previous) - set(digests):  # only files we wrote ourselves are ever removed
        try:
            (out / gone).unlink()
            _prune_empty(out, (out / gone).parent)
        except OSError:
            pass
    return WriteResult(written, len(digests), digests)


def _prune_empty(out: Path, folder: Path) -> None:
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
