"""Stepping through a trace in a notebook: next and back buttons, or a list of pages.

    trace.browse(tape)        # one step at a time, with buttons, where ipywidgets is installed
                              # otherwise every step as a list of folded pages, the first one open

The pages are the ones ``tinygrad-edu trace`` shows: each step's panel, then the summary table and
the picture of the computation graph. ``browse`` also takes a list of Rich renderables (the demo's
pages, say) with an optional ``graph`` and ``summary``.

With ipywidgets, a `PageBrowser`: the buttons press keys on the same `Stepper` the terminal's
step-through uses (next, back, a step number to jump to, graph, summary), so both behave alike.
Without it, a `PageList`: plain HTML, each page in a ``<details>`` element a click opens, which works
in Jupyter, JupyterLab, VS Code and Colab alike, and needs no JavaScript and no kernel to look at.
"""
from __future__ import annotations

import html as html_text
import importlib.util
from .. import _display
from .events import Event
from .stepper import Stepper

__all__ = ["browse", "PageBrowser", "PageList", "ipywidgets_installed"]


def ipywidgets_installed() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


class _Pages:
    """The pages to show, each with a one-line title, and the extra views (graph, summary)."""

    def __init__(self, source, graph=None, summary=None, width: int | None = None):
        items = list(source)
        self.width = width
        if items and all(isinstance(item, Event) for item in items):
            from .render import render_event, summary_table

            count = len(items)
            self.pages = [render_event(e, position=i, total=count) for i, e in enumerate(items, start=1)]
            self.titles = [f"step {i} of {count} · {e.phase}" + (f" · {e.op}" if e.op != e.phase else "")
                           + f" · {e.headline()}" for i, e in enumerate(items, start=1)]
            if summary is None:
                summary = summary_table(items)
            if graph is None:
                from .picture import ComputationGraph

                graph = ComputationGraph.from_tape(source if hasattr(source, "roots") else items)
        else:
            self.pages = items
            self.titles = [f"page {i} of {len(items)}" for i in range(1, len(items) + 1)]
        self.graph, self.summary = graph, summary
        self._html: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.pages)

    def page_html(self, index: int) -> str:
        if index not in self._html:
            self._html[index] = _display.html(self.pages[index], self.width)
        return self._html[index]

    def view_html(self, what) -> str:
        """The graph (its picture, when it has one) or the summary, as HTML."""
        if what is None:
            return '<p style="color:#777">(none)</p>'
        if hasattr(what, "svg"):
            return f'<div style="overflow-x:auto;max-width:100%">{what.svg()}</div>'
        return _display.html(what, self.width)


class PageList:
    """Every page as a folded section (``<details>``), the first one open; then the summary and the graph.

    Index it for the pages' Rich renderables; a notebook shows it as HTML, a terminal as text.
    """

    def __init__(self, pages: _Pages):
        self._pages = pages

    def __len__(self) -> int:
        return len(self._pages)

    def __getitem__(self, index):
        return self._pages.pages[index]

    def __repr__(self) -> str:
        return f"<PageList of {len(self)} pages>"

    def html(self) -> str:
        parts = ['<div class="tinygrad-edu-pages">']
        for index, title in enumerate(self._pages.titles):
            opened = " open" if index == 0 else ""
            parts.append(f"<details{opened}><summary>{html_text.escape(title)}</summary>"
                         f"{self._pages.page_html(index)}</details>")
        if self._pages.summary is not None:
            parts.append("<details><summary>summary of every step</summary>"
                         f"{self._pages.view_html(self._pages.summary)}</details>")
        if self._pages.graph is not None:
            parts.append("<details><summary>computation graph</summary>"
                         f"{self._pages.view_html(self._pages.graph)}</details>")
        parts.append("</div>")
        return "\n".join(parts)

    def text(self) -> str:
        return "\n".join(_display.render(page, self._pages.width)[1] for page in self._pages.pages)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        data = {"text/html": self.html(), "text/plain": self.text()}
        return {k: v for k, v in data.items() if (not include or k in include) and k not in (exclude or ())}


