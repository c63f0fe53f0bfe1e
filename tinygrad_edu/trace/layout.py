"""Where to draw the boxes of a directed acyclic graph, left to right: a layered layout, computed here.

`layered_layout(sizes, edges)` takes each node's width and height and the edges between them, and
returns each node's place and each edge's route. It follows the classic four steps of a layered
("Sugiyama") drawing, each kept simple:

1. **Columns.** A node's column is one more than the furthest of its predecessors' (the longest path
   from the sources), so every edge points right. A source (a leaf: an input, a weight) is then moved
   right to sit just before the first node that uses it, instead of far back in column 0 (and so does
   any node with at least as many edges out as in, when that brings it nearer its successors).
2. **Placeholders.** An edge that spans several columns is cut into one-column pieces by a placeholder
   point in each column it crosses; the placeholders take part in the next two steps like nodes, so
   the long edge (a residual connection) gets its own lane and is drawn straight where it can be.
3. **Order within a column.** Sweeps left to right and back, each sorting a column by the mean position
   of each node's neighbours in the column just fixed (the barycenter heuristic), then swapping
   neighbours in a column while that removes crossings; the order with the fewest crossings is kept.
4. **Heights.** Columns stand side by side, as wide as their widest box. Within a column nodes keep
   their order, at least ``row_gap`` apart, and each is pulled towards the mean height of its
   neighbours: the best such placement (least squares, order kept) is an isotonic regression, solved
   exactly by pooling adjacent violators. Sweeps alternate left and right, then a final one uses both.

Nothing here knows what the nodes mean: the computation graph's drawing (`picture.py`) gives sizes
and reads back positions. Standard library only; no recursion, so deep graphs are fine.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Hashable, Mapping, Sequence

__all__ = ["Placed", "Layout", "layered_layout", "crossings"]


@dataclass(frozen=True)
class Placed:
    """A node's box: its top-left corner (``x``, ``y``), ``width``, ``height`` and column (``rank``)."""

    x: float
    y: float
    width: float
    height: float
    rank: int

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def center_y(self) -> float:
        return self.y + self.height / 2


@dataclass
class Layout:
    """Every node's `Placed` box, every edge's route, and the size of the whole drawing.

    ``routes[i]`` belongs to ``edges[i]``: points from the source's right side to the target's left
    side, in pairs. Between the points of a pair the edge crosses the gap between two columns (draw a
    curve); from the second point of a pair to the first of the next it runs straight through a column.
    ``order`` holds each column's nodes top to bottom (placeholders left out).
    """

    nodes: dict[Hashable, Placed]
    routes: list[list[tuple[float, float]]]
    width: float
    height: float
    order: list[list[Hashable]] = field(default_factory=list)


@dataclass(frozen=True)
class _Placeholder:
    """A point where a long edge crosses a column."""

    edge: int
    rank: int


def _ranks(nodes: Sequence[Hashable], successors: dict, predecessors: dict) -> dict[Hashable, int]:
    """Columns: the longest path from the sources; then each source moved next to its first user."""
    waiting = {node: len(predecessors[node]) for node in nodes}
    ready = deque(node for node in nodes if waiting[node] == 0)
    ordered = []
    while ready:
        node = ready.popleft()
        ordered.append(node)
        for successor in successors[node]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                ready.append(successor)
    if len(ordered) != len(nodes):
        stuck = [node for node in nodes if waiting[node] > 0]
        raise ValueError(f"layered_layout: the graph has a cycle through {stuck[:5]}")
    rank: dict[Hashable, int] = {}
    for node in ordered:
        rank[node] = max((rank[p] + 1 for p in predecessors[node]), default=0)
    # Then, from the sinks back, a node moves right up to its nearest successor when it has at least as
    # many edges out as in: its edges get no longer in total (a weight's transpose, made early and used
    # late, goes next to its use; a source always goes next to its first user).
    for node in reversed(ordered):
        if successors[node] and len(successors[node]) >= len(predecessors[node]):
            rank[node] = max(rank[node], min(rank[s] for s in successors[node]) - 1)
    return rank


