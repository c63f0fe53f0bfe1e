"""Exercise 12 · A stable softmax and cross-entropy                    lesson 8 · A mini transformer

Write three functions from Tensor ops (no Function, no backward: the primitives bring the gradients):
    softmax(x, dim=-1)              probabilities along dim: positive, summing to 1
    log_softmax(x, dim=-1)          their logarithms, computed without taking the log of a tiny number
    cross_entropy(logits, targets)  the mean of −log p(target) over a batch: the transformer's loss

The math
    softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ)
    The same value for x − c, for any c: subtracting m = max x changes nothing but the numbers' size.
    Without it, e¹⁰⁰⁰ = inf in float64 and inf / inf = nan.
    log softmax(x)ᵢ = (xᵢ − m) − log Σⱼ exp(xⱼ − m)         (log of softmax would be log 0 = −inf for
                                                            a logit 1000 below the largest)
    cross_entropy = −(1/N) Σₙ log softmax(logitsₙ)[targetₙ]   logits (N, C), targets (N,) class indices

How it is called
    x and logits are Tensors (float64); dim may be negative (−1: the last axis); targets an int64
    Tensor of class indices. The check compares values and gradients with tinygrad_edu.functional's
    versions on random inputs, then feeds logits of ±1000. Write your own (not F.softmax).

Hints
    - x.max(dim, keepdim=True) and x.sum(dim, keepdim=True) keep the axis, so they broadcast against x.
    - the max may be .detach()ed: the result does not depend on it, so no gradient need flow through it.
    - F.one_hot(targets, C) is 1 at each target: (log_probs * one_hot).sum(1) picks them.

Read    lesson 8 (tinygrad-edu tutorial transformer): the model trains on next-token cross-entropy,
        and attention turns scores into weights with a softmax
Check   tinygrad-edu exercise check 12          (--trace 12 steps through your loss)
"""
import tinygrad_edu as tg
import tinygrad_edu.functional as F


def softmax(x, dim=-1):
    raise NotImplementedError("exercise 12: write softmax")


def log_softmax(x, dim=-1):
    raise NotImplementedError("exercise 12: write log_softmax")


def cross_entropy(logits, targets):
    raise NotImplementedError("exercise 12: write cross_entropy")


if __name__ == "__main__":          # try it: python ex14_softmax_ce.py
    x = tg.tensor([[1000.0, 0.0, -1000.0]])
    print(softmax(x))               # expected: tensor([[1., 0., 0.]])
    print(log_softmax(x))           # expected: tensor([[    0., -1000., -2000.]])
    print(cross_entropy(x, tg.tensor([1])))     # expected: tensor(1000.)
