"""The subcommands of ``tinygrad-edu``: one module each, with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> exit code``.

Every command prints through ``args.output`` (see `output.py`): one console per run, and the file
that ``--export FILE`` keeps (``demo`` and ``trace`` also spell it ``--save FILE``, their
``EXPORT_FLAGS``). Argument types shared by several commands live here.
"""
from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a bad one is a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value
