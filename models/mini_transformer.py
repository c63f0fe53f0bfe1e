"""A tiny transformer that completes fact sentences, and which MLP neurons the facts need.

Corpus: one sentence per fact, "Michael Jordan plays basketball" (see `michael_jordan.FACTS`), plus
`CROSSED_FACTS`: made-up players whose first and last names each occur once with every one of four
sports, so that only the pair decides the sport. Attention alone adds up what it reads from the two
names, and a sum of "what Alex suggests" and "what Reed suggests" cannot single out the right sport
for every pair: those facts need the MLP.
Model: token embedding + position embedding, `layers` pre-norm `TransformerBlock`s (causal
attention + MLP), a final LayerNorm, and an unembedding to one logit per token. It is trained as a
language model: at every position, cross-entropy of the next token.

Evaluation: given "first last plays", is the highest logit the right sport? Attention has to carry the
names to the last position; the MLP then has to turn the pair into the sport.

Ablation: switch off one MLP neuron of the last block at a time (its `neuron_mask`) and see which facts
are no longer completed; then all of its neurons at once (its bias b_down, one constant vector, stays).
"""
from __future__ import annotations

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import nn, optim

from . import TrainResult, notify
from .michael_jordan import CROSSED_FACTS, FACTS, choose_facts

__all__ = ["CROSSED_FACTS", "MiniTransformer", "make_corpus", "fact_margins", "fact_accuracy", "ablate_neurons",
           "train", "report"]

VERB = "plays"
# CROSSED_FACTS (from michael_jordan): a Latin square, first name i with last name j plays sport (i + j) mod 4.


def make_corpus(facts=FACTS):
    """(vocabulary, sentences as token ids); every sentence is [first, last, "plays", sport]."""
    sentences = [[first, last, VERB, sport] for first, last, sport in facts]
    vocab = sorted({tok for s in sentences for tok in s})
    index = {tok: i for i, tok in enumerate(vocab)}
    return vocab, [[index[t] for t in s] for s in sentences]


