"""Superposition: more features than dimensions.

1. Nearly orthogonal directions. Random unit vectors in d dimensions have cosines of standard deviation
   ≈ 1/sqrt(d), so in 12,288 dimensions about 95 % of random pairs lie within 89°–91° (`angle_stats`,
   `pair_angles`). How many directions fit *pairwise* within 90° ± ε? Drawn at random, k of them reach
   max |cos| ≈ sqrt(2 ln(k²/2) / d), so about exp(d sin²ε / 4) fit: a count that grows exponentially
   with d (`cos_tail`, `directions_within`). And one direction's interference with k random others,
   sqrt(Σ_j cos²), grows like sqrt(k / d) (`interference`).

2. Packing (`train_orthogonal`). N unit vectors in d dimensions, N > d, moved by Adam to spread them
   out. The loss is the mean over pairs i ≠ j of |cos θ_ij|^p (p = `power`, smoothed at 0 as
   (cos² + δ)^(p/2)). A high power (the default, 8) weighs the largest cosines most and pushes them
   down towards the Welch bound: no N unit vectors in d dimensions have max |cos| below
   sqrt((N − d) / (d (N − 1))). With p = 1 the loss rewards making *most* cosines exactly 0, and it gets
   there by collapsing the vectors into about d bundles of near-parallel vectors, the bundles orthogonal
   to one another: the opposite of spreading more than d directions out.

3. Toy models of superposition (`train_toy_models`; Elhage et al., 2022, "Toy Models of
   Superposition"). n features x_i ∈ [0, 1], each zero with probability S (the sparsity), importance
   I_i = 0.7^i; compressed to m < n dimensions and read back:

       h = W x   (W: m × n)      x′ = ReLU(Wᵀ h + b)      loss = mean over the batch of Σ_i I_i (x_i − x′_i)²

   The linear model (no ReLU) always keeps exactly the m most important features. The ReLU model
   matches it when features are dense and packs more and more features into the m dimensions as S
   grows. Feature i counts as represented when ‖W_i‖ > 0.5 (W_i: column i); its superposition is
   Σ_{j≠i} (Ŵ_i · W_j)²; the dimensions per feature are m / ‖W‖_F².
"""
from __future__ import annotations

import math

import tinygrad_edu as tg
from tinygrad_edu import optim

from . import TrainResult, notify

__all__ = ["angle_stats", "pair_angles", "cos_tail", "directions_within", "interference", "welch_bound",
           "train_orthogonal", "ToyModel", "toy_model_stats", "train_toy_model",
           "train_toy_models", "report", "orthogonal_defaults", "DEFAULT_SPARSITIES"]

SIN_1_DEGREE = math.sin(math.radians(1.0))    # |cos θ| below this: θ within 89°–91°
SIN_5_DEGREES = math.sin(math.radians(5.0))   # |cos θ| below this: θ within 85°–95°
DEFAULT_SPARSITIES = (0.0, 0.7, 0.9, 0.97, 0.99)


# ------------------------------------------------------------------------------ nearly orthogonal
def welch_bound(n: int, d: int) -> float:
    """The smallest possible max |cos| of n unit vectors in d dimensions (0 when n <= d)."""
    return math.sqrt((n - d) / (d * (n - 1))) if n > d else 0.0


def _unit_rows(v: tg.Tensor) -> tg.Tensor:
    return v / (v * v).sum(1, keepdim=True).sqrt()


def angle_stats(vectors: tg.Tensor) -> dict:
    """Statistics of the angles between all pairs of rows of ``vectors`` (N, d)."""
    with tg.no_grad():
        u = _unit_rows(vectors)
        gram = (u @ u.T).tolist()
    n = len(gram)
    cosines = [abs(x) for i, row in enumerate(gram) for x in row[i + 1:]]
    pairs = len(cosines)
    return {
        "pairs": pairs,
        "within_89_91": sum(c < SIN_1_DEGREE for c in cosines) / pairs,
        "within_85_95": sum(c < SIN_5_DEGREES for c in cosines) / pairs,
        "max_abs_cos": max(cosines),
        "mean_abs_cos": math.fsum(cosines) / pairs,
        "near_parallel": sum(c > 0.9 for c in cosines) / pairs,     # within 25.8° of 0° or 180°
        "vectors": n,
    }


def pair_angles(count: int, dim: int, seed: int = 0) -> list[float]:
    """The angles (degrees) between all pairs of ``count`` random vectors in ``dim`` dimensions."""
    with tg.no_grad():
        u = _unit_rows(tg.randn(count, dim, seed=seed))
        gram = (u @ u.T).tolist()
    return [math.degrees(math.acos(max(-1.0, min(1.0, c)))) for i, row in enumerate(gram) for c in row[i + 1:]]


