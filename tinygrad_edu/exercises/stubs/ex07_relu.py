"""Exercise 7 · ReLU and the kink                                           lesson 3 · The MLP block

Write `class ReLU(Function)`: z = max(x, 0) elementwise, and its backward. The MLP's neurons are ReLUs:
a neuron passes its value on only when it is positive.

The math
    z = max(x, 0)        ∂z/∂x = 1 where x > 0, 0 where x < 0
    At x = 0 there is a kink and no derivative; the convention (here and in PyTorch) is relu'(0) = 0.
        ∂L/∂x = ∂L/∂z ⊙ [x > 0]            ([x > 0] is 1 where x > 0, else 0)

How the engine calls it
    forward(ctx, x) gets a backend array (x.relu() computes it); backward(ctx, grad) returns ∂L/∂x.
    A comparison of arrays, (x > 0), is an array of booleans; grad * (x > 0) multiplies by 0 and 1.

Hints
    - save x in forward.
    - [x > 0], not [x >= 0]: the check tries x = 0 exactly.
    - gradcheck cannot judge the kink (its central differences straddle it), so the property tests keep
      away from 0 by a margin (strategies.nonzero_floats) and one exact test pins relu'(0).

Read    lesson 3, "ReLU: keep the positive answers"   tinygrad-edu tutorial mlp
Check   tinygrad-edu exercise check 7           (--trace 7 steps through your op)
"""
from tinygrad_edu import Function


class ReLU(Function):
    """The neuron's gate: passes positive values, blocks the rest."""
    formula = "{z} = max({x}, 0)"
    derivative = ""      # yours: "∂L/∂{x} = ..."

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("exercise 7: write ReLU.forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("exercise 7: write ReLU.backward")


if __name__ == "__main__":          # try it: python ex08_relu.py
    import tinygrad_edu as tg

    x = tg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    ReLU.apply(x).sum().backward()
    print(x.grad)                   # expected: tensor([0., 0., 1.])
