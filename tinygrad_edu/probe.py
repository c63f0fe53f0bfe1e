"""Which neurons store a fact? Probe a model's MLP neurons for one input, with hooks only.

``probe(subject, "Michael Jordan")`` answers, as plain data (what ``tinygrad-edu probe --json`` prints):

    answer       what the model says for the input (the sport, or nothing) and every sport's score
    neurons      the neurons that fire, strongest first; for each, what it writes along every sport's
                 direction: value × (its column of W_down, read the way the model reads its answer)
    ablation     each top neuron switched off in turn (zero or mean), then the top ones together, then
                 every neuron: the answer and its score after
    patching     another input ("Michael Phelps") run with this input's neurons patched in, all of them
                 and only the top ones: does its answer become this input's?
    top_inputs   for each top neuron, the inputs (facts and single names) that make it fire most

A *subject* is a model made ready for that: how a phrase becomes its input, where its neurons are (a
module path for `tinygrad_edu.hooks`), how its answer is read. Three are built in:

    hand_built_subject()              models.michael_jordan's hand-built block: neuron 0 is the AND
                                      gate of "Michael Jordan", neuron 1 that of "Michael Phelps"
    fact_store_subject(model)         a trained models.michael_jordan.FactStore ("block.act")
    transformer_subject(model, vocab) a trained models.mini_transformer.MiniTransformer: the GELU
                                      neurons of its last MLP at the last position of "first last plays"

A neuron *fires* for an input when its value is above a quarter of its largest value over the subject's
inputs (the facts and single names it knows): the rule lesson 5 and the fact store's report use.
"""
from __future__ import annotations

import math

import tinygrad_edu as tg
from tinygrad_edu.hooks import ablate, patch, run_with_cache

__all__ = ["Subject", "hand_built_subject", "fact_store_subject", "transformer_subject", "probe",
           "default_target", "FIRING_FRACTION", "NOTHING"]

FIRING_FRACTION = 0.25      # a neuron fires above this fraction of its peak over the subject's inputs
NOTHING = "nothing"         # the answer when no sport scores above one half


class Subject:
    """A model made ready for probing. Subclasses say how to encode phrases and read answers."""

    name = ""
    score_unit = "score"           # what a sport's number means ("score", "logit")
    candidates_are = "the facts and single names it knows"

    def __init__(self, model, neurons: str, sports: list[str], candidates: list[str], truth: dict,
                 description: str, settings: dict | None = None):
        self.model = model
        self.neurons = neurons                 # module path of the neurons, for run_with_cache / ablate / patch
        self.sports = list(sports)
        self.candidates = list(candidates)     # the inputs "top inputs" and the firing threshold range over
        self.truth = dict(truth)               # phrase -> the sport the facts say
        self.description = description
        self.settings = settings

    # ---- what subclasses provide
    def words(self, phrase: str) -> list[str]:
        """The phrase split into the model's words; ValueError naming an unknown word."""
        raise NotImplementedError

    def encode(self, phrases: list[str]):
        """A batch of model inputs, one row per phrase."""
        raise NotImplementedError

    def answers(self, output) -> list[dict]:
        """Per row: {"answer": sport or other word or NOTHING, "score": its number, "scores": {sport: number}}."""
        raise NotImplementedError

    def neuron_rows(self, activation) -> list[list[float]]:
        """Per row: the neurons' values where the answer is read."""
        return activation.tolist()

    def write_matrix(self, phrase: str) -> list[list[float]]:
        """For each neuron j and sport s: what one unit of neuron j adds to sport s's number."""
        raise NotImplementedError

    # ---- shared helpers
    def run(self, phrases: list[str]):
        """(answers, neuron rows) for a batch of phrases."""
        with tg.no_grad():
            output, cache = run_with_cache(self.model, self.encode(phrases), names=[self.neurons])
        return self.answers(output), self.neuron_rows(cache[self.neurons])

    def ask(self, phrases: list[str]) -> list[dict]:
        with tg.no_grad():
            return self.answers(self.model(self.encode(phrases)))


def _sport_answer(scores: dict) -> dict:
    """The best sport if its score is above one half, else NOTHING (the fact store's recall rule);
    ``tied`` names other sports with the same best score."""
    best = max(scores, key=scores.get)
    said = best if scores[best] > 0.5 else NOTHING
    tied = [s for s, v in scores.items() if s != best and said != NOTHING and abs(v - scores[best]) <= 1e-9]
    return {"answer": said, "score": scores[best], "scores": scores, "tied": tied}


def _dot(a, b) -> float:
    return math.fsum(x * y for x, y in zip(a, b))


def _columns(matrix: list[list[float]]) -> list[list[float]]:
    return [list(column) for column in zip(*matrix)]


