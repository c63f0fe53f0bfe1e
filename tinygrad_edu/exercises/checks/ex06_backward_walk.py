"""Exercise 6 · The backward walk: a topological order without recursion, then the chain rule along it."""
from __future__ import annotations

import time

import tinygrad_edu as tg
from tinygrad_edu import autograd

from ..checking import CheckFailed, Exercise, Step, assert_close, for_examples, require_callable, student_code

CHAIN_LENGTH = 100_000

CONSTANTS = ("leave out the tensors that do not require grad (constants such as the 2.0 in a * 2.0): no "
             "gradient goes to them, so the walk need not visit them")
RECURSIVE = ("a recursive walk needs one Python frame per node, and a chain of 100,000 ops is deeper than "
             "Python allows: keep the nodes still to visit on a list of your own (an explicit stack)")
VISITED_ON_PUSH = ("mark a tensor visited when you expand it (take it off the stack to push its parents), not "
                   "when you push it: in L = a + exp(a), a is pushed by L before exp(a) reaches it, and must "
                   "still come before exp(a) in the order")
NO_ACCUMULATE = ("a tensor used twice must receive the sum of both gradients (a * a gives 2a): add a parent's "
                 "gradient to what it already has instead of replacing it")
NOT_REVERSED = ("walk the order from the end: the root first (its gradient is 1), then each tensor after every "
                "tensor that uses it, so its gradient is complete before it is passed on")


def _node_names(graph: dict) -> dict:
    return {id(t): name for name, t in graph.items()}


def _program():
    """A strategy of small random graphs: each step combines two earlier tensors or transforms one."""
    from hypothesis import strategies as st
    step = st.tuples(st.sampled_from(["add", "mul", "sub", "tanh", "neg", "half"]),
                     st.integers(0, 40), st.integers(0, 40))
    return st.lists(step, min_size=1, max_size=8)


def build(program, backend_values=((0.5, -1.0, 2.0), (1.5, 0.25, -0.75), (3.0, 1.0, -2.0))) -> dict:
    """Run a program on fresh leaves; returns {name: tensor}, the root under "L"."""
    x = tg.tensor(list(backend_values[0]), requires_grad=True)
    y = tg.tensor(list(backend_values[1]), requires_grad=True)
    c = tg.tensor(list(backend_values[2]))                       # a constant: needs no gradient
    nodes = [x, y, c]
    graph = {"x": x, "y": y, "c": c}
    for k, (op, i, j) in enumerate(program):
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        out = {"add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b, "tanh": lambda: a.tanh(),
               "neg": lambda: -a, "half": lambda: a * 0.5}[op]()
        nodes.append(out)
        graph[f"t{k + 1}"] = out
    graph["L"] = (nodes[-1] * nodes[-1]).sum() + (x * y).sum()
    return graph


def _check_order(order, root, what: str) -> None:
    if not isinstance(order, (list, tuple)):
        raise CheckFailed(f"topological_order returned {type(order).__name__}; expected a list of tensors")
    if not all(isinstance(t, tg.Tensor) for t in order):
        bad = next(t for t in order if not isinstance(t, tg.Tensor))
        raise CheckFailed(f"topological_order's list holds {type(bad).__name__} {bad!r}; expected tensors")
    expected = autograd.topological_order(root)
    want, got = {id(t) for t in expected}, [id(t) for t in order]
    if len(got) != len(set(got)):
        raise CheckFailed(f"topological_order lists a tensor twice ({what}): each tensor comes once")
    if set(got) != want:
        missing, extra = len(want - set(got)), len(set(got) - want)
        raise CheckFailed(f"topological_order returned {len(got)} tensors for {what}; root depends on "
                          f"{len(want)} (counting root, and only tensors that require grad): {missing} missing, "
                          f"{extra} that do not belong",
                          CONSTANTS if extra and not missing else None)
    position = {key: i for i, key in enumerate(got)}
    for t in order:
        fn = t.grad_fn
        for parent in (fn.parents if fn is not None else ()):
            if parent.requires_grad and position[id(parent)] > position[id(t)]:
                raise CheckFailed(f"topological_order puts a tensor before its input ({what}): every tensor "
                                  "must come after the tensors it was computed from", )
    if order[-1] is not root:
        raise CheckFailed(f"topological_order must end with root ({what})")


