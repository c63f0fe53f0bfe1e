"""Exercise 3 · Sum a broadcast gradient back, a reference solution."""


def sum_to_shape(grad, shape: tuple):
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    lead = len(grad.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + d for d, size in enumerate(shape)
                                      if size == 1 and grad.shape[lead + d] != 1)
    summed = grad.sum(axes, keepdim=True) if axes else grad
    return summed.reshape(shape)


if __name__ == "__main__":
    import tinygrad_edu as tg

    grad = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).data
    print(sum_to_shape(grad, (3,)).tolist())
    print(sum_to_shape(grad, (2, 1)).tolist())
