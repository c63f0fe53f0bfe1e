"""Exercise 3 · Sum a broadcast gradient back                       lesson 2 · Autograd from scratch

Write `sum_to_shape(grad, shape)`: the gradient of an input that broadcasting stretched, from the
gradient of the op's output. The engine does this once for every op; here you write it.

The math
    A bias b of shape (3,) added to a batch of shape (2, 3) is used once per row:
        z[i, j] = x[i, j] + b[j]    so    ∂L/∂b[j] = Σᵢ ∂L/∂z[i, j]
    In general, line the shapes up from the right. The gradient (shaped like the output) is summed
      - over the leading axes the input does not have (broadcasting added them), and
      - over every axis where the input has size 1 and the output does not (it was stretched),
    and the result is reshaped to the input's shape. Examples, for grad of shape (2, 3):
        shape (3,)   -> sum over axis 0                     [[1, 2, 3], [4, 5, 6]] -> [5, 7, 9]
        shape (2, 1) -> sum over axis 1, keeping it         -> [[6], [15]]
        shape (2, 3) -> nothing to do

How it is called
    grad is a backend array (the kind forward and backward get): grad.shape, grad.sum(axes, keepdim=True)
    with a tuple of axes, grad.reshape(shape). Return a backend array of the given shape.

Hints
    - lead = len(grad.shape) - len(shape) axes were added in front: sum them all.
    - an axis d of the input (d from 0) lines up with axis lead + d of grad.
    - summing with keepdim=True keeps every axis, so one reshape at the end gives the input's shape.

Read    lesson 2, "Two rules: reuse adds, broadcasting sums" (tinygrad-edu tutorial autograd);
        lesson 1, "Broadcasting: one bias for every row"
Check   tinygrad-edu exercise check 3
"""


def sum_to_shape(grad, shape: tuple):
    raise NotImplementedError("exercise 3: write sum_to_shape")


if __name__ == "__main__":          # try it: python ex04_unbroadcast.py
    import tinygrad_edu as tg

    grad = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).data
    print(sum_to_shape(grad, (3,)).tolist())       # expected: [5.0, 7.0, 9.0]
    print(sum_to_shape(grad, (2, 1)).tolist())     # expected: [[6.0], [15.0]]
