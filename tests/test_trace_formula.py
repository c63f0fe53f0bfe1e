"""Binding an op's formula to a step's names: symbols from forward's parameters, ":T", options, clauses."""
from __future__ import annotations

import inspect
import keyword
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import ops, trace
from tinygrad_edu.trace.formula import (bind, describe, fields, keep_clauses, op_symbols, output_symbol,
                                        right_side, statement, transposed)
from tinygrad_edu.trace.graph import build_graph


class Bilinear(tg.Function):
    """A student's op with two inputs and an option: z = s·(a ⊙ b)."""
    formula = "{z} = {scale}·({a} ⊙ {b})"
    derivative = "∂L/∂{a} = {scale}·∂L/∂{z} ⊙ {b};  ∂L/∂{b} = {scale}·∂L/∂{z} ⊙ {a}"

    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b * ctx.scale, grad * a * ctx.scale


class OuterT(tg.Function):
    """Z = A Bᵀ, stated with the transpose spec."""
    formula = "{Z} = {A} @ {B:T}"
    derivative = "∂L/∂{A} = ∂L/∂{Z} @ {B};  ∂L/∂{B} = (∂L/∂{Z}){Z:T} @ {A}"

    @staticmethod
    def forward(ctx, A, B):
        ctx.save_for_backward(A, B)
        return A.matmul(B.permute((1, 0)))

    @staticmethod
    def backward(ctx, grad):
        A, B = ctx.saved_tensors
        return grad.matmul(B), grad.permute((1, 0)).matmul(A)


def record(function):
    with trace.record() as tape:
        function()
    return tape


# ---- the binding itself ------------------------------------------------------------------------------

def test_unbound_symbols_print_as_themselves():
    assert bind(Bilinear.formula) == "z = scale·(a ⊙ b)"
    assert bind("{Z} = {X} @ {Y:T}") == "Z = X @ Yᵀ"
    assert bind("no fields at all: z = x²") == "no fields at all: z = x²"


def test_a_text_the_formatter_cannot_read_is_shown_as_it_is():
    for text in ("z = {x | x > 0}", "z = {x.shape}", "z = {0}", "z = {"):
        assert bind(text, {"x": "h"}) == text


def test_transpose_of_a_transpose_is_the_matrix_itself():
    assert transposed("W") == "Wᵀ" and transposed("block.up.weight.T") == "block.up.weight"
    assert bind("{Y:T}", {"Y": "W.T"}) == "W" and bind("{Y:T}", {"Y": "x"}) == "xᵀ"


identifiers = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,5}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))


@settings(max_examples=60, deadline=None)
@given(symbols=st.lists(identifiers, min_size=1, max_size=4, unique=True), data=st.data())
def test_every_symbol_is_replaced_at_once_by_its_own_name(symbols, data):
    # Names may be other symbols (x -> y, y -> x): one pass, so a replacement is never replaced again.
    names = {s: data.draw(st.sampled_from(symbols + ["W.T", "∂L/∂h", "t1"])) for s in symbols}
    template = " + ".join("{" + s + "}" for s in symbols) + " @ {" + symbols[0] + ":T}"
    expected = " + ".join(names[s] for s in symbols) + " @ " + transposed(names[symbols[0]])
    assert bind(template, names) == expected


def test_clauses_are_kept_or_left_out_by_their_input_symbol():
    derivative = Bilinear.derivative
    assert keep_clauses(derivative, set()) == derivative
    assert keep_clauses(derivative, {"b"}) == "∂L/∂{a} = {scale}·∂L/∂{z} ⊙ {b}"
    assert keep_clauses(derivative, {"a"}) == "∂L/∂{b} = {scale}·∂L/∂{z} ⊙ {a}"
    assert keep_clauses(derivative, {"a", "b"}) == derivative   # never nothing at all


def test_symbols_come_from_forwards_parameters():
    symbols = op_symbols(Bilinear)
    assert symbols.for_inputs(2) == ("a", "b") and symbols.options(2) == {"scale": 1.0}
    cat = op_symbols(ops.Cat)
    assert cat.for_inputs(3) == ("xs", "xs", "xs") and set(cat.options(3)) == {"dim"}
    assert output_symbol(OuterT.formula) == "Z" and output_symbol("no equals sign") is None
    assert fields(Bilinear.formula) == {"z", "scale", "a", "b"}


