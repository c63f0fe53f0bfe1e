"""One training step of the lecture's MLP block, written eight ways, to time against each other.

The step, for a batch X (batch × d_model) and a target T of the same shape:

    Z = X W_upᵀ + b_up          H = relu(Z)          Y = X + (H W_downᵀ + b_down)
    L = mean((Y − T)²)          backward             W ← W − lr · ∂L/∂W   (SGD, every parameter)

W_up is (d_hidden × d_model): each row a "question" asked of the vector. W_down is
(d_model × d_hidden): each column what a neuron adds when it fires.

Every implementation starts from the same float64 numbers (``make_problem``) and returns the loss of
its forward pass, so ``check_same_losses`` can prove they compute the same thing before anything is
timed. The hand-written references are the yardsticks: the best a stdlib backend (``HandPython``) and
a NumPy backend (``HandNumpy``) could do for this exact step, with no autograd at all.
"""
from __future__ import annotations

import gc
import importlib.util
import math
import operator
import random
import statistics
import sys
import time

SIZES = {                       # (batch, d_model, d_hidden)
    "tiny": (4, 8, 32),
    "small": (16, 32, 128),
    "medium": (32, 64, 256),
    "large": (64, 256, 1024),
}
LEARNING_RATE = 0.01
CHECK_STEPS = 3
LOSS_RTOL = 1e-9


def make_problem(batch: int, d_model: int, d_hidden: int, seed: int = 0) -> dict:
    """The data and the initial weights as nested lists of floats (PyTorch's Linear init bounds)."""
    rng = random.Random(seed)

    def uniform(rows: int, cols: int, bound: float) -> list:
        return [[rng.uniform(-bound, bound) for _ in range(cols)] for _ in range(rows)]

    up_bound, down_bound = 1 / math.sqrt(d_model), 1 / math.sqrt(d_hidden)
    return {
        "x": [[rng.gauss(0.0, 1.0) for _ in range(d_model)] for _ in range(batch)],
        "target": [[rng.gauss(0.0, 1.0) for _ in range(d_model)] for _ in range(batch)],
        "w_up": uniform(d_hidden, d_model, up_bound),
        "b_up": uniform(1, d_hidden, up_bound)[0],
        "w_down": uniform(d_model, d_hidden, down_bound),
        "b_down": uniform(1, d_model, down_bound)[0],
    }


# ================================================================================================
# The implementations: setup(problem) once, then step() -> loss, as often as wanted
# ================================================================================================


class Implementation:
    key = ""            # short id used in JSON
    label = ""          # what the table shows
    max_size = None     # the largest size name it is run at (None: all)

    def missing(self) -> str | None:
        """Why it cannot run here (a package that is not installed), or None."""
        return None

    def setup(self, problem: dict) -> None:
        raise NotImplementedError

    def step(self) -> float:
        raise NotImplementedError


class TinygradEdu(Implementation):
    """The framework itself, through its public API: Tensors, F.linear, F.mse_loss, optim.SGD."""

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
        from tinygrad_edu import functional as F
        from tinygrad_edu.optim import SGD
        self.F = F
        with tg.use_backend(self.backend):
            self.x = tg.tensor(problem["x"])
            self.target = tg.tensor(problem["target"])
            self.w_up = tg.tensor(problem["w_up"], requires_grad=True)
            self.b_up = tg.tensor(problem["b_up"], requires_grad=True)
            self.w_down = tg.tensor(problem["w_down"], requires_grad=True)
            self.b_down = tg.tensor(problem["b_down"], requires_grad=True)
        self.optimizer = SGD([self.w_up, self.b_up, self.w_down, self.b_down], lr=LEARNING_RATE)

    def step(self):
        return self.train_step().item()

    def train_step(self):
        """The step itself; returns the loss tensor."""
        F = self.F
        self.optimizer.zero_grad()
        h = F.linear(self.x, self.w_up, self.b_up).relu()
        y = self.x + F.linear(h, self.w_down, self.b_down)
        loss = F.mse_loss(y, self.target)
        loss.backward()
        self.optimizer.step()
        return loss


class TinygradEduJit(TinygradEdu):
    """The same step through ``tg.jit``: the first calls run eagerly and are captured, the others replay the
    captured kernels (fused into loops on the pure-Python backend). The loss is read outside the step."""

    def __init__(self, backend: str):
        super().__init__(backend)
        self.key = f"tinygrad_edu_{backend}_jit"
        self.label = f"tinygrad_edu ({backend} backend) with jit"

    def setup(self, problem):
        import tinygrad_edu as tg
        super().setup(problem)
        self.jitted = tg.jit(self.train_step)

    def step(self):
        return self.jitted().item()


