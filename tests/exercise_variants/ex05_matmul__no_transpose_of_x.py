from tinygrad_edu import Function


class MatMul(Function):
    formula = "{Z} = {X} @ {Y}"
    derivative = "∂L/∂{X} = ∂L/∂{Z} @ {Y:T};  ∂L/∂{Y} = {X} @ ∂L/∂{Z}"

    @staticmethod
    def forward(ctx, X, Y):
        ctx.save_for_backward(X, Y)
        return X.matmul(Y)

    @staticmethod
    def backward(ctx, grad):
        X, Y = ctx.saved_tensors
        return grad.matmul(Y.permute((1, 0))), X.matmul(grad)      # forgot the transpose of X
