from tinygrad_edu import Function


class Exp(Function):
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
    formula = "{z} = log({x})"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {x}"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.log()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x