class HandPython(Implementation):
    """Forward and backward written out with lists: every matrix product is rows against rows of a
    transposed copy, ``sum(map(mul, row, col))``, so the inner loops run in C."""

    key, label = "hand_python", "hand-written pure Python"

    def setup(self, problem):
        self.x, self.target = problem["x"], problem["target"]
        self.w_up = [row[:] for row in problem["w_up"]]
        self.b_up = problem["b_up"][:]
        self.w_down = [row[:] for row in problem["w_down"]]
        self.b_down = problem["b_down"][:]

    def step(self):
        mul = operator.mul
        x, target, lr = self.x, self.target, LEARNING_RATE
        w_up, b_up, w_down, b_down = self.w_up, self.b_up, self.w_down, self.b_down
        # forward
        z = [[sum(map(mul, row, w)) + b for w, b in zip(w_up, b_up)] for row in x]
        h = [[v if v > 0.0 else 0.0 for v in row] for row in z]
        y = [[xi + (sum(map(mul, h_row, w)) + b) for xi, w, b in zip(x_row, w_down, b_down)]
             for x_row, h_row in zip(x, h)]
        diff = [list(map(operator.sub, y_row, t_row)) for y_row, t_row in zip(y, target)]
        count = len(x) * len(x[0])
        loss = sum(v * v for row in diff for v in row) / count
        # backward: dL/dY = 2 (Y − T) / count
        scale = 2.0 / count
        d_y = [[v * scale for v in row] for row in diff]
        d_y_cols, h_cols = list(zip(*d_y)), list(zip(*h))
        grad_w_down = [[sum(map(mul, d_col, h_col)) for h_col in h_cols] for d_col in d_y_cols]
        grad_b_down = [sum(col) for col in d_y_cols]
        w_down_cols = list(zip(*w_down))
        d_z = [[sum(map(mul, d_row, w_col)) * (z_v > 0.0) for w_col, z_v in zip(w_down_cols, z_row)]
               for d_row, z_row in zip(d_y, z)]
        d_z_cols, x_cols = list(zip(*d_z)), list(zip(*x))
        grad_w_up = [[sum(map(mul, d_col, x_col)) for x_col in x_cols] for d_col in d_z_cols]
        grad_b_up = [sum(col) for col in d_z_cols]
        # SGD
        self.w_up = [[w - g * lr for w, g in zip(w_row, g_row)] for w_row, g_row in zip(w_up, grad_w_up)]
        self.b_up = [w - g * lr for w, g in zip(b_up, grad_b_up)]
        self.w_down = [[w - g * lr for w, g in zip(w_row, g_row)] for w_row, g_row in zip(w_down, grad_w_down)]
        self.b_down = [w - g * lr for w, g in zip(b_down, grad_b_down)]
        return loss


class HandNumpy(Implementation):
    """Forward and backward written out with NumPy: six matrix products and a few vector ops."""

    key, label = "hand_numpy", "hand-written NumPy"

    def missing(self):
        return None if importlib.util.find_spec("numpy") else "NumPy is not installed"

    def setup(self, problem):
        import numpy as np
        self.np = np
        self.x, self.target = np.array(problem["x"]), np.array(problem["target"])
        self.w_up, self.b_up = np.array(problem["w_up"]), np.array(problem["b_up"])
        self.w_down, self.b_down = np.array(problem["w_down"]), np.array(problem["b_down"])

    def step(self):
        x, lr = self.x, LEARNING_RATE
        z = x @ self.w_up.T + self.b_up
        h = self.np.maximum(z, 0.0)
        y = x + (h @ self.w_down.T + self.b_down)
        diff = y - self.target
        loss = float((diff * diff).mean())
        d_y = diff * (2.0 / diff.size)
        grad_w_down, grad_b_down = d_y.T @ h, d_y.sum(axis=0)
        d_z = (d_y @ self.w_down) * (z > 0.0)
        grad_w_up, grad_b_up = d_z.T @ x, d_z.sum(axis=0)
        self.w_up -= lr * grad_w_up
        self.b_up -= lr * grad_b_up
        self.w_down -= lr * grad_w_down
        self.b_down -= lr * grad_b_down
        return loss


class Micrograd(Implementation):
    """Karpathy's micrograd: one ``Value`` object per number, a closure per op (scalar autograd)."""

    key, label = "micrograd", "micrograd (scalar autograd)"
    max_size = "medium"

    def missing(self):
        return None if importlib.util.find_spec("micrograd") else "not installed (pip install micrograd)"

    def setup(self, problem):
        from micrograd.engine import Value
        self.x, self.target = problem["x"], problem["target"]
        self.w_up = [[Value(w) for w in row] for row in problem["w_up"]]
        self.b_up = [Value(b) for b in problem["b_up"]]
        self.w_down = [[Value(w) for w in row] for row in problem["w_down"]]
        self.b_down = [Value(b) for b in problem["b_down"]]
        self.params = [p for rows in (self.w_up, self.w_down) for row in rows for p in row] + self.b_up + self.b_down

    def step(self):
        # micrograd's backward sorts the graph recursively: the loss's chain of additions alone is
        # batch × d_model deep, past Python's default limit of 1000 at medium.
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 100_000))
        try:
            for p in self.params:
                p.grad = 0.0
            squares = []
            for x_row, t_row in zip(self.x, self.target):
                h = [sum((w * xi for w, xi in zip(w_row, x_row)), b).relu() for w_row, b in zip(self.w_up, self.b_up)]
                y = [xi + sum((w * hi for w, hi in zip(w_row, h)), b) for xi, w_row, b in zip(x_row, self.w_down, self.b_down)]
                squares.extend((yi - ti) ** 2 for yi, ti in zip(y, t_row))
            loss = sum(squares) * (1.0 / len(squares))
            loss.backward()
            for p in self.params:
                p.data -= LEARNING_RATE * p.grad
            return loss.data
        finally:
            sys.setrecursionlimit(limit)


