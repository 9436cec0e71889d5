"""The customer ledger: one row per customer per period, built once per snapshot and date.

Every number the product shows is an aggregation of this panel (or, for drill-downs, of the
snapshot's own rows). :func:`build_ledger` reads a snapshot (already cut at its as-of date)
in one lazy polars pipeline and returns a :class:`Ledger`:

* ``grid`` - the periods (:mod:`crm_core.data.periods`): quarters, or months for
  contractual businesses, ending on the as-of date and reaching back to the first activity;
* ``customers`` - one row per customer acquired by the as-of date, with a dense integer key
  ``cid`` (0, 1, ... in ``customer_id`` order), the snapshot's customer columns, the period
  of acquisition and the first purchase day and its net amount;
* ``panel`` - one row per customer and period, from the earlier of the acquisition period
  and the first activity, to period 0, in ``(cid, period descending)`` order (each
  customer's periods oldest first). Columns (amounts in the snapshot's currency, days as
  whole days):

  ============================  ================================================================
  ``revenue``                   net amount of the period's transactions (refunds included)
  ``direct_cost``               direct cost of those transactions
  ``service_cost``, ``contacts`` cost and number of service contacts
  ``transactions``              transaction rows; ``purchases`` those with a positive amount
  ``purchase_days``             purchase days (days netting to >= 0), ``purchase_day_revenue``
                                their net amount
  ``cum_purchase_days``         purchase days up to the period end; ``cum_purchase_day_revenue``
  ``last_purchase``             last purchase day up to the period end (null before any)
  ``acquired``, ``won``         acquired by the period end; acquired in the period
  ``tenure_days``               days from acquisition to the period end
  ``days_since_activity``       days from the last activity (last purchase or acquisition)
  ``usual_gap_days``            mean days between purchase days so far (null below two)
  ``lapse_after_days``          the customer's lapse threshold (:class:`ActivityRule`)
  ``active``                    the one activity rule (:mod:`crm_core.data.rules`)
  ``movement``                  new, retained, reactivated, churned (lost in the period) or
                                dormant (inactive at both ends); null before acquisition
  ``recent_revenue``            net revenue of the trend window up to the period end, and
  ``previous_revenue``          of the window before it (:class:`StageRules`)
  ``overdue``, ``spend_drop``,  the stage signals
  ``spend_rising``
  ``stage``                     new, growing, mature, declining or churned (null before
                                acquisition)
  ============================  ================================================================

The panel is causal: a row uses only data dated up to its period end, so the ledger of the
snapshot cut at an earlier period end equals this one restricted to the periods from there
on (renumbered). Its revenue, cost and service cost totals equal the snapshot's, except for
rows of customers not yet acquired at the as-of date (a snapshot cut before their
acquisition), which it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from crm_core.data.periods import (
    PERIOD,
    PERIOD_END,
    PERIOD_START,
    period_grid,
    period_of,
    periods_back_to,
)
from crm_core.data.rules import DEFAULT_ACTIVITY, DEFAULT_STAGES, ActivityRule, StageRules
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = [
    "CUSTOMER_STAGES",
    "MOVEMENTS",
    "Ledger",
    "L",
    "build_ledger",
]


class L:
    """Column names of the ledger's frames (declared once, here)."""

    cid = "cid"
    period = PERIOD
    revenue = "revenue"
    direct_cost = "direct_cost"
    service_cost = "service_cost"
    contacts = "contacts"
    purchases = "purchases"
    transactions = "transactions"
    purchase_days = "purchase_days"
    purchase_day_revenue = "purchase_day_revenue"
    cum_purchase_days = "cum_purchase_days"
    cum_purchase_day_revenue = "cum_purchase_day_revenue"
    last_purchase = "last_purchase"
    acquired = "acquired"
    won = "won"
    tenure_days = "tenure_days"
    days_since_activity = "days_since_activity"
    usual_gap_days = "usual_gap_days"
    lapse_after_days = "lapse_after_days"
    active = "active"
    movement = "movement"
    recent_revenue = "recent_revenue"
    previous_revenue = "previous_revenue"
    overdue = "overdue"
    spend_drop = "spend_drop"
    spend_rising = "spend_rising"
    stage = "stage"
    # customers frame
    acquired_period = "acquired_period"
    first_purchase = "first_purchase"
    first_purchase_amount = "first_purchase_amount"


NEW, GROWING, MATURE, DECLINING, CHURNED = "new", "growing", "mature", "declining", "churned"
CUSTOMER_STAGES = (NEW, GROWING, MATURE, DECLINING, CHURNED)
"""Lifecycle stages of customers, in lifecycle order (prospects are leads, not customers)."""
STAGE_DTYPE = pl.Enum(CUSTOMER_STAGES)

RETAINED, REACTIVATED, DORMANT = "retained", "reactivated", "dormant"
MOVEMENTS = (NEW, RETAINED, REACTIVATED, CHURNED, DORMANT)
"""Movements of a customer in a period: won (and active at its end), active at both ends,
back after being inactive, lost (active at the start or won, inactive at the end), or
inactive throughout."""
MOVEMENT_DTYPE = pl.Enum(MOVEMENTS)

PERIOD_MONTHS = {False: 3, True: 1}
"""Ledger period length in months: quarters, or months for contractual businesses."""


