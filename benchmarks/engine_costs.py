"""Costs of the engine itself: the trace hook when no trace is recording, the module hooks when none is
registered, and a very deep graph.

* ``trace_hook_cost``: the MLP step as shipped against the same step with the tracing checks taken out
  of the engine. The hook-free ``Function.apply`` and ``run_backward`` are compiled from the engine's
  own source with every ``if`` that tests ``_recorder`` removed, so the comparison stays honest when
  the engine changes. The two are timed in alternating rounds, so a drift in the machine's load hits
  both alike.
* ``module_hook_cost``: the same step written with ``nn.MLPBlock`` (four module calls per step: the
  block, up, act, down), with ``Module.__call__`` as shipped against ``Module.__call__`` recompiled
  without its ``if`` that looks for forward hooks; alternating rounds again, plus the time of one
  call of an ``Identity`` module each way.
* ``chain_backward``: backward through a chain of 100,000 ops (alternately ``* 1.0`` and ``+ 1.0``;
  every local derivative is 1, so the gradient must come out exactly 1).
"""
from __future__ import annotations

import ast
import contextlib
import gc
import inspect
import statistics
import textwrap
import time

from tinygrad_edu import autograd

from . import mlp_step


def _without_checks(function, is_check, globals_: dict, what: str):
    """``function`` recompiled from its source without the ``if`` statements whose test has a node
    for which ``is_check(node)`` is true; returns (function, how many were removed)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))

    def tests_it(node) -> bool:
        return isinstance(node, ast.If) and any(is_check(n) for n in ast.walk(node.test))

    class DropChecks(ast.NodeTransformer):
        def visit_If(self, node):
            if tests_it(node):
                return None
            return self.generic_visit(node)

    definition = tree.body[0]
    definition.decorator_list = []
    removed = sum(1 for n in ast.walk(definition) if tests_it(n))
    DropChecks().visit(definition)
    ast.fix_missing_locations(tree)
    namespace = {}
    exec(compile(tree, f"<{function.__qualname__} without {what}>", "exec"), globals_, namespace)
    return namespace[definition.name], removed


def _without_recorder_checks(function):
    """``function`` recompiled from its source without the ``if`` statements that test ``_recorder``."""
    return _without_checks(function, lambda n: isinstance(n, ast.Name) and n.id == "_recorder",
                           vars(autograd), "trace checks")


@contextlib.contextmanager
def hooks_removed(compiled=None):
    """Inside the block, ``Function.apply`` and ``run_backward`` have no tracing checks at all.

    ``compiled`` is a ``compile_without_hooks()`` result to reuse (new code objects start cold)."""
    apply, run_backward = compiled or compile_without_hooks()
    saved = autograd.Function.__dict__["apply"], autograd.run_backward
    autograd.Function.apply, autograd.run_backward = classmethod(apply), run_backward
    try:
        yield
    finally:
        autograd.Function.apply, autograd.run_backward = saved


def compile_without_hooks() -> tuple:
    """The engine's ``Function.apply`` and ``run_backward``, recompiled without their tracing checks."""
    apply, removed_apply = _without_recorder_checks(autograd.Function.apply.__func__)
    run_backward, removed_backward = _without_recorder_checks(autograd.run_backward)
    if not (removed_apply and removed_backward):
        raise RuntimeError("the engine's tracing checks were not found: the comparison would be meaningless")
    return apply, run_backward


def trace_hook_cost(backend: str = "python", size: str = "tiny", rounds: int = 30, block: int = 10,
                    budget: float = 10.0) -> dict:
    """Median step time with the hook as shipped and with it compiled out; their difference in percent.

    ``rounds`` alternating blocks of ``block`` steps each way. Measured at the smallest size by default,
    where the engine's share of a step is the largest."""
    if autograd.get_recorder() is not None:
        raise RuntimeError("trace_hook_cost: a trace is recording; the hook would not be 'off'")
    problem = mlp_step.make_problem(*mlp_step.SIZES[size])
    compiled = compile_without_hooks()
    shipped, stripped = mlp_step.TinygradEdu(backend), mlp_step.TinygradEdu(backend)
    shipped.setup(problem)
    stripped.setup(problem)
    with_hook, without_hook = _alternate(shipped.step, stripped.step, lambda: hooks_removed(compiled),
                                         rounds, block, budget)
    on, off = statistics.median(with_hook), statistics.median(without_hook)
    return {"backend": backend, "size": size, "steps_each": len(with_hook),
            "median_ms_with_hook": on * 1e3, "median_ms_without_hook": off * 1e3,
            "overhead_percent": (on - off) / off * 100.0}


def _alternate(shipped_step, stripped_step, stripped_context, rounds: int, block: int, budget: float):
    """Time ``block`` calls of each step in alternating rounds (the stripped one inside
    ``stripped_context()``), after one warm-up block each; returns the two lists of seconds."""
    with_hook, without_hook = [], []

    def timed_block(step, into):
        for _ in range(block):
            start = time.perf_counter()
            step()
            into.append(time.perf_counter() - start)

    timed_block(shipped_step, [])                # warm up both versions
    with stripped_context():
        timed_block(stripped_step, [])
    gc.collect()
    started = time.perf_counter()
    for _ in range(rounds):
        timed_block(shipped_step, with_hook)
        with stripped_context():
            timed_block(stripped_step, without_hook)
        if time.perf_counter() - started > budget:
            break
    return with_hook, without_hook


# ------------------------------------------------------------------------------ module hooks
_MODULE_HOOK_TABLES = ("_forward_hooks", "_forward_pre_hooks")


