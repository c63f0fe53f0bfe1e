"""Forward hooks on Module, pinned to PyTorch's documented behaviour (``torch.nn.Module.register_forward_hook``,
``register_forward_pre_hook``, ``torch.utils.hooks.RemovableHandle``, ``named_modules``); where PyTorch is
installed the same scenarios run on it too and must give the same answers.

What PyTorch documents, and what is checked here:
- a pre-hook is ``hook(module, args) -> None or modified input``; a single returned value that is not a tuple
  is wrapped into a one-element tuple; keyword arguments go to forward only;
- a forward hook is ``hook(module, args, output) -> None or modified output``, and sees the args after
  the pre-hooks; a returned value replaces the output for later hooks and for the caller;
- ``with_kwargs=True``: ``hook(module, args, kwargs)`` must return None or ``(args, kwargs)``, else
  RuntimeError; ``hook(module, args, kwargs, output)`` for forward hooks;
- hooks fire in registration order; ``prepend=True`` fires before the hooks already there;
- ``always_call=True`` runs the hook even when forward raises (an error inside it is only a warning);
- ``handle.remove()`` takes the hook out (twice is harmless); a handle is a context manager;
- ``named_modules()`` yields ('', root) first, then every descendant by dotted path, each module once.
"""
from __future__ import annotations

import importlib.util
import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn.module import RemovableHandle
from tinygrad_edu.testing import gradcheck

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def frameworks():
    """(name, module namespace, tensor maker) for this project and, when installed, PyTorch."""
    found = [("tinygrad_edu", nn, lambda values: tg.tensor(values))]
    if HAVE_TORCH:
        import torch
        found.append(("torch", torch.nn, lambda values: torch.tensor(values)))   # float32, its default
    return found


FRAMEWORKS = frameworks()
framework_ids = [name for name, _, _ in FRAMEWORKS]


def numbers(t) -> list:
    return t.tolist()


class Recorder:
    """A module whose forward records what it got, so a test can see the arguments after the pre-hooks."""

    @staticmethod
    def make(base):
        class Echo(base.Module):
            def __init__(self):
                super().__init__()
                self.calls = []

            def forward(self, *args, **kwargs):
                self.calls.append((args, kwargs))
                if not args:
                    raise ValueError("Echo: no input")
                return args[0] * 2.0

        return Echo()