class Torch(Implementation):
    """PyTorch, CPU, eager mode, float64, one thread."""

    key, label = "torch", "PyTorch CPU eager (1 thread)"

    def missing(self):
        return None if importlib.util.find_spec("torch") else "not installed (pip install torch)"

    def setup(self, problem):
        import torch
        torch.set_num_threads(1)
        self.torch = torch
        self.F = torch.nn.functional
        as_tensor = lambda v, grad=False: torch.tensor(v, dtype=torch.float64, requires_grad=grad)  # noqa: E731
        self.x, self.target = as_tensor(problem["x"]), as_tensor(problem["target"])
        self.params = [as_tensor(problem[k], True) for k in ("w_up", "b_up", "w_down", "b_down")]

    def step(self):
        w_up, b_up, w_down, b_down = self.params
        for p in self.params:
            p.grad = None
        h = self.F.relu(self.F.linear(self.x, w_up, b_up))
        y = self.x + self.F.linear(h, w_down, b_down)
        loss = self.F.mse_loss(y, self.target)
        loss.backward()
        with self.torch.no_grad():
            for p in self.params:
                p -= LEARNING_RATE * p.grad
        return loss.item()


def implementations() -> list[Implementation]:
    """Everything the benchmark compares, in table order."""
    return [TinygradEdu("python"), TinygradEduJit("python"), TinygradEdu("numpy"), TinygradEduJit("numpy"),
            HandPython(), HandNumpy(), Micrograd(), Torch()]


# ================================================================================================
# Checking and timing
# ================================================================================================


def losses_after(impl: Implementation, problem: dict, steps: int = CHECK_STEPS) -> list[float]:
    """The losses of ``steps`` fresh steps from the shared starting point."""
    impl.setup(problem)
    return [impl.step() for _ in range(steps)]


def agree(a: list[float], b: list[float], rtol: float = LOSS_RTOL) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=rtol, abs_tol=0.0) for x, y in zip(a, b))


def time_steps(impl: Implementation, repeat: int, budget: float) -> list[float]:
    """Seconds per step for up to ``repeat`` steps, stopping early (after at least one) once ``budget``
    seconds are spent. The garbage collector stays on: collecting a library's cycles is part of its cost."""
    gc.collect()
    times, spent = [], 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        impl.step()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
        if spent >= budget:
            break
    return times


def run_size(size: str, repeat: int = 30, budget: float = 10.0, only=None, log=None) -> dict:
    """Check, then time, every available implementation at one size.

    First every implementation runs ``CHECK_STEPS`` steps from the same start, and its losses are compared
    with the hand-written pure Python's (plain arithmetic, nothing hidden). Only then is anything timed,
    each implementation going on from where its check left it; one whose losses differ is not timed.

    Returns ``{"shape", "results": {key: {...}}}``; each result has ``label`` and either ``skipped`` (why)
    or ``losses``, ``agrees`` and, when timed, ``times_ms`` and ``median_ms``."""
    batch, d_model, d_hidden = SIZES[size]
    problem = make_problem(batch, d_model, d_hidden)
    order = list(SIZES)
    chosen = [impl for impl in implementations() if only is None or impl.key in only]
    results = {impl.key: {"label": impl.label} for impl in chosen}      # table order
    runnable = []
    for impl in chosen:
        why = impl.missing()
        if why is None and impl.max_size is not None and order.index(size) > order.index(impl.max_size):
            why = f"only up to {impl.max_size}: a step would take minutes"
        if why is not None:
            results[impl.key]["skipped"] = why
        else:
            runnable.append(impl)
    reference = None
    for impl in sorted(runnable, key=lambda impl: impl.key != HandPython.key):   # the reference first
        if log:
            log(f"{size}: checking {impl.label}")
        entry = results[impl.key]
        entry["losses"] = losses_after(impl, problem)
        if reference is None:
            reference = entry["losses"]
        entry["agrees"] = agree(entry["losses"], reference)
    for impl in runnable:
        entry = results[impl.key]
        if not entry["agrees"]:
            continue
        if log:
            log(f"{size}: timing {impl.label}")
        entry["times_ms"] = [t * 1e3 for t in time_steps(impl, repeat, budget)]
        entry["median_ms"] = statistics.median(entry["times_ms"])
    return {"shape": {"batch": batch, "d_model": d_model, "d_hidden": d_hidden}, "results": results}
