"""RENDER BODY stage: Markdown cases as fixture files (input / expected HTML), markdown-it-py style."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it.utils import read_fixture_file

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
