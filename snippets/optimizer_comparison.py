# logbuild: timeout=300
# logbuild: exclusive
"""Why did fchollet use RMSprop? Let's try Adam (2018-09-17 and 2018-09-19).

The XorNotX convnet of classifier.py, trained twice on the same generated images from the same
initial weights, with the same augmentation and batch order: once with RMSprop, once with Adam
(Adam is RMSprop plus momentum), both at Keras' default learning rate of 0.001.

Settings: XORNOTX_COMPARE_EPOCHS (6), and XORNOTX_SIZE, XORNOTX_PER_CLASS as in classifier.py.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import keras
from classifier import Settings, build_model, load_datasets, make_deterministic, prepare_images, train

OPTIMIZERS = {
    "RMSprop": lambda: keras.optimizers.RMSprop(learning_rate=1e-3),
    "Adam": lambda: keras.optimizers.Adam(learning_rate=1e-3),
}


def compare_optimizers(settings: Settings, root: Path) -> dict[str, dict[str, list[float]]]:
    """The training history of each optimizer, every run starting from the same seeds."""
    histories = {}
    for name, make_optimizer in OPTIMIZERS.items():
        make_deterministic()  # same initial weights, augmentation and shuffling for both
        train_data, validation_data, _ = load_datasets(root, settings.size, settings.channels)
        model = build_model(settings.size, settings.channels)
        started = time.perf_counter()
        histories[name] = train(
            model, train_data, validation_data, settings.epochs, make_optimizer(), label=f"{name:8s}"
        )
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return histories


def verdict(histories: dict[str, dict[str, list[float]]]) -> str:
    final = {name: history["val_accuracy"][-1] for name, history in histories.items()}
    best_loss = {name: min(history["val_loss"]) for name, history in histories.items()}
    (winner, top), (_, bottom) = sorted(final.items(), key=lambda item: -item[1])
    epochs = len(next(iter(histories.values()))["loss"])
    summary = ", ".join(f"{name} {accuracy:.3f}" for name, accuracy in final.items())
    lowest = ", ".join(f"{name} {loss:.4f}" for name, loss in best_loss.items())
    if top - bottom < 0.02:
        call = "a tie: on a problem this small either optimizer does the job"
    else:
        call = f"{winner} ahead by {top - bottom:.3f} on this seed"
    return (
        f"validation accuracy after {epochs} epochs: {summary}; lowest validation loss: {lowest}\n"
        f"verdict: {call}. One seed and {epochs} epochs is an anecdote, not a benchmark."
    )


def plot_comparison(histories: dict[str, dict[str, list[float]]], size: int) -> None:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for name, history in histories.items():
        epochs = range(1, len(history["loss"]) + 1)
        left.plot(epochs, history["val_accuracy"], "o-", label=name)
        right.plot(epochs, history["val_loss"], "o-", label=name)
    for ax, metric in ((left, "validation accuracy"), (right, "validation loss")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"RMSprop versus Adam on XorNotX ({size} px): validation accuracy and loss per epoch")
    fig.tight_layout()


def main() -> None:
    import matplotlib.pyplot as plt

    base = Settings.from_environment()
    settings = Settings(
        size=base.size,
        epochs=int(os.environ.get("XORNOTX_COMPARE_EPOCHS", "6")),
        per_class=base.per_class,
        images=base.images,
    )
    root = prepare_images(settings, Path.cwd())
    print(
        f"{settings.train_per_class} + {settings.validation_per_class} images per class, "
        f"{settings.size}x{settings.size} px, {settings.epochs} epochs per optimizer"
    )
    histories = compare_optimizers(settings, root)
    print(verdict(histories))
    plot_comparison(histories, settings.size)
    plt.show()


if __name__ == "__main__":
    main()
