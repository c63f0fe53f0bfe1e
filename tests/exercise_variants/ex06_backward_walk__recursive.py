import tinygrad_edu as tg

def topological_order(root):
    order, seen = [], set()
    def visit(t):
        if id(t) in seen:
            return
        seen.add(id(t))
        if t.grad_fn is not None:
            for p in t.grad_fn.parents:
                if p.requires_grad:
                    visit(p)
        order.append(t)
    visit(root)
    return order

def backward(root):
    grads = {id(root): root.data * 0.0 + 1.0}
    for t in reversed(topological_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t.grad_fn is None:
            t.grad = tg.Tensor(g)
            continue
        gs = t.grad_fn.backward(t.grad_fn, g)
        gs = gs if isinstance(gs, tuple) else (gs,)
        for p, pg in zip(t.grad_fn.parents, gs):
            if pg is not None and p.requires_grad:
                grads[id(p)] = pg if id(p) not in grads else grads[id(p)] + pg
