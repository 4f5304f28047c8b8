"""A 3x3 kernel sliding over an image, the way a convolutional layer's filter does (2018-09-14).

Each output cell is the dot product of the kernel with the patch under it. With "valid"
convolution the kernel never hangs over the edge, so an HxW image gives an (H-2)x(W-2) map.
"""

from __future__ import annotations

import numpy as np

KERNELS: dict[str, np.ndarray] = {
    "vertical edges": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "horizontal edges": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "blur": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
}


def convolve2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid 2-D cross-correlation (what deep-learning libraries call convolution)."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("convolve2d expects 2-D image and kernel")
    patches = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", patches, kernel)


def make_image(size: int = 32) -> np.ndarray:
    """A synthetic grey image: a bright square, a disc and a diagonal stripe on a dark background."""
    yy, xx = np.mgrid[:size, :size]
    image = np.full((size, size), 0.1)
    image[4:14, 4:14] = 0.9
    image[(xx - 22) ** 2 + (yy - 22) ** 2 < 36] = 0.7
    image[np.abs(xx - (size - 1 - yy)) < 1.5] = 0.5
    return image


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    image = make_image()
    outputs = {name: convolve2d(image, kernel) for name, kernel in KERNELS.items()}
    print(f"input image: {image.shape}")
    for name, out in outputs.items():
        print(f"{name:>16}: kernel 3x3 -> output {out.shape} (range {out.min():+.2f} .. {out.max():+.2f})")

    fig, axes = plt.subplots(2, len(KERNELS) + 1, figsize=(12, 5))
    axes[0, 0].imshow(image, cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title(f"input {image.shape[0]}x{image.shape[1]}")
    axes[1, 0].axis("off")
    for column, (name, kernel) in enumerate(KERNELS.items(), start=1):
        top, bottom = axes[0, column], axes[1, column]
        top.imshow(kernel, cmap="coolwarm", vmin=-2, vmax=2)
        for (r, c), value in np.ndenumerate(kernel):
            top.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=9)
        top.set_title(f"kernel: {name}")
        out = outputs[name]
        bottom.imshow(out, cmap="gray")
        bottom.set_title(f"output {out.shape[0]}x{out.shape[1]}")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("3x3 filters slid over a 32x32 image: bright output marks what each filter detects")
    fig.tight_layout()
    plt.show()