class PageBrowser:
    """One page at a time with buttons (ipywidgets): ◀ back, next ▶, a step number, graph, summary.

    ``widget`` is the ipywidgets box a notebook shows; ``stepper`` where it is; ``press(key)`` does
    what a key does in the terminal (``"n"``, ``"p"``, ``"g"``, ``"s"``, digits then ``"enter"``).
    """

    def __init__(self, pages: _Pages):
        import ipywidgets as widgets

        self._pages = pages
        self.stepper = Stepper(count=len(pages))
        self.view = widgets.HTML()
        self.status = widgets.HTML()
        self.back = widgets.Button(description="◀ back", tooltip="previous step (p)")
        self.next = widgets.Button(description="next ▶", tooltip="next step (n)")
        self.jump = widgets.BoundedIntText(value=1, min=1, max=max(len(pages), 1), description="step",
                                           layout=widgets.Layout(width="9em"))
        self.graph = widgets.ToggleButton(description="graph", value=False, tooltip="the computation graph (g)")
        self.summary = widgets.ToggleButton(description="summary", value=False, tooltip="every step in a table (s)")
        self.back.on_click(lambda _: self.press("p"))
        self.next.on_click(lambda _: self.press("n"))
        self.jump.observe(self._jumped, names="value")
        self.graph.observe(lambda change: self._toggle("g", "graph", change), names="value")
        self.summary.observe(lambda change: self._toggle("s", "summary", change), names="value")
        self._drawing = False
        self.widget = widgets.VBox([widgets.HBox([self.back, self.next, self.jump, self.graph, self.summary,
                                                  self.status]), self.view])
        self._draw()

    def press(self, key: str) -> None:
        """Apply one key, as the terminal's step-through would, and redraw."""
        self.stepper.press(key)
        self._draw()

    def _jumped(self, change) -> None:
        if self._drawing:
            return
        for digit in str(change["new"]):
            self.stepper.press(digit)
        self.press("enter")

    def _toggle(self, key: str, view: str, change) -> None:
        if self._drawing:
            return
        if bool(change["new"]) != (self.stepper.view == view):
            self.press(key)

    def _draw(self) -> None:
        """Show what the stepper says, and set every control to match (without them firing again)."""
        self._drawing = True
        try:
            stepper = self.stepper
            if not len(self._pages):
                self.view.value = '<p style="color:#777">nothing was recorded</p>'
            elif stepper.view == "graph":
                self.view.value = self._pages.view_html(self._pages.graph)
            elif stepper.view == "summary":
                self.view.value = self._pages.view_html(self._pages.summary)
            else:
                self.view.value = self._pages.page_html(stepper.index)
            on_step = stepper.view == "step"
            self.back.disabled = on_step and stepper.index == 0
            self.next.disabled = on_step and stepper.index >= stepper.count - 1
            self.jump.value = stepper.index + 1
            self.graph.value = stepper.view == "graph"
            self.summary.value = stepper.view == "summary"
            title = self._pages.titles[stepper.index] if len(self._pages) else ""
            message = f' <span style="color:#b58900">{html_text.escape(stepper.message)}</span>' if stepper.message else ""
            self.status.value = (f"<b>{stepper.index + 1}/{max(stepper.count, 1)}</b> "
                                 f"<span style='color:#555'>{html_text.escape(title)}</span>{message}")
        finally:
            self._drawing = False

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"<PageBrowser at page {self.stepper.index + 1} of {self.stepper.count}>"


def browse(source, graph=None, summary=None, widgets: bool | None = None, width: int | None = None):
    """Step through a tape (or a list of events, or of Rich renderables) in a notebook.

    ``widgets``: None uses buttons when ipywidgets is installed, else the list; True or False chooses.
    ``graph`` and ``summary`` replace the views made from the events (the picture and the table).
    ``width``: columns to draw the pages at (default: the notebook's, as Rich sees it).
    """
    pages = _Pages(source, graph=graph, summary=summary, width=width)
    if widgets is None:
        widgets = ipywidgets_installed()
    if widgets:
        return PageBrowser(pages)
    return PageList(pages)
