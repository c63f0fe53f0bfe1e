"""The whole benchmark: every implementation at every size, the engine's own costs, the targets met.

``run(...)`` returns one dict of plain numbers (what ``tinygrad-edu bench --json`` prints);
``render(results, console)`` shows it as Rich tables. ``python -m tinygrad_edu.benchmarks`` is ``tinygrad-edu bench``.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sys

from . import engine_costs, mlp_step, moons_demo

IMPLEMENTATION_KEYS = [impl.key for impl in mlp_step.implementations()]

# (what is compared, numerator key, denominator key, sizes, bound, "max" = ratio must stay below the bound,
#  "min" = ratio must reach it)
RATIO_TARGETS = [
    ("pure-Python backend ÷ hand-written pure Python", "tinygrad_edu_python", "hand_python", ("tiny",), 2.0, "max"),
    ("pure-Python backend ÷ hand-written pure Python", "tinygrad_edu_python", "hand_python", ("small", "medium"), 1.5, "max"),
    ("micrograd ÷ pure-Python backend (speed-up)", "micrograd", "tinygrad_edu_python", ("small", "medium"), 100.0, "min"),
    ("NumPy backend ÷ PyTorch eager", "tinygrad_edu_numpy", "torch", ("tiny", "small", "medium"), 1.0, "max"),
    ("NumPy backend ÷ hand-written NumPy", "tinygrad_edu_numpy", "hand_numpy", ("large",), 1.15, "max"),
    ("NumPy backend with jit ÷ PyTorch eager", "tinygrad_edu_numpy_jit", "torch", ("tiny", "small"), 0.6, "max"),
    ("NumPy backend with jit ÷ hand-written NumPy", "tinygrad_edu_numpy_jit", "hand_numpy", ("tiny",), 2.0, "max"),
    ("pure-Python backend with jit ÷ hand-written pure Python", "tinygrad_edu_python_jit", "hand_python",
     ("small", "medium"), 0.9, "max"),
]
TRACE_HOOK_LIMIT_PERCENT = 3.0
CHAIN_LIMIT_SECONDS = 1.0


def limit_blas_threads() -> str:
    """Run NumPy's BLAS on one thread, as PyTorch is run, so the two compare like for like.

    Works through the environment when NumPy is not imported yet, else through threadpoolctl when it is
    installed. Returns what is in effect, for the report."""
    if importlib.util.find_spec("numpy") is None:
        return "no NumPy"
    if "numpy" not in sys.modules:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, "1")
        return f"{os.environ['OPENBLAS_NUM_THREADS']} (OPENBLAS_NUM_THREADS)"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "library default (NumPy was imported first and threadpoolctl is not installed)"
    threadpool_limits(1)
    return "1 (threadpoolctl)"


def machine(blas_threads: str) -> dict:
    def version(package):
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "cpus": os.cpu_count(), "numpy": version("numpy"), "torch": version("torch"),
            "micrograd": version("micrograd"), "blas_threads": blas_threads, "blas_kernel": blas_kernel(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}


def blas_kernel() -> str | None:
    """Which BLAS NumPy runs and the processor kernel it picked (needs threadpoolctl; None without it)."""
    if "numpy" not in sys.modules:
        return None
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    found = [f"{pool.get('internal_api')} {pool.get('architecture') or ''}".strip()
             for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return ", ".join(found) or None


def run(sizes=("tiny", "small", "medium", "large"), repeat: int = 30, budget: float = 10.0, only=None,
        backends=("python", "numpy"), engine: bool = True, chain: int = 100_000, log=None,
        moons: bool = True) -> dict:
    """Everything the benchmark measures, as plain data (``moons``: also micrograd's demo, against micrograd)."""
    blas = limit_blas_threads()
    have_numpy = importlib.util.find_spec("numpy") is not None
    keys = set(only) if only else set(IMPLEMENTATION_KEYS)
    keys -= {f"tinygrad_edu_{b}{jit}" for b in ("python", "numpy") if b not in backends for jit in ("", "_jit")}
    results = {"machine": None, "step": "x + W_down·relu(W_up·x + b_up) + b_down; MSE; backward; SGD",
               "learning_rate": mlp_step.LEARNING_RATE, "check_steps": mlp_step.CHECK_STEPS,
               "repeat": repeat, "budget_s": budget, "sizes": {}}
    for size in sizes:
        results["sizes"][size] = mlp_step.run_size(size, repeat=repeat, budget=budget, only=keys, log=log)
    if engine:
        engine_backends = [b for b in backends if b == "python" or have_numpy]
        if log:
            log("trace hook cost")
        results["trace_hook"] = [engine_costs.trace_hook_cost(b) for b in engine_backends]
        if log:
            log("module hook check cost")
        results["module_hooks"] = [engine_costs.module_hook_cost(b) for b in engine_backends]
        if chain:
            if log:
                log(f"backward through {chain:,} ops")
            results["chain"] = [engine_costs.chain_backward(chain, b) for b in engine_backends]
    if moons:
        results["moons"] = moons_demo.run(repeat=repeat, budget=budget, backends=backends, log=log)
    results["machine"] = machine(blas)       # now that NumPy is loaded, its BLAS can be named
    results["targets"] = targets(results)
    results["all_agree"] = all(entry.get("agrees", True) for size in results["sizes"].values()
                               for entry in size["results"].values()) and \
        all(entry.get("agrees", True) for entry in results.get("moons", {}).get("results", {}).values())
    return results


def targets(results: dict) -> list[dict]:
    """Each target that this run has the figures for, with the measured value and whether it is met."""
    out = []
    for claim, numerator, denominator, sizes, bound, kind in RATIO_TARGETS:
        for size in sizes:
            entries = results["sizes"].get(size, {}).get("results", {})
            a, b = entries.get(numerator, {}), entries.get(denominator, {})
            if "median_ms" not in a or "median_ms" not in b:
                continue
            ratio = a["median_ms"] / b["median_ms"]
            out.append({"claim": claim, "size": size, "value": ratio,
                        "target": f"{'≤' if kind == 'max' else '≥'} {bound:g}×",
                        "met": ratio <= bound if kind == "max" else ratio >= bound})
    for hook in results.get("trace_hook", []):
        out.append({"claim": f"trace hook when off ({hook['backend']} backend)", "size": hook["size"],
                    "value": hook["overhead_percent"], "unit": "%",
                    "target": f"< {TRACE_HOOK_LIMIT_PERCENT:g} %",
                    "met": hook["overhead_percent"] < TRACE_HOOK_LIMIT_PERCENT})
    for hook in results.get("module_hooks", []):
        out.append({"claim": f"module hooks when none is registered ({hook['backend']} backend)",
                    "size": hook["size"], "value": hook["overhead_percent"], "unit": "%",
                    "target": f"< {TRACE_HOOK_LIMIT_PERCENT:g} %",
                    "met": hook["overhead_percent"] < TRACE_HOOK_LIMIT_PERCENT})
    for chain in results.get("chain", []):
        if chain["backend"] == "python":
            out.append({"claim": f"backward through {chain['ops']:,} ops (python backend)", "size": "-",
                        "value": chain["backward_s"], "unit": "s", "target": f"< {CHAIN_LIMIT_SECONDS:g} s",
                        "met": chain["backward_s"] < CHAIN_LIMIT_SECONDS and chain["gradient_exact"]})
    return out


# ================================================================================================
# Rendering
# ================================================================================================


def _ms(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _ratio(a: dict, b: dict) -> str:
    if "median_ms" not in a or "median_ms" not in b:
        return "-"
    ratio = a["median_ms"] / b["median_ms"]
    return "<0.01×" if ratio < 0.01 else f"{ratio:,.2f}×" if ratio < 100 else f"{ratio:,.0f}×"


def render(results: dict, console) -> None:
    from rich.table import Table
    m = results["machine"]
    console.print(f"[bold]One SGD step of the MLP block[/] ({results['step']}), float64, "
                  f"median of up to {results['repeat']} timed steps (at most {results['budget_s']:g} s each) "
                  f"after a {results['check_steps']}-step loss check.")
    console.print(f"Python {m['python']} · {m['cpus']} CPUs · NumPy {m['numpy'] or '-'} "
                  f"(BLAS {m['blas_kernel'] or '?'}, threads: {m['blas_threads']}; "
                  f"OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE'] or 'unset'}) · "
                  f"PyTorch {m['torch'] or '-'} · micrograd {m['micrograd'] or '-'}")
    for size, data in results["sizes"].items():
        shape = data["shape"]
        table = Table(title=f"{size}: batch {shape['batch']}, d_model {shape['d_model']}, "
                            f"d_hidden {shape['d_hidden']}", title_justify="left")
        # At 80 columns only the implementation's description wraps (never inside "tinygrad_edu");
        # the numbers are never cut.
        table.add_column("implementation", min_width=len("tinygrad_edu"), overflow="fold")
        table.add_column("median\nms/step", justify="right", no_wrap=True)
        table.add_column("steps", justify="right", no_wrap=True)
        table.add_column("÷ hand\nPython", justify="right", no_wrap=True)
        table.add_column("÷ hand\nNumPy", justify="right", no_wrap=True)
        table.add_column(f"loss after\n{results['check_steps']} steps", justify="right", no_wrap=True)
        entries = data["results"]
        hand_python, hand_numpy = entries.get("hand_python", {}), entries.get("hand_numpy", {})
        skipped = [f"{entry['label']}: {entry['skipped']}" for entry in entries.values() if "skipped" in entry]
        if skipped:
            table.caption, table.caption_justify = "Not run: " + "; ".join(skipped), "left"
        for entry in entries.values():
            if "skipped" in entry:
                continue
            loss = f"{entry['losses'][-1]:.12f} " + ("[green]✓[/]" if entry["agrees"] else "[red]✗ differs[/]")
            if "median_ms" not in entry:
                table.add_row(entry["label"], "[red]not timed[/]", "", "", "", loss)
                continue
            table.add_row(entry["label"], _ms(entry["median_ms"]), str(len(entry["times_ms"])),
                          _ratio(entry, hand_python), _ratio(entry, hand_numpy), loss)
        console.print(table)
    if results.get("moons"):
        moons_demo.render(results["moons"], console)
    if results.get("trace_hook"):
        table = Table(title="The trace hook when no trace is recording (same step, hook compiled out)",
                      title_justify="left")
        for column in ("backend", "size", "with hook ms", "without ms", "overhead"):
            table.add_column(column, justify="left" if column in ("backend", "size") else "right")
        for hook in results["trace_hook"]:
            table.add_row(hook["backend"], hook["size"], _ms(hook["median_ms_with_hook"]),
                          _ms(hook["median_ms_without_hook"]), f"{hook['overhead_percent']:+.2f} %")
        console.print(table)
    if results.get("module_hooks"):
        table = Table(title="Module hooks when none is registered (the step through nn.MLPBlock, check compiled out)",
                      title_justify="left")
        for column in ("backend", "size", "with check ms", "without ms", "overhead", "ns per call with / without"):
            table.add_column(column, justify="left" if column in ("backend", "size") else "right")
        for hook in results["module_hooks"]:
            table.add_row(hook["backend"], hook["size"], _ms(hook["median_ms_with_check"]),
                          _ms(hook["median_ms_without_check"]), f"{hook['overhead_percent']:+.2f} %",
                          f"{hook['ns_per_call_with_check']:.0f} / {hook['ns_per_call_without_check']:.0f}")
        first = results["module_hooks"][0]
        extra = first["ns_per_call_with_check"] - first["ns_per_call_without_check"]
        table.caption = (f"{first['module_calls_per_step']} module calls per step × {extra:.0f} ns is "
                         f"{first['expected_overhead_percent']:+.2f} % of a step ({first['backend']} backend); "
                         "a measured overhead far from that is the machine's noise.")
        table.caption_justify = "left"
        console.print(table)
    if results.get("chain"):
        table = Table(title="A chain of ops (alternately * 1.0 and + 1.0), then backward()", title_justify="left")
        for column in ("backend", "ops", "forward s", "backward s", "gradient exactly 1"):
            table.add_column(column, justify="left" if column == "backend" else "right")
        for chain in results["chain"]:
            table.add_row(chain["backend"], f"{chain['ops']:,}", f"{chain['build_s']:.2f}",
                          f"{chain['backward_s']:.2f}", "[green]yes[/]" if chain["gradient_exact"] else "[red]no[/]")
        console.print(table)
    if results["targets"]:
        table = Table(title="Targets", title_justify="left")
        for column in ("claim", "size", "measured", "target", "met"):
            table.add_column(column, justify="right" if column in ("measured",) else "left")
        for target in results["targets"]:
            unit = target.get("unit")
            measured = (f"{target['value']:+.2f} %" if unit == "%" else f"{target['value']:.2f} s" if unit == "s"
                        else f"{target['value']:.2f}×")
            table.add_row(target["claim"], target["size"], measured, target["target"],
                          "[green]yes[/]" if target["met"] else "[red]no[/]")
        console.print(table)
    if not results["all_agree"]:
        console.print("[red]Some implementation computed a different loss: its timing means nothing.[/]")
