"""Exercise 7 · ReLU and the kink, a reference solution: ∂L/∂x = ∂L/∂z ⊙ [x > 0], so relu'(0) = 0."""
from tinygrad_edu import Function


class ReLU(Function):
    """The neuron's gate: passes positive values, blocks the rest."""
    formula = "{z} = max({x}, 0)"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ [{x} > 0]"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (x > 0)


if __name__ == "__main__":
    import tinygrad_edu as tg

    x = tg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    ReLU.apply(x).sum().backward()
    print(x.grad)
