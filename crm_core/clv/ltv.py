"""The year-by-year lifetime value (LTV) table of a cohort (DOMAIN.md, section 3).

For a cohort acquired in year 1, each row ``t`` shows the customers remaining, the
retention rate, spend per customer, total revenue, the cost ratio, total costs (the
acquisition cost is charged in year 1), gross profit, the discount factor
``(1 + d)^-(t - 1)`` (year 1 undiscounted; pass a risk-adjusted rate as ``d`` to allow for
risk), the NPV of the profit, the cumulative NPV and the LTV per original customer
(cumulative NPV / cohort size). Acquisition is not profitable by itself: the
:func:`payback_year` is the first year the cumulative NPV turns positive.

:func:`ltv_table` builds the table from planning assumptions; :func:`ltv_table_from_cohort`
from an actual cohort of the customer ledger: the customers acquired in a span of ledger
periods, followed period by period in the panel. Both share one builder, so a column means
the same in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C
from crm_core.errors import NotEnoughData
from crm_core.formatting import fmt_count, fmt_money, fmt_pct

__all__ = [
    "LTV_COLUMNS",
    "LTV_LABELS",
    "Cohort",
    "cohort_choices",
    "cohort_years_observed",
    "ltv_table",
    "ltv_table_from_cohort",
    "ltv_table_text",
    "payback_finding",
    "payback_year",
]

YEAR = "year"
CUSTOMERS = "customers"
RETENTION = "retention_rate"
SPEND = "spend_per_customer"
REVENUE = "revenue"
COST_RATIO = "cost_ratio"
ACQUISITION = "acquisition_costs"
TOTAL_COSTS = "total_costs"
GROSS_PROFIT = "gross_profit"
DISCOUNT_FACTOR = "discount_factor"
NPV_PROFIT = "npv_profit"
CUMULATIVE_NPV = "cumulative_npv"
LTV = "ltv"

LTV_COLUMNS = (YEAR, CUSTOMERS, RETENTION, SPEND, REVENUE, COST_RATIO, ACQUISITION, TOTAL_COSTS,
               GROSS_PROFIT, DISCOUNT_FACTOR, NPV_PROFIT, CUMULATIVE_NPV, LTV)  # fmt: skip
"""Columns of every LTV table, in order (money in the snapshot's or caller's currency)."""

_OPERATING = "_operating_costs"

LTV_LABELS = {
    YEAR: "Year",
    CUSTOMERS: "Customers",
    RETENTION: "Retention to next year",
    SPEND: "Spend per customer",
    REVENUE: "Revenue",
    COST_RATIO: "Direct and service costs / revenue",
    ACQUISITION: "Acquisition costs",
    TOTAL_COSTS: "Total costs",
    GROSS_PROFIT: "Profit",
    DISCOUNT_FACTOR: "Discount factor",
    NPV_PROFIT: "NPV of profit",
    CUMULATIVE_NPV: "Cumulative NPV",
    LTV: "LTV per customer won",
}
"""Every LTV table column in words."""


def _finish(base: pl.LazyFrame, cohort_size: float, discount_rate: float) -> pl.DataFrame:
    """Derived columns from ``year, customers, retention_rate, revenue, _operating_costs,
    acquisition_costs`` (one row per year, sorted)."""
    d = float(discount_rate)
    total = pl.col(_OPERATING) + pl.col(ACQUISITION)
    return (
        base.sort(YEAR)
        .with_columns(
            pl.when(pl.col(CUSTOMERS) > 0)
            .then(pl.col(REVENUE) / pl.col(CUSTOMERS))
            .otherwise(None)
            .alias(SPEND),
            pl.when(pl.col(REVENUE) != 0)
            .then(pl.col(_OPERATING) / pl.col(REVENUE))
            .otherwise(None)
            .alias(COST_RATIO),
            total.alias(TOTAL_COSTS),
            (pl.col(REVENUE) - total).alias(GROSS_PROFIT),
            pl.lit(1.0 + d).pow(-(pl.col(YEAR) - 1)).alias(DISCOUNT_FACTOR),
        )
        .with_columns((pl.col(GROSS_PROFIT) * pl.col(DISCOUNT_FACTOR)).alias(NPV_PROFIT))
        .with_columns(pl.col(NPV_PROFIT).cum_sum().alias(CUMULATIVE_NPV))
        .with_columns((pl.col(CUMULATIVE_NPV) / cohort_size).alias(LTV))
        .select(LTV_COLUMNS)
        .collect()
    )


def _per_year(name: str, value: float | Sequence[float], years: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(years, float(arr))
    elif arr.ndim != 1 or arr.size != years:
        raise ValueError(f"{name} must be a number or a sequence of {years} yearly values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _check_rate(discount_rate: float) -> float:
    d = float(discount_rate)
    if not np.isfinite(d) or d <= -1:
        raise ValueError(f"discount_rate must be a number > -1, got {discount_rate!r}")
    return d


def ltv_table(
    customers: float,
    retention: float | Sequence[float],
    spend: float | Sequence[float],
    cost_ratio: float | Sequence[float],
    *,
    acquisition_cost: float = 0.0,
    discount_rate: float = 0.10,
    years: int | None = None,
) -> pl.DataFrame:
    """The LTV table of a cohort from planning assumptions.

    Parameters
    ----------
    customers
        Cohort size acquired in year 1.
    retention
        Share of year ``t``'s customers still customers in year ``t + 1`` (fraction in
        [0, 1]); one number or one value per year (the row of year ``t`` shows the rate
        applied after it, as in Hughes' classic table).
    spend
        Yearly revenue per remaining customer (currency); a number or one per year.
    cost_ratio
        Direct costs as a share of revenue (fraction); a number or one per year.
    acquisition_cost
        Acquisition cost per customer (currency), charged in year 1.
    discount_rate
        Yearly discount (or risk-adjusted) rate; row ``t`` is discounted by
        ``(1 + d)^-(t - 1)``.
    years
        Number of years; required when every per-year input is a number.

    Returns
    -------
    pl.DataFrame
        Columns :data:`LTV_COLUMNS`, one row per year.

    Raises
    ------
    ValueError
        On a non-positive cohort, retention outside [0, 1], negative costs, sequences of
        different lengths, ``discount_rate <= -1`` or a missing ``years``.
    """
    lengths = {np.size(v) for v in (retention, spend, cost_ratio) if np.ndim(v) > 0}
    if years is None:
        if len(lengths) != 1:
            raise ValueError("give years, or per-year sequences of one common length")
        years = lengths.pop()
    if int(years) != years or years < 1:
        raise ValueError(f"years must be a whole number >= 1, got {years!r}")
    years = int(years)
    n0 = float(customers)
    if not np.isfinite(n0) or n0 <= 0:
        raise ValueError(f"customers must be a positive number, got {customers!r}")
    ret = _per_year("retention", retention, years)
    if np.any((ret < 0) | (ret > 1)):
        raise ValueError("retention rates must lie in [0, 1]")
    spd = _per_year("spend", spend, years)
    ratio = _per_year("cost_ratio", cost_ratio, years)
    if np.any(ratio < 0):
        raise ValueError("cost_ratio must be >= 0")
    acq = float(acquisition_cost)
    if not np.isfinite(acq) or acq < 0:
        raise ValueError(f"acquisition_cost must be >= 0, got {acquisition_cost!r}")
    d = _check_rate(discount_rate)
    remaining = n0 * np.concatenate([[1.0], np.cumprod(ret[:-1])])
    revenue = remaining * spd
    base = pl.LazyFrame(
        {
            YEAR: np.arange(1, years + 1, dtype=np.int64),
            CUSTOMERS: remaining,
            RETENTION: ret,
            REVENUE: revenue,
            _OPERATING: revenue * ratio,
            ACQUISITION: np.where(np.arange(years) == 0, acq * n0, 0.0),
        }
    )
    return _finish(base, n0, d)


def payback_year(table: pl.DataFrame) -> int | None:
    """First year whose cumulative NPV is positive (``None`` if it never is)."""
    hit = table.filter(pl.col(CUMULATIVE_NPV) > 0)
    return None if hit.is_empty() else int(hit[YEAR].min())


# ---------------------------------------------------------------------- cohorts


@dataclass(frozen=True)
class Cohort:
    """The customers acquired in the ledger periods ``youngest .. oldest`` (period numbers
    count back from the as-of date), observed for ``years`` whole years after the youngest.

    Attributes
    ----------
    start, end
        First acquisition date of the members and last day of the youngest period.
    years
        Whole years observed for every member (:func:`cohort_years_observed`).
    customers
        Members.
    oldest, youngest
        The acquisition periods spanned.
    """

    start: date
    end: date
    years: int
    customers: int
    oldest: int
    youngest: int

    @property
    def label(self) -> str:
        """``"acquired Oct 2023 – Sep 2024"``."""
        return f"acquired {self.start:%b %Y} – {self.end:%b %Y}"


def cohort_years_observed(ledger: Ledger, youngest: int) -> int:
    """Whole years observed for customers acquired in period ``youngest``: a customer's
    year ``t`` is their acquisition period and the next ``periods_per_year - 1`` periods
    (year 1), then the next ``periods_per_year`` (year 2), and so on."""
    return (int(youngest) + 1) // ledger.periods_per_year


def cohort_choices(ledger: Ledger) -> list[Cohort]:
    """Yearly acquisition cohorts with at least one whole year observed, most observed first.

    Cohort ``k`` (``k = 1, 2, ...``) holds the customers acquired in the ``periods_per_year``
    periods ``k * periods_per_year .. (k + 1) * periods_per_year - 1``, so each of them is
    observed for ``k`` whole years. Empty cohorts are left out.
    """
    per_year = ledger.periods_per_year
    counts = (
        ledger.customers.lazy()
        .group_by((pl.col(L.acquired_period) // per_year).alias("_k"))
        .agg(pl.len().alias("_n"), pl.col(C.acquired_on).min().alias("_start"))
        .filter(pl.col("_k") >= 1)
        .sort("_k", descending=True)
        .collect()
    )
    return [
        Cohort(start, ledger.period_end(k * per_year), k, n, k * per_year + per_year - 1,
               k * per_year)
        for k, n, start in counts.iter_rows()
        if k * per_year < ledger.periods
    ]  # fmt: skip


def ltv_table_from_cohort(
    ledger: Ledger,
    oldest: int,
    youngest: int | None = None,
    years: int | None = None,
    discount_rate: float | None = None,
) -> pl.DataFrame:
    """The observed LTV table of the customers acquired in the ledger periods ``youngest ..
    oldest`` (``youngest`` defaults to ``oldest``: one acquisition period).

    A member's years count from their own acquisition period (:func:`cohort_years_observed`),
    and every row sums the ledger panel over the members' periods of that year:

    * customers: year 1 the whole cohort; later years, for a non-contractual business the
      members with a purchase day in that year, for a contractual one those under contract
      at the end of the year before (the ledger's activity rule for contracts);
    * revenue: net amount of the members' transactions in the year (refunds included);
    * total costs: direct cost of those transactions plus service costs (all touchpoints),
      plus the cohort's acquisition costs in year 1; the cost ratio excludes acquisition;
    * retention rate: customers next year / this year (empty for the last row when the
      next year is not fully observed).

    Parameters
    ----------
    ledger
        The customer ledger.
    oldest, youngest
        Acquisition periods of the cohort (period numbers, ``youngest <= oldest``).
    years
        Rows of the table; at most what every member is observed for (default: all).
    discount_rate
        Yearly discount rate; defaults to the snapshot's manifest.

    Raises
    ------
    ValueError
        If the periods are reversed or ``years`` exceeds what the ledger observes.
    NotEnoughData
        If nobody was acquired in those periods, or no whole year is observed.
    """
    youngest = oldest if youngest is None else youngest
    if youngest > oldest or youngest < 0:
        raise ValueError(f"need 0 <= youngest <= oldest, got {youngest} and {oldest}")
    observed = cohort_years_observed(ledger, youngest)
    years = observed if years is None else years
    if int(years) != years or years < 1:
        raise ValueError(f"years must be a whole number >= 1, got {years!r}")
    years = int(years)
    if years > observed:
        raise NotEnoughData(
            f"customers acquired up to {ledger.period_end(min(youngest, ledger.periods - 1))} "
            f"are observed for "
            f"{observed} whole year(s) as of {ledger.as_of}; asked for {years}"
        )
    d = _check_rate(ledger.snapshot.manifest.discount_rate if discount_rate is None
                    else discount_rate)  # fmt: skip
    per_year = ledger.periods_per_year
    rows = years + 1 if observed > years else years  # one more year gives the last retention
    members = ledger.customers.lazy().filter(pl.col(L.acquired_period).is_between(youngest, oldest))
    n0, acquisition = members.select(pl.len(), pl.col(C.acquisition_cost).sum()).collect().row(0)
    if n0 == 0:
        last = ledger.periods - 1
        first = ledger.grid["period_start"][min(oldest, last)]
        raise NotEnoughData(
            f"nobody was acquired from {first} to {ledger.period_end(min(youngest, last))}"
        )
    age = pl.col(L.acquired_period) - pl.col(L.period)  # periods since acquisition
    panel = (
        ledger.with_customers(ledger.lazy(), L.acquired_period)  # a gather by the key, no join
        .filter(pl.col(L.acquired_period).is_between(youngest, oldest))
        .with_columns((age // per_year + 1).alias(YEAR))
        .filter(pl.col(YEAR).is_between(1, rows))
    )
    money = panel.group_by(YEAR).agg(
        pl.col(L.revenue).sum().alias(REVENUE),
        (pl.col(L.direct_cost) + pl.col(L.service_cost)).sum().alias(_OPERATING),
    )
    if ledger.contractual:  # under contract at the end of the year before
        ends = panel.filter((age + 1) % per_year == 0)
        active = ends.group_by((pl.col(YEAR) + 1).alias(YEAR)).agg(
            pl.col(L.active).sum().cast(pl.Float64).alias(CUSTOMERS)
        )
    else:  # bought in the year
        active = (
            panel.group_by(YEAR, L.cid)
            .agg(pl.col(L.purchase_days).sum().alias("_days"))
            .group_by(YEAR)
            .agg((pl.col("_days") > 0).sum().cast(pl.Float64).alias(CUSTOMERS))
        )
    base = (
        pl.LazyFrame({YEAR: np.arange(1, rows + 1, dtype=np.int64)})
        .join(active, on=YEAR, how="left")
        .join(money, on=YEAR, how="left")
        .with_columns(
            pl.when(pl.col(YEAR) == 1)
            .then(pl.lit(float(n0)))
            .otherwise(pl.col(CUSTOMERS).fill_null(0.0))
            .alias(CUSTOMERS),
            pl.col(REVENUE).fill_null(0.0),
            pl.col(_OPERATING).fill_null(0.0),
            pl.when(pl.col(YEAR) == 1)
            .then(float(acquisition or 0.0))
            .otherwise(0.0)
            .alias(ACQUISITION),
        )
        .sort(YEAR)
        .with_columns(
            pl.when(pl.col(CUSTOMERS) > 0)
            .then(pl.col(CUSTOMERS).shift(-1) / pl.col(CUSTOMERS))
            .otherwise(None)
            .alias(RETENTION)
        )
        .filter(pl.col(YEAR) <= years)
    )
    return _finish(base, float(n0), d)


# ---------------------------------------------------------------------- in words


def ltv_table_text(
    table: pl.DataFrame, currency: str = "USD", labels: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """An LTV table laid out as in the seeds, for reading: one row per measure (in words,
    column ``Measure``), one column per year (``Year 1``, ...), values formatted with
    :mod:`crm_core.formatting` (money compact, LTV to the cent, rates in percent, ``n/a``
    where unknown, e.g. the last retention rate when the next year is not observed);
    ``labels`` overrides :data:`LTV_LABELS` for some measures."""
    formats = {
        CUSTOMERS: lambda v: fmt_count(round(v, 1), compact=False),
        RETENTION: lambda v: fmt_pct(v, digits=1),
        COST_RATIO: lambda v: fmt_pct(v, digits=1),
        DISCOUNT_FACTOR: lambda v: "n/a" if v is None else f"{v:.3f}",
        LTV: lambda v: fmt_money(v, currency, compact=False),
    }
    money = {SPEND, REVENUE, ACQUISITION, TOTAL_COSTS, GROSS_PROFIT, NPV_PROFIT,
             CUMULATIVE_NPV}  # fmt: skip
    names = {**LTV_LABELS, **(labels or {})}
    columns: dict[str, list[str]] = {"Measure": [names[c] for c in LTV_COLUMNS[1:]]}
    for row in table.iter_rows(named=True):
        columns[f"Year {row[YEAR]}"] = [
            fmt_money(row[c], currency) if c in money else formats[c](row[c])
            for c in LTV_COLUMNS[1:]
        ]
    return pl.DataFrame(columns)


def payback_finding(table: pl.DataFrame, currency: str = "USD") -> str:
    """What an LTV table shows, to follow "Customers acquired ...": ``"paid back in their
    first year: LTV $520 per customer after 2 years"``, ``"turned profitable in year 3:
    ..."`` or ``"have not paid back after 2 years: -$40 per customer"``."""
    years = table.height
    span = "1 year" if years == 1 else f"{years} years"
    ltv = fmt_money(float(table[LTV][-1]), currency, compact=False)
    paid = payback_year(table)
    if paid is None:
        return f"have not paid back after {span}: {ltv} per customer"
    after = f"LTV {ltv} per customer after {span}"
    if paid == 1:
        return f"paid back in their first year: {after}"
    return f"turned profitable in year {paid}: {after}"
