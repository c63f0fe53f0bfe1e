"""The primitive ops: each one a value and its derivative, side by side.

Read this file top to bottom as the chain rule. For an op ``z = f(x, y)`` and a loss ``L``,
``backward`` receives ``∂L/∂z`` (called ``grad``, shaped like ``z``) and returns ``∂L/∂x`` and ``∂L/∂y``:

    ∂L/∂x = ∂L/∂z · ∂z/∂x

Each op states its math once, in two class attributes: ``formula`` (the value) and ``derivative`` (one
clause ``∂L/∂{input} = ...`` per input, separated by ";"). Their ``{fields}`` are the op's symbols: the
output's left of "=", the inputs' named after ``forward``'s parameters (options such as ``{exponent}``
too), so a trace can put the tensors' own names in. ``{Y:T}`` means "the transpose of Y". The
docstrings say, in words, why the derivative is what it is.

``forward`` and ``backward`` work on backend arrays (lists or NumPy arrays behind one interface:
``+ - * /``, ``exp``, ``sum``, ``matmul``, views ...), never on Tensors, so nothing here is recorded twice.
The array kernels broadcast as NumPy does, so ``grad * y`` already has the output's shape; ``autograd``
sums each gradient back to its input's shape, so no op below has to think about broadcasting.

Everything else (``mean``, ``softmax``, ``layer_norm`` ...) is composed from these in ``tensor.py`` and
``functional.py`` and gets its gradient for free.
"""
from __future__ import annotations

import math

from .autograd import Function
from .backend import backend_of
from .shapes import stretched_axes

# ================================================================================================
# Elementwise, one input
# ================================================================================================


class Neg(Function):
    """Negation: the gradient comes back with its sign flipped."""
    formula = "{z} = −{x}"
    derivative = "∂L/∂{x} = −∂L/∂{z}"

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """The exponential is its own derivative, so the output is saved and no second exp is needed."""
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
    """The natural logarithm; its slope 1/x is steep near 0."""
    formula = "{z} = log({x})"
    derivative = "∂L/∂{x} = ∂L/∂{z} / {x}"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.log()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """The square root; its slope 1/(2√x) is written with the saved output, so no second root."""
    formula = "{z} = √{x}"
    derivative = "∂L/∂{x} = ∂L/∂{z} / (2{z})"

    @staticmethod
    def forward(ctx, x):
        z = x.sqrt()
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        z, = ctx.saved_tensors
        return grad / (z * 2.0)


class Abs(Function):
    """The absolute value. At the kink x = 0 the slope is taken as 0, the middle of [−1, 1]."""
    formula = "{z} = |{x}|"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ sign({x})"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.abs()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.sign()


class ReLU(Function):
    """The MLP's gate: a neuron passes its value on only when it is positive, and only then does its
    gradient flow back (relu'(0) = 0). A nan stays nan and, as in PyTorch, passes its gradient on: only
    x ≤ 0 stops it."""
    formula = "{z} = max({x}, 0)"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ [{x} > 0]"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return (x <= 0).where(0.0, grad)


class Tanh(Function):
    """The hyperbolic tangent; its slope is written with the saved output."""
    formula = "{z} = tanh({x})"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ (1 − {z}²)"

    @staticmethod
    def forward(ctx, x):
        z = x.tanh()
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        z, = ctx.saved_tensors
        return grad * (1.0 - z * z)


class Sigmoid(Function):
    """The logistic function, squashing any number into (0, 1); the kernel never overflows, even for
    x = ±1000. Its slope is written with the saved output."""
    formula = "{z} = 1 / (1 + exp(−{x}))"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {z} ⊙ (1 − {z})"

    @staticmethod
    def forward(ctx, x):
        z = x.sigmoid()
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        z, = ctx.saved_tensors
        return grad * z * (1.0 - z)


