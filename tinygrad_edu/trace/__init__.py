"""Trace: record every forward op, backward op and parameter update, and show them with Rich.

    from tinygrad_edu import trace
    with trace.record(directions=dirs) as tape:
        loss = model(x).sum()
        loss.backward()
    trace.show(tape)              # every step, as Rich panels

Recording (`record`, `Tape`, the events) needs only the standard library; drawing needs Rich.
"""

from .events import BackwardEvent, Event, ForwardEvent, Snapshot, UpdateEvent
from .recorder import Tape, record

__all__ = ["record", "Tape", "Event", "ForwardEvent", "BackwardEvent", "UpdateEvent", "Snapshot", "show"]


def show(tape, console=None, phase=None) -> None:
    """Print every event of ``tape`` (or only those of one ``phase``) to a Rich console."""
    from .render import print_tape

    print_tape(tape, console=console, phase=phase)
