"""Calendar arithmetic on polars date columns shared by the cohort and contract code."""

from __future__ import annotations

import polars as pl


def shifted(start: pl.Expr, months: pl.Expr) -> pl.Expr:
    """``start`` moved by ``months`` calendar months (clamped to the month's last day,
    as ``Expr.dt.offset_by`` does: 31 January + 1 month = 28/29 February)."""
    return start.dt.offset_by(pl.format("{}mo", months))


def completed_months(event: pl.Expr, start: pl.Expr) -> pl.Expr:
    """Whole calendar months from ``start`` to ``event``: the largest ``k`` with
    ``start + k months <= event`` (``event >= start``)."""
    k = (event.dt.year().cast(pl.Int64) - start.dt.year().cast(pl.Int64)) * 12 + (
        event.dt.month().cast(pl.Int64) - start.dt.month().cast(pl.Int64)
    )
    return pl.when(shifted(start, k) > event).then(k - 1).otherwise(k)
