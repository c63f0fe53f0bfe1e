"""Named directions: a small vocabulary of unit vectors.

The lecture speaks of *directions* in the embedding space: one for "first name Michael", one for
"last name Jordan", one for "basketball". A `Directions` object keeps such a vocabulary: each name
maps to a unit vector of the same dimension ``dim``.

Two ways to build one:

* ``Directions.orthonormal(names, dim=None)`` -- the standard basis vectors e_0, e_1, ... (exactly
  orthonormal: every dot product between different names is exactly 0, every norm exactly 1).
* ``Directions.random(names, dim, seed)`` -- random unit vectors u = g / ||g|| with g ~ N(0, I).
  In high dimensions these are *nearly* orthogonal: u·v has mean 0 and standard deviation
  about 1/sqrt(dim) (0.009 for GPT-3's dim = 12,288).

Use:

    >>> dirs = Directions.orthonormal(["Michael", "Jordan", "basketball"])
    >>> v = dirs.embed(["Michael", "Jordan"])          # the sum M + J, a 1-D Tensor
    >>> dirs.project(v)                                 # dot product with every direction
    {'Michael': 1.0, 'Jordan': 1.0, 'basketball': 0.0}
"""

from __future__ import annotations

import math
import random
from typing import Iterable, Sequence

import tinygrad_edu as tg
from tinygrad_edu.shapes import flatten

__all__ = ["Directions"]


class Directions:
    """An ordered vocabulary ``name -> unit vector`` (1-D Tensors of length ``dim``)."""

    def __init__(self, vectors: dict[str, Sequence[float]], dim: int):
        if not vectors:
            raise ValueError("Directions: need at least one name")
        self.dim = int(dim)
        self._rows: dict[str, list[float]] = {}
        for name, values in vectors.items():
            values = [float(v) for v in values]
            if len(values) != self.dim:
                raise ValueError(
                    f"Directions: vector for {name!r} has length {len(values)}, expected dim={self.dim}")
            self._rows[name] = values
        self._tensors: dict[str, tg.Tensor] = {}
        self._matrix: tg.Tensor | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def orthonormal(cls, names: Iterable[str], dim: int | None = None) -> "Directions":
        """Standard basis vectors: names[i] -> e_i in ``dim`` dimensions (default: one per name)."""
        names = _unique_names(names)
        dim = len(names) if dim is None else int(dim)
        if dim < len(names):
            raise ValueError(
                f"Directions.orthonormal: {len(names)} names do not fit in dim={dim} "
                f"(at most dim orthonormal vectors exist)")
        vectors = {}
        for i, name in enumerate(names):
            row = [0.0] * dim
            row[i] = 1.0
            vectors[name] = row
        return cls(vectors, dim)

    @classmethod
    def random(cls, names: Iterable[str], dim: int, seed: int = 0, generator=None) -> "Directions":
        """Random unit vectors u = g / ||g||, g ~ N(0, I_dim); the same seed gives the same vectors.

        ``generator`` (a `tinygrad_edu.Generator`), when given, is used instead of ``seed``.
        """
        names = _unique_names(names)
        dim = int(dim)
        if dim < 1:
            raise ValueError(f"Directions.random: dim must be >= 1, got {dim}")
        rng = generator.random if generator is not None else random.Random(seed)
        vectors = {}
        for name in names:
            g = [rng.gauss(0.0, 1.0) for _ in range(dim)]
            norm = math.sqrt(sum(x * x for x in g))
            vectors[name] = [x / norm for x in g]
        return cls(vectors, dim)

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> list[str]:
        """The names, in the order they were given."""
        return list(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    def __iter__(self):
        return iter(self._rows)

    def __getitem__(self, name: str) -> tg.Tensor:
        """The unit vector for ``name`` as a 1-D Tensor of length ``dim``."""
        if name not in self._rows:
            raise KeyError(f"Directions: unknown name {name!r}; known names: {', '.join(self._rows)}")
        if name not in self._tensors:
            self._tensors[name] = tg.tensor(self._rows[name]).named(name)
        return self._tensors[name]

    def matrix(self) -> tg.Tensor:
        """All directions stacked as rows: a (len(names), dim) Tensor."""
        if self._matrix is None:
            self._matrix = tg.tensor([self._rows[n] for n in self._rows])
        return self._matrix

    def embed(self, names: Iterable[str]) -> tg.Tensor:
        """The sum of the named directions (a 1-D Tensor); the empty sum is the zero vector."""
        total = [0.0] * self.dim
        for name in names:
            if name not in self._rows:
                raise KeyError(f"Directions.embed: unknown name {name!r}; known names: {', '.join(self._rows)}")
            total = [a + b for a, b in zip(total, self._rows[name])]
        return tg.tensor(total)

    def project(self, vector) -> dict[str, float] | list[dict[str, float]]:
        """Dot product of ``vector`` with every direction.

        For a 1-D vector v of length dim: ``{name: v · u_name}``.
        For a 2-D (rows, dim) tensor: one such dict per row.
        """
        values = vector.tolist() if hasattr(vector, "tolist") else vector
        shape = tuple(getattr(vector, "shape", ())) or flatten(values)[1]
        if len(shape) == 1:
            self._check_length(shape[-1])
            return {name: _dot(values, row) for name, row in self._rows.items()}
        if len(shape) == 2:
            self._check_length(shape[-1])
            return [{name: _dot(r, row) for name, row in self._rows.items()} for r in values]
        raise ValueError(f"Directions.project: expected a 1-D or 2-D tensor, got shape {shape}")

    def cosine(self, a: str, b: str) -> float:
        """cos of the angle between two named directions (they are unit vectors, so just the dot)."""
        return _dot(self._rows[a], self._rows[b])

    def _check_length(self, n: int) -> None:
        if n != self.dim:
            raise ValueError(f"Directions.project: vector length {n} differs from dim={self.dim}")

    def __repr__(self) -> str:
        shown = ", ".join(self.names[:6]) + (", ..." if len(self) > 6 else "")
        return f"Directions([{shown}], dim={self.dim})"


def _unique_names(names: Iterable[str]) -> list[str]:
    names = list(names)
    seen = set()
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"Directions: names must be strings, got {n!r}")
        if n in seen:
            raise ValueError(f"Directions: name {n!r} given twice")
        seen.add(n)
    if not names:
        raise ValueError("Directions: need at least one name")
    return names


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b))
