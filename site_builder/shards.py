"""SHARDS: `check --shard K/N` runs a stable K-th of N shares of the snippets, so a CI matrix spreads
heavy snippets over N runners. The distributed engine is the CI's own matrix, fed by the portable
cache: every shard computes the same split from the same inputs (the names, and the run times the
restored cache records), and runs only its own share.

The split is pure: longest first onto the least loaded share, ties broken by name, so the same
names and times always give the same shares, and shares stay within one snippet of balanced."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

UNKNOWN_SECONDS = 1.0  # a snippet that never ran counts as short until it has


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N; ValueError saying what is wrong otherwise."""
    k, slash, n = text.partition("/")
    if not (slash and k.strip().isdigit() and n.strip().isdigit()):
        raise ValueError(f"'{text}' is not K/N (e.g. 2/4: the second of four shares)")
    shard, count = int(k), int(n)
    if not 1 <= shard <= count:
        raise ValueError(f"'{text}': K must be from 1 to N")
    return shard, count


def rounded(seconds: float) -> float:
    """Run times up to the next of a few steps per doubling (1, 1.19, 1.41, 1.68, 2, ...): a run
    time that wobbles a little from run to run seldom moves a snippet to another share."""
    return float(2 ** (math.ceil(4 * math.log2(max(seconds, UNKNOWN_SECONDS))) / 4))


def split(names: Iterable[str], seconds: Mapping[str, float], count: int) -> list[list[str]]:
    """`count` shares of `names`, balanced by `seconds` (longest first onto the least loaded share)."""
    shares: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] * count
    weight = {n: rounded(seconds.get(n, UNKNOWN_SECONDS)) for n in set(names)}
    for name in sorted(weight, key=lambda n: (-weight[n], n)):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        shares[lightest].append(name)
        loads[lightest] += weight[name]
    return shares


def shard_names(names: list[str], seconds: Mapping[str, float], shard: tuple[int, int]) -> list[str]:
    """The names of share K of N, in their original order."""
    k, n = shard
    mine = set(split(names, seconds, n)[k - 1])
    return [name for name in names if name in mine]


def last_run_seconds(cache_dir: Path, names: Iterable[str]) -> dict[str, float]:
    """How long each snippet's latest successful stored run took. Latest by the run time recorded
    in it, not by file times, which a restored cache does not keep alike on every runner; only
    the two numbers are read from the (untrusted) record, checked for their type."""
    from .snippets import cache

    out: dict[str, float] = {}
    for name in names:
        runs = []
        for folder in cache.stored_entries(cache_dir, name):
            record = cache.read_json(folder / "result.json") or {}
            seconds, ran_at = record.get("seconds"), record.get("ran_at")
            if (record.get("status") == "ok" and isinstance(ran_at, str) and isinstance(seconds, (int, float))
                    and not isinstance(seconds, bool) and math.isfinite(seconds) and seconds >= 0):
                runs.append((ran_at, float(seconds)))
        if runs:
            out[name] = max(runs)[1]
    return out
