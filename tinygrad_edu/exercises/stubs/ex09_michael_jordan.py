"""Exercise 9 · The Michael Jordan neuron by hand             lesson 4 · How the block stores a fact

Write `fact_neuron(michael, jordan, basketball)`: the weights of one MLP neuron that stores
"Michael Jordan plays basketball", as (up_row, up_bias, down_column).

The math
    M, J, B are unit vectors (directions) for "first name Michael", "last name Jordan", "basketball".
    The input for "Michael Jordan" is x = M + J. One neuron of the block computes
        h = relu(w · x + b)               w: its row of W_up, b: its bias
        the block adds h · c to x          c: its column of W_down
    An AND gate: with w = M + J, w·x is 2 for the pair and about 1 for either name alone (M·J ≈ 0).
    The bias is the threshold, and it needs a MARGIN: ReLU has a kink at 0, and in high dimension
    the dot products of unrelated directions are not 0 but ±1/√d. A single name must stay well
    below 0 and the pair well above, and the pair must add exactly 1 along B.
    The check builds an MLPBlock from your numbers and tries "Michael Jordan", "Michael", "Jordan",
    "Michael Phelps", "LeBron Jordan" and nothing, with orthonormal directions and then with random
    unit vectors in 12,288 dimensions (GPT-3's width).

What to return
    up_row: a Tensor of shape (d,); up_bias: a number; down_column: a Tensor of shape (d,).
    Tensors add and scale as you would expect: michael + jordan, basketball * 2.0.

Hints
    - which bias is halfway between "one name" (1) and "both" (2)?
    - the pair then gives h = 2 + b; the block adds h·c; choose c so that h·c·B = 1.
    - a bias of exactly −1 is the lecture's first version: it works with orthonormal directions and
      sits on the kink in high dimension. The check asks for a margin of 0.25 on both sides.

Read    lesson 4, "The AND gate, built by hand", "In 12,288 dimensions" and "A margin"
        (tinygrad-edu tutorial michael)
Check   tinygrad-edu exercise check 9          (--trace 9 shows your neuron at work)
"""
import tinygrad_edu as tg


def fact_neuron(michael, jordan, basketball):
    raise NotImplementedError("exercise 9: write fact_neuron")


if __name__ == "__main__":          # try it: python ex10_michael_jordan.py
    from tinygrad_edu.directions import Directions

    dirs = Directions.random(["Michael", "Jordan", "basketball"], 12_288, seed=0)
    row, bias, column = fact_neuron(dirs["Michael"], dirs["Jordan"], dirs["basketball"])
    for names in (["Michael", "Jordan"], ["Michael"], ["Jordan"]):
        x = dirs.embed(names)
        h = ((row * x).sum() + bias).relu()                       # the neuron
        score = (h * column * dirs["basketball"]).sum()           # what it adds along basketball
        print(names, "neuron", round(h.item(), 3), "adds along basketball", round(score.item(), 3))
