"""Deprecated: per-customer profit from a snapshot's raw rows, for callers not yet on the
ledger.

The product's per-customer profit is :func:`crm_core.metrics.profit.customer_profit` on the
customer ledger (the Segments page, the Overview's headline). This module only keeps the
old snapshot-level names importable for ``crm_core/__init__.py``, the What-if baseline and
the CLV bands by tier until they move to the ledger; then it is deleted. Its
``ProfitWindow`` and column names are the ledger's (re-exported from
:mod:`crm_core.metrics.profit`).

profit = revenue - direct cost - service cost (all touchpoints) - acquisition cost over an
inclusive date window, for every customer with a transaction or a service contact in it,
or acquired in it (currency of the snapshot).
"""

from __future__ import annotations

import polars as pl

from crm_core.data.expressions import between
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
from crm_core.metrics.profit import (
    ACQUISITION_COST,
    CONTACTS,
    DIRECT_COST,
    PROFIT,
    REVENUE,
    SERVICE_COST,
    TOTAL_COST,
    ProfitWindow,
    _acquisition_charge,  # the same charge as the ledger's profit
)

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
    "customer_profit",
    "customer_profit_lazy",
]

TRANSACTIONS = "transactions"


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
