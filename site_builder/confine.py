"""LOAD (input side): walk one folder of the log and return only files that really are the log's.

A symbolic link is read as its target, and only when that target lies inside the log's root or
inside the walked folder's own real location (a configured folder may itself be a link the user
made on purpose). Links that leave both, dangle or loop are Diagnostics, each reported once, and
their files are not returned, so nothing outside the log is ever read, published or copied.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .errors import Diagnostic

HINT_OUTSIDE = "copy the file into the log, or remove the link"


class FoundFile(NamedTuple):
    """A file of the walked folder. `path` is what to read: a symlink's real target, never the link.
    A tuple: a walk makes one per file, 5,000 in a large log's entries/ on every build."""

    rel: str  # POSIX, relative to the walked folder: "2018/2018-09-15.md"
    shown: str  # POSIX, relative to the log's root as the user names it: "entries/2018/2018-09-15.md"
    path: str  # absolute and real
    stat: tuple[int, int, int]  # (inode, mtime_ns, size) of the file `path` names


@dataclass(frozen=True)
class Walked:
    """One walk of a folder, to be narrowed to the names a stage reads (`only`): the build reads
    entries/ for Markdown where the freshness check stats every file, and one walk serves both."""

    files: list[FoundFile]
    problems: list[tuple[Diagnostic, str | None]]  # each with the name of the file it is about (None: a folder's)

    def only(self, keep: Callable[[str], bool] | None = None) -> tuple[list[FoundFile], list[Diagnostic]]:
        """What a walk keeping just the names `keep` passes (of those this one kept) would find."""
        if keep is None:
            return self.files, _once([d for d, _ in self.problems])
        files = [f for f in self.files if keep(f.rel.rpartition("/")[2])]
        return files, _once([d for d, name in self.problems if name is None or keep(name)])


Chain = tuple[tuple[str, str], ...]  # the real folders from the walked one down, each with the link that led there


@dataclass(frozen=True)
class _Walk:
    """What every step of one walk shares: where paths are reported from and what is allowed."""

    where: str  # the folder as the user names it, relative to the root ("" for the root itself)
    real_root: str
    real_folder: str
    keep: Callable[[str], bool]

    def shown(self, rel: str) -> str:
        return f"{self.where}/{rel}" if self.where else rel

    def shown_real(self, path: str) -> str:
        """A real path as the user names it: through the folder, else from the root."""
        if _below(path, self.real_folder):
            return self.shown(os.path.relpath(path, self.real_folder).replace(os.sep, "/"))
        if _below(path, self.real_root):
            return os.path.relpath(path, self.real_root).replace(os.sep, "/")
        return path

    def refusal(self, real: str, shown: str) -> Diagnostic | None:
        """Why a link shown as `shown`, resolving to `real`, may not be read; None if it may."""
        if not (_below(real, self.real_root) or _below(real, self.real_folder)):
            return Diagnostic(shown, None, f"a symbolic link that points outside the log (to {real}); it is not "
                              "read or published", hint=HINT_OUTSIDE)
        if self.hidden(real):
            return Diagnostic(shown, None, f"a symbolic link to a hidden file or folder ({self.shown_real(real)}); "
                              "it is not read or published", hint=HINT_OUTSIDE)
        return None

    def hidden(self, real: str) -> bool:
        """Reached through a hidden name (.git/config): what the walk itself never reads."""
        base = self.real_folder if _below(real, self.real_folder) else self.real_root
        return any(part.startswith(".") for part in os.path.relpath(real, base).split(os.sep) if part != ".")