# ------------------------------------------------------------------------------ the hand-built block
class HandBuiltSubject(Subject):
    name = "michael-jordan"

    def __init__(self, bias: float = -1.0):
        from tinygrad_edu.models import michael_jordan as mj

        example = mj.hand_built_example(bias=bias)
        self.directions = example["directions"]
        names = sorted({word for _, words in mj.HAND_BUILT_CASES for word in words},
                       key=mj.HAND_BUILT_VOCAB.index)
        sports = [word for word in mj.HAND_BUILT_VOCAB if word not in names]
        truth = {f"{first} {last}": sport for _, first, last, sport in mj.HAND_BUILT_FACTS}
        super().__init__(example["block"], "act", sports, [label for label, _ in mj.HAND_BUILT_CASES], truth,
                         "the hand-built MLP block: neuron 0 = relu((Michael + Jordan)·x − 1) writes basketball, "
                         "neuron 1 the same for Michael Phelps and swimming (orthonormal directions, exact numbers)",
                         settings={"bias": bias})
        self._cases = dict(mj.HAND_BUILT_CASES)
        self.candidates_are = ", ".join(self.candidates)

    def words(self, phrase: str) -> list[str]:
        if phrase in self._cases:
            return list(self._cases[phrase])
        words = phrase.split()
        unknown = [w for w in words if w not in self.directions]
        if unknown:
            raise ValueError(f"unknown word {unknown[0]!r}; the hand-built block knows "
                             f"{', '.join(self.directions.names)} (or '(nothing)')")
        return words

    def encode(self, phrases):
        return tg.stack([self.directions.embed(self.words(p)) for p in phrases])

    def answers(self, output):
        return [_sport_answer({s: _dot(row, self.directions[s].tolist()) for s in self.sports})
                for row in output.tolist()]

    def write_matrix(self, phrase):
        down = _columns(self.model.down.weight.tolist())        # column j: what neuron j adds
        return [[_dot(column, self.directions[s].tolist()) for s in self.sports] for column in down]


def hand_built_subject(bias: float = -1.0) -> HandBuiltSubject:
    """The hand-built block of lesson 4 (orthonormal directions: every number exact)."""
    return HandBuiltSubject(bias)


# ------------------------------------------------------------------------------ the fact store
class FactStoreSubject(Subject):
    name = "facts"

    def __init__(self, model, settings: dict | None = None):
        self.store = model
        _, _, labels = model.examples()
        truth = {f"{first} {last}": sport for first, last, sport in model.facts}
        neurons = model.block.d_hidden
        super().__init__(model, "block.act", model.sports, labels, truth,
                         f"a trained fact store: {len(model.facts)} facts in {neurons} neurons "
                         f"({'more facts than neurons: superposition' if len(model.facts) > neurons else 'room for a neuron per fact'}), "
                         f"names as random unit vectors in {model.block.d_model} dimensions",
                         settings=settings)

    def words(self, phrase: str) -> list[str]:
        words = phrase.split()
        if not words:
            raise ValueError("the input is empty; give a name such as 'Michael Jordan'")
        names = self.store.firsts + self.store.lasts
        unknown = [w for w in words if w not in names]
        if unknown:
            raise ValueError(f"unknown name {unknown[0]!r}; the fact store knows {', '.join(self.truth)}")
        return words

    def encode(self, phrases):
        return self.store.embed([self.words(p) for p in phrases])

    def answers(self, output):
        return [_sport_answer(dict(zip(self.sports, row))) for row in output.tolist()]

    def write_matrix(self, phrase):
        down = _columns(self.store.block.down.weight.tolist())
        sport_rows = self.store.sport_matrix.tolist()
        return [[_dot(column, sport_row) for sport_row in sport_rows] for column in down]


def fact_store_subject(model, settings: dict | None = None) -> FactStoreSubject:
    """A trained `models.michael_jordan.FactStore`; its neurons are ``block.act``."""
    return FactStoreSubject(model, settings)


