def row_major_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def permuted(shape, strides, order):
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return tuple(shape[d] for d in inverse), tuple(strides[d] for d in inverse)