# ------------------------------------------------------------------------------ the documented signatures
@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_a_forward_hook_gets_module_positional_args_and_output_and_no_kwargs(name, base, make):
    module = Recorder.make(base)
    seen = []
    module.register_forward_hook(lambda m, args, output: seen.append((m, args, output)))
    x = make([1.0, 2.0])
    out = module(x, scale=3)
    (m, args, output), = seen
    assert m is module and isinstance(args, tuple) and len(args) == 1 and args[0] is x
    assert output is out and numbers(out) == [2.0, 4.0]
    assert module.calls[0][1] == {"scale": 3}, "keyword arguments still reach forward"


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_a_forward_hook_may_replace_the_output_and_later_hooks_see_the_replacement(name, base, make):
    module = Recorder.make(base)
    seen = []
    module.register_forward_hook(lambda m, args, output: None)                   # None keeps it
    module.register_forward_hook(lambda m, args, output: output + 1.0)
    module.register_forward_hook(lambda m, args, output: seen.append(numbers(output)))
    module.register_forward_hook(lambda m, args, output: output * 10.0)
    out = module(make([1.0, 2.0]))
    assert seen == [[3.0, 5.0]]
    assert numbers(out) == [30.0, 50.0]


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_a_pre_hook_may_replace_the_args_and_a_single_value_is_wrapped_in_a_tuple(name, base, make):
    module = Recorder.make(base)
    after = []
    module.register_forward_pre_hook(lambda m, args: None)                       # keeps the args
    module.register_forward_pre_hook(lambda m, args: args[0] + 1.0)              # a single value
    module.register_forward_pre_hook(lambda m, args: after.append(args))
    module.register_forward_pre_hook(lambda m, args: (args[0], "extra"))         # a tuple replaces all
    module.register_forward_hook(lambda m, args, output: after.append(args))
    out = module(make([1.0]))
    wrapped, final = after
    assert isinstance(wrapped, tuple) and len(wrapped) == 1 and numbers(wrapped[0]) == [2.0]
    assert len(final) == 2 and final[1] == "extra", "the forward hook sees the args the pre-hooks made"
    assert module.calls[0][0][1] == "extra"
    assert numbers(out) == [4.0]


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_with_kwargs_hooks_see_and_may_replace_the_keyword_arguments(name, base, make):
    module = Recorder.make(base)
    seen = []

    def pre(m, args, kwargs):
        return args, {**kwargs, "added": True}

    module.register_forward_pre_hook(pre, with_kwargs=True)
    module.register_forward_hook(lambda m, args, kwargs, output: seen.append(dict(kwargs)), with_kwargs=True)
    module(make([1.0]), scale=2)
    assert module.calls[0][1] == {"scale": 2, "added": True}
    assert seen == [{"scale": 2, "added": True}]


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_a_with_kwargs_pre_hook_must_return_none_or_an_args_kwargs_pair(name, base, make):
    module = Recorder.make(base)
    module.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or|with_kwargs=True must return"):
        module(make([1.0]))


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_hooks_fire_in_registration_order_and_prepend_goes_first(name, base, make):
    module = Recorder.make(base)
    order = []
    module.register_forward_pre_hook(lambda m, a: order.append("pre 1"))
    module.register_forward_pre_hook(lambda m, a: order.append("pre 0"), prepend=True)
    module.register_forward_pre_hook(lambda m, a: order.append("pre 2"))
    module.register_forward_hook(lambda m, a, o: order.append("post 1"))
    module.register_forward_hook(lambda m, a, o: order.append("post 2"))
    module.register_forward_hook(lambda m, a, o: order.append("post 0"), prepend=True)
    module(make([1.0]))
    assert order == ["pre 0", "pre 1", "pre 2", "post 0", "post 1", "post 2"]


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_remove_takes_the_hook_out_twice_is_harmless_and_the_handle_is_a_context_manager(name, base, make):
    module = Recorder.make(base)
    fired = []
    handle = module.register_forward_hook(lambda m, a, o: fired.append("kept"))
    with module.register_forward_hook(lambda m, a, o: fired.append("inside")) as inner:
        module(make([1.0]))
    module(make([1.0]))
    assert fired == ["kept", "inside", "kept"]
    handle.remove()
    handle.remove()
    inner.remove()
    module(make([1.0]))
    assert fired == ["kept", "inside", "kept"]
    with pytest.raises(KeyError):
        with module.register_forward_pre_hook(lambda m, a: fired.append("pre")):
            raise KeyError("leaving the block by an error still removes the hook")
    module(make([1.0]))
    assert fired == ["kept", "inside", "kept"]


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_always_call_hooks_run_when_forward_raises_and_others_do_not(name, base, make):
    module = Recorder.make(base)
    seen = []
    module.register_forward_hook(lambda m, a, o: seen.append(("plain", o)))
    module.register_forward_hook(lambda m, a, o: seen.append(("always", o)), always_call=True)
    with pytest.raises(ValueError, match="no input"):
        module()
    assert seen == [("always", None)], "output is None: forward never returned"
    module(make([1.0]))
    assert [tag for tag, _ in seen] == ["always", "plain", "always"], "and it does not run twice"


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_an_error_in_an_always_call_hook_is_a_warning_and_the_original_error_propagates(name, base, make):
    module = Recorder.make(base)

    def broken(m, args, output):
        raise ZeroDivisionError("inside the hook")

    module.register_forward_hook(broken, always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="no input"):
            module()
    assert any("inside the hook" in str(w.message) for w in caught)


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_always_call_hooks_run_when_an_earlier_hook_raises(name, base, make):
    module = Recorder.make(base)
    seen = []

    def failing(m, args, output):
        raise KeyError("first hook")

    module.register_forward_hook(failing)
    module.register_forward_hook(lambda m, a, o: seen.append(o is not None), always_call=True)
    with pytest.raises(KeyError):
        module(make([1.0]))
    assert seen == [True], "it gets the output forward returned"


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_a_hook_removed_during_a_call_still_fires_in_that_call_only(name, base, make):
    module = Recorder.make(base)
    fired = []
    handles = {}

    def first(m, a, o):
        fired.append("first")
        handles["second"].remove()

    module.register_forward_hook(first)
    handles["second"] = module.register_forward_hook(lambda m, a, o: fired.append("second"))
    module(make([1.0]))
    module(make([1.0]))
    assert fired == ["first", "second", "first"]


