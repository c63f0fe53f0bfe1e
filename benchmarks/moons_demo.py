"""micrograd's own demo, timed in micrograd and in tinygrad_edu from the same numbers.

The demo (`models.moons`): 100 points on two half-moons, an MLP 2 → 16 → 16 → 1 (ReLU), the hinge
loss mean(max(0, 1 − y·s)) plus 1e-4 · Σ p², full-batch SGD with learning rate 1.0 − 0.9·k/100.

micrograd computes it one number at a time, a ``Value`` object per multiplication; tinygrad_edu
as a few matrix products. Both start from the same points and the same initial weights (micrograd's
neurons get tinygrad_edu's numbers), and the losses of the first steps must agree before anything is
timed. Then each is timed per step, and tinygrad_edu also runs the whole demo (100 steps).
"""
from __future__ import annotations

import importlib.util
import statistics
import sys
import time

from . import mlp_step

STEPS = 100          # the demo's length
CHECK_STEPS = 3
SEED = 0


def make_problem(seed: int = SEED) -> dict:
    """The demo's points, labels and initial weights as plain lists (rows of W are neurons)."""
    import tinygrad_edu as tg
    from tinygrad_edu.models import moons

    points, labels = moons.make_moons(100, 0.1, seed)
    with tg.use_backend("python"):
        model = moons.build(seed=seed + 1)
    layers = [(m.weight.tolist(), m.bias.tolist()) for m in model if hasattr(m, "weight")]
    return {"points": points, "labels": labels, "layers": layers}


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / STEPS


class TinygradEdu(mlp_step.Implementation):
    """`models.moons` as the command runs it: the whole batch as one (100, 2) tensor."""

    def __init__(self, backend: str):
        self.backend = backend
        self.key = f"tinygrad_edu_{backend}"
        self.label = f"tinygrad_edu ({backend} backend)"

    def missing(self):
        if self.backend == "numpy" and importlib.util.find_spec("numpy") is None:
            return "NumPy is not installed"
        return None

    def setup(self, problem):
        import tinygrad_edu as tg
        from tinygrad_edu.models import moons
        from tinygrad_edu import optim

        self.moons = moons
        with tg.use_backend(self.backend):
            self.model = moons.build()
            linears = [m for m in self.model if hasattr(m, "weight")]
            for linear, (weight, bias) in zip(linears, problem["layers"]):
                linear.load_state_dict({"weight": tg.tensor(weight), "bias": tg.tensor(bias)})
            self.x = tg.tensor(problem["points"])
            self.y = tg.tensor([[float(label)] for label in problem["labels"]])
        self.optimizer = optim.SGD(self.model.named_parameters(), lr=1.0)
        self.k = 0

    def step(self):
        self.optimizer.lr = learning_rate(self.k)
        loss, _, _ = self.moons.hinge_loss(self.model(self.x), self.y, self.model)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.k += 1
        return loss.item()

    def accuracy(self, problem) -> float:
        return self.moons.accuracy(self.model, problem["points"], problem["labels"])


class Micrograd(mlp_step.Implementation):
    """micrograd's demo as its notebook writes it: ``MLP(2, [16, 16, 1])``, one Value per number."""

    key, label = "micrograd", "micrograd (scalar autograd)"

    def missing(self):
        return None if importlib.util.find_spec("micrograd") else "not installed (pip install micrograd)"

    def setup(self, problem):
        from micrograd.engine import Value
        from micrograd.nn import MLP

        self.Value = Value
        self.model = MLP(2, [16, 16, 1])
        for layer, (weight, bias) in zip(self.model.layers, problem["layers"]):
            for neuron, row, b in zip(layer.neurons, weight, bias):
                for w, value in zip(neuron.w, row):
                    w.data = value
                neuron.b.data = b
        self.points, self.labels = problem["points"], problem["labels"]
        self.k = 0

    def step(self):
        limit = sys.getrecursionlimit()      # micrograd's backward sorts the graph recursively
        sys.setrecursionlimit(max(limit, 10_000))
        try:
            inputs = [list(map(self.Value, row)) for row in self.points]
            scores = list(map(self.model, inputs))
            losses = [(1 + -y * s).relu() for y, s in zip(self.labels, scores)]
            data_loss = sum(losses) * (1.0 / len(losses))
            reg_loss = 1e-4 * sum(p * p for p in self.model.parameters())
            total = data_loss + reg_loss
            self.model.zero_grad()
            total.backward()
            rate = learning_rate(self.k)
            for p in self.model.parameters():
                p.data -= rate * p.grad
            self.k += 1
            return total.data
        finally:
            sys.setrecursionlimit(limit)


