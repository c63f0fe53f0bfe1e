"""The course: every exercise, in lesson order. Each lives in ``checks/exNN_slug.py`` (its checks),
``stubs/exNN_slug.py`` (what the student starts from) and ``solutions/exNN_slug.py`` (a reference)."""
from __future__ import annotations

from .checking import Exercise
from .checks import (ex01_strides, ex02_mul, ex03_exp_log, ex04_unbroadcast, ex05_sum_dim, ex06_backward_walk,
                     ex07_matmul, ex08_relu, ex09_modules, ex10_michael_jordan, ex11_optimizers, ex12_superposition,
                     ex13_silu, ex14_softmax_ce)

EXERCISES: list[Exercise] = [module.EXERCISE for module in (
    ex01_strides, ex02_mul, ex03_exp_log, ex04_unbroadcast, ex05_sum_dim, ex06_backward_walk, ex07_matmul,
    ex08_relu, ex09_modules, ex10_michael_jordan, ex11_optimizers, ex12_superposition, ex13_silu,
    ex14_softmax_ce)]


def find(number: int) -> Exercise:
    """The exercise numbered ``number``; ``KeyError`` with the valid range otherwise."""
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    raise KeyError(f"there is no exercise {number}: the exercises are 1 to {len(EXERCISES)}")