@dataclass(frozen=True)
class Ledger:
    """The customer-period panel of one snapshot at one date (see the module docstring).

    Attributes
    ----------
    snapshot
        The snapshot (cut at ``as_of``) the ledger was built from, for drill-downs.
    grid
        ``period, period_start, period_end, label``, latest first.
    customers
        One row per customer acquired by ``as_of``: ``cid, customer_id, acquired_on,
        acquisition_channel, acquisition_cost, region, churned_on, acquired_period,
        first_purchase, first_purchase_amount``, in ``cid`` order.
    panel
        One row per customer and period (module docstring).
    activity, stages
        The rules applied.
    """

    snapshot: Snapshot
    grid: pl.DataFrame
    customers: pl.DataFrame
    panel: pl.DataFrame
    activity: ActivityRule = field(default=DEFAULT_ACTIVITY)
    stages: StageRules = field(default=DEFAULT_STAGES)

    @property
    def as_of(self) -> date:
        """The date the ledger describes (end of period 0)."""
        return self.snapshot.as_of

    @property
    def contractual(self) -> bool:
        """Whether churn is observed (subscriptions)."""
        return self.snapshot.manifest.contractual

    @property
    def currency(self) -> str:
        """ISO code of every amount."""
        return self.snapshot.currency

    @property
    def period_months(self) -> int:
        """Length of a period in months (3, or 1 for contractual businesses)."""
        return PERIOD_MONTHS[self.contractual]

    @property
    def periods_per_year(self) -> int:
        """Periods in a year (4 or 12)."""
        return 12 // self.period_months

    @property
    def periods(self) -> int:
        """Number of periods in the grid."""
        return self.grid.height

    def period_end(self, k: int) -> date:
        """Last day of period ``k``."""
        return self.grid[PERIOD_END][k]

    def lazy(self) -> pl.LazyFrame:
        """The panel as a LazyFrame."""
        return self.panel.lazy()

    def at(self, k: int = 0) -> pl.LazyFrame:
        """Panel rows of period ``k`` (one per customer with a row then)."""
        return self.panel.lazy().filter(pl.col(L.period) == k)

    def window(self, k: int, periods: int, *, sums: tuple[str, ...] | None = None) -> pl.LazyFrame:
        """Per customer, sums over the ``periods`` periods ``k .. k + periods - 1``.

        ``sums`` defaults to revenue, direct cost, service cost, contacts, purchases and
        purchase days; customers with no row in the window are absent.
        """
        names = sums or (
            L.revenue,
            L.direct_cost,
            L.service_cost,
            L.contacts,
            L.purchases,
            L.purchase_days,
        )
        return (
            self.panel.lazy()
            .filter(pl.col(L.period).is_between(k, k + periods - 1))
            .group_by(L.cid)
            .agg(pl.col(n).sum() for n in names)
        )

    def with_customers(self, frame: pl.LazyFrame, *columns: str) -> pl.LazyFrame:
        """Add customer columns (default ``customer_id``) to a frame keyed on ``cid``."""
        wanted = columns or (C.customer_id,)
        return frame.with_columns(
            pl.lit(self.customers[c]).gather(pl.col(L.cid)).alias(c) for c in wanted
        )


# ----------------------------------------------------------------------------- building
#
# Speed: the panel is built without ``over()`` windows. Rows are keyed on small integers
# (``cid`` and day or period numbers packed into one UInt64), which polars groups and joins
# several times faster than text ids, and the panel is sorted by customer, so "the previous
# period of the same customer" is the previous row when its ``cid`` is the same.

_DAY_BITS = 1 << 16  # days since the grid's first day (179 years)
_PERIOD_BITS = 1 << 12  # periods (4,096 months)


def _first_day(snapshot: Snapshot) -> date:
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


def build_ledger(
    snapshot: Snapshot,
    *,
    activity: ActivityRule = DEFAULT_ACTIVITY,
    stages: StageRules = DEFAULT_STAGES,
) -> Ledger:
    """Build the customer ledger of ``snapshot`` at its as-of date (module docstring).

    Parameters
    ----------
    snapshot
        The company's data, cut at the date to describe (``snapshot.cut(as_of)``).
    activity, stages
        The activity rule and the lifecycle stage thresholds (the product's defaults).

    Returns
    -------
    Ledger
    """
    contractual = snapshot.manifest.contractual
    months = PERIOD_MONTHS[contractual]
    stages.trend_periods(months)  # validate before the heavy work
    first = _first_day(snapshot)
    grid = period_grid(snapshot.as_of, periods_back_to(snapshot.as_of, first, months), months)
    origin = grid[PERIOD_START][-1]
    customers = _customer_frame(snapshot, grid)
    activity_frame, firsts = _activity(snapshot, customers, grid, origin)
    days = customers.select(
        (pl.col(C.acquired_on) - pl.lit(origin))
        .dt.total_days()
        .cast(pl.Int32)
        .alias("_acquired_day"),
        (pl.col(C.churned_on) - pl.lit(origin))
        .dt.total_days()
        .cast(pl.Int32)
        .alias("_churned_day"),
    )
    work = pl.concat([customers, days], how="horizontal").join(
        firsts, on=L.cid, how="left", maintain_order="left"
    )
    panel = _panel(
        work,
        activity_frame,
        grid,
        origin,
        activity,
        stages,
        contractual=contractual,
        period_months=months,
    ).collect()
    customers = work.select(
        *customers.columns,
        (pl.lit(origin) + pl.duration(days=pl.col("_first_day"))).alias(L.first_purchase),
        pl.col("_first_amount").alias(L.first_purchase_amount),
    )
    return Ledger(snapshot, grid, customers, panel, activity, stages)
