"""IMPORT, scanning: find the headings of a Markdown log, outside code fences and comments. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import read_date_line, read_date_text

ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_SETEXT = re.compile(r"^ {0,3}(=+|-{2,})[ \t]*$")
_DETAILS_OPEN = re.compile(r"<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_ITEM = re.compile(r"^(?:[-*+]|\d{1,4}[.)])[ \t]+(.+)$")  # a top-level list item
_BOLD_LEAD = re.compile(r"^(\*\*|__)(?P<marker>.+?)\1\s*[:.\-\u2013\u2014]?\s*(?P<rest>.*)$")  # **Day 1 (July 7):** rest
_PLAIN_LEAD = re.compile(r"^(?P<marker>.{1,60}?)(?::|\s[-\u2013\u2014])\s+(?P<rest>.*)$")  # Day 1: rest, July 7 - rest
ITEM_LEVEL = 7  # a day that is a list item sits below every heading: the next heading ends it


@dataclass(frozen=True)
class HeadingLine:
    index: int  # 0-based index of the heading's text line
    end: int  # index of its last line: the setext underline, or `index`
    level: int
    text: str
    lead: str = ""  # what follows a day item's marker on its line: the first line of the day's text


@dataclass(frozen=True)
class Scan:
    headings: tuple[HeadingLine, ...]
    # Lines of whole-line HTML comments that hold a heading: commented-out templates
    # or sections. They are not entries and not part of any body.
    hidden: frozenset[int]


@dataclass
class _State:
    fence: tuple[str, int] | None = None
    comment: list[int] | None = None  # lines of the open comment (None: not in one)
    comment_whole: bool = False  # the open comment began at the start of its line
    comment_heading: bool = False
    details: int = 0  # open <details> blocks: a '#' line in one is part of what it folds away


def scan_lines(lines: list[str], date_lines: bool = False, day_items: bool = False) -> Scan:
    """Headings (ATX at any level, setext only when dated) and commented-out sections; a
    heading inside a fenced block, a comment or a `<details>` block is none. With `date_lines`,
    a paragraph that is only a date (`**March 1, 2020**`) heads a day too, at level 0: for logs
    that mark their days that way and have no dated heading. With `day_items`, a list item
    that opens with a day (`- **Day 1 (July 7, 2018):** Linear regression`) heads one, its
    marker the heading and the rest of its line the day's first line: a log kept as a list."""
    state = _State()
    headings: list[HeadingLine] = []
    hidden: set[int] = set()
    skip_next = False
    for index, line in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        if state.fence is not None:
            if _closes(line, state.fence):
                state.fence = None
            continue
        if state.comment is not None:
            _continue_comment(state, index, line, hidden)
            continue
        if _open_fence(state, line) or _open_comment(state, index, line):
            continue
        was_inside = state.details > 0
        state.details = max(0, state.details + len(_DETAILS_OPEN.findall(line)) - len(_DETAILS_CLOSE.findall(line)))
        if was_inside or state.details:
            continue
        heading = _heading_at(lines, index) or (_date_line_at(lines, index) if date_lines else None) or (
            day_item_at(lines, index) if day_items else None)
        if heading is not None:
            headings.append(heading)
            skip_next = heading.end > index
    if state.comment is not None and state.comment_whole and state.comment_heading:
        hidden.update(state.comment)  # never closed: HTML hides the rest of the file
    return Scan(tuple(headings), frozenset(hidden))


def _closes(line: str, fence: tuple[str, int]) -> bool:
    stripped = line.strip()
    char, length = fence
    return len(stripped) >= length and stripped == char * len(stripped)


def _open_fence(state: _State, line: str) -> bool:
    match = _FENCE.match(line)
    if not match or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return False
    state.fence = (match.group(1)[0], len(match.group(1)))
    return True


def _open_comment(state: _State, index: int, line: str) -> bool:
    """Start a comment that runs past this line; True when the line is only comment."""
    start = line.find("<!--")
    if start < 0:
        return False
    whole = not line[:start].strip()
    end = line.find("-->", start + 4)
    if end >= 0:
        return whole and not line[end + 3 :].strip()  # a one-line comment is never a heading
    state.comment = [index] if whole else []
    state.comment_whole = whole
    state.comment_heading = False
    return whole


def _continue_comment(state: _State, index: int, line: str, hidden: set[int]) -> None:
    assert state.comment is not None
    state.comment.append(index)
    if ATX.match(line):
        state.comment_heading = True
    end = line.find("-->")
    if end < 0:
        return
    if state.comment_whole and state.comment_heading and not line[end + 3 :].strip():
        hidden.update(state.comment)
    state.comment = None


def _date_line_at(lines: list[str], index: int) -> HeadingLine | None:
    line = lines[index]
    alone = index == 0 or not lines[index - 1].strip() or bool(ATX.match(lines[index - 1]))
    if alone and line.strip() and not line.startswith((" ", "\t")) and read_date_line(line) is not None:
        return HeadingLine(index, index, 0, line.strip())
    return None


def day_item_at(lines: list[str], index: int) -> HeadingLine | None:
    """A top-level list item whose opening words name a day (a date or a day number), or a
    paragraph that opens with one in bold (`**Day 3:** ...`)."""
    line = lines[index]
    item = _ITEM.match(line)
    if item is not None:
        text = item.group(1).strip()
        lead = _BOLD_LEAD.match(text) or _PLAIN_LEAD.match(text)
    elif index == 0 or not lines[index - 1].strip():
        lead = _BOLD_LEAD.match(line.rstrip())
    else:
        lead = None
    if lead is None:
        return None
    marker = lead.group("marker").strip().rstrip(":").strip()
    reading = read_date_text(marker)
    if not reading.is_dated or reading.template or len(reading.rest) > 40:  # a title may follow the day, no more
        return None
    return HeadingLine(index, index, ITEM_LEVEL, marker, lead.group("rest").strip())


def _heading_at(lines: list[str], index: int) -> HeadingLine | None:
    line = lines[index]
    match = ATX.match(line)
    if match:
        return HeadingLine(index, index, len(match.group(1)), (match.group(2) or "").strip())
    if index + 1 < len(lines) and line.strip() and (index == 0 or not lines[index - 1].strip()):
        underline = _SETEXT.match(lines[index + 1])
        if underline and not line.startswith((" " * 4, "\t")) and read_date_text(line).is_dated:
            level = 1 if underline.group(1)[0] == "=" else 2
            return HeadingLine(index, index + 1, level, line.strip())
    return None
