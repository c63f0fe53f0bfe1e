"""Exercise 14 · SiLU as a primitive op, a reference solution."""
from tinygrad_edu import Function


class SiLU(Function):
    """x·σ(x): a smooth ReLU whose slope the product rule gives."""
    formula = "{z} = {x} ⊙ σ({x})"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ σ({x})(1 + {x}(1 − σ({x})))"

    @staticmethod
    def forward(ctx, x):
        s = x.sigmoid()
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * s * (x * (1.0 - s) + 1.0)


if __name__ == "__main__":
    import tinygrad_edu as tg
    from tinygrad_edu.testing import gradcheck

    x = tg.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], requires_grad=True)
    print(SiLU.apply(x))
    print(gradcheck(lambda t: SiLU.apply(t), x))
