"""``tinygrad-edu probe`` and `tinygrad_edu.probe`: exact claims on the hand-built block, and on trained models
the probe's numbers checked against the same quantities computed another way (the block's ``neuron_mask``,
the down projection by hand, a fresh run over the inputs)."""
from __future__ import annotations

import json
import math

import pytest
from rich.cells import cell_len

import tinygrad_edu as tg
from tinygrad_edu import probe as probing
from tinygrad_edu.cli import main
from tinygrad_edu.commands import probe as probe_command
from tinygrad_edu.commands.output import offscreen_console


def run_cli(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------------------ the hand-built block, exactly
@pytest.fixture(scope="module")
def hand_built():
    return probing.hand_built_subject()


def test_the_hand_built_block_answers_basketball_through_neuron_0_alone(hand_built):
    result = probing.probe(hand_built, "Michael Jordan")
    assert result["answer"]["answer"] == "basketball" and result["answer"]["score"] == 1.0
    assert result["known_fact"] == "basketball"
    assert result["activations"] == [1.0, 0.0]
    (neuron,) = result["firing"]
    assert neuron["neuron"] == 0 and neuron["value"] == 1.0
    assert neuron["writes"] == {"basketball": 1.0, "swimming": 0.0, "tennis": 0.0}
    assert neuron["writes_most"] == "basketball" and neuron["to_answer"] == 1.0


def test_ablating_the_and_neuron_removes_basketball_1_to_0(hand_built):
    result = probing.probe(hand_built, "Michael Jordan")
    (single,) = result["ablation"]["neurons"]
    assert single["neuron"] == 0
    assert (result["answer"]["score"], single["answer_score"]) == (1.0, 0.0)
    assert single["answer"] == "nothing" and single["changed"]
    everything, = result["ablation"]["groups"]
    assert everything["neurons"] == [0, 1] and everything["scores"] == {"basketball": 0.0, "swimming": 0.0,
                                                                        "tennis": 0.0}


def test_patching_jordans_neurons_into_phelps_answers_basketball(hand_built):
    patching = probing.probe(hand_built, "Michael Jordan")["patching"]
    assert (patching["source"], patching["target"]) == ("Michael Jordan", "Michael Phelps")
    before, every, top = patching["runs"]
    assert before["answer"] == "swimming" and before["scores"]["swimming"] == 1.0
    assert every["answer"] == "basketball" and every["scores"] == {"basketball": 1.0, "swimming": 0.0,
                                                                   "tennis": 0.0}
    assert top["neurons"] == [0] and top["scores"]["basketball"] == top["scores"]["swimming"] == 1.0
    assert top["tied"] == ["swimming"], "neuron 0 patched in, Phelps's own gate still fires: a tie"
    assert patching["became_source_answer"] == [False, True, False]


def test_neuron_0_fires_for_michael_jordan_and_nothing_else(hand_built):
    (entry,) = probing.probe(hand_built, "Michael Jordan")["top_inputs"]
    assert entry["inputs"][0] == {"input": "Michael Jordan", "value": 1.0, "fires": True}
    assert all(item["value"] == 0.0 and not item["fires"] for item in entry["inputs"][1:])
    assert (entry["facts_it_fires_for"], entry["facts"], entry["sports"]) == (1, 2, ["basketball"])


def test_phelps_is_neuron_1_and_patches_back_into_jordan(hand_built):
    result = probing.probe(hand_built, "Michael Phelps")
    assert [n["neuron"] for n in result["firing"]] == [1]
    assert result["ablation"]["neurons"][0]["answer_score"] == 0.0
    assert result["patching"]["target"] == "Michael Jordan"
    assert result["patching"]["runs"][1]["answer"] == "swimming"


@pytest.mark.parametrize("phrase", ["Michael", "Jordan", "LeBron Jordan", "(nothing)"])
def test_no_neuron_fires_for_a_single_name_or_the_wrong_pair(hand_built, phrase):
    result = probing.probe(hand_built, phrase)
    assert result["firing"] == [] and result["answer"]["answer"] == "nothing"


def test_mean_ablation_holds_the_and_neuron_at_one_sixth(hand_built):
    result = probing.probe(hand_built, "Michael Jordan", ablation="mean")
    single = result["ablation"]["neurons"][0]
    assert single["answer_score"] == 1 / 6, "neuron 0 is 1 for one of the six inputs and 0 for the rest"
    assert single["answer"] == "nothing"


def test_the_claims_hold_with_a_margin_on_the_gate():
    result = probing.probe(probing.hand_built_subject(bias=-1.5), "Michael Jordan")
    assert result["answer"]["score"] == 1.0 and result["activations"] == [0.5, 0.0]
    assert result["ablation"]["neurons"][0]["answer_score"] == 0.0


def test_unknown_words_and_bad_options_are_refused(hand_built):
    with pytest.raises(ValueError, match="unknown word 'Usain'"):
        probing.probe(hand_built, "Usain Bolt")
    with pytest.raises(ValueError, match="ablation must be 'zero' or 'mean'"):
        probing.probe(hand_built, "Michael Jordan", ablation="half")


# ------------------------------------------------------------------------------ a trained fact store
@pytest.fixture(scope="module")
def fact_store():
    from tinygrad_edu.models.michael_jordan import train

    result = train(steps=60, seed=0, facts=8, dim=24, d_hidden=6, lr=3e-2)
    return probing.fact_store_subject(result.details["model"], {"steps": 60})


def test_the_fact_stores_probe_agrees_with_the_blocks_own_mask_and_methods(fact_store):
    store = fact_store.store
    result = probing.probe(fact_store, "Michael Jordan", top=3)
    x = store.embed([["Michael", "Jordan"]])
    with tg.no_grad():
        hidden = store.block.hidden(x).tolist()[0]
    assert result["activations"] == hidden
    for entry in result["ablation"]["neurons"]:
        store.block.neuron_mask = tg.tensor([0.0 if k == entry["neuron"] else 1.0 for k in range(len(hidden))])
        try:
            with tg.no_grad():
                scores = store(x).tolist()[0]
        finally:
            store.block.neuron_mask = None
        assert list(entry["scores"].values()) == pytest.approx(scores, abs=1e-12)


def test_a_sports_score_is_the_input_plus_every_neurons_contribution(fact_store):
    """score_s = (x + b_down)·s + Σ_j value_j · (W_down[:, j]·s): the writes are an exact decomposition."""
    store = fact_store.store
    result = probing.probe(fact_store, "Michael Jordan")
    writes = fact_store.write_matrix("Michael Jordan")
    x = store.embed([["Michael", "Jordan"]])[0].tolist()
    bias = store.block.down.bias.tolist()
    for s, sport in enumerate(store.sports):
        direction = store.directions[sport].tolist()
        base = math.fsum((xi + bi) * di for xi, bi, di in zip(x, bias, direction))
        total = base + math.fsum(v * writes[j][s] for j, v in enumerate(result["activations"]))
        assert total == pytest.approx(result["answer"]["scores"][sport], abs=1e-9)
    for entry in result["firing"]:
        assert entry["writes"][entry["writes_most"]] == max(entry["writes"].values())


def test_patching_every_neuron_is_the_target_plus_the_sources_delta(fact_store):
    store = fact_store.store
    result = probing.probe(fact_store, "Michael Jordan")
    target = result["patching"]["target"]
    xs, xt = store.embed([["Michael", "Jordan"]]), store.embed([target.split()])
    with tg.no_grad():
        expected = ((xt + store.block.down(store.block.hidden(xs))) @ store.sport_matrix.T).tolist()[0]
    assert list(result["patching"]["runs"][1]["scores"].values()) == pytest.approx(expected, abs=1e-12)


def test_firing_neurons_and_their_top_inputs_come_from_a_run_over_every_input(fact_store):
    store = fact_store.store
    result = probing.probe(fact_store, "Michael Jordan", top=10)
    inputs, _, labels = store.examples()
    with tg.no_grad():
        hidden = store.block.hidden(store.embed(inputs)).tolist()
    values = result["activations"]
    peak = [max(max(row[j] for row in hidden), values[j]) for j in range(len(values))]
    firing = [entry["neuron"] for entry in result["firing"]]
    assert sorted(firing) == [j for j in range(len(values)) if peak[j] > 0 and values[j] > 0.25 * peak[j]]
    assert [values[j] for j in firing] == sorted((values[j] for j in firing), reverse=True)
    for entry in result["top_inputs"]:
        j = entry["neuron"]
        shown = [item["value"] for item in entry["inputs"]]
        assert shown == sorted((row[j] for row in hidden), reverse=True)[:len(shown)]
        assert all(item["value"] == hidden[labels.index(item["input"])][j] for item in entry["inputs"])


# ------------------------------------------------------------------------------ a (tiny) trained transformer
@pytest.fixture(scope="module")
def transformer():
    from tinygrad_edu.models.mini_transformer import train

    result = train(steps=4, seed=0, d_model=8, n_heads=1, d_hidden=8, facts=6)
    facts = [(f, l, s) for f, l, _, s in (t.split() for t in result.details["sentences"])]
    return probing.transformer_subject(result.details["model"], result.state["vocab"], facts)


def test_the_transformers_neurons_are_its_last_mlp_at_the_last_position(transformer):
    result = probing.probe(transformer, "Michael Jordan", top=3)
    assert result["neurons_at"] == "blocks.0.mlp.act" and result["neuron_count"] == 8
    model = transformer.model
    ids = transformer.encode(["Michael Jordan"])
    assert ids == [[transformer.index["Michael"], transformer.index["Jordan"], transformer.index["plays"]]]
    with tg.no_grad():
        x = model.tokens(ids) + model.positions([0, 1, 2])
        block = model.blocks[0]
        x = x + block.attn(block.ln1(x))
        hidden = block.mlp.hidden(block.ln2(x))[0, 2, :].tolist()
        logits = model(ids)[0, 2, :].tolist()
    assert result["activations"] == pytest.approx(hidden, abs=1e-12)
    assert result["answer"]["answer"] == transformer.vocab[logits.index(max(logits))]
    for entry in result["ablation"]["neurons"]:
        mlp = model.last_mlp()
        mlp.neuron_mask = tg.tensor([0.0 if k == entry["neuron"] else 1.0 for k in range(8)])
        try:
            with tg.no_grad():
                row = model(ids)[0, 2, :].tolist()
        finally:
            mlp.neuron_mask = None
        assert [entry["scores"][s] for s in transformer.sports] == \
            pytest.approx([row[transformer.index[s]] for s in transformer.sports], abs=1e-12)


def test_the_transformer_reads_first_last_plays(transformer):
    with pytest.raises(ValueError, match="give a first and a last name"):
        probing.probe(transformer, "Michael")
    assert transformer.words("Michael Jordan plays") == ["Michael", "Jordan"]


# ------------------------------------------------------------------------------ the command
def test_probe_json_gives_everything_and_the_exact_claims(capsys):
    code, out, _ = run_cli(["probe", "michael-jordan", "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert set(result) >= {"answer", "firing", "ablation", "patching", "top_inputs", "activations"}
    assert result["answer"]["answer"] == "basketball"
    assert result["ablation"]["neurons"][0]["answer_score"] == 0.0
    assert result["patching"]["runs"][1]["answer"] == "basketball"


def test_probe_prints_the_neuron_its_ablation_and_the_patch(capsys):
    code, out, _ = run_cli(["probe", "michael-jordan", "--width", "120"], capsys)
    assert code == 0
    assert "Michael Jordan → basketball 1.00" in out
    assert "1.00 → 0.00, nothing" in out
    assert "basketball 1.00 ✓" in out
    assert "Switching off #0 alone changes the answer" in out


@pytest.mark.parametrize("width", [80, 120])
def test_probe_output_fits_the_terminal_width(width, capsys, hand_built, fact_store, transformer):
    for subject in (hand_built, fact_store, transformer):
        console = offscreen_console(width=width, colour=False)
        for part in probe_command.render(probing.probe(subject, "Michael Jordan")):
            console.print(part)
        lines = console.export_text().splitlines()
        assert lines and max(cell_len(line) for line in lines) <= width, subject.name
    code, out, _ = run_cli(["probe", "michael-jordan", "--width", str(width)], capsys)
    assert code == 0 and max(cell_len(line) for line in out.splitlines()) <= width


def test_probe_facts_trains_with_train_settings_and_loads_a_checkpoint(tmp_path, capsys):
    checkpoint = tmp_path / "facts.ckpt"
    settings = ["--steps", "40", "--set", "facts=6", "--set", "dim=16", "--set", "d_hidden=4"]
    code, _, _ = run_cli(["train", "facts", *settings, "--save", str(checkpoint), "--json"], capsys)
    assert code == 0
    code, trained, _ = run_cli(["probe", "facts", *settings, "--json"], capsys)
    assert code == 0
    code, loaded, _ = run_cli(["probe", "facts", "--load", str(checkpoint), "--json"], capsys)
    assert code == 0
    trained, loaded = json.loads(trained), json.loads(loaded)
    assert trained["settings"]["d_hidden"] == 4 and trained["neuron_count"] == 4
    assert loaded["activations"] == trained["activations"], "the same seed and settings, the same model"
    assert loaded["answer"] == trained["answer"]


@pytest.mark.parametrize("argv, message", [
    (["probe", "michael-jordan", "Usain Bolt"], "unknown word 'Usain'"),
    (["probe", "michael-jordan", "--steps", "5"], "hand-built, not trained"),
    (["probe", "michael-jordan", "--set", "bias=1"], "bias must be in"),
    (["probe", "michael-jordan", "--set", "dim=3"], "michael-jordan has no setting 'dim'"),
    (["probe", "facts", "Michael Jordn"], "no fact has the name 'Jordn'"),
    (["probe", "facts", "--set", "width=3"], "facts has no setting 'width'"),
    (["probe", "facts", "--set", "d_hidden=many"], "expected an integer"),
    (["probe", "facts", "--load", "/nonexistent/facts.ckpt"], "no such file"),
    (["probe", "facts", "--load", "x.ckpt", "--steps", "3"], "--set and --steps do not apply"),
    (["probe", "transformer", "Michael"], "give a first and a last name"),
    (["probe", "transformer", "Michael Jordan", "--into", "Phelps"], "give a first and a last name"),
])
def test_bad_arguments_print_the_usage_and_exit_2(argv, message, capsys):
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and out == ""
    assert "usage: tinygrad-edu probe" in err and message in err


@pytest.mark.parametrize("argv", [["probe"], ["probe", "gpt-3"], ["probe", "michael-jordan", "--top", "0"],
                                  ["probe", "facts", "--ablation", "half"]])
def test_argparse_refuses_missing_or_impossible_arguments(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: tinygrad-edu probe" in capsys.readouterr().err


def test_a_checkpoint_of_the_wrong_model_is_refused(tmp_path, capsys):
    checkpoint = tmp_path / "facts.ckpt"
    run_cli(["train", "facts", "--steps", "2", "--set", "facts=3", "--set", "dim=8", "--set", "d_hidden=2",
             "--save", str(checkpoint), "--json"], capsys)
    code, _, err = run_cli(["probe", "transformer", "--load", str(checkpoint)], capsys)
    assert code == 2 and "not a transformer checkpoint (it holds a facts model)" in err


def test_the_patch_goes_into_a_fact_of_another_sport_that_shares_a_name():
    from tinygrad_edu.models.michael_jordan import FACT_LIST, FactStore

    store = FactStore(FACT_LIST[:28], dim=8, d_hidden=2, seed=0)      # the real facts, then crossed ones
    subject = probing.fact_store_subject(store)
    assert probing.default_target(subject, "Michael Jordan", "basketball") == "Michael Phelps"
    assert probing.default_target(subject, "Michael Schumacher", "racing") == "Michael Phelps"
    alex = next(f"{a} {b}" for a, b, _ in FACT_LIST[20:28])
    target = probing.default_target(subject, alex, subject.truth[alex])
    assert target.split()[-1] == alex.split()[-1] and subject.truth[target] != subject.truth[alex]
