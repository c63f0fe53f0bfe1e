"""Run one exercise's checks on a student's file, whatever the file does.

The file is loaded by its path under a private module name (``_tinygrad_edu_exercise_NN_k``), so it can
neither shadow a real module nor be imported by anything else, and its folder is not put on
``sys.path`` (a ``numpy.py`` lying there changes nothing). Whatever goes wrong stays in the exercise's
`Result`: a syntax error, a failed import, an exception at load time, a wrong answer, a stub not yet
written, code that runs too long. The framework is guarded too: `FrameworkGuard` remembers every
``tinygrad_edu`` module and class before the file runs, and a file that replaces or patches any of them
(``tg.Tensor.__mul__ = ...``) fails with a note and the framework is put back, so the next exercise
checks against the real thing.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import tinygrad_edu as tg
from tinygrad_edu import autograd

from .checking import CheckFailed, Context, Exercise, NotImplementedYet, available_backends

__all__ = ["Result", "LoadError", "load_student_file", "check_file", "FrameworkGuard", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 120.0          # seconds per exercise before the check gives up on the student's code
DIAGNOSE_TIMEOUT = 20.0          # seconds for matching a failure against the common mistakes
_counter = itertools.count(1)

PASSED, FAILED, NOT_STARTED = "passed", "failed", "not started"


@dataclass
class Result:
    """How one exercise went. ``status`` is "passed", "failed" or "not started"; ``kind`` says why, for
    graders: passed, missing, not-implemented, load-error, wrong, changed-framework, timeout, error."""

    exercise: Exercise
    status: str
    kind: str
    failure: str = ""
    hint: str | None = None
    steps: list[tuple[str, str]] = field(default_factory=list)     # (step name, passed/failed/not run)
    seconds: float = 0.0
    output: str = ""                                                # what the student's code printed
    path: str = ""
    notes: list[str] = field(default_factory=list)                  # remarks of the checks (timings)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_json(self) -> dict:
        ex = self.exercise
        return {"number": ex.number, "slug": ex.slug, "title": ex.title, "lesson": ex.lesson,
                "file": self.path, "status": self.status, "kind": self.kind, "failure": self.failure,
                "hint": self.hint, "checks_passed": sum(1 for _, s in self.steps if s == PASSED),
                "checks": len(ex.steps), "steps": [{"name": n, "status": s} for n, s in self.steps],
                "seconds": round(self.seconds, 3), "output": self.output, "notes": self.notes}


class LoadError(Exception):
    """The student's file could not be loaded; ``message`` says why in plain words."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


def _load_frame(error: BaseException, path: Path) -> str:
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if Path(frame.filename).resolve() == path.resolve():
            code = (frame.line or "").strip()
            return f" (line {frame.lineno}" + (f": {code})" if code else ")")
    return ""


def load_student_file(path: Path, number: int):
    """Execute ``path`` as a fresh module under a private name; `LoadError` when it cannot be loaded."""
    path = Path(path)
    name = f"_tinygrad_edu_exercise_{number:02d}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"{path.name} cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # for code that looks its own module up (dataclasses, pickle)
    writing = sys.dont_write_bytecode
    sys.dont_write_bytecode = True      # leave no __pycache__ in the student's folder
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        sys.modules.pop(name, None)
        where = f"line {error.lineno}" + (f": {error.text.strip()}" if error.text and error.text.strip() else "")
        raise LoadError(f"{path.name} is not valid Python: {error.msg} ({where})",
                        "fix the line Python points at; `python -m py_compile FILE` shows it too") from None
    except ImportError as error:
        sys.modules.pop(name, None)
        raise LoadError(f"{path.name} could not import {error.name or 'a module'}: {error}"
                        f"{_load_frame(error, path)}",
                        "import only tinygrad_edu and the standard library; each exercise file stands alone") \
            from None
    except NotImplementedError as error:
        sys.modules.pop(name, None)
        raise NotImplementedYet(str(error) or f"{path.name} raised NotImplementedError while loading") from None
    except Exception as error:
        sys.modules.pop(name, None)
        raise LoadError(f"{path.name} raised {type(error).__name__} while loading: {error}"
                        f"{_load_frame(error, path)}",
                        "code at the top level of the file runs when it is loaded; put it in a function") \
            from None
    finally:
        sys.dont_write_bytecode = writing
    return module


