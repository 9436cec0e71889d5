"""ABC profit tiers: rank customers by profit and size the tiers by one rule.

The domain brief's first table (section 1) splits customers into tiers by profit: in the
seeds' leisure company tier A (the best 10% of customers) earns 75% of net profit, tier B
(the next 20%) 20%, and tier C (the remaining 70%) 5% while causing half of all costs.

* **Ranking**: profit, highest first; equal profits (to a millionth of the currency unit,
  so float rounding in sums never reorders customers) are ordered by customer id
  (ascending), so a tie at a tier boundary is broken the same way on every run.
* **Tier sizes**: with ``n`` customers and cut-offs ``(a, b, c)`` (fractions summing to 1),
  tier A holds the best ``top_count(a)`` customers and tiers A and B together the best
  ``top_count(a + b)``, where ``top_count`` is
  :func:`crm_core.metrics.profit.top_count_expr` (the nearest whole customer, halves up,
  at least one): the rule behind the Executive overview's "top 10% earn" headline, so tier
  A's share of profit always equals it for the same customers and window.
* **Shares** are a tier's amount over the total of all tiers: shares of profit and revenue
  are only defined when that total is positive (null otherwise), shares of costs when the
  total cost is not zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from crm_core.metrics.profit import top_count_expr, top_share  # top_share: re-exported
from crm_core.segments.columns import (
    ACQUISITION_COST,
    AVG_CLV,
    COST_PER_CUSTOMER,
    COST_SHARE,
    CUSTOMER_SHARE,
    CUSTOMERS,
    DIRECT_COST,
    MAX_PROFIT,
    MIN_PROFIT,
    PROFIT,
    PROFIT_PER_CUSTOMER,
    PROFIT_RANK,
    PROFIT_SHARE,
    REVENUE,
    REVENUE_PER_CUSTOMER,
    REVENUE_SHARE,
    SERVICE_COST,
    SERVICE_COST_PER_CUSTOMER,
    TIER,
    TOTAL_COST,
    per_customer,
    share_of_total,
)

__all__ = [
    "DEFAULT_CUTOFFS",
    "TIER",
    "TIERS",
    "TIER_COLUMNS",
    "TIER_DTYPE",
    "assign_tiers",
    "tier_name",
    "tier_table",
    "top_share",
    "validate_cutoffs",
]

TIERS: tuple[str, str, str] = ("A", "B", "C")
TIER_DTYPE = pl.Enum(TIERS)
DEFAULT_CUTOFFS: tuple[float, float, float] = (0.10, 0.20, 0.70)
"""The seeds' 10% / 20% / 70%."""
_RANK_DIGITS = 6  # profits equal to a millionth of the currency unit rank as ties

TIER_COLUMNS = (
    TIER,
    CUSTOMERS,
    CUSTOMER_SHARE,
    REVENUE,
    REVENUE_SHARE,
    DIRECT_COST,
    SERVICE_COST,
    ACQUISITION_COST,
    TOTAL_COST,
    COST_SHARE,
    PROFIT,
    PROFIT_SHARE,
    PROFIT_PER_CUSTOMER,
    REVENUE_PER_CUSTOMER,
    COST_PER_CUSTOMER,
    SERVICE_COST_PER_CUSTOMER,
    MIN_PROFIT,
    MAX_PROFIT,
    AVG_CLV,
)
"""Columns of :func:`tier_table`, in order."""


def validate_cutoffs(cutoffs: Sequence[float]) -> tuple[float, float, float]:
    """Check tier cut-offs: three fractions (A, B, C), A positive, all >= 0, summing to 1.

    Raises
    ------
    ValueError
        With the offending values.
    """
    values = tuple(cutoffs)
    if len(values) != len(TIERS):
        raise ValueError(f"cutoffs must give three shares (A, B, C), got {values!r}")
    if any(
        isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
        for v in values
    ):
        raise ValueError(f"cutoffs must be finite numbers, got {values!r}")
    a, b, c = (float(v) for v in values)
    if a <= 0 or b < 0 or c < 0:
        raise ValueError(f"cutoffs must be >= 0 with a positive tier A share, got {values!r}")
    if abs(a + b + c - 1.0) > 1e-6:
        raise ValueError(f"cutoffs must sum to 1 (100% of customers), got {a + b + c:.6g}")
    return a, b, c