@pytest.mark.parametrize("name, base, make", FRAMEWORKS, ids=framework_ids)
def test_hooks_on_submodules_fire_when_the_parent_runs_inner_first(name, base, make):
    model = base.Sequential(base.Linear(2, 3), base.ReLU(), base.Linear(3, 1))
    events = []
    for path, module in model.named_modules():
        module.register_forward_pre_hook(lambda m, a, path=path: events.append(f"enter {path or 'root'}"))
        module.register_forward_hook(lambda m, a, o, path=path: events.append(f"leave {path or 'root'}"))
    model(make([[1.0, -1.0]]))
    assert events == ["enter root", "enter 0", "leave 0", "enter 1", "leave 1", "enter 2", "leave 2", "leave root"]


# ------------------------------------------------------------------------------ order, as a property
operation = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["pre", "post"]), st.booleans()),
    st.tuples(st.just("remove"), st.integers(0, 20)),
)


@given(st.lists(operation, max_size=12))
def test_any_mix_of_registrations_prepends_and_removals_fires_in_the_documented_order(ops):
    """Reference: two lists; add appends (or inserts at 0 with prepend); remove deletes. All pre-hooks
    fire before every forward hook. PyTorch, when installed, agrees on the same operations."""
    def run(base, make):
        module = Recorder.make(base)
        fired, handles, expected = [], [], {"pre": [], "post": []}
        for op in ops:
            if op[0] == "add":
                _, kind, prepend = op
                label = f"{kind} {len(handles)}"
                if kind == "pre":
                    handle = module.register_forward_pre_hook(lambda m, a, label=label: fired.append(label),
                                                              prepend=prepend)
                else:
                    handle = module.register_forward_hook(lambda m, a, o, label=label: fired.append(label),
                                                          prepend=prepend)
                handles.append((handle, kind, label))
                expected[kind].insert(0, label) if prepend else expected[kind].append(label)
            elif handles:
                handle, kind, label = handles[op[1] % len(handles)]
                handle.remove()
                if label in expected[kind]:
                    expected[kind].remove(label)
        module(make([1.0]))
        return fired, expected["pre"] + expected["post"]

    results = {}
    for name, base, make in FRAMEWORKS:
        fired, expected = run(base, make)
        assert fired == expected, name
        results[name] = fired
    assert len(set(map(tuple, results.values()))) == 1


# ------------------------------------------------------------------------------ handles and registration
def test_handles_have_unique_ids_and_say_whether_they_are_registered():
    module = nn.Identity()
    a = module.register_forward_hook(lambda m, args, out: None)
    b = module.register_forward_pre_hook(lambda m, args: None)
    assert isinstance(a, RemovableHandle) and a.id != b.id
    assert "registered" in repr(a)
    a.remove()
    assert "removed" in repr(a)
    assert list(module._forward_hooks) == [] and list(module._forward_pre_hooks) == [b.id]


def test_a_hook_that_is_not_callable_is_refused_naming_the_module():
    with pytest.raises(TypeError, match=r"Linear\.register_forward_hook: the hook must be callable"):
        nn.Linear(2, 2).register_forward_hook("print")
    with pytest.raises(TypeError, match=r"ReLU\.register_forward_pre_hook"):
        nn.ReLU().register_forward_pre_hook(None)


def test_a_handle_does_not_keep_its_module_alive():
    import gc
    import weakref

    module = nn.Linear(2, 2)
    handle = module.register_forward_hook(lambda m, a, o: None)
    ref = weakref.ref(module)
    del module
    gc.collect()
    assert ref() is None
    handle.remove()          # harmless after the module is gone


