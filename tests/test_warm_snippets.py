"""Warm snippets (serve only), with real zygotes and real forks: a warm run gives what a cold run
gives (result, figures byte for byte, cache key), starts from a clean state every time, keeps the
box of a cold run (timeout, memory limit, escaped children, a killed builder), falls back to a
cold run when its zygote is gone or stale, and `serve` leaves no zygote behind."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_serve import _start_cli
from test_snippet_sandbox import ESCAPE, make_log, pids_from, wait_until

from site_builder.model import SnippetResult
from site_builder.snippets import SnippetSettings, run_snippets
from site_builder.snippets.runner import PACKAGE_PARENT
from site_builder.snippets.warm import Need, WarmPool, needs, warm_up

WAIT = 120.0  # a bound on a zygote importing numpy and pyplot on a loaded machine, never a speed check

FIGURE = """\
import numpy as np
import matplotlib.pyplot as plt

x = np.linspace(0, 1, 40)
plt.plot(x, np.sqrt(x), label="root")
plt.title("Square root")
plt.legend()
print("sum", round(float(np.sqrt(x).sum()), 6))
print("default width", plt.rcParams["lines.linewidth"])
plt.show()
plt.figure()
plt.bar([1, 2, 3], [3, 1, 2])
"""
FAILING = """\
import numpy as np
import matplotlib.pyplot as plt

plt.plot([1, 2])
values = np.arange(3)
print(values)
raise ValueError(f"bad values {values}")
"""


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[WarmPool]:
    warm = WarmPool(tmp_path / ".logbuild")
    yield warm
    warm.close()


def warmed(settings: SnippetSettings, pool: WarmPool, *names: str) -> SnippetSettings:
    """Settings that run on `pool`, once it has a zygote for these snippets."""
    warm = dataclasses.replace(settings, warm=pool)
    warm_up(names, warm)
    assert pool.wait_started(WAIT), "the zygote never started"
    assert pool.zygotes, "the zygote failed to start"
    return warm


def run_warm(names: list[str], settings: SnippetSettings, pool: WarmPool) -> dict[str, SnippetResult]:
    before = pool.warm_runs
    results = run_snippets(names, settings)
    assert pool.warm_runs == before + len(names), "a run was not warm"
    return results


def same(a: SnippetResult, b: SnippetResult) -> dict[str, object]:
    """The fields of a result that must not depend on how the run started."""
    keep = ("name", "key", "status", "source", "stdout", "stderr", "figures", "traceback", "error_line", "outputs")
    return {f: (getattr(a, f), getattr(b, f)) for f in keep if getattr(a, f) != getattr(b, f)}


# --- 1. what a warm run gives ------------------------------------------------------------------


def test_a_warm_run_gives_what_a_cold_run_gives(tmp_path: Path, pool: WarmPool) -> None:
    cold = make_log(tmp_path, {"figure.py": FIGURE, "failing.py": FAILING}, fresh=True)
    cold_results = run_snippets(["figure", "failing"], cold)
    cold_pngs = {f.path: _figure_bytes(tmp_path, cold_results["figure"], f.path) for f in cold_results["figure"].figures}
    warm = warmed(cold, pool, "figure")
    assert pool.zygotes[0].preload == {"numpy", "matplotlib.pyplot"} and "matplotlib" in pool.zygotes[0].loaded
    for name in ("figure", "failing"):
        result = run_warm([name], warm, pool)[name]
        assert same(cold_results[name], result) == {}, name
    figure = cold_results["figure"]
    assert figure.status == "ok" and len(figure.figures) == 2 and figure.figures[0].alt == "Square root"
    assert "default width 1.5" in figure.stdout
    warm_pngs = {f.path: _figure_bytes(tmp_path, figure, f.path) for f in figure.figures}
    assert warm_pngs == cold_pngs  # the same pixels, the same bytes
    failing = cold_results["failing"]
    assert failing.status == "failed" and failing.error_line == 7 and "ValueError: bad values [0 1 2]" in (
        failing.traceback or "")


def _figure_bytes(root: Path, result: SnippetResult, name: str) -> bytes:
    return Path(result.output_dir or root, name).read_bytes()


def test_the_cache_key_does_not_depend_on_the_pool(tmp_path: Path, pool: WarmPool) -> None:
    settings = make_log(tmp_path, {"figure.py": FIGURE})
    cold = run_snippets(["figure"], dataclasses.replace(settings, fresh=True))["figure"]
    warm = run_warm(["figure"], dataclasses.replace(warmed(settings, pool, "figure"), fresh=True), pool)["figure"]
    assert warm.key == cold.key and not warm.from_cache
    again = run_snippets(["figure"], settings)["figure"]  # a build, no pool: the warm run's output is its hit
    assert again.from_cache and again.key == cold.key


# --- 2. a clean state for every run ------------------------------------------------------------

DIRTY = """\
import numpy as np
import matplotlib.pyplot as plt
import json
import sys