class MiniTransformer(nn.Module):
    def __init__(self, vocab_size: int, context: int = 3, d_model: int = 32, n_heads: int = 2,
                 d_hidden: int = 64, layers: int = 1, seed: int = 0):
        super().__init__()
        generator = tg.Generator(seed)
        self.context = context
        self.tokens = nn.Embedding(vocab_size, d_model, generator=generator)
        self.positions = nn.Embedding(context, d_model, generator=generator)
        self.blocks = nn.Sequential(*[nn.TransformerBlock(d_model, n_heads, d_hidden, activation="gelu",
                                                          generator=generator) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(d_model)
        self.unembed = nn.Linear(d_model, vocab_size, bias=False, generator=generator)

    def forward(self, ids) -> tg.Tensor:
        """ids: (B, T) token ids, T <= context -> logits (B, T, vocab_size)."""
        length = len(ids[0])
        x = self.tokens(ids) + self.positions(list(range(length)))
        x = self.blocks(x)
        return self.unembed(self.ln_final(x))

    def last_mlp(self) -> nn.MLPBlock:
        return self.blocks[len(self.blocks) - 1].mlp


def fact_margins(model: MiniTransformer, sentences) -> list[float]:
    """For each sentence: logit of the right sport minus the largest other logit after "first last plays".

    Positive means the fact is completed; its size says by how much.
    """
    with tg.no_grad():
        logits = model([s[:3] for s in sentences])[:, 2, :].tolist()      # (B, V)
    margins = []
    for row, s in zip(logits, sentences):
        right = row[s[3]]
        margins.append(right - max(v for k, v in enumerate(row) if k != s[3]))
    return margins


def fact_accuracy(model: MiniTransformer, vocab, sentences) -> list[bool]:
    """For each sentence: is the sport the top prediction after "first last plays"?"""
    return [m > 0 for m in fact_margins(model, sentences)]


def ablate_neurons(model: MiniTransformer, vocab, sentences) -> dict:
    """Turn off each MLP neuron of the last block in turn, then all of them (b_down stays: a constant).

    Returns the margins before (``baseline``), the margin drop of every fact for every neuron
    (``drops[j][i]``), which facts each neuron's removal breaks (``breaks``), and the margins with every
    neuron switched off (``without_mlp``).
    """
    mlp = model.last_mlp()
    base = fact_margins(model, sentences)
    drops, breaks = [], {}
    try:
        for j in range(mlp.d_hidden):
            mlp.neuron_mask = tg.tensor([0.0 if k == j else 1.0 for k in range(mlp.d_hidden)])
            now = fact_margins(model, sentences)
            drops.append([b - n for b, n in zip(base, now)])
            broken = [i for i, (b, n) in enumerate(zip(base, now)) if b > 0 >= n]
            if broken:
                breaks[j] = broken
        mlp.neuron_mask = tg.zeros(mlp.d_hidden)
        without = fact_margins(model, sentences)
    finally:
        mlp.neuron_mask = None
    return {"baseline": base, "drops": drops, "breaks": breaks, "without_mlp": without}


def train(steps: int | None = None, seed: int = 0, on_step=None, d_model: int = 32, n_heads: int = 2,
          d_hidden: int = 64, layers: int = 1, lr: float = 1e-2, facts=None) -> TrainResult:
    """Train on all sentences at once (full batch) with AdamW and next-token cross-entropy.

    The loss cannot reach 0: after "Michael" the next token may be Jordan, Phelps, Schumacher or
    Johnson. Only the sport after "first last plays" is determined, and that is what is scored.
    """
    if steps is None:   # the crossed facts are learned late (the loss steps down near 400): don't stop before
        steps = 450     # on every backend, so the same seed gives the same numbers on either
    steps = int(steps)
    facts = choose_facts(facts, FACTS + CROSSED_FACTS)
    vocab, sentences = make_corpus(facts)
    model = MiniTransformer(len(vocab), context=3, d_model=d_model, n_heads=n_heads, d_hidden=d_hidden,
                            layers=layers, seed=seed)
    inputs = [s[:3] for s in sentences]
    targets = tg.tensor([t for s in sentences for t in s[1:]])     # next token at each position
    opt = optim.AdamW(model.named_parameters(), lr=lr, weight_decay=0.01)
    losses = []
    for step in range(1, steps + 1):
        opt.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), targets)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        notify(on_step, step, steps, losses[-1])
    ablation = ablate_neurons(model, vocab, sentences)
    accuracy = sum(m > 0 for m in ablation["baseline"]) / len(sentences)
    breaking = ablation["breaks"]
    metrics = {"loss": losses[-1] if losses else float("nan"), "fact_accuracy": accuracy,
               "facts": len(sentences),
               "accuracy_without_mlp": sum(m > 0 for m in ablation["without_mlp"]) / len(sentences),
               "neurons": model.last_mlp().d_hidden, "neurons_whose_ablation_breaks_a_fact": len(breaking),
               "parameters": model.num_parameters()}
    config = {"steps": steps, "seed": seed, "d_model": d_model, "n_heads": n_heads, "d_hidden": d_hidden,
              "layers": layers, "lr": lr, "optimizer": "AdamW", "vocab": len(vocab)}
    texts = [" ".join(vocab[t] for t in s) for s in sentences]
    return TrainResult("transformer", metrics, losses, config,
                       state={"model": model.state_dict(), "config": config, "vocab": vocab},
                       details={"ablation": ablation, "sentences": texts, "model": model})


def report(result: TrainResult):
    from rich.table import Table

    ab = result.details["ablation"]
    texts = result.details["sentences"]
    neurons = len(ab["drops"])
    table = Table(title="Completing 'first last plays ...': the margin of the right sport, and the MLP neurons "
                        "it needs most", title_justify="left")
    table.add_column("sentence")
    table.add_column("margin", justify="right")
    table.add_column("without the MLP", justify="right")
    table.add_column("neurons it needs most (margin lost when off)")
    table.add_column("single neurons that break it", justify="right")
    for i, text in enumerate(texts):
        base, without = ab["baseline"][i], ab["without_mlp"][i]
        top = sorted(range(neurons), key=lambda j: -ab["drops"][j][i])[:3]
        needed = ", ".join(f"#{j} {ab['drops'][j][i]:+.2f}" for j in top if ab["drops"][j][i] > 0)
        n_break = sum(1 for facts in ab["breaks"].values() if i in facts)
        table.add_row(text, _mark(base), _mark(without), needed or "[dim]none[/]", str(n_break) if n_break else "")
    crossed = sum(1 for i, t in enumerate(texts) if ab["baseline"][i] > 0 >= ab["without_mlp"][i])
    note = (f"Switching the whole MLP off breaks {crossed} of {len(texts)} facts: attention alone cannot complete "
            "them. A margin > 0 means the fact is completed. Where one neuron's removal breaks a fact its margin "
            "was thin; most facts lose a little to many neurons rather than everything to one.")
    return [table, note]


def _mark(margin: float) -> str:
    return f"[green]✓ {margin:+.2f}[/]" if margin > 0 else f"[red]✗ {margin:+.2f}[/]"
