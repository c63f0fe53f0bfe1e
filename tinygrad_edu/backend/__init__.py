"""Backends: where the numbers live and the kernels that touch them.

A backend is a module with an ``Array`` class (the storage and its kernels, see ``python.py``) and
the creation functions ``from_flat``, ``full``, ``arange``, ``cat``. ``ops.py`` and ``tensor.py`` call
only that interface, so the pure-Python backend and the NumPy one are interchangeable.

Choose one with ``set_backend("numpy")``, ``with use_backend("numpy"): ...`` or the environment
variable ``TINYGRAD_EDU_BACKEND``. New tensors are made on the current backend.
"""
from __future__ import annotations

import importlib
import os
import sys

NAMES = ("python", "numpy")
_current = None


def load(name: str):
    """The backend module called ``name``; a clear error for an unknown or uninstallable one."""
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(NAMES)}")
    if name == "numpy":
        try:
            import numpy  # noqa: F401
        except ImportError:
            raise ImportError('the numpy backend needs NumPy: pip install "tinygrad-edu[numpy]"') from None
    return importlib.import_module(f"{__name__}.{name}")


def get_backend():
    """The current backend module (``.name`` says which)."""
    global _current
    if _current is None:
        _current = load(os.environ.get("TINYGRAD_EDU_BACKEND", "python") or "python")
    return _current


class set_backend:
    """Make ``name`` the backend for new tensors. Also a context manager that restores the previous one."""

    def __init__(self, name: str):
        global _current
        self.previous = get_backend()
        _current = load(name)

    def __enter__(self):
        return _current

    def __exit__(self, *exc):
        global _current
        _current = self.previous
        return False


def use_backend(name: str):
    """``with use_backend("numpy"):`` new tensors inside the block live on NumPy."""
    return set_backend(name)


def backend_of(array):
    """The backend module an array belongs to (its class is defined there)."""
    return sys.modules[type(array).__module__]
