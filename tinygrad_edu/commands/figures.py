"""``tinygrad-edu figures``: draw the lessons' pictures from the project's own computations.

    tinygrad-edu figures                       every figure, written to tutorials/figures/ as SVG
    tinygrad-edu figures --out DIR             somewhere else
    tinygrad-edu figures --only and-gate       just the named ones (see --list)

Each figure is two functions: ``data`` computes its numbers with tinygrad_edu and the lecture's models
(plain Python, no plotting library: the tests recompute and check these), and ``draw`` turns them into
a matplotlib figure. matplotlib is an optional extra: ``pip install "tinygrad-edu[plots]"``. The
numbers are computed on the NumPy backend when it is installed (matplotlib needs NumPy anyway), else
on pure Python. The same seed gives the same figure.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HELP = "draw the lessons' figures (SVG) from the project's own computations (needs matplotlib)"
INSTALL_HINT = 'pip install "tinygrad-edu[plots]"'


class MissingPlots(ImportError):
    """matplotlib is not installed."""


@dataclass(frozen=True)
class Figure:
    name: str                      # the file is <name>.svg
    title: str                     # what it shows, in a few words
    data: Callable[[], dict]       # its numbers (no matplotlib)
    draw: Callable[[dict], object]  # -> a matplotlib Figure


# ==================================================================================== the numbers
def mlp_block_data() -> dict:
    """The stages of the block, left to right, with the shape of the vector after each (GPT-3's sizes)."""
    d, h = 12_288, 4 * 12_288
    return {"stages": [("x", f"({d:,},)"), ("W_up · x + b_up", f"({h:,},)"), ("ReLU", f"({h:,},)"),
                       ("W_down · h + b_down", f"({d:,},)"), ("x + …", f"({d:,},)")]}


def activations_data(points: int = 121, low: float = -3.0, high: float = 3.0) -> dict:
    """ReLU and GELU and their derivatives, computed by the framework (values, then backward)."""
    import tinygrad_edu as tg

    xs = [low + (high - low) * i / (points - 1) for i in range(points)]
    out = {"x": xs}
    for name in ("relu", "gelu"):
        x = tg.tensor(xs, requires_grad=True)
        y = getattr(x, name)()
        y.sum().backward()
        out[name] = y.tolist()
        out[name + "_grad"] = x.grad.tolist()
    return out


def and_gate_data(dim: int = 100, seed: int = 6) -> dict:
    """The hand-built neuron: the inputs in the Michael–Jordan plane, and its pre-activation for each
    input with bias −1 (no margin) and −1.5 (margin 0.5), exactly and with random directions in ``dim``."""
    from tinygrad_edu.models import michael_jordan as mj

    labels = ["(nothing)", "Michael", "Jordan", "Michael Jordan"]
    out = {"labels": labels, "dim": dim, "seed": seed, "points": {}, "pre": {}, "pre_random": {}}
    exact = mj.hand_built_example()
    for case in exact["cases"]:
        if case["label"] in labels:
            out["points"][case["label"]] = (case["input"]["Michael"], case["input"]["Jordan"])
    for bias in (-1.0, -1.5):
        for kind, ex in (("pre", mj.hand_built_example(bias=bias)),
                         ("pre_random", mj.hand_built_example(dim=dim, seed=seed, bias=bias))):
            out[kind][bias] = {c["label"]: c["pre_activation"][0] for c in ex["cases"] if c["label"] in labels}
    return out


def angle_data(sizes=((3, 300), (100, 300), (12_288, 80)), seed: int = 1) -> dict:
    """Angles between all pairs of random vectors, for each (dim, count), and the share within 89°–91°
    measured and predicted (1 − P(|cos| > sin 1°))."""
    from tinygrad_edu.models import superposition as sp

    panels = []
    for dim, count in sizes:
        angles = sp.pair_angles(count, dim, seed=seed)
        panels.append({"dim": dim, "count": count, "angles": angles,
                       "within_89_91": sum(89 < a < 91 for a in angles) / len(angles),
                       "predicted_within_89_91": 1 - sp.cos_tail(1, dim)})
    return {"panels": panels}


def exponential_data(eps_degrees: float = 30.0, dims=(8, 12, 16, 20, 24, 28, 32, 36, 40), trials: int = 40,
                     interference_dim: int = 100, ks=(1, 3, 10, 30, 100, 300, 1000, 3000), seed: int = 0) -> dict:
    """How many random directions stay pairwise within 90° ± ε as d grows (measured medians, the median
    `cos_tail` predicts, and exp(d sin²ε / 4)); and one direction's interference with k others."""
    from tinygrad_edu.models import superposition as sp

    s2 = math.sin(math.radians(eps_degrees)) ** 2
    rows = []
    for dim in dims:
        r = sp.directions_within(eps_degrees, dim, trials=trials, seed=seed)
        rows.append({"dim": dim, "median": r["median"], "predicted": r["predicted_median"],
                     "estimate": math.exp(dim * s2 / 4)})
    return {"eps_degrees": eps_degrees, "rows": rows,
            "interference": sp.interference(interference_dim, ks, trials=20, seed=seed),
            "gpt3": [{"eps_degrees": e, "count": 0.5 + math.sqrt(0.25 + 2 * math.log(2) / sp.cos_tail(e, 12_288))}
                     for e in (1, 2, 5)]}


def packing_data(vectors: int = 60, dim: int = 10, steps: int = 300, seed: int = 0) -> dict:
    """|cos| of every pair: at random, after Adam on mean |cos| (power 1) and on mean |cos|⁸."""
    from tinygrad_edu.models import superposition as sp

    out = {"vectors": vectors, "dim": dim, "welch_bound": sp.welch_bound(vectors, dim), "runs": {}}
    for power in (1.0, 8.0):
        result = sp.train_orthogonal(steps=steps, seed=seed, vectors=vectors, dim=dim, power=power, lr=0.03)
        unit = result.state["vectors"]
        if "random" not in out["runs"]:
            import tinygrad_edu as tg
            out["runs"]["random"] = _abs_cosines(tg.randn(vectors, dim, seed=seed))
        out["runs"][f"power {power:g}"] = _abs_cosines(unit)
    return out


def _abs_cosines(vectors) -> list[float]:
    import tinygrad_edu as tg

    with tg.no_grad():
        u = vectors / (vectors * vectors).sum(1, keepdim=True).sqrt()
        gram = (u @ u.T).tolist()
    return [abs(c) for i, row in enumerate(gram) for c in row[i + 1:]]


def toy_gram_data(steps: int | None = None, batch: int | None = None, sparsities=None, seed: int = 0) -> dict:
    """The toy models of superposition over a sweep of sparsities (20 features, 5 dimensions)."""
    from tinygrad_edu.models import superposition as sp

    result = sp.train_toy_models(steps=steps, seed=seed, batch=batch,
                                 sparsities=sp.DEFAULT_SPARSITIES if sparsities is None else sparsities)
    return {"runs": [{k: run[k] for k in ("label", "sparsity", "relu", "gram", "norms", "superposition",
                                          "represented", "dims_per_feature")} for run in result.details["runs"]]}


def toy_dims_data(steps: int | None = None, batch: int | None = None,
                  sparsities=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99), seed: int = 0) -> dict:
    """Dimensions per feature (m / ‖W‖_F²) and features represented, against the sparsity S."""
    from tinygrad_edu.models import superposition as sp

    result = sp.train_toy_models(steps=steps, seed=seed, batch=batch, sparsities=sparsities)
    return {"rows": [{"label": r["label"], "sparsity": r["sparsity"], "relu": r["relu"],
                      "dims_per_feature": r["dims_per_feature"], "represented": len(r["represented"])}
                     for r in result.details["runs"]]}


