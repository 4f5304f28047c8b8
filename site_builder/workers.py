"""PARALLEL: a lazily started pool of forked worker processes for the CPU-bound stages
(Markdown + Pygments, Jinja2), used only when there is enough work to pay for the fork."""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import Diagnostic
from .model import Page

T = TypeVar("T")
R = TypeVar("R")
MIN_PARALLEL = 48  # below this many items, forking costs more than it saves

_PR_SET_PDEATHSIG = 1
_worker_shared: Shared | None = None  # in a worker process only: set by its initializer


@dataclass(frozen=True)
class Shared:
    """What every task of one build may read: given to each worker once, when it starts."""

    theme: Any = None
    highlights: Mapping[str, str | None] = field(default_factory=dict)  # code blocks highlighted before
    # code blocks this process highlighted in this build: each worker fills its own copy, so a
    # block that many entries share is highlighted once per process, not once per entry
    highlighted: dict[str, str | None] = field(default_factory=dict)


class Workers:
    def __init__(self, jobs: int, shared: Shared | None = None):
        self.jobs = max(1, jobs)
        self.shared = shared or Shared()
        self.theme = self.shared.theme
        self._pool: Executor | None = None

    def __enter__(self) -> Workers:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def _executor(self) -> Executor:
        if self._pool is None:
            method = "fork" if sys.platform == "linux" else "spawn"
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context(method),
                                             initializer=_start_worker, initargs=(self.shared, os.getpid()))
        return self._pool

    def map(self, fn: Callable[[T, Shared], R], items: Sequence[T]) -> Iterator[R]:
        """fn(item, shared) for each item, in order; `fn` must be a module-level function."""
        if self.jobs == 1 or len(items) < MIN_PARALLEL:
            return (fn(item, self.shared) for item in items)
        return self._executor().map(_call_in_worker, [(fn, item) for item in items],
                                    chunksize=_chunk(len(items), self.jobs))

    def render_pages(self, pages: list[Page], extra: Mapping[str, Any]
                     ) -> Iterator[tuple[str, bytes, Diagnostic | None]]:
        """Entry pages (the many) go to the workers at once, while this process renders the rest
        as the caller asks: page by page (it writes each one at once), so a big site's pages are
        never all in memory together, and finished chunks are taken as they come. The workers
        are forked here, before the writer starts its threads."""
        many = [p for p in pages if p.template == "entry.html"]
        few = [p for p in pages if p.template != "entry.html"]
        if self.jobs == 1 or len(many) < MIN_PARALLEL:
            return (render_page(p, self.theme, extra) for p in pages)
        size = _chunk(len(many), self.jobs)
        pending = collections.deque(self._executor().submit(_render_in_worker, many[i : i + size], extra)
                                    for i in range(0, len(many), size))
        return self._rendered(few, pending, extra)

    def _rendered(self, few: list[Page], pending: collections.deque[Future[list[tuple[str, bytes, Diagnostic | None]]]],
                  extra: Mapping[str, Any]) -> Iterator[tuple[str, bytes, Diagnostic | None]]:
        for page in few:
            yield render_page(page, self.theme, extra)
            while pending and pending[0].done():
                yield from pending.popleft().result()
        for future in pending:
            yield from future.result()


def _chunk(items: int, jobs: int) -> int:
    """Small enough that both workers finish together (entries differ in size), big enough to
    keep the pickling round trips few."""
    return max(1, min(32, items // (jobs * 16)))


def _start_worker(shared: Shared, parent: int) -> None:
    """Keep what the build shares, and die with the build however it ends (SIGKILL included):
    the kernel signals us when the parent goes, and if it went before we asked, we go now."""
    global _worker_shared
    _worker_shared = shared
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _render_in_worker(pages: list[Page], extra: Mapping[str, Any]) -> list[tuple[str, bytes, Diagnostic | None]]:
    assert _worker_shared is not None, "set by _start_worker"
    return [render_page(page, _worker_shared.theme, extra) for page in pages]


def _call_in_worker(job: tuple[Callable[[T, Shared], R], T]) -> R:
    fn, item = job
    assert _worker_shared is not None, "set by _start_worker"
    return fn(item, _worker_shared)


def render_page(page: Page, theme: Any, extra: Mapping[str, Any]) -> tuple[str, bytes, Diagnostic | None]:
    html, problem = theme.render(page.template, {**page.context, **extra})
    if html and not extra["site"].use_directory_urls and page.output_path.endswith(".html"):
        from .links import with_file_urls

        html = with_file_urls(html)  # a site opened from disk: links name page/index.html
    return page.output_path, (html or "").encode(), problem
