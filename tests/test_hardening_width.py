"""Every command at 80 and at 120 columns: no line wider than the terminal, no word or number cut short
with "…", names on one line."""
import contextlib
import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from tinygrad_edu.cli import main
from tinygrad_edu.commands.layout import fitted

WIDTHS = [80, 120]
# "…" that the text itself contains (not a cut): the formula of a neuron in `show`.
MEANT = ["relu(… − 1)"]
# Where a line may be longer than the terminal: text printed for the terminal to wrap (so a command
# stays whole to copy), and what a lesson's own code prints.
SOFT_WRAPPED = {"exercise list", "tutorial 1 --run"}

COMMANDS = {
    "demo": ["demo"],
    "show": ["show", "michael-jordan"],
    "trace": ["trace"],
    "tutorial": ["tutorial"],
    "tutorial 1": ["tutorial", "1", "--no-pager"],
    "tutorial 1 --run": ["tutorial", "1", "--run", "--no-pause"],
    "probe": ["probe", "michael-jordan"],
    "exercise list": ["exercise", "list"],
    "train mlp-block": ["train", "mlp-block", "--steps", "2", "--set", "d_model=4", "--set", "d_hidden=8"],
    "train facts": ["train", "facts", "--steps", "2", "--set", "dim=16", "--set", "d_hidden=8"],
    "train facts-sweep": ["train", "facts-sweep", "--steps", "2", "--set", "facts=6", "--set", "neurons=[8,4]",
                          "--set", "dim=16"],
    "train orthogonal": ["train", "orthogonal", "--steps", "2", "--set", "vectors=12", "--set", "dim=4"],
    "train superposition": ["train", "superposition", "--steps", "2", "--set", "sparsities=[0.9]",
                            "--set", "n_features=6", "--set", "n_hidden=2"],
    "train transformer": ["train", "transformer", "--steps", "2", "--set", "d_model=8", "--set", "d_hidden=8"],
    "train moons": ["train", "moons", "--steps", "2", "--set", "n=20"],
}

_CUT = re.compile(r"…(?=\s*(?:[│┃|]|$))", re.M)


def run(argv, width):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv + ["--width", str(width)])
    assert code == 0, err.getvalue()
    return out.getvalue()


def check_fits(text, width, long_lines_allowed=False):
    visible = text
    for phrase in MEANT:
        visible = visible.replace(phrase, "")
    cut = [line for line in visible.splitlines() if _CUT.search(line)]
    assert not cut, "cut short with …:\n" + "\n".join(cut[:5])
    if not long_lines_allowed:
        wide = [line for line in text.splitlines() if cell_len(line) > width]
        assert not wide, f"wider than {width}:\n" + "\n".join(wide[:5])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_fits_without_cutting(capsys, name, width):
    known = set(__import__("tinygrad_edu.cli", fromlist=["COMMANDS"]).COMMANDS)
    if COMMANDS[name][0] not in known:
        pytest.skip(f"no {COMMANDS[name][0]} command here")
    check_fits(run(COMMANDS[name], width), width, long_lines_allowed=name in SOFT_WRAPPED)


@pytest.mark.parametrize("width", WIDTHS)
def test_show_keeps_every_number_and_name_whole(width):
    text = run(["show", "michael-jordan"], width)
    names = ["Michael", "Jordan", "basketball", "Phelps", "swimming", "LeBron", "tennis"]
    headers = [line for line in text.splitlines() if all(n in line for n in names)]
    assert len(headers) == 4                     # dot products and outputs, exact and random, all on one line
    for label in ["Michael Jordan", "Michael Phelps", "LeBron Jordan"]:
        rows = [line for line in text.splitlines() if line.lstrip().startswith(label) and line not in headers]
        assert len(rows) == 4, label             # the neurons and the outputs, twice
    numbers = re.findall(r"[+-]\d+\.\d{4}\b", text)
    assert len(numbers) == 7 * 7 + 6 * 4 + 6 * 7 + 1    # every random-direction number in full, and the gain


@pytest.fixture(scope="module")
def bench_results():
    suite = pytest.importorskip("tinygrad_edu.benchmarks.suite")
    return suite.run(sizes=("tiny",), repeat=1, budget=0.01, engine=False, chain=0)


@pytest.mark.parametrize("width", WIDTHS)
def test_bench_tables_keep_names_and_losses_whole(bench_results, width):
    from tinygrad_edu.benchmarks import suite
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=False)
    suite.render(bench_results, console)
    text = console.export_text()
    check_fits(text, width)
    assert "tinygrad_e…" not in text
    assert text.count("tinygrad_edu") >= 2
    for entry in bench_results["sizes"]["tiny"]["results"].values():
        if "losses" in entry:
            assert f"{entry['losses'][-1]:.12f}" in text


def test_fitted_keeps_words_whole_where_rich_would_cut_them():
    """Rich narrows the widest columns first and cuts words; fitted shares the room out fairly."""
    from rich.table import Table

    def table():
        t = Table(title="toy models")
        for header in ("model", "loss", "represented (‖W_i‖>0.5)", "dims / feature", "features in superposition",
                       "antipodal pairs"):
            t.add_column(header)
        t.add_row("ReLU S=0.9", "0.0671", "4", "0.921", "4", "0↔1")
        return t

    def draw(renderable, width):
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(renderable)
        return console.export_text()

    assert "superpositi…" in draw(table(), 80)           # what Rich alone does
    for width in (60, 80, 120):
        check_fits(draw(fitted(table()), width), width)
        assert "superposition" in draw(fitted(table()), width)
    again = fitted(table())                               # drawn twice at different widths: laid out afresh
    assert "superposition" in draw(again, 60) and "superposition" in draw(again, 120)