def cos_tail(eps_degrees: float, dim: int, intervals: int | None = None) -> float:
    """P(|cos θ| > sin ε): the chance that two random unit vectors in ``dim`` ≥ 2 dimensions are *not*
    within 90° ± ε of each other.

    The angle θ between two random unit vectors has density ∝ sin^(d−2) θ on [0°, 180°]; integrated with
    Simpson's rule. For small ε this is about exp(−d sin²ε / 2).
    """
    if dim < 2:
        raise ValueError(f"cos_tail: needs at least 2 dimensions, got {dim}")
    if not 0 < eps_degrees < 90:
        raise ValueError(f"cos_tail: ε must be between 0° and 90°, got {eps_degrees}")

    # The integrand falls off over about 1/d radians near the ends of the ranges: enough steps for that.
    n = int(intervals or max(2000, 4 * dim)) // 2 * 2

    def integral(upper: float) -> float:      # ∫_0^upper sin^(d−2) θ dθ
        h = upper / n
        total = 0.0
        for k in range(n + 1):
            weight = 1 if k in (0, n) else (4 if k % 2 else 2)
            total += weight * math.sin(k * h) ** (dim - 2)
        return total * h / 3

    return integral(math.radians(90 - eps_degrees)) / integral(math.pi / 2)


def directions_within(eps_degrees: float, dim: int, trials: int = 20, seed: int = 0,
                      limit: int | None = None) -> dict:
    """How many random directions, drawn one at a time, stay pairwise within 90° ± ε before the first
    pair falls outside? ``trials`` runs; their median, and the median that `cos_tail` predicts.

    With q = P(|cos| > sin ε) per pair, k directions all fit with probability ≈ exp(−q k(k−1)/2), so the
    median count is about 1/2 + sqrt(1/4 + 2 ln 2 / q): it grows like exp(d sin²ε / 4).
    """
    q = cos_tail(eps_degrees, dim)
    predicted = 0.5 + math.sqrt(0.25 + 2 * math.log(2) / q)
    limit = int(limit or max(8, 3 * predicted))      # a run goes past 3× the median with chance 1/512
    threshold = math.sin(math.radians(eps_degrees))
    generator = tg.Generator(seed)
    counts = []
    for _ in range(trials):
        with tg.no_grad():
            u = _unit_rows(tg.randn(limit, dim, generator=generator))
            gram = (u @ u.T).tolist()
        count = limit
        for k in range(1, limit):
            if any(abs(c) >= threshold for c in gram[k][:k]):
                count = k
                break
        counts.append(count)
    ordered = sorted(counts)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {"eps_degrees": eps_degrees, "dim": dim, "counts": counts, "median": median,
            "predicted_median": predicted, "tail": q, "limit": limit}


def interference(dim: int, ks, trials: int = 20, seed: int = 0) -> list[dict]:
    """One random unit direction against k random others: its interference sqrt(Σ_j cos²(u, v_j)),
    averaged over ``trials`` (as root mean square), beside sqrt(k / d)."""
    ks = [int(k) for k in ks]
    generator = tg.Generator(seed)
    totals = {k: 0.0 for k in ks}
    biggest = max(ks)
    for _ in range(trials):
        with tg.no_grad():
            u = _unit_rows(tg.randn(1, dim, generator=generator))
            others = _unit_rows(tg.randn(biggest, dim, generator=generator))
            squares = ((others @ u.T) ** 2).reshape(biggest).tolist()
        running, done = 0.0, 0
        for k in sorted(ks):
            running += math.fsum(squares[done:k])
            done = k
            totals[k] += running
    return [{"k": k, "dim": dim, "interference": math.sqrt(totals[k] / trials), "sqrt_k_over_d": math.sqrt(k / dim)}
            for k in ks]


def orthogonal_defaults() -> dict:
    """The default sizes: the same on every backend, so the same seed gives the same numbers on either.
    Small enough for pure Python; on NumPy try ``--set vectors=2000 --set dim=100``."""
    return {"vectors": 150, "dim": 15, "steps": 300}


