"""Exercise 9 · The Michael Jordan neuron by hand, a reference solution.

Row M + J asks "Michael AND Jordan?"; the bias −1.5 sits halfway between one name (1) and both (2), so
either side has a margin of 0.5; the pair gives h = 0.5, so the column 2B adds exactly one B.
"""


def fact_neuron(michael, jordan, basketball):
    bias = -1.5
    return michael + jordan, bias, basketball * (1.0 / (2.0 + bias))


if __name__ == "__main__":
    from tinygrad_edu.directions import Directions

    dirs = Directions.random(["Michael", "Jordan", "basketball"], 12_288, seed=0)
    row, bias, column = fact_neuron(dirs["Michael"], dirs["Jordan"], dirs["basketball"])
    for names in (["Michael", "Jordan"], ["Michael"], ["Jordan"]):
        x = dirs.embed(names)
        h = ((row * x).sum() + bias).relu()                       # the neuron
        score = (h * column * dirs["basketball"]).sum()           # what it adds along basketball
        print(names, "neuron", round(h.item(), 3), "adds along basketball", round(score.item(), 3))
