"""WRITE: put the new site in place so that the output folder is, at every moment, a complete
site: the old one until a single rename, the new one after it.

Double buffering. Beside `site/` lives its spare, `.site.staging/`, the site as it was one build
ago. A build brings the spare up to date (writing only the files whose bytes differ, deleting
only files it recorded writing), then exchanges the two folders with one renameat2 call. An edit
costs its own pages, a kill at any moment leaves `site/` untouched, and nothing temporary is ever
inside it. What we know of both folders (`Trees`) is kept in the build state; when that cannot be
trusted (a killed build, a folder replaced by hand) the spare is thrown away and rebuilt whole.

This module is the single place that writes into the site: every path is checked here.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from .slugs import is_safe_path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
# Creating a file is a few slow system calls (0.1-0.3 ms each on a busy disk) during which this
# process holds no lock: threads do them while the build goes on, a few pages ahead at most.
WRITER_THREADS = 2
T = TypeVar("T")
WRITES_PENDING = 32
WRITE_BUFFER = 1 << 20  # for a file written piece by piece: few system calls for 14 MB
GENERATOR_MARK = b'<meta name="generator" content="logbuild'  # in every page the theme renders


@dataclass(frozen=True)
class OutputFile:
    """One file of the new site: bytes to write, a file to copy (`source`), a function that writes
    it (`write`: a file too large to hold in memory, search.json), or none of them (a page not
    rendered again: its bytes are those the live site has)."""

    path: str  # relative, POSIX
    data: bytes | None = None
    source: Path | None = None
    write: Callable[[BinaryIO], None] | None = None
    digest: str = ""  # of the bytes; for `source` and `write` files, whatever identifies their content

    @staticmethod
    def of_bytes(path: str, data: bytes) -> OutputFile:
        return OutputFile(path, data=data, digest=hashlib.sha1(data).hexdigest())


@dataclass(frozen=True)
class Trees:
    """What the last build left in the two folders: path -> digest, and each folder's inode."""

    live: dict[str, str] = field(default_factory=dict)
    live_inode: int | None = None
    spare: dict[str, str] = field(default_factory=dict)
    spare_inode: int | None = None  # None: the spare's content is unknown, it is rebuilt whole


class UnsafeOutput(Exception):
    """The output folder holds something we did not make, or a path would leave the site."""


class Vanished(FileNotFoundError):
    """A page to reuse is in neither folder any more (deleted by hand from both): build it anew."""


def inode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


def known_trees(out: Path, trees: Trees, trusted: bool) -> Trees | None:
    """`trees` if the folders are still the ones it describes and the last build finished
    (`trusted`); None when the site is ours but its content unknown (a cold build); raises
    UnsafeOutput when `out` is something logbuild did not write.

    Decided once per build: this is the only place that asks "is this output folder ours"."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UnsafeOutput(f"{out} is not a folder; choose another --out")
    current = inode(out)
    if current is not None and current == trees.live_inode:
        return trees if trusted else None
    if current is not None and current == trees.spare_inode:
        return None  # a build swapped its spare in and was stopped before it could say so
    if out.is_dir() and any(out.iterdir()) and not _looks_built(out):
        raise UnsafeOutput(f"{out} is not empty and was not built by logbuild; "
                           "choose another --out or empty it first")
    return None


def _looks_built(out: Path) -> bool:
    """A site logbuild wrote (its state lost): the home page carries our generator tag."""
    try:
        with (out / "index.html").open("rb") as f:
            return GENERATOR_MARK in f.read(4096)
    except OSError:
        return False


class SiteWriter:
    """Brings the spare up to date file by file (`put`), then swaps it in (`swap`); a context
    manager (it holds the spare folder open)."""

    def __init__(self, out: Path, spare: Path, trees: Trees | None):
        self.out, self.spare = out, spare
        self.live = trees.live if trees is not None else {}
        known = spare_files(spare, trees)
        self.spare_files = dict(known) if known is not None else {}
        if known is None:
            _remove(self.spare)
        self.spare.mkdir(parents=True, exist_ok=True)
        self._spare_str = str(self.spare)
        # the spare's files are looked up from here: an lstat of 5,750 short paths, not of long ones
        self._spare_fd = os.open(self.spare, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        self._folders: dict[str, Future[bool]] = {}  # folder of the spare -> its task (_folder)
        self.new: dict[str, str] = {}
        self._threads: ThreadPoolExecutor | None = None  # started by the first file to write
        self._writing: collections.deque[Future[None]] = collections.deque()

    def __enter__(self) -> SiteWriter:  # noqa: PYI034
        return self

    def __exit__(self, failed: type[BaseException] | None, *exc: object) -> None:
        try:
            if failed is None:
                self._wait(0)  # every file put is written, or the first failure raised
        finally:
            if self._threads is not None:  # nothing is written into the spare once the writer is gone
                self._threads.shutdown(wait=True, cancel_futures=True)
            os.close(self._spare_fd)

    def put_all(self, files: Iterable[OutputFile]) -> None:
        """Put each file; all of them are written when this returns."""
        for file in files:
            self.put(file)
        self._wait(0)

    def put(self, file: OutputFile) -> None:
        if file.digest and self.spare_files.get(file.path) == file.digest and _is_plain_file(file.path, self._spare_fd):
            self.new[file.path] = file.digest  # already there (a path the spare holds passed the check below)
            return
        dest = os.path.join(self._spare_str, file.path)
        if not is_safe_path(file.path):
            raise UnsafeOutput(f"refusing to write {file.path!r}: it is not a path inside the site")
        self.new[file.path] = file.digest
        self.spare_files.pop(file.path, None)  # from here on the spare's copy is unknown until written
        current = os.path.join(self.out, file.path)
        # the live site has these bytes: share its file (both are ours)
        shared = bool(file.digest) and self.live.get(file.path) == file.digest and _is_plain_file(current)
        if not shared and file.data is None and file.write is None and file.source is None:
            raise Vanished(f"{current} vanished during the build")
        self._wait(WRITES_PENDING)
        parent = file.path.rpartition("/")[0]
        folder = self._folder(parent) if parent else None
        self._writing.append(self._submit(_fill, folder, dest, file, current if shared else None))
        self.spare_files[file.path] = file.digest  # if a write fails, the writer's caller trusts none of it

    def _folder(self, path: str) -> Future[bool]:
        """The task that makes the folder `path` of the spare, or sees by lstat that it is a real
        folder (not a link), once per build and after the folder above it: so a file whose every
        folder was is inside the spare. Its result: whether it was made just now (it is empty)."""
        task = self._folders.get(path)
        if task is None:
            above = path.rpartition("/")[0]
            task = self._folders[path] = self._submit(_make_folder, self._folder(above) if above else None,
                                                      os.path.join(self._spare_str, path))
        return task

    def _submit(self, task: Callable[..., T], *args: Any) -> Future[T]:
        """Run `task` on a writer thread. Each task waits only for tasks submitted before it, so
        the threads, taking tasks in order, never all wait."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="logbuild-writer")
        return self._threads.submit(task, *args)

    def _wait(self, pending: int) -> None:
        """Until at most `pending` writes are left (each holds its page's bytes); the first failure raised."""
        while len(self._writing) > pending:
            self._writing.popleft().result()

    @property
    def written(self) -> int:
        """Files whose bytes the live site does not have yet."""
        return sum(1 for path, digest in self.new.items() if not digest or self.live.get(path) != digest)

    def swap(self) -> Trees:
        """Delete what the new site no longer has, then exchange the folders at once."""
        self._wait(0)
        for gone in [p for p in self.spare_files if p not in self.new]:
            _clear(os.path.join(self.spare, gone))
            _prune_empty(self.spare, Path(self.spare, gone).parent)
            del self.spare_files[gone]
        live_known = inode(self.out) is not None and bool(self.live)
        if not self.out.exists():
            os.replace(self.spare, self.out)
        elif not _exchange(self.spare, self.out):
            _replace_twice(self.spare, self.out)
            live_known = False
        return Trees(dict(self.new), inode(self.out), dict(self.live) if live_known else {},
                     inode(self.spare) if live_known else None)


