"""Cost to serve by touchpoint and sales-channel mix per profit tier (domain brief §7).

These are drill-downs on the snapshot's own rows (``ledger.snapshot``, already cut at the
as-of date): the service-cost rows and the transaction rows dated in the profit window,
summed per customer (``cid``) and touchpoint or sales channel. Summed over touchpoints
they equal the ledger's ``service_cost`` of the window; summed over channels, its
``purchases``, ``revenue`` and ``direct_cost``. :func:`window_rows` depends only on the
ledger and the window, so callers can keep it while tiers and filters change.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C
from crm_core.metrics.profit import profit_window
from crm_core.segments.columns import (
    CID,
    CONTACTS,
    CONTACTS_PER_CUSTOMER,
    COST,
    COST_PER_CONTACT,
    COST_PER_CUSTOMER,
    CUSTOMERS,
    DIRECT_COST,
    GROSS_PROFIT,
    PURCHASES,
    REVENUE,
    SHARE_OF_TIER_COST,
    SHARE_OF_TIER_PURCHASES,
    SHARE_OF_TOUCHPOINT_COST,
    TIER,
    per_customer,
)
from crm_core.segments.tiers import TIER_DTYPE, TIERS

__all__ = [
    "CHANNEL_COLUMNS",
    "TOUCHPOINT_COLUMNS",
    "WindowRows",
    "channel_sales",
    "cost_to_serve",
    "window_rows",
]

TOUCHPOINT_COLUMNS = (
    TIER,
    C.touchpoint,
    CUSTOMERS,
    CONTACTS,
    COST,
    COST_PER_CUSTOMER,
    CONTACTS_PER_CUSTOMER,
    COST_PER_CONTACT,
    SHARE_OF_TIER_COST,
    SHARE_OF_TOUCHPOINT_COST,
)
CHANNEL_COLUMNS = (
    TIER,
    C.channel,
    CUSTOMERS,
    PURCHASES,
    REVENUE,
    DIRECT_COST,
    GROSS_PROFIT,
    SHARE_OF_TIER_PURCHASES,
)


@dataclass(frozen=True)
class WindowRows:
    """The window's raw rows summed per customer.

    Attributes
    ----------
    touchpoints
        ``cid, touchpoint, contacts, cost``: service contacts and their cost (currency).
    channels
        ``cid, channel, purchases, revenue, direct_cost``: transactions with a positive
        amount, net revenue and direct cost (currency) per sales channel.
    customers
        Customers of the ledger (``cid`` runs from 0 to ``customers - 1``).
    """

    touchpoints: pl.DataFrame
    channels: pl.DataFrame
    customers: int = 0

    def tier_of(self, ranked: pl.DataFrame) -> pl.Series:
        """The tier of every ledger customer by ``cid`` (null for those not in ``ranked``,
        a frame with ``cid, tier``): a lookup by position, no join."""
        size = max(self.customers, int(ranked[CID].max() or 0) + 1 if ranked.height else 0)
        return pl.Series(TIER, [None] * size, dtype=TIER_DTYPE).scatter(
            ranked[CID].cast(pl.Int64), ranked[TIER]
        )


def window_rows(ledger: Ledger, months: int = 12) -> WindowRows:
    """Service costs per touchpoint and sales per channel of every customer, over the
    ``months`` months to the as-of date."""
    w = profit_window(ledger, months)
    ids = ledger.customers.lazy().select(C.customer_id, L.cid)
    dated = pl.col(C.date).is_between(pl.lit(w.start), pl.lit(w.end))
    # summed per customer id first, then keyed on cid: one join on the (smaller) sums
    touch = (
        ledger.snapshot.service_costs.filter(dated)
        .group_by(C.customer_id, C.touchpoint)
        .agg(pl.len().cast(pl.Int64).alias(CONTACTS), pl.col(C.cost).sum().alias(COST))
        .join(ids, on=C.customer_id, how="inner")
        .select(CID, C.touchpoint, CONTACTS, COST)
    )
    sales = (
        ledger.snapshot.transactions.filter(dated)
        .group_by(C.customer_id, C.channel)
        .agg(
            (pl.col(C.amount) > 0).sum().cast(pl.Int64).alias(PURCHASES),
            pl.col(C.amount).sum().alias(REVENUE),
            pl.col(C.cost).sum().alias(DIRECT_COST),
        )
        .join(ids, on=C.customer_id, how="inner")
        .select(CID, C.channel, PURCHASES, REVENUE, DIRECT_COST)
    )
    touchpoints, channels = pl.collect_all([touch, sales])
    return WindowRows(touchpoints, channels, ledger.customers.height)


def _with_tiers(rows: pl.DataFrame, tiers: pl.Series) -> pl.LazyFrame:
    """``rows`` of the customers with a tier in ``tiers`` (indexed by cid), with it."""
    if rows.height == 0 or tiers.len() == 0:
        return rows.lazy().with_columns(pl.lit(None, TIER_DTYPE).alias(TIER)).head(0)
    return (
        rows.lazy()
        .with_columns(pl.lit(tiers).gather(pl.col(CID)).alias(TIER))
        .filter(pl.col(TIER).is_not_null())
    )


def _grid(
    used: pl.LazyFrame, by: str, sizes: pl.LazyFrame, sums: dict[str, object]
) -> pl.LazyFrame:
    """Every tier x value of ``by`` present, with the sums (zeros filled) and tier sizes."""
    agg = used.group_by(TIER, by).agg(pl.col(c).sum() for c in sums)
    return (
        pl.LazyFrame({TIER: list(TIERS)}, schema={TIER: TIER_DTYPE})
        .join(used.select(by).unique(), how="cross")
        .join(agg, on=[TIER, by], how="left")
        .join(sizes, on=TIER, how="left")
        .with_columns(
            *(pl.col(c).fill_null(v) for c, v in sums.items()), pl.col(CUSTOMERS).fill_null(0)
        )
    )


def cost_to_serve(touchpoints: pl.DataFrame, tiers: pl.Series, sizes: pl.LazyFrame) -> pl.LazyFrame:
    """Service cost per tier and touchpoint.

    Parameters
    ----------
    touchpoints
        :attr:`WindowRows.touchpoints`.
    tiers
        The tier of every ledger customer by ``cid``, null for those not analysed (left
        out): :meth:`WindowRows.tier_of`.
    sizes
        ``tier, customers``: customers per tier (the denominators of per-customer costs).

    Returns
    -------
    pl.LazyFrame
        Every tier x touchpoint used, columns :data:`TOUCHPOINT_COLUMNS`: contacts and
        cost (currency), cost and contacts per customer of the tier, cost per contact
        (null without contacts), and the cost's share of the tier's and of the
        touchpoint's total (null when that total is 0).
    """
    used = _with_tiers(touchpoints, tiers)
    grid = _grid(used, C.touchpoint, sizes, {CONTACTS: 0, COST: 0.0})
    tier_total = pl.col(COST).sum().over(TIER)
    tp_total = pl.col(COST).sum().over(C.touchpoint)
    return (
        grid.with_columns(
            per_customer(COST).alias(COST_PER_CUSTOMER),
            per_customer(CONTACTS).alias(CONTACTS_PER_CUSTOMER),
            pl.when(pl.col(CONTACTS) > 0)
            .then(pl.col(COST) / pl.col(CONTACTS))
            .alias(COST_PER_CONTACT),
            pl.when(tier_total > 0).then(pl.col(COST) / tier_total).alias(SHARE_OF_TIER_COST),
            pl.when(tp_total > 0).then(pl.col(COST) / tp_total).alias(SHARE_OF_TOUCHPOINT_COST),
        )
        .select(TOUCHPOINT_COLUMNS)
        .sort(TIER, C.touchpoint)
    )


def channel_sales(channels: pl.DataFrame, tiers: pl.Series, sizes: pl.LazyFrame) -> pl.LazyFrame:
    """Purchases, revenue and direct cost per tier and sales channel.

    Parameters are as in :func:`cost_to_serve` (``channels`` is
    :attr:`WindowRows.channels`).

    Returns
    -------
    pl.LazyFrame
        Every tier x channel used, columns :data:`CHANNEL_COLUMNS`: gross profit = revenue
        - direct cost (currency); ``share_of_tier_purchases`` of the tier's purchases (null
        when the tier made none).
    """
    used = _with_tiers(channels, tiers)
    grid = _grid(used, C.channel, sizes, {PURCHASES: 0, REVENUE: 0.0, DIRECT_COST: 0.0})
    tier_purchases = pl.col(PURCHASES).sum().over(TIER)
    return (
        grid.with_columns(
            (pl.col(REVENUE) - pl.col(DIRECT_COST)).alias(GROSS_PROFIT),
            pl.when(tier_purchases > 0)
            .then(pl.col(PURCHASES) / tier_purchases)
            .alias(SHARE_OF_TIER_PURCHASES),
        )
        .select(CHANNEL_COLUMNS)
        .sort(TIER, C.channel)
    )
