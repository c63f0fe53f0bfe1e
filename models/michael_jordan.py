"""How an MLP block can store "Michael Jordan plays basketball": hand-built, then learned.

1. Hand-built (`hand_built_block`, `hand_built_example`). With M, J, B the directions of "first name
   Michael", "last name Jordan" and "basketball":

       row 0 of W_up   = M + J,  b_up[0] = −1      neuron 0 = relu((M + J)·x − 1)
       column 0 of W_down = B                         when neuron 0 fires, B is added to x

   For x = M + J the neuron is (1 + 1 + 2 M·J) − 1 ≈ 1; for M alone it is (1 + M·J) − 1 ≈ 0 and ReLU
   keeps it ≈ 0: an AND gate. A second neuron stores "Michael Phelps plays swimming" the same way.
   With orthonormal directions every number is exact; with random unit vectors in 12,288 dimensions
   (GPT-3's width) the dot products M·J are ≈ ±0.01, so the results are ≈ 1 and ≈ 0. "Michael" alone
   sits exactly on the ReLU's kink (pre-activation M·J); a bias of −1.5 with W_down = 2B (``bias=-1.5``)
   gives it a margin of 0.5 on each side.

2. Learned (`train`): a fact store. Every (first, last) → sport fact is embedded as the sum of the two
   name directions; an MLP block is trained so that its output (the residual stream after the block)
   has dot product 1 with the right sport's direction and 0 with the others. Single names ("Michael"
   alone) are trained to give 0 everywhere, so a fact's sport may appear only when both names are there.

   The data: in `FACTS`, twenty real athletes, every last name belongs to one sport (the last name
   decides; only first names repeat). In `CROSSED_FACTS` and `crossed_facts(n)`, made-up players whose
   first and last names each occur with every sport equally often (Latin squares): no single name
   decides, only the pair does.

3. Superposition versus redundancy (`train`, `train_capacity`). With at least as many neurons as facts
   (20 facts in 32 neurons) each fact is spread over several neurons and survives the loss of any
   one: that is redundancy. With more facts than neurons (40 facts in 16) no fact can have a neuron of
   its own: the facts share neurons in superposition, and the price is interference, the score a fact
   leaks onto wrong sports. `train_capacity` sweeps the number of neurons at a fixed set of facts and
   reports recall and the largest wrong-sport leak as the facts per neuron grow, up to where recall breaks.
"""
from __future__ import annotations

import math

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.directions import Directions

from . import TrainResult, notify

__all__ = ["HAND_BUILT_VOCAB", "HAND_BUILT_CASES", "FACTS", "CROSSED_FACTS", "FACT_LIST", "crossed_facts",
           "choose_facts", "hand_built_block", "hand_built_example", "FactStore", "evaluate", "train",
           "train_capacity", "CAPACITY_NEURONS", "report"]

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

# Facts for the learned fact store: twenty real athletes. First names repeat ("Michael" plays four
# sports), but every last name belongs to one sport ("Williams" twice, tennis both times): here the last
# name alone decides the sport. `CROSSED_FACTS` below are the facts where only the pair decides.
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

# Made-up players for facts that only the pair of names decides. Four last names and four sports; the
# first names come in blocks of four, and each block is a Latin square: in a block every first name and
# every last name occurs once with every sport. Block b maps (first k, last j) to sport σ_b((j + k) mod 4),
# where σ_0 is the identity and the σ_b are the six cosets of the cyclic shifts in the 24 permutations of
# four sports, so no two first names play the same sport for every last name (24 first names at most).
CROSSED_FIRST_NAMES = ["Alex", "Sam", "Chris", "Jamie", "Robin", "Kim", "Casey", "Drew", "Jesse", "Quinn",
                       "Avery", "Blake", "Cameron", "Dana", "Eden", "Finley", "Harper", "Morgan", "Kai",
                       "Logan", "Riley", "Skyler", "Taylor", "Rowan"]
CROSSED_LAST_NAMES = ["Reed", "Park", "Shaw", "Lane"]
CROSSED_SPORTS = ["tennis", "golf", "swimming", "racing"]


def _latin_square_blocks() -> list[tuple[int, ...]]:
    """One permutation σ_b of range(4) per block: a representative of each coset σ·{cyclic shifts}."""
    from itertools import permutations

    covered, representatives = set(), []
    for sigma in permutations(range(4)):
        if sigma not in covered:
            representatives.append(sigma)
            covered.update(tuple(sigma[(j + k) % 4] for j in range(4)) for k in range(4))
    return representatives