# ------------------------------------------------------------------------------ the mini transformer
class TransformerSubject(Subject):
    name = "transformer"
    score_unit = "logit"
    candidates_are = "the facts it was trained on"

    def __init__(self, model, vocab: list[str], facts=None, settings: dict | None = None):
        from tinygrad_edu.models import mini_transformer as mt

        self.vocab = list(vocab)
        self.index = {word: i for i, word in enumerate(self.vocab)}
        self.verb = mt.VERB
        self.layer = len(model.blocks) - 1
        facts = _known_facts(self.vocab) if facts is None else [tuple(f) for f in facts]
        truth = {f"{first} {last}": sport for first, last, sport in facts}
        sports = sorted({sport for _, _, sport in facts})
        mlp = model.last_mlp()
        super().__init__(model, f"blocks.{self.layer}.mlp.act", sports, list(truth), truth,
                         f"a trained transformer ({len(model.blocks)} layer{'s' if len(model.blocks) > 1 else ''}, d_model {mlp.d_model}): the "
                         f"{mlp.d_hidden} {mlp.activation_name.upper()} neurons of its last MLP, read at the last "
                         f"position of 'first last {self.verb}'", settings=settings)

    def words(self, phrase: str) -> list[str]:
        words = phrase.split()
        if words and words[-1] == self.verb:
            words = words[:-1]
        if len(words) != 2:
            raise ValueError(f"the transformer reads 'first last {self.verb}': give a first and a last name, "
                             f"such as 'Michael Jordan', got {phrase!r}")
        unknown = [w for w in words if w not in self.index]
        if unknown:
            raise ValueError(f"unknown name {unknown[0]!r}; the transformer knows {', '.join(self.truth)}")
        return words

    def encode(self, phrases):
        return [[self.index[w] for w in self.words(p)] + [self.index[self.verb]] for p in phrases]

    def answers(self, output):
        out = []
        for row in output[:, -1, :].tolist():
            best = max(range(len(row)), key=row.__getitem__)
            tied = [self.vocab[k] for k, v in enumerate(row) if k != best and abs(v - row[best]) <= 1e-9]
            out.append({"answer": self.vocab[best], "score": row[best],
                        "scores": {s: row[self.index[s]] for s in self.sports}, "tied": tied})
        return out

    def neuron_rows(self, activation):
        return activation[:, -1, :].tolist()

    def write_matrix(self, phrase):
        """The neuron's column of W_down read through the final LayerNorm and the unembedding, with the
        LayerNorm's scale frozen at its value for this input (direct logit attribution):
        logit_s += value · Σ_i (U_si γ_i − mean_k U_sk γ_k) · w_i / σ."""
        model = self.model
        with tg.no_grad():
            _, cache = run_with_cache(model, self.encode([phrase]), names=["blocks"])
        residual = cache["blocks"][0, -1, :].tolist()
        mean = math.fsum(residual) / len(residual)
        sigma = math.sqrt(math.fsum((v - mean) ** 2 for v in residual) / len(residual) + model.ln_final.eps)
        gamma = model.ln_final.weight.tolist() if model.ln_final.weight is not None else [1.0] * len(residual)
        unembed = model.unembed.weight.tolist()
        readers = []
        for s in self.sports:
            scaled = [u * g for u, g in zip(unembed[self.index[s]], gamma)]
            centre = math.fsum(scaled) / len(scaled)
            readers.append([(v - centre) / sigma for v in scaled])
        down = _columns(model.last_mlp().down.weight.tolist())
        return [[_dot(column, reader) for reader in readers] for column in down]


def _known_facts(vocab) -> list[tuple]:
    """The facts the transformer is trained on by default (`FACTS` + `CROSSED_FACTS`) whose words are all in
    ``vocab``: what a checkpoint, which keeps the vocabulary but not the sentences, must have been trained on."""
    from tinygrad_edu.models import mini_transformer as mt
    from tinygrad_edu.models.michael_jordan import FACTS

    known = set(vocab)
    return [f for f in FACTS + list(mt.CROSSED_FACTS) if all(word in known for word in f)]


def transformer_subject(model, vocab, facts=None, settings: dict | None = None) -> TransformerSubject:
    """A trained `models.mini_transformer.MiniTransformer`, its vocabulary and the (first, last, sport) facts
    it was trained on (None: the default facts whose words are in the vocabulary)."""
    return TransformerSubject(model, vocab, facts, settings)


# ------------------------------------------------------------------------------ the probe
def default_target(subject: Subject, phrase: str, answer: str) -> str | None:
    """The input to patch into: a fact of another sport, preferably "Michael Phelps" (or "Michael Jordan")
    when it shares a name with ``phrase``, else one with the same last name, else one sharing any name."""
    words = phrase.split()
    others = [p for p, sport in subject.truth.items() if p != phrase and sport != answer]
    for preferred in ("Michael Phelps", "Michael Jordan"):
        if preferred in others and set(words) & set(preferred.split()):
            return preferred
    same_last = [p for p in others if words and p.split()[-1] == words[-1]]
    sharing = [p for p in others if set(words) & set(p.split())]
    return (same_last or sharing or others or [None])[0]


