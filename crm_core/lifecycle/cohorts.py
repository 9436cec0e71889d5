"""Acquisition cohorts: what each quarter's new customers did in every quarter since.

A **cohort** is the set of customers acquired in one quarter of the customer ledger (the
quarters ending on the as-of date, ``t_q = as_of - 3q months``; a contractual ledger's
months are taken three at a time). **Quarter k** of a cohort is the k-th ledger quarter
after the one of acquisition (quarter 0: the quarter of acquisition itself, part of which
may precede a customer's arrival). A cell exists once that quarter has ended, so the table
is a triangle. For a cohort and ``k``:

* ``customers`` - the cohort size (everyone acquired in the quarter);
* ``buying`` - members with a purchase day in quarter ``k`` (a day netting to >= 0);
  ``buying_share = buying / customers``: the cohort's purchase rate;
* ``active`` - members active at the end of quarter ``k`` by the product's one activity
  rule (the ledger's ``active``; contractual: under contract); ``active_share = active /
  customers``;
* ``revenue`` - the cohort's net revenue in quarter ``k``; ``revenue_index = revenue(k) /
  revenue(0)`` (null when quarter-0 revenue is not positive): net revenue kept, expansion by
  the customers who stay included.

None of these is the registry's *annual retention* (of everyone active a year ago, the
share active today): ``active_share`` uses the same rule but follows one cohort from its
acquisition quarter; ``buying_share`` counts only customers who bought in that very quarter.

The ``average`` rows pool the cohorts that have the cell: ``sum(buying) / sum(customers)``,
``sum(active) / sum(customers)`` and ``sum(revenue(k)) / sum(revenue(0))`` over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import LABEL, PERIOD, PERIOD_END, period_grid
from crm_core.metrics.quarters import quarter_periods

__all__ = [
    "ACTIVE",
    "ACTIVE_SHARE",
    "BUYING",
    "BUYING_SHARE",
    "COHORT",
    "COHORTS",
    "COHORT_LABEL",
    "CUSTOMERS",
    "MEASURES",
    "QUARTER",
    "REVENUE",
    "REVENUE_INDEX",
    "CohortReport",
    "cohort_retention",
]

COHORT = "cohort"
COHORT_LABEL = "cohort_label"
QUARTER = "quarter"
CUSTOMERS = "customers"
BUYING = "buying"
BUYING_SHARE = "buying_share"
ACTIVE = "active"
ACTIVE_SHARE = "active_share"
REVENUE = "revenue"
REVENUE_INDEX = "revenue_index"
COHORTS = "cohorts"
MEASURES: tuple[str, ...] = (BUYING_SHARE, ACTIVE_SHARE, REVENUE_INDEX)
"""The cohort measures a chart can show (fractions)."""


@dataclass(frozen=True)
class CohortReport:
    """Acquisition cohorts of a ledger (module docstring).

    Attributes
    ----------
    as_of, business_model, currency
        From the ledger.
    cohorts
        ``cohort`` (last day of the acquisition quarter), ``cohort_label`` ("2025 Q3"),
        ``customers``, ``revenue`` (their quarter-0 revenue, currency), oldest first.
    table
        ``cohort, cohort_label, quarter, customers, buying, buying_share, active,
        active_share, revenue, revenue_index``: one row per cohort and ended quarter.
    average
        ``quarter, cohorts, customers, buying, buying_share, active, active_share,
        revenue, revenue_index``: the cohorts pooled per quarter since acquisition.
    """

    as_of: date
    business_model: str
    currency: str
    cohorts: pl.DataFrame
    table: pl.DataFrame
    average: pl.DataFrame


def _shares() -> list[pl.Expr]:
    return [
        (pl.col(BUYING) / pl.col(CUSTOMERS)).alias(BUYING_SHARE),
        (pl.col(ACTIVE) / pl.col(CUSTOMERS)).alias(ACTIVE_SHARE),
    ]


def cohort_retention(ledger: Ledger) -> CohortReport:
    """The acquisition cohorts of ``ledger`` (see the module docstring).

    One aggregation of the ledger's rows from each customer's acquisition on; a monthly
    ledger is first summed to quarters.
    """
    step = quarter_periods(ledger)
    quarters = ledger.periods // step
    acquired_q = (pl.lit(ledger.customers[L.acquired_period]) // step).gather(pl.col(L.cid))
    rows = (
        ledger.lazy()
        .filter(pl.col(L.acquired) & (pl.col(L.period) < quarters * step))
        .with_columns((pl.col(L.period) // step).cast(pl.Int32).alias("_q"))
    )
    if step == 1:
        per_quarter = rows.select(
            L.cid,
            "_q",
            (pl.col(L.purchase_days) > 0).alias("_bought"),
            pl.col(L.active).alias("_active"),
            L.revenue,
        )
    else:  # the quarter's first row is its last month (latest first within a customer)
        per_quarter = rows.group_by(L.cid, "_q").agg(
            (pl.col(L.purchase_days).sum() > 0).alias("_bought"),
            pl.col(L.active)
            .filter(pl.col(L.period) % step == 0)
            .first()
            .fill_null(False)
            .alias("_active"),
            pl.col(L.revenue).sum(),
        )
    cells = (
        per_quarter.with_columns(acquired_q.cast(pl.Int32).alias(COHORT))
        .group_by(COHORT, "_q")
        .agg(
            pl.len().cast(pl.Int64).alias(CUSTOMERS),
            pl.col("_bought").sum().cast(pl.Int64).alias(BUYING),
            pl.col("_active").sum().cast(pl.Int64).alias(ACTIVE),
            pl.col(L.revenue).sum().alias(REVENUE),
        )
        .with_columns((pl.col(COHORT) - pl.col("_q")).cast(pl.Int64).alias(QUARTER))
    )
    grid = (
        period_grid(ledger.as_of, quarters, 3)
        .lazy()
        .select(
            pl.col(PERIOD).alias(COHORT),
            pl.col(PERIOD_END).alias("_end"),
            pl.col(LABEL).alias(COHORT_LABEL),
        )
    )
    first = cells.filter(pl.col(QUARTER) == 0).select(COHORT, pl.col(REVENUE).alias("_rev0"))
    table = (
        cells.join(first, on=COHORT, how="left")
        .join(grid, on=COHORT, how="inner")
        .with_columns(
            *_shares(),
            pl.when(pl.col("_rev0") > 0)
            .then(pl.col(REVENUE) / pl.col("_rev0"))
            .alias(REVENUE_INDEX),
        )
        .sort("_end", QUARTER)
    )
    sizes = table.filter(pl.col(QUARTER) == 0)
    cohorts = sizes.select(pl.col("_end").alias(COHORT), COHORT_LABEL, CUSTOMERS, REVENUE)
    average = (
        table.group_by(QUARTER)
        .agg(
            pl.len().cast(pl.Int64).alias(COHORTS),
            pl.col(CUSTOMERS, BUYING, ACTIVE, REVENUE).sum(),
            pl.col("_rev0").sum(),
        )
        .with_columns(
            *_shares(),
            pl.when(pl.col("_rev0") > 0)
            .then(pl.col(REVENUE) / pl.col("_rev0"))
            .alias(REVENUE_INDEX),
        )
        .select(
            QUARTER,
            COHORTS,
            CUSTOMERS,
            BUYING,
            BUYING_SHARE,
            ACTIVE,
            ACTIVE_SHARE,
            REVENUE,
            REVENUE_INDEX,
        )
        .sort(QUARTER)
    )
    table = table.select(
        pl.col("_end").alias(COHORT),
        COHORT_LABEL,
        QUARTER,
        CUSTOMERS,
        BUYING,
        BUYING_SHARE,
        ACTIVE,
        ACTIVE_SHARE,
        REVENUE,
        REVENUE_INDEX,
    )
    cohorts, table, average = pl.collect_all([cohorts, table, average])
    return CohortReport(
        as_of=ledger.as_of,
        business_model=ledger.snapshot.manifest.business_model,
        currency=ledger.currency,
        cohorts=cohorts,
        table=table,
        average=average,
    )
