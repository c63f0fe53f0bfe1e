"""Exercise 5 · MatMul backward: the shapes say where the transposes go."""
from __future__ import annotations

import tinygrad_edu as tg

from ..checking import Exercise
from ._ops import op_steps, probe, tensor_cases

SHAPES = ("match the shapes: ∂L/∂X must have X's shape (n, k), and from ∂L/∂Z (n, m) and Y (k, m) the only "
          "product with that shape is ∂L/∂Z @ Yᵀ; likewise ∂L/∂Y (k, m) = Xᵀ @ ∂L/∂Z. Transpose an array "
          "with a.permute((1, 0))")
TRANSPOSE_X = ("∂L/∂X = ∂L/∂Z @ Yᵀ: you forgot the transpose of Y (with square matrices the shapes still "
               "fit, the values do not)")
TRANSPOSE_Y = ("∂L/∂Y = Xᵀ @ ∂L/∂Z: you forgot the transpose of X (with square matrices the shapes still "
               "fit, the values do not)")


def _smoke():
    return [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[1.0, 0.5, -1.0, 2.0], [0.0, 1.0, 1.0, -0.5],
                                                  [2.0, -1.0, 0.5, 1.0]]], {}


def _cases():
    from hypothesis import strategies as st
    sides = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
    return tensor_cases(("X", "Y"), sides.map(lambda s: ((s[0], s[1]), (s[1], s[2]))))


def _matmul(a, b):
    return [[sum(a[i][t] * b[t][j] for t in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


def _transpose(a):
    return [list(row) for row in zip(*a)]


def diagnose(module, ctx):
    X, Y, G = [[1.0, 2.0], [3.0, 4.0]], [[0.5, -1.0], [2.0, 1.5]], [[1.0, -2.0], [0.5, 3.0]]
    try:
        _, (dX, dY) = probe(module.MatMul, [X, Y], grad=G)
    except Exception:
        return SHAPES
    if dX != _matmul(G, _transpose(Y)) and dX in (_matmul(G, Y), _matmul(Y, G), _matmul(_transpose(Y), G)):
        return TRANSPOSE_X
    if dY != _matmul(_transpose(X), G) and dY in (_matmul(X, G), _matmul(G, X), _matmul(G, _transpose(X))):
        return TRANSPOSE_Y
    try:
        values, _ = _smoke()
        _, (dX, dY) = probe(module.MatMul, values)
    except Exception:
        return SHAPES
    if len(dX) != 2 or len(dX[0]) != 3 or len(dY) != 3 or len(dY[0]) != 4:
        return SHAPES
    return None


def trace(module):
    X = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True).named("X")
    W = tg.tensor([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]], requires_grad=True).named("W")
    Z = module.MatMul.apply(X, W).named("Z")
    return Z.sum().named("L")


EXERCISE = Exercise(
    number=5, slug="matmul", title="MatMul backward", lesson=2,
    task="class MatMul(Function): Z = X @ Y for matrices, the transposes found by shape",
    steps=op_steps("MatMul", ("X", "Y"), smoke=_smoke, cases=_cases, reference=lambda X, Y: X @ Y),
    hint="∂L/∂X = ∂L/∂Z @ Yᵀ and ∂L/∂Y = Xᵀ @ ∂L/∂Z: write down the shapes and there is only one way to "
         "combine them",
    diagnose=diagnose, trace=trace)