def toy_2d_data(steps: int = 3000, batch: int = 256, sparsities=(0.0, 0.9), seed: int = 0) -> dict:
    """Five equally important features in two dimensions: each feature's column W_i as an arrow."""
    from tinygrad_edu.models import superposition as sp

    runs = []
    for s in sparsities:
        model, losses = sp.train_toy_model(s, steps=steps, seed=seed, n_features=5, n_hidden=2, batch=batch,
                                           lr=1e-2, importance_decay=1.0)
        w = model.W.tolist()
        runs.append({"sparsity": s, "columns": [(w[0][i], w[1][i]) for i in range(5)],
                     "norms": [math.hypot(w[0][i], w[1][i]) for i in range(5)], "loss": losses[-1]})
    return {"runs": runs}


def facts_capacity_data(steps: int | None = None, facts: int = 40, neurons=None, seed: int = 0) -> dict:
    """The fact store's sweep: recall and interference as the facts per neuron grow."""
    from tinygrad_edu.models import michael_jordan as mj

    result = mj.train_capacity(steps=steps, seed=seed, facts=facts,
                               neurons=mj.CAPACITY_NEURONS if neurons is None else neurons)
    return {"facts": result.config["facts"],
            "rows": [{k: row[k] for k in ("neurons", "facts_per_neuron", "recall", "correct", "largest_leak",
                                          "mean_leak", "largest_single_name_score", "facts_lost_per_knockout")}
                     for row in result.details["rows"]]}


def loss_curve_data(steps: dict | None = None, seed: int = 0) -> dict:
    """The loss after each step of the lecture's training runs, at their default settings."""
    from tinygrad_edu.models import michael_jordan as mj
    from tinygrad_edu.models import mini_transformer as mt
    from tinygrad_edu.models import mlp_block as mb
    from tinygrad_edu.models import superposition as sp

    steps = steps or {}
    runs = [
        ("MLP block imitates a teacher", "mean squared error", lambda n: mb.train(steps=n, seed=seed)),
        ("fact store: 20 facts, 32 neurons", "mean squared error", lambda n: mj.train(steps=n, seed=seed)),
        ("fact store: 40 facts, 16 neurons", "mean squared error",
         lambda n: mj.train(steps=n, seed=seed, facts=40, d_hidden=16)),
        ("packing 60 vectors in 10 dimensions", "mean |cos|⁸",
         lambda n: sp.train_orthogonal(steps=n, seed=seed, vectors=60, dim=10)),
        ("toy model, S = 0.9", "importance-weighted squared error",
         lambda n: sp.train_toy_models(steps=n, seed=seed, sparsities=[0.9], linear_control=False)),
        ("mini transformer, 36 facts", "next-token cross-entropy",
         lambda n: mt.train(steps=n, seed=seed, facts=mj.FACTS + mj.CROSSED_FACTS)),
    ]
    return {"runs": [{"label": label, "loss": loss_name, "losses": train(steps.get(label)).losses}
                     for label, loss_name, train in runs]}


