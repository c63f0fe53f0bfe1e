"""Trace: record every forward op, backward op and parameter update, and show them with Rich.

    from tinygrad_edu import trace
    with trace.record(directions=dirs) as tape:
        loss = model(x).sum()
        loss.backward()
    trace.show(tape)              # every step, as Rich panels
    console.print(trace.panel(tape[0]))   # one step
    trace.browse(tape)            # in a notebook: one step at a time, with next and back buttons
    tape.graph()                  # the computation graph: a picture in a notebook, .svg(), .dot(), .save(path)
    trace.save_json(tape, "trace.json")   # the whole trace as JSON; trace.load_json reads it back

Recording (`record`, `Tape`, the events) needs only the standard library; drawing needs Rich, which
is imported the first time something is drawn.
"""

from .events import BackwardEvent, Event, ForwardEvent, Snapshot, UpdateEvent
from .recorder import Tape, record

__all__ = ["record", "Tape", "Event", "ForwardEvent", "BackwardEvent", "UpdateEvent", "Snapshot", "show", "panel",
           "browse", "save_json", "load_json"]


def show(tape, console=None, phase=None) -> None:
    """Print every event of ``tape`` (or of a list of events; or only one ``phase``'s) to a Rich console."""
    from .render import print_tape

    print_tape(tape, console=console, phase=phase)


def panel(event):
    """One event as a Rich panel: ``console.print(trace.panel(event))``."""
    from .render import render_event

    return render_event(event)


def browse(source, graph=None, summary=None, widgets=None, width=None):
    """Step through ``source`` (a tape, events or Rich renderables) in a notebook: next and back buttons
    where ipywidgets is installed, else a list of folded pages (see `tinygrad_edu.trace.pages`)."""
    from .pages import browse as make

    return make(source, graph=graph, summary=summary, widgets=widgets, width=width)


def save_json(tape, path):
    """Write the whole trace to ``path`` as JSON (the schema is in `tinygrad_edu.trace.jsonfile`)."""
    from .jsonfile import save_json as save

    return save(tape, path)


def load_json(source) -> Tape:
    """Read a trace written by `save_json` (or ``tinygrad-edu trace --save FILE.json``) back into a Tape."""
    from .jsonfile import load_json as load

    return load(source)
