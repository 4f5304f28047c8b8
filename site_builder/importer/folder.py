"""IMPORT, folders: one Markdown file per day, the date (or day number) in its name."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..confine import walk_confined
from ..errors import Diagnostic
from .dates import DateReading, Problem, read_date_text
from .guess import DateContext
from .log import finish, first_round, split_text
from .meta import normalise_tags
from .model import GUESS, SKIPPED, AboutPage, Expect, ImportResult, Kept
from .resolve import Section, Span, read_section
from .scan import scan_lines

SUFFIXES = (".md", ".markdown")
_SEPARATED = re.compile(r"(?<!\d)(\d{4})[-_./](\d{1,2})[-_./](\d{1,2})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_NAME_DAY = re.compile(r"\bR(\d+)[-_ ]?D(\d+)|(?:\bday|^)[-_ ]?(\d{1,4})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class DayFile:
    path: str  # as reported in diagnostics
    text: str
    name: DateReading  # what the file name says


def parse_folder(folder: Path, start: dt.date | None = None, today: dt.date | None = None) -> ImportResult:
    """Read every day file under `folder` (I/O, through the one confined walk), then split them like
    `parse_log` does. Its other files (images beside the notes) are copied beside the entries."""
    found, refused = walk_confined(folder, folder)
    files, assets, notes = [], [], list(refused)
    for f in found:
        path = (folder / f.rel).as_posix()
        if not f.rel.lower().endswith(SUFFIXES):
            assets.append((f.rel, f.path))
            continue
        data = Path(f.path).read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append(Diagnostic(path, None, "not UTF-8: read as Latin-1", "warning",
                                    "check its accented letters; save it as UTF-8", GUESS))
        files.append(DayFile(path, text, read_file_name(f.rel)))
    result = parse_day_files(files, start, today or dt.date.today())
    return dataclasses.replace(result, diagnostics=tuple(notes) + result.diagnostics, assets=tuple(assets))


def read_file_name(relative: str) -> DateReading:
    """'2018-09-20.md', 'logs/2018/09/20.md', '20180920-notes.md', 'day-12.md', 'R1D12.md'."""
    stem = relative.rsplit(".", 1)[0]
    for pattern in (_SEPARATED, _COMPACT):
        match = pattern.search(stem)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return DateReading(date=dt.date(year, month, day))
            except ValueError:
                return DateReading(problem=Problem(f"'{match.group(0)}' in the file name is not a real date",
                                                   "rename the file to its YYYY-MM-DD date"))  # fmt: skip
    match = _NAME_DAY.search(stem.rsplit("/", 1)[-1])
    if match:
        if match.group(2):
            return DateReading(day_number=int(match.group(2)), round_number=int(match.group(1)))
        return DateReading(day_number=int(match.group(3)))
    spelt = read_date_text(re.sub(r"[-_.]+", " ", stem.rsplit("/", 1)[-1]))  # 'March 2 2020.md', 'mar-3-2020.md'
    if spelt.date is not None or (spelt.problem is not None and spelt.problem.kind != "other"):
        return DateReading(date=spelt.date, problem=spelt.problem, missing_year=spelt.missing_year)
    return DateReading()


def parse_day_files(files: list[DayFile], start: dt.date | None, today: dt.date) -> ImportResult:
    """Pure: each dated file is one day's section; files with no date make the About page."""
    sections: list[Section] = []
    notes: list[Diagnostic] = []
    sources: dict[str, list[str]] = {}
    about: list[tuple[DayFile, list[str]]] = []
    notes_by_name = {_stem(f.path): f.name.date for f in files if f.name.date is not None}
    for file in files:
        lines = [wiki_links(line, notes_by_name) for line in split_text(file.text)]
        sources[file.path] = lines
        section = _read_day_file(file, lines, notes)
        if section is None:
            about.append((file, lines))
        else:
            sections.append(section)
    ordered = sorted(sections, key=_file_order)  # by the day each file describes, not by its name
    context = DateContext(start, first_round(ordered), None, today)
    page, kept = _about(about)
    return finish(ordered, context, sources, page, kept, notes)


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _file_order(section: Section) -> tuple[int, str, str]:
    reading = section.reading
    known = reading.date.isoformat() if reading.date else ""
    return (reading.round_number or 1, known or f"~{reading.day_number or 0:09d}", section.path)


_WIKI = re.compile(r"(!?)\[\[([^\[\]|#]+)(?:#[^\[\]|]*)?(?:\|([^\[\]]*))?\]\]")


def wiki_links(line: str, notes: dict[str, dt.date]) -> str:
    """`![[plot.png]]` -> `![plot.png](plot.png)`; `[[2020-03-01|day one]]` -> a link to that day's entry
    file. A note that was not imported keeps its `[[...]]`."""
    def convert(match: re.Match[str]) -> str:
        bang, target, label = match.group(1), match.group(2).strip(), (match.group(3) or "").strip()
        if bang:
            return f"![{label or target}](<{target}>)"
        date = notes.get(target)
        return f"[{label or target}]({date.isoformat()}.md)" if date else match.group(0)

    return _WIKI.sub(convert, line) if "[[" in line else line


