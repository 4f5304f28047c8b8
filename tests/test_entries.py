"""LOAD stage: front matter parsing, validation and the line of every problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from site_builder.entries import EntryRules, load_entries, normalise_tag, parse_entry
from site_builder.slugs import is_safe_segment

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


def test_a_snippet_in_a_callout_is_seen_as_the_renderer_sees_it() -> None:
    """A callout's content is Markdown (the renderer parses it), so a snippet in a note runs; a code
    block inside the note, or a note written inside a code block, is still only shown code."""
    text = (
        "Intro.\n\n"
        "````{note} Try it\n"
        "```{snippet} tiny_plot\n"
        "```\n"
        "```text\n"
        "```{snippet} shown_in_a_code_block\n"
        "```\n"
        "````\n\n"
        "`````markdown\n"
        "````{tip}\n"
        "```{snippet} shown_as_an_example\n"
        "```\n"
        "````\n"
        "`````\n\n"
        ":::{warning}\n"
        "```{snippet} max_pooling\n"
        "```\n"
        ":::\n"
    )
    entry, problems = parse(text)
    assert problems == [] and entry is not None
    assert [(r.name, r.line) for r in entry.snippets] == [("tiny_plot", 4), ("max_pooling", 19)]


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


def test_cr_only_line_ends_keep_front_matter_and_lines() -> None:
    """Old Mac files end lines with a lone \\r: the front matter is read and every line is right."""
    text = "---\rtitle: Old Mac\rdraft: perhaps\rtags: [mac]\r---\r\rBody\r```{snippet} nope\r```\r"
    entry, problems = parse_entry("entries/2018-09-09.md", text.encode(), RULES)
    assert entry is not None and entry.title == "Old Mac" and entry.tags == ("mac",)
    assert entry.body_first_line == 6 and entry.body == "\nBody\n```{snippet} nope\n```\n"
    assert [(p.line, p.message.split(",")[0].split(" (")[0]) for p in problems] == [
        (8, "unknown snippet 'nope'"), (3, "'draft' must be true or false")]


def test_not_utf8_line_counts_every_kind_of_line_end() -> None:
    _, problems = parse_entry("entries/2018-09-09.md", b"---\rtitle: t\r\n---\ncaf\xe9\n", RULES)
    assert [p.line for p in problems] == [4]


@pytest.mark.parametrize(
    "name, slug",
    [
        ("2018-09-21 my entry.md", "2018-09-21-my-entry"),
        ("2018-09-21_My_Entry.md", "2018-09-21-my_entry"),
        ("2018-09-21.notes.md", "2018-09-21-notes"),
        ("2018-09-21 - Max Pooling!.md", "2018-09-21-max-pooling"),
        ("2018-09-21-max-pooling.md", "2018-09-21-max-pooling"),  # as before
        ("2018-09-21.md", "2018-09-21"),
        ("2018-09-21 ...md", "2018-09-21"),  # nothing left to name it by
        ("2018-09-21 trip/index.md", "2018-09-21-trip"),  # a page bundle
    ],
)
def test_a_name_starting_with_a_date_gets_it(name: str, slug: str) -> None:
    entry, problems = parse("A day.\n", path=f"entries/{name}")
    assert problems == []
    assert entry is not None and entry.date == dt.date(2018, 9, 21) and entry.slug == slug


@pytest.mark.parametrize("name", ["2018-09-21x.md", "20180921 notes.md"])
def test_a_date_not_followed_by_a_separator_is_no_date(name: str) -> None:
    entry, problems = parse("A day.\n", path=f"entries/{name}")
    assert entry is None and [p.message.split(":")[0] for p in problems] == ["no date"]


def test_a_name_without_a_date_is_slugged_after_the_front_matter_date() -> None:
    entry, _ = parse("---\ndate: 2018-09-21\n---\nx\n", path="entries/Notes on C++ & Keras.md")
    assert entry is not None and entry.slug == "2018-09-21-notes-on-c++-keras"


@pytest.mark.parametrize("value", ['["../../../victim"]', '[".."]', '["a/../../b", "..\\\\..\\\\c", "x\\u0000y"]',
                                   '["/etc/passwd"]', '"../.. ./."'])
def test_tags_can_never_climb(value: str) -> None:
    entry, _ = parse(f"---\ntags: {value}\n---\nx\n")
    assert entry is not None
    assert all(is_safe_segment(t) for t in entry.tags), entry.tags


def test_a_tag_with_nothing_to_name_it_is_a_warning() -> None:
    entry, problems = parse('---\ntitle: t\ntags: ["..", keras, "../../../victim"]\n---\nx\n')
    assert entry is not None and entry.tags == ("keras", "victim")
    assert lines_of(problems) == [
        "entries/2018-09-09.md:3: warning: tag '..' has no letter or digit to name its page by; it is left out"]


@given(st.text(max_size=40))
def test_any_file_name_makes_a_safe_slug(stem: str) -> None:
    name = stem.replace("/", "").replace("\0", "")
    for path in (f"entries/2018-09-21 {name}.md", f"entries/{name}.md"):
        entry, _ = parse("---\ndate: 2018-09-21\n---\nx\n", path=path)
        assert entry is not None and is_safe_segment(entry.slug), entry.slug


@given(st.lists(st.text(max_size=20), max_size=5))
def test_any_tag_is_a_safe_segment(tags: list[str]) -> None:
    entry, _ = parse_entry("entries/2018-09-09.md",
                           yaml.safe_dump({"tags": tags}, explicit_start=True, explicit_end=False).encode()
                           + b"---\nx\n", RULES)
    assert entry is not None and all(is_safe_segment(t) for t in entry.tags)


def test_normal_tags_keep_their_form() -> None:
    assert [normalise_tag(t) for t in ("#Deep_Learning", "C++", "node.js", "max pooling", "2018", "Ünïcode")] == [
        "deep-learning", "c++", "node.js", "max-pooling", "2018", "ünïcode"]


BOMB = "\n".join(
    ["---", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{k}: &{k} [{', '.join(['*' + p] * 9)}]" for p, k in zip("abcdefgh", "bcdefghi")]
    + ["title: *i", "---", "Boom.", ""]
)


def test_an_alias_bomb_is_refused_at_its_line() -> None:
    """Twelve lines that stand for 9**9 values: refused before anything is built from them (the
    count is memoised per node, so this is fast by construction)."""
    assert len(BOMB.splitlines()) == 13
    entry, problems = parse(BOMB)
    assert entry is None
    assert lines_of(problems) == [
        ("entries/2018-09-09.md:6: front matter stands for more than 10,000 values once its aliases (*name) "
        "are copied out (write the values out; front matter needs no anchors and aliases)")]


def test_a_value_that_contains_itself_is_refused() -> None:
    entry, problems = parse("---\ntitle: t\ndraft: &a [*a]\n---\nx\n")
    assert entry is None and [p.line for p in problems] == [3]


def test_a_few_aliases_are_fine() -> None:
    entry, problems = parse("---\ntags: &t [keras, cnn]\nlinks: {a: 'https://x.org'}\nx: *t\n---\nx\n")
    assert entry is not None and entry.tags == ("keras", "cnn")
    assert [p.message for p in problems] == ["unknown front matter key 'x'"]


def test_deep_values_give_short_messages_and_no_recursion_error() -> None:
    deep = "[" * 998 + "]" * 998
    text = f"---\ndraft: {deep}\ndate: {deep}\ntitle: {deep}\nlinks: {{a: {deep}}}\nsnippets: {deep}\n---\nx\n"
    _, problems = parse(text)
    assert sorted(p.line for p in problems) == [2, 3, 4, 5, 6]
    assert all(len(p.message) < 200 for p in problems)


@pytest.mark.parametrize(
    "date, timezone, day_ends_at",
    [("0001-01-01 00:30", "UTC", 4), ("0001-01-01T00:30+08:00", "America/New_York", 0),
     ("9999-12-31T23:00-05:00", "Asia/Tokyo", 0)],
)
def test_a_date_pushed_past_year_1_or_9999_is_an_error(date: str, timezone: str, day_ends_at: int) -> None:
    entry, problems = parse(f"---\ntitle: t\ndate: {date}\n---\nx\n", path="entries/far.md",
                            rules=EntryRules(day_ends_at=day_ends_at, timezone=timezone))
    assert entry is None
    assert lines_of(problems) == [
        (f"entries/far.md:3: date '{date}' falls outside the years 1 to 9999 on the clock of {timezone} "
        "(check the year)")]


def test_the_last_and_first_days_are_dates() -> None:
    for day in ("9999-12-31", "0001-01-01"):
        entry, problems = parse(f"---\ndate: {day}\n---\nx\n", path="entries/far.md")
        assert problems == [] and entry is not None and entry.date.isoformat() == day


def test_load_entries_reports_links_out_of_the_log(tmp_path: Path) -> None:
    entries_dir = tmp_path / "log" / "entries"
    entries_dir.mkdir(parents=True)
    _write(entries_dir, "2018-09-09.md", "Mine\n")
    (tmp_path / "id_rsa").write_text("-----BEGIN KEY-----\n", "utf-8")
    (entries_dir / "2018-09-10.md").symlink_to(tmp_path / "id_rsa")
    entries, problems = load_entries(tmp_path / "log", entries_dir, EntryRules())
    assert [e.slug for e in entries] == ["2018-09-09"]
    assert [(p.path, p.severity) for p in problems] == [("entries/2018-09-10.md", "error")]
    assert "points outside the log" in problems[0].message


def test_a_tag_that_is_not_text_is_named_by_its_place() -> None:
    entry, problems = parse("---\ntitle: t\ntags:\n  - keras\n  - framework: keras\n  - 2018\n---\nx\n")
    assert entry is not None and entry.tags == ("keras", "2018")
    assert lines_of(problems) == ["entries/2018-09-09.md:5: tag 2 must be text, not dict (e.g. 'tags: [keras, cnn]')"]


def test_a_key_given_twice_is_an_error_at_the_second() -> None:
    _, problems = parse("---\ntitle: One\ntags: [a]\ntitle: Two\n---\nx\n")
    assert lines_of(problems) == [
        "entries/2018-09-09.md:4: front matter key 'title' is given twice (first on line 2) (keep one of them)"]


def test_an_unclosed_quote_is_reported_where_it_opens() -> None:
    _, problems = parse('---\ntitle: t\nlinks:\n  slides: "https://example.org\ndraft: false\n---\nx\n')
    assert lines_of(problems) == [
        ("entries/2018-09-09.md:4: invalid YAML in front matter: found unexpected end of stream while scanning a "
        "quoted scalar (check indentation and quote values that contain ': ')")]


def test_a_bundle_disagreeing_with_its_folder_says_folder() -> None:
    _, problems = parse("---\ndate: 2018-09-11\n---\nx\n", path="entries/2018-09-09-trip/index.md")
    assert lines_of(problems) == [
        ("entries/2018-09-09-trip/index.md:2: date 2018-09-11 disagrees with the folder name (2018-09-09) "
        "(rename the folder or fix the date)")]


def test_a_time_moved_by_the_day_end_says_why_it_disagrees() -> None:
    _, problems = parse("---\ndate: 2018-09-09 02:30\n---\nx\n", rules=EntryRules(day_ends_at=4))
    assert lines_of(problems) == [
        ("entries/2018-09-09.md:2: date '2018-09-09 02:30' counts for 2018-09-08, since the day ends at 4:00; "
        "the file name says 2018-09-09 (rename the file or fix the date)")]


def test_a_directive_with_two_names_is_one_error() -> None:
    _, problems = parse("---\ntitle: t\n---\n```{snippet} max_pooling tiny_plot\n```\n")
    assert lines_of(problems) == [("entries/2018-09-09.md:4: a snippet directive takes one name, not "
                                  "'max_pooling tiny_plot' (write one ```{snippet} NAME per snippet)")]


def test_entry_cache_keys_are_the_same_in_every_process() -> None:
    """A set's order follows the hash seed: a key holding one would change with every build."""
    import os
    import subprocess
    import sys

    code = ("from site_builder.entries import EntryRules, entry_cache_key\n"
            "print(entry_cache_key('entries/a.md', b'x', EntryRules(known_snippets=frozenset("
            "['plot', 'table', 'max_pooling', 'split', 'normalise']))))\n")
    keys = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout for seed in ("1", "2", "3", "4")}
    assert len(keys) == 1
