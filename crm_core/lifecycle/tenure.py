"""Profit per customer by tenure year: the Reichheld picture from the company's own data.

Reichheld & Sasser ("Zero Defections", HBR 1990; DOMAIN.md section 1) show profit per
customer growing with tenure: an acquisition loss in year 0, then base profit plus more
purchases, lower cost to serve, referrals and price premium. This module measures the
first three from the customer ledger.

**Tenure years.** A customer's relationship periods are the ledger periods from the one of
acquisition on (``j = acquired_period - period``: 0 is the period of acquisition); tenure
year ``y`` is relationship periods ``j`` with ``y * P <= j < (y + 1) * P``, ``P`` the
periods in a year (4 quarters, or 12 months for contractual businesses). In it the
customer's

* revenue - net amount of their transactions (purchases minus refunds),
* direct cost - cost of those sales,
* service cost - their touchpoint costs,
* acquisition cost - ``customers.acquisition_cost``, charged in year 0 only,

and ``profit = revenue - direct cost - service cost - acquisition cost``.

**Who counts (surviving customers).** Year 0 counts every customer whose year 0 has ended
by the as-of date. A later year counts the customers still active in it: non-contractual,
with at least one purchase day in the part observed; contractual, active (under contract)
at the end of the year before. A year still in progress counts once at least
``min_year_fraction`` of its periods have ended; every average is **per customer-year**,
``sum of amounts / sum of observed fractions of a year``, so a customer seen for half a
year weighs half.

**Decomposition** (per surviving customer ``i`` in year ``y >= 1``; ``GM`` = revenue -
direct cost, ``S`` = service cost, ``w`` the observed fraction of the year):

* base profit         = ``w (GM_0,i - S_0,i)`` (the customer's own year-0 profit before the
  acquisition cost, for the part of the year observed),
* extra purchases     = ``GM_y,i - w GM_0,i`` (margin from buying more or larger),
* lower cost to serve = ``w S_0,i - S_y,i`` (service cost saved against year 0),

which add up to ``GM_y,i - S_y,i``, the customer's profit in year ``y``. In year 0, base
profit = ``GM_0 - S_0`` and acquisition = ``-acquisition cost``. The parts are averaged
with the same weights as the total, so in every row ``base_profit + extra_purchases +
lower_cost_to_serve + acquisition = profit`` (to rounding). Comparing each survivor with
their own first year keeps survivors' higher starting level (selection) in base profit
rather than in extra purchases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C

__all__ = [
    "ACQUISITION",
    "BASE_PROFIT",
    "CUSTOMERS",
    "CUSTOMER_YEARS",
    "EXTRA_PURCHASES",
    "IN_PROGRESS_SHARE",
    "LOWER_COST_TO_SERVE",
    "PARTS",
    "PROFIT",
    "REVENUE",
    "SERVICE_COST",
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
_YEAR_BITS = 1 << 12


@dataclass(frozen=True)
class TenureProfit:
    """Average profit per surviving customer by tenure year, and its parts.

    Attributes
    ----------
    as_of, currency, business_model
        From the ledger.
    min_year_fraction
        Share of a year in progress that must be observed for it to count.
    table
        One row per tenure year (0 first): ``tenure_year, customers`` (surviving customers
        counted), ``customer_years`` (sum of observed fractions), ``in_progress_share``
        (share of the customer-years from years still in progress), then per customer-year
        in the ledger's currency: ``revenue, direct_cost, service_cost,
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


def _check_fraction(value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= 1
    ):
        raise ValueError(f"min_year_fraction must be in (0, 1], got {value!r}")