@dataclass(frozen=True)
class FrontMatter:
    """What a note's own YAML block (Obsidian, Jekyll) says that an entry can keep."""

    end: int  # index of the first line after it (0: there is none)
    tags: tuple[str, ...] = ()
    title: str | None = None
    date: DateReading | None = None
    uses: tuple[tuple[int, tuple[Expect, ...]], ...] = ()  # each line read: what it became
    unread: tuple[int, ...] = ()  # lines of keys an entry has no place for


def read_front_matter(lines: list[str]) -> FrontMatter:
    """`tags`, `title` and `date` of a leading `---` block; its other keys are left for the review."""
    if not lines or lines[0].strip() != "---":
        return FrontMatter(0)
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return FrontMatter(0)
    blocks: dict[str, list[int]] = {}
    key = ""
    for i in range(1, end):
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:", lines[i])
        key = match.group(1).lower() if match else key
        blocks.setdefault(key, []).append(i)
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError:
        data = {}
    data = data if isinstance(data, dict) else {}
    tags: list[str] = []
    uses: list[tuple[int, tuple[Expect, ...]]] = []
    unread: list[int] = []
    title = None
    for name, indices in blocks.items():
        value = data.get(name)
        if name == "tags" and isinstance(value, (list, str)):
            for i in indices:
                found = normalise_tags(re.sub(r"^\s*(?:tags\s*:|-)\s*", "", lines[i]).strip("[] "))
                tags += [t for t in found if t not in tags]
                uses.append((i, tuple(("tag", t) for t in found)))
        elif name == "title" and isinstance(value, str) and value.strip() and len(indices) == 1:
            title = value.strip()
            uses.append((indices[0], (("title", title),)))
        elif name == "date" and value is not None and len(indices) == 1:
            uses.append((indices[0], (("date", ""),)))  # filled in once the date is settled
        else:
            unread += [i for i in indices if lines[i].strip()]
    date = read_date_text(str(data["date"])) if data.get("date") is not None else None
    uses += [(0, ()), (end, ())]  # the two '---' lines carry nothing
    return FrontMatter(end + 1, tuple(tags), title, date, tuple(uses), tuple(unread))


def _read_day_file(file: DayFile, lines: list[str], notes: list[Diagnostic]) -> Section | None:
    front = read_front_matter(lines)
    scan = scan_lines(lines)
    first = next((i for i, line in enumerate(lines) if line.strip() and i >= front.end), None)
    heading = next((h for h in scan.headings if h.index == first), None)
    reading = read_date_text(heading.text) if heading is not None else None
    if heading is None or reading is None or not reading.is_dated or reading.template:
        heading, reading = None, None
    reading = reading or front.date
    if file.name == DateReading() and reading is None:
        return None
    combined = _combine(file, reading, heading.index + 1 if heading else 1, notes)
    start = heading.end + 1 if heading is not None else front.end
    line = heading.index + 1 if heading is not None else 1
    span = Span(start, len(lines), line, combined, heading.index if heading else None, heading.end if heading else None)
    section = read_section(lines, scan, span, file.path)
    if not front.end:
        return section
    if front.unread:
        notes.append(Diagnostic(file.path, front.unread[0] + 1, "skipped: front matter keys an entry has no place for;"
                                " their lines are quoted in the review", "warning",
                                "copy what you want to keep into the entry", SKIPPED))
    meta = dataclasses.replace(section.meta, tags=tuple(dict.fromkeys(front.tags + section.meta.tags)))
    return dataclasses.replace(section, meta=meta, extra=front.uses, unread=front.unread,
                               title=front.title or section.title,
                               title_from_heading=section.title_from_heading and front.title is None)


def _combine(file: DayFile, heading: DateReading | None, line: int, notes: list[Diagnostic]) -> DateReading:
    """The file name's date or day, checked against the first heading's: the name wins."""
    name = file.name
    if heading is None:
        return name
    if name.date and heading.date and name.date != heading.date:
        notes.append(Diagnostic(file.path, line, f"guessed {name.date}: the file name says {name.date} but the"
                                f" heading says {heading.date}", "warning", "rename the file or fix the heading",
                                GUESS))  # fmt: skip
    if name.problem or (heading.problem and not name.date):
        return name if name.problem else heading
    return DateReading(
        date=name.date or heading.date,
        day_number=heading.day_number if heading.day_number is not None else name.day_number,
        round_number=heading.round_number or name.round_number,
        rest=heading.rest,
    )


def _about(files: list[tuple[DayFile, list[str]]]) -> tuple[AboutPage | None, list[Kept]]:
    """Files with no date (a README, notes): one after the other on the About page."""
    parts: list[str] = []
    kept: list[Kept] = []
    for file, lines in files:
        text = "".join(line + "\n" for line in lines).strip("\n")
        if text:
            parts.append(text + "\n")
            kept += [Kept(file.path, i + 1, "about", (("body", line),)) for i, line in enumerate(lines) if line.strip()]
    return (AboutPage("\n".join(parts), None, None) if parts else None), kept
