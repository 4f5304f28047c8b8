"""The pure parts of the snippet engine: option lines, import discovery, the cache key."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from site_builder.snippets.cache import KeyInputs, input_digests, snippet_key
from site_builder.snippets.headers import parse_options
from site_builder.snippets.inputs import PackageVersions, gather_inputs, imported_modules
from site_builder.snippets.why import describe_changes


def test_option_lines() -> None:
    source = '''"""Docstring first."""
# logbuild: timeout=30
# logbuild: exclusive, svg
# logbuild: raises=ValueError
# logbuild: data=data/a.csv
# logbuild: data=data/images
x = "# logbuild: timeout=1"  # not an option: inside a string
'''
    o = parse_options(source)
    assert (o.timeout, o.exclusive, o.svg, o.raises, o.raises_line) == (30.0, True, True, "ValueError", 4)
    assert o.data == ("data/a.csv", "data/images") and o.problems == ()
    bad = parse_options("# logbuild: timeout=soon\n# logbuild: exclusiv\n# logbuild: data=/etc/x\n")
    assert [line for line, _ in bad.problems] == [1, 2, 3]
    assert "did you mean 'exclusive'" in bad.problems[1][1]


def test_imported_modules() -> None:
    source = (
        "import os, numpy.linalg as la\nfrom helpers import f\nfrom . import util\nfrom .pkg.sub import g\n"
    )
    assert imported_modules(source) == {"os", "numpy", "helpers", "util", "pkg"}
    assert imported_modules("from . import x\nfrom .. import y\n", "pkg/sub/mod.py") == {"pkg"}
    assert imported_modules("from .. import y\n", "pkg/mod.py") == {"y"}
    assert imported_modules("def broken(:\n") == set()


def _copy_log(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _key(root: Path) -> str:
    source = (root / "snippets" / "main.py").read_text()
    inputs = gather_inputs(
        "main", source, parse_options(source), root, root / "snippets", {"A": "1"}, PackageVersions()
    )
    return snippet_key(inputs)


def test_key_is_portable_across_absolute_paths(tmp_path: Path) -> None:
    log = tmp_path / "original"
    (log / "snippets" / "pkg").mkdir(parents=True)
    (log / "data").mkdir()
    (log / "data" / "x.txt").write_text("data")
    (log / "snippets" / "main.py").write_text(
        "# logbuild: data=data\nimport numpy\nimport pkg\nfrom helper import h\n"
    )
    (log / "snippets" / "helper.py").write_text("h = 1\n")
    (log / "snippets" / "pkg" / "__init__.py").write_text("from .inner import v\n")
    (log / "snippets" / "pkg" / "inner.py").write_text("v = 2\n")
    copy = _copy_log(log, tmp_path / "somewhere" / "else" / "copy")
    assert _key(log) == _key(copy)
    (copy / "snippets" / "pkg" / "inner.py").write_text("v = 3\n")
    assert _key(log) != _key(copy)
    (copy / "snippets" / "pkg" / "inner.py").write_text("v = 2\n")
    (copy / "data" / "y.txt").write_text("more")
    assert _key(log) != _key(copy)
    source = (log / "snippets" / "main.py").read_text()
    inputs = gather_inputs(
        "main", source, parse_options(source), log, log / "snippets", {}, PackageVersions()
    )
    assert str(tmp_path) not in repr(input_digests(inputs))
    assert set(inputs.modules) == {"helper.py", "pkg/__init__.py", "pkg/inner.py"}
    assert "numpy" in inputs.packages and "os" not in inputs.packages


BASE = KeyInputs(
    name="s",
    source="print(1)\n",
    modules={"helper.py": "x = 1\n"},
    data={"data/a": "d1"},
    python="3.11.7",
    packages={"numpy": "2.4.6"},
    env={"SEED": "0"},
    options="svg=0",
)


def test_package_version_changes_the_key_and_why_names_it() -> None:
    newer = dataclasses.replace(BASE, packages={"numpy": "2.5.0"})
    assert snippet_key(newer) != snippet_key(BASE)
    assert describe_changes(input_digests(BASE), input_digests(newer)) == ["numpy 2.4.6 -> 2.5.0"]


texts = st.text(max_size=8)
maps = st.dictionaries(st.text(min_size=1, max_size=4), texts, max_size=3)


@given(
    field=st.sampled_from(
        ["name", "source", "modules", "data", "python", "packages", "runner", "env", "options"]
    ),
    value=st.one_of(texts, maps),
)
def test_key_changes_iff_an_input_changes(field: str, value: object) -> None:
    current = getattr(BASE, field)
    if isinstance(current, str) != isinstance(value, str):
        value = str(value) if isinstance(current, str) else {"k": str(value)}
    other = dataclasses.replace(BASE, **{field: value})
    assert (snippet_key(other) == snippet_key(BASE)) == (other == BASE)
    assert snippet_key(dataclasses.replace(BASE)) == snippet_key(BASE)
