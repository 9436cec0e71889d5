"""The customer ledger on Spark: the same panel as :mod:`crm_core.data.ledger_build`.

The steps and rules are those of the polars build (see :mod:`crm_core.data.ledger` for
every column): transactions are netted per customer and day, days summed per customer and
period, a skeleton of one row per customer and period from their first period to period 0
is joined with that activity, and the running values ("so far", "the previous period of
the same customer") are window functions over each customer's periods, oldest first. The
activity rule and the stage rules are :class:`~crm_core.data.rules.ActivityRule` and
:class:`~crm_core.data.rules.StageRules`, applied with the same thresholds.

The period grid (a few dozen rows) is computed on the driver with
:func:`crm_core.data.periods.period_grid`; dates become day numbers since the grid's first
day, and a day's period is a small ``CASE`` over the period ends.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from crm_core.data.ledger_schema import (
    CHURNED,
    DECLINING,
    DORMANT,
    GROWING,
    MATURE,
    NEW,
    REACTIVATED,
    RETAINED,
    L,
)
from crm_core.data.periods import PERIOD_END, PERIOD_START
from crm_core.data.rules import ActivityRule, StageRules
from crm_core.data.schema import C

__all__ = ["PANEL_COLUMNS", "customer_frame", "first_day", "panel"]

PANEL_COLUMNS = (
    L.cid, L.period, L.revenue, L.direct_cost, L.purchases, L.transactions, L.purchase_days,
    L.purchase_day_revenue, L.service_cost, L.contacts, L.cum_purchase_days, L.acquired, L.won,
    L.tenure_days, L.recent_revenue, L.days_since_activity, L.usual_gap_days,
    L.previous_revenue, L.last_purchase, L.lapse_after_days, L.overdue, L.active, L.spend_drop,
    L.spend_rising, L.movement, L.stage,
)  # fmt: skip
"""The panel's columns in the order of the polars build."""


def first_day(customers: DataFrame, transactions: DataFrame, service: DataFrame) -> date | None:
    """The first recorded activity: earliest acquisition, transaction or contact."""
    row = (
        customers.select(F.min(C.acquired_on).alias("d"))
        .unionByName(transactions.select(F.min(C.date).alias("d")))
        .unionByName(service.select(F.min(C.date).alias("d")))
        .agg(F.min("d"))
        .first()
    )
    return None if row is None else row[0]


class _Grid:
    """Day numbers of the grid's period ends and the period of a day."""

    def __init__(self, grid: pl.DataFrame) -> None:
        self.origin: date = grid[PERIOD_START][-1]
        self.n = grid.height
        self.ends = [(e - self.origin).days for e in grid[PERIOD_END]]  # index: period

    def day(self, column: str) -> Column:
        return F.datediff(F.col(column), F.lit(self.origin)).cast("int")

    def period_of_day(self, day: Column) -> Column:
        expr = None
        for k in range(self.n - 1, -1, -1):  # oldest period end first
            step = (day <= self.ends[k], F.lit(k))
            expr = F.when(*step) if expr is None else expr.when(*step)
        return expr.cast("int")  # type: ignore[union-attr]

    def end(self, shift: int = 0) -> Column:
        """Day number of the end of period ``min(period + shift, n - 1)``."""
        index = F.least(F.col(L.period) + shift, F.lit(self.n - 1))
        return F.element_at(F.array(*(F.lit(e) for e in self.ends)), index + 1)