def train_orthogonal(steps: int | None = None, seed: int = 0, on_step=None, vectors: int | None = None,
                     dim: int | None = None, power: float = 8.0, lr: float = 0.03) -> TrainResult:
    """Optimise ``vectors`` unit vectors in ``dim`` dimensions with Adam on mean |cos|^power.

    A high power (8) spreads them: the largest cosines come down towards the Welch bound. ``power=1``
    is the cautionary contrast: it bundles vectors into near-parallel groups (see the module's notes).
    """
    defaults = orthogonal_defaults()
    n = int(defaults["vectors"] if vectors is None else vectors)     # 0 is refused below, not the default
    d = int(defaults["dim"] if dim is None else dim)
    steps = defaults["steps"] if steps is None else int(steps)
    if n < 2 or d < 1:
        raise ValueError(f"train_orthogonal: need at least 2 vectors and 1 dimension, got {n} and {d}")
    v = tg.randn(n, d, seed=seed).requires_grad_()
    before = angle_stats(v)
    off_diagonal = 1.0 - tg.eye(n)
    opt = optim.Adam([("vectors", v)], lr=lr)
    losses = []
    for step in range(1, steps + 1):
        opt.zero_grad()
        u = _unit_rows(v)
        cos2 = (u @ u.T) ** 2
        loss = (((cos2 + 1e-8) ** (power / 2)) * off_diagonal).sum() * (1.0 / (n * (n - 1)))
        loss.backward()
        opt.step()
        losses.append(loss.item())
        notify(on_step, step, steps, losses[-1])
    after = angle_stats(v)
    metrics = {"loss": losses[-1] if losses else float("nan"), "vectors": n, "dim": d,
               "welch_bound": welch_bound(n, d)}
    for key in ("within_89_91", "within_85_95", "max_abs_cos", "mean_abs_cos", "near_parallel"):
        metrics[f"random_{key}"] = before[key]
        metrics[f"trained_{key}"] = after[key]
    config = {"steps": steps, "seed": seed, "vectors": n, "dim": d, "power": power, "lr": lr, "optimizer": "Adam",
              "loss": f"mean over pairs of |cos|^{power:g}", "backend": tg.get_backend()}
    with tg.no_grad():
        unit = _unit_rows(v)
    return TrainResult("orthogonal", metrics, losses, config,
                       state={"vectors": unit, "config": config},
                       details={"before": before, "after": after,
                                "summary": ["loss", "vectors", "dim", "welch_bound"]})


# ------------------------------------------------------------------------------ toy models
class ToyModel(tg.nn.Module):
    """x′ = ReLU(Wᵀ W x + b) (or without the ReLU when ``relu=False``), W: (m, n), b: (n,)."""

    def __init__(self, n_features: int = 20, n_hidden: int = 5, relu: bool = True, seed: int = 0):
        super().__init__()
        self.n_features, self.n_hidden, self.relu = n_features, n_hidden, relu
        # Xavier-normal init, as in the paper: std = sqrt(2 / (m + n)).
        std = math.sqrt(2.0 / (n_features + n_hidden))
        self.W = tg.nn.Parameter(tg.nn.init.normal((n_hidden, n_features), std=std, seed=seed))
        self.b = tg.nn.Parameter(tg.zeros(n_features))

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        h = x @ self.W.T                 # (B, m): compress
        out = h @ self.W + self.b        # (B, n): read back with Wᵀ
        return out.relu() if self.relu else out

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}, n_hidden={self.n_hidden}, relu={self.relu}"


def toy_model_stats(W_rows: list) -> dict:
    """Per-feature norms and superposition, and dimensions per feature, from W as nested lists (m × n)."""
    m, n = len(W_rows), len(W_rows[0])
    columns = [[W_rows[k][i] for k in range(m)] for i in range(n)]
    norms = [math.sqrt(math.fsum(c * c for c in col)) for col in columns]
    superposition = []
    for i in range(n):
        if norms[i] < 1e-12:
            superposition.append(0.0)
            continue
        unit = [c / norms[i] for c in columns[i]]
        superposition.append(math.fsum(math.fsum(a * b for a, b in zip(unit, columns[j])) ** 2
                                       for j in range(n) if j != i))
    frob2 = math.fsum(x * x for x in norms)
    gram = [[math.fsum(a * b for a, b in zip(columns[i], columns[j])) for j in range(n)] for i in range(n)]
    represented = [i for i in range(n) if norms[i] > 0.5]
    # Antipodal pairs: two represented features pointing in opposite directions (cos < −0.9), the first
    # geometry the paper finds as sparsity grows.
    antipodal = [(i, j) for a, i in enumerate(represented) for j in represented[a + 1:]
                 if gram[i][j] / (norms[i] * norms[j]) < -0.9]
    return {"norms": norms, "superposition": superposition, "represented": represented,
            "dims_per_feature": m / frob2 if frob2 > 0 else float("inf"), "gram": gram,
            "antipodal_pairs": antipodal}