def crossed_facts(n: int = 16) -> list[tuple[str, str, str]]:
    """The first ``n`` made-up (first, last, sport) facts that only the pair of names decides (n ≤ 96)."""
    limit = len(CROSSED_FIRST_NAMES) * len(CROSSED_LAST_NAMES)
    if not 0 <= n <= limit:
        raise ValueError(f"crossed_facts: n must be between 0 and {limit}, got {n}")
    blocks = _latin_square_blocks()
    facts = []
    for i, first in enumerate(CROSSED_FIRST_NAMES):
        sigma = blocks[i // 4]
        for j, last in enumerate(CROSSED_LAST_NAMES):
            facts.append((first, last, CROSSED_SPORTS[sigma[(j + i) % 4]]))
    return facts[:n]


# The first block: a 4 × 4 Latin square, sport (i + j) mod 4.
CROSSED_FACTS = crossed_facts(16)
# `--set facts=N` takes the first N of these: the real facts, then made-up crossed ones.
FACT_LIST = FACTS + crossed_facts(len(CROSSED_FIRST_NAMES) * len(CROSSED_LAST_NAMES))


# ------------------------------------------------------------------------------ hand-built
def hand_built_block(dirs: Directions, d_hidden: int = 2, bias: float = -1.0) -> nn.MLPBlock:
    """An MLP block whose neurons are AND gates for the facts in HAND_BUILT_FACTS (other weights 0).

    ``bias`` is b_up for each fact's neuron; W_down's column is the sport scaled by 1 / (2 + bias), so
    that the pair (pre-activation 2 + bias) still writes exactly one sport. With −1 a single name sits
    on the kink (pre-activation 0); with −1.5 it has a margin of 0.5 below it and the pair 0.5 above.
    """
    if not -2.0 < bias <= 0.0:
        raise ValueError(f"hand_built_block: bias must be in (−2, 0] so that the pair fires, got {bias}")
    if d_hidden < len(HAND_BUILT_FACTS):
        raise ValueError(f"hand_built_block: d_hidden={d_hidden} is smaller than the {len(HAND_BUILT_FACTS)} facts")
    dim = dirs.dim
    up_rows = [[0.0] * dim for _ in range(d_hidden)]
    up_bias = [0.0] * d_hidden
    down_columns = [[0.0] * dim for _ in range(d_hidden)]
    for neuron, first, last, sport in HAND_BUILT_FACTS:
        up_rows[neuron] = dirs.embed([first, last]).tolist()     # the question: "first AND last?"
        up_bias[neuron] = bias                                    # ≈2 when both are present -> ≈2 + bias
        down_columns[neuron] = (dirs[sport] * (1.0 / (2.0 + bias))).tolist()   # the answer added to the stream
    down_weight = [[down_columns[j][i] for j in range(d_hidden)] for i in range(dim)]
    block = nn.MLPBlock(dim, d_hidden, activation="relu", seed=0)
    block.load_state_dict({"up.weight": tg.tensor(up_rows), "up.bias": tg.tensor(up_bias),
                           "down.weight": tg.tensor(down_weight), "down.bias": tg.zeros(dim)})
    return block


def hand_built_example(dim: int | None = None, seed: int = 0, bias: float = -1.0) -> dict:
    """Run the hand-built block on every case in HAND_BUILT_CASES.

    ``dim=None``: orthonormal directions, one dimension per word (exact numbers). Otherwise random
    unit vectors in ``dim`` dimensions drawn with ``seed``. Returns a dict with ``directions``,
    ``block``, the pairwise dot products of the directions and, per case, the neurons' values, the
    input's and the output's dot product with every direction.
    """
    dirs = (Directions.orthonormal(HAND_BUILT_VOCAB) if dim is None
            else Directions.random(HAND_BUILT_VOCAB, dim, seed=seed))
    block = hand_built_block(dirs, bias=bias)
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
            "seed": seed, "bias": bias, "dots": gram, "cases": cases, "facts": HAND_BUILT_FACTS}


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


def _scores(model: FactStore, x: tg.Tensor) -> list:
    with tg.no_grad():
        return model(x).tolist()


def _recalled(model: FactStore, scores: list) -> list[bool]:
    """For each fact: is its sport the highest score, and above one half (the block has to *say* it)?"""
    out = []
    for row, (_, _, sport) in zip(scores, model.facts):
        best = max(range(len(row)), key=row.__getitem__)
        out.append(model.sports[best] == sport and row[best] > 0.5)
    return out


