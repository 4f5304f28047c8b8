"""The snippet runner with real subprocesses: figures, output, failures, timeouts, parallelism."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from site_builder.snippets import ProgressEvent, SnippetSettings, run_snippets


def make_log(tmp_path: Path, files: dict[str, str], **settings: object) -> SnippetSettings:
    for name, text in files.items():
        path = tmp_path / "snippets" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), "utf-8")
    (tmp_path / "snippets").mkdir(exist_ok=True)
    return SnippetSettings(
        root=tmp_path, snippets_dir=tmp_path / "snippets", cache_dir=tmp_path / ".logbuild", **settings
    )  # type: ignore[arg-type]


def png_size(path: Path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


def test_figures_from_show_and_at_exit_with_alt_text_and_2x_png(tmp_path: Path) -> None:
    s = make_log(
        tmp_path,
        {
            "plots.py": """\
        # logbuild: svg
        import matplotlib.pyplot as plt
        print("made two figures")
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([1, 2, 3])
        ax.set_title("Loss per epoch")
        plt.show()
        fig2 = plt.figure()
        fig2.add_subplot().plot([3, 2, 1])
    """
        },
    )
    r = run_snippets(["plots"], s)["plots"]
    assert r.status == "ok", r.traceback
    assert r.stdout == "made two figures\n"
    assert [f.alt for f in r.figures] == ["Loss per epoch", "Figure 2 of plots"]
    for fig in r.figures:
        w, h = png_size(Path(r.output_dir or "") / fig.path)
        assert abs(w - 2 * fig.width) <= 1 and abs(h - 2 * fig.height) <= 1
        assert fig.svg_path and (Path(r.output_dir or "") / fig.svg_path).read_text().lstrip().startswith(
            "<?xml"
        )
    # The parent never imports heavy libraries. Asked in a fresh interpreter: this test process may
    # have imported matplotlib for another test (the example snippets' tests import them).
    probe = (
        "import sys; from pathlib import Path; from site_builder.snippets import SnippetSettings, run_snippets\n"
        f"root = Path({str(tmp_path)!r})\n"
        "s = SnippetSettings(root=root, snippets_dir=root / 'snippets', cache_dir=root / '.logbuild', fresh=True)\n"
        "assert run_snippets(['plots'], s)['plots'].status == 'ok'\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_failing_snippet_names_its_own_line(tmp_path: Path) -> None:
    s = make_log(
        tmp_path,
        {
            "helper.py": "def divide(a, b):\n    return a / b\n",
            "bad.py": "from helper import divide\n\nprint('before')\nx = divide(1, 0)\n",
        },
    )
    r = run_snippets(["bad"], s)["bad"]
    assert r.status == "failed"
    assert r.error_line == 4
    assert "ZeroDivisionError" in (r.traceback or "")
    assert 'File "snippets/bad.py", line 4' in (r.traceback or "")
    assert str(tmp_path) not in (r.traceback or "")  # no absolute paths on the page
    assert r.stdout == "before\n"


def test_raises_both_ways_and_missing_and_bad_header(tmp_path: Path) -> None:
    s = make_log(
        tmp_path,
        {
            "expected.py": "# logbuild: raises=ValueError\nint('x')\n",
            "not_raised.py": "# logbuild: raises=ValueError\nprint('fine')\n",
            "other.py": "# logbuild: raises=KeyError\nint('x')\n",
            "typo.py": "# logbuild: timout=3\n",
        },
    )
    r = run_snippets(["expected", "not_raised", "other", "typo", "missing"], s)
    assert r["expected"].status == "ok" and "ValueError" in (r["expected"].traceback or "")
    assert r["not_raised"].status == "failed" and r["not_raised"].error_line == 1
    assert r["other"].status == "failed" and r["other"].error_line == 2
    assert r["typo"].status == "error" and r["typo"].error_line == 1
    assert "did you mean 'timeout'" in (r["typo"].traceback or "")
    assert r["missing"].status == "error"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    s = make_log(
        tmp_path,
        {
            "hang.py": f"""\
        # logbuild: timeout=60
        import subprocess, time
        p = subprocess.Popen(["sleep", "300"])
        open({str(pidfile)!r}, "w").write(str(p.pid))
        print("waiting", flush=True)
        time.sleep(300)
    """
        },
        timeout=1.0,
        timeout_forced=True,
    )
    r = run_snippets(["hang"], s)["hang"]
    assert r.status == "timeout" and "killed after 1 s" in (r.traceback or "")  # the forced limit, not 60
    assert r.stdout == "waiting\n"
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 30  # a bound on waiting for the kernel, not a speed check
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_header_timeout_applies_when_not_forced(tmp_path: Path) -> None:
    s = make_log(
        tmp_path, {"slow.py": "# logbuild: timeout=0.5\nimport time\ntime.sleep(30)\n"}, timeout=60.0
    )
    r = run_snippets(["slow"], s)["slow"]
    assert r.status == "timeout" and "killed after 0.5 s" in (r.traceback or "")


def test_parallel_runs_and_thread_limits(tmp_path: Path) -> None:
    meet = tmp_path / "meet"
    meet.mkdir()
    # Each snippet waits (boundedly) for the other to start: run one after the other, the first
    # never sees its partner.
    body = (
        "import os, time\nhere = os.path.basename(__file__)\n"
        f"open(os.path.join({str(meet)!r}, here), 'w').close()\n"
        "deadline = time.monotonic() + 60\n"
        f"while len(os.listdir({str(meet)!r})) < 2 and time.monotonic() < deadline:\n    time.sleep(0.01)\n"
        f"together = len(os.listdir({str(meet)!r})) == 2\n"
        "print(together, os.environ['OMP_NUM_THREADS'], os.environ['PYTHONHASHSEED'])\n"
    )
    s = make_log(tmp_path, {"a.py": body, "b.py": body}, jobs=2)
    events: list[ProgressEvent] = []
    r = run_snippets(["a", "b"], s, events.append)
    cores = os.cpu_count() or 1
    assert r["a"].stdout == r["b"].stdout == f"True {max(1, cores // 2)} 0\n"
    assert sorted(e.kind for e in events) == ["finished", "finished", "started", "started"]
    assert events[-1].done == events[-1].total == 2


def test_exclusive_runs_alone(tmp_path: Path) -> None:
    log = tmp_path / "times"
    log.mkdir()
    body = (
        "import os, sys, time\n{header}start = time.time()\ntime.sleep(0.4)\n"
        f"open(os.path.join({str(log)!r}, os.path.basename(__file__)), 'w').write(f'{{start}} {{time.time()}}')\n"
    )
    s = make_log(
        tmp_path,
        {
            "alone.py": body.replace("{header}", "# logbuild: exclusive\n"),
            "p1.py": body.replace("{header}", ""),
            "p2.py": body.replace("{header}", ""),
        },
        jobs=3,
    )
    r = run_snippets(["p1", "alone", "p2"], s)
    assert {v.status for v in r.values()} == {"ok"}
    spans = {p.stem: tuple(map(float, p.read_text().split())) for p in log.iterdir()}
    a0, a1 = spans.pop("alone")
    assert all(end <= a0 or start >= a1 for start, end in spans.values())
    assert list(r) == ["p1", "alone", "p2"]


def test_output_is_truncated_beyond_the_limit(tmp_path: Path) -> None:
    s = make_log(tmp_path, {"loud.py": "import sys\nsys.stdout.write('x' * 5_000_000)\n"})
    r = run_snippets(["loud"], s)["loud"]
    assert r.status == "ok" and len(r.stdout) < 2_200_000 and "output truncated" in r.stdout


def test_numpy_only_snippet_does_not_load_matplotlib(tmp_path: Path) -> None:
    s = make_log(
        tmp_path,
        {"light.py": "import os, sys\nimport numpy\nprint('matplotlib' in sys.modules, os.getcwd())\n"},
    )
    r = run_snippets(["light"], s)["light"]
    seen, cwd = r.stdout.split()
    work = Path(cwd)  # a private folder for this run, gone once it ended
    assert r.status == "ok" and seen == "False" and r.figures == ()
    assert work.parent == (tmp_path / ".logbuild" / "work").resolve() and work.name.startswith("light-")
    assert not work.exists()
    assert sorted(p.name for p in Path(r.output_dir or "").iterdir()) == ["inputs.json", "result.json"]