class GELU(Function):
    """GPT-2's GELU (the tanh approximation): a smooth ReLU, close to 0 for x ≪ 0 and to x for x ≫ 0.
    Its derivative is the product rule on the formula; forward saves the tanh, so backward does not redo it."""
    formula = "{z} = ½{x}(1 + t),  t = tanh(√(2/π)({x} + 0.044715{x}³))"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ (½(1 + t) + ½{x}(1 − t²)·√(2/π)(1 + 3·0.044715{x}²))"

    SCALE, CUBIC = math.sqrt(2.0 / math.pi), 0.044715

    @staticmethod
    def forward(ctx, x):
        t = ((x + x * x * x * GELU.CUBIC) * GELU.SCALE).tanh()
        ctx.save_for_backward(x, t)
        return x * (t + 1.0) * 0.5

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        inner_slope = (x * x * (3 * GELU.CUBIC) + 1.0) * GELU.SCALE     # of √(2/π)(x + 0.044715x³)
        return grad * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * inner_slope * 0.5)


class PowConst(Function):
    """A power with a constant exponent (``Pow`` below takes a tensor one). The value is IEEE ``pow`` on
    both backends: (−2)² = 4, 0⁰ = 1, (−0)⁻¹ = −∞, (−1e308)³ = −∞, a negative base to a fractional power nan.

    For the exponent 0 the gradient is 0 everywhere, also at x = 0 where 0·x⁻¹ would be nan (as PyTorch).
    One deliberate difference: PyTorch computes x ** 0.5 and x ** −0.5 as √x and 1/√x, so at x = −0 it
    gives −0 and −∞ where IEEE ``pow`` (and this op) gives 0 and ∞."""
    formula = "{z} = {x} ** {exponent}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {exponent}·{x} ** ({exponent} − 1)"

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return x ** exponent

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        if ctx.exponent == 0:
            return backend_of(grad).full(grad.shape, 0.0)
        return grad * (x ** (ctx.exponent - 1) * ctx.exponent)


class Pow(Function):
    """A power with a tensor exponent (or a number base: ``2 ** t``), IEEE ``pow`` as ``PowConst``:
    (−2) ** 3 = −8 needs no logarithm. Towards x the slope is y·x^(y−1) (0 where y = 0, as PyTorch);
    towards y it is z·ln x, which is nan for a negative base (there the power is only defined at integer
    y) and 0 at x = 0 for y ≥ 0 (the power stays 0 or 1 there), as in PyTorch."""
    formula = "{z} = {x} ** {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {y}·{x} ** ({y} − 1);  ∂L/∂{y} = ∂L/∂{z} ⊙ {z}·log({x})"

    @staticmethod
    def forward(ctx, x, y):
        z = x ** y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved_tensors
        dx = dy = None
        if ctx.needs_input_grad[0]:
            dx = (y == 0).where(0.0, grad * (x ** (y - 1.0) * y))
        if ctx.needs_input_grad[1]:
            flat_at_zero = (x == 0) * (y >= 0)
            dy = flat_at_zero.where(0.0, grad * (z * x.log()))
        return dx, dy


class Clamp(Function):
    """Clipping to [low, high] (either bound may be None: no bound, as −∞ or ∞ would be): the gradient
    passes where x was left alone, including x = low and x = high (as PyTorch), and stops where it was
    clipped. A nan stays nan and gets no gradient. Tensor bounds: ``ClampTensor``."""
    formula = "{z} = min(max({x}, {low}), {high})"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ [{low} ≤ {x} ≤ {high}]"

    @staticmethod
    def forward(ctx, x, low=-math.inf, high=math.inf):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        z = x if low is None else x.maximum(low)
        return z if high is None else z.minimum(high)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        if ctx.low is not None:
            grad = grad * (x >= ctx.low)
        if ctx.high is not None:
            grad = grad * (x <= ctx.high)
        return grad


class ClampTensor(Function):
    """Clipping to bounds that are tensors (broadcast with x): each output element is x, low or high, and
    its gradient goes to the one it was taken from. At x = low or x = high it goes to x, as for ``Clamp``.
    Where low > high every element is high (as PyTorch: min(max(x, low), high)); where low = high the clipped
    elements' gradient goes to neither bound, as in PyTorch. A nan anywhere gives nan and no gradient."""
    formula = "{z} = min(max({x}, {low}), {high})"
    derivative = ("∂L/∂{x} = ∂L/∂{z} ⊙ [{low} ≤ {x} ≤ {high}];  ∂L/∂{low} = ∂L/∂{z} ⊙ [{x} < {low} < {high}];  "
                  "∂L/∂{high} = ∂L/∂{z} ⊙ [{x} > {high} or {high} < {low}]")

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x, low, high)
        return x.maximum(low).minimum(high)

    @staticmethod
    def backward(ctx, grad):
        x, low, high = ctx.saved_tensors
        zero = 0.0
        dx = dlow = dhigh = None
        if ctx.needs_input_grad[0]:
            dx = ((x >= low) * (x <= high)).where(grad, zero)
        if ctx.needs_input_grad[1]:
            dlow = ((x < low) * (low < high)).where(grad, zero)
        if ctx.needs_input_grad[2]:
            dhigh = ((x > high) + (high < low)).where(grad, zero)
        return dx, dlow, dhigh


