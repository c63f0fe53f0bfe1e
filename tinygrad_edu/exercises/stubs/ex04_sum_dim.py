"""Exercise 4 · Sum over a dim backward                             lesson 2 · Autograd from scratch

Write `class Sum(Function)`: z = the sum of x over one axis `dim`, with `keepdim` as in PyTorch, and its
backward. It is called as Sum.apply(x, dim=1, keepdim=False).

The math
    z[i] = Σⱼ x[i, j]        (dim = 1 of a matrix)       ∂z[i]/∂x[i, j] = 1
    Every summed element moves the total by exactly as much as itself, so each receives the whole
    gradient of its sum:
        ∂L/∂x[i, j] = ∂L/∂z[i]            ∂L/∂x is ∂L/∂z repeated along the summed axis
    keepdim=True keeps the summed axis with size 1: x (2, 3) -> z (2, 1); keepdim=False drops it: z (2,).

How the engine calls it
    forward(ctx, x, dim, keepdim=False): x is a backend array; dim a non-negative int. The backend's sum
    takes a tuple of axes: x.sum((dim,), keepdim). Keep what backward needs as plain attributes on ctx
    (ctx.shape = x.shape, ctx.dim = dim ...). backward(ctx, grad) returns ∂L/∂x, shaped like x.

Hints
    - with keepdim=False, grad has lost the axis: reshape it to put a 1 back at dim.
    - grad.expand(shape) repeats size-1 axes without copying: that is "every element gets the gradient".
    - `derivative` states the math for the trace; {dim} and {keepdim} may appear in it.

Read    lesson 2, "Reading ops.py" (tinygrad-edu tutorial autograd); lesson 1, "Broadcasting"
Check   tinygrad-edu exercise check 4           (--trace 4 steps through your op)
"""
from tinygrad_edu import Function


class Sum(Function):
    """A sum over one axis: each summed element receives the whole gradient."""
    formula = "{z} = Σ {x} over axis {dim}"
    derivative = ""      # yours: "∂L/∂{x} = ..."

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        raise NotImplementedError("exercise 4: write Sum.forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("exercise 4: write Sum.backward")


if __name__ == "__main__":          # try it: python ex05_sum_dim.py
    import tinygrad_edu as tg

    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    z = Sum.apply(x, dim=1, keepdim=False)
    print(z)                                        # expected: tensor([ 6., 15.])
    (z * tg.tensor([1.0, -2.0])).sum().backward()
    print(x.grad)                                   # expected: [[1, 1, 1], [-2, -2, -2]]