def compile_call_without_hook_check():
    """``Module.__call__`` recompiled without the ``if`` that looks for forward hooks."""
    from tinygrad_edu.nn import module
    call, removed = _without_checks(module.Module.__call__,
                                    lambda n: isinstance(n, ast.Attribute) and n.attr in _MODULE_HOOK_TABLES,
                                    vars(module), "the hook check")
    if not removed:
        raise RuntimeError("Module.__call__ has no hook check to remove: the comparison would be meaningless")
    return call


@contextlib.contextmanager
def module_hook_check_removed(call=None):
    """Inside the block, ``Module.__call__`` goes straight to ``forward`` (hooks are ignored)."""
    from tinygrad_edu.nn import Module
    call = call or compile_call_without_hook_check()
    saved = Module.__dict__["__call__"]
    Module.__call__ = call
    try:
        yield
    finally:
        Module.__call__ = saved


class _ModuleStep:
    """The benchmark's SGD step written with modules: ``nn.MLPBlock`` (block, up, act, down are called)."""

    def __init__(self, backend: str, problem: dict):
        import tinygrad_edu as tg
        from tinygrad_edu import functional as F
        from tinygrad_edu import nn
        from tinygrad_edu.optim import SGD
        self.F = F
        d_hidden, d_model = len(problem["w_up"]), len(problem["w_up"][0])
        with tg.use_backend(backend):
            self.block = nn.MLPBlock(d_model, d_hidden, seed=0)
            self.block.load_state_dict({"up.weight": problem["w_up"], "up.bias": problem["b_up"],
                                        "down.weight": problem["w_down"], "down.bias": problem["b_down"]})
            self.x, self.target = tg.tensor(problem["x"]), tg.tensor(problem["target"])
        self.optimizer = SGD(self.block.parameters(), lr=mlp_step.LEARNING_RATE)

    def step(self) -> float:
        self.optimizer.zero_grad()
        loss = self.F.mse_loss(self.block(self.x), self.target)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def module_hook_cost(backend: str = "python", size: str = "tiny", rounds: int = 30, block: int = 10,
                     budget: float = 10.0, repeats: int = 20_000) -> dict:
    """The module-hook check when no hook is registered: the MLP-block step (median ms) and one call
    of an ``Identity`` module (best of seven rounds of ``repeats`` calls) with the check and without.

    ``expected_overhead_percent`` is what the per-call difference predicts for a step (calls per step
    × extra ns ÷ step time); a measured step overhead far from it is the machine's noise."""
    import tinygrad_edu as tg
    from tinygrad_edu import nn
    problem = mlp_step.make_problem(*mlp_step.SIZES[size])
    call = compile_call_without_hook_check()
    shipped, stripped = _ModuleStep(backend, problem), _ModuleStep(backend, problem)
    if any(m._forward_hooks or m._forward_pre_hooks for m in shipped.block.modules()):
        raise RuntimeError("module_hook_cost: a hook is registered; the check would not be 'off'")
    with_check, without_check = _alternate(shipped.step, stripped.step, lambda: module_hook_check_removed(call),
                                           rounds, block, budget)
    identity = nn.Identity()
    with tg.use_backend(backend):
        x = tg.tensor([1.0])
    per_call_on, per_call_off = [], []

    def time_calls(into):
        enabled = gc.isenabled()
        gc.disable()                            # as timeit does: no collection inside the timed loop
        try:
            start = time.perf_counter()
            for _ in range(repeats):
                identity(x)
            into.append((time.perf_counter() - start) / repeats)
        finally:
            if enabled:
                gc.enable()

    for round_ in range(8):                     # the first round warms both up and is not kept
        time_calls(per_call_on)
        with module_hook_check_removed(call):
            time_calls(per_call_off)
        if round_ == 0:
            per_call_on.clear()
            per_call_off.clear()
    calls = []                                  # how many module calls one step makes
    counters = [m.register_forward_pre_hook(lambda module, args: calls.append(module))
                for m in shipped.block.modules()]
    shipped.step()
    for handle in counters:
        handle.remove()
    on, off = statistics.median(with_check), statistics.median(without_check)
    extra = min(per_call_on) - min(per_call_off)
    return {"backend": backend, "size": size, "steps_each": len(with_check),
            "median_ms_with_check": on * 1e3, "median_ms_without_check": off * 1e3,
            "overhead_percent": (on - off) / off * 100.0,
            "ns_per_call_with_check": min(per_call_on) * 1e9, "ns_per_call_without_check": min(per_call_off) * 1e9,
            "module_calls_per_step": len(calls),
            "expected_overhead_percent": len(calls) * extra / off * 100.0}


def chain_backward(length: int = 100_000, backend: str = "python") -> dict:
    """Build ``length`` ops on a small tensor, then time ``backward()`` through all of them."""
    import tinygrad_edu as tg
    with tg.use_backend(backend):
        x = tg.tensor([0.5, -1.0, 2.0, 3.0], requires_grad=True)
    gc.collect()
    start = time.perf_counter()
    y = x
    for i in range(length):
        y = y * 1.0 if i % 2 == 0 else y + 1.0
    built = time.perf_counter() - start
    total = y.sum()
    start = time.perf_counter()
    total.backward()
    backward = time.perf_counter() - start
    gradient_ok = x.grad.tolist() == [1.0, 1.0, 1.0, 1.0]
    del y, total
    return {"backend": backend, "ops": length + 1, "build_s": built, "backward_s": backward,
            "gradient_exact": gradient_ok}