def evaluate(model: FactStore, knockouts: bool = True) -> dict:
    """Recall on the facts, false alarms on single names, interference, which neurons fire for each fact,
    and (``knockouts``) which facts are lost when one neuron at a time is switched off.

    Interference is measured as a *leak*: for a fact, the largest score any wrong sport gets; for a
    single name, the largest score any sport gets (both should be 0).
    """
    inputs, _, labels = model.examples()
    n_facts = len(model.facts)
    x = model.embed(inputs)
    scores = _scores(model, x)
    with tg.no_grad():
        hidden = model.block.hidden(x).tolist()
    recalled = _recalled(model, scores)
    per_fact, leaks = [], []
    for i, (first, last, sport) in enumerate(model.facts):
        row = scores[i]
        right = model.sports.index(sport)
        best = max(range(len(row)), key=row.__getitem__)
        leak = max((v for k, v in enumerate(row) if k != right), default=0.0)
        leaks.append(leak)
        per_fact.append({"fact": f"{first} {last}", "sport": sport, "predicted": model.sports[best],
                         "score": row[right], "leak": leak, "correct": bool(recalled[i])})
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
    # Knock out one neuron at a time: the facts recalled before and not after.
    lost_without: dict[int, list[int]] = {}
    if knockouts:
        saved = model.block.neuron_mask
        facts_x = x[:n_facts]
        try:
            for j in range(d_hidden):
                model.block.neuron_mask = tg.tensor([0.0 if k == j else 1.0 for k in range(d_hidden)])
                now = _recalled(model, _scores(model, facts_x))
                lost = [i for i in range(n_facts) if recalled[i] and not now[i]]
                if lost:
                    lost_without[j] = lost
        finally:
            model.block.neuron_mask = saved
    correct = sum(recalled)
    return {"recall": correct / n_facts, "correct": correct, "facts": n_facts,
            "single_names": len(single), "false_alarms": false_alarms,
            "largest_leak": max(leaks), "mean_leak": math.fsum(leaks) / n_facts,
            "largest_single_name_score": max((max(row) for row in single), default=0.0),
            "and_like_neurons": sorted(gates), "shared_neurons": shared,
            "active_neurons": sum(1 for p in peak if p > 1e-6), "per_fact": per_fact, "labels": labels,
            "lost_without": lost_without, "knockouts": knockouts,
            "facts_lost_per_knockout": math.fsum(len(v) for v in lost_without.values()) / d_hidden}


def choose_facts(facts, all_facts=None):
    """Which facts to train on.

    None: `FACTS` (or every fact of ``all_facts``); an integer n: the first n of `FACT_LIST` (the twenty real
    facts, then made-up crossed ones) or of ``all_facts``; otherwise the given (first, last, sport) triples.
    """
    pool = FACT_LIST if all_facts is None else all_facts
    if facts is None:
        return list(FACTS if all_facts is None else all_facts)
    if isinstance(facts, int):
        if not 1 <= facts <= len(pool):
            raise ValueError(f"facts must be between 1 and {len(pool)}, got {facts}")
        return list(pool[:facts])
    return [tuple(f) for f in facts]


def _fit(facts, dim: int, d_hidden: int, steps: int, seed: int, lr: float, on_step=None, offset: int = 0,
         total: int | None = None):
    """Train one fact store with Adam, full batch, MSE on the scores; (model, losses)."""
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
        notify(on_step, offset + step, total or steps, losses[-1])
    return model, losses


def _coding(facts: int, d_hidden: int) -> str:
    """The word for how the facts sit in the neurons: more facts than neurons is superposition."""
    return "superposition" if facts > d_hidden else "a neuron per fact"


