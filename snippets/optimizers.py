"""SGD, momentum, RMSprop and Adam written from their update rules (2018-09-17, 2018-09-19).

The loss is a long, narrow valley: f(x, y) = (x**2 + 25 * y**2) / 2. Plain gradient descent
zig-zags across the steep y direction while crawling along the flat x direction; momentum
averages the zig-zag out, RMSprop divides each step by a running root-mean-square of the
gradient, and Adam does both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CURVATURE = np.array([1.0, 25.0])
START = np.array([-9.0, 1.6])

Step = Callable[[np.ndarray, dict[str, np.ndarray], int], np.ndarray]


def loss(point: np.ndarray) -> float:
    return float(0.5 * np.sum(CURVATURE * np.asarray(point) ** 2))


def gradient(point: np.ndarray) -> np.ndarray:
    return CURVATURE * point


def sgd(lr: float = 0.075) -> Step:
    def step(grad: np.ndarray, state: dict[str, np.ndarray], t: int) -> np.ndarray:
        return -lr * grad

    return step


def momentum(lr: float = 0.05, beta: float = 0.9) -> Step:
    """v <- beta * v + (1 - beta) * g ; step = -lr * v  (the exponentially weighted average form)."""

    def step(grad: np.ndarray, state: dict[str, np.ndarray], t: int) -> np.ndarray:
        state["v"] = beta * state.get("v", np.zeros_like(grad)) + (1 - beta) * grad
        return -lr * state["v"]

    return step


def rmsprop(lr: float = 0.3, rho: float = 0.9, eps: float = 1e-8) -> Step:
    """s <- rho * s + (1 - rho) * g**2 ; step = -lr * g / sqrt(s)  (root of the mean square)."""

    def step(grad: np.ndarray, state: dict[str, np.ndarray], t: int) -> np.ndarray:
        state["s"] = rho * state.get("s", np.zeros_like(grad)) + (1 - rho) * grad**2
        return -lr * grad / (np.sqrt(state["s"]) + eps)

    return step


def adam(lr: float = 0.5, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Step:
    """Momentum's average of g plus RMSprop's average of g**2, both bias-corrected."""

    def step(grad: np.ndarray, state: dict[str, np.ndarray], t: int) -> np.ndarray:
        state["m"] = beta1 * state.get("m", np.zeros_like(grad)) + (1 - beta1) * grad
        state["v"] = beta2 * state.get("v", np.zeros_like(grad)) + (1 - beta2) * grad**2
        m_hat = state["m"] / (1 - beta1**t)
        v_hat = state["v"] / (1 - beta2**t)
        return -lr * m_hat / (np.sqrt(v_hat) + eps)

    return step


def descend(step: Step, start: np.ndarray = START, steps: int = 50) -> np.ndarray:
    """The path of points visited, shape (steps + 1, 2)."""
    point = np.array(start, dtype=float)
    state: dict[str, np.ndarray] = {}
    path = [point.copy()]
    for t in range(1, steps + 1):
        point = point + step(gradient(point), state, t)
        path.append(point.copy())
    return np.array(path)


OPTIMIZERS: dict[str, Step] = {
    "SGD": sgd(),
    "momentum": momentum(),
    "RMSprop": rmsprop(),
    "Adam": adam(),
}


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    paths = {name: descend(step) for name, step in OPTIMIZERS.items()}
    print(f"start {START.tolist()} with loss {loss(START):.2f}; 50 steps each")
    for name, path in paths.items():
        print(f"{name:>9}: final loss {loss(path[-1]):.4f} at ({path[-1][0]:+.3f}, {path[-1][1]:+.3f})")

    xs, ys = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-2.2, 2.2, 200))
    zs = 0.5 * (CURVATURE[0] * xs**2 + CURVATURE[1] * ys**2)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.contour(xs, ys, zs, levels=np.geomspace(0.05, 80, 14), cmap="Greys", linewidths=0.8)
    for (name, path), colour in zip(paths.items(), ["tab:red", "tab:blue", "tab:green", "tab:purple"]):
        ax.plot(
            path[:, 0],
            path[:, 1],
            "o-",
            markersize=2.5,
            linewidth=1.2,
            color=colour,
            label=f"{name} (final loss {loss(path[-1]):.3g})",
        )
    ax.plot(0, 0, "k*", markersize=12)
    ax.set_xlabel("x (shallow direction)")
    ax.set_ylabel("y (steep direction)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("SGD, momentum, RMSprop and Adam on an elongated quadratic valley (50 steps)")
    fig.tight_layout()
    plt.show()
