"""The activity value matrix: purchase frequency against yearly amount (domain brief §6).

Each customer dealt with in the profit window is placed by two yearly rates taken from the
ledger window: **purchases a year** (transactions with a positive amount in the window,
divided by the window's length in years of 365.25 days) and **spend a year** (revenue net
of refunds in the window, per year). A customer is *frequent* when their purchases a year
are strictly above the frequency threshold and *high spend* when their spend a year is
strictly above the amount threshold; by default both thresholds are the medians of the
selected customers. Four quadrants follow (the seeds' credit-card matrix): frequent and
high spend (the best), occasional but high spend (capacity without a habit), frequent but
low spend (a habit with little capacity) and occasional and low spend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from crm_core.metrics.profit import ProfitWindow
from crm_core.segments.columns import (
    CUSTOMER_SHARE,
    CUSTOMERS,
    FREQUENT,
    HIGH_SPEND,
    PROFIT,
    PROFIT_PER_CUSTOMER,
    PROFIT_SHARE,
    PURCHASES,
    PURCHASES_PER_YEAR,
    QUADRANT,
    REVENUE,
    YEARLY_AMOUNT,
    per_customer,
    share_of_total,
)

__all__ = [
    "QUADRANTS",
    "QUADRANT_COLUMNS",
    "QUADRANT_DTYPE",
    "Quadrant",
    "ValueMatrix",
    "check_thresholds",
    "quadrant_expr",
    "quadrant_table",
    "thresholds",
    "value_columns",
]


@dataclass(frozen=True)
class Quadrant:
    """One cell of the value matrix: its name and where it lies."""

    name: str
    frequent: bool
    high_spend: bool


QUADRANTS: tuple[Quadrant, ...] = (
    Quadrant("Frequent, high spend", True, True),
    Quadrant("Occasional, high spend", False, True),
    Quadrant("Frequent, low spend", True, False),
    Quadrant("Occasional, low spend", False, False),
)
QUADRANT_DTYPE = pl.Enum([q.name for q in QUADRANTS])
QUADRANT_COLUMNS = (
    QUADRANT,
    FREQUENT,
    HIGH_SPEND,
    CUSTOMERS,
    CUSTOMER_SHARE,
    REVENUE,
    PROFIT,
    PROFIT_SHARE,
    PROFIT_PER_CUSTOMER,
)


@dataclass(frozen=True)
class ValueMatrix:
    """The value matrix of the selected customers.

    Attributes
    ----------
    table
        Four rows, one per quadrant in :data:`QUADRANTS` order, columns
        :data:`QUADRANT_COLUMNS` (``profit_share`` null when total profit is not
        positive; money in currency).
    frequency_threshold
        Purchases a year above which a customer counts as frequent (``None`` if nobody).
    amount_threshold
        Spend a year (currency) above which a customer counts as high spend.
    at_medians
        Whether the thresholds are the medians (the default) rather than chosen values.
    """

    table: pl.DataFrame
    frequency_threshold: float | None
    amount_threshold: float | None
    at_medians: bool


def value_columns(window: ProfitWindow) -> list[pl.Expr]:
    """``purchases_per_year`` and ``yearly_amount`` from the window's purchases and revenue."""
    years = window.years
    return [
        (pl.col(PURCHASES) / years).alias(PURCHASES_PER_YEAR),
        (pl.col(REVENUE) / years).alias(YEARLY_AMOUNT),
    ]


def check_thresholds(values: Sequence[float] | None) -> tuple[float, float] | None:
    """``(purchases a year, spend a year)`` as floats, or ``None`` (split at the medians).

    Raises
    ------
    ValueError
        Unless two finite numbers.
    """
    if values is None:
        return None
    out = tuple(values)
    if len(out) != 2 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in out
    ):
        raise ValueError(
            "value_thresholds must be two finite numbers (purchases a year, spend a year), "
            f"got {out!r}"
        )
    return float(out[0]), float(out[1])


def thresholds(values: tuple[float, float] | None) -> tuple[pl.Expr, pl.Expr]:
    """The frequency and amount thresholds as expressions (medians when ``values`` is None)."""
    if values is None:
        return pl.col(PURCHASES_PER_YEAR).median(), pl.col(YEARLY_AMOUNT).median()
    return pl.lit(values[0]), pl.lit(values[1])


def quadrant_expr(frequency: pl.Expr, amount: pl.Expr) -> pl.Expr:
    """Quadrant of each customer; "high" means strictly above the threshold."""
    freq_high = pl.col(PURCHASES_PER_YEAR) > frequency
    amount_high = pl.col(YEARLY_AMOUNT) > amount

    def cell(q: Quadrant) -> pl.Expr:
        return (freq_high if q.frequent else ~freq_high) & (
            amount_high if q.high_spend else ~amount_high
        )

    first, *rest = QUADRANTS
    expr = pl.when(cell(first)).then(pl.lit(first.name))
    for q in rest:
        expr = expr.when(cell(q)).then(pl.lit(q.name))
    return expr.otherwise(None).cast(QUADRANT_DTYPE)


def quadrant_table(customers: pl.LazyFrame) -> pl.LazyFrame:
    """Customers, revenue and profit per quadrant (all four, zeros filled)."""
    cells = pl.LazyFrame(
        {
            QUADRANT: [q.name for q in QUADRANTS],
            FREQUENT: [q.frequent for q in QUADRANTS],
            HIGH_SPEND: [q.high_spend for q in QUADRANTS],
        },
        schema={QUADRANT: QUADRANT_DTYPE, FREQUENT: pl.Boolean, HIGH_SPEND: pl.Boolean},
    )
    agg = customers.group_by(QUADRANT).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS), pl.col(REVENUE).sum(), pl.col(PROFIT).sum()
    )
    return (
        cells.join(agg, on=QUADRANT, how="left")
        .with_columns(pl.col(CUSTOMERS).fill_null(0), pl.col(REVENUE, PROFIT).fill_null(0.0))
        .with_columns(
            share_of_total(CUSTOMERS, positive_total=True).alias(CUSTOMER_SHARE),
            share_of_total(PROFIT, positive_total=True).alias(PROFIT_SHARE),
            per_customer(PROFIT).alias(PROFIT_PER_CUSTOMER),
        )
        .select(QUADRANT_COLUMNS)
        .sort(QUADRANT)
    )