plt.rcParams["lines.linewidth"] = 9.0
np.random.seed(1)
np.leaked = "yes"
json.leaked = "yes"
sys.modules["leaked_module"] = json
plt.figure()
print("dirty")
"""
LOOK = """\
import numpy as np
import matplotlib.pyplot as plt
import json
import sys

print("width", plt.rcParams["lines.linewidth"])
print("leaks", hasattr(np, "leaked"), hasattr(json, "leaked"), "leaked_module" in sys.modules)
print("open figures", plt.get_fignums())
print("seeded", np.random.random() == np.random.RandomState(1).random())
print("draw", np.random.random())
"""


def test_state_does_not_leak_from_one_warm_run_to_the_next(tmp_path: Path, pool: WarmPool) -> None:
    settings = warmed(make_log(tmp_path, {"dirty.py": DIRTY, "look.py": LOOK}, fresh=True), pool, "dirty", "look")
    assert run_warm(["dirty"], settings, pool)["dirty"].stdout == "dirty\n"
    draws = []
    for _ in range(2):
        look = run_warm(["look"], settings, pool)["look"]
        assert look.status == "ok", look.traceback
        lines = look.stdout.splitlines()
        assert lines[:4] == ["width 1.5", "leaks False False False", "open figures []", "seeded False"]
        draws.append(lines[4])
    assert draws[0] != draws[1]  # each run seeds numpy from the OS, as a fresh interpreter does


def test_a_log_module_is_read_afresh_on_every_warm_run(tmp_path: Path, pool: WarmPool) -> None:
    files = {"helper.py": "VALUE = 1\n", "uses.py": "import numpy\nimport helper\nprint(helper.VALUE)\n"}
    settings = warmed(make_log(tmp_path, files), pool, "uses")
    assert needs(files["uses.py"], settings.snippets_dir) == Need(("numpy",), frozenset({"helper"}))
    assert run_warm(["uses"], settings, pool)["uses"].stdout == "1\n"
    (settings.snippets_dir / "helper.py").write_text("VALUE = 2\n")
    assert run_warm(["uses"], settings, pool)["uses"].stdout == "2\n"


def test_preloading_stops_at_the_first_statement_that_is_not_an_import(tmp_path: Path) -> None:
    snippets = tmp_path / "snippets"
    snippets.mkdir()
    (snippets / "local.py").write_text("")
    source = textwrap.dedent('''\
        """Docstring."""
        from __future__ import annotations
        import numpy as np, json
        from matplotlib import pyplot as plt
        import local
        import pandas
        ''')
    assert needs(source, snippets).preload == ("numpy", "json", "matplotlib", "matplotlib:pyplot")
    later = "import os\nos.environ['OMP_NUM_THREADS'] = '1'\nimport numpy\n"
    assert needs(later, snippets).preload == ("os",)
    assert needs("import tensorflow as tf\nimport numpy\n", snippets).preload == ()
    assert needs("def f(:\n", snippets).preload == ()


# --- 3. the same box as a cold run -------------------------------------------------------------


def alive(pid: int) -> bool:
    """A running process that is still our sleeper or a fork of the zygote (the snippet, its supervisor)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state != "Z" and (b"sleep(600)" in cmdline or b"site_builder.snippets.zygote" in cmdline)


def assert_all_gone(pids: list[int]) -> None:
    assert wait_until(lambda: not any(alive(p) for p in pids), WAIT), [p for p in pids if alive(p)]


def test_escaped_child_dies_when_a_warm_snippet_ends(tmp_path: Path, pool: WarmPool) -> None:
    pidfile = tmp_path / "pids"
    settings = warmed(make_log(tmp_path, {"escape.py": ESCAPE.format(pidfile=str(pidfile))}), pool, "escape")
    result = run_warm(["escape"], settings, pool)["escape"]
    assert result.status == "ok", result.traceback
    sleeper, snippet, supervisor = pids_from(pidfile)
    assert _parent(supervisor) in (pool.zygotes[0].proc.pid, None)  # it was a fork of the zygote
    assert_all_gone([sleeper, snippet, supervisor])


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[1])
    except (OSError, IndexError):
        return None  # gone already


