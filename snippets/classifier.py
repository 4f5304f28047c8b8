# logbuild: timeout=300
# logbuild: exclusive
"""XorNotX: the small convnet of "Building powerful image classification models using very
little data" (blog.keras.io, 2016), rewritten for Keras 3 and trained on generated letters.

The blog trains on 2,000 cats and dogs and validates on 800; here 1,400 images per class are
drawn by xornotx_data and split 1,000 + 400 by split_dataset (2018-09-16), so the numbers match.
ImageDataGenerator is gone: tf.data reads the folders and preprocessing layers in the model
augment the images, only while training.

Settings (environment variables; the defaults are the quick CI setting):
  XORNOTX_SIZE=64        image side in pixels (the blog's "full" setting: 150)
  XORNOTX_EPOCHS=8       epochs (full: 50; about 40 s an epoch on 2 cores, so raise the timeout)
  XORNOTX_PER_CLASS=1400 images per class, split 5:2 into train and validation
  XORNOTX_IMAGES=/path   a folder of real images, one sub-folder per class (cats vs. dogs ...)
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Before TensorFlow or Keras are imported: quiet C++ logs, and keep keras.json in the scratch folder.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_HOME", str(Path.cwd() / ".keras"))

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from split_dataset import split_dataset
from xornotx_data import make_dataset

SEED = 0
BATCH_SIZE = 32
THREADS = 2  # fixed, so that sums are split the same way on every machine


@dataclass(frozen=True)
class Settings:
    size: int = 64
    epochs: int = 8
    per_class: int = 1400
    images: Path | None = None

    @classmethod
    def from_environment(cls, environ: dict[str, str] | os._Environ[str] = os.environ) -> Settings:
        images = environ.get("XORNOTX_IMAGES")
        return cls(
            size=int(environ.get("XORNOTX_SIZE", cls.size)),
            epochs=int(environ.get("XORNOTX_EPOCHS", cls.epochs)),
            per_class=int(environ.get("XORNOTX_PER_CLASS", cls.per_class)),
            images=Path(images) if images else None,
        )

    @property
    def train_per_class(self) -> int:
        return self.per_class * 5 // 7  # 1,000 of 1,400

    @property
    def validation_per_class(self) -> int:
        return self.per_class - self.train_per_class

    @property
    def channels(self) -> int:
        return 3 if self.images else 1  # generated letters are grey-scale


def make_deterministic(threads: int = THREADS) -> None:
    """Same seeds, same thread counts, deterministic kernels: the same weights on every run."""
    keras.utils.set_random_seed(SEED)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already started; its thread pools are fixed by now
        pass
    tf.config.experimental.enable_op_determinism()


def prepare_images(settings: Settings, workdir: Path) -> Path:
    """Generate (or take) the images and split them; return the folder holding train/ and validation/."""
    if settings.images is None:
        source = make_dataset(workdir / f"xornotx-{settings.size}px", settings.per_class, settings.size, SEED)
    else:
        source = settings.images
    dest = workdir / f"{source.name}-split-{settings.train_per_class}-{settings.validation_per_class}"
    split_dataset(source, dest, settings.train_per_class, settings.validation_per_class)
    return dest


def load_datasets(
    root: Path, size: int, channels: int = 1, batch_size: int = BATCH_SIZE
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """root/train and root/validation as batched (image, 0-or-1 label) datasets, decoded once."""

    def load(split: str) -> tf.data.Dataset:
        return keras.utils.image_dataset_from_directory(
            root / split,
            label_mode="binary",
            color_mode="grayscale" if channels == 1 else "rgb",
            image_size=(size, size),
            batch_size=batch_size,
            shuffle=False,  # shuffled below, after the cache
            verbose=False,
        )

    train, validation = load("train"), load("validation")
    class_names = list(train.class_names)
    # Decode once, then reshuffle the whole (class-sorted) training set every epoch.
    examples = int(train.cardinality()) * batch_size
    batches = train.cardinality()
    train = train.unbatch().cache().shuffle(examples, seed=SEED).batch(batch_size)
    train = train.apply(tf.data.experimental.assert_cardinality(batches))  # lost by unbatch()
    return train.prefetch(2), validation.cache().prefetch(2), class_names


def build_model(size: int, channels: int = 1) -> keras.Sequential:
    """The blog's convnet: three conv + max-pool blocks, a dense layer, dropout, one sigmoid unit."""
    return keras.Sequential(
        [
            keras.Input((size, size, channels)),
            # Augmentation that keeps labels true: a mirrored X is still an X and a mirrored
            # letter never becomes one; rotations stay small, or a "+" would turn into an "x".
            layers.RandomFlip("horizontal", seed=SEED),
            layers.RandomRotation(0.025, fill_mode="nearest", seed=SEED),  # +-9 degrees
            layers.RandomZoom(0.1, fill_mode="nearest", seed=SEED),
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=SEED),
            layers.Rescaling(1 / 255),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.5, seed=SEED),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="xornotx",
    )


