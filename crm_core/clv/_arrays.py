"""Input checks and array plumbing shared by the CLV modules (private).

Functions accept scalars, sequences, numpy arrays and polars Series; they compute on
float64 numpy arrays and hand results back in the caller's form: a ``float`` when every
input was a scalar, a polars Series when the first array-like input was a Series, a numpy
array otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

ArrayLike = float | int | Sequence[float] | np.ndarray | pl.Series


def as_float(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 array; ``ValueError`` naming ``name`` when not numeric."""
    if isinstance(value, pl.Series):
        if value.null_count():
            raise ValueError(f"{name} has {value.null_count()} missing value(s)")
        value = value.to_numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {type(value).__name__}") from None
    return arr


def check_finite(name: str, arr: np.ndarray) -> None:
    """``ValueError`` when ``arr`` holds NaN or infinities."""
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; found {bad} NaN or infinite value(s)")


def is_scalar(value: Any) -> bool:
    """Whether ``value`` is a plain number (not an array or a Series)."""
    return np.ndim(value) == 0 and not isinstance(value, pl.Series)


def wrap(result: np.ndarray, *inputs: Any, name: str) -> Any:
    """Hand ``result`` back in the form of ``inputs`` (float, Series or ndarray)."""
    if all(is_scalar(v) for v in inputs):
        return float(np.asarray(result).reshape(()))
    if any(isinstance(v, pl.Series) for v in inputs):
        return pl.Series(name, np.asarray(result, dtype=np.float64))
    return np.asarray(result, dtype=np.float64)


def codes(values: np.ndarray, steps: Sequence[float] = (1.0, 7.0)) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of a 1-D float array and the position of each value among them.

    Equivalent to ``np.unique(values, return_inverse=True)``. When every value is a whole
    number ``k`` of ``1 / step`` for one of ``steps`` (whole days, or days expressed in weeks
    with step 7), reproduced bit for bit by ``k / step`` or ``k * (1 / step)`` (polars
    divides by a constant that way), ``k`` and the value determine each other, so the values
    are ranked by one counting pass over those integers instead of a sort.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size:
        for step in steps:
            k = np.rint(v * step)
            if not (k.min() >= 0 and k.max() < 2**26):
                continue
            for back in (lambda k, step=step: k / step, lambda k, step=step: k * (1.0 / step)):
                if np.array_equal(back(k), v):
                    ki = k.astype(np.int64)
                    present = np.zeros(int(ki.max()) + 1, dtype=bool)
                    present[ki] = True
                    rank = np.cumsum(present) - 1
                    return back(np.flatnonzero(present).astype(np.float64)), rank[ki]
    uniq, inverse = np.unique(v, return_inverse=True)
    return uniq, inverse.reshape(-1)


def group_codes(
    columns: Sequence[np.ndarray], sizes: Sequence[int], weights: np.ndarray | None
) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of integer code columns (``0 <= columns[i] < sizes[i]``) with their
    summed weights, sorted by the codes; rows of zero weight are dropped.

    The codes are packed into one int64 key and sorted once (polars' sort), so grouping a
    million rows takes milliseconds.
    """
    n = len(columns[0])
    if float(np.prod([float(s) for s in sizes])) >= 2.0**62:
        raise ValueError("too many distinct values to pack into one key")
    key = np.asarray(columns[0], dtype=np.int64)
    for col, size in zip(columns[1:], sizes[1:], strict=True):
        key = key * int(size) + col
    if weights is None:
        keys = pl.Series(key).sort().to_numpy()
        w_sorted = None
    else:
        frame = pl.DataFrame({"k": key, "w": weights}).filter(pl.col("w") > 0).sort("k")
        keys, w_sorted = frame["k"].to_numpy(), frame["w"].to_numpy()
        n = keys.size
    if n == 0:
        return [np.zeros(0, dtype=np.int64) for _ in columns], np.zeros(0)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    if w_sorted is None:
        w = np.diff(np.append(starts, n)).astype(np.float64)
    else:
        w = np.add.reduceat(w_sorted, starts)
    rest = keys[starts]
    out: list[np.ndarray] = []
    for size in reversed(sizes[1:]):
        rest, code = np.divmod(rest, int(size))
        out.append(code)
    out.append(rest)
    return out[::-1], w


def check_weights(weights: Any, n: int, error: type[ValueError]) -> np.ndarray | None:
    """Validated weights (counts of identical customers) or ``None``."""
    if weights is None:
        return None
    w = as_float("weights", weights).reshape(-1)
    if w.size != n:
        raise error(f"weights has {w.size} values for {n} customers")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise error("weights must be finite and non-negative")
    if w.sum() <= 0:
        raise error("weights sum to zero: there are no customers to fit")
    return w


def wsum(a: np.ndarray, b: np.ndarray) -> float:
    """``sum(a * b)`` of two 1-D arrays without BLAS: ``np.dot`` hands long vectors to a
    multi-threaded BLAS whose threads stall on a busy machine (milliseconds instead of
    microseconds), while ``einsum`` runs its own single-threaded loop."""
    return float(np.einsum("i,i->", a, b))