def test_timeout_in_a_warm_run_kills_the_tree(tmp_path: Path, pool: WarmPool) -> None:
    pidfile = tmp_path / "pids"
    source = "# logbuild: timeout=10\n" + ESCAPE.format(pidfile=str(pidfile)) + "import time\ntime.sleep(600)\n"
    settings = warmed(make_log(tmp_path, {"escape.py": source}), pool, "escape")
    result = run_warm(["escape"], settings, pool)["escape"]
    assert result.status == "timeout" and "killed after 10 s" in (result.traceback or "")
    assert_all_gone(pids_from(pidfile))
    assert pool.zygotes and pool.zygotes[0].alive()  # the zygote itself lives on for the next run


def test_memory_limit_in_a_warm_run_fails_as_a_cold_run_does(tmp_path: Path, pool: WarmPool) -> None:
    big = "import numpy as np\n# logbuild: memory=1G\nprint('allocating')\nblock = np.ones(400_000_000)\n"
    settings = make_log(tmp_path, {"big.py": big}, fresh=True)
    cold = run_snippets(["big"], settings)["big"]
    warm = run_warm(["big"], warmed(settings, pool, "big"), pool)["big"]
    assert cold.status == warm.status == "failed" and warm.error_line == cold.error_line == 4
    assert warm.stdout == "allocating\n"
    assert same(cold, warm) == {}
    assert (warm.traceback or "").rstrip().endswith("lift it with `# logbuild: memory=none`")


def test_escaped_child_and_zygote_die_when_the_builder_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    source = ESCAPE.format(pidfile=str(pidfile)) + "import time\ntime.sleep(600)\n"
    make_log(tmp_path, {"escape.py": source})
    builder = textwrap.dedent(f"""\
        import dataclasses, sys
        from pathlib import Path
        from site_builder.snippets import SnippetSettings, run_snippets
        from site_builder.snippets.warm import WarmPool, warm_up
        root = Path({str(tmp_path)!r})
        pool = WarmPool(root / ".logbuild")
        settings = SnippetSettings(root=root, snippets_dir=root / "snippets", cache_dir=root / ".logbuild", warm=pool)
        warm_up(["escape"], settings)
        assert pool.wait_started({WAIT}) and pool.zygotes
        print(pool.zygotes[0].proc.pid, flush=True)
        run_snippets(["escape"], settings)
        """)
    proc = subprocess.Popen([sys.executable, "-c", builder], stdout=subprocess.PIPE, text=True)
    try:
        zygote = int(proc.stdout.readline())  # type: ignore[union-attr]
        pids = pids_from(pidfile)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
    assert_all_gone([*pids, zygote])


def test_escaped_child_dies_when_the_pool_stops_during_a_run(tmp_path: Path, pool: WarmPool) -> None:
    """The zygote ends a run it is told to drop through the run's supervisor (SIGTERM), so the
    tree goes with it; a SIGKILLed supervisor would leave the `setsid` sleeper behind."""
    pidfile = tmp_path / "pids"
    source = ESCAPE.format(pidfile=str(pidfile)) + "import time\ntime.sleep(600)\n"
    settings = warmed(make_log(tmp_path, {"escape.py": source}), pool, "escape")
    results: dict[str, SnippetResult] = {}
    runner = threading.Thread(target=lambda: results.update(run_snippets(["escape"], settings)))
    runner.start()
    pids = pids_from(pidfile)
    pool.close()
    runner.join(WAIT)
    assert not runner.is_alive() and results["escape"].status != "ok"
    assert_all_gone(pids)


