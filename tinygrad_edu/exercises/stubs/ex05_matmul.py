"""Exercise 5 · MatMul backward                                     lesson 2 · Autograd from scratch

Write `class MatMul(Function)`: the matrix product Z = X @ Y of an (n, k) and a (k, m) matrix, and its
backward. Every Linear layer is one of these.

The math
    Z[i, j] = Σₜ X[i, t] · Y[t, j]
    X[i, t] meets Y[t, j] once for every column j, so ∂L/∂X[i, t] = Σⱼ ∂L/∂Z[i, j] · Y[t, j]:
        ∂L/∂X = ∂L/∂Z @ Yᵀ          ∂L/∂Y = Xᵀ @ ∂L/∂Z
    The shapes alone find them: ∂L/∂X must be (n, k), and from ∂L/∂Z (n, m) and Y (k, m) the only
    product of that shape is (n, m) @ (m, k). No need to remember anything else.

How the engine calls it
    forward(ctx, X, Y) gets backend arrays: X.matmul(Y) multiplies, A.permute((1, 0)) is Aᵀ (a view).
    backward(ctx, grad) gets grad = ∂L/∂Z, shape (n, m), and returns (∂L/∂X, ∂L/∂Y).

Hints
    - save X and Y in forward.
    - with square matrices a forgotten transpose still gives the right shape and the wrong numbers:
      the check tries rectangular ones too.
    - {Y:T} in `derivative` is "the transpose of Y" (the trace writes Wᵀ, or W for a W.T).

Read    lesson 2, "The gradient of a matrix product" (tinygrad-edu tutorial autograd);
        lesson 1, "Matrix products: rows meet columns"
Check   tinygrad-edu exercise check 5           (--trace 5 steps through your op)
"""
from tinygrad_edu import Function


class MatMul(Function):
    """The matrix product; each entry of X meets one row of Y per output column."""
    formula = "{Z} = {X} @ {Y}"
    derivative = ""      # yours: "∂L/∂{X} = ...;  ∂L/∂{Y} = ..."

    @staticmethod
    def forward(ctx, X, Y):
        raise NotImplementedError("exercise 5: write MatMul.forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("exercise 5: write MatMul.backward")


if __name__ == "__main__":          # try it: python ex07_matmul.py
    import tinygrad_edu as tg

    X = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    W = tg.tensor([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]], requires_grad=True)
    MatMul.apply(X, W).sum().backward()
    print(X.grad)                   # expected: [[1, -0.5, 2], [1, -0.5, 2]] (row sums of W, per row)
    print(W.grad)                   # expected: [[5, 5], [7, 7], [9, 9]] (column sums of X)