def tier_name(tier: str, cutoffs: Sequence[float]) -> str:
    """Tier with its definition: ``"A: top 10%"``, ``"B: next 20%"``, ``"C: other 70%"``."""
    a, b, c = validate_cutoffs(cutoffs)
    text = {"A": f"top {a:.0%}", "B": f"next {b:.0%}", "C": f"other {c:.0%}"}
    return f"{tier}: {text[tier]}"


def assign_tiers(
    profits: pl.LazyFrame,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    *,
    profit: str = PROFIT,
    key: str = "customer_id",
) -> pl.LazyFrame:
    """Rank customers by profit and give each a tier (A, B, C).

    Parameters
    ----------
    profits
        One row per customer with at least ``key`` and ``profit`` (e.g.
        :func:`crm_core.metrics.profit.customer_profit`). Extra columns are kept.
    cutoffs
        Shares of customers in tiers A, B and C (fractions summing to 1); default 10/20/70%.
    profit, key
        Names of the profit (currency) and tie-breaking key columns; the ledger's ``cid``
        follows ``customer_id`` order, so either gives the same ranking.

    Returns
    -------
    pl.LazyFrame
        The input sorted by profit (highest first, then ``key`` ascending) with
        ``profit_rank`` (1 = most profitable, Int64) and ``tier`` (Enum A < B < C).
    """
    a, b, _ = validate_cutoffs(cutoffs)
    rank = pl.col(PROFIT_RANK)
    tier = (
        pl.when(rank <= top_count_expr(a))
        .then(pl.lit("A"))
        .when(rank <= top_count_expr(min(a + b, 1.0)))
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
        .cast(TIER_DTYPE)
    )
    # rounded for the ranking only: sums of the same cents can differ in the last bit from
    # one build to the next, which must not reorder tied customers
    return (
        profits.sort(
            [pl.col(profit).round(_RANK_DIGITS), pl.col(key)],
            descending=[True, False],
            nulls_last=True,
        )
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(PROFIT_RANK))
        .with_columns(tier.alias(TIER))
    )


def tier_table(ranked: pl.LazyFrame, *, clv: str | None = None) -> pl.LazyFrame:
    """The seeds' A/B/C table from customers with a ``tier`` (see :func:`assign_tiers`).

    Parameters
    ----------
    ranked
        Per-customer frame with ``tier`` and the money columns of
        :func:`crm_core.metrics.profit.customer_profit`.
    clv
        Name of a per-customer CLV column (currency) to average per tier, if any; nulls
        count as customers the model gives no value (0).

    Returns
    -------
    pl.LazyFrame
        Always three rows (A, B, C; empty tiers have 0 customers), columns
        :data:`TIER_COLUMNS`. ``profit_share`` and ``revenue_share`` are null when that
        total is not positive, ``cost_share`` when total costs are 0, ``customer_share``
        when there are no customers, ``avg_clv`` without CLV.
    """
    sums = (REVENUE, DIRECT_COST, SERVICE_COST, ACQUISITION_COST, TOTAL_COST, PROFIT)
    avg_clv = pl.col(clv).fill_null(0.0).mean() if clv is not None else pl.lit(None)
    agg = ranked.group_by(TIER).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        *(pl.col(c).sum() for c in sums),
        pl.col(PROFIT).min().alias(MIN_PROFIT),
        pl.col(PROFIT).max().alias(MAX_PROFIT),
        avg_clv.cast(pl.Float64).alias(AVG_CLV),
    )
    all_tiers = pl.LazyFrame({TIER: list(TIERS)}, schema={TIER: TIER_DTYPE})
    return (
        all_tiers.join(agg, on=TIER, how="left")
        .with_columns(pl.col(CUSTOMERS).fill_null(0), *(pl.col(c).fill_null(0.0) for c in sums))
        .with_columns(
            share_of_total(CUSTOMERS, positive_total=True).alias(CUSTOMER_SHARE),
            share_of_total(REVENUE, positive_total=True).alias(REVENUE_SHARE),
            share_of_total(TOTAL_COST, positive_total=False).alias(COST_SHARE),
            share_of_total(PROFIT, positive_total=True).alias(PROFIT_SHARE),
            per_customer(PROFIT).alias(PROFIT_PER_CUSTOMER),
            per_customer(REVENUE).alias(REVENUE_PER_CUSTOMER),
            per_customer(TOTAL_COST).alias(COST_PER_CUSTOMER),
            per_customer(SERVICE_COST).alias(SERVICE_COST_PER_CUSTOMER),
        )
        .select(TIER_COLUMNS)
        .sort(TIER)
    )
