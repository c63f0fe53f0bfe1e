"""How an MLP block can store "Michael Jordan plays basketball": hand-built, then learned.

1. Hand-built (`hand_built_block`, `hand_built_example`). With M, J, B the directions of "first name
   Michael", "last name Jordan" and "basketball":

       row 0 of W_up   = M + J,  b_up[0] = −1      neuron 0 = relu((M + J)·x − 1)
       column 0 of W_down = B                         when neuron 0 fires, B is added to x

   For x = M + J the neuron is (1 + 1 + 2 M·J) − 1 ≈ 1; for M alone it is (1 + M·J) − 1 ≈ 0 and ReLU
   keeps it ≈ 0: an AND gate. A second neuron stores "Michael Phelps plays swimming" the same way.
   With orthonormal directions every number is exact; with random unit vectors in 12,288 dimensions
   (GPT-3's width) the dot products M·J are ≈ ±0.01, so the results are ≈ 1 and ≈ 0.

2. Learned (`train`): a fact store. Every (first, last) → sport fact is embedded as the sum of the two
   name directions; an MLP block is trained so that its output (the residual stream after the block)
   has dot product 1 with the right sport's direction and 0 with the others. Single names ("Michael"
   alone) are trained to give 0 everywhere, so the block must learn conjunctions, not single names.
"""
from __future__ import annotations

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.directions import Directions

from . import TrainResult, notify

__all__ = ["HAND_BUILT_VOCAB", "HAND_BUILT_CASES", "FACTS", "choose_facts", "hand_built_block", "hand_built_example",
           "FactStore", "train", "report"]

# The hand-built example's vocabulary: the fact's three directions and a few distractors.
HAND_BUILT_VOCAB = ["Michael", "Jordan", "basketball", "Phelps", "swimming", "LeBron", "tennis"]
# (label, names summed into the input vector)
HAND_BUILT_CASES = [
    ("Michael Jordan", ["Michael", "Jordan"]),
    ("Michael", ["Michael"]),
    ("Jordan", ["Jordan"]),
    ("Michael Phelps", ["Michael", "Phelps"]),
    ("LeBron Jordan", ["LeBron", "Jordan"]),
    ("(nothing)", []),
]
# (neuron, first name, last name, sport): one AND gate per fact.
HAND_BUILT_FACTS = [(0, "Michael", "Jordan", "basketball"), (1, "Michael", "Phelps", "swimming")]

# Facts for the learned fact store. First and last names repeat across facts ("Michael" four times,
# "Williams" twice), so no single name decides the sport: the block has to combine both.
FACTS = [
    ("Michael", "Jordan", "basketball"),
    ("Michael", "Phelps", "swimming"),
    ("Serena", "Williams", "tennis"),
    ("Michael", "Schumacher", "racing"),
    ("Venus", "Williams", "tennis"),
    ("Michael", "Johnson", "running"),
    ("LeBron", "James", "basketball"),
    ("Tiger", "Woods", "golf"),
    ("Lionel", "Messi", "soccer"),
    ("Usain", "Bolt", "running"),
    ("Simone", "Biles", "gymnastics"),
    ("Roger", "Federer", "tennis"),
    ("Lewis", "Hamilton", "racing"),
    ("Katie", "Ledecky", "swimming"),
    ("Tom", "Brady", "football"),
    ("Wayne", "Gretzky", "hockey"),
    ("Babe", "Ruth", "baseball"),
    ("Magnus", "Carlsen", "chess"),
    ("Muhammad", "Ali", "boxing"),
    ("Kobe", "Bryant", "basketball"),
]


# ------------------------------------------------------------------------------ hand-built
def hand_built_block(dirs: Directions, d_hidden: int = 2) -> nn.MLPBlock:
    """An MLP block whose neurons are AND gates for the facts in HAND_BUILT_FACTS (other weights 0)."""
    if d_hidden < len(HAND_BUILT_FACTS):
        raise ValueError(f"hand_built_block: d_hidden={d_hidden} is smaller than the {len(HAND_BUILT_FACTS)} facts")
    dim = dirs.dim
    up_rows = [[0.0] * dim for _ in range(d_hidden)]
    up_bias = [0.0] * d_hidden
    down_columns = [[0.0] * dim for _ in range(d_hidden)]
    for neuron, first, last, sport in HAND_BUILT_FACTS:
        up_rows[neuron] = dirs.embed([first, last]).tolist()     # the question: "first AND last?"
        up_bias[neuron] = -1.0                                    # ≈2 when both are present -> ≈1
        down_columns[neuron] = dirs[sport].tolist()              # the answer added to the stream
    down_weight = [[down_columns[j][i] for j in range(d_hidden)] for i in range(dim)]
    block = nn.MLPBlock(dim, d_hidden, activation="relu", seed=0)
    block.load_state_dict({"up.weight": tg.tensor(up_rows), "up.bias": tg.tensor(up_bias),
                           "down.weight": tg.tensor(down_weight), "down.bias": tg.zeros(dim)})
    return block


