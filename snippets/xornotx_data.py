"""Generate the XorNotX data set: PNG images of a drawn letter X, and of everything else (2018-09-09).

    dest/x/x.0000.png ...          a hand-drawn-looking X
    dest/not_x/not_x.0000.png ...  O, T, L, V, +, K, Y, Z, N, H, A, triangle, square, ...

Every shape is a set of strokes in unit coordinates. Each image jitters the stroke ends, then
draws the shape with a random aspect ratio, scale, position, rotation (up to 20 degrees either
way, so a "+" never turns into an "x") and stroke width, on a random grey background with
Gaussian noise and a few specks. Image i of a class depends only on (seed, class, i), so the
set is the same on every machine and a run that stopped half-way is simply completed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("not_x", "x")  # sorted, as keras.utils.image_dataset_from_directory numbers them
SUPERSAMPLE = 4  # draw large, then shrink: smooth, anti-aliased strokes
MAX_ROTATION_DEGREES = 20

Stroke = list[tuple[float, float]]


def _circle(points: int = 24) -> Stroke:
    return [
        (math.cos(2 * math.pi * k / points), math.sin(2 * math.pi * k / points)) for k in range(points + 1)
    ]


# y grows downwards, as in image coordinates.
X_STROKES: list[Stroke] = [[(-1, -1), (1, 1)], [(-1, 1), (1, -1)]]
OTHER_SHAPES: dict[str, list[Stroke]] = {
    "O": [_circle()],
    "T": [[(-1, -1), (1, -1)], [(0, -1), (0, 1)]],
    "L": [[(-0.7, -1), (-0.7, 1), (0.8, 1)]],
    "V": [[(-1, -1), (0, 1), (1, -1)]],
    "plus": [[(-1, 0), (1, 0)], [(0, -1), (0, 1)]],
    "K": [[(-0.7, -1), (-0.7, 1)], [(0.8, -1), (-0.7, 0.1)], [(-0.3, -0.3), (0.8, 1)]],
    "Y": [[(-1, -1), (0, 0)], [(1, -1), (0, 0)], [(0, 0), (0, 1)]],
    "Z": [[(-1, -1), (1, -1), (-1, 1), (1, 1)]],
    "N": [[(-0.8, 1), (-0.8, -1), (0.8, 1), (0.8, -1)]],
    "H": [[(-0.8, -1), (-0.8, 1)], [(0.8, -1), (0.8, 1)], [(-0.8, 0), (0.8, 0)]],
    "A": [[(-1, 1), (0, -1), (1, 1)], [(-0.5, 0.15), (0.5, 0.15)]],
    "triangle": [[(0, -1), (1, 0.8), (-1, 0.8), (0, -1)]],
    "square": [[(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]],
    "asterisk": [[(-1, 0), (1, 0)], [(-0.5, -0.87), (0.5, 0.87)], [(-0.5, 0.87), (0.5, -0.87)]],
    "arrow": [[(-1, 0), (1, 0)], [(0.3, -0.6), (1, 0), (0.3, 0.6)]],
}
SHAPE_NAMES = sorted(OTHER_SHAPES)


def draw_image(label: str, size: int, rng: np.random.Generator) -> Image.Image:
    """One grey-scale `size` x `size` image of class `label` ("x" or "not_x")."""
    strokes = X_STROKES if label == "x" else OTHER_SHAPES[SHAPE_NAMES[rng.integers(len(SHAPE_NAMES))]]
    big = size * SUPERSAMPLE
    background = int(rng.integers(0, 110))
    ink = int(rng.integers(background + 70, 256))
    canvas = Image.new("L", (big, big), background)
    draw = ImageDraw.Draw(canvas)

    half = big / 2 * rng.uniform(0.4, 0.8)  # half the shape's height, before rotation
    aspect = rng.uniform(0.75, 1.3)
    angle = math.radians(rng.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES))
    width = max(1, round(big * rng.uniform(0.025, 0.07)))
    shape = [np.asarray(stroke, dtype=float) + rng.normal(0, 0.08, (len(stroke), 2)) for stroke in strokes]
    rotation = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    shape = [(points * [aspect, 1.0]) @ rotation * half for points in shape]
    # Shrink the shape if it would stick out, then place it anywhere it fits whole.
    corners = np.concatenate(shape)
    extent = np.abs(corners).max() + width / 2
    room = big / 2 * 0.95
    if extent > room:
        shape = [points * (room / extent) for points in shape]
        corners = corners * (room / extent)
    low, high = corners.min(axis=0) - width / 2, corners.max(axis=0) + width / 2
    centre = rng.uniform(-low, big - high)
    for points in shape:
        draw.line([tuple(p) for p in points + centre], fill=ink, width=width, joint="curve")
    for _ in range(rng.integers(0, 4)):  # specks: small blobs that belong to no shape
        x, y, r = rng.uniform(0, big), rng.uniform(0, big), rng.uniform(1, 3) * SUPERSAMPLE
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.integers(0, 256)))

    pixels = np.asarray(canvas.resize((size, size), Image.Resampling.BOX), dtype=float)
    pixels += rng.normal(0, rng.uniform(5, 30), pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))


def image_path(dest: Path, label: str, index: int) -> Path:
    return dest / label / f"{label}.{index:04d}.png"


def make_dataset(dest: Path, per_class: int, size: int = 64, seed: int = 0) -> Path:
    """Write `per_class` PNG images of each class into dest/x and dest/not_x; return `dest`.

    Images already written for the same size and seed are kept, so a second call writes nothing.
    """
    dest = Path(dest)
    marker = dest / ".xornotx.json"
    settings = {"size": size, "seed": seed}
    if marker.exists():
        if json.loads(marker.read_text()) != settings:
            raise ValueError(
                f"{dest} holds XorNotX images of other settings {marker.read_text()}; use a new folder"
            )
    else:
        dest.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(settings))
    for class_index, label in enumerate(CLASSES):
        (dest / label).mkdir(exist_ok=True)
        for index in range(per_class):
            path = image_path(dest, label, index)
            if not path.exists():
                rng = np.random.default_rng([seed, class_index, index])
                draw_image(label, size, rng).save(path)
    return dest


if __name__ == "__main__":
    import time

    import matplotlib.pyplot as plt

    started = time.perf_counter()
    root = make_dataset(Path.cwd() / "xornotx-demo", per_class=200, size=64)
    seconds = time.perf_counter() - started
    counts = {label: len(list((root / label).glob("*.png"))) for label in CLASSES}
    print(f"wrote {counts} in {seconds:.2f} s")

    fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
    for i, ax in enumerate(axes.flat):
        label = CLASSES[i % 2]
        ax.imshow(Image.open(image_path(root, label, i // 2)), cmap="gray", vmin=0, vmax=255)
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    fig.suptitle("XorNotX samples: the letter X versus other letters and shapes")
    fig.tight_layout()
    plt.show()
