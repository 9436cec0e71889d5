"""Unit economics by acquisition channel and by acquisition cohort.

For a group of customers (those won through one channel, or in one quarter), from the
customer ledger and the shared CLV valuation (:func:`crm_core.clv.valuation.value` of the
model set fitted at the as-of date, the 3-year horizon of the Overview's customer equity):

* ``customers`` - customers won (acquired) in the group, ``acquisition_spend`` their
  acquisition cost and ``cac = acquisition_spend / customers``;
* ``margin_to_date`` - margin earned per customer since acquisition: revenue minus direct
  cost and cost to serve, up to the as-of date (undiscounted);
* ``clv`` - expected CLV per customer: the shared valuation's discounted future margin
  from the as-of date (0 for customers it does not value: cancelled contracts, retail
  customers without a purchase before the date);
* ``value = margin_to_date + clv`` - what a customer of the group is worth over their
  life so far and the next three years, and ``value_to_cac = value / cac``. This is not
  the registry's *LTV : CAC* (CLV per active customer over the last year's average CAC):
  it charges each group its own acquisition cost and counts the margin already earned;
* ``payback_months = cac / (margin_to_date summed / customer-months since acquisition)``:
  months of the group's average monthly margin that pay back its CAC;
* ``retention_12m`` - of the group's customers acquired in a quarter at least four
  quarters before the as-of date, the share active (the one activity rule) at the end of
  the fourth quarter after their acquisition quarter: the Lifecycle cohorts' active share
  at quarter 4 (``retention_eligible`` counts them);
* ``profit_share`` - the group's share of the last 12 months' profit, profit as in the
  Overview's top-10% headline (:func:`crm_core.metrics.profit.customer_profit`: revenue
  minus direct cost, cost to serve and the acquisition cost of customers won in the 12
  months); ``None`` when that total is not positive.

The table can be restricted to customers won in the last ``won_months`` months; the
profit share still divides by the whole company's profit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from crm_core.clv.valuation import CLV, DEFAULT_HORIZON_YEARS, ClvResult
from crm_core.data.expressions import add_months
from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import LABEL, PERIOD, period_grid
from crm_core.data.schema import C
from crm_core.metrics.profit import PROFIT, customer_profit
from crm_core.metrics.quarters import quarter_periods

__all__ = [
    "BY_CHANNEL",
    "BY_COHORT",
    "COLUMNS",
    "GROUP",
    "UnitEconomics",
    "unit_economics",
]

BY_CHANNEL, BY_COHORT = "channel", "cohort"
GROUP = "group"
CUSTOMERS = "customers"
SPEND = "acquisition_spend"
CAC = "cac"
MARGIN = "margin_to_date"
CLV_PER = "clv"
VALUE = "value"
RATIO = "value_to_cac"
PAYBACK = "payback_months"
RETENTION = "retention_12m"
ELIGIBLE = "retention_eligible"
PROFIT_SHARE = "profit_share"
COLUMNS = (GROUP, CUSTOMERS, SPEND, CAC, MARGIN, CLV_PER, VALUE, RATIO, PAYBACK, RETENTION,
           ELIGIBLE, PROFIT_SHARE)  # fmt: skip
"""The table's columns, in order (see the module docstring)."""

DAYS_PER_MONTH = 365.25 / 12
_RETENTION_QUARTERS = 4


@dataclass(frozen=True)
class UnitEconomics:
    """Unit economics of one grouping (module docstring).

    Attributes
    ----------
    by
        ``"channel"`` or ``"cohort"``.
    table
        One row per group (:data:`COLUMNS`; channels by customers won, cohorts oldest
        first).
    total
        The same columns for all the customers in the table (``group`` = ``"All"``).
    as_of, currency, horizon_years
        The date, the currency and the CLV horizon of the valuation.
    won_since
        First acquisition day counted (``None``: every customer).
    """

    by: str
    table: pl.DataFrame
    total: pl.DataFrame
    as_of: date
    currency: str
    horizon_years: float
    won_since: date | None = None

    def best_and_worst(self, min_customers: int = 20) -> tuple[dict, dict] | None:
        """Rows of the groups with the highest and lowest ``value_to_cac`` among those with
        at least ``min_customers`` customers and a CAC (``None`` with fewer than two)."""
        rows = (
            self.table.filter((pl.col(CUSTOMERS) >= min_customers) & pl.col(RATIO).is_not_null())
            .sort(RATIO, descending=True)
            .to_dicts()
        )
        return (rows[0], rows[-1]) if len(rows) >= 2 else None