# ---- the framework guard ------------------------------------------------------------------------------
def _watched() -> dict[str, object]:
    """Every loaded tinygrad_edu module (but the course's own) and every class defined in one."""
    watched = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("tinygrad_edu") or module_name.startswith("tinygrad_edu.exercises"):
            continue
        if module is None:
            continue
        watched[module_name] = module
        for key, value in list(vars(module).items()):
            if isinstance(value, type) and getattr(value, "__module__", None) == module_name:
                watched[f"{module_name}.{key}"] = value
    return watched


class FrameworkGuard:
    """Remembers the framework's modules and classes; says what a student's file changed and puts it back."""

    def __init__(self):
        _settle_framework()
        self.grad_enabled = tg.is_grad_enabled()
        self.backend = tg.get_backend()
        self.recorder = autograd.get_recorder()
        self.recursion_limit = sys.getrecursionlimit()
        self.path = list(sys.path)
        self.saved = {label: (obj, dict(vars(obj))) for label, obj in _watched().items()}

    def _reset_state(self) -> None:
        """Grad mode, backend, recorder, recursion limit and sys.path as they were before the file ran."""
        if tg.is_grad_enabled() != self.grad_enabled:
            # a `with no_grad():` the student's code entered and never left: switch back for good
            autograd.set_grad_enabled(self.grad_enabled).__enter__()
        if tg.get_backend() != self.backend:
            tg.set_backend(self.backend)
        if autograd.get_recorder() is not self.recorder:
            autograd.set_recorder(self.recorder)
        if sys.getrecursionlimit() != self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)
        if sys.path != self.path:
            sys.path[:] = self.path

    def changes(self) -> list[str]:
        """The framework names the student's code replaced, added or removed."""
        self._reset_state()
        changed = []
        for label, (obj, before) in self.saved.items():
            now = vars(obj)
            for key in set(before) | set(now):
                if key in ("__dict__", "__weakref__", "__abstractmethods__", "_abc_impl"):
                    continue
                old, new = before.get(key, _MISSING), now.get(key, _MISSING)
                if old is new:
                    continue
                if old is _MISSING and type(new).__name__ == "module":
                    continue                          # a submodule imported for the first time
                changed.append(f"{label}.{key}")
        return sorted(changed)

    def restore(self) -> None:
        self._reset_state()
        for _, (obj, before) in self.saved.items():
            now = dict(vars(obj))
            for key in set(now) - set(before):
                if type(now[key]).__name__ == "module":
                    continue
                with contextlib.suppress(AttributeError, TypeError):
                    delattr(obj, key)
            for key, value in before.items():
                if now.get(key, _MISSING) is not value:
                    with contextlib.suppress(AttributeError, TypeError):
                        setattr(obj, key, value)


_MISSING = object()


def _settle_framework() -> None:
    """Import what the checks use, so that a first import during a check does not look like a change."""
    import tinygrad_edu.functional  # noqa: F401
    import tinygrad_edu.nn  # noqa: F401
    import tinygrad_edu.optim  # noqa: F401
    import tinygrad_edu.testing  # noqa: F401
    import tinygrad_edu.directions  # noqa: F401
    tg.get_backend()
    for name in available_backends():
        with contextlib.suppress(ImportError):
            importlib.import_module(f"tinygrad_edu.backend.{name}")
    with contextlib.suppress(ImportError):
        import tinygrad_edu.testing.strategies  # noqa: F401
    with contextlib.suppress(ImportError):
        import tinygrad_edu.trace  # noqa: F401


