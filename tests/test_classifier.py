"""The XorNotX snippets: the generated data set, the model's shape, and one real (tiny) training run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

SNIPPETS = Path(__file__).resolve().parent.parent / "snippets"


@pytest.fixture(scope="module")
def xornotx_data() -> ModuleType:
    sys.path.insert(0, str(SNIPPETS))  # the snippets import each other by name, as logbuild runs them
    try:
        import xornotx_data

        return xornotx_data
    finally:
        sys.path.remove(str(SNIPPETS))


def files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*")) if p.is_file()}


def test_make_dataset_layout(xornotx_data: ModuleType, tmp_path: Path) -> None:
    root = xornotx_data.make_dataset(tmp_path / "data", per_class=5, size=40, seed=3)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["not_x", "x"]
    for label in ("x", "not_x"):
        pngs = sorted((root / label).glob("*.png"))
        assert [p.name for p in pngs] == [f"{label}.{i:04d}.png" for i in range(5)]
        with Image.open(pngs[0]) as image:
            assert image.format == "PNG" and image.size == (40, 40) and image.mode == "L"


def test_make_dataset_is_deterministic_and_idempotent(xornotx_data: ModuleType, tmp_path: Path) -> None:
    first = xornotx_data.make_dataset(tmp_path / "a", per_class=4, size=32, seed=7)
    second = xornotx_data.make_dataset(tmp_path / "b", per_class=4, size=32, seed=7)
    other_seed = xornotx_data.make_dataset(tmp_path / "c", per_class=4, size=32, seed=8)
    pngs = sorted(p.relative_to(first) for p in first.rglob("*.png"))
    assert all((first / p).read_bytes() == (second / p).read_bytes() for p in pngs)
    assert any((first / p).read_bytes() != (other_seed / p).read_bytes() for p in pngs)

    before = files(first)
    xornotx_data.make_dataset(first, per_class=4, size=32, seed=7)
    assert files(first) == before  # complete: nothing rewritten
    (first / "x" / "x.0002.png").unlink()
    xornotx_data.make_dataset(first, per_class=4, size=32, seed=7)
    assert (first / "x" / "x.0002.png").read_bytes() == (second / "x" / "x.0002.png").read_bytes()
    with pytest.raises(ValueError, match="other settings"):
        xornotx_data.make_dataset(first, per_class=4, size=48, seed=7)


def test_images_differ_within_a_class(xornotx_data: ModuleType, tmp_path: Path) -> None:
    root = xornotx_data.make_dataset(tmp_path / "data", per_class=6, size=32)
    for label in ("x", "not_x"):
        assert len({p.read_bytes() for p in (root / label).glob("*.png")}) == 6


def test_build_model_is_the_blog_convnet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # else classifier points it at the current folder
    sys.path.insert(0, str(SNIPPETS))
    try:
        import classifier
    finally:
        sys.path.remove(str(SNIPPETS))
    from keras import layers

    model = classifier.build_model(48)
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.activation.__name__) for c in convs] == [
        (32, (3, 3), "relu"),
        (32, (3, 3), "relu"),
        (64, (3, 3), "relu"),
    ]
    assert sum(isinstance(layer, layers.MaxPooling2D) for layer in model.layers) == 3
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[kinds.index("Conv2D") - 1] == "Rescaling"
    assert kinds[-4:] == ["Flatten", "Dense", "Dropout", "Dense"]
    assert model.layers[-1].units == 1 and model.layers[-1].activation.__name__ == "sigmoid"
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 1)


def test_classifier_runs_end_to_end_inside_its_cwd(tmp_path: Path) -> None:
    """One epoch on 25 + 10 tiny images per class, with only the scratch folder writable by intent."""
    snippets = tmp_path / "snippets"
    snippets.mkdir()
    for name in ("classifier.py", "xornotx_data.py", "split_dataset.py"):
        shutil.copy2(SNIPPETS / name, snippets / name)
    cwd, home, tmp = tmp_path / "cwd", tmp_path / "home", tmp_path / "tmp"
    for folder in (cwd, home, tmp):
        folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XORNOTX_", "KERAS_"))}
    env.update(
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(tmp_path / "mplconfig"),  # matplotlib's font cache: logbuild's harness decides
        PYTHONPATH=str(snippets),
        PYTHONDONTWRITEBYTECODE="1",
        HOME=str(home),
        TMPDIR=str(tmp),
        XORNOTX_EPOCHS="1",
        XORNOTX_PER_CLASS="35",
        XORNOTX_SIZE="32",
    )
    before = files(snippets)
    result = subprocess.run(
        [sys.executable, str(snippets / "classifier.py")],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "25 + 10 images per class (not_x, x), 32x32 px, 1 epochs" in result.stdout
    assert re.search(r"^epoch  1: loss [\d.]+, .* val_accuracy [\d.]+$", result.stdout, re.MULTILINE)
    assert re.search(r"^validation accuracy: [01]\.\d{3}$", result.stdout, re.MULTILINE)
    assert files(snippets) == before
    assert files(home) == {} and files(tmp) == {}
    written = files(cwd)
    assert len([p for p in written if p.startswith("xornotx-32px/") and p.endswith(".png")]) == 70
    assert len([p for p in written if p.startswith("xornotx-32px-split-25-10/")]) == 70
