"""Per-customer profit over a date window: who earns the profit, who costs it.

profit = revenue - direct cost - service cost (all touchpoints) - acquisition cost

where revenue is the net of purchases and refunds in the window, direct cost is the cost
of those sales, service cost sums the customer's touchpoint costs in the window, and the
acquisition cost is charged in full when the customer was acquired inside the window, or,
with ``amortise_years``, spread evenly over that many years from the acquisition date and
charged for the part of that period falling inside the window.

A customer belongs to the window when they had a transaction or a service contact in it,
or were acquired in it; customers with no activity at all are left out, so shares such as
"the top 10% of customers" refer to the customers the business actually dealt with. The
customer base does not depend on ``amortise_years``: with amortisation, the share of an
earlier acquisition cost that falls in the window is charged only to customers who are in
the base (a customer acquired before the window with no purchase or contact in it is not
listed, and neither is their amortised charge).

Amounts are in the snapshot's currency; the window is inclusive at both ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.expressions import between, trailing_window
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = [
    "ACQUISITION_COST",
    "CONTACTS",
    "DIRECT_COST",
    "PROFIT",
    "REVENUE",
    "SERVICE_COST",
    "TOTAL_COST",
    "TRANSACTIONS",
    "ProfitWindow",
    "channel_sales_lazy",
    "customer_profit",
    "customer_profit_lazy",
    "touchpoint_costs_lazy",
]

DAYS_PER_YEAR = 365.25

# Output columns (derived frames declare their names once, here).
REVENUE = "revenue"
DIRECT_COST = "direct_cost"
SERVICE_COST = "service_cost"
ACQUISITION_COST = "acquisition_cost_charged"
TOTAL_COST = "total_cost"
PROFIT = "profit"
TRANSACTIONS = "transactions"
CONTACTS = "contacts"


@dataclass(frozen=True)
class ProfitWindow:
    """An inclusive date window ``start .. end`` for profit calculations."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"window start {self.start} lies after its end {self.end}")

    @classmethod
    def trailing(cls, as_of: date, months: int = 12) -> ProfitWindow:
        """The ``months`` months ending on ``as_of`` (default: trailing twelve months)."""
        return cls(*trailing_window(as_of, months))

    @property
    def days(self) -> int:
        """Length of the window in days (inclusive)."""
        return (self.end - self.start).days + 1

    @property
    def years(self) -> float:
        """Length of the window in years of 365.25 days."""
        return self.days / DAYS_PER_YEAR

    @property
    def label(self) -> str:
        """The window in words for titles: ``"1 Oct 2025 – 30 Sep 2026"``."""
        return f"{self.start.day} {self.start:%b %Y} – {self.end.day} {self.end:%b %Y}"


def _acquisition_charge(window: ProfitWindow, amortise_years: float | None) -> pl.Expr:
    cost = pl.col(C.acquisition_cost)
    if amortise_years is None:
        return pl.when(between(C.acquired_on, window.start, window.end)).then(cost).otherwise(0.0)
    if isinstance(amortise_years, bool) or not (
        isinstance(amortise_years, int | float)
        and math.isfinite(amortise_years)
        and amortise_years > 0
    ):
        raise ValueError(
            f"amortise_years must be a positive number of years, got {amortise_years!r}"
        )
    span_days = amortise_years * DAYS_PER_YEAR
    start = pl.col(C.acquired_on)
    # overlap (in days) of [acquired_on, acquired_on + span) with [window.start, window.end + 1)
    acq_day = (start - pl.lit(window.start)).dt.total_days().cast(pl.Float64)
    overlap_start = pl.max_horizontal(acq_day, pl.lit(0.0))
    overlap_end = pl.min_horizontal(acq_day + span_days, pl.lit(float(window.days)))
    overlap = pl.max_horizontal(overlap_end - overlap_start, pl.lit(0.0))
    return cost * overlap / span_days


