"""Jupyter: the lessons as notebooks, and live progress in a notebook without ipywidgets.

Lessons as notebooks
    lesson_notebook(lesson)         a lesson as notebook JSON (nbformat 4.5): its text as Markdown cells,
                                    each ```python block as a code cell, in the order of the lesson
    write_notebook(lesson, path)    the same, written to a file (``tinygrad-edu tutorial N --notebook OUT``)

The notebook is written here, with the standard library; it needs no Jupyter package. A lesson's
```output blocks are what its code prints, so they are left out: running the cells shows it.

Progress in a notebook
    jupyter_progress(progress)      a Rich Progress, or, in a notebook without ipywidgets, a stand-in that
                                    redraws the same bar in one output through IPython's display handles

Rich draws a live progress bar in Jupyter only through ipywidgets; without it, it warns "install
ipywidgets for Jupyter support" and shows nothing until the end. The stand-in needs only IPython,
which every Jupyter kernel has.
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

__all__ = ["lesson_notebook", "write_notebook", "jupyter_progress", "NotebookProgress", "NBFORMAT", "NBFORMAT_MINOR"]

NBFORMAT, NBFORMAT_MINOR = 4, 5


# ================================================================================================
# Lessons as notebooks
# ================================================================================================

def _source(text: str) -> list:
    """Cell source as notebooks store it: a list of lines, each but the last ending in a newline."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def _markdown(text: str, index: int) -> dict:
    return {"cell_type": "markdown", "id": f"lesson-text-{index}", "metadata": {}, "source": _source(text)}


def _code(code: str, index: int) -> dict:
    return {"cell_type": "code", "id": f"lesson-code-{index}", "metadata": {}, "execution_count": None,
            "outputs": [], "source": _source(code)}


def lesson_notebook(lesson) -> dict:
    """The lesson (a `tinygrad_edu.tutorials.Lesson`) as a notebook: Markdown and code cells in order."""
    import platform

    cells = []
    for index, block in enumerate(lesson.blocks, 1):
        if block.prose.strip():
            cells.append(_markdown(block.prose, index))
        cells.append(_code(block.code, index))
    closing = lesson.closing
    if closing.strip():
        cells.append(_markdown(closing, len(lesson.blocks) + 1))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": platform.python_version()},
            "tinygrad_edu": {"lesson": lesson.number, "source": lesson.path.name},
        },
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }


def write_notebook(lesson, path) -> Path:
    """Write the lesson's notebook to ``path`` (.ipynb); returns the path."""
    path = Path(path)
    text = json.dumps(lesson_notebook(lesson), indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


# ================================================================================================
# Progress in a notebook
# ================================================================================================

def _ipywidgets_installed() -> bool:
    import importlib.util
    return importlib.util.find_spec("ipywidgets") is not None


def jupyter_progress(progress):
    """``progress`` itself, unless its console is a notebook's and ipywidgets is missing: then a
    `NotebookProgress` around it, which shows the bar without ipywidgets."""
    console = progress.console
    if getattr(console, "is_jupyter", False) and not progress.disable and not _ipywidgets_installed():
        return NotebookProgress(progress)
    return progress


class NotebookProgress:
    """The bars of a Rich ``Progress``, drawn into one notebook output that is updated in place.

    Has the part of Progress's interface a training loop uses (start, add_task, update, advance,
    stop; also a context manager). The tasks are kept by the wrapped Progress, whose own live display
    is never started; every ``interval`` seconds, and at the start and the end, the bars are rendered
    as text and HTML and sent to the output through IPython's display handle.
    """

    def __init__(self, progress, interval: float = 0.2):
        self.progress = progress
        self.interval = float(interval)
        self.handle = None
        self._last = 0.0

    # -- the Progress interface ---------------------------------------------------------------------
    def start(self) -> None:
        from IPython.display import display
        if self.handle is None:
            self.handle = display(self._bundle(), raw=True, display_id=True)

    def add_task(self, description: str, **kwargs):
        task = self.progress.add_task(description, **kwargs)
        self.refresh(force=True)
        return task

    def update(self, task_id, **kwargs) -> None:
        self.progress.update(task_id, **kwargs)
        self.refresh()

    def advance(self, task_id, advance: float = 1) -> None:
        self.progress.advance(task_id, advance)
        self.refresh()

    def stop(self) -> None:
        self.refresh(force=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    @property
    def tasks(self):
        return self.progress.tasks

    # -- drawing -------------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        if self.handle is None:
            self.start()
        now = time.monotonic()
        done = all(task.finished for task in self.progress.tasks)
        if force or done or now - self._last >= self.interval:
            self._last = now
            self.handle.update(self._bundle(), raw=True)

    def _bundle(self) -> dict:
        """{"text/plain": ..., "text/html": ...} of the bars as they are now."""
        from rich.console import Console

        width = self.progress.console.width
        console = Console(file=io.StringIO(), record=True, width=width, force_terminal=True, force_jupyter=False,
                          color_system="truecolor", legacy_windows=False)
        console.print(self.progress.get_renderable())
        text = console.export_text(clear=False).rstrip("\n")
        html = console.export_html(inline_styles=True, code_format=_HTML)
        return {"text/plain": text, "text/html": html}


_HTML = ('<pre style="white-space:pre;overflow-x:auto;line-height:normal;'
         'font-family:Menlo,\'DejaVu Sans Mono\',consolas,\'Courier New\',monospace">{code}</pre>')
