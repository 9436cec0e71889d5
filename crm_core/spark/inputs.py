"""Model inputs on Spark, grouped by their distinct values with counts.

The same per-customer inputs as :func:`crm_core.clv.fitted.bgnbd_inputs` and
:func:`crm_core.clv.fitted.contract_inputs` at the ledger's as-of date (period 0), read
off the Spark panel, then grouped: BG/NBD by ``(frequency, recency, T)``, Gamma-Gamma by
``(frequency, monetary_value)`` over repeat buyers with a positive mean spend, sBG by
``(periods_paid, active)``, each with the number of customers :data:`~crm_core.clv.fitted.
CUSTOMERS` (the weights of :func:`crm_core.clv.fitted.fit_grouped`). A hundred million
customers compress to a few hundred thousand rows.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from crm_core.clv.fitted import (
    ACTIVE_CONTRACT,
    BGNBD_KEYS,
    CONTRACT_KEYS,
    CUSTOMERS,
    PERIODS_PAID,
    SPEND_KEYS,
)
from crm_core.clv.summary import DAYS_PER_UNIT, FREQUENCY, MONETARY_VALUE, RECENCY, T_AGE
from crm_core.data.ledger_schema import L
from crm_core.data.schema import C

__all__ = ["bgnbd_groups", "contract_groups"]


def _count(frame: DataFrame, keys: tuple[str, ...]) -> DataFrame:
    return frame.groupBy(*keys).agg(F.count(F.lit(1)).alias(CUSTOMERS)).orderBy(*keys)


def _per_customer(customers: DataFrame, panel: DataFrame, as_of: date, unit: float) -> DataFrame:
    totals = panel.groupBy(L.cid).agg(F.sum(L.purchase_day_revenue).alias("_total"))
    now = panel.filter((F.col(L.period) == 0) & (F.col(L.cum_purchase_days) > 0)).select(
        L.cid, L.cum_purchase_days, L.last_purchase
    )
    first = F.col(L.first_purchase)
    x = (F.col(L.cum_purchase_days) - 1).cast("long")
    return (
        now.join(totals, on=L.cid)
        .join(customers.select(L.cid, L.first_purchase, L.first_purchase_amount), on=L.cid)
        .filter(first < F.lit(as_of))
        .select(
            x.alias(FREQUENCY),
            (F.datediff(L.last_purchase, first).cast("double") / unit).alias(RECENCY),
            (F.datediff(F.lit(as_of), first).cast("double") / unit).alias(T_AGE),
            F.when(x > 0, (F.col("_total") - F.col(L.first_purchase_amount)) / x)
            .otherwise(0.0)
            .alias(MONETARY_VALUE),
        )
    )


def bgnbd_groups(
    customers: DataFrame, panel: DataFrame, as_of: date, time_unit: str = "W"
) -> tuple[DataFrame, DataFrame]:
    """Grouped BG/NBD and Gamma-Gamma inputs at ``as_of`` (module docstring)."""
    rows = _per_customer(customers, panel, as_of, DAYS_PER_UNIT[time_unit])
    spenders = rows.filter((F.col(FREQUENCY) > 0) & (F.col(MONETARY_VALUE) > 0))
    return _count(rows, BGNBD_KEYS), _count(spenders, SPEND_KEYS)


def _completed_months(event: Column, start: Column) -> Column:
    k = (F.year(event) - F.year(start)) * 12 + (F.month(event) - F.month(start))
    return F.when(F.add_months(start, k) > event, k - 1).otherwise(k)


def contract_groups(customers: DataFrame, as_of: date, period_months: int = 1) -> DataFrame:
    """Grouped sBG inputs at ``as_of``: contracts by periods paid and whether running, as
    :func:`crm_core.clv.fitted.contract_inputs` counts them (calendar months, clamped)."""
    acq = F.col(C.acquired_on)
    churned = F.col(C.churned_on).isNotNull() & (F.col(C.churned_on) <= F.lit(as_of))
    stop = F.when(churned, F.col(C.churned_on)).otherwise(F.lit(as_of))
    months = _completed_months(stop, acq)
    last_start = F.floor(months / period_months).cast("int") * period_months
    on_start = F.add_months(acq, last_start) == stop
    paid = (F.floor(months / period_months).cast("long") + 1) - (churned & on_start).cast("long")
    rows = customers.filter(acq <= F.lit(as_of)).select(
        F.greatest(paid, F.lit(1).cast("long")).alias(PERIODS_PAID),
        (~churned).alias(ACTIVE_CONTRACT),
    )
    return _count(rows, CONTRACT_KEYS)
