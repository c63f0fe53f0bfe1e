"""tg.jit: a replay gives the eager numbers bit for bit, captures again when shapes change, refuses what
it cannot replay (and says where), keeps the backends as they were, and allocates no graph on replay."""
from __future__ import annotations

import gc
import inspect
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import autograd, optim
from tinygrad_edu.backend import Array as ArrayInterface
from tinygrad_edu.jit import Jit, JitError
from tinygrad_edu.jit import capture as capture_module
from tinygrad_edu.jit.codegen import values_of


def bits(value) -> list:
    """A tensor's (or a list's) numbers as exact hex strings: equal bits, not just close."""
    if isinstance(value, tg.Tensor):
        value = value.tolist()
    if isinstance(value, list):
        return [b for item in value for b in bits(item)]
    return [float(value).hex()]


def mlp_step(batch=4, d_model=8, d_hidden=32, seed=0, lr=0.01, momentum=0.0):
    """The benchmark's step: x + W_down relu(W_up x + b_up) + b_down, MSE, backward, SGD; (step, params)."""
    x = tg.randn(batch, d_model, seed=seed)
    target = tg.randn(batch, d_model, seed=seed + 1)
    w_up = tg.randn(d_hidden, d_model, seed=seed + 2).requires_grad_()
    b_up = tg.randn(d_hidden, seed=seed + 3).requires_grad_()
    w_down = tg.randn(d_model, d_hidden, seed=seed + 4).requires_grad_()
    b_down = tg.randn(d_model, seed=seed + 5).requires_grad_()
    params = [w_up, b_up, w_down, b_down]
    opt = optim.SGD(params, lr=lr, momentum=momentum)

    def step():
        opt.zero_grad()
        h = F.linear(x, w_up, b_up).relu()
        y = x + F.linear(h, w_down, b_down)
        loss = F.mse_loss(y, target)
        loss.backward()
        opt.step()
        return loss

    return step, params


def assert_same_runs(make, calls=6, args=lambda i: ()):
    """``make()`` -> (step, tensors); the eager and the jitted twin give the same bits at every call."""
    eager, eager_tensors = make()
    jitted, jitted_tensors = make()
    jitted = tg.jit(jitted)
    for i in range(calls):
        a, b = eager(*args(i)), jitted(*args(i))
        assert bits(a) == bits(b), f"call {i + 1}: {a} != {b}"
        for p, q in zip(eager_tensors, jitted_tensors):
            assert bits(p) == bits(q), f"call {i + 1}: the parameters differ"
            assert (p.grad is None) == (q.grad is None)
            if p.grad is not None:
                assert bits(p.grad) == bits(q.grad), f"call {i + 1}: the gradients differ"
    return jitted


# ---- the same numbers ------------------------------------------------------------------------------
@given(batch=st.integers(1, 5), d_model=st.integers(1, 6), d_hidden=st.integers(1, 9), seed=st.integers(0, 99),
       momentum=st.sampled_from([0.0, 0.9]))
def test_the_mlp_step_replays_bit_for_bit_on_both_backends(batch, d_model, d_hidden, seed, momentum):
    for backend in ("python", "numpy") if _has_numpy() else ("python",):
        with tg.use_backend(backend):
            step = assert_same_runs(lambda: mlp_step(batch, d_model, d_hidden, seed, momentum=momentum), calls=6)
            assert step.replays >= 2, f"{backend}: {step!r}"


def test_replay_skips_tensors_apply_and_the_graph_walk(backend, monkeypatch):
    step, _ = mlp_step()
    step = tg.jit(step)
    for _ in range(3):
        step()
    calls = []
    monkeypatch.setattr(autograd.Function, "apply", classmethod(lambda cls, *a, **k: calls.append(cls)))
    monkeypatch.setattr(autograd, "run_backward", lambda *a, **k: calls.append("backward"))
    loss = step()
    assert step.replays >= 2 and calls == []
    assert loss._ctx is None and not loss.requires_grad


