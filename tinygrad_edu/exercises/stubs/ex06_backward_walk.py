"""Exercise 6 · The backward walk                                   lesson 2 · Autograd from scratch

Write what `loss.backward()` does, on the engine's own graph:
    topological_order(root) -> list     every tensor root depends on, each once, inputs before outputs
    backward(root)                      the chain rule along that order, filling each leaf's .grad

The graph
    A tensor made by an op has t.grad_fn (the op's instance, called ctx in ops.py); a leaf has None.
    t.grad_fn.parents are the op's input tensors. Only tensors with t.requires_grad are part of the
    walk: a constant (the 2.0 in a * 2.0) gets no gradient, leave it out.

The math
    Visit the tensors so that each comes after everything it was computed from (a topological order),
    then go through that list backwards, root first, with ∂L/∂root = 1:
        for each tensor t (made by fn) with gradient g = ∂L/∂t:
            input_grads = fn.backward(fn, g)     # one per parent, backend arrays (None: no gradient)
            ∂L/∂parent += input_grad             # += : a tensor used twice gets both contributions
    A leaf (grad_fn None) keeps its gradient: leaf.grad = tg.Tensor(g).

Requirements
    - No recursion: a chain of 100,000 ops must work, and Python stops at about 1,000 nested calls.
      Keep the tensors still to visit on a list of your own (a stack of (tensor, parents_done) pairs).
    - Mark a tensor visited when you expand it (push its parents), not when you push it: in
      L = a + exp(a), a must still come before exp(a).
    - Keep gradients in a dict keyed by id(tensor) (tensors compare elementwise, so `in` on a list of
      them does not do what you want).

Hints
    - ∂L/∂root = 1: root.data * 0.0 + 1.0 is a backend array of ones in root's shape.
    - fn.backward may return one array instead of a tuple when the op has one input: wrap it.
    - the check's graphs use no broadcasting, so a gradient already has its parent's shape.

Read    lesson 2, "A whole autograd in thirty lines" and "Reading Function.apply"
        (tinygrad-edu tutorial autograd)
Check   tinygrad-edu exercise check 6
"""
import tinygrad_edu as tg


def topological_order(root) -> list:
    raise NotImplementedError("exercise 6: write topological_order")


def backward(root) -> None:
    raise NotImplementedError("exercise 6: write backward")


if __name__ == "__main__":          # try it: python ex06_backward_walk.py
    w = tg.tensor(-3.0, requires_grad=True)
    x = tg.tensor(2.0, requires_grad=True)
    b = tg.tensor(10.0, requires_grad=True)
    u = w * x + b
    L = u * u                           # u is used twice
    print(len(topological_order(L)))    # expected: 6 (w, x, b, w·x, u, L; each once)
    backward(L)
    print(w.grad, x.grad, b.grad)       # expected: tensor(16.) tensor(-24.) tensor(8.)