def _per_customer(ledger: Ledger, clv: ClvResult | None, since: date | None) -> pl.LazyFrame:
    step = quarter_periods(ledger)
    quarter = (pl.col(L.acquired_period) // step).cast(pl.Int32)
    customers = ledger.customers.lazy().select(
        L.cid,
        C.acquisition_channel,
        C.acquisition_cost,
        quarter.alias("_quarter"),
        ((pl.lit(ledger.as_of) - pl.col(C.acquired_on)).dt.total_days() / DAYS_PER_MONTH).alias(
            "_months"
        ),
        pl.col(C.acquired_on),
    )
    if since is not None:
        customers = customers.filter(pl.col(C.acquired_on) >= pl.lit(since))
    margin = (
        ledger.lazy()
        .group_by(L.cid)
        .agg(
            (pl.col(L.revenue) - pl.col(L.direct_cost) - pl.col(L.service_cost)).sum().alias(MARGIN)
        )
    )
    # active at the end of the 4th quarter after the acquisition quarter (quarter ends)
    acquired_q = (pl.lit(ledger.customers[L.acquired_period]) // step).gather(pl.col(L.cid))
    later = (
        ledger.lazy()
        .filter(pl.col(L.period) == (acquired_q - _RETENTION_QUARTERS) * step)
        .select(L.cid, pl.col(L.active).alias("_kept"))
    )
    profits = customer_profit(ledger, 12).select(L.cid, pl.col(PROFIT).alias("_profit"))
    out = (
        customers.join(margin, on=L.cid, how="left")
        .join(later, on=L.cid, how="left")
        .join(profits, on=L.cid, how="left")
    )
    if clv is not None:
        values = clv.table.lazy().select(L.cid, pl.col(CLV).alias(CLV_PER))
        out = out.join(values, on=L.cid, how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.Float64).alias(CLV_PER))
    filled = [MARGIN, "_profit", *([CLV_PER] if clv is not None else [])]
    return out.with_columns(
        pl.col(filled).fill_null(0.0),
        (pl.col("_quarter") >= _RETENTION_QUARTERS).alias("_eligible"),
    )


def _aggregate(frame: pl.LazyFrame, by: str | pl.Expr, total_profit: float | None) -> pl.LazyFrame:
    n = pl.len().cast(pl.Int64)
    monthly = pl.col(MARGIN).sum() / pl.col("_months").sum()
    cac = pl.col(C.acquisition_cost).sum() / n
    eligible = pl.col("_eligible").sum().cast(pl.Int64)
    share = (
        pl.col("_profit").sum() / total_profit
        if total_profit is not None and total_profit > 0
        else pl.lit(None, pl.Float64)
    )
    return (
        frame.group_by(by)
        .agg(
            n.alias(CUSTOMERS),
            pl.col(C.acquisition_cost).sum().alias(SPEND),
            cac.alias(CAC),
            pl.col(MARGIN).mean(),
            pl.col(CLV_PER).mean(),
            pl.when(monthly > 0).then(cac / monthly).alias(PAYBACK),
            pl.when(eligible > 0)
            .then(pl.col("_kept").filter(pl.col("_eligible")).fill_null(False).sum() / eligible)
            .alias(RETENTION),
            eligible.alias(ELIGIBLE),
            share.alias(PROFIT_SHARE),
        )
        .with_columns((pl.col(MARGIN) + pl.col(CLV_PER)).alias(VALUE))
        .with_columns(pl.when(pl.col(CAC) > 0).then(pl.col(VALUE) / pl.col(CAC)).alias(RATIO))
    )


def unit_economics(
    ledger: Ledger,
    clv: ClvResult | None,
    by: str = BY_CHANNEL,
    *,
    won_months: int | None = None,
) -> UnitEconomics:
    """Unit economics of the ledger's customers by acquisition channel or cohort.

    Parameters
    ----------
    ledger
        The customer ledger.
    clv
        The shared valuation at the ledger's as-of date (``None`` when the model could not
        be fitted: the CLV, value and ratio columns are then null).
    by
        ``"channel"`` (acquisition channel) or ``"cohort"`` (acquisition quarter).
    won_months
        Only customers acquired in the last ``won_months`` months (``None``: all).

    Raises
    ------
    ValueError
        For an unknown ``by`` or a ``won_months`` below 1.
    """
    if by not in (BY_CHANNEL, BY_COHORT):
        raise ValueError(f"by must be {BY_CHANNEL!r} or {BY_COHORT!r}, got {by!r}")
    if won_months is not None and (isinstance(won_months, bool) or won_months < 1):
        raise ValueError(f"won_months must be a whole number >= 1, got {won_months!r}")
    since = None if won_months is None else add_months(ledger.as_of, -won_months)
    since = None if since is None else since + timedelta(days=1)
    total_profit = (
        customer_profit(ledger, 12).select(pl.col(PROFIT).sum()).collect().item()
        if ledger.customers.height
        else None
    )
    rows = _per_customer(ledger, clv, since).collect()
    if by == BY_CHANNEL:
        table = (
            _aggregate(rows.lazy(), pl.col(C.acquisition_channel).alias(GROUP), total_profit)
            .sort([CUSTOMERS, GROUP], descending=[True, False])
            .select(COLUMNS)
            .collect()
        )
    else:
        step = quarter_periods(ledger)
        labels = period_grid(ledger.as_of, max(1, ledger.periods // step), 3).select(
            pl.col(PERIOD).alias("_quarter"), pl.col(LABEL).alias(GROUP)
        )
        table = (
            _aggregate(rows.lazy(), "_quarter", total_profit)
            .join(labels.lazy(), on="_quarter", how="left")
            .sort("_quarter", descending=True)
            .select(COLUMNS)
            .collect()
        )
    total = (
        _aggregate(rows.lazy().with_columns(pl.lit("All").alias(GROUP)), GROUP, total_profit)
        .select(COLUMNS)
        .collect()
    )
    return UnitEconomics(
        by=by,
        table=table,
        total=total,
        as_of=ledger.as_of,
        currency=ledger.currency,
        horizon_years=clv.horizon_years if clv is not None else DEFAULT_HORIZON_YEARS,
        won_since=since,
    )