def test_the_builder_never_imports_what_the_zygote_preloads(tmp_path: Path) -> None:
    make_log(tmp_path, {"figure.py": FIGURE})
    script = textwrap.dedent(f"""\
        import dataclasses, sys
        from pathlib import Path
        from site_builder.snippets import SnippetSettings, run_snippets
        from site_builder.snippets.warm import WarmPool, warm_up
        root = Path({str(tmp_path)!r})
        pool = WarmPool(root / ".logbuild")
        settings = SnippetSettings(root=root, snippets_dir=root / "snippets", cache_dir=root / ".logbuild", warm=pool)
        warm_up(["figure"], settings)
        assert pool.wait_started({WAIT}) and pool.zygotes
        result = run_snippets(["figure"], settings)["figure"]
        pool.close()
        print(result.status, pool.warm_runs, sorted(m for m in ("numpy", "matplotlib", "PIL") if m in sys.modules))
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=2 * WAIT, check=False)
    assert done.stdout.split() == ["ok", "1", "[]"], done.stderr


# --- 4. cold when the zygote cannot serve ------------------------------------------------------


def test_a_dead_zygote_means_a_cold_run_and_a_new_zygote(tmp_path: Path, pool: WarmPool) -> None:
    settings = warmed(make_log(tmp_path, {"figure.py": FIGURE}, fresh=True), pool, "figure")
    first = pool.zygotes[0]
    first.proc.kill()
    first.proc.wait()
    result = run_snippets(["figure"], settings)["figure"]
    assert result.status == "ok" and len(result.figures) == 2 and pool.warm_runs == 0
    assert pool.wait_started(WAIT)
    assert [z for z in pool.zygotes if z is not first and z.alive()]  # started again for the next save
    assert run_warm(["figure"], settings, pool)["figure"].status == "ok"


def test_an_upgraded_package_retires_the_zygote(tmp_path: Path, pool: WarmPool) -> None:
    libs = tmp_path / "libs"
    (libs / "fakepkg").mkdir(parents=True)
    (libs / "fakepkg" / "__init__.py").write_text("VERSION = 1\n")
    env = {"PYTHONPATH": os.pathsep.join([PACKAGE_PARENT, str(libs)])}
    settings = make_log(tmp_path, {"uses.py": "import fakepkg\nprint(fakepkg.VERSION)\n"}, env=env, fresh=True)
    settings = warmed(settings, pool, "uses")
    assert run_warm(["uses"], settings, pool)["uses"].stdout == "1\n"
    new = libs / "fakepkg" / "__init__.py.new"  # as pip installs: a new file moved into place
    new.write_text("VERSION = 2\n")
    os.replace(new, libs / "fakepkg" / "__init__.py")
    result = run_snippets(["uses"], settings)["uses"]
    assert result.stdout == "2\n", "a zygote with the old package served the run"


def test_from_import_preloads_what_the_import_itself_would(tmp_path: Path, pool: WarmPool) -> None:
    """`from pkg import sub` takes pkg's attribute `sub` and never imports the submodule pkg.sub:
    preloading that submodule would have replaced the attribute with the module."""
    libs = tmp_path / "libs"
    (libs / "pkg").mkdir(parents=True)
    (libs / "pkg" / "__init__.py").write_text("def sub():\n    return 'the function'\n")
    (libs / "pkg" / "sub.py").write_text("")
    env = {"PYTHONPATH": os.pathsep.join([PACKAGE_PARENT, str(libs)])}
    source = "from pkg import sub\nprint(sub() if callable(sub) else 'the module')\n"
    settings = make_log(tmp_path, {"uses.py": source}, env=env, fresh=True)
    cold = run_snippets(["uses"], settings)["uses"]
    warm = run_warm(["uses"], warmed(settings, pool, "uses"), pool)["uses"]
    assert cold.stdout == warm.stdout == "the function\n"


def test_a_zygote_that_loaded_a_module_the_log_also_has_is_not_used(tmp_path: Path, pool: WarmPool) -> None:
    """The zygote has `selectors` loaded (its own loop uses it), a cold harness has not: a snippet
    that imports the log's own snippets/selectors.py must get that one, so it runs cold."""
    files = {"other.py": "import math\nprint('other')\n", "selectors.py": "NAME = 'mine'\n",
             "mine.py": "import math\nimport selectors\nprint(selectors.NAME)\n"}
    settings = warmed(make_log(tmp_path, files), pool, "other")
    assert "selectors" in pool.zygotes[0].loaded and pool.zygotes[0].preload == {"math"}
    before = pool.warm_runs
    assert run_snippets(["mine"], settings)["mine"].stdout == "mine\n"
    assert pool.warm_runs == before


# --- 5. serve -----------------------------------------------------------------------------------


def _zygotes_of(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and fields[0] != "Z" and b"site_builder.snippets.zygote" in cmdline:
            found.append(int(stat.parent.name))
    return found


def _cwd(pid: int) -> Path:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return Path("/")


@pytest.mark.parametrize("stop, snippet_ends", [(signal.SIGINT, True), (signal.SIGKILL, True),
                                                    (signal.SIGINT, False)])
def test_serve_starts_a_zygote_and_leaves_none_behind(tmp_path: Path, stop: signal.Signals,
                                                      snippet_ends: bool) -> None:
    """Also when Ctrl-C comes while a snippet still runs (it sleeps, in the background)."""
    root = tmp_path / "log"
    (root / "entries").mkdir(parents=True)
    (root / "snippets").mkdir()
    (root / "logbuild.toml").write_text("# the defaults\n")
    (root / "snippets" / "figure.py").write_text(FIGURE)
    (root / "snippets" / "slow.py").write_text(f"import time\ntime.sleep({0 if snippet_ends else 600})\n")
    (root / "entries" / "2024-01-02.md").write_text(
        "---\ndate: 2024-01-02\ntitle: A figure\n---\n```{snippet} figure\n```\n\n```{snippet} slow\n```\n")
    proc = _start_cli(root, "--port", "0")
    try:
        assert wait_until(lambda: _zygotes_of(proc.pid), WAIT), "serve started no zygote"
        (zygote,) = _zygotes_of(proc.pid)
        assert wait_until(lambda: _cwd(zygote).name.startswith("zygote-"), WAIT)  # its own folder, once it runs
        folder = _cwd(zygote)
        assert folder.parent == (root / ".logbuild" / "work").resolve()
        os.kill(proc.pid, stop)
        proc.wait(WAIT)
    finally:
        proc.kill()
        proc.communicate()
    assert wait_until(lambda: not alive(zygote), WAIT), f"zygote {zygote} outlived serve"
    if stop == signal.SIGINT:
        assert not folder.exists()  # it cleans up after itself; after a SIGKILL a later run sweeps it


def test_a_saved_snippet_shows_its_new_output_and_then_its_failure(tmp_path: Path) -> None:
    from test_serve import Running, save, write_entry

    root = tmp_path / "log"
    save(root / "logbuild.toml", "# the defaults\n")
    save(root / "snippets" / "figure.py", FIGURE)
    write_entry(root, "2024-01-02", "A figure", "```{snippet} figure\n```\n")
    running = Running(root, background_snippets=True)
    try:
        stream = running.events()
        running.page_with(stream, "/entries/2024-01-02/", b'alt="Square root"')  # the first, cold run
        assert running.preview._warm.wait_started(WAIT)
        save(root / "snippets" / "figure.py", FIGURE.replace("Square root", "Saved again"))
        running.page_with(stream, "/entries/2024-01-02/", b'alt="Saved again"')
        assert running.preview._warm.warm_runs == 1
        (root / "snippets" / "figure.py").write_text(FIGURE + "raise RuntimeError('broken on save')\n")
        deadline = time.monotonic() + WAIT
        data: dict[str, object] = {"warnings": []}
        while not any("broken on save" in w for w in data["warnings"]) and time.monotonic() < deadline:  # type: ignore[attr-defined]
            _, data = stream.next("status")
        assert any("figure.py:13" in w and "broken on save" in w for w in data["warnings"]), data  # type: ignore[attr-defined]
        stream.close()
    finally:
        running.close()
    assert running.preview._warm is False  # stopped with serve


def test_a_notebook_on_a_warm_harness_gives_what_a_cold_one_gives(tmp_path: Path, pool: WarmPool) -> None:
    """The zygote spares a notebook only the harness's Jupyter client; the kernel is a fresh process."""
    from test_snippets_notebooks import cell, write_notebook

    settings = make_log(tmp_path, {"helper.py": "FACTOR = 3\n"}, fresh=True)
    write_notebook(settings.snippets_dir / "nb.ipynb", [
        cell("import helper\nprint(helper.FACTOR * 2)"),
        cell("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title('In a notebook')\nplt.show()"),
        cell("6 * 7"),
    ])
    cold = run_snippets(["nb"], settings)["nb"]
    warm = run_warm(["nb"], warmed(settings, pool, "nb"), pool)["nb"]
    assert cold.status == "ok", cold.traceback
    assert same(cold, warm) == {}
    assert [o.kind for cell_outputs in warm.outputs for o in cell_outputs] == ["stream", "image", "text"]
    assert {f.path: _figure_bytes(tmp_path, cold, f.path) for f in cold.figures} == {
        f.path: _figure_bytes(tmp_path, warm, f.path) for f in warm.figures}
