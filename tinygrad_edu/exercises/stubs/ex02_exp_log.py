"""Exercise 2 · Exp and Log backward                                lesson 2 · Autograd from scratch

Write `class Exp(Function)` and `class Log(Function)`: forward and backward of z = eˣ and z = ln x.

The math
    z = eˣ      ∂z/∂x = eˣ = z       (the exponential is its own derivative)
    z = ln x    ∂z/∂x = 1/x          (defined for x > 0; steep near 0)
    so  Exp: ∂L/∂x = ∂L/∂z ⊙ z      Log: ∂L/∂x = ∂L/∂z / x

How the engine calls it
    forward(ctx, x) gets a backend array (x.exp() and x.log() compute elementwise) and returns one;
    backward(ctx, grad) gets grad = ∂L/∂z and returns ∂L/∂x (one input: a single array is fine).

Hints
    - Exp: the derivative is the output, so save z (not x) and spare backward a second exp.
    - Log: save x; the gradient is grad divided by it.
    - `derivative` states the math for the trace, e.g. "∂L/∂{x} = ...", with {z} for the output.

Read    lesson 2, "Reading ops.py" (tinygrad-edu tutorial autograd); tinygrad_edu/ops.py has the
        framework's own versions: try first!
Check   tinygrad-edu exercise check 2           (--trace 2 steps through log(exp(x)))
"""
from tinygrad_edu import Function


class Exp(Function):
    """The exponential, its own derivative."""
    formula = "{z} = exp({x})"
    derivative = ""      # yours: "∂L/∂{x} = ..."

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("exercise 2: write Exp.forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("exercise 2: write Exp.backward")


class Log(Function):
    """The natural logarithm."""
    formula = "{z} = log({x})"
    derivative = ""      # yours: "∂L/∂{x} = ..."

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("exercise 2: write Log.forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("exercise 2: write Log.backward")


if __name__ == "__main__":          # try it: python ex03_exp_log.py
    import tinygrad_edu as tg

    x = tg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    Log.apply(Exp.apply(x)).sum().backward()
    print(x.grad)                   # log(exp(x)) = x, so expected: tensor([1., 1., 1.])
