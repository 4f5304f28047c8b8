"""The pure parts behind notebooks and inline cells: reading .ipynb JSON with its lines, Quarto
cell options, the key text, ANSI tracebacks, the cache's output records, Colab links."""

from __future__ import annotations

import json

import pytest

from site_builder.cells import cell_language, parse_cell
from site_builder.model import Output
from site_builder.sanitize import sanitize
from site_builder.snippet_view import ansi_html, notebook_links
from site_builder.snippets.cache import DamagedEntry, _verified_outputs
from site_builder.snippets.notebook import key_text, python_text, read_notebook


def notebook_json(cells: list[dict[str, object]], **meta: object) -> str:
    """A notebook as Jupyter writes it: indent=1, one source line per JSON line."""
    full = [{"cell_type": c.get("cell_type", "code"), "metadata": c.get("metadata", {}),
             "source": c["source"], **({"outputs": c.get("outputs", []), "execution_count": None}
                                       if c.get("cell_type", "code") == "code" else {})} for c in cells]
    return json.dumps({"cells": full, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def test_cells_keep_their_lines_tags_and_kernel() -> None:
    text = notebook_json(
        [{"cell_type": "markdown", "source": ["# Title\n", "Text with $x$\n"]},
         {"source": ["import numpy as np\n", "np.ones(3)"], "metadata": {"tags": ["hide-input"]},
          "outputs": [{"output_type": "stream", "name": "stdout", "text": ["stale\n"]}]},
         {"source": "x = 1", "metadata": {"tags": ["raises-exception", 7]}}],
        kernelspec={"name": "python3", "language": "python"},
    )
    nb = read_notebook(text, "snippets/n.ipynb")
    lines = text.split("\n")
    assert [c.kind for c in nb.cells] == ["markdown", "code", "code"] and nb.kernel == "python3"
    assert lines[nb.cells[0].line - 1].strip() == '"# Title\\n",'
    assert lines[nb.cells[1].line - 1].strip() == '"import numpy as np\\n",'
    assert '"source": "x = 1"' in lines[nb.cells[2].line - 1]
    assert nb.cells[1].tags == ("hide-input",) and nb.cells[2].tags == ("raises-exception",)
    assert nb.problems == ()


def test_key_text_covers_code_that_runs_and_nothing_else() -> None:
    def key(markdown: str, output: str, tags: list[str]) -> str:
        text = notebook_json([{"cell_type": "markdown", "source": markdown},
                              {"source": "print(1)", "metadata": {"tags": tags},
                               "outputs": [{"output_type": "stream", "name": "stdout", "text": output}]},
                              {"source": "   "}])
        return key_text(read_notebook(text, "n.ipynb").cells)

    base = key("words", "1\n", [])
    assert key("other words", "stale\n", ["hide-input", "remove-output"]) == base
    assert key("words", "1\n", ["raises-exception"]) != base
    assert key("words", "1\n", ["skip-execution"]) == ""


@pytest.mark.parametrize(("text", "line", "needle"), [
    ('{"cells": [\n  1,\n', 3, "does not parse"),
    ('{"cells": [], "nbformat": 3}', 1, "format 3"),
    ('[1, 2]', 1, "no list of cells"),
])
def test_a_file_that_is_no_notebook_says_where(text: str, line: int, needle: str) -> None:
    problem, = read_notebook(text, "snippets/bad.ipynb").problems
    assert problem.path == "snippets/bad.ipynb" and problem.line == line and needle in problem.message
    assert problem.severity == "error"


def test_unknown_kernel_names_are_kept_and_odd_ones_dropped() -> None:
    assert read_notebook(notebook_json([], kernelspec={"name": "ir"}), "n").kernel == "ir"
    assert read_notebook(notebook_json([], kernelspec={"name": "../x y"}), "n").kernel == "python3"


def test_magics_do_not_hide_imports() -> None:
    code = "%matplotlib inline\nimport numpy\nif True:\n    !ls\n"
    assert python_text(code) == "pass\nimport numpy\nif True:\n    pass\n"
    assert python_text("%%bash\necho hi") == ""


def test_quarto_options_become_jupyter_book_tags() -> None:
    code = "#| echo: false\n#| output: false\n#| error: true\n#| fig-cap: Loss\n#| timeout: 5\nx = 1"
    cell, problems = parse_cell(code, 10, "entries/e.md")
    assert problems == []
    assert set(cell.tags) == {"remove-input", "remove-output", "raises-exception"}
    assert cell.source == "x = 1" and cell.line == 15 and cell.caption == "Loss" and cell.timeout == 5.0
    assert cell.runs
    assert not parse_cell("#| eval: false\nx", 1, "e")[0].runs
    assert parse_cell("#| include: false\nx", 1, "e")[0].tags == ("remove-cell",)


def test_bad_cell_options_are_warnings_at_their_line() -> None:
    _, problems = parse_cell("#| echo: false\n#| ecko: true\n#| timeout: soon\n#| just words\nx", 20, "entries/e.md")
    assert [(p.line, p.severity) for p in problems] == [(21, "warning"), (22, "warning"), (23, "warning")]
    assert "unknown cell option 'ecko'" in problems[0].message and problems[0].hint == "did you mean 'echo'?"
    assert "timeout" in problems[1].message


@pytest.mark.parametrize(("info", "language"), [
    ("{python}", "python"), ("{code-cell} python", "python"), ("{code-cell} ipython3", "python"),
    ("{code-cell}", "python"), ("{code-cell} r", "r"), ("python", None), ("{note}", None),
])
def test_which_fences_are_cells(info: str, language: str | None) -> None:
    assert cell_language(info) == language


def test_ansi_colours_become_classes_and_text_is_escaped() -> None:
    text = "\x1b[31mNameError\x1b[39m: <x> \x1b[1;32mbold green\x1b[0m \x1b[38;5;28;01mkw\x1b[0m end"
    out = ansi_html(text)
    assert out.startswith('<span class="ansi-red-fg">NameError</span>: &lt;x&gt; ')
    assert '<span class="ansi-bold ansi-green-fg">bold green</span>' in out
    assert '<span class="ansi-bold">kw</span> end' in out and "\x1b" not in out


def test_cached_outputs_are_checked_field_by_field() -> None:
    good = [[{"kind": "stream", "text": "hi", "name": "stdout", "figure": -1},
             {"kind": "image", "text": "", "name": "", "figure": 0}]]
    assert _verified_outputs(good, 1) == ((Output("stream", "hi", "stdout"), Output("image", "", "", 0)),)
    for bad in ([[{"kind": "image", "text": "", "name": "", "figure": 1}]],  # no such figure
                [[{"kind": "script", "text": "", "name": "", "figure": -1}]],  # no such kind
                [[{"kind": "text", "text": 1, "name": "", "figure": -1}]],  # text is no string
                [[{"kind": "text", "text": "", "name": "", "figure": -1, "path": "/etc"}]],  # a field too many
                [{"kind": "text"}]):  # a cell that is no list
        with pytest.raises(DamagedEntry):
            _verified_outputs(bad, 1)


def test_colab_and_github_links_only_for_github() -> None:
    links = notebook_links("https://github.com/me/log", "snippets/n.ipynb")
    assert links == {"colab": "https://colab.research.google.com/github/me/log/blob/main/snippets/n.ipynb",
                     "github": "https://github.com/me/log/blob/main/snippets/n.ipynb"}
    assert notebook_links("https://github.com/me/log/tree/dev", "n.ipynb")["github"].endswith("/blob/dev/n.ipynb")  # type: ignore[index]
    assert notebook_links("https://gitlab.com/me/log", "n.ipynb") is None
    assert notebook_links("", "n.ipynb") is None



@pytest.mark.parametrize(("markup", "expected"), [
    ('<table border="1" class="dataframe"><tr><td>1 &lt; 2</td></tr></table>',
     '<table border="1" class="dataframe"><tr><td>1 &lt; 2</td></tr></table>'),
    ('<style scoped>.x{}</style><div onclick="steal()">hi<script>steal()</script></div>', "<div>hi</div>"),
    ('<a href="javascript:steal()">x</a><a href="//elsewhere">y</a><a href="https://ok.org/">z</a>',
     '<a>x</a><a>y</a><a href="https://ok.org/">z</a>'),
    ('<img src="x.png" onerror="steal()"><img src="data:image/png;base64,AA">',
     '<img src="x.png"><img src="data:image/png;base64,AA">'),
    (('<svg viewBox="0 0 9 9"><circle r="4" style="fill: #fff"/><path style="fill:url(http://x/)"/>'
     "<foreignObject><div>x</div></foreignObject></svg>"),
     '<svg viewbox="0 0 9 9"><circle r="4" style="fill: #fff"></circle><path></path></svg>'),
    ('<math display="block"><mfrac><mi>a</mi><mi>b</mi></mfrac></math>',
     '<math display="block"><mfrac><mi>a</mi><mi>b</mi></mfrac></math>'),
    ('<b>open <i>deeper', "<b>open <i>deeper</i></b>"),
    ('<iframe src="x"></iframe><p title="&quot;><script>">t</p>', '<p title="&quot;&gt;&lt;script&gt;">t</p>'),
])
def test_output_html_is_rebuilt_from_an_allowlist(markup: str, expected: str) -> None:
    assert sanitize(markup) == expected


def test_a_poisoned_cache_cannot_put_a_script_in_the_page() -> None:
    import datetime as dt

    from site_builder.model import Cell, SnippetResult
    from site_builder.snippet_view import snippet_view

    outputs = ((Output("html", '<b onmouseover="steal()">x</b><script>steal()</script>'),
                Output("svg", "<svg><script>steal()</script></svg>")),)
    result = SnippetResult("n", "k" * 64, "ok", "", "", "", (), 0.0, dt.datetime(2024, 1, 1), True,
                           outputs=outputs, cells=(Cell("code", "x"),), kind="notebook", path="snippets/n.ipynb")
    shown = [o["html"] for o in snippet_view(result)["cells"][0]["outputs"]]
    assert shown == ["<b>x</b>", "<svg></svg>"]


def test_myst_tags_line_works_as_in_jupyter_book() -> None:
    cell, problems = parse_cell(":tags: [hide-input, raises-exception]\n#| fig-cap: A\n1 / 0", 3, "entries/e.md")
    assert problems == [] and cell.tags == ("hide-input", "raises-exception") and cell.caption == "A"
    assert cell.source == "1 / 0" and cell.line == 5
    _, problems = parse_cell(":tags: hide-input\n:label: x\nx", 3, "entries/e.md")
    assert [(p.line, p.message.split(",")[0]) for p in problems] == [(3, "a cell's :tags: is a list"),
                                                                     (4, "unknown cell option ':label:'")]