def transformer_data(steps: int | None = None, seed: int = 0, d_model: int = 32, d_hidden: int = 64) -> dict:
    """The mini transformer on the real and the crossed facts: each fact's margin with and without its MLP."""
    from tinygrad_edu.models import michael_jordan as mj
    from tinygrad_edu.models import mini_transformer as mt

    result = mt.train(steps=steps, seed=seed, d_model=d_model, d_hidden=d_hidden, facts=mj.FACTS + mj.CROSSED_FACTS)
    ab = result.details["ablation"]
    texts = result.details["sentences"]
    return {"facts": [" ".join(t.split()[:2]) for t in texts],
            "crossed": [i >= len(mj.FACTS) for i in range(len(texts))],
            "with_mlp": ab["baseline"], "without_mlp": ab["without_mlp"]}


def strides_data() -> dict:
    """A (2, 3) tensor and its transpose: where each element sits in the one shared storage."""
    import tinygrad_edu as tg

    x = tg.arange(6).reshape(2, 3).float()
    views = {}
    for name, t in (("x", x), ("x.T", x.T)):
        rows, cols = t.shape
        views[name] = {"shape": t.shape, "strides": t.strides(), "offset": t.storage_offset(),
                       "positions": [[t.storage_offset() + i * t.strides()[0] + j * t.strides()[1]
                                      for j in range(cols)] for i in range(rows)],
                       "values": t.tolist()}
    return {"storage": x.reshape(6).tolist(), "views": views}     # x is contiguous: its storage in order


def backend_speed_data(sizes=(2, 4, 8, 16, 32, 64, 128), repeat: int = 3) -> dict:
    """Seconds for one (n, n) @ (n, n) product on each backend installed (best of ``repeat``), measured
    now, on this machine; and the largest difference between the backends' results."""
    import importlib.util

    import tinygrad_edu as tg

    backends = ["python"] + (["numpy"] if importlib.util.find_spec("numpy") else [])
    rows = []
    for n in sizes:
        row, results = {"n": n}, []
        for backend in backends:
            with tg.use_backend(backend):
                a, b = tg.randn(n, n, seed=0), tg.randn(n, n, seed=1)
                best = float("inf")
                for _ in range(repeat):
                    start = time.perf_counter()
                    product = a @ b
                    best = min(best, time.perf_counter() - start)
                results.append(product.tolist())
            row[backend] = best
        row["difference"] = max((abs(p - q) for r0, r1 in zip(results[0], results[-1]) for p, q in zip(r0, r1)),
                                default=0.0)
        rows.append(row)
    return {"backends": backends, "rows": rows}


