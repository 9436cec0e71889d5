"""Profit per customer over a window of the ledger, and the "top X% earn Y%" rule.

profit = revenue - direct cost - service cost (all touchpoints) - acquisition cost

over the ``months`` months ending on a quarter end, summed from the customer ledger:
revenue is the net of purchases and refunds, direct cost the cost of those sales, service
cost the customer's touchpoint costs, and the acquisition cost is charged in full when the
customer was acquired inside the window or, with ``amortise_years``, spread evenly over
that many years from the acquisition date and charged for the part falling inside it.

A customer belongs to the window when they had a transaction or a service contact in it,
or were acquired in it, so shares such as "the top 10% of customers" refer to the
customers the business actually dealt with. The Executive overview's headline and the
Segments page's tier A use :func:`top_share` on this profit, so they always agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from crm_core.data.expressions import add_months
from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C

__all__ = [
    "ACQUISITION_COST",
    "DIRECT_COST",
    "PROFIT",
    "PURCHASES",
    "REVENUE",
    "SERVICE_COST",
    "TOTAL_COST",
    "ProfitWindow",
    "customer_profit",
    "top_count_expr",
    "top_share",
]

DAYS_PER_YEAR = 365.25
_ROUND_DIGITS = 6  # shares times counts are rounded first, so 0.1 + 0.2 of 10 is exactly 3

REVENUE = L.revenue
DIRECT_COST = L.direct_cost
SERVICE_COST = L.service_cost
PURCHASES = L.purchases
CONTACTS = L.contacts
ACQUISITION_COST = "acquisition_cost_charged"
TOTAL_COST = "total_cost"
PROFIT = "profit"


@dataclass(frozen=True)
class ProfitWindow:
    """The ``months`` months ending on the end of ledger quarter ``quarter``.

    Attributes
    ----------
    start, end
        First and last day, both inclusive.
    months
        Length in calendar months (a multiple of the ledger's period).
    """

    start: date
    end: date
    months: int

    @classmethod
    def trailing(cls, end: date, months: int = 12) -> ProfitWindow:
        """The ``months`` months ending on ``end``."""
        if months <= 0:
            raise ValueError(f"window must be at least one month, got {months}")
        return cls(add_months(end, -months) + timedelta(days=1), end, months)

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
    inside = pl.col(C.acquired_on).is_between(pl.lit(window.start), pl.lit(window.end))
    if amortise_years is None:
        return pl.when(inside).then(cost).otherwise(0.0)
    if isinstance(amortise_years, bool) or not (
        isinstance(amortise_years, int | float)
        and math.isfinite(amortise_years)
        and amortise_years > 0
    ):
        raise ValueError(
            f"amortise_years must be a positive number of years, got {amortise_years!r}"
        )
    span_days = amortise_years * DAYS_PER_YEAR
    # overlap (in days) of [acquired_on, acquired_on + span) with [window.start, window.end + 1)
    acq_day = (pl.col(C.acquired_on) - pl.lit(window.start)).dt.total_days().cast(pl.Float64)
    overlap_start = pl.max_horizontal(acq_day, pl.lit(0.0))
    overlap_end = pl.min_horizontal(acq_day + span_days, pl.lit(float(window.days)))
    overlap = pl.max_horizontal(overlap_end - overlap_start, pl.lit(0.0))
    return cost * overlap / span_days


def profit_window(ledger: Ledger, months: int = 12, quarter: int = 0) -> ProfitWindow:
    """The window of :func:`customer_profit` (checks ``months`` fits the ledger's periods)."""
    if months <= 0 or months % ledger.period_months:
        raise ValueError(
            f"the window must be a positive multiple of {ledger.period_months} months, got {months}"
        )
    end = ledger.period_end(quarter * (3 // ledger.period_months))
    return ProfitWindow.trailing(end, months)


def customer_profit(
    ledger: Ledger,
    months: int = 12,
    *,
    quarter: int = 0,
    amortise_years: float | None = None,
) -> pl.LazyFrame:
    """Profit per customer over the ``months`` months to the end of ``quarter``.

    Returns
    -------
    pl.LazyFrame
        One row per customer in the window (module docstring): ``cid, customer_id,
        acquisition_channel, region, acquired_on, purchases, contacts, revenue,
        direct_cost, service_cost, acquisition_cost_charged, total_cost, profit``
        (currency of the snapshot).
    """
    w = profit_window(ledger, months, quarter)
    first = quarter * (3 // ledger.period_months)
    sums = ledger.window(
        first,
        months // ledger.period_months,
        sums=(REVENUE, DIRECT_COST, SERVICE_COST, PURCHASES, CONTACTS, L.transactions),
    )
    inside = pl.col(C.acquired_on).is_between(pl.lit(w.start), pl.lit(w.end))
    customers = ledger.customers.lazy().filter(pl.col(C.acquired_on) <= pl.lit(w.end))
    return (
        customers.select(
            L.cid,
            C.customer_id,
            C.acquisition_channel,
            C.region,
            C.acquired_on,
            _acquisition_charge(w, amortise_years).alias(ACQUISITION_COST),
            inside.alias("_won"),
        )
        .join(sums, on=L.cid, how="left")
        .filter(
            pl.col("_won")
            | (pl.col(L.transactions).fill_null(0) > 0)
            | (pl.col(CONTACTS).fill_null(0) > 0)
        )
        .with_columns(
            pl.col(REVENUE, DIRECT_COST, SERVICE_COST).fill_null(0.0),
            pl.col(PURCHASES, CONTACTS).fill_null(0),
        )
        .with_columns(
            (pl.col(DIRECT_COST) + pl.col(SERVICE_COST) + pl.col(ACQUISITION_COST)).alias(
                TOTAL_COST
            )
        )
        .with_columns((pl.col(REVENUE) - pl.col(TOTAL_COST)).alias(PROFIT))
        .drop("_won", L.transactions)
    )


def _validate_share(share: float) -> float:
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ValueError(f"share must be a fraction in (0, 1], got {share!r}")
    return float(share)


def top_count_expr(share: float) -> pl.Expr:
    """Number of customers making up the top ``share`` of the frame's rows (``pl.len()``).

    ``round(share * n)`` to the nearest whole customer (halves up), at least 1 when the
    frame has rows, 0 when it is empty. The single rule behind tier sizes and
    :func:`top_share`.
    """
    share = _validate_share(share)
    n = pl.len().cast(pl.Int64)
    k = ((n.cast(pl.Float64) * share).round(_ROUND_DIGITS) + 0.5).floor().cast(pl.Int64)
    return pl.when(n > 0).then(pl.max_horizontal(k, pl.lit(1, pl.Int64))).otherwise(0)


def top_share(profits: pl.Series | Iterable[float], share: float = 0.10) -> float | None:
    """Share of total profit earned by the most profitable ``share`` of customers.

    Returns the profit of the best ``round(share * n)`` customers (at least one) over the
    total profit, as a fraction (0.78 = 78%; it can exceed 1 when others lose money);
    ``None`` when there are no customers or total profit is not positive.
    """
    s = _validate_share(share)
    series = profits if isinstance(profits, pl.Series) else pl.Series(list(profits))
    frame = series.cast(pl.Float64).rename(PROFIT).to_frame()
    top, total = (
        frame.lazy()
        .select(
            pl.col(PROFIT)
            .sort(descending=True)
            .filter(pl.int_range(1, pl.len() + 1) <= top_count_expr(s))
            .sum()
            .alias("top"),
            pl.col(PROFIT).sum().alias("total"),
        )
        .collect()
        .row(0)
    )
    if frame.height == 0 or total <= 0:
        return None
    return top / total
