"""How the project's objects show themselves in Jupyter: drawn with Rich, handed over as HTML and text.

IPython asks an object for ``_repr_mimebundle_()`` and shows the richest kind its front end can: a
notebook shows ``text/html``, a terminal IPython ``text/plain``. Tensors, trace events, tapes and the
summary table answer with the same drawing the terminal shows (the coloured grid, the step's panel,
the table), as HTML in a ``<pre>`` block, as Rich's own Jupyter output looks; their text is the
plain drawing (a Tensor keeps its PyTorch-style ``repr``).

    mimebundle(renderable, plain=None)    {"text/html": ..., "text/plain": ...}
    html(renderable)                      the HTML alone (pages of a notebook browser)

The width is the one Rich uses where the code runs (115 columns in a notebook, the terminal's width
in IPython), or ``width`` when given. Rich is imported only when something is drawn.
"""
from __future__ import annotations

import io

__all__ = ["render", "html", "mimebundle", "tensor_view"]

# As Rich's own Jupyter output: preformatted, scrolling sideways rather than wrapping.
PRE = ('<pre style="white-space:pre;overflow-x:auto;line-height:normal;'
       "font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace\">{code}</pre>")


def _width(width: int | None) -> int:
    if width is not None:
        return width
    from rich import get_console

    return get_console().width


def render(renderable, width: int | None = None) -> tuple[str, str]:
    """``renderable`` drawn at ``width`` columns: (HTML with inline colours, plain text)."""
    from rich.console import Console

    console = Console(width=_width(width), record=True, file=io.StringIO(), force_terminal=True,
                      force_jupyter=False, color_system="truecolor", legacy_windows=False, highlight=False)
    console.print(renderable)
    text = console.export_text(clear=False)
    return console.export_html(inline_styles=True, code_format=PRE), text


def html(renderable, width: int | None = None) -> str:
    """``renderable`` as HTML (a ``<pre>`` block with inline colours)."""
    return render(renderable, width)[0]


def mimebundle(renderable, plain: str | None = None, include=None, exclude=None, width: int | None = None) -> dict:
    """What ``_repr_mimebundle_`` returns: the drawing as HTML, and ``plain`` (else the drawing) as text."""
    markup, text = render(renderable, width)
    data = {"text/html": markup, "text/plain": text.rstrip("\n") if plain is None else plain}
    if include:
        data = {kind: value for kind, value in data.items() if kind in include}
    if exclude:
        data = {kind: value for kind, value in data.items() if kind not in exclude}
    return data


def tensor_view(t):
    """A Tensor for a notebook: its shape, dtype and name over the grid of values, then what autograd
    knows (requires grad, or the op that made it) and, after backward, the grid of its gradient."""
    from rich.console import Group
    from rich.text import Text

    from ._format import rich_grid, values_grid
    from .shapes import flatten

    parts = [rich_grid(t)]
    if t.requires_grad:
        made_by = getattr(t, "grad_fn", None)
        parts.append(Text("requires_grad=True" if t.is_leaf or made_by is None
                          else f"grad_fn=<{type(made_by).__name__}>", style="dim"))
    grad = getattr(t, "grad", None)
    if grad is not None:
        values, _ = flatten(grad.tolist())
        parts.append(Text("grad", style="dim"))
        parts.append(values_grid(tuple(grad.shape), values, max_rows=8, max_cols=8))
    return Group(*parts)