def _inversions(sequence: list[int]) -> int:
    """How many pairs stand in the wrong order (merge sort, n log n)."""
    count = 0
    width = 1
    items = list(sequence)
    while width < len(items):
        merged = []
        for start in range(0, len(items), 2 * width):
            left, right = items[start:start + width], items[start + width:start + 2 * width]
            i = j = 0
            while i < len(left) and j < len(right):
                if right[j] < left[i]:
                    merged.append(right[j])
                    count += len(left) - i
                    j += 1
                else:
                    merged.append(left[i])
                    i += 1
            merged.extend(left[i:])
            merged.extend(right[j:])
        items = merged
        width *= 2
    return count


def _crossings_between(upper: list, lower: list, successors: dict) -> int:
    """Edge crossings between two neighbouring columns in these orders."""
    below = {node: k for k, node in enumerate(lower)}
    ends = sorted((k, below[s]) for k, node in enumerate(upper) for s in successors[node] if s in below)
    return _inversions([b for _, b in ends])


def crossings(columns: list[list], successors: dict) -> int:
    """Edge crossings of the whole drawing (every pair of neighbouring columns)."""
    return sum(_crossings_between(columns[r], columns[r + 1], successors) for r in range(len(columns) - 1))


def _sort_by_barycenter(column: list, fixed: list, neighbours: dict) -> list:
    """``column`` sorted by the mean position of each node's neighbours in ``fixed``; a node with none
    keeps its place (its own position, scaled to the fixed column's length)."""
    position = {node: k for k, node in enumerate(fixed)}
    scale = (len(fixed) - 1) / max(len(column) - 1, 1)

    def key(item):
        k, node = item
        seen = [position[n] for n in neighbours[node] if n in position]
        return (sum(seen) / len(seen) if seen else k * scale, k)

    return [node for _, node in sorted(enumerate(column), key=key)]


def _swap_neighbours(columns: list[list], successors: dict) -> None:
    """Swap adjacent nodes of a column while that lowers the crossings with both neighbouring columns."""
    improved = True
    while improved:
        improved = False
        for r, column in enumerate(columns):
            for k in range(len(column) - 1):
                before = _local_crossings(columns, r, successors)
                column[k], column[k + 1] = column[k + 1], column[k]
                if _local_crossings(columns, r, successors) < before:
                    improved = True
                else:
                    column[k], column[k + 1] = column[k + 1], column[k]


def _local_crossings(columns: list[list], r: int, successors: dict) -> int:
    total = 0
    if r > 0:
        total += _crossings_between(columns[r - 1], columns[r], successors)
    if r + 1 < len(columns):
        total += _crossings_between(columns[r], columns[r + 1], successors)
    return total


def _order(columns: list[list], successors: dict, predecessors: dict, sweeps: int) -> list[list]:
    """Barycenter sweeps (down and up), then neighbour swaps; the order with the fewest crossings."""
    best = [list(c) for c in columns]
    best_count = crossings(best, successors)
    current = [list(c) for c in columns]
    for _ in range(sweeps):
        if best_count == 0:
            break
        for r in range(1, len(current)):
            current[r] = _sort_by_barycenter(current[r], current[r - 1], predecessors)
        for r in range(len(current) - 2, -1, -1):
            current[r] = _sort_by_barycenter(current[r], current[r + 1], successors)
        count = crossings(current, successors)
        if count < best_count:
            best, best_count = [list(c) for c in current], count
    if best_count and sum(len(c) for c in best) <= 400:       # the swaps cost more on big graphs
        _swap_neighbours(best, successors)
    return best


