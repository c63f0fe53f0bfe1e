"""Exercise 1 · Mul backward, a reference solution.

z = x ⊙ y, so ∂L/∂x = ∂L/∂z ⊙ y and ∂L/∂y = ∂L/∂z ⊙ x.
"""
from tinygrad_edu import Function


class Mul(Function):
    """The elementwise product: each factor's gradient is the other factor."""
    formula = "{z} = {x} ⊙ {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {y};  ∂L/∂{y} = ∂L/∂{z} ⊙ {x}"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x


if __name__ == "__main__":
    import tinygrad_edu as tg

    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    Mul.apply(x, y).sum().backward()
    print(x.grad, y.grad)