def hand_built_example(dim: int | None = None, seed: int = 0) -> dict:
    """Run the hand-built block on every case in HAND_BUILT_CASES.

    ``dim=None``: orthonormal directions, one dimension per word (exact numbers). Otherwise random
    unit vectors in ``dim`` dimensions drawn with ``seed``. Returns a dict with ``directions``,
    ``block``, the pairwise dot products of the directions and, per case, the neurons' values, the
    input's and the output's dot product with every direction.
    """
    dirs = (Directions.orthonormal(HAND_BUILT_VOCAB) if dim is None
            else Directions.random(HAND_BUILT_VOCAB, dim, seed=seed))
    block = hand_built_block(dirs)
    cases = []
    with tg.no_grad():
        for label, names in HAND_BUILT_CASES:
            x = dirs.embed(names)
            pre = block.up(x)                       # (M + J)·x − 1, before ReLU
            hidden = block.hidden(x)
            out = block(x)
            cases.append({
                "label": label,
                "names": list(names),
                "pre_activation": pre.tolist(),
                "neurons": hidden.tolist(),
                "input": dirs.project(x),
                "added": dirs.project(out - x),
                "output": dirs.project(out),
            })
    gram = {a: {b: dirs.cosine(a, b) for b in dirs.names} for a in dirs.names}
    return {"directions": dirs, "block": block, "dim": dirs.dim, "kind": "orthonormal" if dim is None else "random",
            "seed": seed, "dots": gram, "cases": cases, "facts": HAND_BUILT_FACTS}


# ------------------------------------------------------------------------------ learned
class FactStore(nn.Module):
    """An MLP block plus the fixed token directions: names in, one score per sport out.

    score_s(x) = (x + block.delta(x)) · sport_s: the residual stream after the block, read along
    each sport's direction.
    """

    def __init__(self, facts, dim: int, d_hidden: int, seed: int = 0):
        super().__init__()
        self.facts = [tuple(f) for f in facts]
        self.firsts = sorted({f for f, _, _ in self.facts})
        self.lasts = sorted({l for _, l, _ in self.facts})
        self.sports = sorted({s for _, _, s in self.facts})
        names = _unique(self.firsts + self.lasts + self.sports)
        self.directions = Directions.random(names, dim, seed=seed)
        self.block = nn.MLPBlock(dim, d_hidden, activation="relu", seed=seed + 1)
        self.sport_matrix = tg.tensor([self.directions[s].tolist() for s in self.sports])   # (S, dim)

    def embed(self, names_list) -> tg.Tensor:
        return tg.stack([self.directions.embed(names) for names in names_list])

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        return self.block(x) @ self.sport_matrix.T

    def examples(self):
        """Inputs and targets: every fact (score 1 on its sport) and every single name (all scores 0)."""
        inputs, targets, labels = [], [], []
        for first, last, sport in self.facts:
            inputs.append([first, last])
            targets.append([1.0 if s == sport else 0.0 for s in self.sports])
            labels.append(f"{first} {last}")
        for name in self.firsts + [n for n in self.lasts if n not in self.firsts]:
            inputs.append([name])
            targets.append([0.0] * len(self.sports))
            labels.append(name)
        return inputs, tg.tensor(targets), labels


def _unique(names):
    seen, out = set(), []
    for n in names:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


def evaluate(model: FactStore) -> dict:
    """Recall on the facts, false alarms on single names, and which neurons fire for each fact."""
    inputs, _, labels = model.examples()
    n_facts = len(model.facts)
    with tg.no_grad():
        x = model.embed(inputs)
        scores = model(x).tolist()
        hidden = model.block.hidden(x).tolist()
    per_fact, correct = [], 0
    for i, (first, last, sport) in enumerate(model.facts):
        row = scores[i]
        best = max(range(len(row)), key=row.__getitem__)
        ok = model.sports[best] == sport and row[best] > 0.5
        correct += ok
        per_fact.append({"fact": f"{first} {last}", "sport": sport, "predicted": model.sports[best],
                         "score": row[model.sports.index(sport)], "correct": bool(ok)})
    single = scores[n_facts:]
    false_alarms = sum(1 for row in single if max(row) > 0.5)
    # Which neurons carry each fact? A neuron "fires" for an input when it exceeds a quarter of its largest
    # value over the facts. It acts as an AND gate for a fact when it fires for the full name but for neither
    # name alone (each alone gives less than a quarter of its value on the pair).
    d_hidden = len(hidden[0])
    row_of = {label: k for k, label in enumerate(labels)}
    peak = [max(hidden[i][j] for i in range(n_facts)) for j in range(d_hidden)]
    fires = [[j for j in range(d_hidden) if peak[j] > 1e-6 and hidden[i][j] > 0.25 * peak[j]]
             for i in range(len(inputs))]
    gates: dict[int, list[int]] = {}          # neuron -> facts it is an AND gate for
    for i, (first, last, _) in enumerate(model.facts):
        alone = [hidden[row_of[first]], hidden[row_of[last]]]
        for j in fires[i]:
            if all(a[j] < 0.25 * hidden[i][j] for a in alone):
                gates.setdefault(j, []).append(i)
    sports_of = {j: {model.facts[i][2] for i in range(n_facts) if j in fires[i]} for j in range(d_hidden)}
    shared = [j for j in range(d_hidden) if len(sports_of[j]) >= 2]
    for i, entry in enumerate(per_fact):
        order = sorted(fires[i], key=lambda j: -hidden[i][j])
        entry["neurons"] = order
        entry["activations"] = [hidden[i][j] for j in order]
        entry["and_gates"] = [j for j in order if i in gates.get(j, [])]
        entry["fact_counts"] = [sum(1 for k in range(n_facts) if j in fires[k]) for j in order]
    return {"recall": correct / n_facts, "correct": correct, "facts": n_facts,
            "single_names": len(single), "false_alarms": false_alarms,
            "and_like_neurons": sorted(gates), "shared_neurons": shared,
            "active_neurons": sum(1 for p in peak if p > 1e-6), "per_fact": per_fact, "labels": labels}