# ---- time limit -----------------------------------------------------------------------------------------
class ExerciseTimeout(BaseException):
    """Raised by the timer inside the student's code (a BaseException, so no ``except Exception`` eats it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise ExerciseTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- one exercise -----------------------------------------------------------------------------------------
def check_file(exercise: Exercise, path: Path, backends: tuple[str, ...] | None = None,
               timeout: float | None = DEFAULT_TIMEOUT, examples: int | None = None) -> Result:
    """Run ``exercise``'s checks on the file at ``path``; never raises for anything the file does."""
    path = Path(path)
    backends = tuple(backends or available_backends())
    steps = [(step.name, "not run") for step in exercise.steps]
    result = Result(exercise, NOT_STARTED, "missing", path=str(path), steps=steps)
    if not path.is_file():
        result.failure = f"no file {path.name} in {path.parent}"
        result.hint = "`tinygrad-edu exercise start` writes the stubs (it never overwrites your work)"
        return result
    ctx = Context(path=path, backends=backends)
    if examples:
        ctx.examples = examples
    started = time.perf_counter()
    printed = io.StringIO()
    guard = FrameworkGuard()
    module_name = None
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), _time_limit(timeout):
            module = load_student_file(path, exercise.number)
            module_name = module.__name__
            changed = guard.changes()
            if changed:
                raise _Changed(changed)
            for index, step in enumerate(exercise.steps):
                steps[index] = (step.name, FAILED)
                step.run(module, ctx)
                steps[index] = (step.name, PASSED)
            changed = guard.changes()
            if changed:
                raise _Changed(changed)
        result.status, result.kind = PASSED, "passed"
    except NotImplementedYet as error:
        done = sum(1 for step, (_, s) in zip(exercise.steps, steps) if s == PASSED and not step.structural)
        steps[:] = [(n, "not run" if s == FAILED else s) for n, s in steps]
        result.status = NOT_STARTED if done == 0 else FAILED
        result.kind = "not-implemented"
        message = re.sub(rf"^exercise {exercise.number}:\s*", "", str(error))   # the row shows the number
        result.failure = f"not implemented: {message}" if done == 0 else f"not implemented yet: {message}"
        result.hint = f"open {path.name}: its docstring has the math and hints (lesson {exercise.lesson})"
    except LoadError as error:
        result.status, result.kind = FAILED, "load-error"
        result.failure, result.hint = error.message, error.hint
    except CheckFailed as error:
        result.status, result.kind = FAILED, "wrong"
        result.failure = error.message
        result.hint = (error.hint or _diagnose(exercise, sys.modules.get(module_name), ctx, timeout)
                       or exercise.hint)
    except _Changed as error:
        result.status, result.kind = FAILED, "changed-framework"
        result.failure = ("your file changed the framework itself: " + ", ".join(error.names[:4])
                          + (" ..." if len(error.names) > 4 else "") + " (put back for the other checks)")
        result.hint = "define your own classes and functions in your file; leave tinygrad_edu's as they are"
    except ExerciseTimeout:
        result.status, result.kind = FAILED, "timeout"
        result.failure = f"stopped after {timeout:g} s: the code ran too long (an endless loop?)"
        result.hint = "run the check again with a single example in a Python prompt to see where it spends time"
    except Exception as error:  # a check could not even run on what the file defines
        result.status, result.kind = FAILED, "error"
        result.failure = f"the check stopped on {type(error).__name__}: {error}{ctx.where(error)}"
        result.hint = exercise.hint
    finally:
        if guard.changes():
            guard.restore()
        if module_name:
            sys.modules.pop(module_name, None)
        result.seconds = time.perf_counter() - started
        result.output = printed.getvalue()
        result.notes = list(ctx.notes)
    return result


class _Changed(Exception):
    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


def _diagnose(exercise: Exercise, module, ctx: Context, timeout: float | None) -> str | None:
    """The hint of the common mistake the student's code matches, if the exercise can tell (it runs the
    student's code on small fixed examples, so under a time limit too)."""
    if exercise.diagnose is None or module is None:
        return None
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            with _time_limit(min(timeout or DIAGNOSE_TIMEOUT, DIAGNOSE_TIMEOUT)), tg.use_backend("python"):
                return exercise.diagnose(module, ctx)
    except (Exception, ExerciseTimeout):
        return None