def spare_files(spare: Path, trees: Trees | None) -> dict[str, str] | None:
    """What the spare folder holds (path -> digest), if it is still the folder `trees` describes;
    None when it is not (the cache is restored from elsewhere): the writer starts it anew."""
    if trees is not None and trees.spare_inode is not None and inode(spare) == trees.spare_inode \
            and not spare.is_symlink():
        return trees.spare
    return None


def _make_folder(above: Future[bool] | None, full: str) -> bool:
    """A real folder at `full` (whatever else was there is removed), once the one `above` it is;
    True if made just now. A writer thread's task."""
    if above is not None:
        above.result()  # its failure is this one's
    try:
        os.mkdir(full)  # never follows a link in the last step: EEXIST
        return True
    except FileExistsError:
        pass
    if stat.S_ISDIR(os.lstat(full).st_mode):
        return False
    _clear(full)  # a file (or a link) where the new site has a folder
    os.mkdir(full)
    return True


def _fill(folder: Future[bool] | None, dest: str, file: OutputFile, shared: str | None) -> None:
    """Write `file` at `dest` once its folder is there (a writer thread's task): a link to the live
    site's copy if `shared`. Whatever was at `dest` is removed first, unless its folder is new."""
    if folder is None or not folder.result():
        _clear(dest)
    if shared is not None:
        _link_or_copy(shared, dest)
    elif file.data is not None:
        with _created(dest) as f:
            f.write(file.data)
    elif file.write is not None:
        with _created(dest, WRITE_BUFFER) as f:
            file.write(f)
    else:
        assert file.source is not None, "put() checked that the file has some content"
        shutil.copyfile(file.source, dest)  # a copy, never a link to the user's own file


def _link_or_copy(src: str, dest: str) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _is_plain_file(path: str, dir_fd: int | None = None) -> bool:
    try:
        return os.lstat(path, dir_fd=dir_fd).st_mode & 0o170000 == 0o100000
    except OSError:
        return False


def _clear(path: str) -> None:
    """Remove whatever is at `path` inside the spare (a file, a link, a folder), if anything."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


def _remove(folder: Path) -> None:
    if folder.is_symlink():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)


def _created(path: str, buffering: int = -1) -> BinaryIO:
    """A new file at `path` (never through a link), to write."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    return os.fdopen(fd, "wb", buffering)


def _prune_empty(top: Path, folder: Path) -> None:
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): both names stay valid throughout (Linux 3.15+)."""
    libc_name = ctypes.util.find_library("c")
    renameat2 = getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None) if libc_name else None
    if renameat2 is None:
        return False
    return bool(renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0)


def _replace_twice(spare: Path, out: Path) -> None:
    """Where the kernel cannot exchange: a moment without `out`, never a mixed one."""
    old = out.parent / f".{out.name}.old"
    _remove(old)
    os.replace(out, old)
    os.replace(spare, out)
    shutil.rmtree(old, ignore_errors=True)