def customer_profit_lazy(
    snapshot: Snapshot,
    window: ProfitWindow | None = None,
    *,
    amortise_years: float | None = None,
) -> pl.LazyFrame:
    """Profit per customer in ``window`` (default: trailing twelve months to ``as_of``).

    Parameters
    ----------
    snapshot
        The company's data.
    window
        Inclusive date window; defaults to the twelve months ending on ``snapshot.as_of``.
    amortise_years
        ``None`` charges the acquisition cost in full in the window of acquisition;
        a number of years spreads it evenly over that period instead.

    Returns
    -------
    pl.LazyFrame
        One row per customer active in the window: ``customer_id, acquisition_channel,
        region, acquired_on, transactions, revenue, direct_cost, service_cost,
        acquisition_cost_charged, total_cost, profit`` (currency of the snapshot).
    """
    w = window or ProfitWindow.trailing(snapshot.as_of)
    tx = (
        snapshot.transactions.filter(between(C.date, w.start, w.end))
        .group_by(C.customer_id)
        .agg(
            pl.col(C.amount).sum().alias(REVENUE),
            pl.col(C.cost).sum().alias(DIRECT_COST),
            (pl.col(C.amount) > 0).sum().cast(pl.Int64).alias(TRANSACTIONS),
        )
    )
    service = (
        snapshot.service_costs.filter(between(C.date, w.start, w.end))
        .group_by(C.customer_id)
        .agg(pl.col(C.cost).sum().alias(SERVICE_COST))
    )
    customers = snapshot.customers.filter(pl.col(C.acquired_on) <= pl.lit(w.end)).select(
        C.customer_id,
        C.acquisition_channel,
        C.region,
        C.acquired_on,
        _acquisition_charge(w, amortise_years).alias(ACQUISITION_COST),
        between(C.acquired_on, w.start, w.end).alias("_acquired_in_window"),
    )
    return (
        customers.join(tx, on=C.customer_id, how="left")
        .join(service, on=C.customer_id, how="left")
        .filter(
            pl.col("_acquired_in_window")
            | pl.col(TRANSACTIONS).is_not_null()
            | pl.col(SERVICE_COST).is_not_null()
        )
        .with_columns(
            pl.col(REVENUE).fill_null(0.0),
            pl.col(DIRECT_COST).fill_null(0.0),
            pl.col(SERVICE_COST).fill_null(0.0),
            pl.col(TRANSACTIONS).fill_null(0),
        )
        .with_columns(
            (pl.col(DIRECT_COST) + pl.col(SERVICE_COST) + pl.col(ACQUISITION_COST)).alias(
                TOTAL_COST
            ),
        )
        .with_columns((pl.col(REVENUE) - pl.col(TOTAL_COST)).alias(PROFIT))
        .drop("_acquired_in_window")
    )


def customer_profit(
    snapshot: Snapshot,
    window: ProfitWindow | None = None,
    *,
    amortise_years: float | None = None,
) -> pl.DataFrame:
    """Collected :func:`customer_profit_lazy`, sorted by profit (highest first), then id."""
    return (
        customer_profit_lazy(snapshot, window, amortise_years=amortise_years)
        .sort([PROFIT, C.customer_id], descending=[True, False])
        .collect()
    )


def touchpoint_costs_lazy(snapshot: Snapshot, window: ProfitWindow | None = None) -> pl.LazyFrame:
    """Service cost per customer and touchpoint in ``window``.

    Returns
    -------
    pl.LazyFrame
        ``customer_id, touchpoint, contacts, cost``: number of contacts (Int64) and their
        cost (snapshot currency). Summed over touchpoints, ``cost`` equals the
        ``service_cost`` of :func:`customer_profit_lazy` for the same window.
    """
    w = window or ProfitWindow.trailing(snapshot.as_of)
    return (
        snapshot.service_costs.filter(between(C.date, w.start, w.end))
        .group_by(C.customer_id, C.touchpoint)
        .agg(pl.len().cast(pl.Int64).alias(CONTACTS), pl.col(C.cost).sum().alias(C.cost))
    )


def channel_sales_lazy(snapshot: Snapshot, window: ProfitWindow | None = None) -> pl.LazyFrame:
    """Sales per customer and sales channel (``transactions.channel``) in ``window``.

    Returns
    -------
    pl.LazyFrame
        ``customer_id, channel, transactions, revenue, direct_cost``: purchases (rows with a
        positive amount), revenue net of refunds and the direct cost of the sales (snapshot
        currency). Summed over channels these equal the columns of the same names in
        :func:`customer_profit_lazy`.
    """
    w = window or ProfitWindow.trailing(snapshot.as_of)
    return (
        snapshot.transactions.filter(between(C.date, w.start, w.end))
        .group_by(C.customer_id, C.channel)
        .agg(
            (pl.col(C.amount) > 0).sum().cast(pl.Int64).alias(TRANSACTIONS),
            pl.col(C.amount).sum().alias(REVENUE),
            pl.col(C.cost).sum().alias(DIRECT_COST),
        )
    )
