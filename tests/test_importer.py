"""IMPORT: splitting single-README logs (and day-file folders) into entry files."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from site_builder.errors import errors_in, warnings_in
from site_builder.importer import (
    ImportedEntry,
    entry_file_text,
    import_log,
    parse_folder,
    parse_log,
    review_line,
    write_entries,
)
from site_builder.importer.meta import normalise_tags

FIXTURES = Path(__file__).parent / "fixtures" / "import"
SEED = next((p for p in (Path(os.environ.get("LOGBUILD_SEED", "/nonexistent")),
                         Path(__file__).resolve().parents[2] / "shared" / "seed" / "log-README.md",
                         Path(__file__).resolve().parents[3] / "shared" / "seed" / "log-README.md") if p.is_file()),
            Path("/nonexistent"))
D = dt.date


def only_entry(text: str, start: dt.date | None = None) -> ImportedEntry:
    result = parse_log(text, "log.md", start)
    assert not result.diagnostics, [d.format() for d in result.diagnostics]
    assert len(result.entries) == 1
    return result.entries[0]


# --- dates in headings -------------------------------------------------------------------

HEADING_DATES = [
    ("## 2018/9/20", None, D(2018, 9, 20), None),
    ("# 2018-09-20", None, D(2018, 9, 20), None),
    ("###### 2018.09.20", None, D(2018, 9, 20), None),
    ("### September 20, 2018", None, D(2018, 9, 20), None),
    ("## Sep 20th 2018 - Thursday", None, D(2018, 9, 20), None),
    ("## Sept. 20, 2018", None, D(2018, 9, 20), None),
    ("#### 20 September, 2018", None, D(2018, 9, 20), None),
    ("## 20th of Sep 2018", None, D(2018, 9, 20), None),
    ("## 2018年9月20日", None, D(2018, 9, 20), None),
    ("## 2018年9月20日 星期四", None, D(2018, 9, 20), None),
    ("## 9/20/2018", None, D(2018, 9, 20), None),
    ("### Day 12: July 3, 2018", None, D(2018, 7, 3), 12),
    ("### Day 3 - 2018-07-03", None, D(2018, 7, 3), 3),
    ("## R1D12", D(2018, 7, 1), D(2018, 7, 12), 12),
    ("## Day 12", D(2018, 7, 1), D(2018, 7, 12), 12),
    ("## 第3天", D(2018, 7, 1), D(2018, 7, 3), 3),
    ("## **2018/9/20**", None, D(2018, 9, 20), None),
    ("## 2018/9/20 ##", None, D(2018, 9, 20), None),
]


@pytest.mark.parametrize(("heading", "start", "date", "day"), HEADING_DATES)
def test_heading_dates(heading: str, start: dt.date | None, date: dt.date, day: int | None) -> None:
    entry = only_entry(f"# My log\n\n{heading}\n\nLearnt a thing.\n", start)
    assert (entry.date, entry.day_number, entry.title) == (date, day, None)
    assert entry.body == "Learnt a thing.\n"
    assert entry.source_line == 3


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2018/9/20\n=========\nbody\n", D(2018, 9, 20)),
        ("intro\n\nSeptember 20, 2018\n------------------\nbody\n", D(2018, 9, 20)),
    ],
)
def test_setext_date_headings(text: str, date: dt.date) -> None:
    assert only_entry(text).date == date


@pytest.mark.parametrize(
    ("heading", "title"),
    [
        ("## R1D2 - Lists and tuples", "Lists and tuples"),
        ("## 2018-09-20: Max pooling", "Max pooling"),
        ("### Day 4: July 4, 2018 (Tip calculator)", "Tip calculator"),
        ("## 2018-09-20: f(x) (a note)", "f(x) (a note)"),
        ("## Sep 20th 2018 - Thursday", None),
    ],
)
def test_heading_titles(heading: str, title: str | None) -> None:
    assert only_entry(f"{heading}\nbody\n", D(2018, 7, 1)).title == title


def test_title_falls_back_to_the_first_subheading_which_stays_in_the_body() -> None:
    entry = only_entry("## 2018/9/20\n\n### Backprop\n\ntext\n")
    assert entry.title == "Backprop"
    assert entry.body == "### Backprop\n\ntext\n"


@pytest.mark.parametrize(
    ("first_line", "date"),
    [
        ("*March 5, 2019*", D(2019, 3, 5)),
        ("**Date**: 2019-03-05", D(2019, 3, 5)),
        ("_5 March 2019 (Tuesday)_", D(2019, 3, 5)),
    ],
)
def test_date_from_the_first_body_line_which_stays_in_the_body(first_line: str, date: dt.date) -> None:
    entry = only_entry(f"## Day 3\n{first_line}\nTags: x\n\ntext\n")
    assert (entry.date, entry.day_number, entry.tags) == (date, 3, ("x",))
    assert entry.body == f"{first_line}\n\ntext\n"


@pytest.mark.parametrize("newest_first", [True, False])
def test_output_is_sorted_by_date_in_either_order(newest_first: bool) -> None:
    days = [f"## 2018/9/{n}\nday {n}\n" for n in (9, 10, 11)]
    text = "".join(reversed(days) if newest_first else days)
    result = parse_log(text, "log.md")
    assert [e.date.day for e in result.entries] == [9, 10, 11]
    assert [e.body for e in result.entries] == ["day 9\n", "day 10\n", "day 11\n"]


# --- what is not an entry ----------------------------------------------------------------

NOT_ENTRIES = [
    ("template heading", "## Day X: Month Day, Year\nWhat I did\n## 2018/9/20\nreal\n"),
    ("YYYY placeholder", "## YYYY/M/D\nTags:\n## 2018/9/20\nreal\n"),
    ("template section", "## Template\n### Day N: Month Day, Year\n### 2018/9/1\nx\n## 2018/9/20\nreal\n"),
    ("example day", "### Day 0: February 30, 2016 (Example 1)\nx\n## 2018/9/20\nreal\n"),
    ("multi-line comment", "<!--\n## 2018/9/1\nold\n-->\n## 2018/9/20\nreal\n"),
    ("one-line comment", "<!-- ## 2018/9/1 -->\n## 2018/9/20\nreal\n"),
    ("fenced code", "## 2018/9/20\nreal\n```\n## 2018/9/1\n```\n"),
    ("tilde fence", "## 2018/9/20\nreal\n~~~~\n## 2018/9/1\n~~~~\n"),
    ("indented code", "## 2018/9/20\nreal\n\n    ## 2018/9/1\n"),
    (
        "preamble",
        "# 2018 Learning Log\nRules: one hour a day.\n### Current streak: 1 days\n## 2018/9/20\nreal\n",
    ),
]


@pytest.mark.parametrize(("case", "text"), NOT_ENTRIES, ids=[c for c, _ in NOT_ENTRIES])
def test_only_real_dated_sections_are_entries(case: str, text: str) -> None:
    result = parse_log(text, "log.md")
    assert [e.date for e in result.entries] == [D(2018, 9, 20)]
    assert not errors_in(result.diagnostics)
    assert result.entries[0].body.startswith("real\n")


def test_code_and_comments_inside_a_section_are_kept() -> None:
    text = "## 2018/9/20\nreal\n<!-- a note -->\n```\n## 2018/9/1\n```\n<!--\n## Day X\n-->\n"
    result = parse_log(text, "log.md")
    assert [e.body for e in result.entries] == ["real\n<!-- a note -->\n```\n## 2018/9/1\n```\n"]
    assert [review_line(d) for d in result.diagnostics] == [
        ("log.md:7: skipped: a comment (lines 7-9, <!-- -->); its lines are quoted in the review"
        " (copy what you want to keep into the entry)")]


# --- tags, links, streaks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "tags"),
    [
        ("Tags: colab runtime gce", ("colab", "runtime", "gce")),
        ("**Tags**: Keras, CNN,keras", ("keras", "cnn")),
        ("**Tags:** a, b c", ("a", "b", "c")),
        ("tags: #python `numpy`", ("python", "numpy")),
        ("Tags:", ()),
    ],
)
def test_tag_lines(line: str, tags: tuple[str, ...]) -> None:
    entry = only_entry(f"## 2018/9/20\n{line}\n\ntext\n")
    assert entry.tags == tags
    assert entry.body == "text\n"


@pytest.mark.parametrize(
    ("lines", "links"),
    [
        ("Colab: https://colab.example/a", [("colab", "https://colab.example/a")]),
        ("**Gist**: <https://gist.example/b>", [("gist", "https://gist.example/b")]),
        ("Notebook: https://nb.example/c\nVideo: https://v.example/d",
         [("notebook", "https://nb.example/c"), ("video", "https://v.example/d")]),
        ("Videos:\n* https://v.example/1\n- https://v.example/2",
         [("video-1", "https://v.example/1"), ("video-2", "https://v.example/2")]),
        ("Colab: https://c.example/1\nColab: https://c.example/2",
         [("colab", "https://c.example/1"), ("colab-2", "https://c.example/2")]),
    ],
)  # fmt: skip
def test_link_lines(lines: str, links: list[tuple[str, str]]) -> None:
    entry = only_entry(f"## 2018/9/20\nTags: t\n\n{lines}\n\ntext\n")
    assert list(entry.links) == links
    assert entry.body == "text\n"


def test_link_lines_anywhere_in_a_section_are_links() -> None:
    entry = only_entry("## 2018/9/20\ntext first\n\nColab: https://c.example/1\n\nmore\n```\nGist: https://g.example\n```\n")
    assert entry.links == (("colab", "https://c.example/1"),)  # the one in code stays code
    assert entry.body == "text first\n\nmore\n```\nGist: https://g.example\n```\n"


@pytest.mark.parametrize(
    "body",
    [
        "Colab: [my notebook](https://c.example/1)\n",  # not a bare URL
        "Videos:\n* https://v.example/1 (the good one)\n",  # a list item with more than a URL
        "Tags: see https://t.example\n",  # a link is not a tag
    ],
)
def test_lines_that_only_look_like_metadata_stay_in_the_body(body: str) -> None:
    entry = only_entry(f"## 2018/9/20\n{body}")
    assert entry.links == () and entry.tags == ()
    assert entry.body == body


@pytest.mark.parametrize(
    ("header", "current", "best"),
    [
        ("### Current streak: 11 days\n### Best streak: 12 days\n", 11, 12),
        ("Current streak: 1 day\n", 1, None),
        ("**Longest streak**: 30 days\n", None, 30),
        ("# Log\n", None, None),
    ],
)
def test_declared_streaks(header: str, current: int | None, best: int | None) -> None:
    result = parse_log(f"{header}\n## 2018/9/20\nCurrent streak: 99 days\n", "log.md")
    assert (result.declared_days("current"), result.declared_days("best")) == (current, best)


def test_normalise_tags() -> None:
    assert normalise_tags("Keras  CNN,cnn , #RNN") == ["keras", "cnn", "rnn"]


# --- what cannot be read for sure: a guess, at its line --------------------------------------

GUESSES = [
    ("## 2018/9/19\nx\n## September 20\ny\n", None, [D(2018, 9, 19), D(2018, 9, 20)],
     "log.md:3: guessed 2018-09-20 for 'September 20' (year from the neighbouring sections)"),
    ("## 9月20日\ny\n", None, [D(2023, 9, 20)],
     "log.md:1: guessed 2023-09-20 for '9月20日' (no section names a year: the latest up to today)"),
    ("## Setpember 20, 2018\ny\n", None, [D(2018, 9, 20)],
     "log.md:1: guessed 2018-09-20 for 'Setpember 20, 2018' ('Setpember' read as September)"),
    ("## 2018/2/30\ny\n", None, [],
     ("log.md:1: skipped: '2018/2/30' is not a real date (February 2018 has 28 days); its lines are quoted in the"
     " review (fix the day or the month)")),
    ("## 2018-03-01\nx\n## 3/4/2018\ny\n", None, [D(2018, 3, 1), D(2018, 3, 4)],
     "log.md:3: guessed 2018-03-04 for '3/4/2018' (read as month/day, nearer the neighbouring sections)"),
    ("### Day 1: July 1, 2018\nx\n### Day 12: July 3, 2018\ny\n", None, [D(2018, 7, 1), D(2018, 7, 3)],
     ("log.md:3: warning: day 12 is dated 2018-07-03, but day 1 (line 1) is dated 2018-07-01, which makes day 12"
     " 2018-07-12 at the earliest (check the day number and the date of both sections)")),
    ("## 2018/9/20\nx\n\n## September 20, 2018\ny\n", None, [D(2018, 9, 20)],
     ("log.md:4: a second section for 2018-09-20 (line 1): merged into its entry, under its own heading (move it"
     " to an entry of its own if it belongs to another day)")),
    ("## Day 3\ny\n", None, [D(2024, 1, 3)],
     "log.md:1: guessed 2024-01-03 for day 3 (no date anywhere: counted back from today; pass --start YYYY-MM-DD)"),
    ("## R1D1\nx\n## R2D1\ny\n", D(2018, 1, 1), [D(2018, 1, 1), D(2018, 1, 2)],
     "log.md:3: guessed 2018-01-02 for round 2 day 1 (the day after the section on line 1)"),
    ("## Day 3\n*Marhc 5, 2019*\ny\n", None, [D(2019, 3, 5)],
     "log.md:2: guessed 2019-03-05 for 'Marhc 5, 2019' ('Marhc' read as March)"),
    ("## 2018/9/20\nx\n## Resources\n* a link\n", None, [D(2018, 9, 20)],
     ("log.md:3: warning: 'Resources' (lines 3-4) has no date: it is on the About page (give it a dated heading"
     " to make it a day of the log)")),
    ("## 2018/9/20\n\n", None, [],
     ("log.md:1: skipped: an empty section (a heading with nothing under it); its lines are quoted in the review"
     " (write what you learnt under it, or delete the heading)")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "start", "dates", "line"), GUESSES)
def test_unsure_dates_are_guessed_and_listed_at_their_line(
    text: str, start: dt.date | None, dates: list[dt.date], line: str
) -> None:
    result = parse_log(text, "log.md", start, today=D(2024, 1, 3))
    assert [review_line(d) for d in result.diagnostics] == [line.replace(": warning: ", ": ")]
    assert not errors_in(result.diagnostics)
    assert [e.date for e in result.entries] == dates


def test_every_guess_is_collected() -> None:
    text = "## Setpember 1, 2018\na\n## 2018/2/30\nb\n## Day 4\nc\n## 2018/9/20\nd\n"
    result = parse_log(text, "log.md")
    assert [d.line for d in result.diagnostics] == [1, 3, 5]
    assert [e.date for e in result.entries] == [D(2018, 9, 1), D(2018, 9, 2), D(2018, 9, 20)]


# --- the seed log ------------------------------------------------------------------------

needs_seed = pytest.mark.skipif(not SEED.exists(), reason="the shared seed log is not here")
_META = re.compile(r"^\s*(tags|colab|gist|notebook|video|videos)\s*:", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s)>\]]+")


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@needs_seed
def test_seed_log(seed_text: str) -> None:
    result = parse_log(seed_text, "log-README.md")
    assert not result.diagnostics, [d.format() for d in result.diagnostics]
    assert [e.date for e in result.entries] == [D(2018, 9, d) for d in range(9, 21)]
    assert (result.declared_days("current"), result.declared_days("best")) == (11, 11)
    by_date = {e.date: e for e in result.entries}
    day19 = by_date[D(2018, 9, 19)]
    assert day19.tags == ("colab", "runtime", "gce", "image", "adam", "optimizer")
    assert day19.links == (
        ("colab", "https://colab.research.google.com/drive/1VeVqxRcTLP550AlE_ceIiSkrxqjJ_HQY"),
    )
    urls = {url for _, url in by_date[D(2018, 9, 17)].links}
    assert {
        "https://www.youtube.com/watch?v=_e-LFe_igno",
        "https://www.youtube.com/watch?v=defQQqkXEfE",
    } <= urls


@needs_seed
def test_seed_log_is_lossless(seed_text: str) -> None:
    """Every line of every dated section is in a body, or is a Tags:/link line whose content is kept."""
    result = parse_log(seed_text, "log-README.md")
    by_line = {e.source_line: e for e in result.entries}
    entry = None
    in_link_list = False  # the bullets under a "Videos:" line
    for number, line in enumerate(seed_text.splitlines(), start=1):
        if number in by_line:
            entry = by_line[number]
            continue
        in_link_list = in_link_list and line.startswith("* http")
        if entry is None or not line.strip():
            continue
        if line.startswith("Tags:"):
            assert set(normalise_tags(line[5:])) <= set(entry.tags)
        elif _META.match(line) or in_link_list:
            in_link_list = in_link_list or line.startswith("Videos:")
            assert set(_URL.findall(line)) <= {url for _, url in entry.links}, line
        else:
            assert line in entry.body.splitlines(), (number, line)


@needs_seed
def test_seed_log_order_does_not_matter(seed_text: str) -> None:
    forward = parse_log(seed_text, "log-README.md")
    sections = re.split(r"(?m)^(?=## )", seed_text)
    flipped = sections[0] + "".join(reversed(sections[1:]))
    backward = parse_log(flipped, "log-README.md")

    def content(entries: tuple[ImportedEntry, ...]) -> list[tuple[object, ...]]:
        return [(e.date, e.tags, e.links, e.body.rstrip("\n")) for e in entries]

    assert content(backward.entries) == content(forward.entries)


# --- the fixture logs --------------------------------------------------------------------


def test_hundred_days_of_code_log() -> None:
    result = parse_log((FIXTURES / "hundred-days.md").read_text(encoding="utf-8"), "hundred-days.md")
    assert [review_line(d) for d in result.diagnostics] == [
        ("hundred-days.md:3: skipped: a comment (lines 3-9, <!-- -->); its lines are quoted in the review"
        " (copy what you want to keep into an entry)")]
    assert [(e.date, e.day_number) for e in result.entries] == [(D(2018, 7, d), d) for d in (1, 2, 3, 4)]
    assert result.declared_days("current") == 3
    day2, day3, day4 = result.entries[1:]
    assert day2.links == (("demo", "https://example.org/demo/day2"),)
    assert (day3.tags, day3.title) == (("css", "grid", "layout"), "Grid areas")
    assert "## 2018/7/1 is not a heading in here\n" in day4.body
    assert day4.body.endswith("**Link to work**: [Tip calculator](https://example.org/tips)\n")


R1D_TEMPLATE = [
    ("r1d.md:17: skipped: 'Template' (line 17) is a template, not a day; its lines are quoted in the review"
    " (copy what you want to keep into an entry)"),
    ("r1d.md:19: skipped: 'R1DX' (lines 19-21) is a template, not a day; its lines are quoted in the review"
    " (copy what you want to keep into an entry)"),
]


def test_r1d_log_with_start() -> None:
    text = (FIXTURES / "r1d.md").read_text(encoding="utf-8")
    result = parse_log(text, "r1d.md", D(2019, 7, 1))
    assert [(e.date, e.day_number, e.title) for e in result.entries] == [
        (D(2019, 7, 1), 1, None),
        (D(2019, 7, 2), 2, "Lists and tuples"),
        (D(2019, 7, 5), 3, None),  # its first line gives the date: the count went on across missed days
    ]
    assert [review_line(d) for d in result.diagnostics] == R1D_TEMPLATE
    assert result.entries[0].tags == ("python", "setup")


def test_r1d_log_without_start_counts_from_the_dated_day() -> None:
    result = parse_log((FIXTURES / "r1d.md").read_text(encoding="utf-8"), "r1d.md")
    assert [review_line(d) for d in result.diagnostics] == [
        "r1d.md:3: guessed 2019-07-03 for round 1 day 1 (counted from day 3 on line 12)",
        "r1d.md:8: guessed 2019-07-04 for round 1 day 2 (counted from day 3 on line 12)",
        *R1D_TEMPLATE,
    ]
    assert [e.date for e in result.entries] == [D(2019, 7, 3), D(2019, 7, 4), D(2019, 7, 5)]


def test_chinese_date_log() -> None:
    result = parse_log((FIXTURES / "chinese.md").read_text(encoding="utf-8"), "chinese.md")
    assert not result.diagnostics
    first, second = result.entries
    assert (first.date, second.date) == (D(2018, 9, 20), D(2018, 9, 21))
    assert second.tags == ("数学", "线性代数")
    assert second.links == (("notebook", "https://example.org/nb/matrix"),)  # a labelled link, wherever it is


def test_one_file_per_day_folder() -> None:
    result = parse_folder(FIXTURES / "day-files")
    assert [(e.date, e.title) for e in result.entries] == [
        (D(2019, 3, 1), "Getting started"),
        (D(2019, 3, 2), None),
        (D(2019, 3, 3), None),
    ]
    first, second, third = result.entries
    assert first.tags == ("rust", "cargo")
    assert first.body == "# Getting started\n\nMade a new crate with `cargo new`.\n"
    assert (second.day_number, second.body) == (2, "Ownership: every value has exactly one owner.\n")
    assert third.links == (("colab", "https://colab.research.google.com/drive/example-borrowing"),)
    assert result.diagnostics == ()
    assert result.about is not None and result.about.body == "# Notes index\n\nOne file per day.\n"  # README.md


@pytest.mark.parametrize(
    ("name", "text", "start", "expected"),
    [
        ("day-3.md", "x\n", D(2019, 3, 1), D(2019, 3, 3)),
        ("R1D2.md", "x\n", D(2019, 3, 1), D(2019, 3, 2)),
        ("20190305.md", "x\n", None, D(2019, 3, 5)),
        ("2019/03/06.md", "x\n", None, D(2019, 3, 6)),
    ],
)
def test_day_file_names(
    tmp_path: Path, name: str, text: str, start: dt.date | None, expected: dt.date
) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = parse_folder(tmp_path, start)
    assert [e.date for e in result.entries] == [expected]


def test_day_file_whose_heading_disagrees_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "2019-03-01.md").write_text("## March 2, 2019\nx\n", encoding="utf-8")
    result = parse_folder(tmp_path)
    assert [review_line(d) for d in result.diagnostics] == [
        (f"{tmp_path.as_posix()}/2019-03-01.md:1: guessed 2019-03-01: the file name says 2019-03-01 but the heading"
        " says 2019-03-02 (rename the file or fix the heading)")]
    assert [e.date for e in result.entries] == [D(2019, 3, 1)]


# --- entry files -------------------------------------------------------------------------

TITLES = st.one_of(st.none(), st.text(min_size=1).filter(lambda s: s.strip() == s and s.strip()))
TAGS = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1), unique=True)


@given(
    date=st.dates(min_value=D(1000, 1, 1), max_value=D(9999, 12, 31)),
    title=TITLES,
    tags=TAGS,
    links=st.dictionaries(st.text(min_size=1), st.text()),
    body=st.text(),
)
def test_entry_file_text_round_trips(
    date: dt.date, title: str | None, tags: list[str], links: dict[str, str], body: str
) -> None:
    entry = ImportedEntry(date, title, tuple(tags), tuple(links.items()), body, 1, None)
    text = entry_file_text(entry)
    assert text.startswith("---\n")
    head, rest = text[4:].split("\n---\n", 1)
    front = yaml.safe_load(head)
    assert front["date"] == date
    if not body.startswith("# "):
        assert front.get("title") == title
    assert front.get("tags", []) == tags
    assert front.get("links", {}) == links
    assert rest == body


def test_a_leading_level_one_heading_is_the_title_already() -> None:
    entry = ImportedEntry(D(2019, 3, 1), "Getting started", (), (), "# Getting started\n\ntext\n", 1, None)
    assert entry_file_text(entry) == "---\ndate: 2019-03-01\n---\n# Getting started\n\ntext\n"


def test_entry_file_text_looks_like_the_format() -> None:
    entry = ImportedEntry(
        D(2018, 9, 19), "Adam: rmsprop + momentum", ("colab", "adam"),
        (("colab", "https://colab.example/x"),), "text\n", 16, None,
    )  # fmt: skip
    assert entry_file_text(entry) == (
        "---\ndate: 2018-09-19\ntitle: 'Adam: rmsprop + momentum'\ntags: [colab, adam]\n"
        "links:\n  colab: https://colab.example/x\n---\ntext\n"
    )


# --- writing -----------------------------------------------------------------------------


def _result(*days: int) -> object:
    return parse_log("".join(f"## 2018/9/{d}\nday {d}\n" for d in days), "log.md")


def test_write_entries_never_overwrites(tmp_path: Path) -> None:
    into = tmp_path / "entries"
    into.mkdir()
    (into / "2018-09-10.md").write_text("mine\n", encoding="utf-8")
    actions = write_entries(_result(9, 10), into, dry_run=False)  # type: ignore[arg-type]
    assert actions == [(into / "2018-09-09.md", "write"), (into / "2018-09-10.md", "exists-skip")]
    assert (into / "2018-09-10.md").read_text(encoding="utf-8") == "mine\n"
    assert (into / "2018-09-09.md").read_text(encoding="utf-8") == "---\ndate: 2018-09-09\n---\nday 9\n"
    assert sorted(p.name for p in into.iterdir()) == ["2018-09-09.md", "2018-09-10.md"]  # no temp files


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    into = tmp_path / "entries"
    actions = write_entries(_result(9), into, dry_run=True)  # type: ignore[arg-type]
    assert actions == [(into / "2018-09-09.md", "write")]
    assert not into.exists()


def test_import_log_never_refuses_and_keeps_every_line(tmp_path: Path) -> None:
    log = tmp_path / "README.md"
    log.write_text("## 2018/9/9\nok\n## 2018/2/30\nbad\n", encoding="utf-8")
    report = import_log(log, tmp_path / "entries")
    assert report.written and [p.name for p, _ in report.actions] == ["2018-09-09.md"]
    assert not errors_in(report.diagnostics)
    assert (report.kept, report.total) == (4, 4)
    review = (tmp_path / "IMPORT-REVIEW.md").read_text("utf-8")
    assert f"{log.as_posix()}:3: ## 2018/2/30\n{log.as_posix()}:4: bad\n" in review  # quoted as written
    assert "kept 4 of 4 lines." in review


LIST_LOG = """# Learning in public