def test_with_flags_are_forgotten_when_the_hook_is_removed():
    module = nn.Identity()
    handle = module.register_forward_hook(lambda m, a, k, o: None, with_kwargs=True, always_call=True)
    pre = module.register_forward_pre_hook(lambda m, a, k: None, with_kwargs=True)
    handle.remove()
    pre.remove()
    for table in ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
                  "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs"):
        assert not getattr(module, table), table


def test_a_hook_fires_only_when_the_module_itself_is_called():
    block = nn.TransformerBlock(4, 1, 8, seed=0)
    fired = []
    block.mlp.register_forward_hook(lambda m, a, o: fired.append("mlp"))
    block.mlp.act.register_forward_hook(lambda m, a, o: fired.append("mlp.act"))
    block(tg.randn(3, 4, seed=1))
    assert fired == ["mlp.act"], "TransformerBlock calls mlp.delta(...), so only the parts of the MLP fire"
    block.mlp.forward(tg.randn(4, seed=2))
    assert fired == ["mlp.act", "mlp.act"]


def test_without_hooks_a_call_is_exactly_forward():
    layer = nn.Linear(3, 2, seed=0)
    x = tg.randn(2, 3, seed=1)
    assert layer(x).tolist() == layer.forward(x).tolist()
    handle = layer.register_forward_hook(lambda m, a, o: None)
    handle.remove()
    assert layer(x).tolist() == layer.forward(x).tolist()


def test_gradients_flow_through_a_replaced_output(backend):
    """A hook that scales an activation is part of the graph: checked against central differences."""
    block = nn.MLPBlock(3, 4, activation="tanh", seed=2)
    x = tg.randn(2, 3, seed=3, requires_grad=True)
    with block.act.register_forward_hook(lambda m, args, out: out * tg.tensor([1.0, 0.0, 2.0, -1.0])):
        assert gradcheck(lambda x: block(x), x)
        block(x).sum().backward()
    grad_hooked = x.grad.tolist()
    x.grad = None
    block(x).sum().backward()
    assert grad_hooked != x.grad.tolist(), "the hook changed the function, so its gradient too"


# ------------------------------------------------------------------------------ named_modules
def test_named_modules_uses_pytorchs_names():
    model = nn.Sequential(nn.Linear(2, 3), nn.Residual(nn.MLPBlock(3, 4)), nn.ReLU())
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "0", "1", "1.module", "1.module.up", "1.module.act", "1.module.down", "2"]
    assert dict(model.named_modules())["1.module.act"] is model[1].module.act
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in twice.named_modules()] == ["", "0", "1"], "a shared module once, first name"
    assert [name for name, _ in model[1].named_modules(prefix="block")][:2] == ["block", "block.module"]


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")
def test_named_modules_matches_pytorch_on_the_same_structure():
    import torch

    def build(base):
        inner = base.Sequential(base.Linear(2, 2), base.ReLU())
        return base.Sequential(base.Linear(2, 2), inner, base.Sequential(inner, base.Tanh()), base.Linear(2, 1))

    ours = [name for name, _ in build(nn).named_modules()]
    theirs = [name for name, _ in build(torch.nn).named_modules()]
    assert ours == theirs


# ------------------------------------------------------------------------------ the cost when off, in bench
def test_the_bench_comparison_really_strips_the_hook_check():
    from tinygrad_edu.benchmarks import engine_costs

    call = engine_costs.compile_call_without_hook_check()
    layer = nn.Identity()
    fired = []
    layer.register_forward_hook(lambda m, a, o: fired.append(1))
    with engine_costs.module_hook_check_removed(call):
        layer(tg.tensor([1.0]))
    assert fired == [], "inside, calls go straight to forward"
    layer(tg.tensor([1.0]))
    assert fired == [1], "and the shipped __call__ is back afterwards"


def test_the_module_step_of_the_bench_computes_the_benchmark_step():
    from tinygrad_edu.benchmarks import engine_costs, mlp_step

    problem = mlp_step.make_problem(*mlp_step.SIZES["tiny"])
    hand = mlp_step.HandPython()
    hand.setup(problem)
    step = engine_costs._ModuleStep("python", problem)
    for _ in range(3):
        assert math.isclose(step.step(), hand.step(), rel_tol=1e-9)