def choose_facts(facts, all_facts=None):
    """None: every fact; an integer n: the first n; otherwise the given (first, last, sport) triples."""
    all_facts = FACTS if all_facts is None else all_facts
    if facts is None:
        return list(all_facts)
    if isinstance(facts, int):
        if not 1 <= facts <= len(all_facts):
            raise ValueError(f"facts must be between 1 and {len(all_facts)}, got {facts}")
        return list(all_facts[:facts])
    return [tuple(f) for f in facts]


def train(steps: int | None = None, seed: int = 0, on_step=None, facts=None, dim: int = 64,
          d_hidden: int = 32, lr: float = 1e-2) -> TrainResult:
    """Train a fact store with Adam on the full set of examples (full batch) with MSE on the scores."""
    steps = 400 if steps is None else int(steps)
    facts = choose_facts(facts)
    model = FactStore(facts, dim, d_hidden, seed=seed)
    inputs, targets, _ = model.examples()
    x = model.embed(inputs)
    opt = optim.Adam(model.named_parameters(), lr=lr)
    losses = []
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = F.mse_loss(model(x), targets)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        notify(on_step, step, steps, losses[-1])
    result = evaluate(model)
    metrics = {"loss": losses[-1] if losses else float("nan"), "recall": result["recall"],
               "facts_recalled": result["correct"], "facts": result["facts"],
               "false_alarms_on_single_names": result["false_alarms"], "single_names": result["single_names"],
               "and_like_neurons": len(result["and_like_neurons"]), "shared_neurons": len(result["shared_neurons"]),
               "active_neurons": result["active_neurons"], "hidden_neurons": d_hidden}
    config = {"steps": steps, "seed": seed, "dim": dim, "d_hidden": d_hidden, "lr": lr, "facts": len(facts),
              "optimizer": "Adam", "loss": "MSE of the sport scores"}
    return TrainResult("facts", metrics, losses, config,
                       state={"model": model.state_dict(), "config": config,
                              "facts": [list(f) for f in model.facts]},
                       details={**result, "summary": ["loss", "recall", "facts_recalled", "facts",
                                                      "false_alarms_on_single_names", "and_like_neurons",
                                                      "shared_neurons", "active_neurons", "hidden_neurons"]})


def report(result: TrainResult):
    """A table: each fact, its predicted sport and score, and the strongest neurons that fire for it."""
    from rich.table import Table

    d = result.details
    table = Table(title="Facts recalled by the trained MLP block", title_justify="left")
    for col in ("fact", "sport", "predicted", "score", "strongest neurons: value, [AND], facts it fires for"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for entry in d["per_fact"]:
        shown = []
        for j, a, n in list(zip(entry["neurons"], entry["activations"], entry["fact_counts"]))[:3]:
            tag = " [green]AND[/]" if j in entry["and_gates"] else ""
            shown.append(f"#{j} {a:.2f}{tag} ×{n}")
        more = len(entry["neurons"]) - len(shown)
        mark = "[green]✓[/]" if entry["correct"] else "[red]✗[/]"
        table.add_row(entry["fact"], entry["sport"], f"{entry['predicted']} {mark}", f"{entry['score']:.3f}",
                      "; ".join(shown) + (f" (+{more})" if more > 0 else ""))
    note = (f"{len(d['and_like_neurons'])} of {d['active_neurons']} active neurons act as an AND gate for at least "
            "one fact (they fire for the full name and for neither name alone); "
            f"{len(d['shared_neurons'])} fire for facts of different sports. ×n counts the facts a neuron fires "
            "for: most facts are spread over several neurons and most neurons serve several facts, which is "
            "superposition.")
    return [table, note]
