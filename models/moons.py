"""micrograd's demo, ported: a small MLP learns to separate two interleaved half-moons.

Data (`make_moons`): 100 points in the plane, half on the upper arc (cos t, sin t) with label −1 and
half on the lower arc (1 − cos t, 0.5 − sin t) with label +1, t evenly spaced in [0, π], each point
moved by Gaussian noise of standard deviation 0.1, then shuffled; the same seed gives the same points.

Model (`build`): an MLP 2 → 16 → 16 → 1, ReLU after the two hidden layers, one score s(x) out;
initialised as micrograd initialises its neurons: weights uniform in (−1, 1), biases 0 (drawn from
seed + 1, a random stream apart from the data's).

Loss: the SVM "max-margin" (hinge) loss plus L2 regularisation, over the whole data set each step:

    L = mean_i max(0, 1 − y_i · s(x_i))  +  1e-4 · Σ_p p²          (p: every weight and bias)

A point costs nothing once it is on its side of the boundary with a margin: y · s(x) ≥ 1.

Training: plain SGD, step k = 0, 1, ..., 99 with learning rate 1.0 − 0.9 · k / 100.
The prediction is the sign of s(x); the decision boundary is the curve s(x) = 0, drawn by `report`
in the terminal and, when matplotlib is installed, by `boundary_figure`.
"""
from __future__ import annotations

import functools
import math
import operator
import random

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

from . import TrainResult, notify

__all__ = ["make_moons", "build", "hinge_loss", "train", "scores", "accuracy", "boundary_grid", "render_boundary",
           "report", "boundary_figure", "PLOT_BOUNDS", "LABEL_SYMBOLS"]

HIDDEN = (16, 16)
PLOT_BOUNDS = (-1.5, 2.5, -1.0, 1.5)            # x from, x to, y from, y to: the data with a margin
LABEL_SYMBOLS = {1: "●", -1: "▲"}


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """Two interleaved half-moons: (points as [x, y] lists, labels ±1), in a seeded random order."""
    if n < 2:
        raise ValueError(f"make_moons: need at least 2 points, got n={n}")
    if noise < 0:
        raise ValueError(f"make_moons: noise is a standard deviation, got {noise}")
    rng = random.Random(seed)
    n_upper = n // 2
    n_lower = n - n_upper

    def angles(count: int) -> list:
        return [math.pi * i / (count - 1) if count > 1 else 0.0 for i in range(count)]

    points = [[math.cos(t), math.sin(t)] for t in angles(n_upper)]
    points += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in angles(n_lower)]
    labels = [-1] * n_upper + [1] * n_lower
    points = [[x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] for x, y in points]
    order = list(range(n))
    rng.shuffle(order)
    return [points[i] for i in order], [labels[i] for i in order]


def build(hidden=HIDDEN, seed: int = 0) -> nn.Sequential:
    """The MLP 2 → hidden… → 1 with ReLUs between, initialised as micrograd's: W ~ U(−1, 1), b = 0."""
    generator = tg.Generator(seed)
    sizes = [2, *hidden, 1]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        linear.load_state_dict({"weight": nn.init.uniform((fan_out, fan_in), -1.0, 1.0, generator=generator),
                                "bias": nn.init.zeros((fan_out,))})
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def hinge_loss(scores: tg.Tensor, labels: tg.Tensor, model: nn.Module, alpha: float = 1e-4):
    """(total, data part, regularisation part): mean(relu(1 − y·s)) + alpha · Σ p²."""
    data_loss = (1.0 - labels * scores).relu().mean()
    squares = [(p * p).sum() for p in model.parameters()]
    reg_loss = functools.reduce(operator.add, squares) * alpha
    return data_loss + reg_loss, data_loss, reg_loss


def scores(model: nn.Module, points) -> list:
    """s(x) for each point (no graph), computed on the backend the model's weights live on."""
    with tg.no_grad(), tg.use_backend(next(model.parameters()).backend):
        return [row[0] for row in model(tg.tensor(points)).tolist()]


def accuracy(model: nn.Module, points, labels) -> float:
    """The fraction of points whose score has the sign of their label."""
    got = scores(model, points)
    return sum((s > 0) == (y > 0) for s, y in zip(got, labels)) / len(labels)


def train(steps: int | None = None, seed: int = 0, on_step=None, n: int = 100, noise: float = 0.1,
          alpha: float = 1e-4, lr: float = 1.0, lr_end: float = 0.1, figure: str = "") -> TrainResult:
    """Full-batch SGD on the hinge loss, the learning rate falling linearly: lr − (lr − lr_end) · k / steps.

    ``figure``: a file name (.png, .svg, .pdf) to draw the decision boundary into with matplotlib.
    """
    steps = 100 if steps is None else int(steps)
    if figure:
        _require_matplotlib(f"figure={figure}")
    points, labels = make_moons(n, noise, seed)
    model = build(seed=seed + 1)        # its own random stream, apart from the data's
    x = tg.tensor(points)
    y = tg.tensor([[float(label)] for label in labels])
    opt = optim.SGD(model.named_parameters(), lr=lr)
    losses, accuracies = [], []
    for k in range(steps):
        opt.lr = lr - (lr - lr_end) * k / steps
        out = model(x)
        total, _, _ = hinge_loss(out, y, model, alpha)
        correct = sum(margin > 0 for margin in (out.detach() * y).reshape(-1).tolist())   # before this step
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(total.item())
        accuracies.append(correct / n)
        notify(on_step, k + 1, steps, losses[-1])
    with tg.no_grad():
        final, data_loss, reg_loss = hinge_loss(model(x), y, model, alpha)
    metrics = {"loss": losses[-1] if losses else final.item(), "final_loss": final.item(),
               "hinge_loss": data_loss.item(), "l2_loss": reg_loss.item(),
               "accuracy": accuracy(model, points, labels),
               "first_step_at_100_percent": next((k + 1 for k, a in enumerate(accuracies) if a == 1.0), None),
               "parameters": model.num_parameters()}
    config = {"steps": steps, "seed": seed, "n": n, "noise": noise, "alpha": alpha, "lr": lr, "lr_end": lr_end,
              "hidden": list(HIDDEN), "optimizer": "SGD"}
    result = TrainResult("moons", metrics, losses, config,
                         state={"model": model.state_dict(), "config": config},
                         details={"model": model, "points": points, "labels": labels, "accuracies": accuracies,
                                  "summary": ["loss", "hinge_loss", "l2_loss", "accuracy",
                                              "first_step_at_100_percent", "parameters"]})
    if figure:
        boundary_figure(result, figure)
        result.details["figure"] = figure
    return result


