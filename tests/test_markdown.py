"""RENDER BODY stage: Markdown cases as fixture files (input / expected HTML), markdown-it-py style."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_logbuild
from markdown_it.utils import read_fixture_file

from site_builder.links import LinkContext
from site_builder.markdown import PLACEHOLDER_RE, highlight_code, pygments_css, render_body

FIXTURES = Path(__file__).parent / "fixtures" / "markdown"
CASES = [case for path in sorted(FIXTURES.glob("*.md")) for case in read_fixture_file(path)]


@pytest.mark.parametrize("line, title, source, expected", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_fixture(line: int, title: str, source: str, expected: str) -> None:
    assert render_body(source).html.rstrip("\n") == expected.rstrip("\n")


def test_fixture_file_is_read() -> None:
    assert len(CASES) >= 10


def test_headings_text_and_summary() -> None:
    body = render_body("# Title\n\nFirst **bold** paragraph,\nwrapped.\n\n## Part one\n\n```python\nx = 1\n```\n")
    assert [(h.level, h.text, h.anchor) for h in body.headings] == [(2, "Part one", "part-one")]
    assert body.summary == "First bold paragraph, wrapped."
    assert "x = 1" in body.text and "Part one" in body.text


def test_long_summary_is_cut_at_a_word() -> None:
    body = render_body("word " * 100)
    assert len(body.summary) <= 280 and body.summary.endswith("word…")


def test_snippet_directive_is_not_search_text() -> None:
    body = render_body("```{snippet} secret_name\n```\n")
    assert "secret_name" not in body.text
    assert PLACEHOLDER_RE.findall(body.html) == ["secret_name"]


def test_highlight_code() -> None:
    assert highlight_code("x", "no-such-language") is None
    assert '<span class="n">x</span>' in (highlight_code("x", "Python") or "")


def test_pygments_css_has_light_and_dark() -> None:
    css = pygments_css()
    assert ".highlight" in css and "prefers-color-scheme: dark" in css


WHERE = LinkContext("entries/2018-09-09.md", "entries", "static", "entries/2018-09-09/", body_first_line=5)
TOO_DEEP = "warning: quotes or lists nested more than 20 deep: this block is left out of the page (nest them less deeply)"


def test_a_quote_too_deep_is_a_warning_at_its_file_line() -> None:
    body = render_body("Intro.\n\n" + "> " * 30 + "lost words\n\n" + "> " * 5 + "kept\n", WHERE)
    assert [d.format() for d in body.problems] == [f"entries/2018-09-09.md:7: {TOO_DEEP}"]
    assert "kept" in body.text and "lost words" not in body.text


def test_each_too_deep_block_is_one_warning() -> None:
    """markdown-it itself drops everything after a too-deep list item, to the end of the entry."""
    text = "".join(f"{'- ' * 12}item {i}\n\npara {i}\n\n" for i in range(3))
    body = render_body(text, WHERE)
    assert [d.line for d in body.problems] == [5, 9, 13]
    assert body.text == "para 0 para 1 para 2"


def test_nesting_within_the_limit_is_quiet() -> None:
    assert render_body("> " * 19 + "fine\n", WHERE).problems == ()


@pytest.mark.parametrize("source", [
    "- " * 10_000 + "x\n",
    "> " * 10_000 + "x\n",
    "[" * 10_000 + "x" + "]" * 10_000 + "\n",
    "*" * 10_000 + "x" + "*" * 10_000 + "\n",
    "<div>" * 5_000 + "x" + "</div>" * 5_000 + "\n",
    "![" * 3_000 + "x" + "](y)" * 3_000 + "\n",
    "a[^1]\n\n[^1]: " + "> " * 1_000 + "x\n",
    "".join("  " * i + f"- item {i}\n" for i in range(2_000)),
])
def test_deep_but_legal_markdown_does_not_crash(source: str) -> None:
    body = render_body(source, WHERE)  # no RecursionError
    assert isinstance(body.html, str)


def test_build_prints_the_nesting_warning(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    (tmp_path / "logbuild.toml").write_text("# the defaults\n", "utf-8")
    (tmp_path / "entries" / "2018-09-09.md").write_text(
        "---\ntitle: Deep\n---\nIntro.\n\n" + "> " * 30 + "lost\n", "utf-8")
    result = run_logbuild("-C", tmp_path, "build", "--out", tmp_path / "out", "--today", "2018-09-10")
    assert result.returncode == 0, result.stderr
    assert f"entries/2018-09-09.md:6: {TOO_DEEP}" in result.stderr.splitlines()


def test_bad_formulas_and_unknown_directives_are_warnings_at_their_file_lines() -> None:
    source = ("Intro $ok$.\n"  # file line 5 (the body starts at line 5)
              "\n"
              "A wrapped paragraph with\n"
              "a bad $\\frac{a$ on its second line.\n"  # line 8
              "\n"
              "$$\n"  # line 10
              "x^\n"
              "$$\n"
              "\n"
              "```{figur}\n"  # line 14
              "plot.png\n"
              "```\n"
              "\n"
              "```{note}\n"  # line 18
              "Inside a note, $\\nosuch$.\n"  # line 19
              "```\n"
              "\n"
              ":::{sidebar}\n"  # line 22
              "Text.\n"
              ":::\n")
    problems = render_body(source, WHERE).problems
    assert [(p.path, p.line, p.severity) for p in problems] == [("entries/2018-09-09.md", n, "warning")
                                                                for n in (8, 10, 14, 19, 22)]
    messages = [p.message for p in problems]
    assert all("formula does not parse" in messages[i] for i in (0, 1, 3))
    assert "unknown directive '{figur}'" in messages[2] and "note" in (problems[2].hint or "")
    assert "unknown command \\nosuch" in messages[3]
    assert "unknown directive '{sidebar}'" in messages[4]


def test_cell_option_mistakes_are_warnings_at_their_file_lines() -> None:
    source = "Text.\n\n```{python}\n#| echo: false\n#| ecko: true\nx = 1\n```\n"
    problems = render_body(source, WHERE).problems
    assert [(p.line, p.message) for p in problems] == [(9, "unknown cell option 'ecko'")]


def test_entry_cells_are_numbered_as_the_page_places_them() -> None:
    from site_builder.markdown import entry_cells

    source = ("```{python}\na = 1\n```\n\n> ```{python}\n> b = a\n> ```\n\n"
              "````{note}\n```{code-cell} python\nc = b\n```\n````\n\n```{code-cell} r\nd <- 1\n```\n")
    cells = entry_cells(source, WHERE)
    assert [c.source for c in cells] == ["a = 1", "b = a", "c = b"]
    assert [c.line for c in cells] == [6, 10, 15]
    html = render_body(source, WHERE).html
    assert PLACEHOLDER_RE.findall(html) == ["@0", "@1", "@2"]