def implementations(backends=("python", "numpy")) -> list:
    return [TinygradEdu(b) for b in backends] + [Micrograd()]


def run(repeat: int = 30, budget: float = 10.0, backends=("python", "numpy"), log=None) -> dict:
    """Check that every implementation computes the same first losses, then time its steps; tinygrad_edu
    also runs the whole demo, for the time it takes and the accuracy it reaches."""
    problem = make_problem()
    results = {}
    reference = None
    for impl in implementations(backends):
        entry = results[impl.key] = {"label": impl.label}
        why = impl.missing()
        if why:
            entry["skipped"] = why
            continue
        if log:
            log(f"moons: checking {impl.label}")
        entry["losses"] = mlp_step.losses_after(impl, problem, CHECK_STEPS)
        reference = reference or entry["losses"]
        entry["agrees"] = mlp_step.agree(entry["losses"], reference)
        if not entry["agrees"]:
            continue
        if log:
            log(f"moons: timing {impl.label}")
        times = mlp_step.time_steps(impl, min(repeat, STEPS - CHECK_STEPS), budget)
        entry["times_ms"] = [t * 1e3 for t in times]
        entry["median_ms"] = statistics.median(entry["times_ms"])
        if isinstance(impl, TinygradEdu):
            impl.setup(problem)
            start = time.perf_counter()
            for _ in range(STEPS):
                impl.step()
            entry["demo_s"] = time.perf_counter() - start
            entry["accuracy"] = impl.accuracy(problem)
    return {"steps": STEPS, "check_steps": CHECK_STEPS, "results": results}


def render(moons: dict, console) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"micrograd's demo: two moons, MLP 2-16-16-1, hinge loss, {moons['steps']} full-batch "
                        "SGD steps on 100 points", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  collapse_padding=True)
    rows = []
    entries = moons["results"]
    micrograd = entries.get("micrograd", {})
    skipped = [f"{e['label']}: {e['skipped']}" for e in entries.values() if "skipped" in e]
    if skipped:
        table.caption = "Not run: " + "; ".join(skipped)
    if "median_ms" in micrograd:
        table.caption = (table.caption + "\n" if table.caption else "") + \
            f"speed-up: micrograd's median ms/step ÷ this one's; micrograd's {moons['steps']} steps are estimated"
    table.caption_justify = "left"
    for entry in entries.values():
        if "skipped" in entry:
            continue
        loss = f"{entry['losses'][-1]:.10f} " + ("[green]✓[/]" if entry["agrees"] else "[red]✗ differs[/]")
        if "median_ms" not in entry:
            rows.append((entry["label"], "[red]not timed[/]", "", "", "", "", loss))
            continue
        ratio = (f"{micrograd['median_ms'] / entry['median_ms']:,.0f}×" if "median_ms" in micrograd else "-")
        demo = (f"{entry['demo_s']:.2f} s" if "demo_s" in entry
                else f"≈ {entry['median_ms'] * moons['steps'] / 1e3:.0f} s")
        accuracy = f"{entry['accuracy']:.0%}" if "accuracy" in entry else ""
        rows.append((entry["label"], mlp_step_ms(entry["median_ms"]), str(len(entry["times_ms"])), ratio, demo,
                     accuracy, loss))
    # At 80 columns only the descriptions and headers wrap: every number keeps its full width.
    table.add_column("implementation", min_width=len("implementation"), overflow="fold")
    headers = ("median ms/step", "steps", "speed-up", f"{moons['steps']} steps", "accuracy",
               f"loss, step {moons['check_steps']}")
    for i, header in enumerate(headers, start=1):
        widest = max([Text.from_markup(row[i]).cell_len for row in rows] + [max(map(len, header.split()))])
        table.add_column(header, justify="right", width=widest)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def mlp_step_ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}" if value >= 10 else f"{value:.3f}"
