"""tinygrad_edu: a small autograd framework for learning how a transformer's MLP block stores a fact.

    import tinygrad_edu as tg
    x = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward()
    x.grad            # tensor([[2., 4.]])
"""
from . import autograd, functional, ops
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .backend import get_backend as _get_backend_module
from .backend import set_backend, use_backend
from .errors import ShapeError
from .tensor import (Generator, Tensor, arange, bool_, cat, eye, float64, full, full_like, int64, manual_seed,
                     ones, ones_like, rand, rand_like, randn, randn_like, stack, tensor, uniform, where, zeros,
                     zeros_like)
from .jit import jit   # tg.jit(step): capture and replay (the function hides its module's name, as tensor does)

__version__ = "0.1.0"


def get_backend() -> str:
    """The name of the current backend ("python" or "numpy")."""
    return _get_backend_module().name


def __getattr__(name):
    # nn, optim, trace, save/load are imported on first use, so `import tinygrad_edu` stays light.
    import importlib
    if name in ("nn", "optim", "trace", "testing", "directions"):
        return importlib.import_module(f"{__name__}.{name}")
    if name in ("save", "load"):
        return getattr(importlib.import_module(f"{__name__}.serialization"), name)
    raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")