def customer_frame(customers: DataFrame, grid: pl.DataFrame) -> DataFrame:
    """Customers with the dense key ``cid`` (0, 1, ... in ``customer_id`` order) and their
    acquisition period; persisted (its numbering must not change between uses)."""
    g = _Grid(grid)
    ordered = (
        customers.select(
            C.customer_id,
            C.acquired_on,
            C.acquisition_channel,
            C.acquisition_cost,
            C.region,
            C.churned_on,
        )
        .orderBy(C.customer_id)
        .withColumn("_part", F.spark_partition_id())
        .withColumn("_pos", F.monotonically_increasing_id())
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    counts = ordered.groupBy("_part").agg(F.count(F.lit(1)).alias("_n"), F.min("_pos").alias("_p0"))
    offsets = counts.withColumn(
        "_offset",
        F.sum("_n").over(Window.orderBy("_part").rowsBetween(Window.unboundedPreceding, -1)),
    ).select("_part", "_p0", F.coalesce("_offset", F.lit(0)).alias("_offset"))
    return (
        ordered.join(F.broadcast(offsets), on="_part")
        .withColumn(L.cid, (F.col("_offset") + F.col("_pos") - F.col("_p0")).cast("int"))
        .withColumn(L.acquired_period, g.period_of_day(g.day(C.acquired_on)))
        .drop("_part", "_pos", "_p0", "_offset")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )


def _activity(
    customers: DataFrame, transactions: DataFrame, service: DataFrame, g: _Grid
) -> tuple[DataFrame, DataFrame]:
    """Per (cid, period): money, purchases and contacts; per cid the first purchase day
    and its net amount (as :func:`crm_core.data.ledger_build._activity`)."""
    ids = customers.select(C.customer_id, L.cid)
    days = (
        transactions.join(ids, on=C.customer_id, how="inner")
        .groupBy(L.cid, g.day(C.date).alias("_day"))
        .agg(
            F.sum(C.amount).alias("_net"),
            F.sum(C.cost).alias("_cost"),
            F.sum(F.when(F.col(C.amount) > 0, 1).otherwise(0)).alias("_purchases"),
            F.count(F.lit(1)).alias("_rows"),
        )
        .withColumn("_is_day", F.col("_net") >= 0)
    )
    bought = days.filter("_is_day")
    firsts = bought.groupBy(L.cid).agg(
        F.min("_day").alias("_first_day"),
        F.min_by("_net", "_day").alias("_first_amount"),
    )
    sales = (
        days.withColumn(L.period, g.period_of_day(F.col("_day")))
        .groupBy(L.cid, L.period)
        .agg(
            F.sum("_net").alias(L.revenue),
            F.sum("_cost").alias(L.direct_cost),
            F.sum("_purchases").cast("int").alias(L.purchases),
            F.sum("_rows").cast("int").alias(L.transactions),
            F.sum(F.col("_is_day").cast("int")).cast("int").alias(L.purchase_days),
            F.sum(F.when(F.col("_is_day"), F.col("_net")).otherwise(0.0)).alias(
                L.purchase_day_revenue
            ),
            F.max(F.when(F.col("_is_day"), F.col("_day"))).alias("_last_day"),
        )
    )
    contacts = (
        service.join(ids, on=C.customer_id, how="inner")
        .groupBy(L.cid, g.period_of_day(g.day(C.date)).alias(L.period))
        .agg(
            F.sum(C.cost).alias(L.service_cost),
            F.count(F.lit(1)).cast("int").alias(L.contacts),
        )
    )
    return sales.join(contacts, on=[L.cid, L.period], how="full"), firsts


def panel(
    customers: DataFrame,
    transactions: DataFrame,
    service: DataFrame,
    grid: pl.DataFrame,
    activity_rule: ActivityRule,
    stages: StageRules,
    *,
    contractual: bool,
    period_months: int,
) -> tuple[DataFrame, DataFrame]:
    """The ledger's customers frame (with ``first_purchase`` and its amount) and panel.

    ``customers`` is :func:`customer_frame`'s result.
    """
    g = _Grid(grid)
    activity, firsts = _activity(customers, transactions, service, g)
    first_active = activity.groupBy(L.cid).agg(F.max(L.period).alias("_first"))
    work = (
        customers.select(L.cid, C.acquired_on, C.churned_on, L.acquired_period)
        .join(firsts, on=L.cid, how="left")
        .select(
            L.cid,
            L.acquired_period,
            "_first_day",
            g.day(C.acquired_on).alias("_acquired_day"),
            g.day(C.churned_on).alias("_churned_day"),
        )
    )
    skeleton = work.join(first_active, on=L.cid, how="left").withColumn(
        L.period,
        F.explode(F.sequence(F.greatest(L.acquired_period, "_first"), F.lit(0), F.lit(-1))),
    )
    zero = {
        L.revenue: 0.0, L.direct_cost: 0.0, L.purchase_day_revenue: 0.0, L.service_cost: 0.0,
        L.purchases: 0, L.transactions: 0, L.purchase_days: 0, L.contacts: 0,
    }  # fmt: skip
    rows = skeleton.join(activity, on=[L.cid, L.period], how="left").fillna(zero)
    own = Window.partitionBy(L.cid).orderBy(F.col(L.period).desc())
    so_far = own.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    w = stages.trend_periods(period_months)
    end = g.end()
    acquired = F.col("_acquired_day")
    rows = (
        rows.withColumn(L.cum_purchase_days, F.sum(L.purchase_days).over(so_far).cast("int"))
        .withColumn("_last", F.max("_last_day").over(so_far))
        .withColumn(L.acquired, acquired <= end)
        .withColumn(L.won, F.col(L.period) == F.col(L.acquired_period))
        .withColumn(L.tenure_days, (end - acquired).cast("int"))
        .withColumn(L.recent_revenue, F.sum(L.revenue).over(own.rowsBetween(-(w - 1), 0)))
    )
    gap = F.col(L.usual_gap_days)
    rows = (
        rows.withColumn(
            L.days_since_activity, (end - F.greatest(F.col("_last"), acquired)).cast("int")
        )
        .withColumn(
            L.usual_gap_days,
            F.when(
                F.col(L.cum_purchase_days) >= 2,
                (F.col("_last") - F.col("_first_day")).cast("double")
                / (F.col(L.cum_purchase_days) - 1).cast("double"),
            ),
        )
        .withColumn(
            L.previous_revenue, F.coalesce(F.lag(L.recent_revenue, w).over(own), F.lit(0.0))
        )
        .withColumn(L.last_purchase, F.date_add(F.lit(g.origin), F.col("_last")))
    )
    lapse = F.greatest(F.lit(float(activity_rule.min_lapse_days)),
                       F.lit(activity_rule.lapse_gap_multiple) * gap)  # fmt: skip
    if activity_rule.max_lapse_days is not None:
        lapse = F.least(lapse, F.lit(float(activity_rule.max_lapse_days)))
    decline_after = F.greatest(F.lit(float(stages.decline_after_days)),
                               F.lit(stages.decline_gap_multiple) * gap)  # fmt: skip
    rows = rows.withColumn(L.lapse_after_days, lapse).withColumn(
        L.overdue, F.col(L.days_since_activity) > decline_after
    )
    if contractual:
        churned = F.col("_churned_day")
        active = F.col(L.acquired) & (churned.isNull() | (churned > end))
    else:
        active = F.col(L.acquired) & (F.col(L.days_since_activity) <= F.col(L.lapse_after_days))
    recent, previous = F.col(L.recent_revenue), F.col(L.previous_revenue)
    windows_ok = (
        (F.col(L.period) + 2 * w < g.n)
        & (acquired <= g.end(2 * w))
        & gap.isNotNull()
        & (gap < (end - g.end(w)))
    )
    rows = (
        rows.withColumn(L.active, F.coalesce(active, F.lit(False)))
        .withColumn(
            L.spend_drop,
            F.coalesce(
                windows_ok & (previous > 0) & (recent < (1 - stages.decline_drop) * previous),
                F.lit(False),
            ),
        )
        .withColumn(
            L.spend_rising,
            F.coalesce(
                windows_ok
                & (recent > 0)
                & (recent > (1 + stages.growth_rise) * F.greatest(previous, F.lit(0.0))),
                F.lit(False),
            ),
        )
    )
    prev_active = F.coalesce(F.lag(L.active, 1).over(own), F.lit(False))
    movement = (
        F.when(~F.col(L.acquired), F.lit(None))
        .when(F.col(L.won), F.when(F.col(L.active), F.lit(NEW)).otherwise(F.lit(CHURNED)))
        .when(F.col(L.active), F.when(prev_active, F.lit(RETAINED)).otherwise(F.lit(REACTIVATED)))
        .otherwise(F.when(prev_active, F.lit(CHURNED)).otherwise(F.lit(DORMANT)))
    )
    stage = (
        F.when(~F.col(L.acquired), F.lit(None))
        .when(~F.col(L.active), F.lit(CHURNED))
        .when(F.col(L.tenure_days) < stages.new_days, F.lit(NEW))
        .when(F.col(L.overdue) | F.col(L.spend_drop), F.lit(DECLINING))
        .when(F.col(L.spend_rising) | (F.col(L.tenure_days) < stages.mature_days), F.lit(GROWING))
        .otherwise(F.lit(MATURE))
    )
    result = rows.withColumn(L.movement, movement).withColumn(L.stage, stage)
    firsts_out = customers.join(firsts, on=L.cid, how="left").select(
        *(c for c in customers.columns),
        F.date_add(F.lit(g.origin), F.col("_first_day")).alias(L.first_purchase),
        F.col("_first_amount").alias(L.first_purchase_amount),
    )
    return firsts_out, result.select(*PANEL_COLUMNS)
