from tinygrad_edu import Function


class Mul(Function):
    formula = "{z} = {x} ⊙ {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {x};  ∂L/∂{y} = ∂L/∂{z} ⊙ {y}"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * x, grad * y
