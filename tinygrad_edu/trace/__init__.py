"""Trace: record every forward op, backward op and parameter update, and show them with Rich.

    from tinygrad_edu import trace
    with trace.record(directions=dirs) as tape:
        loss = model(x).sum()
        loss.backward()
    trace.show(tape)              # every step, as Rich panels
    console.print(trace.panel(tape[0]))   # one step

Recording (`record`, `Tape`, the events) needs only the standard library; drawing needs Rich, which
is imported the first time something is drawn.
"""

from .events import BackwardEvent, Event, ForwardEvent, Snapshot, UpdateEvent
from .recorder import Tape, record

__all__ = ["record", "Tape", "Event", "ForwardEvent", "BackwardEvent", "UpdateEvent", "Snapshot", "show", "panel"]


def show(tape, console=None, phase=None) -> None:
    """Print every event of ``tape`` (or of a list of events; or only one ``phase``'s) to a Rich console."""
    from .render import print_tape

    print_tape(tape, console=console, phase=phase)


def panel(event):
    """One event as a Rich panel: ``console.print(trace.panel(event))``."""
    from .render import render_event

    return render_event(event)
