"""Split a class-per-folder image set into train/ and validation/ folders (2018-09-16).

    source/cat/*.jpg, source/dog/*.jpg
      -> dest/train/cat (first N files), dest/validation/cat (the next M files), ...

Each class's sorted file list is wrapped in `iter()`, so the validation split continues
where the train split stopped and no file lands in both. Files already in place are
not copied again, so running it twice gives the same folders.
"""

from __future__ import annotations

import logging
import shutil
from itertools import islice
from pathlib import Path

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def _images(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _copy_new(files: list[Path], target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for file in files:
        destination = target / file.name
        if not destination.exists():
            shutil.copy2(file, destination)
            copied += 1
    return copied


def split_dataset(
    source: Path,
    dest: Path,
    train_per_class: int = 1000,
    validation_per_class: int = 400,
    pattern: str = "*",
) -> dict[str, dict[str, int]]:
    """Copy `train_per_class` + `validation_per_class` images of every class folder of `source`.

    Returns {"train": {class: n}, "validation": {class: m}}: the files each split holds, the
    same on every call. Files already in place are left alone (their mtimes do not change).
    Raises ValueError (before copying anything) when a class has too few matching images.
    """
    source, dest = Path(source), Path(dest)
    classes = sorted(p for p in source.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"{source} has no class folders (expected {source}/<class>/*.png)")
    needed = train_per_class + validation_per_class
    files = {folder.name: _images(folder, pattern) for folder in classes}
    short = {name: len(found) for name, found in files.items() if len(found) < needed}
    if short:
        details = ", ".join(f"{name!r} has {count}" for name, count in short.items())
        raise ValueError(
            f"need {needed} images per class ({train_per_class} train + {validation_per_class} "
            f"validation) matching {pattern!r}, but {details}"
        )
    counts: dict[str, dict[str, int]] = {"train": {}, "validation": {}}
    copied = 0
    for name, found in files.items():
        remaining = iter(found)  # each file is handed out once, across both splits
        for split, wanted in (("train", train_per_class), ("validation", validation_per_class)):
            chosen = list(islice(remaining, wanted))
            copied += _copy_new(chosen, dest / split / name)
            counts[split][name] = len(chosen)
    logger.info("split %s into %s: copied %d new files", source, dest, copied)
    return counts


def make_demo_images(root: Path, per_class: int = 30, size: int = 16) -> Path:
    """Write a tiny deterministic two-class set: bright squares and dark circles."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(916)
    yy, xx = np.mgrid[:size, :size]
    shapes = {
        "square": (np.abs(xx - size / 2) < size / 4) & (np.abs(yy - size / 2) < size / 4),
        "circle": (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (size / 3) ** 2,
    }
    for name, mask in shapes.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            noise = rng.integers(0, 60, (size, size), dtype=np.uint8)
            pixels = np.where(mask, 255 - noise, noise).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}.{i:03d}.png")
    return root


def snapshot(folder: Path) -> dict[str, int]:
    """Every file under `folder` with its modification time in nanoseconds."""
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()
    }


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    source = make_demo_images(Path.cwd() / "shapes")
    dest = Path.cwd() / "shapes-split"
    counts = split_dataset(source, dest, train_per_class=20, validation_per_class=10)
    before = snapshot(dest)
    again = split_dataset(source, dest, train_per_class=20, validation_per_class=10)
    after = snapshot(dest)

    for split, per_class in counts.items():
        print(f"{split}: " + ", ".join(f"{name}={n}" for name, n in per_class.items()))
    print(f"files in {dest.name}/: {len(before)}")
    new_or_touched = sum(1 for path, mtime in after.items() if before.get(path) != mtime)
    print(f"second run: same counts={again == counts}, files copied again={new_or_touched}")
    try:
        split_dataset(source, Path.cwd() / "too-many", train_per_class=25, validation_per_class=10)
    except ValueError as error:
        print(f"ValueError: {error}")

    classes = list(counts["train"])
    x = list(range(len(classes)))
    train = [counts["train"][c] for c in classes]
    validation = [counts["validation"][c] for c in classes]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar(x, train, label="train", color="tab:blue")
    ax.bar(x, validation, bottom=train, label="validation", color="tab:orange")
    for i, (t, v) in enumerate(zip(train, validation)):
        ax.text(i, t / 2, str(t), ha="center", va="center", color="white")
        ax.text(i, t + v / 2, str(v), ha="center", va="center")
    ax.set_xticks(x, classes)
    ax.set_ylabel("images")
    ax.set_ylim(0, max(t + v for t, v in zip(train, validation)) * 1.3)
    ax.legend(loc="upper center", ncol=2)
    ax.set_title("Images per class in each split (20 train + 10 validation)")
    fig.tight_layout()
    plt.show()
