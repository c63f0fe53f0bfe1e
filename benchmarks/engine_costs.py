"""Two costs of the engine itself: the trace hook when no trace is recording, and a very deep graph.

* ``trace_hook_cost``: the MLP step as shipped against the same step with the tracing checks taken out
  of the engine. The hook-free ``Function.apply`` and ``run_backward`` are compiled from the engine's
  own source with every ``if`` that tests ``_recorder`` removed, so the comparison stays honest when
  the engine changes. The two are timed in alternating rounds, so a drift in the machine's load hits
  both alike.
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


def _without_recorder_checks(function):
    """``function`` recompiled from its source without the ``if`` statements that test ``_recorder``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))

    class DropRecorderChecks(ast.NodeTransformer):
        def visit_If(self, node):
            if any(isinstance(n, ast.Name) and n.id == "_recorder" for n in ast.walk(node.test)):
                return None
            return self.generic_visit(node)

    definition = tree.body[0]
    definition.decorator_list = []
    removed = sum(1 for n in ast.walk(definition) if isinstance(n, ast.If)
                  and any(isinstance(m, ast.Name) and m.id == "_recorder" for m in ast.walk(n.test)))
    DropRecorderChecks().visit(definition)
    ast.fix_missing_locations(tree)
    namespace = {}
    exec(compile(tree, f"<{function.__qualname__} without trace checks>", "exec"), vars(autograd), namespace)
    return namespace[definition.name], removed


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
    with_hook, without_hook = [], []

    def timed_block(impl, into):
        for _ in range(block):
            start = time.perf_counter()
            impl.step()
            into.append(time.perf_counter() - start)

    timed_block(shipped, [])                # warm up both versions
    with hooks_removed(compiled):
        timed_block(stripped, [])
    gc.collect()
    started = time.perf_counter()
    for _ in range(rounds):
        timed_block(shipped, with_hook)
        with hooks_removed(compiled):
            timed_block(stripped, without_hook)
        if time.perf_counter() - started > budget:
            break
    on, off = statistics.median(with_hook), statistics.median(without_hook)
    return {"backend": backend, "size": size, "steps_each": len(with_hook),
            "median_ms_with_hook": on * 1e3, "median_ms_without_hook": off * 1e3,
            "overhead_percent": (on - off) / off * 100.0}


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