def orders(module, ctx):
    fn = require_callable(module, "topological_order", "topological_order(root) -> list")
    with tg.use_backend("python"):
        a = tg.tensor([1.0, 2.0], requires_grad=True)
        diamond_a = a * 2.0
        diamond = (diamond_a + diamond_a.exp()).sum()
        for root, what in ((diamond, "L = (a + exp(a)).sum()"), ((a * a).sum(), "L = (a * a).sum()")):
            with student_code(ctx, "topological_order"):
                order = fn(root)
            _check_order(order, root, what)

    def test(program, backend):
        graph = build(program)
        with student_code(ctx, "topological_order"):
            order = fn(graph["L"])
        _check_order(order, graph["L"], f"a graph of {len(program) + 4} ops ({backend} backend)")

    for_examples(ctx, _program(), test)


def gradients(module, ctx):
    fn = require_callable(module, "backward", "backward(root)")

    def test(program, backend):
        ours, theirs = build(program), build(program)
        ours["L"].backward()
        with student_code(ctx, "backward"):
            fn(theirs["L"])
        ops = ", ".join(op for op, _, _ in program)
        for name in ("x", "y"):
            if theirs[name].grad is None:
                raise CheckFailed(f"after backward(L), leaf {name} has no .grad (ops {ops}; {backend} backend)")
            if not isinstance(theirs[name].grad, tg.Tensor):
                raise CheckFailed(f"after backward(L), {name}.grad is {type(theirs[name].grad).__name__}; store "
                                  "a Tensor (tg.Tensor(array) wraps a backend array)")
            assert_close(theirs[name].grad, ours[name].grad, f"{name}.grad after your backward",
                         context=f"a graph of the ops {ops}, {backend} backend")

    for_examples(ctx, _program(), test)


def deep_chain(module, ctx):
    order_fn = require_callable(module, "topological_order", "topological_order(root) -> list")
    backward_fn = require_callable(module, "backward", "backward(root)")
    with tg.use_backend("python"):
        x = tg.tensor(2.0, requires_grad=True)
        y = x
        for _ in range(CHAIN_LENGTH):
            y = -y
        started = time.perf_counter()
        try:
            with student_code(ctx, "topological_order"):
                order = order_fn(y)
        except CheckFailed as failure:
            raise CheckFailed(f"on a chain of {CHAIN_LENGTH:,} ops: {failure.message}",
                              RECURSIVE if "recursion" in failure.message else None) from None
        if not isinstance(order, (list, tuple)) or len(order) != CHAIN_LENGTH + 1:
            size = len(order) if isinstance(order, (list, tuple)) else type(order).__name__
            raise CheckFailed(f"on a chain of {CHAIN_LENGTH:,} ops topological_order returned {size} tensors, "
                              f"expected {CHAIN_LENGTH + 1:,}")
        if order[0] is not x or order[-1] is not y:
            raise CheckFailed(f"on a chain of {CHAIN_LENGTH:,} ops the order must start with the leaf and end "
                              "with the root")
        try:
            with student_code(ctx, "backward"):
                backward_fn(y)
        except CheckFailed as failure:
            raise CheckFailed(f"on a chain of {CHAIN_LENGTH:,} ops: {failure.message}",
                              RECURSIVE if "recursion" in failure.message else None) from None
        seconds = time.perf_counter() - started
        if x.grad is None or not isinstance(x.grad, tg.Tensor) or x.grad.item() != 1.0:
            got = None if x.grad is None else x.grad.tolist() if isinstance(x.grad, tg.Tensor) else x.grad
            raise CheckFailed(f"on a chain of {CHAIN_LENGTH:,} negations of x, x.grad is {got!r}, expected 1.0")
        ctx.notes.append(f"the {CHAIN_LENGTH:,}-op chain took {seconds:.2f} s")


def diagnose(module, ctx):
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    inner = a * 2.0
    outer = inner.exp()
    root = (inner + outer).sum()
    order = [id(t) for t in module.topological_order(root)]
    if id(inner) in order and id(outer) in order and order.index(id(outer)) < order.index(id(inner)):
        return VISITED_ON_PUSH
    b = tg.tensor([1.0, 2.0], requires_grad=True)
    module.backward((b * b).sum())
    if b.grad is not None and b.grad.tolist() == [1.0, 2.0]:
        return NO_ACCUMULATE
    c = tg.tensor([1.0, 2.0], requires_grad=True)
    module.backward((c * 3.0).exp().sum())
    if c.grad is None:
        return NOT_REVERSED
    return None


EXERCISE = Exercise(
    number=6, slug="backward_walk", title="The backward walk", lesson=2,
    task="topological_order(root) without recursion, and backward(root) along it",
    steps=[Step("topological_order is a valid order of the graph", orders),
           Step("backward gives the engine's gradients", gradients),
           Step(f"a chain of {CHAIN_LENGTH:,} ops", deep_chain)],
    hint="depth-first with an explicit stack of (tensor, parents_done) pairs; append a tensor once its "
         "parents are done; then walk the list backwards, adding each input's gradient",
    diagnose=diagnose)
