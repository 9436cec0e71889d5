"""ABC profit tiers: rank customers by profit and size the tiers by one rule.

The domain brief's first table (section 1) splits customers into tiers by profit: in the
seeds' leisure company tier A (the best 10% of customers) earns 75% of net profit, tier B
(the next 20%) 20%, and tier C (the remaining 70%) 5% while causing half of all costs.

* **Ranking and tier sizes** follow :mod:`crm_core.metrics.tiers` (the one tier rule,
  shared with the What-if page's tier segments).
* **Shares** are a tier's amount over the total of all tiers: shares of profit and revenue
  are only defined when that total is positive (null otherwise), shares of costs when the
  total cost is not zero.
"""

from __future__ import annotations

import polars as pl

from crm_core.metrics.profit import top_share  # re-exported
from crm_core.metrics.tiers import (  # the rule, re-exported for the page
    DEFAULT_CUTOFFS,
    TIER_DTYPE,
    TIERS,
    assign_tiers,
    tier_name,
    validate_cutoffs,
)
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
