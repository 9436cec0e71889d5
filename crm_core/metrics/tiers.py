"""ABC profit tiers: rank customers by profit and size the tiers by one rule.

The domain brief's first table (section 1) splits customers into tiers by profit: in the
seeds' leisure company tier A (the best 10% of customers) earns 75% of net profit, tier B
(the next 20%) 20%, and tier C (the remaining 70%) 5% while causing half of all costs.
The Segments page's tiers and the What-if page's tier segments both come from here:

* **Ranking**: profit, highest first; equal profits (to a millionth of the currency unit,
  so float rounding in sums never reorders customers) are ordered by the key (ascending),
  so a tie at a tier boundary is broken the same way on every run.
* **Tier sizes**: with ``n`` customers and cut-offs ``(a, b, c)`` (fractions summing to 1),
  tier A holds the best ``top_count(a)`` customers and tiers A and B together the best
  ``top_count(a + b)``, where ``top_count`` is :func:`crm_core.metrics.profit.top_count_expr`
  (the nearest whole customer, halves up, at least one): the rule behind the Executive
  overview's "top 10% earn" headline, so tier A's share of profit always equals it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from crm_core.metrics.profit import PROFIT, top_count_expr

__all__ = [
    "DEFAULT_CUTOFFS",
    "PROFIT_RANK",
    "TIER",
    "TIERS",
    "TIER_DTYPE",
    "assign_tiers",
    "tier_name",
    "tier_names",
    "validate_cutoffs",
]

TIER = "tier"
PROFIT_RANK = "profit_rank"
TIERS: tuple[str, str, str] = ("A", "B", "C")
TIER_DTYPE = pl.Enum(TIERS)
DEFAULT_CUTOFFS: tuple[float, float, float] = (0.10, 0.20, 0.70)
"""The seeds' 10% / 20% / 70%."""
_RANK_DIGITS = 6  # profits equal to a millionth of the currency unit rank as ties


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


def tier_names(cutoffs: Sequence[float]) -> tuple[str, str, str]:
    """The three tiers with their definitions: ``("A: top 10%", "B: next 20%", ...)``."""
    names = tuple(tier_name(t, cutoffs) for t in TIERS)
    return names  # type: ignore[return-value]


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
