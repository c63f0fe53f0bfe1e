"""What every exercise's checks are made of.

A check is a list of `Step`s run in order; the first that fails stops the exercise. A step calls the
student's code through the real engine and raises

* `CheckFailed` when an answer is wrong (the message says what, in plain words; a ``hint`` may name the
  mistake), or
* `NotImplementedYet` when it reaches a stub's ``raise NotImplementedError("exercise N: ...")``.

Helpers here turn anything else the student's code raises into a `CheckFailed` that names the line of
the student's file (`student_code`), compare values with the framework's reference (`assert_close`),
run hypothesis properties on every backend (`for_examples`) and check an op's ``formula`` and
``derivative`` (`check_statement`).
"""
from __future__ import annotations

import contextlib
import importlib.util
import math
import string
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import tinygrad_edu as tg
from tinygrad_edu.backend import is_array

__all__ = ["CheckFailed", "NotImplementedYet", "Step", "Exercise", "Context", "available_backends", "student_code",
           "for_examples", "assert_close", "assert_shape", "values_of", "shape_of", "check_statement",
           "require", "require_function_class", "require_callable", "describe_shape", "is_array"]


class CheckFailed(Exception):
    """A wrong answer: ``message`` in plain words, ``hint`` for the mistake it matches (or None)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class NotImplementedYet(Exception):
    """The student's code reached a stub that still raises NotImplementedError."""


@dataclass
class Step:
    """One named check: ``run(module, ctx)`` returns when it passes and raises when it does not."""

    name: str
    run: Callable[[Any, "Context"], None]
    structural: bool = False        # only looks at what the file defines (runs none of its code)


@dataclass
class Exercise:
    """One exercise of the course: what to write, where it is taught, and how it is checked.

    ``steps`` run in order on the student's module. ``diagnose(module, ctx)`` is asked, after a failure
    that names no mistake, whether the answer matches a common mistake (its hint) or not (None).
    ``trace(module)`` runs a small example with the student's code for ``check --trace N``; it returns
    what a traced function returns (a loss, or a dict with "loss", "modules", "optimizer").
    """

    number: int
    slug: str
    title: str
    lesson: int
    task: str
    steps: list[Step]
    hint: str
    diagnose: Callable[[Any, "Context"], str | None] | None = None
    trace: Callable[[Any], Any] | None = None

    @property
    def filename(self) -> str:
        return f"ex{self.number:02d}_{self.slug}.py"


@dataclass
class Context:
    """What a check knows besides the student's module: which file it came from and the backends to use."""

    path: Path
    backends: tuple[str, ...]
    examples: int = 12                  # hypothesis examples per property and backend
    notes: list[str] = field(default_factory=list)

    def where(self, error: BaseException) -> str:
        """`` (ex01_mul.py line 31: return grad @ y)`` for the deepest frame of ``error`` in the student's
        file, or ``""`` when the error did not pass through it."""
        found = None
        for frame in traceback.extract_tb(error.__traceback__):
            try:
                same = Path(frame.filename).resolve() == self.path.resolve()
            except OSError:
                same = False
            if same:
                found = frame
        if found is None:
            return ""
        code = (found.line or "").strip()
        return f" ({self.path.name} line {found.lineno}" + (f": {code})" if code else ")")


def available_backends() -> tuple[str, ...]:
    """``("python", "numpy")`` when NumPy is installed, else ``("python",)``."""
    names = ["python"]
    if importlib.util.find_spec("numpy") is not None:
        names.append("numpy")
    return tuple(names)


@contextlib.contextmanager
def student_code(ctx: Context, what: str):
    """Run the student's code: a stub's NotImplementedError becomes `NotImplementedYet`, any other error a
    `CheckFailed` saying ``what`` raised it and where in the student's file."""
    try:
        yield
    except (CheckFailed, NotImplementedYet):
        raise
    except NotImplementedError as error:
        message = str(error).strip() or f"{what} is not written yet (it still raises NotImplementedError)"
        raise NotImplementedYet(message) from None
    except RecursionError as error:
        raise CheckFailed(f"{what} went deeper than Python's recursion limit{ctx.where(error)}: "
                          "it calls itself once per node of the graph") from None
    except Exception as error:  # the student's code (or the engine on the student's values) failed
        text = str(error).strip()
        raise CheckFailed(f"{what} raised {type(error).__name__}" + (f": {text}" if text else "")
                          + ctx.where(error)) from None


