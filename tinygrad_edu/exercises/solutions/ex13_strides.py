"""Exercise 13 · Strides and permuted views, a reference solution."""


def row_major_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def permuted(shape: tuple, strides: tuple, order: tuple) -> tuple:
    return tuple(shape[d] for d in order), tuple(strides[d] for d in order)


if __name__ == "__main__":
    print(row_major_strides((2, 3, 4)))
    print(permuted((2, 3, 4), (12, 4, 1), (2, 0, 1)))
