"""A trace keeps at most so many events: the first ones, whole; the rest are counted, not copied."""
import gc
import textwrap
import tracemalloc

import pytest

import tinygrad_edu as tg
from tinygrad_edu import trace
from tinygrad_edu.cli import main
from tinygrad_edu.trace.recorder import DEFAULT_MAX_EVENTS
from tinygrad_edu.trace.target import load_target, run_target


def training(steps, size=3):
    """A small training loop: per step 2 forward ops (mul, sum), their 2 backward ops, 1 update."""
    w = tg.tensor([[0.5] * size] * size, requires_grad=True).named("w")
    for _ in range(steps):
        loss = (w * w).sum()
        w.grad = None
        loss.backward()
        with tg.no_grad():
            w.data = (w - 0.1 * w.grad).data
    return w


def test_the_first_events_are_kept_whole_and_the_rest_counted():
    with trace.record(max_events=None) as everything:
        training(6)
    with trace.record(max_events=7) as capped:
        training(6)
    assert len(capped) == 7 and capped.seen == len(everything) and capped.dropped == len(everything) - 7
    assert not capped.complete and everything.complete and everything.dropped == 0
    for kept, full in zip(capped, everything):
        assert (kept.phase, kept.op, kept.bound_formula()) == (full.phase, full.op, full.bound_formula())
    assert [e.total for e in capped] == [7] * 7
    assert capped.cap_note() == f"kept the first 7 events of {len(everything)}"
    assert everything.cap_note() is None
    assert f"{capped.dropped} more not kept" in repr(capped)


def test_recording_has_a_default_cap():
    x = tg.tensor([1.0], requires_grad=True)
    with trace.record() as tape:
        for _ in range(DEFAULT_MAX_EVENTS + 5):
            x = x * 1.0
    assert len(tape) == DEFAULT_MAX_EVENTS and tape.dropped == 5


def test_show_says_what_was_left_out():
    from tinygrad_edu.commands.output import offscreen_console

    with trace.record(max_events=3) as tape:
        training(2)
    console = offscreen_console(width=100, colour=False)
    trace.show(tape, console=console)
    text = console.export_text()
    assert text.count("forward ·") + text.count("backward ·") + text.count("update ·") == 3
    assert f"kept the first 3 events of {tape.seen}" in text and "max_events" in text


def kept_bytes(steps, cap):
    """Memory still held by a capped tape after recording ``steps`` steps of 64 × 64 matrices."""
    gc.collect()
    tracemalloc.start()
    with trace.record(max_events=cap) as tape:
        training(steps, size=64)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(tape) == cap
    return held


def test_memory_stays_flat_once_the_cap_is_reached():
    short, long = kept_bytes(4, cap=10), kept_bytes(40, cap=10)
    assert long < short * 1.2       # 10 times the steps, the same events kept


@pytest.mark.parametrize("bad", [-1, 2.5, "many", True])
def test_a_bad_cap_is_refused_naming_the_argument(bad):
    with pytest.raises((TypeError, ValueError), match="max_events"):
        trace.record(max_events=bad).__enter__()


STUDENT_LOOP = '''
import tinygrad_edu as tg


def fit():
    w = tg.tensor([0.5, -0.25], requires_grad=True)
    for step in range(20):
        loss = (w * w).sum()
        w.grad = None
        loss.backward()
        with tg.no_grad():
            w.data = (w - 0.1 * w.grad).data
    return None
'''


@pytest.fixture
def student_loop(tmp_path):
    path = tmp_path / "loop.py"
    path.write_text(textwrap.dedent(STUDENT_LOOP), encoding="utf-8")
    return path


def test_the_command_says_what_it_kept_and_how_to_change_it(capsys, student_loop):
    total = len(run_target(load_target(f"{student_loop}:fit"), max_events=None).tape)
    assert total > 9
    assert main(["trace", f"{student_loop}:fit", "--max-events", "9", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert "step 9 of 9" in out and "step 10 " not in out
    flat = " ".join(out.split())
    assert f"kept the first 9 events of {total}; --max-events to change" in flat
    assert main(["trace", f"{student_loop}:fit", "--max-events", "0", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert f"step {total} of {total}" in out and "kept the first" not in out


@pytest.mark.parametrize("value", ["-3", "ten", "1.5"])
def test_a_bad_max_events_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        main(["trace", "--max-events", value])
    assert exit_info.value.code == 2 and "--max-events" in capsys.readouterr().err
