"""The picture of the computation graph: its layout, its SVG (drawn here, no Graphviz) and its DOT text."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import trace
from tinygrad_edu.commands.demo import michael_jordan
from tinygrad_edu.trace.layout import crossings, layered_layout
from tinygrad_edu.trace.picture import ComputationGraph, SvgText
from tinygrad_edu.trace.target import run_target

SVG = "{http://www.w3.org/2000/svg}"


def block_tape():
    """The Michael Jordan block's step: forward, backward, one SGD update, with directions."""
    return run_target(michael_jordan).tape


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()]


def box_of(group: ET.Element) -> tuple[float, float, float, float]:
    rect = group.find(f"{SVG}rect")
    return tuple(float(rect.get(a)) for a in ("x", "y", "width", "height"))


def texts(group: ET.Element) -> list[str]:
    """Each line of text in the group, with runs of spaces (the columns' padding) read as one."""
    return [" ".join("".join(t.itertext()).split()) for t in group.iter(f"{SVG}text")]


def overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


# ---- the SVG of the block's step ----------------------------------------------------------------------

def test_the_svg_has_a_box_per_tensor_a_node_per_op_and_the_right_edges():
    tape = block_tape()
    svg = tape.graph_svg()
    root = parse(svg)
    forward = tape.forward
    tensor_keys = {s.key for e in forward for s in (*e.inputs, e.output)}
    tensors, ops = groups(root, "tensor"), groups(root, "op")
    assert len(tensors) == len(tensor_keys) == 16 and len(ops) == len(forward) == 10
    names = {g.get("data-name") for g in tensors}
    assert names == {s.name for e in forward for s in (*e.inputs, e.output)}
    # Every edge joins what the tape says: each input into its op, each op into its output.
    id_of = {g.get("data-name"): g.get("id") for g in tensors}
    expected = set()
    for event in forward:
        expected |= {(id_of[s.name], f"op-{event.step}") for s in event.inputs}
        expected.add((f"op-{event.step}", id_of[event.output.name]))
    drawn = [(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    assert len(drawn) == len(expected) and set(drawn) == expected
    # Each op node says what the op is, with this step's names.
    matmul = next(g for g in ops if g.get("id") == f"op-{forward[1].step}")
    assert matmul.get("data-op") == "MatMul"
    assert "t1 = x @ block.up.weight.T" in " ".join(texts(matmul))


def test_no_two_boxes_overlap_and_everything_is_inside_the_picture():
    root = parse(block_tape().graph_svg())
    width, height = float(root.get("width")), float(root.get("height"))
    boxes = [box_of(g) for g in groups(root, "tensor") + groups(root, "op")]
    for i, a in enumerate(boxes):
        x, y, w, h = a
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for b in boxes[i + 1:]:
            assert not overlap(a, b), (a, b)


def test_edges_run_left_to_right_from_box_to_box():
    root = parse(block_tape().graph_svg())
    box = {g.get("id"): box_of(g) for g in groups(root, "tensor") + groups(root, "op")}
    for path in root.iter(f"{SVG}path"):
        if path.get("class") != "edge":
            continue
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
        (x0, y0), (x1, y1) = numbers[:2], numbers[-2:]
        sx, sy, sw, sh = box[path.get("data-from")]
        tx, ty, tw, th = box[path.get("data-to")]
        assert x0 == pytest.approx(sx + sw, abs=0.2) and sy <= y0 <= sy + sh        # leaves the source's right side
        assert x1 == pytest.approx(tx, abs=0.2) and ty <= y1 <= ty + th            # enters the target's left side
        assert x1 > x0


def test_boxes_show_name_shape_values_gradient_and_update_and_mark_leaves_and_parameters():
    root = parse(block_tape().graph_svg())
    by_name = {g.get("data-name"): g for g in groups(root, "tensor")}
    weight = by_name["block.up.weight"]
    assert "parameter" in weight.get("class").split() and weight.get("data-shape") == "(2, 5)"
    lines = texts(weight)
    assert lines[0] == "block.up.weight" and lines[1] == "(2, 5)" and "parameter" in lines
    assert "data [1.00 1.00 0 0 0]" in lines and "grad [-1.00 -1.00 0 0 0]" in lines
    assert "after [1.10 1.10 0 0 0]" in lines                                   # w − 0.1·grad
    x = by_name["x"]
    assert "leaf" in x.get("class").split() and "leaf" in texts(x)
    assert "along +Michael +Jordan" in texts(x)
    loss = by_name["loss"]
    assert "loss" in loss.get("class").split() and "data -1.00" in texts(loss) and "grad 1.00" in texts(loss)
    y = by_name["y"]
    assert "intermediate" in y.get("class").split()
    assert "data [1.00 1.00 1.00 0 0]" in texts(y) and "grad [0 0 -1.00 0 0]" in texts(y)
    # The residual x is used twice; its gradient is what both uses sent back, summed, as .grad would hold.
    tape = block_tape()
    sent = [g for e in tape.backward for s, g in zip(e.inputs, e.input_grads) if s.name == "x" and g is not None]
    assert sent == []                                    # x needs no gradient: none is drawn
    assert not any(line.startswith("grad") for line in texts(x))


def test_gradients_of_a_tensor_used_twice_are_summed():
    a = tg.tensor([1.0, -2.0], requires_grad=True).named("a")
    with trace.record() as tape:
        loss = (a * a + a).sum().named("loss")
        loss.backward()
    graph = ComputationGraph.from_tape(tape)
    box = next(b for b in graph.tensors.values() if b.name == "a")
    assert box.role == "parameter"
    assert list(box.grad) == pytest.approx(a.grad.tolist())                      # 2a + 1
    assert list(box.grad) == pytest.approx([3.0, -3.0])


def test_before_backward_boxes_have_no_gradient_and_the_last_output_is_marked():
    x = tg.tensor([1.0, 2.0]).named("x")
    with trace.record() as tape:
        (x * 2.0).named("y")
    graph = ComputationGraph.from_tape(tape)
    roles = {b.name: b.role for b in graph.tensors.values()}
    assert roles == {"x": "leaf", "2": "leaf", "y": "output"}
    assert all(b.grad is None for b in graph.tensors.values())
    assert not any(line.startswith("grad") for g in groups(parse(graph.svg()), "tensor") for line in texts(g))


def test_an_empty_tape_draws_a_picture_that_says_so():
    with trace.record() as tape:
        pass
    svg = tape.graph_svg()
    root = parse(svg)
    assert not groups(root, "tensor") and "no forward ops recorded" in "".join(root.itertext())
    assert tape.to_dot().strip().startswith("digraph") and tape.to_dot().strip().endswith("}")


def test_names_with_markup_characters_stay_valid_xml_and_dot():
    x = tg.tensor([1.0], requires_grad=True).named('a<b & "c"')
    with trace.record() as tape:
        (x * 3.0).sum().named("{weird}").backward()
    root = parse(tape.graph_svg())
    assert {g.get("data-name") for g in groups(root, "tensor")} >= {'a<b & "c"', "{weird}"}
    check_dot(tape.to_dot(), ComputationGraph.from_tape(tape))


def test_svg_text_is_a_string_that_shows_as_a_picture():
    svg = block_tape().graph_svg()
    assert isinstance(svg, str) and isinstance(svg, SvgText)
    assert svg._repr_svg_() == str(svg)
    bundle = svg._repr_mimebundle_()
    assert bundle["image/svg+xml"] == str(svg) and "<svg" in bundle["text/html"]
    assert "16 tensors, 10 ops" in repr(svg) and len(repr(svg)) < 120


def test_the_same_tape_draws_the_same_picture():
    assert block_tape().graph_svg() == block_tape().graph_svg()


# ---- DOT ---------------------------------------------------------------------------------------------

def check_dot(dot: str, graph: ComputationGraph) -> None:
    """A small check of the DOT text: braces balance, one node line per tensor and per op, edges name them."""
    assert dot.lstrip().startswith("digraph") and dot.count("{") - dot.count("\\{") == dot.count("}") - dot.count("\\}")
    depth = 0
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', dot):      # braces outside quoted strings
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    node_lines = [line for line in dot.splitlines() if re.match(r'\s*"(tensor|op)-\d+" \[', line)]
    tensor_lines = [line for line in node_lines if line.strip().startswith('"tensor-')]
    assert len(tensor_lines) == len(graph.tensors) and len(node_lines) == len(graph.tensors) + len(graph.ops)
    for box in graph.tensors.values():
        line = next(line for line in tensor_lines if line.strip().startswith(f'"{box.node_id}"'))
        escaped = box.name.replace("\\", "\\\\").replace('"', '\\"')
        assert f'label="{escaped}' in line
    edges = re.findall(r'^\s*"([\w-]+)" -> "([\w-]+)";$', dot, flags=re.M)
    assert edges == graph.edges()


def test_dot_has_a_node_line_per_tensor_and_op_and_an_edge_per_use():
    tape = block_tape()
    graph = ComputationGraph.from_tape(tape)
    dot = tape.to_dot()
    check_dot(dot, graph)
    assert "rankdir=LR" in dot and dot.count(" -> ") == sum(len(e.inputs) + 1 for e in tape.forward)
    assert "t1 = x @ block.up.weight.T" in dot and "parameter" in dot


def test_the_dot_check_can_fail():
    graph = ComputationGraph.from_tape(block_tape())
    dot = graph.dot()
    with pytest.raises(AssertionError):
        check_dot(dot.replace("}\n", "", 1), graph)
    with pytest.raises(AssertionError):
        check_dot("\n".join(line for line in dot.splitlines() if '"tensor-1" [' not in line), graph)


# ---- the layout on its own ------------------------------------------------------------------------------

@st.composite
def random_dags(draw):
    """A random DAG: node i may take edges from earlier nodes only (so no cycle), sizes drawn too."""
    n = draw(st.integers(1, 14))
    sizes = {f"n{i}": (draw(st.integers(10, 120)), draw(st.integers(10, 80))) for i in range(n)}
    edges = []
    for j in range(1, n):
        for i in draw(st.lists(st.integers(0, j - 1), max_size=3, unique=True)):
            edges.append((f"n{i}", f"n{j}"))
    return sizes, edges


@settings(max_examples=60, deadline=None)
@given(random_dags())
def test_layout_columns_point_right_and_boxes_never_overlap(dag):
    sizes, edges = dag
    layout = layered_layout(sizes, edges)
    placed = layout.nodes
    assert set(placed) == set(sizes)
    for name, (w, h) in sizes.items():
        assert placed[name].width == w and placed[name].height == h
        assert 0 <= placed[name].x and placed[name].right <= layout.width
        assert 0 <= placed[name].y and placed[name].bottom <= layout.height
    for source, target in edges:
        assert placed[source].rank < placed[target].rank and placed[source].right < placed[target].x
    names = list(placed)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            pa, pb = placed[a], placed[b]
            assert not overlap((pa.x, pa.y, pa.width, pa.height), (pb.x, pb.y, pb.width, pb.height)), (a, b)
    for (source, target), route in zip(edges, layout.routes):
        assert route[0][0] == pytest.approx(placed[source].right) and route[-1][0] == pytest.approx(placed[target].x)
        xs = [x for x, _ in route]
        assert xs == sorted(xs) and len(route) % 2 == 0


def test_barycenter_ordering_untangles_a_crossed_pair():
    # a0 -> b1 and a1 -> b0 cross when drawn in the order given; the ordering step uncrosses them.
    sizes = {name: (20, 20) for name in ("a0", "a1", "b0", "b1")}
    edges = [("a0", "b1"), ("a1", "b0"), ("a0", "c"), ("a1", "c"), ("b0", "c"), ("b1", "c")]
    sizes["c"] = (20, 20)
    layout = layered_layout(sizes, edges)
    successors = {n: [t for s, t in edges if s == n] for n in sizes}
    assert crossings(layout.order, successors) == 0
    assert crossings([["a0", "a1"], ["b0", "b1"]], {"a0": ["b1"], "a1": ["b0"], "b0": [], "b1": []}) == 1


def test_a_long_edge_is_drawn_straight_through_the_columns_it_crosses():
    # x feeds both the start and the end of a chain (a residual connection).
    chain = ["x", "f1", "h1", "f2", "h2", "f3", "y"]
    sizes = {name: (40, 30) for name in chain}
    edges = list(zip(chain, chain[1:])) + [("x", "f3")]
    layout = layered_layout(sizes, edges)
    route = layout.routes[-1]
    assert len(route) == 2 + 2 * (layout.nodes["f3"].rank - layout.nodes["x"].rank - 1)
    middle = [y for _, y in route[1:-1]]
    assert len(set(middle)) == 1, "the placeholders share one lane"


def test_a_cycle_is_refused_with_the_nodes_named():
    with pytest.raises(ValueError, match="cycle"):
        layered_layout({"a": (1, 1), "b": (1, 1)}, [("a", "b"), ("b", "a")])
    with pytest.raises(KeyError, match="without a size"):
        layered_layout({"a": (1, 1)}, [("a", "zz")])


def test_the_readme_figure_is_the_commands_picture_of_the_block():
    """README shows tutorials/figures/trace-graph.svg, made by `tinygrad-edu trace --graph`: the same boxes."""
    from pathlib import Path

    root_dir = Path(__file__).resolve().parent.parent
    assert "tutorials/figures/trace-graph.svg" in (root_dir / "README.md").read_text(encoding="utf-8")
    committed = parse((root_dir / "tutorials" / "figures" / "trace-graph.svg").read_text(encoding="utf-8"))
    current = parse(block_tape().graph_svg())
    for kind in ("tensor", "op"):
        assert sorted(g.get("id") for g in groups(committed, kind)) == sorted(g.get("id") for g in groups(current, kind))
    assert {g.get("data-name") for g in groups(committed, "tensor")} == {g.get("data-name") for g in groups(current, "tensor")}


def test_loading_weights_while_recording_adds_no_step_to_the_graph():
    """A traced function that builds its model (as the demo does) draws the model's computation only."""
    from tinygrad_edu import nn

    with trace.record() as tape:
        layer = nn.Linear(2, 1)
        layer.load_state_dict({"weight": tg.tensor([[1.0, -1.0]]), "bias": tg.tensor([0.5])})
        layer(tg.tensor([2.0, 3.0]).named("x")).sum().named("loss").backward()
    assert [e.op for e in tape.forward] == ["Permute", "MatMul", "Add", "Sum"]
    graph = ComputationGraph.from_tape(tape)
    assert len(graph.ops) == 4 and {b.role for b in graph.tensors.values()} >= {"parameter", "leaf", "loss"}