def _batch(batch: int, n: int, sparsity: float, generator) -> tg.Tensor:
    values = tg.rand(batch, n, generator=generator)
    present = (tg.rand(batch, n, generator=generator) >= sparsity).float()
    return values * present


def train_toy_model(sparsity: float, steps: int = 1000, seed: int = 0, relu: bool = True, n_features: int = 20,
                    n_hidden: int = 5, batch: int = 128, lr: float = 1e-2, importance_decay: float = 0.7,
                    on_step=None) -> tuple[ToyModel, list]:
    """Train one toy model at one sparsity; returns (model, losses)."""
    model = ToyModel(n_features, n_hidden, relu=relu, seed=seed)
    importance = tg.tensor([importance_decay ** i for i in range(n_features)])
    generator = tg.Generator(seed + 1)
    opt = optim.Adam(model.named_parameters(), lr=lr)
    losses = []
    for step in range(1, steps + 1):
        x = _batch(batch, n_features, sparsity, generator)
        opt.zero_grad()
        err = x - model(x)
        loss = (err * err * importance).sum(1).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, loss.item())
    return model, losses


def toy_defaults() -> dict:
    """The same on every backend (same seed, same numbers); the README's figure uses 2000 steps, batch 256."""
    return {"steps": 1000, "batch": 128}


