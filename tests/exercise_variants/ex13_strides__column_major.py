def row_major_strides(shape):
    strides, step = [], 1
    for size in shape:               # the first axis moving fastest
        strides.append(step)
        step *= size
    return tuple(strides)


def permuted(shape, strides, order):
    return tuple(shape[d] for d in order), tuple(strides[d] for d in order)
