"""Tensors, tapes, events, the summary table and the graph in Jupyter; stepping through a trace there.

The last test runs a notebook on a real ipykernel (nbclient) and reads what each cell displayed;
the others call the display methods directly, as IPython would.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

import tinygrad_edu as tg
from tinygrad_edu import trace
from tinygrad_edu.commands.demo import michael_jordan
from tinygrad_edu.trace.pages import PageList, ipywidgets_installed
from tinygrad_edu.trace.render import summary_table
from tinygrad_edu.trace.target import run_target

WIDTH = 100
SVG = "{http://www.w3.org/2000/svg}"


def block_tape():
    return run_target(michael_jordan).tape


def visible_text(html: str) -> str:
    """The text a reader sees in an HTML output (tags dropped, entities read)."""
    import html as html_text

    return html_text.unescape(re.sub(r"<[^>]+>", "", html))


# ---- each object's display, as IPython asks for it ---------------------------------------------------

def test_a_tensor_shows_its_grid_and_gradient_as_html_and_keeps_its_repr_as_text():
    x = tg.tensor([[1.0, -2.0], [0.5, 0.0]], requires_grad=True).named("x")
    (x * x).sum().backward()
    bundle = x._repr_mimebundle_()
    assert bundle["text/plain"] == repr(x)
    html = bundle["text/html"]
    assert html.startswith("<pre") and "(2, 2) float64" in html and "requires_grad=True" in html
    seen = visible_text(html)
    assert "grad" in seen and "-4.00" in seen and "2.00" in seen                      # ∂/∂x of Σx² is 2x
    assert re.search(r"color: #[0-9a-f]{6}", html), "the values are coloured as in the terminal"
    assert set(x._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}


def test_a_tape_shows_its_summary_not_a_one_line_repr():
    tape = block_tape()
    bundle = tape._repr_mimebundle_()
    for kind in ("text/html", "text/plain"):
        seen = visible_text(bundle[kind]) if kind == "text/html" else bundle[kind]
        assert "tape: 24 steps" in seen and "10 forward" in seen and "4 update" in seen
        assert "t1 = x @ block.up.weight.T" in seen and not seen.startswith("Tape(")
    assert repr(tape).startswith("Tape(24 events")            # repr itself stays short, for debugging


def test_an_event_shows_its_panel_and_reads_as_one_line():
    tape = block_tape()
    event = tape[1]
    assert repr(event) == "<ForwardEvent step 2 of 24 · MatMul · t1 = x @ block.up.weight.T>"
    assert repr(tape[12]) == "<BackwardEvent step 13 of 24 · Add · ∂L/∂y → ∂L/∂delta>"
    assert repr(tape.updates[0]).endswith("block.up.weight: w ← w − 0.1·g>")
    assert repr(event.output) == "<Snapshot t1 (2,) float64>"
    bundle = event._repr_mimebundle_()
    seen = visible_text(bundle["text/html"])
    assert "step 2 of 24 · forward · MatMul" in seen and "t1 = x @ block.up.weight.T" in seen
    assert "ForwardEvent(" not in bundle["text/plain"] and "step 2 of 24" in bundle["text/plain"]
    snap = event.output._repr_mimebundle_()
    assert "t1" in visible_text(snap["text/html"]) and "(2,)" in snap["text/plain"]


def test_the_summary_table_shows_as_a_table():
    bundle = summary_table(list(block_tape()))._repr_mimebundle_()
    assert "object at 0x" not in bundle["text/plain"]
    assert "what happened" in visible_text(bundle["text/html"]) and "h = max(u, 0)" in bundle["text/plain"]


def test_the_graph_shows_as_its_picture():
    graph = block_tape().graph()
    bundle = graph._repr_mimebundle_()
    root = ET.fromstring(bundle["image/svg+xml"])
    assert len([g for g in root.iter(f"{SVG}g") if "tensor" in (g.get("class") or "").split()]) == 16
    assert "<svg" in bundle["text/html"] and "overflow-x:auto" in bundle["text/html"]
    assert "computation graph" in bundle["text/plain"]


def test_without_widgets_the_pages_are_a_list_of_folded_sections_the_first_one_open():
    tape = block_tape()
    pages = trace.browse(tape, widgets=False, width=WIDTH)
    assert isinstance(pages, PageList) and len(pages) == 24
    html = pages._repr_mimebundle_()["text/html"]
    sections = re.findall(r"<details( open)?><summary>(.*?)</summary>", html)
    assert len(sections) == 24 + 2                                           # the steps, the summary, the graph
    assert sections[0][0] == " open" and not any(opened for opened, _ in sections[1:])
    titles = [title for _, title in sections]
    assert titles[1] == "step 2 of 24 · forward · MatMul · t1 = x @ block.up.weight.T"
    assert titles[-1] == "computation graph" and "<svg" in html.split("computation graph</summary>")[1]
    assert titles[20] == "step 21 of 24 · update · block.up.weight: w ← w − 0.1·g"
    text = pages._repr_mimebundle_()["text/plain"]
    assert text.count("step ") >= 24 and "step 24 of 24" in text


def test_the_demo_pages_can_be_browsed_as_a_list_too():
    from rich.text import Text

    pages = trace.browse([Text("first page"), Text("second page")], widgets=False, width=WIDTH)
    html = pages._repr_mimebundle_()["text/html"]
    assert "page 1 of 2" in html and "second page" in html and "computation graph" not in html


def test_with_widgets_the_buttons_step_as_the_terminal_keys_do():
    pytest.importorskip("ipywidgets")
    browser = trace.browse(block_tape(), widgets=True, width=WIDTH)
    first = browser.view.value
    assert "step 1 of 24" in visible_text(first) and browser.back.disabled and not browser.next.disabled
    browser.next.click()
    assert browser.stepper.index == 1 and "step 2 of 24" in visible_text(browser.view.value)
    browser.back.click()
    assert browser.view.value == first
    browser.jump.value = 21
    assert "step 21 of 24" in visible_text(browser.view.value) and "21/24" in browser.status.value
    browser.graph.value = True
    assert browser.stepper.view == "graph" and "<svg" in browser.view.value
    browser.summary.value = True
    assert browser.stepper.view == "summary" and not browser.graph.value
    browser.summary.value = False
    assert browser.stepper.view == "step" and "step 21 of 24" in visible_text(browser.view.value)
    browser.jump.value = 24
    assert browser.next.disabled


# ---- on a real kernel ----------------------------------------------------------------------------------

CELLS = [
    ("setup", "import tinygrad_edu as tg\n"
              "from tinygrad_edu import trace\n"
              "from tinygrad_edu.commands.demo import michael_jordan\n"
              "from tinygrad_edu.trace.render import summary_table\n"
              "from tinygrad_edu.trace.target import run_target\n"
              "tape = run_target(michael_jordan).tape"),
    ("tensor", 'x = tg.tensor([[1.0, -2.0], [0.5, 0.0]], requires_grad=True).named("x")\n'
               "(x * x).sum().backward()\n"
               "x"),
    ("tape", "tape"),
    ("event", "tape[1]"),
    ("snapshot", "tape[1].output"),
    ("summary", "summary_table(list(tape))"),
    ("graph", "tape.graph()"),
    ("svg", "tape.graph_svg()"),
    ("show", "trace.show(tape)"),
    ("list", "trace.browse(tape, widgets=False)"),
    ("browse", "trace.browse(tape)"),
    ("loaded", 'trace.save_json(tape, "trace.json")\n'
               'trace.load_json("trace.json")'),
]


def notebook() -> dict:
    return {"cells": [{"cell_type": "code", "id": name, "metadata": {}, "execution_count": None, "outputs": [],
                       "source": source} for name, source in CELLS],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_a_notebook_shows_every_object_properly_on_a_real_kernel(tmp_path):
    from test_notebooks import execute, problems

    node = execute(notebook(), tmp_path)
    assert not problems(node), "\n\n".join(problems(node))
    outputs = {cell.id: cell.outputs for cell in node.cells}

    def result(name) -> dict:
        found = [o for o in outputs[name] if o.output_type == "execute_result"]
        assert len(found) == 1, f"cell {name}: {[o.output_type for o in outputs[name]]}"
        return found[0].data

    every_text = json.dumps([o.get("data", {}).get("text/plain", "") for outs in outputs.values() for o in outs])
    assert "object at 0x" not in every_text and "Tape(24" not in every_text and "ForwardEvent(step=" not in every_text

    tensor = result("tensor")
    assert tensor["text/plain"].startswith("tensor([[ 1.0000, -2.0000]")
    assert "(2, 2) float64" in tensor["text/html"] and "grad" in visible_text(tensor["text/html"])

    tape = result("tape")
    assert "tape: 24 steps" in visible_text(tape["text/html"])
    # In a notebook Rich draws 115 columns wide: the summary's formulas fit on one line each.
    assert "t1 = x @ block.up.weight.T" in visible_text(tape["text/html"])

    event = visible_text(result("event")["text/html"])
    assert "step 2 of 24 · forward · MatMul" in event and "t1 = x @ block.up.weight.T" in event
    assert "t1" in visible_text(result("snapshot")["text/html"])
    assert "what happened" in visible_text(result("summary")["text/html"])

    for name in ("graph", "svg"):
        data = result(name)
        root = ET.fromstring(data["image/svg+xml"])
        assert len([g for g in root.iter(f"{SVG}g") if (g.get("class") or "").split()[:1] == ["op"]]) == 10
        assert "<svg" in data["text/html"]

    shown = [o for o in outputs["show"] if o.output_type == "display_data"]
    assert len(shown) == 24, "trace.show draws one panel per step"
    assert all(f"step {i} of 24" in visible_text(o.data["text/html"]) for i, o in enumerate(shown, start=1))

    listed = result("list")["text/html"]
    assert listed.count("<details") == 26 and "step 24 of 24" in listed

    if ipywidgets_installed():      # a widget is displayed (display_data), not returned as a result
        widgets = [o for o in outputs["browse"] if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert len(widgets) == 1
    else:
        assert result("browse")["text/html"].count("<details") == 26

    loaded = result("loaded")
    assert visible_text(loaded["text/html"]) == visible_text(tape["text/html"]), "a loaded tape shows the same"
