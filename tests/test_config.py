"""CONFIGURE stage: logbuild.toml and [tool.logbuild], every problem with its key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_logbuild

from site_builder.config import SiteConfig, load_config


def write(root: Path, name: str, text: str) -> Path:
    (root / name).write_text(text, "utf-8")
    return root


def formatted(problems) -> list[str]:
    return [p.format() for p in problems]


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config, problems = load_config(tmp_path)
    assert problems == []
    assert config.source == ""
    assert config.title == SiteConfig().title
    assert config.root == tmp_path.resolve()


def test_logbuild_toml(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'title = "My log"\ntimezone = "Asia/Manila"\nday_ends_at = 4\n'
                                      'base_url = "https://u.github.io/r"\n[snippet_env]\nSEED = 1\n')
    config, problems = load_config(tmp_path)
    assert problems == []
    assert (config.title, config.timezone, config.day_ends_at) == ("My log", "Asia/Manila", 4)
    assert config.base_url == "https://u.github.io/r/"  # a trailing slash is added
    assert config.base_path == "/r/"
    assert config.snippet_env == {"SEED": "1"}
    assert config.source == "logbuild.toml"


def test_pyproject_tool_table(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.logbuild]\ntitle = "From pyproject"\n')
    config, problems = load_config(tmp_path)
    assert problems == []
    assert config.title == "From pyproject" and config.source == "pyproject.toml"


def test_pyproject_without_the_table_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\ndescription = "not ours"\n')
    config, problems = load_config(tmp_path)
    assert problems == [] and config.source == "" and config.description == SiteConfig().description


def test_logbuild_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.logbuild]\ntitle = "pyproject"\n')
    write(tmp_path, "logbuild.toml", 'title = "own file"\n')
    config, _ = load_config(tmp_path)
    assert config.title == "own file"


def test_unknown_key_names_key_line_and_suggestion(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'title = "T"\n\ntimezon = "UTC"\n')
    _, problems = load_config(tmp_path)
    assert formatted(problems) == ["logbuild.toml:3: unknown setting 'timezon' (did you mean 'timezone'?)"]
    assert problems[0].severity == "error"


def test_unknown_key_in_pyproject_points_into_the_table(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml",
          '[project]\nname = "x"\ndescription = "d"\n\n[tool.logbuild]\ntitle = "T"\ndescripton = "typo"\n')
    _, problems = load_config(tmp_path)
    assert formatted(problems) == [
        "pyproject.toml:7: unknown setting 'descripton' (did you mean 'description'?)"
    ]


def test_wrong_type_in_pyproject_points_at_our_table_not_project(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml",
          '[project]\nname = "x"\ndescription = "d"\n\n[tool.logbuild]\ndescription = 5\n')
    _, problems = load_config(tmp_path)
    assert [(p.path, p.line) for p in problems] == [("pyproject.toml", 6)]


@pytest.mark.parametrize(
    "line, key, message",
    [
        ("day_ends_at = \"4\"", "day_ends_at", "'day_ends_at' must be a whole number, not text"),
        ("entries_per_page = true", "entries_per_page",  # a bool is not an int
         "'entries_per_page' must be a whole number, not true or false"),
        ("title = 3", "title", "'title' must be text, not a whole number"),
        ("snippet_env = \"A=1\"", "snippet_env", "'snippet_env' must be a table, not text"),
    ],
)
def test_wrong_type(tmp_path: Path, line: str, key: str, message: str) -> None:
    write(tmp_path, "logbuild.toml", f'author = "me"\n{line}\n')
    config, problems = load_config(tmp_path)
    assert [(p.path, p.line, p.severity) for p in problems] == [("logbuild.toml", 2, "error")]
    assert problems[0].message == message
    assert getattr(config, key) == getattr(SiteConfig(), key)  # the bad value is not used


def test_bad_timezone(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'title = "T"\ntimezone = "Mars/Olympus_Mons"\n')
    config, problems = load_config(tmp_path)
    assert formatted(problems) == [
        "logbuild.toml:2: unknown time zone 'Mars/Olympus_Mons' (use an IANA name such as 'Europe/Berlin')"
    ]
    assert config.timezone == "UTC"


@pytest.mark.parametrize(
    "line",
    ["day_ends_at = 24", "streak_rule = \"weekly\"", "entries_per_page = 0", "challenge_days = -1",
     "snippet_timeout = 0"],
)
def test_values_out_of_range(tmp_path: Path, line: str) -> None:
    write(tmp_path, "logbuild.toml", f'title = "T"\n{line}\n')
    _, problems = load_config(tmp_path)
    assert [(p.line, p.severity) for p in problems] == [(2, "error")]


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'titel = "T"\nday_ends_at = "x"\ntimezone = "Nowhere"\n')
    _, problems = load_config(tmp_path)
    assert sorted(p.line for p in problems) == [1, 2, 3]


def test_invalid_toml(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'title = "T"\nauthor = "unterminated\n')
    _, problems = load_config(tmp_path)
    assert [(p.path, p.line) for p in problems] == [("logbuild.toml", 2)]
    assert problems[0].message.startswith("invalid TOML")


def test_overrides_beat_the_file(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'title = "T"\noutput_dir = "public"\n')
    config, _ = load_config(tmp_path, {"output_dir": "elsewhere", "title": None})
    assert config.output_dir == "elsewhere" and config.title == "T"
    assert config.path("output_dir") == tmp_path.resolve() / "elsewhere"


def test_logbuild_toml_not_utf8_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "logbuild.toml").write_bytes(b'title = "Log"\nauthor = "Jos\xe9"\n')
    _, problems = load_config(tmp_path)
    assert formatted(problems) == ["logbuild.toml:2: not UTF-8 text (byte 0xe9) (save the file as UTF-8)"]


def test_pyproject_not_utf8_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "x"\n\n[tool.logbuild]\ntitle = "Caf\xe9"\n')
    _, problems = load_config(tmp_path)
    assert formatted(problems) == ["pyproject.toml:5: not UTF-8 text (byte 0xe9) (save the file as UTF-8)"]


def test_a_pyproject_not_ours_may_be_anything(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    config, problems = load_config(tmp_path)
    assert problems == [] and config.source == ""


def test_bom_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "logbuild.toml").write_bytes('\ufefftitle = "Log"\n'.encode())
    config, problems = load_config(tmp_path)
    assert problems == [] and config.title == "Log"


def test_build_with_a_config_not_utf8_says_so(tmp_path: Path) -> None:
    (tmp_path / "logbuild.toml").write_bytes(b'title = "Caf\xe9"\n')
    result = run_logbuild("-C", tmp_path, "build", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "logbuild.toml:1: not UTF-8 text (byte 0xe9) (save the file as UTF-8)"
    assert "Traceback" not in result.stderr


def test_a_decimal_where_a_whole_number_goes_and_text_where_a_number_goes(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'jobs = 1.5\nsnippet_timeout = "a minute"\n')
    _, problems = load_config(tmp_path)
    assert formatted(problems) == ["logbuild.toml:1: 'jobs' must be a whole number, not a decimal number",
                                   "logbuild.toml:2: 'snippet_timeout' must be a number, not text"]


def test_an_entries_dir_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "logbuild.toml", 'title = "t"\nentries_dir = "entrys"\n')
    _, problems = load_config(tmp_path)
    assert formatted(problems) == [
        "logbuild.toml:2: entries_dir 'entrys' is not a folder (create it, or fix the setting)"]
    (tmp_path / "entrys").mkdir()
    assert load_config(tmp_path)[1] == []
