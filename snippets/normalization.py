"""Why an image array can look wrong in `imshow` (2018-09-12).

`imshow` expects floats in [0, 1] or integers in [0, 255]; anything else is clipped.
An image loaded as float32 with values 0-255 (what `img_to_array` gives) is therefore
shown almost all white. Casting to uint8 or dividing by 255 both fix it; /255 is also the
scaling a model wants.
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


if __name__ == "__main__":
    import logging

    import matplotlib.pyplot as plt

    # imshow logs a warning about the very clipping this demo sets out to show
    logging.getLogger("matplotlib.image").setLevel(logging.ERROR)

    raw = make_rgb_image()
    versions = {
        "float 0-255 (clipped)": raw,
        "astype(np.uint8)": as_uint8(raw),
        "float / 255": scale_to_unit(raw),
    }
    for name, image in versions.items():
        print(f"{name:>22}: dtype={image.dtype}, min={image.min():g}, max={image.max():g}")
    print(f"imshow clips {clipped_fraction(raw):.0%} of the raw float values to 1.0")

    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained")
    for ax, (name, image) in zip(axes, versions.items()):
        ax.imshow(image)
        ax.set_title(f"{name}\n{image.dtype}, {image.min():g} to {image.max():g}", fontsize=10)
        ax.axis("off")
    fig.suptitle("The same RGB image in imshow: raw floats 0-255 are clipped to white")
    plt.show()
