"""IMPORT, reading dates: what a heading (or a date-only line) says about its day. Pure."""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

MONTHS = tuple(calendar.month_name[1:])  # "January" .. "December"
_MONTH_NUMBERS: dict[str, int] = {}
for _number, _name in enumerate(MONTHS, start=1):
    _MONTH_NUMBERS[_name.lower()] = _number
    _MONTH_NUMBERS[_name[:3].lower()] = _number
_MONTH_NUMBERS["sept"] = 9

_WEEKDAYS = "|".join(list(calendar.day_name) + list(calendar.day_abbr) + ["Tues", "Thur", "Thurs"])
_WEEKDAY = re.compile(
    rf"\b(?:{_WEEKDAYS})\b\.?|(?:星期|礼拜|周)[一二三四五六日天]|[(（][月火水木金土日](?:曜日?)?[)）]|[月火水木金土日]曜日?",
    re.IGNORECASE,
)

_ORDINAL = r"(?:st|nd|rd|th)?"
_CJK = re.compile(r"(?:(\d{4})\s*[年년]\s*)?(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日号일]?(?!\d)")
_ISO = re.compile(r"(?<![\d/.-])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d/])")
_NUMERIC_US = re.compile(r"(?<![\d/.-])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
_MONTH_FIRST = re.compile(
    rf"(?<![A-Za-z])([A-Za-z]{{3,}})\.?\s+(\d{{1,2}}){_ORDINAL}(?![\d:])(?:\s*,?\s*(\d{{4}})(?!\d))?", re.IGNORECASE
)
_DAY_FIRST = re.compile(
    rf"(?<![\dA-Za-z])(\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?([A-Za-z]{{3,}})\.?(?:\s*,?\s*(\d{{4}})(?!\d))?",
    re.IGNORECASE,
)
_DASH = r"\s*(?:-|–|—|~|to|until|through)\s*"
_RANGE_MONTH_FIRST = re.compile(
    rf"(?<![A-Za-z])([A-Za-z]{{3,}})\.?\s+(\d{{1,2}}){_ORDINAL}{_DASH}(?:([A-Za-z]{{3,}})\.?\s+)?(\d{{1,2}}){_ORDINAL}"
    rf"(?![\d:])(?:\s*,?\s*(\d{{4}})(?!\d))?",
    re.IGNORECASE,
)
_RANGE_DAY_FIRST = re.compile(
    rf"(?<![\dA-Za-z])(\d{{1,2}}){_ORDINAL}{_DASH}(\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?([A-Za-z]{{3,}})\.?"
    rf"(?:\s*,?\s*(\d{{4}})(?!\d))?",
    re.IGNORECASE,
)
_RANGE_ISO = re.compile(r"(?<![\d/.-])(\d{4})-(\d{1,2})-(\d{1,2})\s*(?:–|—|~|to|until|\s-\s)\s*(?:(\d{4})-)?(\d{1,2})-(\d{1,2})(?![\d/])")
_DAY_NUMBER = re.compile(r"\bday\s*#?\s*(\d+)\b|第\s*(\d+)\s*天", re.IGNORECASE)
_ROUND_DAY = re.compile(r"\bR(\d+)\s*D(\d+)\b", re.IGNORECASE)

# Placeholders of a log template: "Day X: Month Day, Year", "YYYY/M/D", "X月X日".
_TEMPLATE = re.compile(
    r"\bY{4}\b|\bY{2}\b|\b(?:MM|DD)\b|\bM/D\b|\bD/M\b|\bday\s+[XN]\b|\bR[XN\d]*D[XN]\b"
    r"|\bmonth\s+(?:day|dd?)\b|[XN]\s*[月日]|\(\s*example\b",
    re.IGNORECASE | re.ASCII,
)
# A heading that names a template: everything under it, dated or not, is the template.
_TEMPLATE_TITLE = re.compile(r"^\W*(?:(?:log|entry|day|daily)\s+)?(?:template|模板)\W*$", re.IGNORECASE)
_TRIM = " \t-–—:|,*_~/"


ProblemKind = Literal["no-year", "month", "ambiguous", "impossible", "other"]


@dataclass(frozen=True)
class Problem:
    """Why a date cannot be read for sure, and what is known of it for a guess."""

    message: str
    hint: str | None = None
    kind: ProblemKind = "other"
    year: int | None = None
    month: int | None = None
    day: int | None = None
    alternatives: tuple[dt.date, ...] = ()  # the readings of an ambiguous date
    written: str = ""  # the text read as a date


@dataclass(frozen=True)
class DateReading:
    """What a piece of heading text says about its day.

    `date` and `problem` never both set; `rest` is the text left once the date,
    day number and weekday are taken out (a candidate title).
    """

    date: dt.date | None = None
    day_number: int | None = None
    round_number: int | None = None
    problem: Problem | None = None
    missing_year: str | None = None  # the text that lacks a year, for the hint
    rest: str = ""
    template: bool = False
    range_end: tuple[int | None, int, int] | None = None  # (year or None, month, day) a range ends on
    range_text: str | None = None

    @property
    def is_dated(self) -> bool:
        """Whether the text claims a day (even if it fails to name it correctly)."""
        return bool(self.template or self.date or self.day_number is not None or self.problem)


def is_template(text: str) -> bool:
    """A placeholder heading ('Day X: Month Day, Year', 'YYYY/M/D') or a 'Template' one."""
    return bool(_TEMPLATE.search(text)) or is_template_title(text)


def is_template_title(text: str) -> bool:
    return bool(_TEMPLATE_TITLE.match(text))


def read_date_text(text: str) -> DateReading:
    """Read a heading's text: its date, day number, problems and leftover title."""
    text = unicodedata.normalize("NFKC", text)  # full-width digits: ２０２０年３月１日
    if is_template(text):
        return DateReading(template=True, rest=text)
    spans: list[tuple[int, int]] = []
    day_number, round_number = _find_day_number(text, spans)
    ranged = _find_range(_mask(text, spans))
    if ranged is not None:
        span, (year, month, day), end = ranged
        spans.append(span)
        written = text[span[0] : span[1]].strip()
        date, problem, missing = _day_of(written, year, month, day)
        return DateReading(date, day_number, round_number, problem, missing, _rest_of(text, spans),
                           range_end=end, range_text=written)
    date, problem, missing = _find_date(text, spans)
    rest = _rest_of(text, spans)
    return DateReading(date, day_number, round_number, problem, missing, rest)


def read_date_line(text: str) -> DateReading | None:
    """A body line that is only a date (`*March 5, 2019*`, `Date: 2019-03-05`), else None."""
    core = re.sub(r"^\s*[*_]*\s*date\s*[*_]*\s*:\s*", "", text, flags=re.IGNORECASE)
    reading = read_date_text(core)
    if reading.template or reading.day_number is not None or reading.rest.strip("*_ .()"):
        return None
    if reading.date is None and reading.problem is None:
        return None
    return reading


_Ymd = tuple[int | None, int, int]


def _find_range(text: str) -> tuple[tuple[int, int], _Ymd, _Ymd] | None:
    """'Mar 3 - 6, 2020', 'July 1 - August 2', '3-6 March 2020', '2020-03-03 to 2020-03-06'."""
    match = _RANGE_ISO.search(text)
    if match:
        y1, m1, d1, y2, m2, d2 = match.groups()
        return match.span(), (int(y1), int(m1), int(d1)), (int(y2 or y1), int(m2), int(d2))
    match = _RANGE_MONTH_FIRST.search(text)
    if match:
        word, d1, word2, d2, year = match.groups()
        m1 = _MONTH_NUMBERS.get(word.lower())
        m2 = _MONTH_NUMBERS.get((word2 or word).lower())
        if m1 and m2:
            y = int(year) if year else None
            return match.span(), (y, m1, int(d1)), (y, m2, int(d2))
    match = _RANGE_DAY_FIRST.search(text)
    if match:
        d1, d2, word, year = match.groups()
        month = _MONTH_NUMBERS.get(word.lower())
        if month:
            y = int(year) if year else None
            return match.span(), (y, month, int(d1)), (y, month, int(d2))
    return None


def _day_of(written: str, year: int | None, month: int, day: int) -> tuple[dt.date | None, Problem | None, str | None]:
    if year is None:
        problem = Problem(f"'{written}' has no year", None, "no-year", None, month, day, written=written)
        return None, problem, written
    try:
        return dt.date(year, month, day), None, None
    except ValueError:
        return None, _impossible(written, year, month, day), None


def _find_day_number(text: str, spans: list[tuple[int, int]]) -> tuple[int | None, int | None]:
    match = _ROUND_DAY.search(text)
    if match:
        spans.append(match.span())
        return int(match.group(2)), int(match.group(1))
    match = _DAY_NUMBER.search(text)
    if match:
        spans.append(match.span())
        return int(match.group(1) or match.group(2)), None
    return None, None


def _find_date(text: str, spans: list[tuple[int, int]]) -> tuple[dt.date | None, Problem | None, str | None]:
    masked = _mask(text, spans)
    for reader in (_read_cjk, _read_iso, _read_us, _read_named):
        found = reader(masked)
        if found is not None:
            span, date, problem, missing = found
            spans.append(span)
            return date, problem, missing
    return None, None, None


_Found = tuple[tuple[int, int], dt.date | None, Problem | None, str | None]


def _read_cjk(text: str) -> _Found | None:
    match = _CJK.search(text)
    if not match:
        return None
    year, month, day = match.groups()
    if year is None:
        return match.span(), None, _missing_year(match.group(0), int(month), int(day)), match.group(0)
    return _checked(match, int(year), int(month), int(day))


def _read_iso(text: str) -> _Found | None:
    match = _ISO.search(text)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    return _checked(match, year, month, day)


def _read_us(text: str) -> _Found | None:
    match = _NUMERIC_US.search(text)
    if not match:
        return None
    first, second, year = (int(g) for g in match.groups())
    if first <= 12 and second <= 12 and first != second:
        problem = Problem(
            f"'{match.group(0)}' is ambiguous: month/day or day/month",
            f"write it as {year}-{first:02d}-{second:02d} or {year}-{second:02d}-{first:02d}",
            "ambiguous", alternatives=(dt.date(year, first, second), dt.date(year, second, first)),
            written=match.group(0),
        ) if 1 <= year <= 9999 else Problem(f"'{match.group(0)}' is not a real date", "fix the year")
        return match.span(), None, problem, None
    month, day = (first, second) if first <= 12 else (second, first)
    return _checked(match, year, month, day)


def _read_named(text: str) -> _Found | None:
    """'September 20, 2018', 'Sep 20th 2018', '20 September, 2018' (and misspellings)."""
    candidates: list[tuple[int, re.Match[str], str, str, str | None]] = []
    for match in _MONTH_FIRST.finditer(text):
        word, day, year = match.groups()
        candidates.append((match.start(), match, word, day, year))
    for match in _DAY_FIRST.finditer(text):
        day, word, year = match.groups()
        candidates.append((match.start(), match, word, day, year))
    for _, match, word, day, year in sorted(candidates, key=lambda c: c[0]):
        month = _MONTH_NUMBERS.get(word.lower())
        if month is None:
            suggestion = _month_suggestion(word)
            if suggestion is None:
                continue
            problem = Problem(f"'{word}' is not a month name", f"did you mean '{suggestion}'?", "month",
                              int(year) if year else None, MONTHS.index(suggestion) + 1, int(day),
                              written=match.group(0).strip())
            return match.span(), None, problem, match.group(0) if year is None else None
        if year is None:
            return match.span(), None, _missing_year(match.group(0), month, int(day)), match.group(0)
        return _checked(match, int(year), month, int(day))
    return None


def _month_suggestion(word: str) -> str | None:
    close = difflib.get_close_matches(word.lower(), [m.lower() for m in MONTHS], n=1, cutoff=0.75)
    return close[0].capitalize() if close else None


def _missing_year(text: str, month: int, day: int) -> Problem:
    # The year is guessed by the caller, which knows the neighbouring sections.
    return Problem(f"'{text.strip()}' has no year", None, "no-year", None, month, day, written=text.strip())


def _checked(match: re.Match[str], year: int, month: int, day: int) -> _Found:
    try:
        return match.span(), dt.date(year, month, day), None, None
    except ValueError:
        return match.span(), None, _impossible(match.group(0), year, month, day), None


def _impossible(written: str, year: int, month: int, day: int) -> Problem:
    if 1 <= month <= 12:
        length = calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 31
        why = f"{MONTHS[month - 1]} {year} has {length} days"
    else:
        why = f"there is no month {month}"
    return Problem(f"'{written.strip()}' is not a real date ({why})", "fix the day or the month", "impossible",
                   year, month, day, written=written.strip())


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _rest_of(text: str, spans: list[tuple[int, int]]) -> str:
    rest = _WEEKDAY.sub(" ", _mask(text, spans))
    rest = re.sub(r"\(\s*\)|\[\s*\]", " ", rest)
    rest = re.sub(r"\s+", " ", rest).strip(_TRIM)
    if re.fullmatch(r"\([^()]*\)", rest):  # "Day 4: July 4, 2018 (Tip calculator)"
        rest = rest[1:-1].strip(_TRIM)
    return rest