# ================================================================================================
# Elementwise, two or three inputs (broadcast together as NumPy does)
# ================================================================================================


class Add(Function):
    """Addition passes the gradient to both inputs unchanged. That is why a residual connection
    (x + block(x)) sends gradient straight back to x."""
    formula = "{z} = {x} + {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z};  ∂L/∂{y} = ∂L/∂{z}"

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """Subtraction: the gradient passes to x unchanged and to y with its sign flipped. As in PyTorch, a
    bool tensor on either side is refused (NumPy refuses only two bools): 1 − mask is usually a mask
    meant to be inverted."""
    formula = "{z} = {x} − {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z};  ∂L/∂{y} = −∂L/∂{z}"

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype == "bool" or y.dtype == "bool":
            raise TypeError(f"sub: subtraction with a bool tensor is not supported (dtypes {x.dtype} and "
                            f"{y.dtype}); to invert a mask use mask == False, to subtract numbers convert "
                            "the mask first with .long() or .float()")
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    """Elementwise product: each input's gradient is scaled by the other input."""
    formula = "{z} = {x} ⊙ {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {y};  ∂L/∂{y} = ∂L/∂{z} ⊙ {x}"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return (grad * y if ctx.needs_input_grad[0] else None,
                grad * x if ctx.needs_input_grad[1] else None)