def _customer_years(rows: pl.LazyFrame, year: pl.Expr, per_year: int) -> pl.LazyFrame:
    """Per customer and tenure year: observed fraction, money, purchase days, and whether
    the customer was active at the end of the year's last period.

    The panel's rows are in (customer, period descending) order, so each customer-year is a
    run of consecutive rows: sums are differences of running totals at the run ends (one
    pass, no hash group-by of millions of keys).
    """
    sums = {
        L.revenue: REVENUE,
        L.direct_cost: DIRECT_COST,
        L.service_cost: SERVICE_COST,
        L.purchase_days: "_days",
    }
    key = pl.col(L.cid).cast(pl.UInt64) * _YEAR_BITS + year.cast(pl.UInt64)
    end = (pl.col("_key") != pl.col("_key").shift(-1)).fill_null(True)

    def run(column: str) -> pl.Expr:
        return pl.col(column) - pl.col(column).shift(1).fill_null(0)

    return (
        rows.select(
            key.alias("_key"),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
            *(pl.col(c).cum_sum().alias(name) for c, name in sums.items()),
            pl.col(L.active).alias("_active_end"),
        )
        .filter(end)
        .select(
            (pl.col("_key") // _YEAR_BITS).cast(pl.UInt32).alias(L.cid),
            (pl.col("_key") % _YEAR_BITS).cast(pl.Int64).alias(TENURE_YEAR),
            # the first run starts at row 0, the others after the previous run's end
            (run("_row") + (pl.int_range(pl.len()) == 0).cast(pl.Int64)).alias("_n"),
            *(run(name).alias(name) for name in sums.values()),
            "_active_end",
        )
        .with_columns(
            (pl.col("_n") / per_year).alias("_fraction"),
            (pl.col("_days") > 0).alias("_bought"),
        )
    )


def tenure_profit(ledger: Ledger, *, min_year_fraction: float = 0.5) -> TenureProfit:
    """Profit per surviving customer by tenure year (see the module docstring).

    Parameters
    ----------
    ledger
        The customer ledger.
    min_year_fraction
        A year still in progress counts for a customer once this share of its periods has
        ended (0 < fraction <= 1; 1 keeps complete years only). Default 0.5.

    Raises
    ------
    ValueError
        If ``min_year_fraction`` is not in (0, 1].
    """
    _check_fraction(min_year_fraction)
    per_year = ledger.periods_per_year
    acquired = pl.lit(ledger.customers[L.acquired_period]).gather(pl.col(L.cid))
    relation = acquired - pl.col(L.period)
    years = _customer_years(ledger.lazy().filter(relation >= 0), relation // per_year, per_year)
    survived = pl.col("_bought")
    if ledger.contractual:
        previous_end = years.select(
            L.cid,
            (pl.col(TENURE_YEAR) + 1).alias(TENURE_YEAR),
            pl.col("_active_end").alias("_alive_at_start"),
        )
        years = years.join(previous_end, on=[L.cid, TENURE_YEAR], how="left")
        survived = pl.col("_alive_at_start")
    cost = pl.lit(ledger.customers[C.acquisition_cost]).gather(pl.col(L.cid))
    rows = years.filter(
        pl.when(pl.col(TENURE_YEAR) == 0)
        .then(pl.col("_fraction") >= 1)
        .otherwise(survived.fill_null(False) & (pl.col("_fraction") >= min_year_fraction))
    ).with_columns(
        pl.when(pl.col(TENURE_YEAR) == 0).then(cost).otherwise(0.0).alias(ACQUISITION_COST),
        (pl.col(REVENUE) - pl.col(DIRECT_COST)).alias("_gm"),
    )
    first_year = rows.filter(pl.col(TENURE_YEAR) == 0).select(
        L.cid, pl.col("_gm").alias("_gm0"), pl.col(SERVICE_COST).alias("_s0")
    )
    w = pl.col("_fraction")
    later = pl.col(TENURE_YEAR) > 0
    parts = rows.join(first_year, on=L.cid, how="inner").with_columns(
        (w * (pl.col("_gm0") - pl.col("_s0"))).alias(BASE_PROFIT),
        pl.when(later)
        .then(pl.col("_gm") - w * pl.col("_gm0"))
        .otherwise(0.0)
        .alias(EXTRA_PURCHASES),
        pl.when(later)
        .then(w * pl.col("_s0") - pl.col(SERVICE_COST))
        .otherwise(0.0)
        .alias(LOWER_COST_TO_SERVE),
        (-pl.col(ACQUISITION_COST)).alias(ACQUISITION),
        (pl.col("_gm") - pl.col(SERVICE_COST) - pl.col(ACQUISITION_COST)).alias(PROFIT),
    )
    amounts = [REVENUE, DIRECT_COST, SERVICE_COST, ACQUISITION_COST, PROFIT, *PARTS]
    table = (
        parts.group_by(TENURE_YEAR)
        .agg(
            pl.len().cast(pl.Int64).alias(CUSTOMERS),
            w.sum().alias(CUSTOMER_YEARS),
            w.filter(w < 1).sum().alias("_in_progress"),
            *(pl.col(c).sum() for c in amounts),
        )
        .with_columns(
            (pl.col("_in_progress") / pl.col(CUSTOMER_YEARS)).alias(IN_PROGRESS_SHARE),
            *((pl.col(c) / pl.col(CUSTOMER_YEARS)).alias(c) for c in amounts),
        )
        .select(TENURE_YEAR, CUSTOMERS, CUSTOMER_YEARS, IN_PROGRESS_SHARE, *amounts)
        .sort(TENURE_YEAR)
        .collect()
    )
    return TenureProfit(
        as_of=ledger.as_of,
        currency=ledger.currency,
        business_model=ledger.snapshot.manifest.business_model,
        min_year_fraction=float(min_year_fraction),
        table=table,
    )