def jit_speed_data(sizes=(("tiny", (4, 8, 32)), ("small", (16, 32, 128))), repeat: int = 30) -> dict:
    """Median seconds per training step of the MLP block (MSE, backward, SGD), eager and through tg.jit, on
    each backend installed and at each size, measured now; and whether both gave the same losses, bit for bit."""
    import importlib.util

    import tinygrad_edu as tg
    from tinygrad_edu import functional as F
    from tinygrad_edu import nn, optim

    def make_step(batch, d_model, d_hidden):
        block = nn.MLPBlock(d_model, d_hidden, seed=0)
        x, target = tg.randn(batch, d_model, seed=1), tg.randn(batch, d_model, seed=2)
        opt = optim.SGD(block.named_parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            loss = F.mse_loss(block(x), target)
            loss.backward()
            opt.step()
            return loss
        return step

    def median_seconds(*steps):
        """Each step's median time, the steps taken in turn (so a busy moment of the machine hits all alike)."""
        times = [[] for _ in steps]
        for _ in range(repeat):
            for step, spent in zip(steps, times):
                start = time.perf_counter()
                step()
                spent.append(time.perf_counter() - start)
        return [sorted(spent)[len(spent) // 2] for spent in times]

    backends = ["python"] + (["numpy"] if importlib.util.find_spec("numpy") else [])
    rows = []
    for backend in backends:
        for label, shape in sizes:
            with tg.use_backend(backend):
                eager, jitted = make_step(*shape), tg.jit(make_step(*shape))
                same = all(eager().item().hex() == jitted().item().hex() for _ in range(3))   # captured, replayed
                eager_s, jit_s = median_seconds(eager, jitted)
                rows.append({"backend": backend, "size": label, "shape": shape, "same": same,
                             "eager": eager_s, "jit": jit_s})
    return {"rows": rows}


# ==================================================================================== the drawings
def _plt():
    """matplotlib's pyplot with a file-only backend, or a clear error naming the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise MissingPlots(f"figures: matplotlib is not installed; install the plots extra: {INSTALL_HINT}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"svg.hashsalt": "tinygrad-edu", "svg.fonttype": "none", "font.size": 10,
                         "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100})
    return plt


BLUE, ORANGE, GREEN, RED, GREY, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#7f7f7f", "#9467bd"


def draw_mlp_block(data: dict):
    plt = _plt()
    from matplotlib.patches import FancyBboxPatch

    fig, ax = plt.subplots(figsize=(12, 3.0))
    ax.set_xlim(0, 12.6)
    ax.set_ylim(0.3, 2.9)
    ax.axis("off")
    boxes = [(0.1, 1.5, "x", "a token's vector\n(the residual stream)", "#eeeeee"),
             (2.3, 2.3, "W_up · x + b_up", "up projection:\neach row asks a question", "#d6e6f5"),
             (5.2, 1.3, "ReLU", "keep positive answers\n(GELU: a smooth variant)", "#fde2c8"),
             (7.1, 2.5, "W_down · h + b_down", "down projection: each column\nis what a neuron writes", "#d6e6f5"),
             (10.3, 0.7, "+", "residual:\nadd to x", "#d9f0d3")]
    centres = []
    for left, w, label, note, colour in boxes:
        ax.add_patch(FancyBboxPatch((left, 1.35), w, 0.7, boxstyle="round,pad=0.05", fc=colour, ec="#555555"))
        ax.text(left + w / 2, 1.7, label, ha="center", va="center", fontsize=11, weight="bold")
        ax.text(left + w / 2, 1.12, note, ha="center", va="top", fontsize=8, color="#444444")
        centres.append((left, left + w))
    for (_, right), (left, _) in zip(centres, centres[1:]):
        ax.annotate("", xy=(left - 0.08, 1.7), xytext=(right + 0.08, 1.7), arrowprops={"arrowstyle": "->", "lw": 1.4})
    for (_, shape), (left, right) in zip(data["stages"], centres):
        ax.text((left + right) / 2, 2.15, shape, ha="center", va="bottom", fontsize=8, color=GREY)
    ax.annotate("", xy=(11.9, 1.7), xytext=(11.08, 1.7), arrowprops={"arrowstyle": "->", "lw": 1.4})
    ax.text(11.95, 1.7, "out", ha="left", va="center", fontsize=11, weight="bold")
    # the skip path: x goes around the block and is added back
    ax.plot([0.85, 0.85, 10.65], [2.4, 2.7, 2.7], color=GREEN, lw=1.2)
    ax.annotate("", xy=(10.65, 2.1), xytext=(10.65, 2.71), arrowprops={"arrowstyle": "->", "lw": 1.2, "color": GREEN})
    ax.text(5.7, 2.75, "skip path: x itself", ha="center", va="bottom", fontsize=8, color=GREEN)
    ax.set_title("The MLP block: out = x + W_down · relu(W_up · x + b_up) + b_down  (shapes for GPT-3)",
                 fontsize=10, loc="left")
    return fig


def draw_activations(data: dict):
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, suffix, title in ((left, "", "value"), (right, "_grad", "derivative (from backward())")):
        ax.plot(data["x"], data["relu" + suffix], color=BLUE, lw=2, label="ReLU")
        ax.plot(data["x"], data["gelu" + suffix], color=ORANGE, lw=2, ls="--", label="GELU")
        ax.axhline(0, color=GREY, lw=0.6)
        ax.axvline(0, color=GREY, lw=0.6)
        ax.set_xlabel("pre-activation z")
        ax.set_title(title, fontsize=10, loc="left")
        ax.legend(frameon=False)
    fig.suptitle("ReLU keeps the positive part; GELU (GPT-2, GPT-3, BERT) is a smooth variant", fontsize=10, x=0.01,
                 ha="left")
    fig.tight_layout()
    return fig


def draw_and_gate(data: dict):
    plt = _plt()
    fig, (plane, line) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1, 1.35]})
    colours = {"(nothing)": GREY, "Michael": BLUE, "Jordan": PURPLE, "Michael Jordan": RED}
    for label, (m, j) in data["points"].items():
        if label != "(nothing)":
            plane.annotate("", xy=(m, j), xytext=(0, 0),
                           arrowprops={"arrowstyle": "->", "lw": 2, "color": colours[label]})
        plane.plot([m], [j], "o", color=colours[label])
        plane.text(m + 0.05, j + 0.07, "M + J" if label == "Michael Jordan" else label, color=colours[label])
    norm = math.sqrt(0.5)
    plane.annotate("", xy=(norm, norm), xytext=(0, 0), arrowprops={"arrowstyle": "->", "lw": 1.5, "ls": "--",
                                                                   "color": "black"})
    plane.text(norm + 0.04, norm - 0.16, "neuron's direction\n(row of W_up) / ‖·‖", fontsize=8)
    for threshold, style, text in ((1.0, ":", "bias −1: (M+J)·x = 1"), (1.5, "-", "bias −1.5: (M+J)·x = 1.5")):
        plane.plot([threshold + 0.3, -0.3], [-0.3, threshold + 0.3], ls=style, color=GREEN)
        plane.text(-0.3, threshold + 0.33, text, fontsize=7.5, color=GREEN, ha="left", va="bottom")
    plane.set_xlim(-0.35, 1.9)
    plane.set_ylim(-0.35, 2.05)
    plane.set_aspect("equal")
    plane.set_xlabel("x · M  (Michael)")
    plane.set_ylabel("x · J  (Jordan)")
    plane.set_title("inputs in the Michael–Jordan plane", fontsize=10, loc="left")
    plane.text(1.3, 1.25, "fires beyond\nthe line", fontsize=8, color=GREEN)

    labels = data["labels"]
    rows = [(-1.0, "pre", "bias −1, orthonormal"), (-1.0, "pre_random", f"bias −1, random in d = {data['dim']}"),
            (-1.5, "pre", "bias −1.5, orthonormal"),
            (-1.5, "pre_random", f"bias −1.5, random in d = {data['dim']}")]
    for y, (bias, kind, title) in enumerate(reversed(rows)):
        values = data[kind][bias]
        line.axhline(y, color="#cccccc", lw=1, zorder=0)
        line.axvspan(0, 1.45, ymin=0, ymax=1, color="#e8f5e9", zorder=-1) if y == 0 else None
        seen = {}
        for label in labels:
            v = values[label]
            key = round(v, 2)
            dy = 0.16 * seen.get(key, 0)
            seen[key] = seen.get(key, 0) + 1
            line.plot([v], [y + dy], "o", color=colours[label], ms=7)
        line.text(-1.95, y + 0.3, title, fontsize=8)
    line.axvline(0, color="black", lw=1.2)
    line.text(0.02, 3.62, "ReLU's kink: fires to the right", fontsize=8)
    line.set_yticks([])
    line.set_ylim(-0.5, 3.8)
    line.set_xlim(-2.0, 1.45)
    line.set_xlabel("pre-activation (M+J)·x + bias")
    line.set_title("the bias as a threshold: single names sit on the kink at −1, 0.5 below it at −1.5",
                   fontsize=10, loc="left")
    handles = [plt.Line2D([], [], marker="o", ls="", color=colours[label], label=label) for label in labels]
    line.legend(handles=handles, frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4)
    for side in ("left",):
        line.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def draw_angles(data: dict):
    plt = _plt()
    panels = data["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(10, 3.1), sharey=False)
    for ax, p in zip(axes, panels):
        ax.hist(p["angles"], bins=90, range=(0, 180), histtype="stepfilled", color=BLUE, alpha=0.8, density=True)
        ax.axvspan(89, 91, color=RED, alpha=0.25, lw=0)
        ax.set_xlim(0, 180)
        ax.set_xticks([0, 45, 90, 135, 180])
        ax.set_yticks([])
        ax.set_title(f"d = {p['dim']:,}: {p['within_89_91']:.0%} within 89°–91°\n"
                     f"(expected {p['predicted_within_89_91']:.0%}; {len(p['angles']):,} pairs)", fontsize=9)
        ax.set_xlabel("angle between two random vectors (°)")
    fig.suptitle("Random directions are nearly orthogonal in high dimensions (red band: 89°–91°)", fontsize=10,
                 x=0.01, ha="left")
    fig.tight_layout()
    return fig


def draw_exponential(data: dict):
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    rows = data["rows"]
    dims = [r["dim"] for r in rows]
    left.semilogy(dims, [r["median"] for r in rows], "o", color=BLUE, label="measured (median of runs)")
    left.semilogy(dims, [r["predicted"] for r in rows], "-", color=ORANGE, label="predicted from P(|cos| > sin ε)")
    left.semilogy(dims, [r["estimate"] for r in rows], ":", color=GREY, label="exp(d sin²ε / 4)")
    left.set_xlabel("dimensions d")
    left.set_ylabel("random directions that fit")
    left.set_title(f"directions pairwise within 90° ± {data['eps_degrees']:g}°: exponential in d", fontsize=10,
                   loc="left")
    left.legend(frameon=False, fontsize=8)
    inter = data["interference"]
    ks = [r["k"] for r in inter]
    d = inter[0]["dim"]
    right.loglog(ks, [r["interference"] for r in inter], "o", color=BLUE, label="measured")
    right.loglog(ks, [r["sqrt_k_over_d"] for r in inter], "-", color=ORANGE, label="√(k / d)")
    right.set_xlabel(f"k other random directions (d = {d})")
    right.set_ylabel("interference √(Σ cos²)")
    right.set_title("one direction's interference with k others", fontsize=10, loc="left")
    right.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def draw_packing(data: dict):
    plt = _plt()
    runs = data["runs"]
    fig, axes = plt.subplots(1, len(runs), figsize=(10, 3.1), sharex=True)
    titles = {"random": "random (start)", "power 1": "trained on mean |cos|: bundles",
              "power 8": "trained on mean |cos|⁸: spread"}
    for ax, (name, cosines) in zip(axes, runs.items()):
        ax.hist(cosines, bins=50, range=(0, 1), histtype="stepfilled", color=RED if name == "power 1" else BLUE,
                alpha=0.8)
        ax.axvline(data["welch_bound"], color="black", ls="--", lw=1)
        near = sum(c > 0.9 for c in cosines)
        ax.set_title(f"{titles.get(name, name)}\nmax |cos| {max(cosines):.2f}, near-parallel pairs {near}",
                     fontsize=9)
        ax.set_xlabel("|cos| of a pair")
        ax.set_yticks([])
    axes[0].text(data["welch_bound"] + 0.02, axes[0].get_ylim()[1] * 0.9, "Welch bound", fontsize=8)
    fig.suptitle(f"{data['vectors']} unit vectors in {data['dim']} dimensions: every pair's |cos|", fontsize=10,
                 x=0.01, ha="left")
    fig.tight_layout()
    return fig


def draw_toy_gram(data: dict):
    plt = _plt()
    runs = data["runs"]
    fig, axes = plt.subplots(2, len(runs), figsize=(2.0 * len(runs), 4.6),
                             gridspec_kw={"height_ratios": [1, 0.8]})
    for col, run in enumerate(runs):
        top, bottom = axes[0][col], axes[1][col]
        n = len(run["norms"])
        top.imshow(run["gram"], cmap="RdBu", vmin=-1, vmax=1, interpolation="nearest")
        top.set_xticks([])
        top.set_yticks([])
        top.set_title(f"{run['label']}\n{len(run['represented'])} features", fontsize=9)
        colours = [GREY if run["norms"][i] <= 0.5 else (ORANGE if run["superposition"][i] > 0.1 else BLUE)
                   for i in range(n)]
        bottom.barh(range(n), run["norms"], color=colours)
        bottom.invert_yaxis()
        bottom.set_xlim(0, 1.5)
        bottom.set_yticks([0, n - 1])
        bottom.set_xlabel("‖W_i‖")
    axes[0][0].set_ylabel("WᵀW")
    axes[1][0].set_ylabel("feature i")
    fig.suptitle("Toy models, 20 features in 5 dimensions: WᵀW (blue > 0, red < 0) and each feature's norm "
                 "(grey: not represented, orange: in superposition)", fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def draw_toy_dims(data: dict):
    plt = _plt()
    relu = [r for r in data["rows"] if r["relu"]]
    linear = [r for r in data["rows"] if not r["relu"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.3))
    xs = [1 / (1 - r["sparsity"]) for r in relu]
    left.semilogx(xs, [r["dims_per_feature"] for r in relu], "o-", color=BLUE, label="ReLU model")
    for r in linear:
        left.axhline(r["dims_per_feature"], color=GREY, ls="--", label="linear model")
    for y in (1, 0.5, 0.4):
        left.axhline(y, color="#dddddd", lw=0.8, zorder=0)
    left.set_xlabel("1 / (1 − S): sparser to the right")
    left.set_ylabel("dimensions per feature  m / ‖W‖²_F")
    left.legend(frameon=False, fontsize=8)
    left.set_title("dimensions per feature fall as features get sparse", fontsize=10, loc="left")
    right.semilogx(xs, [r["represented"] for r in relu], "o-", color=BLUE)
    right.axhline(5, color=GREY, ls="--")
    right.text(xs[0], 5.3, "m = 5 dimensions", fontsize=8, color=GREY)
    right.set_xlabel("1 / (1 − S)")
    right.set_ylabel("features represented (‖W_i‖ > 0.5)")
    right.set_title("more features than dimensions", fontsize=10, loc="left")
    fig.tight_layout()
    return fig


def draw_toy_2d(data: dict):
    plt = _plt()
    runs = data["runs"]
    fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 4))
    colours = [BLUE, ORANGE, GREEN, RED, PURPLE]
    for ax, run in zip(axes, runs):
        for i, (x, y) in enumerate(run["columns"]):
            ax.annotate("", xy=(x, y), xytext=(0, 0), arrowprops={"arrowstyle": "->", "lw": 2, "color": colours[i]})
            ax.text(x * 1.12, y * 1.12, str(i), color=colours[i], ha="center", va="center")
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")
        ax.axhline(0, color="#dddddd", lw=0.8, zorder=0)
        ax.axvline(0, color="#dddddd", lw=0.8, zorder=0)
        kept = sum(n > 0.5 for n in run["norms"])
        ax.set_title(f"S = {run['sparsity']:g}: {kept} of 5 features stored", fontsize=10)
    fig.suptitle("Five equally important features in 2 dimensions: each feature's column W_i", fontsize=10, x=0.01,
                 ha="left")
    fig.tight_layout()
    return fig


def draw_facts_capacity(data: dict):
    plt = _plt()
    rows = sorted(data["rows"], key=lambda r: r["facts_per_neuron"])
    xs = [r["facts_per_neuron"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.semilogx(xs, [r["recall"] for r in rows], "o-", color=BLUE)
    left.set_ylim(-0.05, 1.05)
    left.set_ylabel("facts recalled (share)")
    left.set_title(f"{data['facts']} facts stored in fewer and fewer neurons", fontsize=10, loc="left")
    right.semilogx(xs, [r["largest_leak"] for r in rows], "o-", color=RED, label="largest wrong-sport leak")
    right.semilogx(xs, [r["mean_leak"] for r in rows], "s--", color=ORANGE, label="mean wrong-sport leak")
    right.set_ylim(0, 1.0)
    right.set_title("interference between facts that share neurons", fontsize=10, loc="left")
    right.legend(frameon=False, fontsize=8)
    for ax in (left, right):
        ax.axvspan(1, max(xs) * 1.2, color="#fff3e0", zorder=0)
        ax.axvline(1, color=GREY, lw=1, ls=":")
        ax.set_xlabel("facts per neuron")
        ax.text(1.08, 0.04 if ax is left else 0.9, "superposition →", fontsize=8, color=ORANGE)
        ax.text(0.93, 0.04 if ax is left else 0.9, "← a neuron per fact", fontsize=8, color=GREY, ha="right")
        for r in rows:
            ax.annotate(str(r["neurons"]), (r["facts_per_neuron"], r["recall"] if ax is left else r["largest_leak"]),
                        textcoords="offset points", xytext=(0, 6), fontsize=7, ha="center", color=GREY)
    fig.tight_layout()
    return fig


def draw_loss_curves(data: dict):
    plt = _plt()
    runs = data["runs"]
    cols = 3
    fig, axes = plt.subplots(math.ceil(len(runs) / cols), cols, figsize=(10, 5.2))
    for ax, run in zip([a for row in axes for a in row], runs):
        losses = run["losses"]
        positive = all(v > 0 for v in losses)
        ax.plot(range(1, len(losses) + 1), losses, color=BLUE, lw=1.2)
        if positive and max(losses) / min(losses) > 30:
            ax.set_yscale("log")
        ax.set_title(run["label"], fontsize=9, loc="left")
        ax.set_xlabel("step")
        ax.set_ylabel(run["loss"], fontsize=8)
    fig.suptitle("Loss after each step of the lecture's training runs (tinygrad-edu train, default settings)",
                 fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def draw_transformer(data: dict):
    plt = _plt()
    n = len(data["facts"])
    fig, ax = plt.subplots(figsize=(10, 4.2))
    xs = list(range(n))
    ax.bar([x - 0.2 for x in xs], data["with_mlp"], width=0.4, color=BLUE, label="with the MLP")
    ax.bar([x + 0.2 for x in xs], data["without_mlp"], width=0.4, color=ORANGE,
           label="its neurons switched off (b_down stays)")
    ax.axhline(0, color="black", lw=0.8)
    first_crossed = data["crossed"].index(True) if True in data["crossed"] else n
    ax.axvspan(first_crossed - 0.5, n - 0.5, color="#f3e5f5", zorder=0)
    ax.text(first_crossed, ax.get_ylim()[1] * 0.92, "crossed facts: only the pair decides", fontsize=8,
            color=PURPLE)
    ax.text(0, ax.get_ylim()[1] * 0.92, "real facts: the last name decides", fontsize=8, color=GREY)
    ax.set_xticks(xs)
    ax.set_xticklabels(data["facts"], rotation=90, fontsize=7)
    ax.set_ylabel("margin of the right sport (logits)")
    ax.set_title("Mini transformer, 'first last plays …': a fact is completed when its margin is above 0",
                 fontsize=10, loc="left")
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def draw_strides(data: dict):
    plt = _plt()
    from matplotlib.patches import Rectangle

    storage = data["storage"]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.axis("off")
    ax.set_xlim(-0.5, 11)
    ax.set_ylim(-0.6, 5.4)
    palette = [BLUE, ORANGE, GREEN, RED, PURPLE, "#8c564b"]
    ax.text(0, 4.9, "storage (one flat list)", fontsize=9, weight="bold")
    for k, v in enumerate(storage):
        ax.add_patch(Rectangle((k, 4.0), 0.9, 0.7, fc=palette[k], alpha=0.35, ec="black"))
        ax.text(k + 0.45, 4.35, f"{v:g}", ha="center", va="center")
        ax.text(k + 0.45, 3.85, str(k), ha="center", va="top", fontsize=7, color=GREY)
    for left, (name, view) in zip((0.0, 5.5), data["views"].items()):
        rows, cols = view["shape"]
        ax.text(left, 2.9, f"{name}: shape {view['shape']}, strides {view['strides']}", fontsize=9, weight="bold")
        for i in range(rows):
            for j in range(cols):
                k = view["positions"][i][j]
                top = 2.2 - i * 0.75
                ax.add_patch(Rectangle((left + j, top), 0.9, 0.65, fc=palette[k], alpha=0.35, ec="black"))
                ax.text(left + j + 0.45, top + 0.32, f"{view['values'][i][j]:g}", ha="center", va="center")
                ax.text(left + j + 0.85, top + 0.05, f"@{k}", ha="right", va="bottom", fontsize=6, color=GREY)
    ax.set_title("A transpose moves no data: element [i, j] sits at offset + i·stride₀ + j·stride₁ "
                 "(@ = storage position)", fontsize=10, loc="left")
    return fig


def draw_backend_speed(data: dict):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ns = [r["n"] for r in data["rows"]]
    for backend, colour in zip(data["backends"], (BLUE, ORANGE)):
        ax.loglog(ns, [r[backend] * 1e3 for r in data["rows"]], "o-", color=colour, label=f"{backend} backend")
    ax.set_xlabel("n: an (n, n) @ (n, n) product, n³ multiply-adds")
    ax.set_ylabel("milliseconds (best of a few)")
    ax.set_title("Where the time goes: one matrix product on each backend (measured when the figure was made)",
                 fontsize=9, loc="left")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def draw_jit_speed(data: dict):
    plt = _plt()
    rows = data["rows"]
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(rows) + 1.4))
    labels = [f"{r['backend']}, {r['size']} {r['shape']}" for r in rows]
    ys = list(range(len(rows)))
    ax.barh([y + 0.2 for y in ys], [r["eager"] * 1e6 for r in rows], height=0.38, color=BLUE, label="eager")
    ax.barh([y - 0.2 for y in ys], [r["jit"] * 1e6 for r in rows], height=0.38, color=ORANGE, label="with tg.jit")
    for y, r in zip(ys, rows):
        ax.text(r["jit"] * 1e6 * 1.05, y - 0.2, f"{r['eager'] / r['jit']:.1f}× faster", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_xlabel("µs per training step (median; forward, MSE, backward, SGD)")
    ax.set_title("The MLP block's step, eager and replayed (the same losses, bit for bit; measured when drawn)",
                 fontsize=9, loc="left")
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


FIGURES = [
    Figure("mlp-block", "the MLP block as a diagram", mlp_block_data, draw_mlp_block),
    Figure("activations", "ReLU and GELU and their derivatives", activations_data, draw_activations),
    Figure("and-gate", "the AND-gate neuron: inputs, its direction, the bias as a threshold", and_gate_data,
           draw_and_gate),
    Figure("angle-histograms", "angles of random pairs at d = 3, 100, 12,288", angle_data, draw_angles),
    Figure("directions-exponential", "directions within 90° ± ε grow exponentially; interference √(k/d)",
           exponential_data, draw_exponential),
    Figure("packing", "packing unit vectors: mean |cos| bundles, mean |cos|⁸ spreads", packing_data, draw_packing),
    Figure("toy-model-gram", "toy models: WᵀW and feature norms over sparsity", toy_gram_data, draw_toy_gram),
    Figure("toy-model-dims-per-feature", "toy models: dimensions per feature against sparsity", toy_dims_data,
           draw_toy_dims),
    Figure("toy-model-2d", "five features in two dimensions, as arrows", toy_2d_data, draw_toy_2d),
    Figure("facts-superposition", "the fact store: recall and interference as facts per neuron grow",
           facts_capacity_data, draw_facts_capacity),
    Figure("loss-curves", "loss curves of the training runs", loss_curve_data, draw_loss_curves),
    Figure("transformer-ablation", "the mini transformer with and without its MLP", transformer_data,
           draw_transformer),
    Figure("strides", "a tensor and its transpose over one storage", strides_data, draw_strides),
    Figure("backend-speed", "one matrix product on each backend (measured)", backend_speed_data, draw_backend_speed),
    Figure("jit-speed", "a training step eager and through tg.jit, on each backend (measured)", jit_speed_data,
           draw_jit_speed),
]
BY_NAME = {f.name: f for f in FIGURES}


def default_out() -> Path:
    """tutorials/figures of the checkout (or wherever the lessons are found), else ./figures."""
    from .. import tutorials
    try:
        return tutorials.tutorials_dir() / "figures"
    except tutorials.TutorialsNotFound:
        return Path.cwd() / "figures"


def save(figure: Figure, out: Path, data: dict | None = None) -> Path:
    """Compute (unless given) the figure's data, draw it and write <out>/<name>.svg; the path."""
    plt = _plt()
    data = figure.data() if data is None else data
    drawn = figure.draw(data)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{figure.name}.svg"
    drawn.savefig(path, format="svg", metadata={"Date": None, "Creator": "tinygrad-edu figures"},
                  bbox_inches="tight")
    plt.close(drawn)
    return path


# ==================================================================================== the command
def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"no figure called {', '.join(unknown) or repr(text)}; "
                                         f"choose from {', '.join(BY_NAME)}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="where to write the SVG files (default: tutorials/figures of the lessons)")
    parser.add_argument("--only", type=_names, default=None, metavar="NAME[,NAME...]",
                        help="draw only these figures (see --list)")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")


def run(args: argparse.Namespace) -> int:
    con = args.output.console()
    chosen = [BY_NAME[n] for n in args.only] if args.only else FIGURES
    if args.list:
        for figure in FIGURES:
            con.print(f"[bold]{figure.name:28}[/] {figure.title}", highlight=False)
        return 0
    try:
        _plt()
    except MissingPlots as error:
        print(f"tinygrad-edu {error}", file=sys.stderr)
        return 1
    import importlib.util

    import tinygrad_edu as tg

    out = Path(args.out) if args.out else default_out()
    # matplotlib brings NumPy; its backend gives the same numbers, faster. --backend python forces pure Python.
    backend = args.backend or ("numpy" if importlib.util.find_spec("numpy") else tg.get_backend())
    with tg.use_backend(backend):
        for figure in chosen:
            start = time.perf_counter()
            path = save(figure, out, figure.data())
            con.print(f"{path}  [dim]{figure.title}; {path.stat().st_size / 1024:.0f} KB, "
                      f"{time.perf_counter() - start:.1f} s[/]", highlight=False)
    return 0