def test_replay_memory_stays_flat_over_a_thousand_steps(backend):
    step, params = mlp_step(batch=2, d_model=3, d_hidden=4)
    step = tg.jit(step)
    for _ in range(20):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(100):
            step()
        gc.collect()
        after_100, _ = tracemalloc.get_traced_memory()
        for _ in range(1000):
            step()
        gc.collect()
        after_1100, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert step.replays >= 1100
    assert after_1100 - after_100 < 4096, f"grew by {after_1100 - after_100} bytes over 1000 replays"


def test_a_new_shape_is_captured_anew_and_the_old_program_is_kept(backend):
    def make():
        w = tg.randn(3, 4, seed=1).requires_grad_()
        opt = optim.SGD([w], lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = ((x @ w.T).tanh() ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return step, [w]

    xs = {2: tg.randn(2, 4, seed=5), 6: tg.randn(6, 4, seed=6)}
    sizes = [2, 2, 2, 2, 6, 6, 6, 6, 2, 2]
    step = assert_same_runs(make, calls=len(sizes), args=lambda i: (xs[sizes[i]],))
    assert len(step.programs) == 2
    assert step.replays == 2 + 2 + 2


def test_a_new_dtype_is_captured_anew(backend):
    step = tg.jit(lambda x: (x * 3 + 1).sum())
    ints, floats = tg.tensor([[1, 2], [3, 4]]), tg.tensor([[1.5, 2.0], [3.0, -4.0]])
    for _ in range(3):
        assert step(ints).item() == 34 and step(ints).dtype == "int64"
        assert step(floats).item() == 11.5
    assert len(step.programs) == 2


def test_a_number_argument_is_part_of_the_signature(backend):
    step = tg.jit(lambda x, scale: (x * scale).sum())
    x = tg.tensor([1.0, 2.0])
    for scale in (2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 2.0):
        assert step(x, scale).item() == 3 * scale
    assert len(step.programs) == 2


def test_returned_structures_and_tensors_that_live_on(backend):
    w = tg.tensor([1.0, -2.0], requires_grad=True)

    def step(x):
        y = (x * w).relu()
        return {"y": y, "pair": (y.sum(), w), "note": "fixed"}

    step = tg.jit(step)
    for value in (1.0, 2.0, 3.0, -1.0):
        out = step(tg.tensor([value, value]))
        assert out["y"].tolist() == [max(value, 0.0), max(-2 * value, 0.0)]
        assert out["pair"][1] is w and out["note"] == "fixed"
    assert step.replays == 2


def test_gradients_that_accumulate_across_calls_replay_too(backend):
    def make():
        w = tg.tensor([0.5, -1.5, 2.0], requires_grad=True)

        def step():
            loss = (w * w * w).sum()       # no zero_grad: .grad adds up call after call
            loss.backward()
            return loss
        return step, [w]

    step = assert_same_runs(make, calls=6)
    assert step.replays == 3        # call 1 has no .grad to add to yet: calls 2 and 3 are the captures


def test_a_method_can_be_jitted(backend):
    class Model:
        def __init__(self):
            self.w = tg.tensor([1.0, 2.0], requires_grad=True)

        @tg.jit
        def loss(self, x):
            return (x * self.w).sum()

    model = Model()
    x = tg.tensor([3.0, 4.0])
    assert [model.loss(x).item() for _ in range(4)] == [11.0] * 4
    assert model.loss.replays == 2 and isinstance(Model.loss, Jit)


# ---- in-place writes into tensors that live across calls ------------------------------------------
def _in_place(op, w):
    """The update ``w ← w − lr·∇w`` (or a reset) written with one of the in-place methods."""
    if op == "sub_":
        w.sub_(0.1 * w.grad)
    elif op == "-=":
        alias = w
        alias -= 0.1 * w.grad
        assert alias is w
    elif op == "add_ alpha":
        w.add_(w.grad, alpha=-0.1)
    elif op == "mul_ div_":
        w.mul_(0.5).div_(0.25)
    elif op == "copy_":
        w.copy_(w - 0.1 * w.grad)
    elif op == "zero_":
        w.zero_()
    elif op == "fill_":
        w.fill_(0.25)


IN_PLACE_OPS = ["sub_", "-=", "add_ alpha", "mul_ div_", "copy_", "zero_", "fill_"]


def _in_place_step(op, shape, seed, clear="none"):
    def make():
        x = tg.randn(4, shape[0], seed=seed)
        w = tg.randn(*shape, seed=seed + 1).requires_grad_()

        def step(x):
            loss = ((x @ w) ** 2).sum()
            loss.backward()
            with tg.no_grad():
                _in_place(op, w)
            if clear == "none":
                w.grad = None
            else:
                w.zero_grad()
            return loss
        return step, [w], x
    return make


@pytest.mark.parametrize("op", IN_PLACE_OPS)
def test_a_parameter_changed_in_place_is_changed_by_every_replay(backend, op):
    make = _in_place_step(op, (3, 2), seed=0)
    eager, eager_tensors, x = make()
    jitted, jitted_tensors, _ = make()
    jitted = tg.jit(jitted)
    losses = []
    for i in range(6):
        a, b = eager(x), jitted(x)
        assert bits(a) == bits(b), f"{op}, call {i + 1}: loss {a} != {b}"
        assert bits(eager_tensors[0]) == bits(jitted_tensors[0]), f"{op}, call {i + 1}: the parameter differs"
        assert jitted_tensors[0].grad is None
        losses.append(bits(b))
    assert jitted.replays == 4, f"{op}: {jitted!r}"
    if op not in ("zero_", "fill_"):        # a reset gives the same loss from call 2 on; an update does not
        assert losses[3] != losses[4] != losses[5], f"{op}: the replays left the parameter unchanged"


@given(rows=st.integers(1, 4), cols=st.integers(1, 4), seed=st.integers(0, 99),
       op=st.sampled_from(IN_PLACE_OPS), clear=st.sampled_from(["none", "zero_grad"]))
def test_in_place_updates_replay_bit_for_bit_on_both_backends(rows, cols, seed, op, clear):
    for name in ("python", "numpy") if _has_numpy() else ("python",):
        with tg.use_backend(name):
            make = _in_place_step(op, (rows, cols), seed, clear)
            eager, eager_tensors, x = make()
            jitted, jitted_tensors, _ = make()
            jitted = tg.jit(jitted)
            for i in range(5):
                a, b = eager(x), jitted(x)
                assert bits(a) == bits(b), f"{name} {op}, call {i + 1}"
                assert bits(eager_tensors[0]) == bits(jitted_tensors[0]), f"{name} {op}, call {i + 1}"
            assert jitted.replays == 3, f"{name}: {jitted!r}"


def test_an_argument_changed_in_place_is_changed_by_the_replay(backend):
    def step(x):
        total = x.sum()
        x.mul_(2.0).add_(1.0)
        return total

    step = tg.jit(step)
    for start in (1.0, -0.5, 3.25, 0.0, 7.0):
        x = tg.tensor([start, 2 * start])
        assert step(x).item() == 3 * start
        assert x.tolist() == [2 * start + 1.0, 4 * start + 1.0]
    assert step.replays == 3


def test_a_value_computed_before_an_in_place_write_keeps_the_old_numbers(backend):
    def make():
        w = tg.tensor([1.5, -2.0, 0.25])

        def step():
            before = w * 3.0 + 1.0          # an elementwise chain the fuser would like to compute later
            w.sub_(0.5)
            return before * 2.0, w * 1.0
        return step, [w]

    eager, [we] = make()
    jitted, [wj] = make()
    jitted = tg.jit(jitted)
    for i in range(5):
        (a1, a2), (b1, b2) = eager(), jitted()
        assert bits(a1) == bits(b1) and bits(a2) == bits(b2), f"call {i + 1}"
        assert bits(we) == bits(wj)
    assert jitted.replays == 3


def test_reading_a_tensor_that_is_then_changed_in_place_is_reported(backend):
    w = tg.tensor([1.0, 2.0])

    @tg.jit
    def step():
        seen = w.tolist()            # numbers read before the write: a replay would not know the new ones
        w.add_(1.0)
        return seen

    with pytest.raises(JitError, match="tolist\\(\\) reads a tensor the function changes every call"):
        for _ in range(4):
            step()


# ---- what cannot be replayed is said, not baked in -----------------------------------------------------
def test_a_branch_on_a_value_is_reported_with_its_line(backend):
    w = tg.tensor([1.0, 2.0], requires_grad=True)

    @tg.jit
    def step(x):
        loss = (x * w).sum()
        if loss.item() > 0:          # Python decides on a number the step computed
            loss = loss * 2
        return loss

    with pytest.raises(JitError) as error:
        for _ in range(3):
            step(tg.tensor([1.0, 1.0]))
    message = str(error.value)
    assert "item() reads a value the function computed" in message
    assert "if loss.item() > 0" in message and "test_jit.py" in message
    with pytest.raises(JitError):      # and it stays refused: never replayed with one call's choice
        step(tg.tensor([-1.0, -1.0]))


def test_printing_inside_is_a_read(backend):
    @tg.jit
    def step(x):
        y = x * 2
        print(y)
        return y

    with pytest.raises(JitError, match="tolist"):
        for _ in range(3):
            step(tg.tensor([1.0]))


def test_python_that_takes_another_path_between_calls_is_reported(backend):
    counter = {"calls": 0}

    @tg.jit
    def step(x):
        counter["calls"] += 1
        return x.exp() if counter["calls"] % 2 else x.tanh()    # Python state, not a tensor value

    with pytest.raises(JitError, match="another path"):
        for _ in range(4):
            step(tg.tensor([1.0, 2.0]))


def test_random_numbers_drawn_inside_are_reported(backend):
    @tg.jit
    def step(x):
        return F.dropout(x, p=0.5, generator=generator).sum()

    generator = tg.Generator(0)
    with pytest.raises(JitError, match="different numbers"):
        for _ in range(4):
            step(tg.ones(4, 4))


def test_a_number_computed_in_python_that_changes_is_reported(backend):
    calls = [0]

    @tg.jit
    def step(x):
        calls[0] += 1
        return x * (1.0 / calls[0])

    with pytest.raises(JitError, match=r"its number .* became"):
        for _ in range(4):
            step(tg.tensor([1.0]))


def test_a_schedule_stepped_inside_is_reported(backend):
    w = tg.tensor([1.0, -1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    schedule = optim.StepLR(opt, step_size=1, gamma=0.5)

    @tg.jit
    def step():
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        schedule.step()

    with pytest.raises(JitError, match="settings itself"):
        for _ in range(4):
            step()


def test_a_tensor_made_anew_outside_must_be_an_argument(backend):
    holder = {"x": tg.tensor([1.0])}

    @tg.jit
    def step():
        return holder["x"] * 2

    with pytest.raises(JitError, match="passed to it as an argument"):
        for i in range(4):
            holder["x"] = tg.tensor([float(i)])
            step()


def test_reading_a_constant_is_fine_and_checked(backend):
    targets = tg.tensor([0, 2, 1])
    logits = tg.randn(3, 4, seed=0).requires_grad_()

    @tg.jit
    def step():
        logits.grad = None
        loss = F.cross_entropy(logits, targets)     # one_hot reads the targets' values in Python
        loss.backward()
        return loss

    expected = [step().item() for _ in range(4)]
    assert step.replays == 2 and len(set(expected)) == 1
    targets.data = tg.tensor([1, 1, 1]).data           # a different array: the replay's check captures again
    assert step().item() == F.cross_entropy(logits, tg.tensor([1, 1, 1])).item()


# ---- optimizers ------------------------------------------------------------------------------------
def test_adam_replays_up_to_its_update_which_runs_eagerly(backend):
    def make():
        w = tg.randn(4, 3, seed=2).requires_grad_()
        opt = optim.Adam([w], lr=0.05)

        def step():
            opt.zero_grad()
            loss = ((w @ w.T) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return step, [w]

    step = assert_same_runs(make, calls=7)
    assert step.replays >= 3
    [(optimizer, why)] = step._latest.eager_optimizers
    assert isinstance(optimizer, optim.Adam) and "became" in why


def test_an_lr_changed_between_calls_is_followed(backend):
    def make():
        w = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step():
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            opt.step()
            return loss
        make.opts.append(opt)
        return step, [w]

    make.opts = []
    lrs = [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.01]

    def args(i):
        for opt in make.opts:
            opt.lr = lrs[i]
        return ()

    step = assert_same_runs(make, calls=len(lrs), args=args)
    assert step.replays >= 3


def test_momentum_state_is_kept_in_place(backend):
    step = assert_same_runs(lambda: mlp_step(momentum=0.9), calls=8)
    assert step._latest.states and step.replays >= 4


# ---- fusion ------------------------------------------------------------------------------------------
floats = st.one_of(st.floats(-4, 4, allow_nan=False), st.sampled_from([0.0, -0.0, 1e308, -1e308]))


@given(st.lists(floats, min_size=6, max_size=6), st.lists(floats, min_size=3, max_size=3))
def test_fused_loops_give_the_unfused_bits(values, row):
    """Bias add, ReLU, its mask times a gradient, an SGD update, a division: one loop each, the same bits."""
    with tg.use_backend("python"):
        x = tg.tensor(values).reshape(2, 3)
        b = tg.tensor(row)

        def chain(x):
            z = x + b
            h = z.relu()
            masked = h * (z > 0)
            cube = z * z * z                                      # read three times: computed once per element
            branches = tg.where(z > 0.5, cube * 2.0, 1.0 - cube)   # ... but not inside one branch of a where
            return (masked - h * 0.01) / (b - row[0]), -(h.maximum(z) * 2.0), (2.0 - z) * z + branches

        eager = chain(x)
        step = tg.jit(chain)
        for _ in range(3):
            fused = step(x)
        assert step.replays == 1 and step._latest.groups
        for a, c in zip(eager, fused):
            assert bits(a) == bits(c)


def test_the_issue_s_chains_are_fused_and_readable():
    with tg.use_backend("python"):
        step, _ = mlp_step()
        step = tg.jit(step)
        for _ in range(3):
            step()
    ops = [{k.op for k in g.members} for g in step._latest.groups]
    assert {"forward of Add", "forward of ReLU"} in ops                 # bias add + ReLU
    assert {"forward of Add", "backward of ReLU"} in ops                # the ReLU's mask times the gradient
    updates = [o for o in ops if all(op.startswith("update of ") for op in o)]
    assert len(updates) == 4                                            # w − lr·g for each parameter
    assert "for e0, e1 in zip(x0, x1)" in step._latest.source


def test_values_of_reads_any_layout():
    with tg.use_backend("python"):
        t = tg.arange(6).reshape(2, 3).float()
        assert values_of(t.data, (2, 3)) is t.data.storage
        assert values_of(t.T.data, (3, 2)) == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        assert values_of(t[1].data, (2, 3)) == [3.0, 4.0, 5.0] * 2


# ---- explain -------------------------------------------------------------------------------------------
def test_explain_shows_the_schedule(backend):
    step, _ = mlp_step()
    step = tg.jit(step)
    with pytest.raises(RuntimeError, match="nothing captured"):
        step.explain()
    for _ in range(3):
        step()
    text = str(step.explain())
    for words in ("Kernels, in the order the step ran them", "matmul (4, 8) @ (8, 32) → (4, 32)", "forward of ReLU",
                  "computed once", "Buffers", "After the replay, Python sees", "w_up.grad ←", "def replay("):
        assert words in text, words
    if backend == "python":
        assert "loop 1: #3 add + #4 relu" in text
    from rich.console import Console
    console = Console(record=True, width=120)
    console.print(step.explain())
    assert "Generated code" in console.export_text()
    assert "Generated code" not in str(step.explain(code=False))


# ---- housekeeping --------------------------------------------------------------------------------------
def test_every_member_of_the_interface_is_captured_or_known_to_be_harmless():
    declared = {name for name, value in vars(ArrayInterface).items() if inspect.isfunction(value)}
    declared -= {"__init__", "__subclasshook__"}       # what typing.Protocol adds
    handled = set(capture_module.KERNELS + capture_module.VIEWS + capture_module.MUTATIONS + capture_module.READS
                  + capture_module.QUERIES)
    assert declared - handled == set()


def test_the_backends_are_left_as_they_were_even_when_the_function_fails(backend):
    module = tg.get_backend.__globals__["_get_backend_module"]()
    before = {name: vars(module.Array).get(name) for name in capture_module.KERNELS + capture_module.READS}
    makers = {name: getattr(module, name) for name in capture_module.MAKERS}

    @tg.jit
    def step(x):
        y = x * 2
        raise ValueError("the student's bug")

    with pytest.raises(ValueError, match="student's bug"):
        step(tg.tensor([1.0]))
    assert {name: vars(module.Array).get(name) for name in before} == before
    assert {name: getattr(module, name) for name in makers} == makers
    assert autograd.get_recorder() is None


def test_while_a_trace_records_the_function_runs_eagerly(backend):
    step, _ = mlp_step()
    step = tg.jit(step)
    for _ in range(3):
        step()
    with tg.trace.record() as tape:
        step()
    assert len(tape.events) > 20 and step.replays == 1


def test_a_jitted_function_inside_another_runs_eagerly(backend):
    inner = tg.jit(lambda x: x * 2)
    outer = tg.jit(lambda x: inner(x) + 1)
    for _ in range(4):
        assert outer(tg.tensor([1.0])).tolist() == [3.0]
    assert outer.replays == 2 and inner.replays == 0


def test_jit_refuses_what_is_not_a_function():
    with pytest.raises(TypeError, match="expected a function"):
        tg.jit(3)


def _has_numpy() -> bool:
    import importlib.util
    return importlib.util.find_spec("numpy") is not None



# ---- tinygrad-edu trace --jit -----------------------------------------------------------------------------
def test_trace_jit_shows_the_schedule_of_the_michael_jordan_step(capsys):
    from tinygrad_edu.cli import main

    assert main(["trace", "--jit", "--width", "120"]) == 0
    out = capsys.readouterr().out
    for words in ("jit michael_jordan_step", "Kernels, in the order the step ran them", "update of up.weight",
                  "Fused loops", "Buffers", "up.weight.data ←", "def replay("):
        assert words in out, words


def test_trace_jit_names_the_line_that_cannot_be_replayed(tmp_path, capsys):
    from tinygrad_edu.cli import main

    student = tmp_path / "branchy.py"
    student.write_text("import tinygrad_edu as tg\n"
                       "w = tg.tensor([1.0, -2.0], requires_grad=True)\n"
                       "def step():\n"
                       "    loss = (w * w).sum()\n"
                       "    if loss.item() > 1.0:\n"
                       "        loss = loss * 2\n"
                       "    return loss\n")
    assert main(["trace", "--jit", f"{student}:step"]) == 1
    err = capsys.readouterr().err
    assert "cannot be replayed" in err and "branchy.py:5" in err and "if loss.item() > 1.0" in err


def test_the_jit_speed_figure_times_both_ways_and_checks_the_numbers_first():
    from tinygrad_edu.commands import figures

    data = figures.jit_speed_data(sizes=(("tiny", (2, 3, 4)),), repeat=2)
    assert [row["backend"] for row in data["rows"]] == ["python"] + (["numpy"] if _has_numpy() else [])
    assert all(row["same"] and row["eager"] > 0 and row["jit"] > 0 for row in data["rows"])