def test_the_right_side_is_what_the_output_is_set_to():
    assert right_side(OuterT.formula) == "{A} @ {B:T}"
    assert right_side("  {z}= {x}³") == "{x}³"
    assert right_side("z = x doubled") is None and right_side("sum of {x} = {z}") is None
    A = tg.tensor([[1.0, 2.0]]).named("A")
    W = tg.tensor([[1.0, 0.0]]).named("W")
    tape = record(lambda: OuterT.apply(A, W).named("scores"))
    assert tape[0].bound_value() == "A @ Wᵀ"
    nodes, roots = build_graph(tape)
    assert nodes[roots[0]].value == "A @ Wᵀ"


def test_option_values_are_described_as_code_writes_them():
    assert describe(2) == "2" and describe((0, 1)) == "(0, 1)"
    assert describe((slice(0, 2), slice(None), 3)) == "0:2, :, 3"
    assert describe(slice(1, None, 2)) == "1::2"
    assert describe(list(range(100))).endswith("…") and len(describe(list(range(100)))) == 40


# ---- in a recorded step -------------------------------------------------------------------------------

def test_a_student_op_appears_with_the_students_names_and_option_values():
    a = tg.tensor([1.0, 2.0], requires_grad=True).named("left")
    b = tg.tensor([3.0, -1.0]).named("right")
    tape = record(lambda: Bilinear.apply(a, b, scale=0.5).named("out").sum().backward())
    forward = tape.forward[0]
    assert forward.plain_formula() == "z = scale·(a ⊙ b)"
    assert forward.bound_formula() == "out = 0.5·(left ⊙ right)"
    assert forward.unstated == {}                        # the option is in the formula itself
    backward = next(e for e in tape.backward if e.op == "Bilinear")
    # "right" needs no gradient, so only left's clause is shown, with the option's value.
    assert backward.bound_formula() == "∂L/∂left = 0.5·∂L/∂out ⊙ right"


def test_an_option_left_at_its_default_is_bound_to_the_default():
    a = tg.tensor([1.0], requires_grad=True).named("p")
    tape = record(lambda: Bilinear.apply(a, a).named("q"))
    assert tape[0].bound_formula() == "q = 1.0·(p ⊙ p)"


def test_transposes_in_a_students_formula_read_with_the_real_names():
    A = tg.tensor([[1.0, 2.0]], requires_grad=True).named("A")
    W = tg.tensor([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]], requires_grad=True).named("W")
    tape = record(lambda: OuterT.apply(A, W.T.T).named("Z").sum().backward())
    outer = next(e for e in tape.forward if e.op == "OuterT")
    assert [s.name for s in outer.inputs] == ["A", "W.T.T"]
    assert outer.bound_formula() == "Z = A @ W.T"             # (W.T.T)ᵀ is W.T: no ᵀ marks stacked
    backward = next(e for e in tape.backward if e.op == "OuterT")
    assert backward.bound_formula() == "∂L/∂A = ∂L/∂Z @ W.T.T;  ∂L/∂W.T.T = (∂L/∂Z)Zᵀ @ A"


def test_a_built_in_matmul_with_a_transposed_weight():
    x = tg.tensor([[1.0, -1.0]], requires_grad=True).named("x")
    W = tg.tensor([[2.0, 0.5], [0.0, 1.0], [1.0, 1.0]], requires_grad=True).named("W")
    tape = record(lambda: (x @ W.T).named("z").sum().backward())
    matmul = next(e for e in tape.forward if e.op == "MatMul")
    assert matmul.bound_formula() == "z = x @ W.T"
    backward = next(e for e in tape.backward if e.op == "MatMul")
    assert backward.bound_formula() == "∂L/∂x = ∂L/∂z @ W;  ∂L/∂W.T = xᵀ @ ∂L/∂z"


def test_several_inputs_under_one_variadic_symbol():
    a = tg.tensor([1.0], requires_grad=True).named("a")
    b = tg.tensor([2.0], requires_grad=True).named("b")
    tape = record(lambda: tg.Tensor.cat([a, b]).named("ab"))
    assert tape[0].bound_formula() == bind(ops.Cat.formula, {"z": "ab", "xs": "(a, b)", "dim": "0"})


def test_a_plain_text_formula_is_shown_as_it_is():
    class Plain(tg.Function):
        formula = "z = x doubled"
        derivative = "∂L/∂x = 2 ∂L/∂z"

        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    x = tg.tensor([1.0], requires_grad=True).named("h")
    tape = record(lambda: Plain.apply(x).sum().backward())
    assert tape[0].plain_formula() == "z = x doubled" and tape[0].bound_formula() is None
    assert next(e for e in tape.backward if e.op == "Plain").plain_formula() == "∂L/∂x = 2 ∂L/∂z"


