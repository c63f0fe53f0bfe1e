from tinygrad_edu import Function


class Sum(Function):
    formula = "{z} = Σ {x} over axis {dim}"
    derivative = "∂L/∂{x} = ∂L/∂{z} repeated along axis {dim}"

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        ctx.shape = x.shape
        return x.sum((dim,), keepdim)

    @staticmethod
    def backward(ctx, grad):
        return grad.expand(ctx.shape)          # the summed axis was dropped when keepdim=False
