def sum_to_shape(grad, shape):
    lead = len(grad.shape) - len(shape)
    summed = grad.sum(tuple(range(lead))) if lead else grad     # the leading axes only
    return summed.reshape(shape)
