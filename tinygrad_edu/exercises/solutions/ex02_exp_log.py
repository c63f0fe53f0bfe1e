"""Exercise 2 · Exp and Log backward, a reference solution.

Exp: ∂L/∂x = ∂L/∂z ⊙ z (z = eˣ is saved).  Log: ∂L/∂x = ∂L/∂z / x.
"""
from tinygrad_edu import Function


class Exp(Function):
    """The exponential, its own derivative."""
    formula = "{z} = exp({x})"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {z}"

    @staticmethod
    def forward(ctx, x):
        z = x.exp()
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        z, = ctx.saved_tensors
        return grad * z


class Log(Function):
    """The natural logarithm."""
    formula = "{z} = log({x})"
    derivative = "∂L/∂{x} = ∂L/∂{z} / {x}"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.log()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


if __name__ == "__main__":
    import tinygrad_edu as tg

    x = tg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    Log.apply(Exp.apply(x)).sum().backward()
    print(x.grad)
