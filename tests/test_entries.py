"""LOAD stage: front matter parsing, validation and the line of every problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from site_builder.entries import EntryRules, load_entries, normalise_tag, parse_entry

RULES = EntryRules(day_ends_at=0, known_snippets=frozenset({"max_pooling", "tiny_plot"}))


def parse(text: str, path: str = "entries/2018-09-09.md", rules: EntryRules = RULES):
    return parse_entry(path, text.encode("utf-8"), rules)


def lines_of(problems) -> list[str]:
    return [p.format() for p in problems]


def test_every_front_matter_key() -> None:
    entry, problems = parse(
        "---\n"
        "date: 2018-09-09\n"
        "title: Max pooling\n"
        "tags: [cnn, pooling]\n"
        "links:\n"
        "  colab: https://colab.example.org/x\n"
        "snippets: [max_pooling]\n"
        "draft: false\n"
        "streak: 1\n"
        "---\n"
        "Body text.\n"
    )
    assert problems == []
    assert entry is not None
    assert entry.date == dt.date(2018, 9, 9)
    assert entry.title == "Max pooling"
    assert entry.tags == ("cnn", "pooling")
    assert entry.links == (("colab", "https://colab.example.org/x"),)
    assert [r.name for r in entry.snippets] == ["max_pooling"]
    assert entry.draft is False
    assert entry.declared_streak == 1
    assert entry.body == "Body text.\n"
    assert entry.body_first_line == 11
    assert entry.slug == "2018-09-09"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("[Keras, Deep_Learning, CNN]", ("keras", "deep-learning", "cnn")),
        ("keras deep_learning  cnn", ("keras", "deep-learning", "cnn")),
        ('"Keras, Deep Learning ,cnn"', ("keras", "deep-learning", "cnn")),
        ('["#CNN", cnn, " Data  Sets "]', ("cnn", "data-sets")),  # '#' dropped, duplicates merged
        ("[2018, keras]", ("2018", "keras")),
        ("", ()),
    ],
)
def test_tags_are_normalised(value: str, expected: tuple[str, ...]) -> None:
    entry, problems = parse(f"---\ntags: {value}\n---\nx\n")
    assert problems == []
    assert entry is not None and entry.tags == expected


def test_normalise_tag() -> None:
    assert normalise_tag("  #Machine_Learning ") == "machine-learning"


def test_tags_as_a_mapping_is_an_error_on_its_line() -> None:
    _, problems = parse("---\ntitle: t\ntags:\n  a: b\n---\nx\n")
    assert lines_of(problems) == [
        ("entries/2018-09-09.md:3: tags must be a list or a space-separated string, not dict "
         "(e.g. 'tags: [keras, cnn]')"),
    ]


def test_links_as_mapping_and_as_list() -> None:
    entry, problems = parse("---\nlinks:\n  notes: https://a.example/n\n  repo: /code/\n---\nx\n")
    assert problems == [] and entry is not None
    assert entry.links == (("notes", "https://a.example/n"), ("repo", "/code/"))
    entry, problems = parse("---\nlinks: [https://a.example/1, https://a.example/2]\n---\nx\n")
    assert problems == [] and entry is not None
    assert entry.links == (("link 1", "https://a.example/1"), ("link 2", "https://a.example/2"))


def test_a_link_that_is_not_a_url_is_a_warning() -> None:
    entry, problems = parse("---\ntitle: t\nlinks:\n  notes: somewhere\n---\nx\n")
    assert entry is not None and entry.links == ()
    assert [p.severity for p in problems] == ["warning"]
    assert problems[0].line == 3


def test_snippets_from_front_matter_and_directives() -> None:
    text = (
        "---\n"
        "snippets: [max_pooling.py]\n"
        "---\n"
        "Intro.\n"
        "\n"
        "```{snippet} tiny_plot\n"
        "```\n"
        "\n"
        "~~~markdown\n"
        "```{snippet} not_a_directive\n"
        "~~~\n"
    )
    entry, problems = parse(text)
    assert problems == [] and entry is not None
    assert [(r.name, r.inline) for r in entry.snippets] == [("max_pooling", False), ("tiny_plot", True)]
    assert entry.snippets[1].line == 6  # the directive's line in the file


def test_unknown_snippets_point_at_their_lines() -> None:
    text = "---\ntitle: t\nsnippets:\n  - tiny_plot\n  - nope\n---\nText\n\n```{snippet} maxpooling\n```\n"
    _, problems = parse(text)
    assert lines_of(problems) == [
        "entries/2018-09-09.md:5: unknown snippet 'nope' (add snippets/nope.py)",
        "entries/2018-09-09.md:9: unknown snippet 'maxpooling' (did you mean 'max_pooling'?)",
    ]


def test_a_directive_without_a_name() -> None:
    _, problems = parse("Text\n\n```{snippet}\n```\n")
    assert [(p.line, p.message) for p in problems] == [(3, "a snippet directive needs a name")]


@pytest.mark.parametrize(
    "text, title, body_first_line",
    [
        ("---\ntitle: From front matter\n---\n# Heading\nBody\n", "From front matter", 4),
        ("---\ntags: [a]\n---\n\n# The heading  \nBody\n", "The heading", 6),
        ("# Heading without front matter\n\nBody\n", "Heading without front matter", 2),
        ("Just a body.\n", "Sunday, 9 September 2018", 1),
        ("## Not a title\nBody\n", "Sunday, 9 September 2018", 1),
    ],
)
def test_title_fallbacks(text: str, title: str, body_first_line: int) -> None:
    entry, problems = parse(text)
    assert problems == [] and entry is not None
    assert entry.title == title
    assert entry.body_first_line == body_first_line
    if title != "From front matter":
        assert not entry.body.lstrip().startswith("# ")


def test_date_from_the_file_name_or_front_matter() -> None:
    entry, _ = parse("Body\n", path="entries/2018-09-12-max-pooling.md")
    assert entry is not None and entry.date == dt.date(2018, 9, 12)
    assert entry.slug == "2018-09-12-max-pooling"
    entry, problems = parse("---\ndate: 2018-09-13\n---\nBody\n", path="entries/notes/pooling.md")
    assert problems == [] and entry is not None
    assert entry.date == dt.date(2018, 9, 13) and entry.slug == "2018-09-13-pooling"


def test_date_disagreeing_with_the_file_name() -> None:
    _, problems = parse("---\ntitle: t\ndate: 2018-09-11\n---\nBody\n")
    assert lines_of(problems) == [
        ("entries/2018-09-09.md:3: date 2018-09-11 disagrees with the file name (2018-09-09) "
         "(rename the file or fix the date)"),
    ]


def test_no_date_anywhere() -> None:
    entry, problems = parse("Body\n", path="entries/notes.md")
    assert entry is None
    assert [(p.line, p.severity) for p in problems] == [(1, "error")]


def test_a_time_after_midnight_counts_for_the_day_before() -> None:
    rules = EntryRules(day_ends_at=4, known_snippets=None)
    entry, problems = parse("---\ndate: 2018-09-10 00:44\n---\nLate.\n", rules=rules)
    assert problems == [] and entry is not None
    assert entry.date == dt.date(2018, 9, 9)
    assert entry.timestamp == dt.datetime(2018, 9, 10, 0, 44, tzinfo=dt.timezone.utc)
    # with the day ending at midnight the same file belongs to the 10th: a mismatch
    entry, problems = parse("---\ndate: 2018-09-10 00:44\n---\nLate.\n", rules=EntryRules(0, None))
    assert [p.line for p in problems] == [2]


@pytest.mark.parametrize(
    "written, day, wall_clock",
    [
        ("2018-09-10 00:44", dt.date(2018, 9, 9), "2018-09-10T00:44:00+08:00"),  # naive: the learner's clock
        ("2018-09-10T00:44:00+08:00", dt.date(2018, 9, 9), "2018-09-10T00:44:00+08:00"),  # Hugo style
        ("2018-09-09T16:44:00Z", dt.date(2018, 9, 9), "2018-09-10T00:44:00+08:00"),  # the same moment in UTC
        ("2018-09-09T12:44:00.5-05:00", dt.date(2018, 9, 9), "2018-09-10T01:44:00+08:00"),  # before 4 am
        ("2018-09-10T09:00:00+0800", dt.date(2018, 9, 10), "2018-09-10T09:00:00+08:00"),
    ],
)
def test_times_with_offsets_are_read_on_the_learners_clock(written: str, day: dt.date, wall_clock: str) -> None:
    rules = EntryRules(day_ends_at=4, known_snippets=None, timezone="Asia/Manila")
    entry, problems = parse(f"---\ndate: {written}\n---\nLate.\n", path="entries/notes.md", rules=rules)
    assert problems == [] and entry is not None
    assert entry.date == day
    assert entry.timestamp is not None and entry.timestamp.isoformat() == wall_clock


@pytest.mark.parametrize(
    "value, line",
    [("2016-02-30", "impossible date '2016-02-30'"), ("yesterday", "'yesterday' is not a date")],
)
def test_bad_dates(value: str, line: str) -> None:
    entry, problems = parse(f"---\ntitle: t\ndate: {value}\n---\nBody\n", path="entries/x.md")
    assert entry is None
    assert problems[0].line == 3 and problems[0].message.startswith(line)


def test_impossible_date_in_the_file_name() -> None:
    entry, problems = parse("Body\n", path="entries/2016-02-30.md")
    assert entry is None
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [(1, "the file name's date is impossible")]


def test_unknown_key_is_a_warning_with_a_suggestion() -> None:
    entry, problems = parse("---\ntitle: t\ntagz: [a]\n---\nBody\n")
    assert entry is not None
    assert lines_of(problems) == [
        "entries/2018-09-09.md:3: warning: unknown front matter key 'tagz' (did you mean 'tags'?)"
    ]


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("draft", "maybe", "'draft' must be true or false, not 'maybe'"),
        ("streak", "many", "'streak' must be a whole number, not 'many'"),
        ("streak", "true", "'streak' must be a whole number, not True"),
    ],
)
def test_wrong_types(key: str, value: str, message: str) -> None:
    _, problems = parse(f"---\ntitle: t\n{key}: {value}\n---\nBody\n")
    assert [(p.line, p.message) for p in problems] == [(3, message)]


def test_invalid_yaml_points_at_the_file_line() -> None:
    entry, problems = parse("---\ntitle: t\ntags: [a, b\nlinks: x\n---\nBody\n")
    assert entry is None
    assert len(problems) == 1 and problems[0].message.startswith("invalid YAML in front matter")
    assert problems[0].line in (4, 5)


def test_unclosed_front_matter() -> None:
    entry, problems = parse("---\ntitle: t\nBody\n")
    assert entry is None and [p.line for p in problems] == [1]


def test_not_utf8() -> None:
    entry, problems = parse_entry("entries/2018-09-09.md", b"---\ntitle: t\n---\ncaf\xe9\n", RULES)
    assert entry is None
    assert lines_of(problems) == [
        "entries/2018-09-09.md:4: not UTF-8 text (byte 0xe9) (save the file as UTF-8)"
    ]


def test_crlf_and_bom_are_accepted() -> None:
    entry, problems = parse_entry("entries/2018-09-09.md", "\ufeff---\r\ntitle: t\r\n---\r\nBody\r\n".encode(),
                                  RULES)
    assert problems == [] and entry is not None and entry.title == "t" and entry.body == "Body\n"


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, "utf-8")


def test_load_entries_sorts_and_finds_duplicates(tmp_path: Path) -> None:
    entries_dir = tmp_path / "entries"
    entries_dir.mkdir()
    _write(entries_dir, "2018-09-10.md", "Second\n")
    _write(entries_dir, "2018-09-09.md", "First\n")
    _write(entries_dir, "2018-09-09-again.md", "Again\n")
    entries, problems = load_entries(tmp_path, entries_dir, EntryRules())
    assert [e.slug for e in entries] == ["2018-09-09", "2018-09-09-again", "2018-09-10"]
    assert lines_of(problems) == [
        ("entries/2018-09-09.md:1: a second entry for 2018-09-09 (the first is entries/2018-09-09-again.md) "
         "(merge the two files, or change one date)"),
    ]


def test_a_draft_does_not_clash_with_its_date(tmp_path: Path) -> None:
    entries_dir = tmp_path / "entries"
    entries_dir.mkdir()
    _write(entries_dir, "2018-09-09.md", "Published\n")
    _write(entries_dir, "2018-09-09-draft.md", "---\ndraft: true\n---\nNot yet\n")
    entries, problems = load_entries(tmp_path, entries_dir, EntryRules())
    assert problems == []
    assert [e.draft for e in entries] == [False, True]
