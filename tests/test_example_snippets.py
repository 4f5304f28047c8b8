"""The example log's light snippets: their functions, and each file run as logbuild runs it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SNIPPETS = Path(__file__).resolve().parent.parent / "snippets"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_snippet_{name}", SNIPPETS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def max_pooling() -> ModuleType:
    return load("max_pooling")


@pytest.fixture(scope="module")
def split() -> ModuleType:
    return load("split_dataset")


# --- max_pooling -------------------------------------------------------------------------

LOG_MATRIX = np.array([[4, 3, 8, 5], [9, 1, 3, 6], [6, 3, 5, 3], [2, 5, 2, 5]])


def test_max_pool_matches_the_log(max_pooling: ModuleType) -> None:
    pooled = max_pooling.max_pool(LOG_MATRIX, size=2, stride=2)
    assert pooled.tolist() == [[9, 8], [6, 5]]


def test_max_pool_6x6_and_stride_1(max_pooling: ModuleType) -> None:
    x = np.arange(36).reshape(6, 6)
    assert max_pooling.max_pool(x).tolist() == [[7, 9, 11], [19, 21, 23], [31, 33, 35]]
    assert max_pooling.max_pool(x, size=3, stride=3).tolist() == [[14, 17], [32, 35]]
    assert max_pooling.max_pool(LOG_MATRIX, size=2, stride=1).tolist() == [[9, 8, 8], [9, 5, 6], [6, 5, 5]]


def test_max_pool_drops_windows_past_the_edge(max_pooling: ModuleType) -> None:
    assert max_pooling.max_pool(np.arange(25).reshape(5, 5)).shape == (2, 2)
    with pytest.raises(ValueError):
        max_pooling.max_pool(np.zeros((1, 1)))


def test_argmax_cells_point_at_the_maxima(max_pooling: ModuleType) -> None:
    cells = max_pooling.argmax_cells(LOG_MATRIX)
    assert [int(LOG_MATRIX[r, c]) for r, c in cells] == [9, 8, 6, 5]


# --- split_dataset -----------------------------------------------------------------------


def make_classes(root: Path, per_class: dict[str, int]) -> Path:
    for name, count in per_class.items():
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            (folder / f"{name}.{i:03d}.png").write_bytes(b"png" + bytes([i]))
        (folder / "notes.txt").write_text("not an image")
    return root


def files_with_mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_split_counts_and_disjoint_splits(split: ModuleType, tmp_path: Path) -> None:
    source = make_classes(tmp_path / "src", {"cat": 12, "dog": 15})
    dest = tmp_path / "out"
    counts = split.split_dataset(source, dest, train_per_class=6, validation_per_class=4)
    assert counts == {"train": {"cat": 6, "dog": 6}, "validation": {"cat": 4, "dog": 4}}
    train = {p.name for p in (dest / "train" / "cat").iterdir()}
    validation = {p.name for p in (dest / "validation" / "cat").iterdir()}
    assert train == {f"cat.{i:03d}.png" for i in range(6)}
    assert validation == {f"cat.{i:03d}.png" for i in range(6, 10)}


def test_split_is_idempotent(split: ModuleType, tmp_path: Path) -> None:
    source = make_classes(tmp_path / "src", {"cat": 5, "dog": 5})
    dest = tmp_path / "out"
    first = split.split_dataset(source, dest, train_per_class=3, validation_per_class=2)
    before = files_with_mtimes(dest)
    os.utime(source / "cat" / "cat.000.png", ns=(0, 0))  # a changed source must not be recopied either
    second = split.split_dataset(source, dest, train_per_class=3, validation_per_class=2)
    assert second == first
    assert files_with_mtimes(dest) == before
    assert len(before) == 10


def test_split_pattern_selects_files(split: ModuleType, tmp_path: Path) -> None:
    source = make_classes(tmp_path / "src", {"cat": 4})
    counts = split.split_dataset(source, tmp_path / "out", 1, 1, pattern="cat.00[01]*")
    assert counts == {"train": {"cat": 1}, "validation": {"cat": 1}}


def test_split_too_few_files_raises_before_copying(split: ModuleType, tmp_path: Path) -> None:
    source = make_classes(tmp_path / "src", {"cat": 10, "dog": 3})
    dest = tmp_path / "out"
    with pytest.raises(ValueError, match=r"need 5 images per class.*'dog' has 3"):
        split.split_dataset(source, dest, train_per_class=3, validation_per_class=2)
    assert not dest.exists()


def test_split_without_class_folders_raises(split: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no class folders"):
        split.split_dataset(tmp_path / "empty", tmp_path / "out")


# --- the other pure helpers --------------------------------------------------------------


def test_convolution_valid_shrinks_and_matches_a_loop() -> None:
    conv = load("convolution")
    image = np.random.default_rng(0).random((7, 9))
    kernel = conv.KERNELS["sharpen"]
    out = conv.convolve2d(image, kernel)
    assert out.shape == (5, 7)
    expected = [[np.sum(image[r : r + 3, c : c + 3] * kernel) for c in range(7)] for r in range(5)]
    np.testing.assert_allclose(out, expected)


def test_every_optimizer_goes_down_the_valley() -> None:
    opt = load("optimizers")
    start_loss = opt.loss(opt.START)
    for name, step in opt.OPTIMIZERS.items():
        path = opt.descend(step, steps=50)
        assert opt.loss(path[-1]) < start_loss / 100, name


def test_normalization_helpers() -> None:
    norm = load("pixels")
    raw = norm.make_rgb_image()
    assert raw.dtype == np.float32 and raw.max() > 1
    assert norm.as_uint8(raw).dtype == np.uint8
    unit = norm.scale_to_unit(raw)
    assert 0.0 <= unit.min() and unit.max() <= 1.0
    assert norm.clipped_fraction(raw) > 0.5 and norm.clipped_fraction(unit) == 0.0


# --- each snippet run as a script --------------------------------------------------------

EXPECTED_STDOUT = {
    "max_pooling": ["[[9 8]\n [6 5]]", "trainable parameters: 0"],
    "split_dataset": ["train: circle=20, square=20", "files copied again=0", "ValueError: need 35"],
    "convolution": ["input image: (32, 32)", "output (30, 30)"],
    "optimizers": ["SGD: final loss", "momentum: final loss", "RMSprop: final loss", "Adam: final loss"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_STDOUT))
def test_snippet_runs_as_a_script(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(SNIPPETS)}
    result = subprocess.run(
        [sys.executable, str(SNIPPETS / f"{name}.py")],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for text in EXPECTED_STDOUT[name]:
        assert text in result.stdout
    assert result.stderr == ""


# --- the notebook and the inline cells, on a kernel ----------------------------------------


@pytest.mark.xdist_group("kernels")
def test_the_normalization_notebook_and_the_max_pooling_cells_run(tmp_path: Path) -> None:
    from site_builder.entries import EntryRules, parse_entry
    from site_builder.linked import cell_programs, entry_docs
    from site_builder.snippets import SnippetSettings, run_snippets

    repo = SNIPPETS.parent
    path = "entries/2018-09-15.md"
    entry, problems = parse_entry(path, (repo / path).read_bytes(), EntryRules())
    assert entry is not None and problems == []
    programs = cell_programs(entry_docs([entry], EntryRules()))
    settings = SnippetSettings(repo, SNIPPETS, tmp_path / "cache", jobs=2)
    results = run_snippets(["normalization", *programs], settings, programs=programs)
    notebook, cells = results["normalization"], results["_cells.2018-09-15"]
    # the runs' stderr too: a kernel that dies as it starts says why there (seen once, under load)
    assert notebook.status == "ok" and cells.status == "ok", (notebook.traceback, cells.traceback,
                                                              notebook.stderr[-4000:], cells.stderr[-4000:])
    assert "dtype=float32, min=0, max=255" in notebook.stdout and "dtype=uint8" in notebook.stdout
    assert len(notebook.figures) == 1 and len(cells.figures) == 1
    assert [o.text for o in cells.outputs[0]] == ["array([[9, 8],\n       [6, 5]])"]
    assert "trainable parameters: 0" in cells.stdout
