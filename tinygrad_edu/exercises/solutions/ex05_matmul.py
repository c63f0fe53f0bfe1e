"""Exercise 5 · MatMul backward, a reference solution: ∂L/∂X = ∂L/∂Z @ Yᵀ, ∂L/∂Y = Xᵀ @ ∂L/∂Z."""
from tinygrad_edu import Function


class MatMul(Function):
    """The matrix product; each entry of X meets one row of Y per output column."""
    formula = "{Z} = {X} @ {Y}"
    derivative = "∂L/∂{X} = ∂L/∂{Z} @ {Y:T};  ∂L/∂{Y} = {X:T} @ ∂L/∂{Z}"

    @staticmethod
    def forward(ctx, X, Y):
        ctx.save_for_backward(X, Y)
        return X.matmul(Y)

    @staticmethod
    def backward(ctx, grad):
        X, Y = ctx.saved_tensors
        return grad.matmul(Y.permute((1, 0))), X.permute((1, 0)).matmul(grad)


if __name__ == "__main__":
    import tinygrad_edu as tg

    X = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    W = tg.tensor([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]], requires_grad=True)
    MatMul.apply(X, W).sum().backward()
    print(X.grad)
    print(W.grad)
