"""The computation graph of a tape, drawn as a Rich `Tree` from the loss down to the leaves.

Each forward event says "this output was made by this op from these inputs"; read backwards from
the loss, that is the tree the backward pass walks. A tensor used twice (a residual connection)
is drawn in full once and referred to as "(see above)" after that, so the drawing stays a tree
even though the graph is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from rich.tree import Tree

from .._format import shape_text
from .events import ForwardEvent, Snapshot

__all__ = ["Node", "build_graph", "graph_tree"]


@dataclass
class Node:
    """One tensor in the graph: how it was made (``op`` is None for a leaf) and from what."""

    snap: Snapshot
    op: str | None = None
    formula: str = ""            # the bound formula, for an op whose formula is not one statement
    value: str | None = None     # what the op set the tensor to: "x @ W.T" for "t1 = x @ W.T"
    parents: list[int] = field(default_factory=list)


def build_graph(tape) -> tuple[dict[int, Node], list[int]]:
    """Nodes by tensor key, and the roots: where backward started, else the last forward output."""
    nodes: dict[int, Node] = {}
    for event in tape:
        if not isinstance(event, ForwardEvent) or event.output is None:
            continue
        for snap in event.inputs:
            nodes.setdefault(snap.key, Node(snap))
        nodes[event.output.key] = Node(event.output, op=event.op,
                                       formula=event.bound_formula() or event.plain_formula(),
                                       value=event.bound_value(),
                                       parents=[s.key for s in event.inputs])
    roots = [key for key in getattr(tape, "roots", []) if key in nodes]
    if not roots:
        outputs = [e.output.key for e in tape if isinstance(e, ForwardEvent) and e.output is not None]
        roots = outputs[-1:]
    return nodes, list(dict.fromkeys(roots))


def _label(node: Node, repeated: bool) -> Text:
    text = Text(node.snap.name, style="bold")
    text.append(" " + shape_text(node.snap.shape), style="dim")
    if repeated:
        text.append("  (see above)", style="dim italic")
    elif node.op is None:
        kind = "leaf · trainable" if node.snap.requires_grad else "leaf"
        text.append(f"  {kind}", style="yellow" if node.snap.requires_grad else "dim")
    else:
        # "t2 = h @ W" is drawn as "t2 (5,) = h @ W": the name is already at the front.
        text.append(f" = {node.value}" if node.value is not None else f"  {node.formula}")
        text.append(f"  · {node.op}", style="cyan")
    return text


def graph_tree(tape, max_nodes: int = 200) -> Tree:
    """The graph as a Tree: each tensor's children are the inputs it was computed from."""
    nodes, roots = build_graph(tape)
    tree = Tree(Text("computation graph", style="bold"), guide_style="dim")
    if not roots:
        tree.add(Text("(no forward ops recorded)", style="dim"))
        return tree
    shown: set[int] = set()
    drawn = 0
    # Depth first with an explicit stack, children in input order: deep graphs must not recurse.
    stack = [(tree, key) for key in reversed(roots)]
    while stack:
        parent_branch, key = stack.pop()
        node = nodes[key]
        if drawn >= max_nodes:
            parent_branch.add(Text(f"… more (showing the first {max_nodes} nodes)", style="dim"))
            break
        drawn += 1
        repeated = key in shown
        branch = parent_branch.add(_label(node, repeated))
        if repeated:
            continue
        shown.add(key)
        for parent_key in reversed(node.parents):
            stack.append((branch, parent_key))
    return tree
