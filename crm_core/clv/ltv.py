"""The year-by-year lifetime value (LTV) table of a cohort (DOMAIN.md, section 3).

For a cohort acquired in year 1, each row ``t`` shows the customers remaining, the
retention rate, spend per customer, total revenue, the cost ratio, total costs (the
acquisition cost is charged in year 1), gross profit, the discount factor
``(1 + d)^-(t - 1)`` (year 1 undiscounted; pass a risk-adjusted rate as ``d`` to allow for
risk), the NPV of the profit, the cumulative NPV and the LTV per original customer
(cumulative NPV / cohort size). Acquisition is not profitable by itself: the
:func:`payback_year` is the first year the cumulative NPV turns positive.

:func:`ltv_table` builds the table from planning assumptions; :func:`ltv_table_from_cohort`
from an actual acquisition cohort of a snapshot. Both share one builder, so a column means
the same in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from crm_core.clv._dates import completed_months, shifted
from crm_core.clv.summary import purchase_days
from crm_core.data.expressions import add_months
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
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

LTV_COLUMNS = (
    YEAR,
    CUSTOMERS,
    RETENTION,
    SPEND,
    REVENUE,
    COST_RATIO,
    ACQUISITION,
    TOTAL_COSTS,
    GROSS_PROFIT,
    DISCOUNT_FACTOR,
    NPV_PROFIT,
    CUMULATIVE_NPV,
    LTV,
)
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


def _as_day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _year_index(event: str, start: str) -> pl.Expr:
    """Customer-relative year (1 = first twelve calendar months from ``start``)."""
    return (completed_months(pl.col(event), pl.col(start)) // 12 + 1).alias(YEAR)


def cohort_years_observed(snapshot: Snapshot, cohort_end: date | str) -> int:
    """Whole years since acquisition observed for every customer acquired by ``cohort_end``."""
    end = _as_day(cohort_end)
    years = 0
    while add_months(end, 12 * (years + 1)) - timedelta(days=1) <= snapshot.as_of:
        years += 1
    return years


def ltv_table_from_cohort(
    snapshot: Snapshot,
    cohort_start: date | str,
    cohort_end: date | str,
    years: int,
    discount_rate: float | None = None,
) -> pl.DataFrame:
    """The observed LTV table of the customers acquired from ``cohort_start`` to
    ``cohort_end`` (inclusive).

    Years are counted per customer from their acquisition date (year 1 = the first twelve
    calendar months). Per year:

    * customers remaining: year 1 the whole cohort; later years, for a non-contractual
      business the customers with at least one purchase day in that year (see
      :func:`crm_core.summary.purchase_days`), for a contractual one those whose contract
      is still running at the start of the year (``churned_on`` empty or later);
    * revenue: net amount of the cohort's transactions in that year (refunds included);
    * total costs: direct cost of those transactions plus service costs (all touchpoints),
      plus the cohort's acquisition costs in year 1; the cost ratio excludes acquisition;
    * retention rate: customers remaining next year / this year (empty for the last row
      when the next year is not fully observed).

    Parameters
    ----------
    snapshot
        The company's data.
    cohort_start, cohort_end
        Acquisition dates of the cohort (inclusive).
    years
        Rows of the table; every cohort member must be observed for that many whole years
        (see :func:`cohort_years_observed`).
    discount_rate
        Yearly discount rate; defaults to the snapshot's manifest.

    Raises
    ------
    ValueError
        If the cohort is empty, the dates are reversed, or ``years`` exceeds what the
        snapshot observes for the whole cohort.
    """
    start, end = _as_day(cohort_start), _as_day(cohort_end)
    if start > end:
        raise ValueError(f"cohort_start {start} lies after cohort_end {end}")
    if int(years) != years or years < 1:
        raise ValueError(f"years must be a whole number >= 1, got {years!r}")
    years = int(years)
    observed = cohort_years_observed(snapshot, end)
    if years > observed:
        raise ValueError(
            f"customers acquired up to {end} are observed for {observed} whole year(s) as "
            f"of {snapshot.as_of}; asked for {years}"
        )
    d = _check_rate(snapshot.manifest.discount_rate if discount_rate is None else discount_rate)
    rows = years + 1 if observed > years else years  # one more year gives the last retention

    cohort = (
        snapshot.customers.filter(pl.col(C.acquired_on).is_between(pl.lit(start), pl.lit(end)))
        .select(C.customer_id, C.acquired_on, C.acquisition_cost, C.churned_on)
        .collect()
    )
    n0 = cohort.height
    if n0 == 0:
        raise ValueError(f"no customers were acquired between {start} and {end}")
    members = cohort.lazy().select(C.customer_id, C.acquired_on)

    def by_year(frame: pl.LazyFrame, *aggs: pl.Expr) -> pl.LazyFrame:
        return (
            frame.join(members, on=C.customer_id, how="inner")
            .with_columns(_year_index(C.date, C.acquired_on))
            .filter(pl.col(YEAR).is_between(1, rows))
            .group_by(YEAR)
            .agg(*aggs)
        )

    grid = pl.LazyFrame({YEAR: np.arange(1, rows + 1, dtype=np.int64)})
    money = by_year(
        snapshot.transactions,
        pl.col(C.amount).sum().alias(REVENUE),
        pl.col(C.cost).sum().alias("_direct"),
    )
    service = by_year(snapshot.service_costs, pl.col(C.cost).sum().alias("_service"))
    if snapshot.manifest.contractual:
        counts = [
            cohort.select(
                (
                    pl.col(C.churned_on).is_null()
                    | (pl.col(C.churned_on) > shifted(pl.col(C.acquired_on), pl.lit(12 * k)))
                ).sum()
            ).item()
            for k in range(rows)
        ]
        active = pl.LazyFrame(
            {
                YEAR: np.arange(1, rows + 1, dtype=np.int64),
                CUSTOMERS: np.asarray(counts, dtype=np.float64),
            }
        )
    else:
        active = by_year(
            purchase_days(snapshot.transactions),
            pl.col(C.customer_id).n_unique().cast(pl.Float64).alias(CUSTOMERS),
        )
    acquisition = float(cohort[C.acquisition_cost].sum())
    base = (
        grid.join(active, on=YEAR, how="left")
        .join(money, on=YEAR, how="left")
        .join(service, on=YEAR, how="left")
        .with_columns(
            pl.when(pl.col(YEAR) == 1)
            .then(pl.lit(float(n0)))
            .otherwise(pl.col(CUSTOMERS).fill_null(0.0))
            .alias(CUSTOMERS),
            pl.col(REVENUE).fill_null(0.0),
            (pl.col("_direct").fill_null(0.0) + pl.col("_service").fill_null(0.0)).alias(
                _OPERATING
            ),
            pl.when(pl.col(YEAR) == 1).then(acquisition).otherwise(0.0).alias(ACQUISITION),
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


@dataclass(frozen=True)
class Cohort:
    """Customers acquired from ``start`` to ``end`` (inclusive), observed for ``years``
    whole years after the last of them was acquired."""

    start: date
    end: date
    years: int
    customers: int

    @property
    def label(self) -> str:
        """``"acquired Oct 2023 – Sep 2024"``."""
        return f"acquired {self.start:%b %Y} – {self.end:%b %Y}"


def cohort_choices(snapshot: Snapshot) -> list[Cohort]:
    """Yearly acquisition cohorts with at least one whole year observed, most observed first.

    Cohort ``k`` (``k = 1, 2, ...``) holds the customers acquired in the twelve months
    ending ``12 k`` months before as-of, so every one of them is observed for ``k`` whole
    years (:func:`cohort_years_observed`). Empty cohorts are left out.
    """
    acquired = snapshot.customers.select(C.acquired_on).collect()[C.acquired_on]
    first = acquired.min()
    out = []
    k = 1
    while first is not None:
        end = add_months(snapshot.as_of, -12 * k)
        if end < first:  # type: ignore[operator]
            break
        start = max(add_months(end, -12) + timedelta(days=1), first)  # type: ignore[type-var]
        n = int(acquired.is_between(start, end).sum())
        if n:
            out.append(Cohort(start, end, cohort_years_observed(snapshot, end), n))
        k += 1
    return out[::-1]


# ---------------------------------------------------------------------- in words


def ltv_table_text(table: pl.DataFrame, currency: str = "USD") -> pl.DataFrame:
    """An LTV table laid out as in the seeds, for reading: one row per measure (in words,
    column ``Measure``), one column per year (``Year 1``, ...), values formatted with
    :mod:`crm_core.formatting` (money compact, LTV to the cent, rates in percent, ``n/a``
    where unknown, e.g. the last retention rate when the next year is not observed)."""
    formats = {
        CUSTOMERS: lambda v: fmt_count(round(v, 1), compact=False),
        RETENTION: lambda v: fmt_pct(v, digits=1),
        COST_RATIO: lambda v: fmt_pct(v, digits=1),
        DISCOUNT_FACTOR: lambda v: "n/a" if v is None else f"{v:.3f}",
        LTV: lambda v: fmt_money(v, currency, compact=False),
    }
    money = {SPEND, REVENUE, ACQUISITION, TOTAL_COSTS, GROSS_PROFIT, NPV_PROFIT,
             CUMULATIVE_NPV}  # fmt: skip
    columns: dict[str, list[str]] = {"Measure": [LTV_LABELS[c] for c in LTV_COLUMNS[1:]]}
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