def probe(subject: Subject, phrase: str = "Michael Jordan", *, into: str | None = None, top: int = 5,
          ablation: str = "zero", inputs_shown: int = 5) -> dict:
    """Everything ``tinygrad-edu probe`` shows about ``phrase``, as JSON-ready data (see the module doc)."""
    if ablation not in ("zero", "mean"):
        raise ValueError(f"ablation must be 'zero' or 'mean', got {ablation!r}")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    subject.words(phrase)                                   # a clear error for an unknown word
    (base,), (values,) = subject.run([phrase])
    candidate_answers, candidate_rows = subject.run(subject.candidates)
    count = len(values)
    peak = [max([row[j] for row in candidate_rows] + [values[j]]) for j in range(count)]

    def fires(row, j):
        return peak[j] > 1e-12 and row[j] > FIRING_FRACTION * peak[j]

    answer = base["answer"]
    sport_index = subject.sports.index(answer) if answer in subject.sports else None
    writes = subject.write_matrix(phrase)
    firing = sorted((j for j in range(count) if fires(values, j)), key=lambda j: -values[j])
    neurons = []
    for j in firing:
        contributions = {s: values[j] * w for s, w in zip(subject.sports, writes[j])}
        most = max(contributions, key=contributions.get)
        neurons.append({"neuron": j, "value": values[j], "writes": contributions, "writes_most": most,
                        "to_answer": contributions[answer] if sport_index is not None else None})
    chosen = firing[:top]

    # ---- ablation: one top neuron at a time, the top ones together, every neuron
    mean_over = subject.encode(subject.candidates) if ablation == "mean" else None

    def ablated(group) -> dict:
        with ablate(subject.model, subject.neurons, group, mean_over=mean_over):
            after, = subject.ask([phrase])
        return {**_short(after), "answer_score": after["scores"].get(answer) if sport_index is not None else None,
                "changed": after["answer"] != answer or bool(after["tied"])}

    singles = [{"neuron": j, **ablated([j])} for j in chosen]
    groups = []
    if len(chosen) > 1:
        groups.append({"neurons": list(chosen), "label": f"top {len(chosen)} together", **ablated(chosen)})
    groups.append({"neurons": list(range(count)), "label": f"all {count} neurons", **ablated(None)})

    # ---- patching this input's neurons into another input's run
    target = into if into is not None else default_target(subject, phrase, answer)
    patching = None
    if target is not None:
        subject.words(target)
        source = _activation(subject, phrase)
        (target_base,) = subject.ask([target])
        runs = [{"label": f"{target} as it is", "neurons": [], **_short(target_base)}]
        for label, group in ((f"all {count} neurons from {phrase}", None),
                             (f"top {len(chosen)} neuron{'s' if len(chosen) > 1 else ''} from {phrase}", chosen)):
            if group is not None and not group:
                continue
            with patch(subject.model, subject.neurons, source, group):
                after, = subject.ask([target])
            runs.append({"label": label, "neurons": list(range(count)) if group is None else list(group),
                         **_short(after)})
        patching = {"source": phrase, "target": target, "source_answer": answer,
                    "target_answer": target_base["answer"], "runs": runs,
                    "became_source_answer": [run["answer"] == answer and not run["tied"] for run in runs]}

    # ---- what else makes each top neuron fire
    facts = [i for i, p in enumerate(subject.candidates) if p in subject.truth]
    top_inputs = []
    for j in chosen:
        order = sorted(range(len(subject.candidates)), key=lambda i: -candidate_rows[i][j])
        fired_facts = [subject.candidates[i] for i in facts if fires(candidate_rows[i], j)]
        top_inputs.append({"neuron": j,
                           "inputs": [{"input": subject.candidates[i], "value": candidate_rows[i][j],
                                       "fires": fires(candidate_rows[i], j)} for i in order[:inputs_shown]],
                           "facts_it_fires_for": len(fired_facts), "facts": len(facts),
                           "sports": sorted({subject.truth[p] for p in fired_facts})})

    return {"model": subject.name, "description": subject.description, "settings": subject.settings,
            "input": phrase, "known_fact": subject.truth.get(phrase), "score_unit": subject.score_unit,
            "neurons_at": subject.neurons, "neuron_count": count, "firing_fraction": FIRING_FRACTION,
            "candidates": len(subject.candidates), "candidates_are": subject.candidates_are,
            "answer": _short(base), "activations": values, "firing": neurons, "top": list(chosen),
            "ablation": {"method": ablation, "neurons": singles, "groups": groups},
            "patching": patching, "top_inputs": top_inputs}


def _activation(subject: Subject, phrase: str):
    with tg.no_grad():
        _, cache = run_with_cache(subject.model, subject.encode([phrase]), names=[subject.neurons])
    return cache[subject.neurons]


def _short(answer: dict) -> dict:
    return {"answer": answer["answer"], "score": answer["score"], "scores": answer["scores"],
            "tied": answer["tied"]}
