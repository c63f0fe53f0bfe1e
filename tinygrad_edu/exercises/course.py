"""The course: every exercise, in lesson order. Each lives in ``checks/exNN_slug.py`` (its checks),
``stubs/exNN_slug.py`` (what the student starts from) and ``solutions/exNN_slug.py`` (a reference)."""
from __future__ import annotations

from .checking import Exercise
from .checks import (ex01_mul, ex02_exp_log, ex03_unbroadcast, ex04_sum_dim, ex05_matmul, ex06_backward_walk, ex07_relu,
                     ex08_modules, ex09_michael_jordan, ex10_optimizers, ex11_superposition, ex12_softmax_ce,
                     ex13_strides, ex14_silu)

EXERCISES: list[Exercise] = [module.EXERCISE for module in (
    ex01_mul, ex02_exp_log, ex03_unbroadcast, ex04_sum_dim, ex05_matmul, ex06_backward_walk, ex07_relu, ex08_modules,
    ex09_michael_jordan, ex10_optimizers, ex11_superposition, ex12_softmax_ce, ex13_strides, ex14_silu)]


def find(number: int) -> Exercise:
    """The exercise numbered ``number``; ``KeyError`` with the valid range otherwise."""
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    raise KeyError(f"there is no exercise {number}: the exercises are 1 to {len(EXERCISES)}")