def train_toy_models(steps: int | None = None, seed: int = 0, on_step=None, sparsities=DEFAULT_SPARSITIES,
                     n_features: int = 20, n_hidden: int = 5, batch: int | None = None, lr: float = 1e-2,
                     linear_control: bool = True) -> TrainResult:
    """The sparsity sweep: a ReLU toy model per sparsity, plus the linear model (dense) as the control."""
    defaults = toy_defaults()
    steps = defaults["steps"] if steps is None else int(steps)
    batch = defaults["batch"] if batch is None else int(batch)
    if isinstance(sparsities, (int, float)):
        sparsities = [sparsities]
    runs = [("linear", 0.0, False)] if linear_control else []
    runs += [(f"ReLU S={s:g}", float(s), True) for s in sparsities]
    total = steps * len(runs)
    all_losses, rows, state = [], [], {}
    for r, (label, sparsity, relu) in enumerate(runs):
        def progress(step, loss, r=r):
            notify(on_step, r * steps + step, total, loss)
        model, losses = train_toy_model(sparsity, steps=steps, seed=seed, relu=relu, n_features=n_features,
                                        n_hidden=n_hidden, batch=batch, lr=lr, on_step=progress)
        all_losses.extend(losses)
        stats = toy_model_stats(model.W.tolist())
        tail = losses[-max(1, steps // 10):]
        rows.append({"label": label, "sparsity": sparsity, "relu": relu, "loss": sum(tail) / len(tail),
                     **stats, "b": model.b.tolist()})
        state[label] = model.state_dict()
    metrics = {"loss": all_losses[-1] if all_losses else float("nan"), "n_features": n_features,
               "n_hidden": n_hidden}
    for row in rows:
        key = "linear" if not row["relu"] else f"relu_S{row['sparsity']:g}"
        metrics[f"{key}_represented"] = len(row["represented"])
        metrics[f"{key}_dims_per_feature"] = row["dims_per_feature"]
        metrics[f"{key}_loss"] = row["loss"]
        metrics[f"{key}_antipodal_pairs"] = len(row["antipodal_pairs"])
    config = {"steps": steps, "seed": seed, "sparsities": list(sparsities), "n_features": n_features,
              "n_hidden": n_hidden, "batch": batch, "lr": lr, "optimizer": "Adam", "importance": "0.7^i",
              "backend": tg.get_backend()}
    return TrainResult("superposition", metrics, all_losses, config, state={"models": state, "config": config},
                       details={"runs": rows, "summary": ["loss", "n_features", "n_hidden"]})


# ------------------------------------------------------------------------------ pictures
def report(result: TrainResult):
    if result.name == "orthogonal":
        return _report_orthogonal(result)
    return _report_toy(result)


def _report_orthogonal(result: TrainResult):
    from rich.table import Table

    before, after = result.details["before"], result.details["after"]
    c = result.config
    table = Table(title=f"{c['vectors']} unit vectors in {c['dim']} dimensions: angles between all "
                        f"{before['pairs']:,} pairs", title_justify="left")
    table.add_column("")
    table.add_column("random (baseline)", justify="right")
    table.add_column("after training", justify="right")
    table.add_row("pairs within 89°–91°", f"{before['within_89_91']:.1%}", f"{after['within_89_91']:.1%}")
    table.add_row("pairs within 85°–95°", f"{before['within_85_95']:.1%}", f"{after['within_85_95']:.1%}")
    table.add_row("mean |cos|", f"{before['mean_abs_cos']:.4f}", f"{after['mean_abs_cos']:.4f}")
    table.add_row("max |cos|", f"{before['max_abs_cos']:.4f}", f"{after['max_abs_cos']:.4f}")
    table.add_row("near-parallel pairs (|cos| > 0.9)", f"{before['near_parallel']:.2%}",
                  f"{after['near_parallel']:.2%}")
    wb = welch_bound(c["vectors"], c["dim"])
    note = (f"Welch bound: no {c['vectors']} unit vectors in {c['dim']} dimensions have max |cos| below "
            f"{wb:.4f} (angles {math.degrees(math.acos(wb)):.1f}°–{180 - math.degrees(math.acos(wb)):.1f}°). ")
    if c["power"] <= 2:
        note += ("With a low power (mean |cos|) the loss is lowest when most cosines are exactly 0, and training "
                 "gets there by collapsing the vectors into bundles of near-parallel ones, orthogonal to each "
                 "other: look at max |cos| and the near-parallel pairs. That is not spreading them out; the "
                 "default power 8 is.")
    else:
        note += (f"With power {c['power']:g}, training weighs the largest cosines most and pushes them down "
                 f"towards that bound (max |cos| {after['max_abs_cos']:.4f} after training, "
                 f"{before['max_abs_cos']:.4f} at random), with no near-parallel pairs left.")
    return [table, note]


def _report_toy(result: TrainResult):
    from rich.table import Table

    runs = result.details["runs"]
    c = result.config
    table = Table(title=f"Toy models: {c['n_features']} features in {c['n_hidden']} dimensions, "
                        "importance 0.7^i", title_justify="left")
    for col in ("model", "loss", "represented (‖W_i‖>0.5)", "dims / feature", "features in superposition",
                "antipodal pairs"):
        table.add_column(col, justify="left" if col in ("model", "antipodal pairs") else "right")
    for run in runs:
        in_sup = sum(1 for i in run["represented"] if run["superposition"][i] > 0.1)
        pairs = " ".join(f"{i}↔{j}" for i, j in run["antipodal_pairs"])
        table.add_row(run["label"], f"{run['loss']:.4f}", str(len(run["represented"])),
                      f"{run['dims_per_feature']:.3f}", str(in_sup), pairs)
    from rich.columns import Columns

    legend = ("Each grid is WᵀW: row i holds feature i's dot products W_i·W_j with every feature (shade: size; "
              "blue > 0, red < 0). The bars are ‖W_i‖: grey when not represented (≤ 0.5), yellow when the "
              "feature shares its dimensions with others (superposition Σ_{j≠i}(Ŵ_i·W_j)² > 0.1).")
    return [table, Columns([_gram_picture(run) for run in runs], padding=(1, 3)), legend]


def _gram_picture(run: dict):
    from rich.table import Table
    from rich.text import Text

    gram, norms, sup = run["gram"], run["norms"], run["superposition"]
    n = len(norms)
    grid = Text()
    for i in range(n):
        for j in range(n):
            value = gram[i][j]
            grid.append(_shade(value) * 2, style=_diverging(value))
        grid.append("\n")
    bars = Text()
    for i in range(n):
        length = int(round(min(norms[i], 1.5) / 1.5 * 20))
        colour = "grey50" if norms[i] <= 0.5 else ("yellow" if sup[i] > 0.1 else "white")
        bars.append(f"{i:>2} ", style="dim")
        bars.append("█" * length, style=colour)
        bars.append(f" {norms[i]:.2f}\n", style="dim")
    layout = Table.grid(padding=(0, 2))
    layout.add_column()
    layout.add_column()
    layout.add_row(Text(f"{run['label']}: WᵀW", style="bold"), Text("‖W_i‖", style="bold"))
    layout.add_row(grid, bars)
    return layout


_SHADES = " ░▒▓█"


def _shade(value: float) -> str:
    """A block character whose density grows with |value| (so the picture reads without colour too)."""
    level = min(len(_SHADES) - 1, int(abs(value) * (len(_SHADES) - 1) + 0.5))
    return _SHADES[level]


def _diverging(value: float) -> str:
    """A colour for a value in [−1, 1]: red for negative, blue for positive."""
    return "red" if value < 0 else "blue"
