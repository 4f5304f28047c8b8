"""Max pooling by hand: slide a window over a map and keep the largest value of each window.

The demo pools the 4x4 matrix from the 2018-09-15 entry with a 2x2 window and stride 2,
which is what Keras' `MaxPooling2D(pool_size=(2, 2), strides=2)` does to one channel.
"""

from __future__ import annotations

import numpy as np


def _windows(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """All size x size windows of `x` taken every `stride` cells: shape (rows, cols, size, size)."""
    if x.ndim != 2:
        raise ValueError(f"max_pool expects a 2-D array, got shape {x.shape}")
    if size < 1 or stride < 1:
        raise ValueError(f"size and stride must be >= 1, got size={size}, stride={stride}")
    if size > x.shape[0] or size > x.shape[1]:
        raise ValueError(f"window {size}x{size} does not fit in an array of shape {x.shape}")
    view = np.lib.stride_tricks.sliding_window_view(x, (size, size))
    return view[::stride, ::stride]


def max_pool(x: np.ndarray, size: int = 2, stride: int = 2) -> np.ndarray:
    """Max-pool a 2-D array ("valid" padding: windows that run off the edge are dropped)."""
    return _windows(np.asarray(x), size, stride).max(axis=(2, 3))


def argmax_cells(x: np.ndarray, size: int = 2, stride: int = 2) -> list[tuple[int, int]]:
    """(row, col) in `x` of the cell each window picked (the first one on a tie)."""
    windows = _windows(np.asarray(x), size, stride)
    rows, cols = windows.shape[:2]
    flat = windows.reshape(rows, cols, size * size).argmax(axis=2)
    return [
        (r * stride + flat[r, c] // size, c * stride + flat[r, c] % size)
        for r in range(rows)
        for c in range(cols)
    ]


def _draw_grid(ax, values: np.ndarray, highlight: set[tuple[int, int]], title: str, block: int) -> None:
    rows, cols = values.shape
    shade = np.zeros(values.shape)
    for r, c in highlight:
        shade[r, c] = 1.0
    ax.imshow(shade, cmap="Oranges", vmin=0, vmax=1.6)
    for r in range(rows):
        for c in range(cols):
            weight = "bold" if (r, c) in highlight else "normal"
            ax.text(c, r, str(values[r, c]), ha="center", va="center", fontsize=16, fontweight=weight)
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="grey", linewidth=1)
    for edge in np.arange(-0.5, max(rows, cols), block):
        ax.axhline(edge, color="black", linewidth=2.5)
        ax.axvline(edge, color="black", linewidth=2.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title)


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    feature_map = np.array([[4, 3, 8, 5], [9, 1, 3, 6], [6, 3, 5, 3], [2, 5, 2, 5]])
    pooled = max_pool(feature_map, size=2, stride=2)

    print("input (4x4):")
    print(feature_map)
    print("after 2x2 max pooling, stride 2 (2x2):")
    print(pooled)
    print(f"shape {feature_map.shape} -> {pooled.shape}; trainable parameters: 0")

    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    _draw_grid(left, feature_map, set(argmax_cells(feature_map)), "Input 4x4 (max of each 2x2 block)", 2)
    _draw_grid(right, pooled, {(r, c) for r in range(2) for c in range(2)}, "Pooled 2x2", 1)
    fig.suptitle("2x2 max pooling with stride 2 keeps the largest value of each block")
    fig.tight_layout()
    plt.show()
