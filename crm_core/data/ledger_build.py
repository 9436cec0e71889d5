"""How the customer ledger is built (see :mod:`crm_core.data.ledger` for what it holds).

One lazy pipeline per step, keyed on small integers:

1. transactions -> one row per customer and day (net amount, direct cost, purchases),
   keyed on ``cid`` and the day number packed into one UInt64;
2. days -> one row per customer and period (money, purchase days, last purchase day), and
   per customer the first purchase day and its net amount; service costs likewise;
3. a skeleton of one row per customer and period from their first period to period 0
   (an ``explode`` of integer ranges), merge-joined with the activity on a sorted key;
4. running totals and "the previous period of the same customer" as global shifts and
   cumulative sums on the sorted panel (no ``over()`` window), then the rules.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from crm_core.data.ledger_schema import (
    CHURNED,
    DECLINING,
    DORMANT,
    GROWING,
    MATURE,
    MOVEMENT_DTYPE,
    NEW,
    REACTIVATED,
    RETAINED,
    STAGE_DTYPE,
    L,
)
from crm_core.data.periods import PERIOD_END, PERIOD_START, period_of
from crm_core.data.rules import ActivityRule, StageRules
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = ["build_panel", "first_day"]

#
# Speed: the panel is built without ``over()`` windows. Rows are keyed on small integers
# (``cid`` and day or period numbers packed into one UInt64), which polars groups and joins
# several times faster than text ids, and the panel is sorted by customer, so "the previous
# period of the same customer" is the previous row when its ``cid`` is the same.

_DAY_BITS = 1 << 16  # days since the grid's first day (179 years)
_PERIOD_BITS = 1 << 12  # periods (4,096 months)


def first_day(snapshot: Snapshot) -> date:
    firsts = pl.concat(
        [
            snapshot.customers.select(pl.col(C.acquired_on).min().alias("d")),
            snapshot.transactions.select(pl.col(C.date).min().alias("d")),
            snapshot.service_costs.select(pl.col(C.date).min().alias("d")),
        ]
    ).select(pl.col("d").min())
    return firsts.collect().item() or snapshot.as_of


def _customer_frame(snapshot: Snapshot, grid: pl.DataFrame) -> pl.DataFrame:
    return (
        snapshot.customers.select(
            C.customer_id,
            C.acquired_on,
            C.acquisition_channel,
            C.acquisition_cost,
            C.region,
            C.churned_on,
        )
        .sort(C.customer_id)
        .with_row_index(L.cid)
        .with_columns(period_of(C.acquired_on, grid).alias(L.acquired_period))
        .collect()
    )


def _day_number(column: str, origin: date) -> pl.Expr:
    return (pl.col(column) - pl.lit(origin)).dt.total_days().cast(pl.Int32)


def _period_of_day(day: pl.Expr, grid: pl.DataFrame, origin: date) -> pl.Expr:
    """:func:`period_of` on day numbers (days since ``origin``, the grid's first day)."""
    n = grid.height
    ends = pl.Series(
        [(e - origin).days for e in reversed(grid[PERIOD_END].to_list())], dtype=pl.Int32
    )
    return pl.lit(n, pl.Int32) - 1 - pl.lit(ends).search_sorted(day, side="left").cast(pl.Int32)


def _key(cid: pl.Expr, period: pl.Expr) -> pl.Expr:
    """One UInt64 per (customer, period), ascending in (cid, period descending): the order
    of the panel, so joins on it are merge joins."""
    return (cid.cast(pl.UInt64) * _PERIOD_BITS + (_PERIOD_BITS - 1 - period).cast(pl.UInt64)).alias(
        "_key"
    )


def _activity(
    snapshot: Snapshot, customers: pl.DataFrame, grid: pl.DataFrame, origin: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per (customer, period) key: money, purchases and contacts, sorted by the key; and per
    ``cid`` the first purchase day (days since ``origin``) and its net amount."""
    ids = customers.lazy().select(C.customer_id, L.cid)
    rows = (
        snapshot.transactions.select(C.customer_id, C.date, C.amount, C.cost)
        .join(ids, on=C.customer_id, how="inner")
        .select(
            (
                pl.col(L.cid).cast(pl.UInt64) * _DAY_BITS
                + _day_number(C.date, origin).cast(pl.UInt64)
            ).alias("_daykey"),
            C.amount,
            C.cost,
        )
        .collect()
    )
    is_day = pl.col("_net") >= 0
    days = (
        rows.lazy()
        .group_by("_daykey")
        .agg(
            pl.col(C.amount).sum().alias("_net"),
            pl.col(C.cost).sum().alias("_cost"),
            (pl.col(C.amount) > 0).sum().cast(pl.Int32).alias("_purchases"),
            pl.len().cast(pl.Int32).alias("_rows"),
        )
        .with_columns(
            (pl.col("_daykey") // _DAY_BITS).cast(pl.UInt32).alias(L.cid),
            (pl.col("_daykey") % _DAY_BITS).cast(pl.Int32).alias("_day"),
        )
        .with_columns(
            is_day.cast(pl.Int32).alias("_pd"),
            pl.when(is_day).then(pl.col("_net")).otherwise(0.0).alias("_pd_net"),
            pl.when(is_day).then(pl.col("_day")).alias("_pd_day"),
            _period_of_day(pl.col("_day"), grid, origin).alias(L.period),
        )
        .collect()
    )
    del rows
    bought = days.lazy().filter(is_day)
    firsts = (
        bought.group_by(L.cid)
        .agg(pl.col("_day").min())
        .join(bought.select(L.cid, "_day", "_net"), on=[L.cid, "_day"], how="inner")
        .select(L.cid, pl.col("_day").alias("_first_day"), pl.col("_net").alias("_first_amount"))
        .collect()
    )
    sales = (
        days.lazy()
        .group_by(_key(pl.col(L.cid), pl.col(L.period)))
        .agg(
            pl.col("_net").sum().alias(L.revenue),
            pl.col("_cost").sum().alias(L.direct_cost),
            pl.col("_purchases").sum().alias(L.purchases),
            pl.col("_rows").sum().alias(L.transactions),
            pl.col("_pd").sum().cast(pl.Int32).alias(L.purchase_days),
            pl.col("_pd_net").sum().alias(L.purchase_day_revenue),
            pl.col("_pd_day").max().alias("_last_day"),
        )
    )
    service = (
        snapshot.service_costs.select(C.customer_id, C.date, C.cost)
        .join(ids, on=C.customer_id, how="inner")
        .group_by(_key(pl.col(L.cid), _period_of_day(_day_number(C.date, origin), grid, origin)))
        .agg(
            pl.col(C.cost).sum().alias(L.service_cost),
            pl.len().cast(pl.Int32).alias(L.contacts),
        )
    )
    activity = (
        sales.join(service, on="_key", how="full", coalesce=True)
        .sort("_key")
        .with_columns(pl.col("_key").set_sorted())
        .collect()
    )
    return activity, firsts


def _same(n: int) -> pl.Expr:
    """The row ``n`` rows up belongs to the same customer."""
    return (pl.col(L.cid).shift(n) == pl.col(L.cid)).fill_null(False)


def _group_shift(column: pl.Expr, n: int) -> pl.Expr:
    """``column`` ``n`` periods earlier for the same customer; null before their first row."""
    return pl.when(_same(n)).then(column.shift(n))


def _group_cum_sum(column: str) -> pl.Expr:
    """Running total of an integer column within each customer's rows."""
    total = pl.col(column).cum_sum()
    before = pl.when(~_same(1)).then(total - pl.col(column)).forward_fill()
    return total - before


def _group_forward_fill(day: str) -> pl.Expr:
    """The latest non-null day number so far within each customer's rows (days increase)."""
    packed = pl.col(L.cid).cast(pl.Int64) * _DAY_BITS + pl.col(day).cast(pl.Int64)
    # cum_max keeps nulls in place: fill them with the running maximum so far; earlier
    # customers have smaller keys, so a key from another customer means "none yet"
    best = packed.cum_max().forward_fill()
    return pl.when(best // _DAY_BITS == pl.col(L.cid).cast(pl.Int64)).then(best % _DAY_BITS)


_CARRIED = ("_acquired_day", "_churned_day", "_first_day", L.acquired_period)


def _skeleton(customers: pl.DataFrame, activity: pl.DataFrame) -> pl.LazyFrame:
    """One row per customer and period from their first period to period 0, in panel order,
    with the customer columns the rules need."""
    first_active = (
        activity.lazy()
        .group_by((pl.col("_key") // _PERIOD_BITS).cast(pl.UInt32).alias(L.cid))
        .agg(
            (_PERIOD_BITS - 1 - (pl.col("_key") % _PERIOD_BITS).min())
            .cast(pl.Int32)
            .alias("_first")
        )
    )
    return (
        customers.lazy()
        .select(L.cid, *_CARRIED)
        .join(first_active, on=L.cid, how="left", maintain_order="left")
        .with_columns(
            pl.int_ranges(
                pl.max_horizontal(L.acquired_period, "_first"), -1, -1, dtype=pl.Int32
            ).alias(L.period),
        )
        .drop("_first")
        .explode(L.period)
        .with_columns(_key(pl.col(L.cid), pl.col(L.period)).set_sorted())
    )


def _panel(
    customers: pl.DataFrame,
    activity: pl.DataFrame,
    grid: pl.DataFrame,
    origin: date,
    activity_rule: ActivityRule,
    stages: StageRules,
    *,
    contractual: bool,
    period_months: int,
) -> pl.LazyFrame:
    ends = grid[PERIOD_END]
    n = len(ends)
    end_days = pl.Series([(e - origin).days for e in ends], dtype=pl.Int32)

    def by_period(values: pl.Series, shift: int = 0) -> pl.Expr:
        index = pl.min_horizontal(pl.col(L.period) + shift, pl.lit(n - 1, pl.Int32))
        return pl.lit(values).gather(index)

    end = by_period(end_days)
    acquired = pl.col("_acquired_day")
    zero = {
        L.revenue: 0.0,
        L.direct_cost: 0.0,
        L.purchase_day_revenue: 0.0,
        L.service_cost: 0.0,
        L.purchases: 0,
        L.transactions: 0,
        L.purchase_days: 0,
        L.contacts: 0,
    }
    gap = pl.col(L.usual_gap_days)
    lapse = pl.max_horizontal(
        pl.lit(float(activity_rule.min_lapse_days)), activity_rule.lapse_gap_multiple * gap
    )
    if activity_rule.max_lapse_days is not None:
        lapse = pl.min_horizontal(lapse, pl.lit(float(activity_rule.max_lapse_days)))
    if contractual:
        churned = pl.col("_churned_day")
        active = pl.col(L.acquired) & (churned.is_null() | (churned > end))
    else:
        active = pl.col(L.acquired) & (pl.col(L.days_since_activity) <= pl.col(L.lapse_after_days))
    w = stages.trend_periods(period_months)
    window_days = end - by_period(end_days, w)
    windows_ok = (
        (pl.col(L.period) + 2 * w < n)
        & (acquired <= by_period(end_days, 2 * w))
        & gap.is_not_null()
        & (gap < window_days)
    )
    recent, previous = pl.col(L.recent_revenue), pl.col(L.previous_revenue)
    prev_active = _group_shift(pl.col(L.active), 1).fill_null(False)
    decline_after = pl.max_horizontal(
        pl.lit(float(stages.decline_after_days)), stages.decline_gap_multiple * gap
    )
    movement = (
        pl.when(~pl.col(L.acquired))
        .then(None)
        .when(pl.col(L.won))
        .then(pl.when(pl.col(L.active)).then(pl.lit(NEW)).otherwise(pl.lit(CHURNED)))
        .when(pl.col(L.active))
        .then(pl.when(prev_active).then(pl.lit(RETAINED)).otherwise(pl.lit(REACTIVATED)))
        .otherwise(pl.when(prev_active).then(pl.lit(CHURNED)).otherwise(pl.lit(DORMANT)))
    )
    stage = (
        pl.when(~pl.col(L.acquired))
        .then(None)
        .when(~pl.col(L.active))
        .then(pl.lit(CHURNED))
        .when(pl.col(L.tenure_days) < stages.new_days)
        .then(pl.lit(NEW))
        .when(pl.col(L.overdue) | pl.col(L.spend_drop))
        .then(pl.lit(DECLINING))
        .when(pl.col(L.spend_rising) | (pl.col(L.tenure_days) < stages.mature_days))
        .then(pl.lit(GROWING))
        .otherwise(pl.lit(MATURE))
    )
    return (
        _skeleton(customers, activity)
        .join(activity.lazy(), on="_key", how="left", maintain_order="left")
        .drop("_key")
        .with_columns(pl.col(c).fill_null(v) for c, v in zero.items())
        .with_columns(
            _group_cum_sum(L.purchase_days).cast(pl.Int32).alias(L.cum_purchase_days),
            _group_forward_fill("_last_day").cast(pl.Int32).alias("_last"),
            (acquired <= end).alias(L.acquired),
            (pl.col(L.period) == pl.col(L.acquired_period)).alias(L.won),
            (end - acquired).alias(L.tenure_days),
            sum(
                (_group_shift(pl.col(L.revenue), j).fill_null(0.0) for j in range(1, w)),
                pl.col(L.revenue),
            ).alias(L.recent_revenue),
        )
        .with_columns(
            (end - pl.max_horizontal("_last", acquired)).alias(L.days_since_activity),
            pl.when(pl.col(L.cum_purchase_days) >= 2)
            .then((pl.col("_last") - pl.col("_first_day")) / (pl.col(L.cum_purchase_days) - 1))
            .cast(pl.Float64)
            .alias(L.usual_gap_days),
            _group_shift(pl.col(L.recent_revenue), w).fill_null(0.0).alias(L.previous_revenue),
            (pl.lit(origin) + pl.duration(days=pl.col("_last"))).alias(L.last_purchase),
        )
        .with_columns(
            lapse.alias(L.lapse_after_days),
            (pl.col(L.days_since_activity) > decline_after).alias(L.overdue),
        )
        .with_columns(
            active.alias(L.active),
            (windows_ok & (previous > 0) & (recent < (1 - stages.decline_drop) * previous)).alias(
                L.spend_drop
            ),
            (
                windows_ok
                & (recent > 0)
                & (recent > (1 + stages.growth_rise) * pl.max_horizontal(previous, pl.lit(0.0)))
            ).alias(L.spend_rising),
        )
        .with_columns(
            movement.cast(MOVEMENT_DTYPE).alias(L.movement), stage.cast(STAGE_DTYPE).alias(L.stage)
        )
        .drop("_last_day", "_last", *_CARRIED)
    )


def build_panel(
    snapshot: Snapshot,
    grid: pl.DataFrame,
    activity: ActivityRule,
    stages: StageRules,
    *,
    contractual: bool,
    period_months: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ledger's customers frame and panel (see :mod:`crm_core.data.ledger`)."""
    origin = grid[PERIOD_START][-1]
    customers = _customer_frame(snapshot, grid)
    activity_frame, firsts = _activity(snapshot, customers, grid, origin)
    work = customers.with_columns(
        _day_number(C.acquired_on, origin).alias("_acquired_day"),
        _day_number(C.churned_on, origin).alias("_churned_day"),
    ).join(firsts, on=L.cid, how="left", maintain_order="left")
    panel = (
        _panel(
            work,
            activity_frame,
            grid,
            origin,
            activity,
            stages,
            contractual=contractual,
            period_months=period_months,
        )
        .collect()
        .rechunk()
    )  # one chunk: later gathers and filters are several times faster
    customers = work.select(
        *customers.columns,
        (pl.lit(origin) + pl.duration(days=pl.col("_first_day"))).alias(L.first_purchase),
        pl.col("_first_amount").alias(L.first_purchase_amount),
    )
    return customers, panel
