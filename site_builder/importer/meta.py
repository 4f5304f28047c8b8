"""IMPORT, metadata: a section's opening Tags: line, its labelled link lines (`Colab: URL`, wherever
they stand outside code), and streak headers. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import read_date_line
from .scan import ATX

LINK_LABELS = (
    "colab", "gist", "notebook", "video", "slides", "paper", "repo", "code", "demo", "kaggle", "youtube",
    "github", "blog", "article", "post", "source", "dataset", "docs", "website", "project", "link",
)  # fmt: skip
_LABEL = "|".join(LINK_LABELS)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_EMPH = r"[*_]{0,2}"
_TAGS = re.compile(rf"^\s*{_EMPH}tags{_EMPH}\s*:\s*{_EMPH}\s*(.*?)\s*$", re.IGNORECASE)
_LINK = re.compile(
    rf"^\s*{_EMPH}((?:{_LABEL})(?:[ \t]+[A-Za-z]+){{0,3}}){_EMPH}\s*:\s*{_EMPH}\s*<?(https?://[^\s<>]+?)>?\s*$",
    re.IGNORECASE,
)
_LINK_LIST = re.compile(rf"^\s*{_EMPH}({_LABEL})s{_EMPH}\s*:\s*{_EMPH}\s*$", re.IGNORECASE)
_BULLET_URL = re.compile(r"^\s*[-*+]\s+<?(https?://[^\s<>]+?)>?\s*$")
_STREAK = re.compile(
    r"^[\s#>*_-]*(current|best|longest)\s+streak[*_\s]*:?[*_\s]*(\d+)\s*(?:days?)?\b",
    re.IGNORECASE,
)


Use = tuple[str, str]  # ("tag", name) or ("link", url): what a metadata line became


@dataclass(frozen=True)
class SectionMeta:
    tags: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    body_lines: tuple[int, ...]  # indices (into the section's lines) that stay in the body
    date_line: int | None  # index of a date-only first line, if any (it stays in the body)
    uses: tuple[tuple[int, tuple[Use, ...]], ...] = ()  # each metadata line: what it became


def normalise_tags(value: str) -> list[str]:
    """'Keras, CNN  #python' -> ['keras', 'cnn', 'python']: lowercase, split, no repeats."""
    tags: list[str] = []
    for word in re.split(r"[\s,]+", value.lower()):
        word = word.strip("`").lstrip("#")
        if word and word not in tags:
            tags.append(word)
    return tags


def read_section_meta(lines: list[str]) -> SectionMeta:
    """Take the Tags: line from the top of a section and its link lines from anywhere outside code;
    everything else stays."""
    tags: list[str] = []
    links: list[tuple[str, str]] = []
    uses: dict[int, tuple[Use, ...]] = {}
    removed: set[int] = set()
    date_line: int | None = None
    heading_seen = False
    index = 0
    while index < len(lines):
        line = lines[index]
        taken = _take_meta(lines, index, tags, links, uses)
        if taken:
            removed.update(range(index, index + taken))
            index += taken
        elif not line.strip():
            index += 1
        elif tags or links:
            break
        elif date_line is None and read_date_line(line):
            date_line = index
            index += 1
        elif not heading_seen and date_line is None and ATX.match(line):
            heading_seen = True  # a section's own title may come before its Tags: line
            index += 1
        else:
            break
    fence: str | None = None
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened and fence is None:
            fence = opened.group(1)[0] * len(opened.group(1))
        elif fence is not None and lines[index].strip().startswith(fence) and not lines[index].strip(fence[0] + " \t"):
            fence = None
        elif fence is None:
            taken = _take_links(lines, index, links, uses)
            if taken:
                removed.update(range(index, index + taken))
                index += taken
                continue
        index += 1
    kept = _tidy([i for i in range(len(lines)) if i not in removed], lines, removed)
    return SectionMeta(tuple(tags), tuple(links), tuple(kept), date_line, tuple(sorted(uses.items())))


def _take_meta(lines: list[str], index: int, tags: list[str], links: list[tuple[str, str]],
               uses: dict[int, tuple[Use, ...]]) -> int:
    """How many lines from `index` are metadata (recording it), 0 if none."""
    match = _TAGS.match(lines[index])
    if match and "://" not in match.group(1) and "](" not in match.group(1):
        found = normalise_tags(match.group(1))
        tags.extend(t for t in found if t not in tags)
        uses[index] = tuple(("tag", t) for t in found)
        return 1
    return _take_links(lines, index, links, uses)


def _take_links(lines: list[str], index: int, links: list[tuple[str, str]], uses: dict[int, tuple[Use, ...]]) -> int:
    """`Colab: URL`, or `Videos:` over a list of bare URLs: how many lines (recording them), 0 if none."""
    line = lines[index]
    match = _LINK.match(line)
    if match:
        add_link(links, re.sub(r"\s+", "-", match.group(1).lower()), match.group(2))
        uses[index] = (("link", match.group(2)),)
        return 1
    match = _LINK_LIST.match(line)
    if match:
        urls = _bullet_urls(lines, index + 1)
        if urls:
            label = match.group(1).lower()
            uses[index] = (("link", urls[0]),)  # the label names the links that follow it
            for number, url in enumerate(urls, start=1):
                add_link(links, f"{label}-{number}", url)
                uses[index + number] = (("link", url),)
            return 1 + len(urls)
    return 0


def _bullet_urls(lines: list[str], start: int) -> list[str]:
    """The URLs of a bullet list of bare URLs at `start`; [] unless every item is one."""
    urls: list[str] = []
    for line in lines[start:]:
        match = _BULLET_URL.match(line)
        if match:
            urls.append(match.group(1))
        elif line.strip() and re.match(r"^\s*([-*+]\s|\s{2,}\S)", line):
            return []  # a list item with more than a URL: keep the list as written
        else:
            break
    return urls


def add_link(links: list[tuple[str, str]], label: str, url: str) -> None:
    taken = {name for name, _ in links}
    name, number = label, 1
    while name in taken:
        number += 1
        name = f"{label}-{number}"
    links.append((name, url))


def _tidy(kept: list[int], lines: list[str], removed: set[int]) -> list[int]:
    """Drop leading and trailing blank lines, and repeated blanks where metadata left a gap."""
    out: list[int] = []
    for i in kept:
        blank = not lines[i].strip()
        gap = bool(out) and not lines[out[-1]].strip() and any(j in removed for j in range(out[-1] + 1, i))
        if blank and (not out or gap):
            continue
        out.append(i)
    while out and not lines[out[-1]].strip():
        out.pop()
    return out


def streak_line(line: str) -> tuple[str, int] | None:
    """'### Current streak: 11 days' -> ("current", 11); 'Best streak' and 'Longest streak' -> ("best", N)."""
    match = _STREAK.match(line)
    if not match:
        return None
    return ("current" if match.group(1).lower() == "current" else "best"), int(match.group(2))
