"""The shape of the package: imports only go down the pipeline, and the CLI stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_logbuild

from site_builder import __version__

PACKAGE = Path(__file__).parent.parent / "site_builder"

# Lowest first. A module may import modules of earlier layers only; inside a subpackage
# (snippets/, importer/, serve/) its own modules may import each other.
LAYERS: list[list[str]] = [
    ["slugs", "lock", "sanitize"],  # content -> path segments; one build at a time; output HTML made safe
    ["errors", "calendar", "output", "links"],  # no project imports but those above
    ["model", "config", "frontmatter", "confine", "mathml"],  # the values that flow, the settings, YAML blocks, walks; LaTeX -> MathML
    ["cells"],  # an entry's executable cell and its Quarto options
    ["directives"],  # callouts, math and cells on markdown-it's tokens
    ["statecodec"],  # the build state's values as checked JSON
    ["streaks", "markdown", "snippet_view", "workers"],  # pure stages on those values
    ["builds"],  # what one build is asked for and reports (all the no-change check needs)
    ["state"],  # the state of them, which knows what renders its records (markdown's version)
    ["entries", "incremental", "snippets"],  # LOAD and EXECUTE
    ["undated"],  # LOAD the undated pages (pages/about.md), written like entries
    ["pages", "templates", "shards", "linked", "checks", "assets"],  # PLAN, THEME; a CI shard's snippets; what to run, and checks
    ["reuse"],  # what a build takes from its state as it is, for the pages it plans
    ["build", "newentry"],  # the one place that knows the stage order; `new` beside it
    ["report", "publish", "scaffold"],  # edges
    ["importer"],  # an edge that writes a site title the way scaffold writes settings
    ["serve", "commands"],  # the preview server drives builds; the library side of the CLI commands
    ["cli"],  # thin commands on top of everything
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def top_module(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def project_imports(path: Path) -> set[str]:
    """Top-level site_builder modules that `path` imports, anywhere in the file (lazy imports too)."""
    tree = ast.parse(path.read_text("utf-8"))
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for site_builder/x.py
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 < depth:
                    continue  # inside its own subpackage
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.module and node.module.startswith("site_builder."):
                names = [node.module.split(".")[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("site_builder.")]
        found |= {n.split(".")[0] for n in names}
    return {n for n in found if n != "__version__" and n != top_module(path)}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({top_module(p) for p in modules()} - set(LAYER))
    assert unplaced == [], "add these modules to LAYERS in tests/test_architecture.py"


def test_imports_only_go_down() -> None:
    upward = []
    for path in modules():
        here = top_module(path)
        for target in sorted(project_imports(path)):
            if target not in LAYER or LAYER[target] >= LAYER[here]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports {target}")
    assert upward == []


def test_the_walker_sees_imports() -> None:
    assert {"config", "entries", "pages", "output", "state"} <= project_imports(PACKAGE / "build.py")
    assert project_imports(PACKAGE / "errors.py") == set()


def _loaded(code: str) -> list[str]:
    heavy = ("matplotlib", "tensorflow", "numpy", "PIL", "jinja2", "markdown_it", "pygments", "rich")
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    result = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["site_builder.build", "site_builder.cli"])
def test_builder_never_imports_snippet_libraries(module: str) -> None:
    loaded = _loaded(f"import {module}")
    assert not {"matplotlib", "tensorflow", "numpy", "PIL"} & set(loaded)


def test_cli_module_is_light() -> None:
    assert _loaded("import site_builder.cli") == []  # --help imports no renderer


def test_help_and_version() -> None:
    help_ = run_logbuild("--help")
    assert help_.returncode == 0 and "Usage: logbuild" in help_.stdout and "build" in help_.stdout
    version = run_logbuild("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"logbuild, version {__version__}"
    assert _loaded("import sys; sys.argv = ['logbuild', '--help']\n"
                   "from site_builder.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass") == []


def test_a_build_with_nothing_to_do_imports_no_stage(tmp_path: Path) -> None:
    """`logbuild build` on an unchanged log answers from the no-change check: it imports none of
    the stages, nor the model (15 dataclasses, each made at import), nor any renderer."""
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "2024-03-01.md").write_text("---\ntitle: A day\n---\nText.\n", "utf-8")
    (tmp_path / "logbuild.toml").write_text('title = "A log"\n', "utf-8")
    assert run_logbuild("-C", str(tmp_path), "build", "--today", "2024-03-01").returncode == 0
    argv = ["logbuild", "-C", str(tmp_path), "build", "--today", "2024-03-01"]
    code = (f"import json, sys\nsys.argv = {argv!r}\n"
            "from site_builder.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n")
    listing = "print(json.dumps(sorted(m for m in sys.modules if m.startswith('site_builder.'))))"
    result = subprocess.run([sys.executable, "-c", code + listing], check=False, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "(0 written)" in result.stdout, result.stdout + result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & {"site_builder.model", "site_builder.build", "site_builder.state", "site_builder.markdown",
                         "site_builder.pages", "site_builder.entries"}
    assert _loaded(code) == []