def _first_failure(error: BaseException) -> BaseException:
    """Hypothesis may group several failures (or a flaky one): the first one that is ours."""
    group = getattr(error, "exceptions", None)
    if group:
        for inner in group:
            found = _first_failure(inner)
            if isinstance(found, (CheckFailed, NotImplementedYet)):
                return found
        return _first_failure(group[0])
    return error


def for_examples(ctx: Context, strategy, test: Callable[[Any, str], None], examples: int | None = None,
                 backends: tuple[str, ...] | None = None) -> None:
    """Run ``test(value, backend)`` on hypothesis-drawn values, on each backend in turn.

    The draws are derandomized (the same examples every run, so a grade never changes by chance) and
    nothing is written to disk. A failure is shrunk to a small example and raised as it was raised.
    """
    from hypothesis import HealthCheck, Verbosity, given, settings

    count = examples or ctx.examples
    for backend in backends or ctx.backends:
        @settings(max_examples=count, deadline=None, derandomize=True, database=None, print_blob=False,
                  verbosity=Verbosity.quiet, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def run(value):
            test(value, backend)

        with tg.use_backend(backend):
            try:
                run()
            except (CheckFailed, NotImplementedYet):
                raise
            except Exception as error:
                found = _first_failure(error)
                if isinstance(found, (CheckFailed, NotImplementedYet)):
                    raise found from None
                raise CheckFailed(f"{type(found).__name__} while checking on the {backend} backend: "
                                  f"{found}{ctx.where(found)}") from None


# ---- values ---------------------------------------------------------------------------------------
def values_of(value) -> list[float]:
    """Row-major floats of a Tensor, a backend array, nested lists or a number."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    flat, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            flat.append(float(item))
    return flat


def shape_of(value) -> tuple:
    if hasattr(value, "shape"):
        return tuple(value.shape)
    shape = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def describe_shape(shape) -> str:
    return "a scalar (shape ())" if tuple(shape) == () else f"shape {tuple(shape)}"


def _index(flat: int, shape: tuple) -> tuple:
    index = []
    for side in reversed(shape):
        index.append(flat % side)
        flat //= side
    return tuple(reversed(index))


def assert_shape(got, expected_shape, what: str, hint: str | None = None) -> None:
    if shape_of(got) != tuple(expected_shape):
        raise CheckFailed(f"{what} has {describe_shape(shape_of(got))}, expected "
                          f"{describe_shape(expected_shape)}", hint)


def assert_close(got, expected, what: str, rtol: float = 1e-7, atol: float = 1e-9, hint: str | None = None,
                 context: str = "") -> None:
    """``got`` equals ``expected`` element by element (shapes first); else a `CheckFailed` naming the first
    element that differs, both values and ``context`` (the example)."""
    assert_shape(got, shape_of(expected), what, hint)
    shape = shape_of(expected)
    for i, (a, b) in enumerate(zip(values_of(got), values_of(expected))):
        if math.isnan(b) and math.isnan(a):
            continue
        if not abs(a - b) <= atol + rtol * abs(b):          # also catches NaN
            at = f" at element {_index(i, shape)}" if shape else ""
            raise CheckFailed(f"{what} is wrong{at}: got {a!r}, expected {b!r}"
                              + (f" ({context})" if context else ""), hint)


# ---- what the student's file must define -------------------------------------------------------------
def require(module, name: str, what: str):
    """``module.name``, or a `CheckFailed` saying the file must define it."""
    if not hasattr(module, name):
        raise CheckFailed(f"{Path(getattr(module, '__file__', '') or '').name or 'your file'} defines no "
                          f"{name}: the exercise asks for {what}")
    return getattr(module, name)


def require_function_class(module, name: str):
    """A class ``name`` that subclasses ``tinygrad_edu.Function``."""
    op = require(module, name, f"class {name}(Function)")
    if not (isinstance(op, type) and issubclass(op, tg.Function)):
        raise CheckFailed(f"{name} must be a class that subclasses tinygrad_edu.Function, "
                          f"got {type(op).__name__} {op!r}")
    return op


def require_callable(module, name: str, signature: str):
    fn = require(module, name, f"a function {signature}")
    if not callable(fn):
        raise CheckFailed(f"{name} must be a function {signature}, got {type(fn).__name__}")
    return fn


# ---- an op's formula and derivative --------------------------------------------------------------------
_FORMATTER = string.Formatter()


def _fields(template: str, what: str) -> list[tuple[str, str]]:
    try:
        return [(name, spec) for _, name, spec, _ in _FORMATTER.parse(template) if name is not None]
    except ValueError as error:
        raise CheckFailed(f"{what} is not a valid template ({error}): write symbols as {{x}} and a "
                          "literal brace as {{ or }}") from None


def check_statement(op: type, inputs: tuple[str, ...], options: tuple[str, ...] = ()) -> None:
    """``op.formula`` and ``op.derivative`` are stated in the form every op uses.

    ``formula``: ``"{z} = ..."``, the output's field left of "=", the inputs' fields named after forward's
    parameters. ``derivative``: one clause ``∂L/∂{input} = ...`` per input, separated by ";". Fields may
    be the inputs, the output and the options; the spec ``:T`` (transpose) is the only one allowed.
    """
    name = op.__name__
    formula = getattr(op, "formula", "") or ""
    derivative = getattr(op, "derivative", "") or ""
    example = "∂L/∂{" + inputs[0] + "} = ..."
    if not formula.strip():
        raise CheckFailed(f"{name}.formula is empty: state the value as a template, e.g. "
                          f"\"{{z}} = ...({', '.join('{' + i + '}' for i in inputs)})\"")
    if not derivative.strip():
        raise CheckFailed(f"{name}.derivative is empty: state the gradient of each input in one line, "
                          f"one clause per input separated by \";\" (\"{example}\")")
    formula_fields = _fields(formula, f"{name}.formula")
    left = formula.split("=", 1)[0] if "=" in formula else ""
    left_fields = [f for f, _ in _fields(left, f"{name}.formula")]
    if len(left_fields) != 1:
        raise CheckFailed(f"{name}.formula must start with the output's symbol and \"=\", "
                          f"e.g. \"{{z}} = ...\"; got {formula!r}")
    output = left_fields[0]
    allowed = set(inputs) | set(options) | {output}
    for template, what in ((formula, "formula"), (derivative, "derivative")):
        for field_name, spec in _fields(template, f"{name}.{what}"):
            if field_name not in allowed:
                raise CheckFailed(f"{name}.{what} uses {{{field_name}}}, which is not a symbol of the op: "
                                  f"the symbols are the output {{{output}}} and forward's parameters "
                                  + ", ".join("{" + s + "}" for s in (*inputs, *options)))
            if spec not in ("", "T"):
                raise CheckFailed(f"{name}.{what}: {{{field_name}:{spec}}} has an unknown spec; the only one "
                                  "is :T (\"the transpose of\")")
    if not any(f == i for f, _ in formula_fields for i in inputs):
        raise CheckFailed(f"{name}.formula does not mention the inputs "
                          + ", ".join("{" + i + "}" for i in inputs))
    clauses = [c.strip() for c in derivative.split(";") if c.strip()]
    for symbol in inputs:
        if not any(c.startswith("∂L/∂{" + symbol + "}") for c in clauses):
            raise CheckFailed(f"{name}.derivative has no clause for {{{symbol}}}: each input gets one, "
                              f"starting \"∂L/∂{{{symbol}}} = ...\" (clauses separated by \";\")")