One line a day, as a list.

- **Day 1 (March 2, 2021):** Gradient descent by hand on a line fit.
- **Day 2 (March 3, 2021):** Logistic loss, and why the log.
  The decision boundary moved as the rate grew.
  - a sub-point: plotted it
- Day 3: Nearest neighbours from scratch.
  ```python
  k = 5
  ```
- **Notes:** not a day, so part of day 3
* 2021-03-06 - SVMs: margins and kernels.

## Resources

- A blog post about kernels
"""


def test_a_log_kept_as_a_list_has_a_day_per_item_and_keeps_every_line(tmp_path: Path) -> None:
    """Many logs are one bullet per day: each item that opens with a day is that day's entry (its
    marker read as the heading, the rest of its line the first line of the text), and the next day
    item or heading ends it."""
    result = parse_log(LIST_LOG, "README.md")
    assert [(e.date, e.day_number) for e in result.entries] == [
        (dt.date(2021, 3, 2), 1), (dt.date(2021, 3, 3), 2), (dt.date(2021, 3, 4), 3), (dt.date(2021, 3, 6), None)]
    bodies = [e.body for e in result.entries]
    assert bodies[0] == "Gradient descent by hand on a line fit.\n"
    assert bodies[1] == ("Logistic loss, and why the log.\n  The decision boundary moved as the rate grew.\n"
                         "  - a sub-point: plotted it\n")
    assert "Nearest neighbours from scratch." in bodies[2] and "  k = 5" in bodies[2]
    assert "- **Notes:** not a day, so part of day 3" in bodies[2]
    assert bodies[3].startswith("SVMs: margins and kernels.")
    assert result.about is not None and "A blog post about kernels" in result.about.body  # the heading ended day 4
    log = tmp_path / "README.md"
    log.write_text(LIST_LOG, encoding="utf-8")
    report = import_log(log, tmp_path / "entries")
    assert report.written and report.kept == report.total and not report.missing
    assert "Gradient descent by hand" in (tmp_path / "entries" / "2021-03-02.md").read_text("utf-8")


def test_a_log_of_bold_day_paragraphs_has_a_day_per_paragraph() -> None:
    text = ("# Log\n\n**Day 1 (May 3, 2022):** Tensors and shapes.\nBroadcasting rules too.\n\n"
            "**Day 2:** Autograd.\n\nA plain paragraph about day 2.\n**Day 9** in a paragraph's middle is text.\n")
    result = parse_log(text, "README.md")
    assert [(e.date, e.body) for e in result.entries] == [
        (dt.date(2022, 5, 3), "Tensors and shapes.\nBroadcasting rules too.\n"),
        (dt.date(2022, 5, 4), "Autograd.\n\nA plain paragraph about day 2.\n**Day 9** in a paragraph's middle is text.\n")]


@pytest.mark.parametrize("item", ["- Read 3 papers: about attention", "- **Resources:** links", "-  Monday stand-up",
                                  "  - **Day 4:** indented, so part of an item", "Day 4: a plain paragraph"])
def test_a_list_item_that_names_no_day_heads_none(item: str) -> None:
    result = parse_log(f"# Log\n\n{item}\n", "README.md")
    assert result.entries == ()


def test_strict_refuses_a_guess_and_writes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "README.md"
    log.write_text("## 2018/9/9\nok\n## 2018/2/30\nbad\n", encoding="utf-8")
    report = import_log(log, tmp_path / "entries", strict=True)
    assert not report.written and report.actions == ()
    assert not (tmp_path / "entries").exists() and not (tmp_path / "IMPORT-REVIEW.md").exists()
    assert [d.line for d in errors_in(report.diagnostics)] == [3]


def test_import_log_reports_skipped_files(tmp_path: Path) -> None:
    log = tmp_path / "README.md"
    log.write_text("## 2018/9/9\nok\n## 2018/9/10\nalso\n", encoding="utf-8")
    into = tmp_path / "entries"
    into.mkdir()
    (into / "2018-09-09.md").write_text("mine\n", encoding="utf-8")
    report = import_log(log, into)
    assert report.written
    assert [a for _, a in report.actions] == ["exists-skip", "write"]
    (skipped,) = warnings_in(report.diagnostics)
    assert skipped.path.endswith("2018-09-09.md")


# --- more shapes of logs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("# 2018\n## September\n### Sep 20 - Thursday\nx\n### 21 September\ny\n", [D(2018, 9, 20), D(2018, 9, 21)]),
        ("## October 2018\n### Oct 1\nz\n", [D(2018, 10, 1)]),
        ("# 学习\n## 2018年\n### 9月20日 周四\nx\n", [D(2018, 9, 20)]),
    ],
)  # fmt: skip
def test_a_year_from_an_enclosing_heading_completes_a_date(text: str, dates: list[dt.date]) -> None:
    result = parse_log(text, "log.md")
    assert not result.diagnostics
    assert [e.date for e in result.entries] == dates


def test_crlf_logs_read_like_lf_logs() -> None:
    text = "# Log\n\n## 2018/9/20\nTags: a\n\n* one\n* two  \n\n## 2018/9/21\nthree\n"
    crlf = parse_log(text.replace("\n", "\r\n"), "log.md")
    assert crlf == parse_log(text, "log.md")
    assert crlf.entries[0].body == "* one\n* two  \n"


_PLAIN = st.text(alphabet="abcdefgh xyz.,!?*()[]/0123456789", max_size=30)
_TRICKY = ["```", "<!-- note -->", "    ## 2018/1/1 indented", "> quoted: https://q.example", "Tags: late"]
_LINES = st.lists(st.one_of(_PLAIN, st.just(""), st.sampled_from(_TRICKY)), max_size=8)


def _balanced(lines: list[str]) -> list[str]:
    return lines + ["```"] if lines.count("```") % 2 else lines


@given(
    days=st.lists(
        st.tuples(st.dates(D(2000, 1, 1), D(2030, 12, 31)), st.booleans(), _LINES.map(_balanced)),
        unique_by=lambda day: day[0],
        max_size=5,
    )
)
def test_no_line_of_a_section_is_lost(days: list[tuple[dt.date, bool, list[str]]]) -> None:
    """Whatever a section holds, its body keeps every non-blank line, in order."""
    sections = []
    for date, tagged, lines in days:
        meta = ["Tags: A, b", "", "Colab: https://c.example/x", ""] if tagged else []
        sections.append(f"## {date:%B} {date.day}, {date.year}\n" + "".join(f"{x}\n" for x in meta + lines))
    result = parse_log("# Log\n\n" + "".join(sections), "log.md")
    assert not errors_in(result.diagnostics)
    by_date = {e.date: e for e in result.entries}
    for date, tagged, lines in days:
        if not tagged and not any(x.strip() for x in lines):
            assert date not in by_date  # an empty heading is a placeholder, quoted in the review
            continue
        entry = by_date[date]
        if tagged:
            assert entry.links == (("colab", "https://c.example/x"),)
        top = 0
        while top < len(lines) and lines[top].strip() in ("", "Tags: late"):
            top += 1  # a Tags: line among the first lines is metadata (blank: spaces only, as in Markdown)
        assert set(entry.tags) == ({"a", "b"} if tagged else set()) | (
            {"late"} if "Tags: late" in lines[:top] else set()
        )
        kept = [x for x in lines[top:] if x.strip()]
        assert [x for x in entry.body.splitlines() if x.strip()] == kept


# --- the corpus: one small log per trap, with its exact entries, review lines and line count -----

CORPUS = sorted(p for p in (FIXTURES.parent).glob("import-*") if (p / "expected.txt").is_file())


def corpus_report(folder: Path, tmp: Path) -> str:
    """What the importer makes of the fixture log: the files, one line per entry (date | title | tags |
    links | first body line), the review lines, the site title and the line count."""
    source = folder / "days" if (folder / "days").is_dir() else folder / "log.md"
    args = (folder / "args.txt").read_text().split() if (folder / "args.txt").exists() else []
    start = D.fromisoformat(args[1]) if args[:1] == ["--start"] else None
    report = import_log(source, tmp / "entries", dry_run=True, start=start, today=D(2024, 6, 30))
    out = ["files: " + " ".join(p.relative_to(tmp).as_posix() for p, _ in report.actions)]
    for e in report.result.entries:
        first = next((line for line in e.body.splitlines() if line.strip()), "")
        links = ", ".join(f"{k}={v}" for k, v in e.links) or "-"
        out.append(" | ".join([e.date.isoformat(), e.title or "-", ", ".join(e.tags) or "-", links, first]))
    out.append("")
    out += [review_line(d).replace(folder.as_posix() + "/", "") for d in report.diagnostics]
    about = report.result.about
    out += ["", f"site title: {about.site_title if about else None}", f"kept {report.kept} of {report.total} lines"]
    assert report.kept == report.total and not report.missing  # lossless, whatever the trap
    assert report.total == sum(1 for f in ([source] if source.is_file() else source.rglob("*.md"))
                               for line in f.read_text("utf-8").splitlines() if line.strip())
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("folder", CORPUS, ids=[p.name for p in CORPUS])
def test_fixture_corpus(folder: Path, tmp_path: Path) -> None:
    assert corpus_report(folder, tmp_path) == (folder / "expected.txt").read_text("utf-8")


def test_the_corpus_covers_every_trap() -> None:
    assert len(CORPUS) == 13


_HEADINGS = st.sampled_from([
    "## 2020-03-{d:02d}", "## March {d}", "### Day {d}", "## {d} Mar 2020", "## Template", "## Notes",
    "# Big title", "## 2020/2/30", "## Mar {d} - {e}, 2020", "## Setpember {d}, 2020", "## 3/{d}/2020",
])  # fmt: skip
_BODY = st.sampled_from([
    "", "plain words", "Tags: a b", "Colab: https://c.example/x", "Videos:", "* https://v.example/1",
    "<!--", "-->", "```", "<details>", "</details>", "## 2020-01-01 in a block", "*March 9, 2020*",
    "### Current streak: 3 days", "#hashtag line",
])  # fmt: skip


@given(st.lists(st.tuples(_HEADINGS, st.integers(1, 28), st.lists(_BODY, max_size=5)), max_size=8))
def test_every_line_of_any_log_is_kept(sections: list[tuple[str, int, list[str]]]) -> None:
    """Whatever the mix of headings, code, comments and placeholders: no error, every line in a file."""
    text = "# Log\n\nIntro words.\n\n" + "".join(
        heading.format(d=d, e=min(d + 2, 28)) + "\n" + "".join(line + "\n" for line in body) + "\n"
        for heading, d, body in sections)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "log.md").write_text(text, encoding="utf-8")
        report = import_log(Path(tmp) / "log.md", Path(tmp) / "entries", dry_run=True, today=D(2024, 6, 30))
    assert not errors_in(report.diagnostics)
    assert (report.kept, report.missing) == (report.total, ())
    assert report.total == sum(1 for line in text.splitlines() if line.strip())


def test_a_log_that_is_not_utf8_is_read_as_latin1_and_said_so(tmp_path: Path) -> None:
    log = tmp_path / "README.md"
    log.write_bytes("# Log\n\n## 2020-03-01\nCaf\u00e9 notes.\n".encode("latin-1"))
    report = import_log(log, tmp_path / "entries", dry_run=True)
    assert review_line(report.diagnostics[0]) == (
        f"{log.as_posix()}:4: not UTF-8 text (byte 0xe9): read as Latin-1 (check its accented letters; save it as UTF-8)")
    assert report.result.entries[0].body == "Caf\u00e9 notes.\n"
    assert (report.kept, report.total) == (3, 3)


def test_strict_says_but_does_not_refuse_templates_comments_and_streaks(tmp_path: Path) -> None:
    report = import_log(FIXTURES / "hundred-days.md", tmp_path / "entries", strict=True, dry_run=True)
    assert not errors_in(report.diagnostics)
    assert [d.line for d in report.diagnostics] == [3, 11]  # the commented template; the declared streak


def test_the_line_check_finds_what_a_file_lacks() -> None:
    from site_builder.importer import Kept
    from site_builder.importer.review import missing_lines

    kept = (Kept("log.md", 1, "entry:2020-03-01", (("date", "2020-03-01"), ("title", "Sets"))),
            Kept("log.md", 2, "entry:2020-03-01", (("tag", "python"),)),
            Kept("log.md", 3, "entry:2020-03-01", (("body", "Sets have no order."),)),
            Kept("log.md", 4, "entry:2020-03-01", (("link", "https://c.example/x"),)),
            Kept("log.md", 5, "review", (("quote", "<!-- old -->"),)))
    full = "---\ndate: 2020-03-01\ntitle: Sets\ntags: [python]\nlinks:\n  colab: https://c.example/x\n---\nSets have no order.\n"
    assert missing_lines(kept, {"entry:2020-03-01": full, "review": "log.md:5: <!-- old -->"}) == []
    short = "---\ndate: 2020-03-02\ntags: [rust]\n---\nSets have an order.\n"
    assert [k.line for k in missing_lines(kept, {"entry:2020-03-01": short, "review": ""})] == [1, 2, 3, 4, 5]
