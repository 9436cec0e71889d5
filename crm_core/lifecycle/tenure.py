"""Profit per customer by tenure year: the Reichheld picture from the company's own data.

Reichheld & Sasser ("Zero Defections", HBR 1990; DOMAIN.md section 1) show profit per
customer growing with tenure: an acquisition loss in year 0, then base profit plus more
purchases, lower cost to serve, referrals and price premium. This module measures the
first three from the snapshot.

**Tenure years.** Year ``y`` of a customer runs from ``acquired_on + 12y`` months
(inclusive) to ``acquired_on + 12(y + 1)`` months (exclusive). In it the customer's

* revenue - net amount of their transactions (purchases minus refunds),
* direct cost - cost of those sales,
* service cost - their touchpoint costs (``service_costs.parquet``; zero without it),
* acquisition cost - ``customers.acquisition_cost``, charged in year 0 only,

and ``profit = revenue - direct cost - service cost - acquisition cost``.

**Who counts (surviving customers).** Year 0 counts every customer whose first year has
ended by as-of (the acquisition loss needs a whole year: onboarding costs and the first
purchase cannot be annualised). A later year counts the customers still active in it:
non-contractual, with at least one purchase day (net amount >= 0) in the part observed;
contractual, with the contract running on the year's first day. A year still in progress
on the as-of date counts once at least ``min_year_fraction`` of it has been observed; its
amounts are annualised by weighting: every average is **per customer-year**, ``sum of
amounts / sum of observed fractions of a year``, so a customer seen for half a year
weighs half.

**Decomposition** (per surviving customer ``i`` in year ``y >= 1``, whose year 0 is
complete; ``GM`` = revenue - direct cost, ``S`` = service cost, both annualised):

* base profit        = ``GM_0,i - S_0,i`` (the customer's own year-0 profit before the
  acquisition cost),
* extra purchases    = ``GM_y,i - GM_0,i`` (margin from buying more or larger),
* lower cost to serve = ``S_0,i - S_y,i`` (service cost saved against year 0),

which add up to ``GM_y,i - S_y,i``, the customer's profit in year ``y``. In year 0, base
profit = ``GM_0 - S_0`` and acquisition = ``-acquisition cost``. The parts are averaged
with the same weights as the total, so in every row ``base_profit + extra_purchases +
lower_cost_to_serve + acquisition = profit`` exactly. Comparing each survivor with their
own first year keeps survivors' higher starting level (selection) in base profit rather
than in extra purchases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from crm_core.clv._dates import completed_months, shifted
from crm_core.clv.summary import purchase_days
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = [
    "ACQUISITION",
    "BASE_PROFIT",
    "CUSTOMER_YEARS",
    "EXTRA_PURCHASES",
    "LOWER_COST_TO_SERVE",
    "PROFIT",
    "TENURE_YEAR",
    "TenureProfit",
    "tenure_profit",
]

TENURE_YEAR = "tenure_year"
CUSTOMERS = "customers"
CUSTOMER_YEARS = "customer_years"
IN_PROGRESS_SHARE = "in_progress_share"
REVENUE = "revenue"
DIRECT_COST = "direct_cost"
SERVICE_COST = "service_cost"
ACQUISITION_COST = "acquisition_cost"
PROFIT = "profit"
BASE_PROFIT = "base_profit"
EXTRA_PURCHASES = "extra_purchases"
LOWER_COST_TO_SERVE = "lower_cost_to_serve"
ACQUISITION = "acquisition"
PARTS: tuple[str, ...] = (ACQUISITION, BASE_PROFIT, EXTRA_PURCHASES, LOWER_COST_TO_SERVE)


@dataclass(frozen=True)
class TenureProfit:
    """Average profit per surviving customer by tenure year, and its parts.

    Attributes
    ----------
    as_of, currency, business_model
        From the snapshot.
    min_year_fraction
        Share of a year in progress that must be observed for it to count.
    table
        One row per tenure year (0 first): ``tenure_year, customers`` (surviving customers
        counted), ``customer_years`` (sum of observed fractions), ``in_progress_share``
        (share of the customer-years from years still in progress), then per customer-year
        in the snapshot's currency: ``revenue, direct_cost, service_cost,
        acquisition_cost, profit`` and the parts ``acquisition`` (minus the acquisition
        cost, year 0), ``base_profit, extra_purchases, lower_cost_to_serve`` that sum to
        ``profit``.
    """

    as_of: date
    currency: str
    business_model: str
    min_year_fraction: float
    table: pl.DataFrame

    @property
    def breakeven_year(self) -> int | None:
        """First tenure year whose profit per customer is positive (``None`` if none)."""
        positive = self.table.filter(pl.col(PROFIT) > 0)
        return int(positive[TENURE_YEAR][0]) if positive.height else None


def _year_of(column: str) -> pl.Expr:
    return (completed_months(pl.col(column), pl.col(C.acquired_on)) // 12).alias(TENURE_YEAR)


def tenure_profit(snapshot: Snapshot, *, min_year_fraction: float = 0.5) -> TenureProfit:
    """Profit per surviving customer by tenure year (see the module docstring).

    Parameters
    ----------
    snapshot
        The company's data.
    min_year_fraction
        A year still in progress counts for a customer once this share of it has been
        observed (0 < fraction <= 1; 1 keeps complete years only). Default 0.5.

    Raises
    ------
    ValueError
        If ``min_year_fraction`` is not in (0, 1].
    """
    if (
        isinstance(min_year_fraction, bool)
        or not isinstance(min_year_fraction, int | float)
        or not math.isfinite(min_year_fraction)
        or not 0 < min_year_fraction <= 1
    ):
        raise ValueError(f"min_year_fraction must be in (0, 1], got {min_year_fraction!r}")
    as_of = snapshot.as_of
    end_exclusive = as_of + timedelta(days=1)
    customers = snapshot.customers.select(
        C.customer_id, C.acquired_on, C.churned_on, C.acquisition_cost
    )
    started = completed_months(pl.lit(end_exclusive), pl.col(C.acquired_on)) // 12
    years = (
        customers.with_columns(pl.int_ranges(0, started + 1).alias(TENURE_YEAR))
        .explode(TENURE_YEAR)
        .drop_nulls(TENURE_YEAR)
        .with_columns(pl.col(TENURE_YEAR).cast(pl.Int64))
        .with_columns(
            shifted(pl.col(C.acquired_on), 12 * pl.col(TENURE_YEAR)).alias("_start"),
            shifted(pl.col(C.acquired_on), 12 * (pl.col(TENURE_YEAR) + 1)).alias("_end"),
        )
        .with_columns(
            (
                (pl.min_horizontal(pl.col("_end"), pl.lit(end_exclusive)) - pl.col("_start"))
                .dt.total_days()
                .cast(pl.Float64)
                / (pl.col("_end") - pl.col("_start")).dt.total_days()
            ).alias("_fraction")
        )
        .filter(pl.col("_fraction") > 0)
    )
    in_years = [C.customer_id, TENURE_YEAR]
    money = (
        snapshot.transactions.join(customers.select(C.customer_id, C.acquired_on), on=C.customer_id)
        .filter(pl.col(C.date) >= pl.col(C.acquired_on))
        .with_columns(_year_of(C.date))
        .group_by(in_years)
        .agg(pl.col(C.amount).sum().alias(REVENUE), pl.col(C.cost).sum().alias(DIRECT_COST))
    )
    service = (
        snapshot.service_costs.join(
            customers.select(C.customer_id, C.acquired_on), on=C.customer_id
        )
        .filter(pl.col(C.date) >= pl.col(C.acquired_on))
        .with_columns(_year_of(C.date))
        .group_by(in_years)
        .agg(pl.col(C.cost).sum().alias(SERVICE_COST))
    )
    bought = (
        purchase_days(snapshot.transactions, end=as_of)
        .join(customers.select(C.customer_id, C.acquired_on), on=C.customer_id)
        .filter(pl.col(C.date) >= pl.col(C.acquired_on))
        .with_columns(_year_of(C.date))
        .select(in_years)
        .unique()
        .with_columns(pl.lit(True).alias("_bought"))
    )
    if snapshot.manifest.contractual:
        survived = pl.col(C.churned_on).is_null() | (pl.col(C.churned_on) > pl.col("_start"))
    else:
        survived = pl.col("_bought").fill_null(False)
    rows = (
        years.join(money, on=in_years, how="left")
        .join(service, on=in_years, how="left")
        .join(bought, on=in_years, how="left")
        .with_columns(pl.col(REVENUE, DIRECT_COST, SERVICE_COST).fill_null(0.0))
        .filter(
            pl.when(pl.col(TENURE_YEAR) == 0)
            .then(pl.col("_fraction") >= 1)
            .otherwise(survived & (pl.col("_fraction") >= min_year_fraction))
        )
        .with_columns(
            pl.when(pl.col(TENURE_YEAR) == 0)
            .then(pl.col(C.acquisition_cost))
            .otherwise(0.0)
            .alias(ACQUISITION_COST),
            (pl.col(REVENUE) - pl.col(DIRECT_COST)).alias("_gm"),
        )
    )
    first_year = rows.filter(pl.col(TENURE_YEAR) == 0).select(
        C.customer_id, pl.col("_gm").alias("_gm0"), pl.col(SERVICE_COST).alias("_s0")
    )
    w = pl.col("_fraction")
    parts = rows.join(first_year, on=C.customer_id, how="left").with_columns(
        # raw amounts of the year; the base is scaled to the observed fraction
        (w * (pl.col("_gm0") - pl.col("_s0"))).alias(BASE_PROFIT),
        pl.when(pl.col(TENURE_YEAR) == 0)
        .then(0.0)
        .otherwise(pl.col("_gm") - w * pl.col("_gm0"))
        .alias(EXTRA_PURCHASES),
        pl.when(pl.col(TENURE_YEAR) == 0)
        .then(0.0)
        .otherwise(w * pl.col("_s0") - pl.col(SERVICE_COST))
        .alias(LOWER_COST_TO_SERVE),
        (-pl.col(ACQUISITION_COST)).alias(ACQUISITION),
        (
            pl.col(REVENUE) - pl.col(DIRECT_COST) - pl.col(SERVICE_COST) - pl.col(ACQUISITION_COST)
        ).alias(PROFIT),
    )
    per_year = [REVENUE, DIRECT_COST, SERVICE_COST, ACQUISITION_COST, PROFIT, *PARTS]
    table = (
        parts.group_by(TENURE_YEAR)
        .agg(
            pl.len().cast(pl.Int64).alias(CUSTOMERS),
            w.sum().alias(CUSTOMER_YEARS),
            w.filter(w < 1).sum().alias("_in_progress"),
            *(pl.col(c).sum() for c in per_year),
        )
        .with_columns(
            (pl.col("_in_progress") / pl.col(CUSTOMER_YEARS)).alias(IN_PROGRESS_SHARE),
            *((pl.col(c) / pl.col(CUSTOMER_YEARS)).alias(c) for c in per_year),
        )
        .select(TENURE_YEAR, CUSTOMERS, CUSTOMER_YEARS, IN_PROGRESS_SHARE, *per_year)
        .sort(TENURE_YEAR)
        .collect()
    )
    return TenureProfit(
        as_of=as_of,
        currency=snapshot.currency,
        business_model=snapshot.manifest.business_model,
        min_year_fraction=float(min_year_fraction),
        table=table,
    )
