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


def group_rows(columns: dict[str, np.ndarray], weights: np.ndarray | None) -> dict[str, np.ndarray]:
    """Collapse identical rows of ``columns`` into one row each with summed weights ``w``.

    A million customers usually share far fewer distinct (frequency, recency, T) rows, so
    the likelihood is evaluated once per distinct row and weighted by its count. Rows with
    zero weight are dropped.
    """
    n = len(next(iter(columns.values())))
    w = np.ones(n) if weights is None else weights
    frame = pl.DataFrame({**columns, "w": w}).filter(pl.col("w") > 0)
    grouped = frame.group_by(list(columns)).agg(pl.col("w").sum()).sort(list(columns))
    return {name: grouped[name].to_numpy() for name in [*columns, "w"]}


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
