"""Cohort retention: acquisition quarter x quarters since acquisition.

A **cohort** is the set of customers acquired (``customers.acquired_on``) in one calendar
quarter. Each customer's relationship is cut into **relationship quarters** counted from
their own acquisition date: quarter ``k`` runs from ``acquired_on + 3k`` months
(inclusive) to ``acquired_on + 3(k + 1)`` months (exclusive), in calendar months as
``Expr.dt.offset_by`` counts them. Quarter 0 is therefore a full three months for every
customer, whatever day of the calendar quarter they arrived on.

For a cohort and ``k``:

* ``customers`` - the cohort size: all customers acquired in the quarter (so the size is
  the acquisition count, whatever happened to them later);
* ``active`` - customers active in their quarter ``k``: non-contractual, at least one
  purchase day in it (a day whose net amount is >= 0; refunds are not purchases);
  contractual, the contract running when the quarter starts (``churned_on`` null or after
  its first day), so quarter 0 counts every customer whose contract did not end on the
  acquisition day;
* ``retention = active / customers``;
* ``revenue`` - the cohort's net revenue (purchases minus refunds) in their quarter ``k``;
* ``revenue_retention = revenue(k) / revenue(0)``: net revenue retention (NRR) of the
  cohort, including expansion by the customers who stay (null when quarter-0 revenue is
  not positive).

A cell is reported only when quarter ``k`` has ended, on or before the as-of date, for
**every** member of the cohort, so each cell compares whole quarters of every member;
the table is a triangle and the newest cohort may have no cell yet (its size is still in
:attr:`CohortReport.cohorts`). The ``average`` curve pools the cohorts that have the cell:
``retention = sum(active) / sum(customers)`` and ``revenue_retention = sum(revenue(k)) /
sum(revenue(0))`` over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from crm_core.clv._dates import completed_months, shifted
from crm_core.clv.summary import purchase_days
from crm_core.data.expressions import quarter_label, quarter_start
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = [
    "ACTIVE",
    "COHORT",
    "COHORT_LABEL",
    "CUSTOMERS",
    "QUARTER",
    "RETENTION",
    "REVENUE",
    "REVENUE_RETENTION",
    "CohortReport",
    "cohort_retention",
]

COHORT = "cohort"
COHORT_LABEL = "cohort_label"
QUARTER = "quarter"
CUSTOMERS = "customers"
ACTIVE = "active"
RETENTION = "retention"
REVENUE = "revenue"
REVENUE_RETENTION = "revenue_retention"
COHORTS = "cohorts"


@dataclass(frozen=True)
class CohortReport:
    """Customer and revenue retention of quarterly acquisition cohorts.

    Attributes
    ----------
    as_of, business_model, currency
        From the snapshot.
    cohorts
        ``cohort`` (first day of the acquisition quarter), ``cohort_label`` ("2025 Q3"),
        ``customers`` (acquired in the quarter), ``revenue`` (their revenue in quarter 0,
        currency; null while quarter 0 is not over for all of them), oldest first.
    table
        ``cohort, cohort_label, quarter, customers, active, retention, revenue,
        revenue_retention``: one row per cohort and complete relationship quarter.
    average
        ``quarter, cohorts, customers, active, retention, revenue, revenue_retention``:
        the cohorts pooled per relationship quarter.
    """

    as_of: date
    business_model: str
    currency: str
    cohorts: pl.DataFrame
    table: pl.DataFrame
    average: pl.DataFrame


def _quarter_of(column: str) -> pl.Expr:
    """Relationship quarter of a date column (customer's acquisition date ``acquired_on``)."""
    return (completed_months(pl.col(column), pl.col(C.acquired_on)) // 3).alias(QUARTER)


def cohort_retention(snapshot: Snapshot) -> CohortReport:
    """Cohort retention of ``snapshot`` (see the module docstring for the definitions)."""
    as_of = snapshot.as_of
    after_as_of = as_of + timedelta(days=1)
    customers = snapshot.customers.select(
        C.customer_id,
        C.acquired_on,
        C.churned_on,
        quarter_start(C.acquired_on).alias(COHORT),
        # last relationship quarter that has ended for this customer (-1: none yet)
        (completed_months(pl.lit(after_as_of), pl.col(C.acquired_on)) // 3 - 1).alias("_last_k"),
    )
    sizes = customers.group_by(COHORT).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        pl.col("_last_k").min().alias("_max_k"),
    )
    grid = (
        sizes.with_columns(pl.int_ranges(0, pl.col("_max_k") + 1).alias(QUARTER))
        .explode(QUARTER)
        .drop_nulls(QUARTER)
        .with_columns(pl.col(QUARTER).cast(pl.Int64))
        .select(COHORT, QUARTER, CUSTOMERS)
    )
    members = customers.select(C.customer_id, C.acquired_on, C.churned_on, COHORT)
    if snapshot.manifest.contractual:
        active = (
            members.join(grid.select(COHORT, QUARTER), on=COHORT)
            .filter(
                pl.col(C.churned_on).is_null()
                | (pl.col(C.churned_on) > shifted(pl.col(C.acquired_on), 3 * pl.col(QUARTER)))
            )
            .group_by(COHORT, QUARTER)
            .agg(pl.len().cast(pl.Int64).alias(ACTIVE))
        )
    else:
        active = (
            purchase_days(snapshot.transactions, end=as_of)
            .join(members, on=C.customer_id)
            .filter(pl.col(C.date) >= pl.col(C.acquired_on))
            .with_columns(_quarter_of(C.date))
            .group_by(COHORT, QUARTER)
            .agg(pl.col(C.customer_id).n_unique().cast(pl.Int64).alias(ACTIVE))
        )
    revenue = (
        snapshot.transactions.filter(pl.col(C.date) <= as_of)
        .join(members, on=C.customer_id)
        .filter(pl.col(C.date) >= pl.col(C.acquired_on))
        .with_columns(_quarter_of(C.date))
        .group_by(COHORT, QUARTER)
        .agg(pl.col(C.amount).sum().alias(REVENUE))
    )
    table = (
        grid.join(active, on=[COHORT, QUARTER], how="left")
        .join(revenue, on=[COHORT, QUARTER], how="left")
        .with_columns(pl.col(ACTIVE).fill_null(0), pl.col(REVENUE).fill_null(0.0))
        .with_columns(
            (pl.col(ACTIVE) / pl.col(CUSTOMERS)).alias(RETENTION),
            _ratio_to_first(REVENUE).over(COHORT, order_by=QUARTER).alias(REVENUE_RETENTION),
            quarter_label(COHORT).alias(COHORT_LABEL),
        )
        .select(
            COHORT,
            COHORT_LABEL,
            QUARTER,
            CUSTOMERS,
            ACTIVE,
            RETENTION,
            REVENUE,
            REVENUE_RETENTION,
        )
        .sort(COHORT, QUARTER)
    )
    cohorts = (
        sizes.join(
            table.filter(pl.col(QUARTER) == 0).select(COHORT, REVENUE), on=COHORT, how="left"
        )
        .with_columns(quarter_label(COHORT).alias(COHORT_LABEL))
        .select(COHORT, COHORT_LABEL, CUSTOMERS, REVENUE)
        .sort(COHORT)
    )
    first_revenue = table.filter(pl.col(QUARTER) == 0).select(
        COHORT, pl.col(REVENUE).alias("_rev0")
    )
    average = (
        table.join(first_revenue, on=COHORT)
        .group_by(QUARTER)
        .agg(
            pl.len().cast(pl.Int64).alias(COHORTS),
            pl.col(CUSTOMERS).sum(),
            pl.col(ACTIVE).sum(),
            pl.col(REVENUE).sum(),
            pl.col("_rev0").sum(),
        )
        .with_columns(
            (pl.col(ACTIVE) / pl.col(CUSTOMERS)).alias(RETENTION),
            pl.when(pl.col("_rev0") > 0)
            .then(pl.col(REVENUE) / pl.col("_rev0"))
            .otherwise(None)
            .alias(REVENUE_RETENTION),
        )
        .select(QUARTER, COHORTS, CUSTOMERS, ACTIVE, RETENTION, REVENUE, REVENUE_RETENTION)
        .sort(QUARTER)
    )
    cohorts, table, average = pl.collect_all([cohorts, table, average])
    return CohortReport(
        as_of=as_of,
        business_model=snapshot.manifest.business_model,
        currency=snapshot.currency,
        cohorts=cohorts,
        table=table,
        average=average,
    )


def _ratio_to_first(column: str) -> pl.Expr:
    """``column / column at quarter 0`` within a cohort (null when that is not positive)."""
    first = pl.col(column).first()
    return pl.when(first > 0).then(pl.col(column) / first).otherwise(None)
