from tinygrad_edu import Function


class ReLU(Function):
    formula = "{z} = max({x}, 0)"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ [{x} > 0]"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return (x > 0) * 1.0                     # forgot grad