# ---- pictures -----------------------------------------------------------------------------------
def boundary_grid(model: nn.Module, columns: int = 64, rows: int = 20, bounds=PLOT_BOUNDS) -> list:
    """s(x) at the centre of each cell of a rows × columns grid over ``bounds`` (top row first)."""
    x0, x1, y0, y1 = bounds
    centres = [[x0 + (c + 0.5) * (x1 - x0) / columns, y1 - (r + 0.5) * (y1 - y0) / rows]
               for r in range(rows) for c in range(columns)]
    flat = scores(model, centres)
    return [flat[r * columns:(r + 1) * columns] for r in range(rows)]


def render_boundary(model: nn.Module, points, labels, columns: int = 64, rows: int = 20, bounds=PLOT_BOUNDS):
    """The plane as Rich text: each character cell is coloured (and, for plain text, marked "·" or left
    blank) by the class the model gives its centre; each point is drawn where it lies, ● for +1 and ▲
    for −1, red when the model gets it wrong."""
    from rich.text import Text

    grid = boundary_grid(model, columns, rows, bounds)
    x0, x1, y0, y1 = bounds
    cells: dict = {}
    for (px, py), label in zip(points, labels):
        c = int((px - x0) / (x1 - x0) * columns)
        r = int((y1 - py) / (y1 - y0) * rows)
        if 0 <= c < columns and 0 <= r < rows:
            cells.setdefault((r, c), []).append(label)
    predicted = {key: s > 0 for key, s in zip(((r, c) for r in range(rows) for c in range(columns)),
                                               (s for row in grid for s in row))}
    text = Text()
    for r in range(rows):
        for c in range(columns):
            positive = predicted[(r, c)]
            background = "on #16324f" if positive else "on #4a1f24"
            here = cells.get((r, c))
            if here:
                label = 1 if here.count(1) >= here.count(-1) else -1
                wrong = (label > 0) != positive
                colour = "bold bright_red" if wrong else ("bold #8ecae6" if label > 0 else "bold #ffb4a2")
                text.append(LABEL_SYMBOLS[label], style=f"{colour} {background}")
            else:
                text.append(" " if positive else "·", style=f"#3a5a7a {background}" if positive
                            else f"#8a4a50 {background}")
        text.append("\n")
    text.rstrip()
    return text


def report(result: TrainResult):
    from rich.panel import Panel

    model, points, labels = (result.details[k] for k in ("model", "points", "labels"))
    picture = render_boundary(model, points, labels)
    wrong = sum((s > 0) != (y > 0) for s, y in zip(scores(model, points), labels))
    caption = (f"{LABEL_SYMBOLS[1]} label +1  {LABEL_SYMBOLS[-1]} label −1  blank: s(x) > 0  ·: s(x) < 0  "
               f"{wrong} of {len(labels)} points misclassified")
    parts = [Panel(picture, title="the decision boundary s(x) = 0", expand=False), caption]
    acc = result.details["accuracies"]
    first = result.metrics.get("first_step_at_100_percent")
    parts.append(f"training accuracy: {acc[0]:.0%} at the start, {result.metrics['accuracy']:.0%} after "
                 f"{len(acc)} steps" + (f" (100% from step {first} on)" if first else ""))
    if result.details.get("figure"):
        parts.append(f"figure written to {result.details['figure']}")
    return parts


def boundary_figure(result: TrainResult, path: str | None = None):
    """The decision boundary and the points as a matplotlib Figure (saved to ``path`` when given)."""
    _require_matplotlib("boundary_figure")
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    model, points, labels = (result.details[k] for k in ("model", "points", "labels"))
    x0, x1, y0, y1 = PLOT_BOUNDS
    columns, rows = 200, 125
    grid = boundary_grid(model, columns, rows)
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow([[1.0 if s > 0 else 0.0 for s in row] for row in grid], extent=(x0, x1, y0, y1), origin="upper",
              cmap="coolwarm_r", alpha=0.35, aspect="auto", interpolation="nearest")
    ax.contour([[s for s in row] for row in reversed(grid)], levels=[0.0], colors="black", linewidths=1.0,
               extent=(x0, x1, y0, y1))
    for label, colour, marker in ((1, "#1d4e89", "o"), (-1, "#b23a48", "^")):
        xs = [p[0] for p, y in zip(points, labels) if y == label]
        ys = [p[1] for p, y in zip(points, labels) if y == label]
        ax.scatter(xs, ys, c=colour, marker=marker, s=28, edgecolors="white", linewidths=0.5,
                   label=f"label {label:+d}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"two moons: MLP 2-16-16-1, {result.config['steps']} SGD steps, "
                 f"accuracy {result.metrics['accuracy']:.0%}")
    ax.legend(loc="lower left")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _require_matplotlib(what: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError(f'{what} needs matplotlib, which is not installed: pip install "tinygrad-edu[plots]" '
                         "(or pip install matplotlib)") from None