class EpochReport(keras.callbacks.Callback):
    """One short line per epoch instead of Keras' progress bars; seconds go to stderr."""

    def __init__(self, label: str = "") -> None:
        super().__init__()
        self.label = label
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        print(
            f"{self.label}epoch {epoch + 1:2d}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.3f}, "
            f"val_loss {logs['val_loss']:.4f}, val_accuracy {logs['val_accuracy']:.3f}",
            flush=True,
        )
        print(f"{self.label}epoch {epoch + 1}: {time.perf_counter() - self.started:.1f} s", file=sys.stderr)


def train(
    model: keras.Model,
    train_data: tf.data.Dataset,
    validation_data: tf.data.Dataset,
    epochs: int,
    optimizer: keras.optimizers.Optimizer | None = None,
    label: str = "",
) -> dict[str, list[float]]:
    """Compile with binary cross-entropy (RMSprop unless told otherwise), fit; return the history."""
    model.compile(
        optimizer=optimizer or keras.optimizers.RMSprop(learning_rate=1e-3),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        train_data,
        validation_data=validation_data,
        epochs=epochs,
        shuffle=False,  # the dataset shuffles itself
        verbose=0,
        callbacks=[EpochReport(label)],
    )
    return history.history


def predict(model: keras.Model, data: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images, true labels and predicted probabilities of every example of `data`."""
    images, labels = zip(*((x.numpy(), y.numpy()) for x, y in data))
    images_array = np.concatenate(images)
    probabilities = model.predict(images_array, batch_size=BATCH_SIZE, verbose=0).ravel()
    return images_array, np.concatenate(labels).ravel(), probabilities


def plot_history(history: dict[str, list[float]], title: str) -> None:
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, metric in ((left, "accuracy"), (right, "loss")):
        ax.plot(epochs, history[metric], "o-", label="train")
        ax.plot(epochs, history[f"val_{metric}"], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()


def plot_predictions(
    images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, class_names: list[str], count: int = 16
) -> None:
    """A grid of validation images, the misclassified ones (up to a quarter of the grid) first."""
    import matplotlib.pyplot as plt

    count = min(count, len(labels))
    predicted = (probabilities > 0.5).astype(int)
    wrong = np.flatnonzero(predicted != labels)[: count // 4]
    rest = np.setdiff1d(np.arange(len(labels)), wrong)
    chosen = np.concatenate(
        [wrong, np.random.default_rng(SEED).choice(rest, count - len(wrong), replace=False)]
    )
    columns = 8
    fig, axes = plt.subplots(-(-count // columns), columns, figsize=(columns * 1.25, 3.2))
    for ax, index in zip(axes.flat, chosen):
        image = images[index].astype(np.uint8)
        ax.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None, vmin=0, vmax=255)
        right = predicted[index] == labels[index]
        ax.set_title(
            f"{class_names[predicted[index]]} {probabilities[index]:.2f}",
            fontsize=8,
            color="black" if right else "red",
        )
        ax.axis("off")
    fig.suptitle(
        f"{count} validation images: predicted class and P({class_names[1]}); "
        f"{len(wrong)} misclassified shown in red"
    )
    fig.tight_layout()


def main() -> None:
    import matplotlib.pyplot as plt

    settings = Settings.from_environment()
    make_deterministic()
    started = time.perf_counter()
    root = prepare_images(settings, Path.cwd())
    train_data, validation_data, class_names = load_datasets(root, settings.size, settings.channels)
    print(
        f"{settings.train_per_class} + {settings.validation_per_class} images per class "
        f"({', '.join(class_names)}), {settings.size}x{settings.size} px, {settings.epochs} epochs"
    )
    print(f"images ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    model = build_model(settings.size, settings.channels)
    started = time.perf_counter()
    history = train(model, train_data, validation_data, settings.epochs)
    print(f"trained in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    images, labels, probabilities = predict(model, validation_data)
    mistakes = int(((probabilities > 0.5) != labels).sum())
    print(f"misclassified: {mistakes} of {len(labels)} validation images")
    print(f"validation accuracy: {history['val_accuracy'][-1]:.3f}")

    plot_history(history, f"XorNotX convnet ({settings.size} px, RMSprop): accuracy and loss per epoch")
    plot_predictions(images, labels, probabilities, class_names)
    plt.show()


if __name__ == "__main__":
    main()
