"""PARALLEL: a lazily started pool of forked worker processes for the CPU-bound stages
(Markdown + Pygments, Jinja2), used only when there is enough work to pay for the fork."""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, TypeVar

from .errors import Diagnostic
from .model import Page

T = TypeVar("T")
R = TypeVar("R")
MIN_PARALLEL = 48  # below this many items, forking costs more than it saves

_PR_SET_PDEATHSIG = 1
_worker_theme: Any = None  # in a worker process only: set by its initializer


class Workers:
    def __init__(self, jobs: int, theme: Any = None):
        self.jobs = max(1, jobs)
        self.theme = theme
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
                                             initializer=_start_worker, initargs=(self.theme, os.getpid()))
        return self._pool

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        if self.jobs == 1 or len(items) < MIN_PARALLEL:
            return map(fn, items)
        return self._executor().map(fn, items, chunksize=_chunk(len(items), self.jobs))

    def render_pages(self, pages: list[Page], extra: Mapping[str, Any]
                     ) -> Iterable[tuple[str, bytes, Diagnostic | None]]:
        """Entry pages (the many) go to the workers while this process renders the rest."""
        many = [p for p in pages if p.template == "entry.html"]
        few = [p for p in pages if p.template != "entry.html"]
        if self.jobs == 1 or len(many) < MIN_PARALLEL:
            return [render_page(p, self.theme, extra) for p in pages]
        futures = self._executor().map(_render_in_worker, [(p, extra) for p in many],
                                       chunksize=_chunk(len(many), self.jobs))
        done = [render_page(p, self.theme, extra) for p in few]
        return itertools.chain(done, futures)  # lazily: the caller writes pages while workers render


def _chunk(items: int, jobs: int) -> int:
    """Small enough that both workers finish together (entries differ in size), big enough to
    keep the pickling round trips few."""
    return max(1, min(32, items // (jobs * 16)))


def _start_worker(theme: Any, parent: int) -> None:
    """Die with the build, however it ends (SIGKILL included): the kernel signals us when the
    parent goes, and if it went before we asked, we go now."""
    global _worker_theme
    _worker_theme = theme
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _render_in_worker(job: tuple[Page, Mapping[str, Any]]) -> tuple[str, bytes, Diagnostic | None]:
    page, extra = job
    return render_page(page, _worker_theme, extra)


def render_page(page: Page, theme: Any, extra: Mapping[str, Any]) -> tuple[str, bytes, Diagnostic | None]:
    if page.template == "@json":
        import json

        data = json.dumps(page.context["data"], ensure_ascii=False, separators=(",", ":")).encode()
        return page.output_path, data, None
    html, problem = theme.render(page.template, {**page.context, **extra})
    return page.output_path, (html or "").encode(), problem
