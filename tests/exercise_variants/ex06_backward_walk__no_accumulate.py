"""Replaces a gradient instead of adding to it."""
import tinygrad_edu as tg


def topological_order(root) -> list:
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, parents_done = stack.pop()
        if parents_done:                    # all its parents are in the order: now it may follow them
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))             # visited when expanded, not when pushed
        stack.append((tensor, True))
        fn = tensor.grad_fn
        for parent in (fn.parents if fn is not None else ()):
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def backward(root) -> None:
    grads = {id(root): root.data * 0.0 + 1.0}          # ∂L/∂root = 1
    for tensor in reversed(topological_order(root)):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        fn = tensor.grad_fn
        if fn is None:                                  # a leaf keeps its gradient
            tensor.grad = tg.Tensor(grad) if tensor.grad is None else tg.Tensor(tensor.grad.data + grad)
            continue
        input_grads = fn.backward(fn, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, parent_grad in zip(fn.parents, input_grads):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = parent_grad


if __name__ == "__main__":
    w = tg.tensor(-3.0, requires_grad=True)
    x = tg.tensor(2.0, requires_grad=True)
    b = tg.tensor(10.0, requires_grad=True)
    u = w * x + b
    L = u * u
    print(len(topological_order(L)))
    backward(L)
    print(w.grad, x.grad, b.grad)
