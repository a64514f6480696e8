"""A travel matrix computed from positions when it is read, for problems too large to hold one
and for problems solved in parts.

A dense matrix grows with the square of the stops: 30,000 stops make 900 million entries,
7.2 GB of int64 for one matrix. Decomposition (`optimize.decomposition`) needs only the
matrices of its sub-problems (a few hundred stops each) and, for the checker and the
objective, the arcs of the routes. `RoundedEuclidean` answers exactly those reads from the
stops' coordinates, as a dense matrix would:

    m = RoundedEuclidean(coords)
    m[3, 7]                       # one arc: a numpy int64
    m[np.ix_(rows, columns)]      # a block (a sub-problem's matrix): an int64 array
    np.asarray(m)                 # the whole matrix, built on purpose (an engine that needs it)

Only what is read is computed; nothing is cached (a block is computed once per sub-problem).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Rows of a dense matrix computed at a time (`euclidean_by_rows`): blocks of a few tens of
#: MB. Computed whole, the matrix peaked at three times its own size: reading a 10,000-stop
#: file peaked at 2.4 GB, by blocks at 1.6 GB (the matrix and the builder's copy of it).
ROWS_PER_BLOCK = 256


def euclidean_by_rows(coords: FloatArray, to_units: Callable[[FloatArray], FloatArray]) -> IntArray:
    """The dense integer matrix ``to_units(euclidean distance)`` between the rows of
    ``coords``, computed `ROWS_PER_BLOCK` rows at a time into the result: the same entries
    as the whole computation, with temporaries of one block only."""
    n = len(coords)
    matrix = np.empty((n, n), dtype=np.int64)
    x, y = coords[:, 0], coords[:, 1]
    for first in range(0, n, ROWS_PER_BLOCK):
        rows = slice(first, min(n, first + ROWS_PER_BLOCK))
        distance = np.hypot(x[rows, None] - x[None, :], y[rows, None] - y[None, :])
        matrix[rows] = to_units(distance)
    return matrix


class RoundedEuclidean:
    """Euclidean distances between rows of ``coords`` rounded to the nearest integer (the
    CVRPLIB convention), read like a read-only square ``int64`` matrix."""

    ndim = 2
    dtype = np.dtype(np.int64)

    def __init__(self, coords: npt.ArrayLike) -> None:
        points = np.array(coords, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"coords must be one (x, y) row per location, got {points.shape}")
        points.flags.writeable = False
        self.coords = points

    @property
    def shape(self) -> tuple[int, int]:
        n = len(self.coords)
        return (n, n)

    @property
    def size(self) -> int:
        return len(self.coords) ** 2

    def __len__(self) -> int:
        return len(self.coords)

    def __getitem__(self, key: Any) -> Any:
        if not isinstance(key, tuple) or len(key) != 2:
            raise TypeError("index a travel matrix by (rows, columns)")
        rows, columns = key
        if isinstance(rows, slice) or isinstance(columns, slice):
            # As numpy: a slice with a number gives a line, a slice with a list a block.
            every = np.arange(len(self.coords))
            rows = every[rows] if isinstance(rows, slice) else np.asarray(rows)
            columns = every[columns] if isinstance(columns, slice) else np.asarray(columns)
            if rows.ndim and columns.ndim:
                rows, columns = np.ix_(rows, columns)
        a = self.coords[rows]
        b = self.coords[columns]
        # Broadcasting keeps numpy's indexing: scalars give a scalar, np.ix_ gives a block.
        distance = np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])
        return np.rint(distance).astype(np.int64)

    def __array__(self, dtype: Any = None, copy: Any = None) -> IntArray:
        dense = euclidean_by_rows(self.coords, np.rint)
        return dense if dtype is None else dense.astype(dtype)

    def __reduce__(self) -> tuple[type[RoundedEuclidean], tuple[npt.NDArray[np.float64]]]:
        return (RoundedEuclidean, (self.coords,))
