def sum_to_shape(grad, shape):
    shape = tuple(shape)
    lead = len(grad.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + d for d, size in enumerate(shape)
                                      if size == 1 and grad.shape[lead + d] != 1)
    if not axes:
        return grad
    count = 1
    for a in axes:
        count *= grad.shape[a]
    return (grad.sum(axes, keepdim=True) / count).reshape(shape)