def _isotonic(targets: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` in weighted least squares (pool adjacent violators)."""
    blocks: list[list[float]] = []          # [mean, weight, count]
    for target, weight in zip(targets, weights):
        blocks.append([target, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean2, weight2, count2 = blocks.pop()
            mean1, weight1, count1 = blocks.pop()
            total = weight1 + weight2
            blocks.append([(mean1 * weight1 + mean2 * weight2) / total, total, count1 + count2])
    result: list[float] = []
    for mean, _, count in blocks:
        result.extend([mean] * int(count))
    return result


def _place_column(column: list, centers: dict, desired: dict, height: dict, gap) -> None:
    """Move the column's centers as near ``desired`` as their order and the gaps allow."""
    offsets = [0.0]
    for above, below in zip(column, column[1:]):
        offsets.append(offsets[-1] + (height[above] + height[below]) / 2 + gap(above, below))
    targets = [desired.get(node, centers[node]) - offset for node, offset in zip(column, offsets)]
    weights = [1.0 if node in desired else 0.25 for node in column]
    for node, z, offset in zip(column, _isotonic(targets, weights), offsets):
        centers[node] = z + offset


def _heights(columns: list[list], height: dict, predecessors: dict, successors: dict, gap, passes: int) -> dict:
    """Each node's vertical center: columns stacked, then pulled towards the neighbours' mean."""
    centers: dict = {}
    for column in columns:
        y = 0.0
        for k, node in enumerate(column):
            if k:
                y += (height[column[k - 1]] + height[node]) / 2 + gap(column[k - 1], node)
            centers[node] = y
        middle = y / 2
        for node in column:
            centers[node] -= middle

    def mean_of(nodes):
        return sum(centers[n] for n in nodes) / len(nodes)

    def sweep(order, neighbours_of):
        for column in order:
            desired = {node: mean_of(neighbours_of(node)) for node in column if neighbours_of(node)}
            _place_column(column, centers, desired, height, gap)

    for _ in range(passes):
        sweep(columns, lambda n: predecessors[n])
        sweep(columns[::-1], lambda n: successors[n])
    sweep(columns, lambda n: predecessors[n] + successors[n])
    _straighten(columns, centers, height, gap)
    return centers


def _straighten(columns: list[list], centers: dict, height: dict, gap) -> None:
    """Put each long edge's placeholders on one line where the boxes beside them leave room.

    The candidates are the heights the placeholders already have; the one that moves them least and
    keeps every placeholder between its neighbours in its column (so no new crossing) wins.
    """
    where = {node: (r, k) for r, column in enumerate(columns) for k, node in enumerate(column)}
    lanes: dict[int, list[_Placeholder]] = {}
    for column in columns:
        for node in column:
            if isinstance(node, _Placeholder):
                lanes.setdefault(node.edge, []).append(node)

    def fits(point, y) -> bool:
        r, k = where[point]
        column = columns[r]
        if k > 0 and y - centers[column[k - 1]] < height[column[k - 1]] / 2 + gap(column[k - 1], point):
            return False
        if k + 1 < len(column) and centers[column[k + 1]] - y < height[column[k + 1]] / 2 + gap(point, column[k + 1]):
            return False
        return True

    for points in lanes.values():
        candidates = sorted({centers[p] for p in points}, key=lambda y: sum(abs(centers[p] - y) for p in points))
        for y in candidates:
            if all(fits(p, y) for p in points):
                for p in points:
                    centers[p] = y
                break


def _ports(ends: list, center: float, size: float) -> dict:
    """Where several edges meet one side of a node: spread around its middle, in the order of the other ends."""
    spacing = min(10.0, max(size - 8.0, 0.0) / max(len(ends), 1))
    ordered = sorted(range(len(ends)), key=lambda i: ends[i])
    return {i: center + (place - (len(ends) - 1) / 2) * spacing for place, i in enumerate(ordered)}


def layered_layout(sizes: Mapping[Hashable, tuple[float, float]], edges: Sequence[tuple[Hashable, Hashable]],
                   column_gap: float = 36.0, row_gap: float = 18.0, lane_gap: float = 10.0, margin: float = 16.0,
                   sweeps: int = 12, passes: int = 8) -> Layout:
    """Lay the graph out left to right.

    ``sizes``: node -> (width, height), in the order to prefer when nothing else decides (the order the
    nodes were made in). ``edges``: (source, target) pairs; the graph must have no cycle. ``column_gap``
    is the space between columns, ``row_gap`` between boxes in a column, ``lane_gap`` beside a long edge.
    """
    nodes = list(sizes)
    known = set(nodes)
    for source, target in edges:
        if source not in known or target not in known:
            raise KeyError(f"layered_layout: the edge {source!r} -> {target!r} names a node without a size")
    successors: dict = {node: [] for node in nodes}
    predecessors: dict = {node: [] for node in nodes}
    for source, target in edges:
        successors[source].append(target)
        predecessors[target].append(source)
    rank = _ranks(nodes, successors, predecessors)

    # Long edges are cut into one-column pieces; the pieces replace them while ordering and placing.
    chains: list[list] = []
    piece_succ: dict = {node: [] for node in nodes}
    piece_pred: dict = {node: [] for node in nodes}
    height: dict = {node: float(sizes[node][1]) for node in nodes}
    for index, (source, target) in enumerate(edges):
        chain = [source] + [_Placeholder(index, r) for r in range(rank[source] + 1, rank[target])] + [target]
        for point in chain[1:-1]:
            rank[point] = point.rank
            height[point] = 0.0
            piece_succ[point], piece_pred[point] = [], []
        for a, b in zip(chain, chain[1:]):
            piece_succ[a].append(b)
            piece_pred[b].append(a)
        chains.append(chain)

    count = max(rank.values(), default=-1) + 1
    columns: list[list] = [[] for _ in range(count)]
    for node in nodes:
        columns[rank[node]].append(node)
    for chain in chains:
        for point in chain[1:-1]:
            columns[point.rank].append(point)
    columns = _order(columns, piece_succ, piece_pred, sweeps)

    def gap(a, b) -> float:
        return lane_gap if isinstance(a, _Placeholder) or isinstance(b, _Placeholder) else row_gap

    centers = _heights(columns, height, piece_pred, piece_succ, gap, passes)
    top = min((centers[n] - height[n] / 2 for n in centers), default=0.0)
    shift = margin - top

    widths = [max((float(sizes[n][0]) for n in column if n in sizes), default=0.0) for column in columns]
    lefts, x = [], margin
    for w in widths:
        lefts.append(x)
        x += w + column_gap
    total_width = (x - column_gap + margin) if widths else 2 * margin
    placed = {node: Placed(x=lefts[rank[node]] + (widths[rank[node]] - sizes[node][0]) / 2,
                           y=centers[node] - height[node] / 2 + shift,
                           width=float(sizes[node][0]), height=height[node], rank=rank[node]) for node in nodes}
    total_height = max((p.bottom for p in placed.values()), default=0.0) + margin

    # Ports: the edges leaving (entering) a node spread along its right (left) side, in the order of
    # where they go (come from), so they neither cross at the node nor hide each other's arrowheads.
    def y_of(point) -> float:
        return centers[point] + shift

    leaving: dict = {node: [] for node in nodes}
    entering: dict = {node: [] for node in nodes}
    for index, chain in enumerate(chains):
        leaving[chain[0]].append((index, y_of(chain[1])))
        entering[chain[-1]].append((index, y_of(chain[-2])))
    start_y: dict[int, float] = {}
    end_y: dict[int, float] = {}
    for node in nodes:
        box = placed[node]
        for ends, store in ((leaving[node], start_y), (entering[node], end_y)):
            spread = _ports([y for _, y in ends], box.center_y, box.height)
            for place, (index, _) in enumerate(ends):
                store[index] = spread[place]

    routes = []
    for index, chain in enumerate(chains):
        source, target = placed[chain[0]], placed[chain[-1]]
        points = [(source.right, start_y[index])]
        for point in chain[1:-1]:
            left = lefts[point.rank]
            points += [(left, y_of(point)), (left + widths[point.rank], y_of(point))]
        points.append((target.x, end_y[index]))
        routes.append(points)
    order = [[n for n in column if not isinstance(n, _Placeholder)] for column in columns]
    return Layout(nodes=placed, routes=routes, width=total_width, height=total_height, order=order)
