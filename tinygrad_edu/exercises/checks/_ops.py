"""The checks every op exercise shares: the class, a first call on fixed arrays, values, gradients, formula.

An op exercise is checked the way the framework checks its own ops: the values against the framework's
reference on hypothesis-drawn examples, and the backward pass with ``gradcheck`` (central differences in
float64), on every backend. A drawn example is an `OpCase`: the input tensors and the options.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import tinygrad_edu as tg

from ..checking import (CheckFailed, Context, Step, assert_close, describe_shape, is_array, require_function_class,
                        student_code)

__all__ = ["OpCase", "op_steps", "raw_call", "probe", "tensor_cases"]


@dataclass
class OpCase:
    """One example for an op: its input tensors (named by the op's symbols) and its options."""

    symbols: tuple[str, ...]
    tensors: tuple
    options: dict = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{s} of {describe_shape(t.shape)}" for s, t in zip(self.symbols, self.tensors)]
        parts += [f"{k}={v!r}" for k, v in self.options.items()]
        return ", ".join(parts)


def _name_inputs(message: str, symbols: tuple[str, ...]) -> str:
    """gradcheck says "input 1"; the student knows it as y."""
    return re.sub(r"input (\d+) ", lambda m: f"input {m.group(1)} ({symbols[int(m.group(1))]}) "
                  if int(m.group(1)) < len(symbols) else m.group(0), message)


def raw_call(ctx: Context, op: type, arrays: list, options: dict, grad=None, symbols: tuple[str, ...] = ()):
    """Call ``op.forward`` and ``op.backward`` directly on backend arrays, as the engine does; return
    ``(output, gradients)`` after checking what they return (types, count, shapes)."""
    name = op.__name__
    fn = op()
    fn.needs_input_grad = [True] * len(arrays)
    with student_code(ctx, f"{name}.forward"):
        out = op.forward(fn, *arrays, **options)
    if not is_array(out):
        kind = "a Tensor" if isinstance(out, tg.Tensor) else type(out).__name__
        raise CheckFailed(f"{name}.forward returned {kind}; it must return a backend array (forward gets "
                          f"arrays and computes on them: x * y, x.exp(), x.sum(...) ...)")
    if grad is None:
        grad = out * 0.0 + 1.0
    with student_code(ctx, f"{name}.backward"):
        grads = op.backward(fn, grad)
    if len(arrays) == 1 and not isinstance(grads, tuple):
        grads = (grads,)
    if not isinstance(grads, tuple):
        raise CheckFailed(f"{name}.backward returned {type(grads).__name__}; with {len(arrays)} inputs it "
                          f"must return a tuple of {len(arrays)} gradients, one per input, in order")
    if len(grads) != len(arrays):
        raise CheckFailed(f"{name}.backward returned {len(grads)} gradient(s) for {len(arrays)} input(s): "
                          "return one per input of forward, in order")
    for i, (g, a) in enumerate(zip(grads, arrays)):
        what = f"∂L/∂{symbols[i]} (gradient {i})" if i < len(symbols) else f"gradient {i}"
        if not is_array(g):
            kind = "a Tensor" if isinstance(g, tg.Tensor) else type(g).__name__
            raise CheckFailed(f"{name}.backward returned {kind} as {what}; each gradient must be a "
                              "backend array (compute it from grad and what forward saved)")
        if tuple(g.shape) != tuple(a.shape):
            raise CheckFailed(f"{name}.backward: {what} has {describe_shape(g.shape)}, but that input "
                              f"has {describe_shape(a.shape)}; a gradient has its input's shape")
    return out, grads


def probe(op: type, values: list, options: dict | None = None, grad=None):
    """The student's raw forward/backward on small fixed values (python backend), for diagnoses: returns
    ``(output list, [gradient lists])``; raises whatever the student's code raises."""
    arrays = [tg.tensor(v).data for v in values]
    fn = op()
    fn.needs_input_grad = [True] * len(arrays)
    out = op.forward(fn, *arrays, **(options or {}))
    g = tg.tensor(grad).data if grad is not None else out * 0.0 + 1.0
    grads = op.backward(fn, g)
    grads = grads if isinstance(grads, tuple) else (grads,)
    return out.tolist(), [None if x is None else x.tolist() for x in grads]


def op_steps(name: str, symbols: tuple[str, ...], *, options: tuple[str, ...] = (),
             smoke: Callable[[], tuple[list, dict]], cases: Callable[[], Any],
             reference: Callable[..., Any], apply: Callable[..., Any] | None = None,
             extra: list[Step] | None = None) -> list[Step]:
    """The steps of an op exercise for ``class name(Function)`` with inputs ``symbols``.

    ``smoke()`` gives fixed (nested-list inputs, options) for a first direct call; ``cases()`` a hypothesis
    strategy of `OpCase`s (tensors that require grad); ``reference(*tensors, **options)`` the framework's
    value; ``apply(op, *tensors, **options)`` how the op is called (default ``op.apply``); ``extra`` steps
    run after the gradient check (an exact convention such as relu'(0) = 0).
    """
    apply = apply or (lambda op, *tensors, **opts: op.apply(*tensors, **opts))

    def has_class(module, ctx):
        require_function_class(module, name)

    def first_call(module, ctx):
        op = require_function_class(module, name)
        values, opts = smoke()
        with tg.use_backend("python"):
            raw_call(ctx, op, [tg.tensor(v).data for v in values], opts, symbols=symbols)

    def values_match(module, ctx):
        from ..checking import for_examples
        op = require_function_class(module, name)

        def test(case: OpCase, backend: str):
            with student_code(ctx, f"{name}.forward"):
                out = apply(op, *case.tensors, **case.options)
            if not isinstance(out, tg.Tensor):
                raise CheckFailed(f"{name}.apply returned {type(out).__name__}, expected a Tensor")
            with tg.no_grad():
                expected = reference(*case.tensors, **case.options)
            assert_close(out, expected, f"{name}.forward's value",
                         context=f"{case.describe()}, {backend} backend")

        for_examples(ctx, cases(), test)

    def gradients_match(module, ctx):
        from tinygrad_edu.testing import GradcheckError, gradcheck

        from ..checking import for_examples
        op = require_function_class(module, name)

        def test(case: OpCase, backend: str):
            def fn(*tensors):
                return apply(op, *tensors, **case.options)
            with student_code(ctx, f"{name}.backward"):
                try:
                    gradcheck(fn, *case.tensors)
                except GradcheckError as error:
                    raise CheckFailed(f"{name}.backward is wrong for {case.describe()} on the {backend} "
                                      f"backend: {_name_inputs(str(error), case.symbols)}") from None

        for_examples(ctx, cases(), test)

    def statement(module, ctx):
        from ..checking import check_statement
        check_statement(require_function_class(module, name), symbols, options)

    return ([Step(f"class {name}(Function)", has_class, structural=True),
             Step("forward and backward return arrays of the right shapes", first_call),
             Step("values equal the framework's", values_match),
             Step("gradcheck on hypothesis examples", gradients_match)]
            + list(extra or [])
            + [Step("formula and derivative stated", statement)])


def tensor_cases(symbols: tuple[str, ...], shapes, elements=None):
    """A strategy of `OpCase`s: ``shapes`` draws one shape per symbol, ``elements`` the values (default
    floats in [-3, 3]); the tensors require grad and are sometimes laid out non-contiguously."""
    from hypothesis import strategies as st

    from tinygrad_edu.testing import strategies as tgst

    @st.composite
    def draw_case(draw):
        drawn = draw(shapes)
        tensors = tuple(draw(tgst.tensors(shape, elements, requires_grad=True)) for shape in drawn)
        return OpCase(symbols, tensors)

    return draw_case()