def train(steps: int | None = None, seed: int = 0, on_step=None, facts=None, dim: int = 64,
          d_hidden: int = 32, lr: float = 1e-2) -> TrainResult:
    """Train a fact store with Adam on the full set of examples (full batch) with MSE on the scores.

    ``facts``: how many (the first n of `FACT_LIST`: 20 real, then made-up crossed ones) or which.
    """
    steps = 400 if steps is None else int(steps)
    facts = choose_facts(facts)
    model, losses = _fit(facts, dim, d_hidden, steps, seed, lr, on_step)
    result = evaluate(model)
    n = len(facts)
    metrics = {"loss": losses[-1] if losses else float("nan"), "recall": result["recall"],
               "facts_recalled": result["correct"], "facts": n, "hidden_neurons": d_hidden,
               "facts_per_neuron": n / d_hidden,
               "largest_wrong_sport_leak": result["largest_leak"], "mean_wrong_sport_leak": result["mean_leak"],
               "false_alarms_on_single_names": result["false_alarms"], "single_names": result["single_names"],
               "largest_single_name_score": result["largest_single_name_score"],
               "neurons_whose_loss_breaks_a_fact": len(result["lost_without"]),
               "facts_lost_per_knockout": result["facts_lost_per_knockout"],
               "most_facts_lost_with_one_neuron": max((len(v) for v in result["lost_without"].values()), default=0),
               "and_like_neurons": len(result["and_like_neurons"]), "shared_neurons": len(result["shared_neurons"]),
               "active_neurons": result["active_neurons"]}
    config = {"steps": steps, "seed": seed, "dim": dim, "d_hidden": d_hidden, "lr": lr, "facts": n,
              "optimizer": "Adam", "loss": "MSE of the sport scores"}
    return TrainResult("facts", metrics, losses, config,
                       state={"model": model.state_dict(), "config": config,
                              "facts": [list(f) for f in model.facts]},
                       details={**result, "model": model,
                                "summary": ["loss", "facts", "hidden_neurons", "facts_per_neuron", "recall",
                                            "facts_recalled", "largest_wrong_sport_leak",
                                            "false_alarms_on_single_names", "neurons_whose_loss_breaks_a_fact",
                                            "facts_lost_per_knockout", "most_facts_lost_with_one_neuron",
                                            "and_like_neurons",
                                            "shared_neurons", "active_neurons"]})


# Neuron counts of the capacity sweep: from two neurons per fact (for 40 facts) down to ten facts per neuron.
CAPACITY_NEURONS = (80, 40, 24, 16, 12, 10, 8, 6, 4)


def train_capacity(steps: int | None = None, seed: int = 0, on_step=None, facts=40, neurons=CAPACITY_NEURONS,
                   dim: int = 64, lr: float = 1e-2, knockouts: bool = True) -> TrainResult:
    """The same facts stored in fewer and fewer neurons: one fact store per entry of ``neurons``.

    Each row: facts per neuron, recall, the largest and mean wrong-sport leak, the largest score on a
    single name, and how many facts the loss of one neuron costs (at most, over the neurons).
    """
    steps = 400 if steps is None else int(steps)
    facts = choose_facts(facts)
    if isinstance(neurons, (int, float)):
        neurons = [neurons]
    neurons = [int(h) for h in neurons]
    if not neurons or min(neurons) < 1:
        raise ValueError(f"neurons must be a list of positive counts, got {neurons}")
    n = len(facts)
    rows, all_losses = [], []
    for r, d_hidden in enumerate(neurons):
        model, losses = _fit(facts, dim, d_hidden, steps, seed, lr, on_step, offset=r * steps,
                             total=steps * len(neurons))
        all_losses.extend(losses)
        ev = evaluate(model, knockouts=knockouts)
        rows.append({"neurons": d_hidden, "facts_per_neuron": n / d_hidden, "recall": ev["recall"],
                     "correct": ev["correct"], "largest_leak": ev["largest_leak"], "mean_leak": ev["mean_leak"],
                     "largest_single_name_score": ev["largest_single_name_score"],
                     "false_alarms": ev["false_alarms"], "loss": losses[-1] if losses else float("nan"),
                     "losses": losses, "coding": _coding(n, d_hidden),
                     "neurons_whose_loss_breaks_a_fact": len(ev["lost_without"]),
                     "facts_lost_per_knockout": ev["facts_lost_per_knockout"],
                     "most_facts_lost_with_one_neuron": max((len(v) for v in ev["lost_without"].values()),
                                                            default=0)})
    full = [row["neurons"] for row in rows if row["correct"] == n]
    metrics = {"loss": all_losses[-1] if all_losses else float("nan"), "facts": n,
               "fewest_neurons_with_full_recall": min(full) if full else None,
               "most_facts_per_neuron_with_full_recall": n / min(full) if full else None}
    for row in rows:
        key = f"h{row['neurons']}"
        metrics[f"{key}_recall"] = row["recall"]
        metrics[f"{key}_largest_leak"] = row["largest_leak"]
    config = {"steps": steps, "seed": seed, "facts": n, "neurons": neurons, "dim": dim, "lr": lr,
              "optimizer": "Adam"}
    return TrainResult("facts-sweep", metrics, all_losses, config, state={"config": config},
                       details={"rows": rows, "summary": ["loss", "facts", "fewest_neurons_with_full_recall",
                                                          "most_facts_per_neuron_with_full_recall"]})


