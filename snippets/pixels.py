"""Pixel helpers for the normalization notebook (2018-09-12): a synthetic image and its scalings.

`imshow` expects floats in [0, 1] or integers in [0, 255]; anything else is clipped. An image
loaded as float32 with values 0-255 (what `img_to_array` gives) is therefore shown almost all
white. Casting to uint8 or dividing by 255 both fix it; /255 is also the scaling a model wants.
normalization.ipynb imports these, so editing this file reruns the notebook.
"""

from __future__ import annotations

import numpy as np


def make_rgb_image(height: int = 64, width: int = 96) -> np.ndarray:
    """A synthetic float32 RGB image with values in 0..255: colour gradients plus a dark disc."""
    yy, xx = np.mgrid[:height, :width]
    red = 255 * xx / (width - 1)
    green = 255 * yy / (height - 1)
    blue = np.full((height, width), 160.0)
    disc = (xx - width * 0.65) ** 2 + (yy - height * 0.5) ** 2 < (height * 0.28) ** 2
    image = np.stack([red, green, blue], axis=-1)
    image[disc] = [30.0, 30.0, 90.0]
    return image.astype(np.float32)


def as_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def scale_to_unit(image: np.ndarray) -> np.ndarray:
    return (np.asarray(image, dtype=np.float32) / 255.0).astype(np.float32)


def clipped_fraction(image: np.ndarray) -> float:
    """Share of values imshow would clip for a float array (outside [0, 1])."""
    image = np.asarray(image, dtype=float)
    return float(np.mean((image < 0) | (image > 1)))