def test_an_op_stating_no_formula_gets_one_made_from_its_parameters():
    class Blend(tg.Function):
        @staticmethod
        def forward(ctx, out, y):       # a parameter called "out": the output needs another symbol
            return out + y

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    assert statement(Blend, 2) == ("{result} = Blend({out}, {y})",
                                   "∂L/∂{out} from ∂L/∂{result} by Blend.backward;  "
                                   "∂L/∂{y} from ∂L/∂{result} by Blend.backward")
    p = tg.tensor([1.0], requires_grad=True).named("p")
    q = tg.tensor([1.0]).named("q")
    tape = record(lambda: Blend.apply(p, q).named("r").sum().backward())
    assert tape[0].bound_formula() == "r = Blend(p, q)" and tape[0].about == ""
    backward = next(e for e in tape.backward if e.op == "Blend")
    assert backward.bound_formula() == "∂L/∂p from ∂L/∂r by Blend.backward"


# ---- every built-in op states its math in the form the trace binds ---------------------------------------

BUILT_IN = [getattr(ops, name) for name in ops.__all__]


@pytest.mark.parametrize("op", BUILT_IN, ids=lambda op: op.__name__)
def test_every_built_in_op_binds_completely(op):
    params = list(inspect.signature(op.forward).parameters)[1:]
    out = output_symbol(op.formula)
    assert out is not None and out not in params, "the formula names its output left of '='"
    assert fields(op.formula) - {out} <= set(params), "every other field of the formula is a parameter"
    assert fields(op.derivative) <= set(params) | {out}, "the derivative uses only the op's symbols"
    inputs = {p.name for p in inspect.signature(op.forward).parameters.values()
              if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)} - {"ctx"}
    for clause in op.derivative.split(";"):
        first = next(name for _, name, _, _ in string.Formatter().parse(clause) if name)
        assert first in params and clause.strip().startswith("∂L/∂{" + first), \
            "each clause is ∂L/∂{input} = ... for one input"
    assert inputs, "the op has at least one input"


# ---- ops whose options once read badly ----------------------------------------------------------------

def test_permute_reads_as_a_formula_bound_or_not():
    x = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True).named("x")
    tape = record(lambda: x.permute(1, 0).named("y").sum().backward())
    permute = tape.forward[0]
    assert "order order" not in permute.plain_formula()
    assert permute.plain_formula() == "z = permute(x, order)"
    assert permute.bound_formula() == "y = permute(x, (1, 0))"
    backward = next(e for e in tape.backward if e.op == "Permute")
    assert backward.plain_formula() == "∂L/∂x = permute(∂L/∂z, order⁻¹)"
    assert backward.bound_formula() == "∂L/∂x = permute(∂L/∂y, (1, 0)⁻¹)"


@pytest.mark.parametrize("bounds, value, gate", [
    ({"max": 1.0}, "min(max(x, −∞), 1.0)", "[−∞ ≤ x ≤ 1.0]"),
    ({"min": -0.5}, "min(max(x, -0.5), ∞)", "[-0.5 ≤ x ≤ ∞]"),
    ({"min": -0.5, "max": 2}, "min(max(x, -0.5), 2)", "[-0.5 ≤ x ≤ 2]"),
])
def test_an_absent_clamp_bound_reads_as_infinity_not_none(bounds, value, gate):
    x = tg.tensor([3.0, -1.0, 0.25], requires_grad=True).named("x")
    tape = record(lambda: x.clamp(**bounds).named("c").sum().backward())
    clamp = tape.forward[0]
    assert clamp.bound_formula() == f"c = {value}" and "None" not in clamp.bound_formula()
    backward = next(e for e in tape.backward if e.op == "Clamp")
    assert backward.bound_formula() == f"∂L/∂x = ∂L/∂c ⊙ {gate}"


@pytest.mark.parametrize("index, text", [
    (lambda x: x[0], "x[0]"),
    (lambda x: x[1, 2], "x[1, 2]"),
    (lambda x: x[0, 1:], "x[0, 1:]"),
    (lambda x: x[:, None], "x[:, None]"),
    (lambda x: x[::2, 0], "x[::2, 0]"),
])
def test_an_index_reads_as_the_code_writes_it(index, text):
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True).named("x")
    tape = record(lambda: index(x).named("part").sum().backward())
    taken = next(e for e in tape.forward if e.op == "Slice")
    assert taken.bound_formula() == f"part = {text}"
    backward = next(e for e in tape.backward if e.op == "Slice")
    assert backward.bound_formula().endswith(f"written at [{text[2:-1]}]")


def test_describe_writes_infinities_and_index_keys_as_math_and_code_do():
    assert describe(float("inf")) == "∞" and describe(float("-inf")) == "−∞"
    assert describe((0,), index=True) == "0" and describe((0,)) == "(0,)"
    assert describe((slice(None), None, Ellipsis, -1), index=True) == ":, None, ..., -1"
