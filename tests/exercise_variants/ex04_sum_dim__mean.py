from tinygrad_edu import Function


class Sum(Function):
    formula = "{z} = Σ {x} over axis {dim}"
    derivative = "∂L/∂{x} = ∂L/∂{z} / n along axis {dim}"

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        return x.sum((dim,), keepdim)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = grad.reshape(ctx.shape[:ctx.dim] + (1,) + ctx.shape[ctx.dim + 1:])
        return grad.expand(ctx.shape) / ctx.shape[ctx.dim]
