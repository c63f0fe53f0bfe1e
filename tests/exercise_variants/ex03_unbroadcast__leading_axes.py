def sum_to_shape(grad, shape):
    axes = tuple(d for d, size in enumerate(shape) if size == 1 and grad.shape[d] != 1)   # no leading axes
    summed = grad.sum(axes, keepdim=True) if axes else grad
    return summed.reshape(shape)