def report(result: TrainResult):
    """`train`: each fact, its predicted sport and score, and the strongest neurons that fire for it.
    `train_capacity`: recall and interference against facts per neuron."""
    if result.name == "facts-sweep":
        return _report_capacity(result)
    from rich.table import Table

    d = result.details
    table = Table(title="Facts recalled by the trained MLP block", title_justify="left")
    for col in ("fact", "sport", "predicted", "score", "leak",
                "strongest neurons: value, [AND], facts it fires for"):
        table.add_column(col, justify="right" if col in ("score", "leak") else "left")
    for entry in d["per_fact"]:
        shown = []
        for j, a, n in list(zip(entry["neurons"], entry["activations"], entry["fact_counts"]))[:3]:
            tag = " [green]AND[/]" if j in entry["and_gates"] else ""
            shown.append(f"#{j} {a:.2f}{tag} ×{n}")
        more = len(entry["neurons"]) - len(shown)
        mark = "[green]✓[/]" if entry["correct"] else "[red]✗[/]"
        table.add_row(entry["fact"], entry["sport"], f"{entry['predicted']} {mark}", f"{entry['score']:.3f}",
                      f"{entry['leak']:.3f}", "; ".join(shown) + (f" (+{more})" if more > 0 else ""))
    m = result.metrics
    facts, neurons = m["facts"], m["hidden_neurons"]
    gates = (f"{len(d['and_like_neurons'])} of {d['active_neurons']} active neurons act as an AND gate for at "
             "least one fact (they fire for the full name and for neither name alone); "
             f"{len(d['shared_neurons'])} fire for facts of different sports. ×n counts the facts a neuron fires "
             "for; leak is the largest score of a wrong sport. ")
    broken, per = m["neurons_whose_loss_breaks_a_fact"], m["facts_lost_per_knockout"]
    knock = (f"Switching one neuron off loses {per:.2f} facts on average; {broken} of the {neurons} neurons "
             f"are needed by some fact (up to {m['most_facts_lost_with_one_neuron']} facts lost at once). ")
    if facts > neurons:
        words = (f"{facts} facts in {neurons} neurons ({facts / neurons:.1f} per neuron): no fact can have a "
                 "neuron of its own, so the facts share neurons in superposition, and they interfere: the "
                 f"largest wrong-sport leak is {m['largest_wrong_sport_leak']:.2f}. " + knock +
                 "`tinygrad-edu train facts-sweep` shows where recall breaks as the facts per neuron grow.")
    else:
        words = (f"{facts} facts in {neurons} neurons: there is room for a neuron per fact, yet each fact is "
                 "spread over several neurons and most neurons serve several facts. That is distributed, "
                 "redundant coding, not superposition: most facts survive the loss of any one neuron. " + knock +
                 "Superposition is more facts than neurons: try --set facts=40 --set d_hidden=16.")
    return [table, gates + words]


def _report_capacity(result: TrainResult):
    from rich.table import Table

    rows = result.details["rows"]
    c = result.config
    table = Table(title=f"{c['facts']} facts stored in fewer and fewer neurons (dim {c['dim']}, {c['steps']} "
                        "steps each)", title_justify="left")
    for col in ("neurons", "facts per neuron", "recall", "largest leak", "mean leak", "single-name peak",
                "facts lost per knockout", "coding"):
        table.add_column(col, justify="left" if col == "coding" else "right", no_wrap=col == "coding")
    for row in rows:
        ok = row["correct"] == c["facts"]
        recall = f"{row['correct']}/{c['facts']}"
        leak = row["largest_leak"]
        table.add_row(str(row["neurons"]), f"{row['facts_per_neuron']:.1f}",
                      f"[green]{recall}[/]" if ok else f"[red]{recall}[/]",
                      f"{leak:.2f}", f"{row['mean_leak']:.2f}",
                      f"{row['largest_single_name_score']:.2f}", f"{row['facts_lost_per_knockout']:.2f}",
                      row["coding"])
    fewest = result.metrics["fewest_neurons_with_full_recall"]
    if fewest is None:
        where = "No run recalled every fact."
    else:
        where = (f"Every fact is recalled down to {fewest} neurons ({c['facts'] / fewest:.1f} facts per neuron); "
                 "below that recall breaks.")
    note = (f"{where} The leak, the largest score a wrong sport gets (the right one is trained to 1, wrong "
            "ones to 0), is the interference between facts that share neurons: it grows with the facts per "
            "neuron. The single-name peak is the largest score a name alone sets off. A knockout switches one "
            "neuron off: with more neurons than facts it costs few facts (redundancy); with more facts than "
            "neurons the facts live in superposition and each neuron is needed by several of them.")
    return [table, note]