class Div(Function):
    """Elementwise quotient: 1/y for the numerator, −x/y² for the denominator. The latter is computed as
    −(x/y)/y = −z/y, as PyTorch does: y² alone would underflow to 0 or overflow to ∞ for |y| beyond about
    1e±154 (x = y = 1e-170 would give −∞ instead of −1e170)."""
    formula = "{z} = {x} / {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z} / {y};  ∂L/∂{y} = −∂L/∂{z} ⊙ {z} / {y}"

    @staticmethod
    def forward(ctx, x, y):
        z = x / y
        ctx.save_for_backward(y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        y, z = ctx.saved_tensors
        return (grad / y if ctx.needs_input_grad[0] else None,
                -(grad * (z / y)) if ctx.needs_input_grad[1] else None)


class Maximum(Function):
    """The elementwise larger value: the gradient goes to the larger input; on a tie each gets half
    (the average of the one-sided derivatives). A nan on either side makes z nan, and then both inputs
    get the whole gradient, as in PyTorch: each loses only where the other one is larger."""
    formula = "{z} = max({x}, {y})"
    derivative = ("∂L/∂{x} = ∂L/∂{z} ⊙ (1 − [{x} < {y}] − ½[{x} = {y}]);  "
                  "∂L/∂{y} = ∂L/∂{z} ⊙ (1 − [{y} < {x}] − ½[{x} = {y}])")

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x.maximum(y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        tie = (x == y) * 0.5
        return grad * (1.0 - ((x < y) + tie)), grad * (1.0 - ((y < x) + tie))


class Minimum(Function):
    """The elementwise smaller value: the gradient goes to the smaller input; on a tie each gets half;
    with a nan on either side both get the whole gradient, as for ``Maximum``."""
    formula = "{z} = min({x}, {y})"
    derivative = ("∂L/∂{x} = ∂L/∂{z} ⊙ (1 − [{x} > {y}] − ½[{x} = {y}]);  "
                  "∂L/∂{y} = ∂L/∂{z} ⊙ (1 − [{y} > {x}] − ½[{x} = {y}])")

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x.minimum(y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        tie = (x == y) * 0.5
        return grad * (1.0 - ((x > y) + tie)), grad * (1.0 - ((y > x) + tie))


class Where(Function):
    """An elementwise choice: each gradient element goes to the input it was taken from. The condition
    is a bool tensor and gets no gradient."""
    formula = "{z} = {x} where {condition} else {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ [{condition}];  ∂L/∂{y} = ∂L/∂{z} ⊙ [not {condition}]"

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save_for_backward(condition)
        return condition.where(x, y)

    @staticmethod
    def backward(ctx, grad):
        condition, = ctx.saved_tensors
        # A plain 0 for the other side (not grad · 0, which is nan where grad is ±∞ or nan).
        return None, condition.where(grad, 0.0), condition.where(0.0, grad)


# ================================================================================================
# Reductions
# ================================================================================================


def _restore_reduced_axes(grad, shape: tuple, dims: tuple, keepdim: bool):
    """Give a reduced gradient back its size-1 axes, so it broadcasts against the input."""
    if keepdim:
        return grad
    return grad.reshape(tuple(1 if d in dims else size for d, size in enumerate(shape)))


class Sum(Function):
    """A sum over the axes ``dims``: every summed element moved the total by exactly as much as itself,
    so each receives the whole gradient."""
    formula = "{z} = Σ {x} over axes {dims}"
    derivative = "∂L/∂{x} = ∂L/∂{z} repeated along axes {dims}"

    @staticmethod
    def forward(ctx, x, dims, keepdim=False):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return x.sum(dims, keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _restore_reduced_axes(grad, ctx.shape, ctx.dims, ctx.keepdim).expand(ctx.shape)


class Max(Function):
    """The largest value over the axes ``dims``: only the elements equal to it moved it, and k tied
    maxima share the gradient evenly (the average of the one-sided derivatives). A nan is the maximum of
    its group (z is nan), and the group's nans share its gradient, as PyTorch's full reduction does.
    (PyTorch's ``max(dim)`` gives a tie's whole gradient to one element; here ties always share.)"""
    formula = "{z} = max {x} over axes {dims}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ [{x} = {z}] / (number of elements equal to {z})"

    @staticmethod
    def forward(ctx, x, dims, keepdim=False):
        z = x.max(dims, keepdim)
        ctx.save_for_backward(x, z)
        ctx.dims, ctx.keepdim = dims, keepdim
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        z = _restore_reduced_axes(z, x.shape, ctx.dims, ctx.keepdim)
        grad = _restore_reduced_axes(grad, x.shape, ctx.dims, ctx.keepdim)
        is_max = ((x == z) + (x != x) * (z != z)) * 1.0       # equal to z, or nan where z is nan
        return grad * is_max / is_max.sum(ctx.dims, keepdim=True)


# ================================================================================================
# Matrix multiplication
# ================================================================================================


class MatMul(Function):
    """The matrix product: each entry of Z is a row of X times a column of Y, with X (…, n, k), Y (…, k, m)
    and Z (…, n, m); the batch axes broadcast. An entry of X meets a row of Y once per output column, and
    an entry of Y a column of X once per output row: hence the transposes in the derivative.

    A 1-D X is a row (1, k) and a 1-D Y a column (k, 1); the added axis is removed from Z again.
    ``autograd`` sums the gradient over broadcast batch axes."""
    formula = "{Z} = {X} @ {Y}"
    derivative = "∂L/∂{X} = ∂L/∂{Z} @ {Y:T};  ∂L/∂{Y} = {X:T} @ ∂L/∂{Z}"

    @staticmethod
    def forward(ctx, X, Y):
        ctx.vectors = X.ndim == 1, Y.ndim == 1
        X = X.reshape((1,) + X.shape) if ctx.vectors[0] else X
        Y = Y.reshape(Y.shape + (1,)) if ctx.vectors[1] else Y
        ctx.save_for_backward(X, Y)
        Z = X.matmul(Y)
        ctx.full_shape = Z.shape
        if ctx.vectors[0]:
            Z = Z.reshape(Z.shape[:-2] + Z.shape[-1:])
        if ctx.vectors[1]:
            Z = Z.reshape(Z.shape[:-1])
        return Z

    @staticmethod
    def backward(ctx, grad):
        X, Y = ctx.saved_tensors
        x_is_vector, y_is_vector = ctx.vectors
        grad = grad.reshape(ctx.full_shape)
        dX = dY = None
        if ctx.needs_input_grad[0]:
            dX = grad.matmul(_swap_last(Y))                     # (…, n, k)
            if x_is_vector:
                dX = dX.reshape(dX.shape[:-2] + dX.shape[-1:])  # drop the added row axis
        if ctx.needs_input_grad[1]:
            dY = _swap_last(X).matmul(grad)                     # (…, k, m)
            if y_is_vector:
                dY = dY.reshape(dY.shape[:-1])                  # drop the added column axis
        return dX, dY


def _swap_last(a):
    """The transpose of the last two axes (a view)."""
    order = tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2)
    return a.permute(order)


# ================================================================================================
# Movement: views of the same storage. Their backward moves the gradient back the same way.
# ================================================================================================


class Reshape(Function):
    """The same elements in row-major order under a new shape; the gradient is reshaped back."""
    formula = "{z} = {x} reshaped to {shape}"
    derivative = "∂L/∂{x} = ∂L/∂{z} reshaped to the shape of {x}"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


class Permute(Function):
    """The axes reordered (a transpose, for two axes); the gradient's axes are put back in the
    inverse order."""
    formula = "{z} = permute({x}, {order})"
    derivative = "∂L/∂{x} = permute(∂L/∂{z}, {order}⁻¹)"

    @staticmethod
    def forward(ctx, x, order):
        ctx.inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        return x.permute(order)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(ctx.inverse)


class Expand(Function):
    """x repeated along new or size-1 axes without a copy (stride 0): each element of x was used once
    per copy, so its gradient is the sum over the copies."""
    formula = "{z} = {x} repeated to {shape}"
    derivative = "∂L/∂{x} = ∂L/∂{z} summed over the axes that were repeated"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.expand(shape)

    @staticmethod
    def backward(ctx, grad):
        axes = stretched_axes(ctx.input_shape, grad.shape)
        return grad.sum(axes, keepdim=True).reshape(ctx.input_shape)


class Contiguous(Function):
    """A row-major copy: the same values, so the gradient passes unchanged."""
    formula = "{z} = {x} copied in row-major order"
    derivative = "∂L/∂{x} = ∂L/∂{z}"

    @staticmethod
    def forward(ctx, x):
        return x.contiguous()

    @staticmethod
    def backward(ctx, grad):
        return grad

class Slice(Function):
    """Basic indexing with ints, slices (any step) and None: a view. Only the elements that were taken
    moved the output, so the gradient is zero everywhere else."""
    formula = "{z} = {x}[{key}]"
    derivative = "∂L/∂{x} = 0, with ∂L/∂{z} written at [{key}]"

    @staticmethod
    def forward(ctx, x, key):
        ctx.input_shape, ctx.key = x.shape, key
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        full = backend_of(grad).full(ctx.input_shape, 0.0)
        full[ctx.key] = grad
        return full


class Take(Function):
    """Rows of x picked along axis 0 (an embedding lookup: one row per index). Each output row's
    gradient goes back to the row it came from; a row picked twice gets both gradients."""
    formula = "{z} = rows {indices} of {x}"
    derivative = "∂L/∂{x} = 0, with row j of ∂L/∂{z} added to row {indices}[j]"

    @staticmethod
    def forward(ctx, x, indices):
        ctx.input_shape, ctx.indices = x.shape, indices
        return x.take(indices)

    @staticmethod
    def backward(ctx, grad):
        zeros = backend_of(grad).full(ctx.input_shape, 0.0)
        return zeros.index_add(ctx.indices, grad)


class Cat(Function):
    """The inputs joined along axis ``dim``: each input's gradient is its own stretch of the output's."""
    formula = "{z} = {xs} joined along axis {dim}"
    derivative = "∂L/∂{xs} = ∂L/∂{z} cut back into the inputs' stretches along axis {dim}"

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.sizes, ctx.dim = [x.shape[dim] for x in xs], dim
        return backend_of(xs[0]).cat(list(xs), dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for size in ctx.sizes:
            key = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(grad[key])
            start += size
        return tuple(grads)


__all__ = [name for name, value in list(globals().items())
           if isinstance(value, type) and issubclass(value, Function) and value is not Function]
