"""The whale curve: cumulative share of profit against customers ranked by profit.

Kaplan & Narayanan, "Measuring and Managing Customer Profitability", Journal of Cost
Management (2001). Cumulative profit is highest after the last profitable customer; the
peak share (e.g. 1.07 = 107%) is what profitable customers earn, and the *loss tail*
(customers with negative profit) gives back ``peak share - 1`` of total profit. When
customers lost money in total, shares are undefined and the curve is read in currency
(``cumulative_profit``).

A chart needs about a thousand points, not one per customer: :func:`thin_curve` keeps an
evenly spaced subset plus the points that carry meaning (origin, end, peak, tier
boundaries), so the curve looks the same at 1,000,000 customers and sends 1,000 points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from crm_core.segments.columns import (
    CUMULATIVE_PROFIT,
    CUSTOMER_SHARE,
    PROFIT,
    PROFIT_RANK,
    PROFIT_SHARE,
    TIER,
)
from crm_core.segments.tiers import TIER_DTYPE

__all__ = [
    "CURVE_POINTS",
    "WHALE_COLUMNS",
    "WhaleStats",
    "thin_curve",
    "whale_curve",
    "whale_stats",
]

CURVE_POINTS = 1000
"""About how many points of the curve a chart receives."""

WHALE_COLUMNS = (PROFIT_RANK, TIER, PROFIT, CUMULATIVE_PROFIT, CUSTOMER_SHARE, PROFIT_SHARE)


@dataclass(frozen=True)
class WhaleStats:
    """Key points of the whale curve (amounts in currency, shares as fractions).

    Attributes
    ----------
    customers
        Customers on the curve.
    total_profit
        Their total profit (where the curve ends).
    profitable_customers, breakeven_customers, unprofitable_customers
        Customers with profit > 0, = 0 and < 0.
    peak_profit
        Highest cumulative profit: the sum of all positive profits (0 if none).
    loss_tail_profit
        Sum of the negative profits (<= 0): what the loss tail gives back.
    peak_share
        ``peak_profit / total_profit`` (1.07 = the curve peaks at 107% of profit);
        ``None`` when total profit is not positive.
    given_back_share
        ``-loss_tail_profit / total_profit`` (``peak_share - given_back_share == 1``);
        ``None`` when total profit is not positive.
    """

    customers: int
    total_profit: float
    profitable_customers: int
    breakeven_customers: int
    unprofitable_customers: int
    peak_profit: float
    loss_tail_profit: float
    peak_share: float | None
    given_back_share: float | None

    @property
    def meaningful(self) -> bool:
        """Whether shares of profit are defined (customers earned a positive total)."""
        return self.customers > 0 and self.total_profit > 0

    @property
    def peak_customer_share(self) -> float | None:
        """Share of customers up to the peak (the profitable ones); ``None`` if empty."""
        return self.profitable_customers / self.customers if self.customers else None

    @property
    def loss_tail_customer_share(self) -> float | None:
        """Share of customers in the loss tail (profit < 0); ``None`` if empty."""
        return self.unprofitable_customers / self.customers if self.customers else None


def whale_curve(ranked: pl.LazyFrame) -> pl.LazyFrame:
    """Cumulative profit against customers ranked by profit (highest first).

    Parameters
    ----------
    ranked
        Output of :func:`crm_core.segments.tiers.assign_tiers` (sorted, with
        ``profit_rank`` and ``tier``).

    Returns
    -------
    pl.LazyFrame
        One row per customer plus a leading origin row (rank 0): :data:`WHALE_COLUMNS`.
        ``customer_share`` = rank / n; ``profit_share`` = cumulative profit / total profit
        (the last row exactly 1), null when total profit is not positive.
    """
    origin = pl.LazyFrame(
        {PROFIT_RANK: [0], TIER: [None], PROFIT: [0.0]},
        schema={PROFIT_RANK: pl.Int64, TIER: TIER_DTYPE, PROFIT: pl.Float64},
    )
    total = pl.col(PROFIT).sum()
    n = pl.len() - 1  # customers, without the origin row
    return (
        pl.concat([origin, ranked.select(PROFIT_RANK, TIER, pl.col(PROFIT).cast(pl.Float64))])
        .with_columns(pl.col(PROFIT).cum_sum().alias(CUMULATIVE_PROFIT))
        .with_columns(
            pl.when(n > 0)
            .then(pl.col(PROFIT_RANK) / n)
            .otherwise(0.0)
            .cast(pl.Float64)
            .alias(CUSTOMER_SHARE),
            pl.when(total > 0)
            .then(
                # the last row is exactly 1 (no rounding drift in the cumulative sum)
                pl.when(pl.col(PROFIT_RANK) == n)
                .then(1.0)
                .otherwise(pl.col(CUMULATIVE_PROFIT) / total)
            )
            .otherwise(None)
            .alias(PROFIT_SHARE),
        )
        .select(WHALE_COLUMNS)
    )


def thin_curve(
    curve: pl.LazyFrame, customers: int, keep: Iterable[int] = (), points: int = CURVE_POINTS
) -> pl.LazyFrame:
    """About ``points`` rows of ``curve`` (every ``step``-th rank), always with the ranks in
    ``keep``, the origin and the last customer; the whole curve when it is short."""
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    if customers + 1 <= points:
        return curve
    step = -(-customers // points)  # ceiling: at most ``points`` evenly spaced ranks
    marks = sorted({0, customers, *(int(k) for k in keep)})
    rank = pl.col(PROFIT_RANK)
    return curve.filter((rank % step == 0) | rank.is_in(marks))


def whale_stats(profits: pl.Series) -> WhaleStats:
    """:class:`WhaleStats` of per-customer profits (currency, any order)."""
    p = profits.cast(pl.Float64)
    n = p.len()
    if n == 0:
        return WhaleStats(0, 0.0, 0, 0, 0, 0.0, 0.0, None, None)
    total, peak, tail, up, even, down = (
        p.to_frame(PROFIT)
        .select(
            pl.col(PROFIT).sum(),
            pl.col(PROFIT).clip(lower_bound=0.0).sum().alias("peak"),
            pl.col(PROFIT).clip(upper_bound=0.0).sum().alias("tail"),
            (pl.col(PROFIT) > 0).sum().alias("up"),
            (pl.col(PROFIT) == 0).sum().alias("even"),
            (pl.col(PROFIT) < 0).sum().alias("down"),
        )
        .row(0)
    )
    positive = total > 0
    return WhaleStats(
        customers=n,
        total_profit=float(total),
        profitable_customers=int(up),
        breakeven_customers=int(even),
        unprofitable_customers=int(down),
        peak_profit=float(peak),
        loss_tail_profit=float(tail),
        peak_share=peak / total if positive else None,
        given_back_share=-tail / total if positive else None,
    )
