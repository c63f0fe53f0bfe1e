"""Exercise 4 · Sum over a dim backward, a reference solution."""
from tinygrad_edu import Function


class Sum(Function):
    """A sum over one axis: each summed element receives the whole gradient."""
    formula = "{z} = Σ {x} over axis {dim}"
    derivative = "∂L/∂{x} = ∂L/∂{z} repeated along axis {dim}"

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        return x.sum((dim,), keepdim)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:      # put the summed axis back, with size 1
            grad = grad.reshape(ctx.shape[:ctx.dim] + (1,) + ctx.shape[ctx.dim + 1:])
        return grad.expand(ctx.shape)


if __name__ == "__main__":
    import tinygrad_edu as tg

    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    z = Sum.apply(x, dim=1, keepdim=False)
    print(z)
    (z * tg.tensor([1.0, -2.0])).sum().backward()
    print(x.grad)