def _below(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def refused_target(root: Path, folder: Path, path: str, shown: str) -> Diagnostic | None:
    """For a file found some other way (a template Jinja looked up): why it may not be read as a
    file of `folder`, the same rule as the walk's, or None. `shown` names it in the message."""
    real_root, real_folder = os.path.realpath(root), os.path.realpath(folder)
    walk = _Walk("", real_root, real_folder, lambda _: True)
    return walk.refusal(os.path.realpath(path), shown)


def walk_confined(root: Path, folder: Path, keep: Callable[[str], bool] | None = None
                  ) -> tuple[list[FoundFile], list[Diagnostic]]:
    """Every non-hidden file below `folder` whose name passes `keep`, sorted by `rel`, and the
    problems found (one per bad link). A missing folder is no files and no problem."""
    return walk_tree(root, folder, keep).only()


def walk_tree(root: Path, folder: Path, keep: Callable[[str], bool] | None = None) -> Walked:
    """walk_confined's walk, its problems kept with the names they are about."""
    real_root, real_folder = os.path.realpath(root), os.path.realpath(folder)
    where = os.path.relpath(os.path.abspath(folder), os.path.abspath(root)).replace(os.sep, "/")
    walk = _Walk("" if where == "." else where, real_root, real_folder, keep or (lambda _: True))
    if not os.path.isdir(real_folder):
        missing = os.path.islink(folder)
        return Walked([], [(Diagnostic(walk.where, None, "a symbolic link to a missing folder",
                                       hint="fix the link, or the folder's setting in logbuild.toml"), None)]
                      if missing else [])
    files: list[FoundFile] = []
    problems: list[tuple[Diagnostic, str | None]] = []
    stack: list[tuple[str, str, Chain]] = [(real_folder, "", ((real_folder, ""),))]
    shown = f"{walk.where}/" if walk.where else ""  # walk.shown(rel) is shown + rel
    while stack:
        real_dir, prefix, chain = stack.pop()
        try:
            items = list(os.scandir(real_dir))
        except OSError as exc:
            problems.append((Diagnostic(walk.shown(prefix.rstrip("/")) or ".", None,
                                        f"cannot read this folder: {exc.strerror}"), None))
            continue
        for item in items:
            if item.name.startswith("."):
                continue
            rel = prefix + item.name
            if item.is_symlink():
                _follow(walk, item.path, rel, chain, files, problems, stack)
            elif item.is_dir(follow_symlinks=False):
                stack.append((item.path, rel + "/", (*chain, (item.path, ""))))
            elif walk.keep(item.name):
                st = item.stat()
                if stat.S_ISREG(st.st_mode):  # _add_file's common case, inline: once per file of a log
                    files.append(FoundFile(rel, shown + rel, item.path, (st.st_ino, st.st_mtime_ns, st.st_size)))
                else:
                    _add_file(walk, item.path, rel, st, files, problems)
    files.sort(key=lambda f: f.rel)
    return Walked(files, problems)


def _follow(walk: _Walk, link: str, rel: str, chain: Chain, files: list[FoundFile],
            problems: list[tuple[Diagnostic, str | None]], stack: list[tuple[str, str, Chain]]) -> None:
    """A symbolic link: its target if that is inside the log, else the one problem it is."""
    name = os.path.basename(link)
    try:
        st = os.stat(link)
    except OSError as exc:
        if walk.keep(name):
            problems.append((_broken_link(walk, link, rel, exc), name))
        return
    real = os.path.realpath(link)
    is_dir = stat.S_ISDIR(st.st_mode)
    if not is_dir and not walk.keep(name):
        return
    refused = walk.refusal(real, walk.shown(rel))
    if refused is not None:
        problems.append((refused, None if is_dir else name))
    elif not is_dir:
        _add_file(walk, real, rel, st, files, problems)
    elif any(_below(folder, real) for folder, _ in chain):
        problems.append((_folder_loop(walk, link, real, chain), None))
    else:
        stack.append((real, rel + "/", (*chain, (real, link))))


def _folder_loop(walk: _Walk, link: str, target: str, chain: Chain) -> Diagnostic:
    """One problem per loop, however many ways the walk runs into it: named by its links."""
    start = next(i for i, (folder, _) in enumerate(chain) if _below(folder, target))
    links = sorted({walk.shown_real(via) for _, via in chain[start + 1 :] if via} | {walk.shown_real(link)})
    if len(links) == 1:
        return Diagnostic(links[0], None, "a symbolic link to a folder that contains it, a loop; it is skipped",
                          hint="remove the link")
    return Diagnostic(links[0], None, f"symbolic links to folders that make a loop ({', '.join(links)}); "
                      "they are skipped", hint="remove one of them")


def _add_file(walk: _Walk, path: str, rel: str, st: os.stat_result, files: list[FoundFile],
              problems: list[tuple[Diagnostic, str | None]]) -> None:
    if stat.S_ISREG(st.st_mode):
        files.append(FoundFile(rel, walk.shown(rel), path, (st.st_ino, st.st_mtime_ns, st.st_size)))
    else:
        problems.append((Diagnostic(walk.shown(rel), None, "not a regular file; it is skipped", "warning"),
                         rel.rpartition("/")[2]))


def _broken_link(walk: _Walk, link: str, rel: str, exc: OSError) -> Diagnostic:
    if exc.errno == errno.ELOOP:
        cycle = _link_cycle(link)
        first = min(cycle)  # every link of a loop reports the same line, which _once keeps once
        names = " -> ".join(walk.shown_real(p) for p in _rotate(cycle, first) + [first])
        return Diagnostic(walk.shown_real(first), None, f"a loop of symbolic links: {names}",
                          hint="point one of them at a real file, or remove them")
    if exc.errno == errno.ENOENT:
        return Diagnostic(walk.shown(rel), None, f"a symbolic link to a missing file ({os.readlink(link)})",
                          hint="restore the file, or remove the link")
    return Diagnostic(walk.shown(rel), None, f"cannot read this link: {exc.strerror}")


def _link_cycle(link: str) -> list[str]:
    """The links (absolute, in order) of the loop that `link` runs into."""
    seen: list[str] = []
    path = os.path.abspath(link)
    while path not in seen and len(seen) < 64:
        seen.append(path)
        try:
            path = os.path.join(os.path.realpath(os.path.dirname(path)), os.readlink(path))
            path = os.path.normpath(path)
        except OSError:  # a folder in the chain loops, not the link itself
            return [os.path.abspath(link)]
    return seen[seen.index(path):] if path in seen else [os.path.abspath(link)]


def _rotate(cycle: list[str], first: str) -> list[str]:
    i = cycle.index(first)
    return cycle[i:] + cycle[:i]


def _once(problems: list[Diagnostic]) -> list[Diagnostic]:
    """Each problem once (every link of a loop finds the same one), in path order."""
    return sorted(dict.fromkeys(problems), key=lambda d: d.path)
