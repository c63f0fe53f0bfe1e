"""Exercise 1 · Mul backward                                        lesson 2 · Autograd from scratch

Write `class Mul(Function)`: the elementwise product z = x ⊙ y, its forward and its backward.

The math
    z = x ⊙ y               each element zᵢ = xᵢ · yᵢ (x and y broadcast together as NumPy does)
    ∂zᵢ/∂xᵢ = yᵢ            ∂zᵢ/∂yᵢ = xᵢ
    so for a loss L, by the chain rule ∂L/∂x = ∂L/∂z · ∂z/∂x:
        ∂L/∂x = ∂L/∂z ⊙ y    ∂L/∂y = ∂L/∂z ⊙ x

How the engine calls it
    forward(ctx, x, y) gets backend arrays (not Tensors: use *, +, x.exp() ... on them) and returns one.
    backward(ctx, grad) gets grad = ∂L/∂z, shaped like z, and returns (∂L/∂x, ∂L/∂y), one per input.
    The engine sums each gradient back to its input's shape, so broadcasting is not your concern here.

Hints
    - forward keeps what backward needs with ctx.save_for_backward(x, y); backward reads ctx.saved_tensors.
    - each input's gradient is the OTHER input times grad.
    - `derivative` states the same math for the trace, one clause per input, written like `formula`:
      "∂L/∂{x} = ...;  ∂L/∂{y} = ...".

Read    lesson 2, "Reading ops.py"                 tinygrad-edu tutorial autograd
Check   tinygrad-edu exercise check 1           (--trace 1 steps through your op)
"""
from tinygrad_edu import Function


class Mul(Function):
    """The elementwise product: each factor's gradient is the other factor."""
    formula = "{z} = {x} ⊙ {y}"
    derivative = ""      # yours: "∂L/∂{x} = ...;  ∂L/∂{y} = ..."

    @staticmethod
    def forward(ctx, x, y):
        raise NotImplementedError("exercise 1: write Mul.forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("exercise 1: write Mul.backward")


if __name__ == "__main__":          # try it: python ex02_mul.py
    import tinygrad_edu as tg

    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    Mul.apply(x, y).sum().backward()
    print(x.grad, y.grad)           # expected: tensor([4., 5., 6.]) tensor([1., 2., 3.])
