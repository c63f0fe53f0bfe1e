from tinygrad_edu import Function


class SiLU(Function):
    formula = "{z} = {x} ⊙ σ({x})"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ σ({x})"

    @staticmethod
    def forward(ctx, x):
        s = x.sigmoid()
        ctx.save_for_backward(s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        s, = ctx.saved_tensors
        return grad * s                  # only one factor's derivative
