"""Exercise 13 · Strides and permuted views                             lesson 9 · Strides and views

Write two functions about how a tensor finds its numbers in its flat storage:
    row_major_strides(shape) -> strides            the strides of a fresh (contiguous) tensor
    permuted(shape, strides, order) -> (shape, strides)   the view t.permute(order), without moving data

The math
    Element t[i₀, i₁, …, iₖ] sits at storage[offset + i₀·s₀ + i₁·s₁ + … + iₖ·sₖ]; s are the strides.
    Row-major (C order): the last axis moves fastest.
        sₖ = 1,   sⱼ = sⱼ₊₁ · shape[j + 1]             e.g. shape (2, 3, 4) -> strides (12, 4, 1)
    A permute makes axis k of the view axis order[k] of the original:
        new_shape[k] = shape[order[k]],   new_strides[k] = strides[order[k]]
    No number moves: only the shape and strides change. A 0-d tensor (shape ()) has strides ().

Hints
    - build the strides from the right: start with 1 and multiply by each size as you move left.
    - check yourself: tg.zeros(2, 3, 4).strides() and tg.zeros(2, 3, 4).permute(2, 0, 1).strides().

Read    lesson 9, "Strides: how a shape finds its numbers" and "A transpose moves no data"
        (tinygrad-edu tutorial strides)
Check   tinygrad-edu exercise check 13
"""


def row_major_strides(shape: tuple) -> tuple:
    raise NotImplementedError("exercise 13: write row_major_strides")


def permuted(shape: tuple, strides: tuple, order: tuple) -> tuple:
    raise NotImplementedError("exercise 13: write permuted")


if __name__ == "__main__":          # try it: python ex01_strides.py
    print(row_major_strides((2, 3, 4)))                        # expected: (12, 4, 1)
    print(permuted((2, 3, 4), (12, 4, 1), (2, 0, 1)))          # expected: ((4, 2, 3), (1, 12, 4))
