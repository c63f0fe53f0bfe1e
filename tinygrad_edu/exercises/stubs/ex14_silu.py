"""Exercise 14 · SiLU as a primitive op                                        lesson 10 · Extend it

Write `class SiLU(Function)`: z = x·σ(x) (also called swish), as one primitive op with its own
backward, stated in `formula` and `derivative` so the trace shows it with your tensors' names.

The math
    σ(x) = 1 / (1 + e⁻ˣ)            σ′(x) = σ(x)(1 − σ(x))
    z = x·σ(x)                      two factors depend on x: the product rule
    ∂z/∂x = σ(x) + x·σ′(x) = σ(x)·(1 + x·(1 − σ(x)))
    ∂L/∂x = ∂L/∂z ⊙ σ(x)(1 + x(1 − σ(x)))

How the engine calls it
    forward(ctx, x) gets a backend array: x.sigmoid() is σ(x) (computed without overflow), and *, +, -
    work with numbers too (1.0 - s). backward(ctx, grad) returns ∂L/∂x.

Hints
    - save x in forward (or σ(x), to spare backward the sigmoid).
    - `formula` and `derivative` are str.format templates: {x} and {z} are your op's symbols (the
      names of forward's parameter and of the output); the trace puts the tensors' names in.
    - compare with the composed version x * x.sigmoid(): same numbers, two ops instead of one.

Read    lesson 10, "The op: Softplus" and "Trace it"      tinygrad-edu tutorial extend
Check   tinygrad-edu exercise check 14          (--trace 14 steps through your op)
"""
from tinygrad_edu import Function


class SiLU(Function):
    """x·σ(x): a smooth ReLU whose slope the product rule gives."""
    formula = ""         # yours: "{z} = ..."
    derivative = ""      # yours: "∂L/∂{x} = ..."

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("exercise 14: write SiLU.forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("exercise 14: write SiLU.backward")


if __name__ == "__main__":          # try it: python ex13_silu.py
    import tinygrad_edu as tg
    from tinygrad_edu.testing import gradcheck

    x = tg.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], requires_grad=True)
    print(SiLU.apply(x))                                # expected: x * x.sigmoid()
    print(gradcheck(lambda t: SiLU.apply(t), x))        # expected: True
