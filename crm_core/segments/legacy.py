"""Deprecated: RFM scores from raw transactions, for callers not yet on the ledger.

The What-if baseline (:mod:`crm_core.whatif.baseline`) still labels customers by RFM
segment from a snapshot's transactions. The Segments page does not use this module: its
scores come from the customer ledger (:func:`crm_core.segments.rfm_scores.scores_at`).
Delete this module once nothing imports it.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from crm_core.data.schema import C
from crm_core.segments.rfm_scores import (
    FREQUENCY,
    LAST_PURCHASE,
    MONETARY,
    RECENCY_DAYS,
    SCORE_COLUMNS,
    score,
)

__all__ = ["rfm_scores_lazy"]


def rfm_scores_lazy(
    transactions: pl.LazyFrame, as_of: date, *, start: date | None = None
) -> pl.LazyFrame:
    """RFM scores per customer from ``customer_id, date, amount`` rows up to ``as_of``
    (from ``start`` on, if given); deprecated, see the module docstring.

    Frequency counts days with a positive amount, monetary the net amount (currency).

    Returns
    -------
    pl.LazyFrame
        ``customer_id`` and :data:`~crm_core.segments.rfm_scores.SCORE_COLUMNS`.
    """
    rows = pl.col(C.date) <= pl.lit(as_of)
    if start is not None:
        rows &= pl.col(C.date) >= pl.lit(start)
    bought = pl.col(C.amount) > 0
    measures = (
        transactions.filter(rows)
        .group_by(C.customer_id)
        .agg(
            pl.col(C.date).filter(bought).max().alias(LAST_PURCHASE),
            pl.col(C.date).filter(bought).n_unique().cast(pl.Int64).alias(FREQUENCY),
            pl.col(C.amount).sum().alias(MONETARY),
        )
        .filter(pl.col(FREQUENCY) > 0)
        .with_columns(
            (pl.lit(as_of) - pl.col(LAST_PURCHASE))
            .dt.total_days()
            .cast(pl.Int64)
            .alias(RECENCY_DAYS)
        )
    )
    return score(measures).select(C.customer_id, *SCORE_COLUMNS)
