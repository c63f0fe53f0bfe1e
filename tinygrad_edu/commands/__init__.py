"""The subcommands of ``tinygrad-edu``: one module each, with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> exit code``."""
from __future__ import annotations


def console(args=None, **kwargs):
    """A Rich console for a command: ``--width`` when the command has it; plain text when not a terminal."""
    from rich.console import Console
    width = getattr(args, "width", None) if args is not None else None
    if width:
        kwargs.setdefault("width", width)
    return Console(**kwargs)
