"""Executive overview: KPIs with deltas against the previous quarter, and the quarterly trend.

Everything is computed on one grid of quarterly period ends aligned to the as-of date,
``t_k = as_of - 3k months`` (``k = 0`` is now, ``k = 1`` the previous quarter end), so a
KPI, its previous-quarter value and the trend chart always agree.

Definitions (all amounts in the snapshot's currency):

* **active customer at t** - non-contractual: acquired on or before ``t`` with a purchase
  (positive amount) in the twelve months ending on ``t``; contractual: acquired on or
  before ``t`` and not churned by ``t``.
* **won / reactivated / lost in a quarter** - won: acquired in the quarter; reactivated:
  active at its end, not at the previous end and not won; lost: active at the previous
  end or won, and not active at its end. So ``active(k) = active(k+1) + won + reactivated
  - lost`` holds exactly.
* **annual retention** - of the customers active a year ago (``t_{k+4}``), the share
  active now; churn rate = 1 - retention.
* **revenue, gross profit (trailing 12 months)** - purchases net of refunds; gross profit
  subtracts the direct cost of sales.
* **margin per active customer** - (gross profit - service costs) over the trailing 12
  months divided by active customers: the yearly margin ``m`` of the retention formula.
* **average CLV (simple)** - ``m * r / (1 + d - r)`` (DOMAIN.md section 2) with ``r`` the
  annual retention and ``d`` the manifest's discount rate; customer equity = average CLV x
  active customers. Replaced by a fitted model's values when one is passed in.
* **LTV:CAC** - average CLV / average acquisition cost of customers won in the last
  twelve months; **payback** - that acquisition cost / (m / 12), in months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import polars as pl

from crm_core.data.expressions import add_months
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = [
    "ClvHeadline",
    "Kpi",
    "OverviewReport",
    "active_customers_lazy",
    "overview_report",
    "period_grid",
    "quarterly_trend",
]

Kind = Literal["money", "count", "pct", "ratio", "months"]

PERIOD = "period"
PERIOD_END = "period_end"
PERIOD_START = "period_start"
LABEL = "label"
ACTIVE = "active"
WON = "won"
REACTIVATED = "reactivated"
LOST = "lost"
REVENUE = "revenue"
GROSS_PROFIT = "gross_profit"
SERVICE_COST = "service_cost"
ACQUISITION_SPEND = "acquisition_spend"
ACTIVE_YEAR_AGO = "active_year_ago"
RETAINED = "retained_from_year_ago"


@dataclass(frozen=True)
class Kpi:
    """One KPI card: its value now and one quarter earlier.

    Attributes
    ----------
    key
        Stable identifier (``"active_customers"``), used by pages and tests.
    label
        Card title.
    value, previous
        Value at the as-of date and at the previous quarter end (``None`` when the data
        does not reach back far enough or the value is undefined).
    kind
        How to format it: money, count, pct (a fraction), ratio (a multiple) or months.
    help
        Definition shown in the card's tooltip.
    higher_is_better
        Whether a rise is good news (colours the delta).
    history
        The KPI at the last quarter ends, oldest first, ending with ``value`` (``None``
        where undefined): the card's sparkline.
    """

    key: str
    label: str
    value: float | None
    previous: float | None
    kind: Kind
    help: str
    higher_is_better: bool = True
    history: tuple[float | None, ...] = ()

    @property
    def delta(self) -> float | None:
        """Change since the previous quarter (same unit as the value), if both are known."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class ClvHeadline:
    """Customer equity from a CLV model, with the method's name (the Overview divides it by
    the active customers for the average CLV).

    Attributes
    ----------
    customer_equity
        Sum of CLV over the active customer base (currency).
    method
        Human-readable name of the model ("BG/NBD + Gamma-Gamma, 3-year horizon").
    customers
        Number of customers the model valued (the average is over them).
    """

    customer_equity: float | None
    method: str
    customers: int | None = None

    @classmethod
    def fitted(cls, snapshot: Snapshot) -> ClvHeadline:
        """Equity from :func:`crm_core.clv.customer_clv` (default horizon).

        Raises
        ------
        ValueError
            ``ModelFitError`` or ``SnapshotError`` when the model cannot be fitted.
        """
        from crm_core.clv import customer_clv

        result = customer_clv(snapshot)
        return cls(
            customer_equity=result.customer_equity,
            method=result.method,
            customers=result.table.height,
        )


@dataclass(frozen=True)
class OverviewReport:
    """Everything the Executive Overview shows.

    Attributes
    ----------
    company, currency, business_model
        From the manifest.
    as_of, previous_as_of
        The date described and the previous quarter end used for deltas.
    kpis
        The KPI cards, in display order.
    trend
        One row per quarter (oldest first): ``period_start, period_end, label, revenue,
        gross_profit, service_cost, acquisition_spend, won, reactivated, lost, active``.
    top_fraction, top_profit_share
        The headline: the top ``top_fraction`` of customers by trailing-12-month profit
        earn ``top_profit_share`` of it (``None`` when total profit is not positive).
    clv_method
        How average CLV and customer equity were computed.
    """

    company: str
    currency: str
    business_model: str
    as_of: date
    previous_as_of: date
    kpis: tuple[Kpi, ...]
    trend: pl.DataFrame
    top_fraction: float
    top_profit_share: float | None
    clv_method: str

    def kpi(self, key: str) -> Kpi:
        """The KPI with ``key`` (``KeyError`` if unknown)."""
        for k in self.kpis:
            if k.key == key:
                return k
        raise KeyError(key)


# ----------------------------------------------------------------------------- the grid


def period_grid(as_of: date, periods: int) -> pl.DataFrame:
    """Quarterly periods ending on ``as_of``: ``period`` (0 = latest), ``period_start``,
    ``period_end`` (inclusive) and a ``label`` such as ``"2026 Q3"`` (calendar quarter of
    the period end, or "3 months to 2026-08-15" when ``as_of`` is not a quarter end)."""
    if periods < 1:
        raise ValueError(f"periods must be at least 1, got {periods}")
    ends = [add_months(as_of, -3 * k) for k in range(periods + 1)]
    aligned = add_months(as_of, 1).replace(day=1) - timedelta(days=1) == as_of and (
        as_of.month % 3 == 0
    )
    rows = []
    for k in range(periods):
        end, start = ends[k], ends[k + 1] + timedelta(days=1)
        label = (
            f"{end.year} Q{(end.month - 1) // 3 + 1}"
            if aligned
            else f"3 months to {end.isoformat()}"
        )
        rows.append((k, start, end, label))
    return pl.DataFrame(
        rows,
        schema={PERIOD: pl.Int32, PERIOD_START: pl.Date, PERIOD_END: pl.Date, LABEL: pl.String},
        orient="row",
    )


def _assign_period(lf: pl.LazyFrame, column: str, grid: pl.DataFrame) -> pl.LazyFrame:
    """Add ``period`` (grid index whose window contains ``column``); rows outside are dropped."""
    return lf.with_columns(_period_of(column, grid).alias(PERIOD)).filter(
        pl.col(PERIOD).is_not_null()
    )


def _period_of(column: str, grid: pl.DataFrame) -> pl.Expr:
    """Index ``k`` of the grid period ``(t_{k+1}, t_k]`` containing the date ``column``;
    null before the grid; ``-1`` after ``as_of``.

    A binary search in the period ends, so no sort of the (possibly huge) data is needed.
    """
    n = grid.height
    ends = pl.Series(
        [grid[PERIOD_START][-1] - timedelta(days=1), *reversed(grid[PERIOD_END].to_list())]
    )
    i = pl.lit(ends).search_sorted(pl.col(column), side="left").cast(pl.Int32)
    return pl.when(i >= 1).then(n - i)


def _bits(k: pl.Expr) -> pl.Expr:
    """``2**k`` as an unsigned 32-bit mask (one bit per quarter; grids are at most 32 long)."""
    return pl.lit(2, pl.UInt32).pow(k.cast(pl.UInt32)).cast(pl.UInt32)


def _below(k: pl.Expr) -> pl.Expr:
    """Mask of bits ``0..k`` (``k = -1`` gives an empty mask)."""
    return (pl.lit(2, pl.UInt64).pow((k + 1).cast(pl.UInt32)) - 1).cast(pl.UInt32)


_MAX_PERIODS = 30


def activity_masks_lazy(snapshot: Snapshot, grid: pl.DataFrame) -> pl.LazyFrame:
    """Per customer, bit masks over the grid's periods (bit ``k`` = period ``k``).

    Columns: ``customer_id``, ``active`` (active at the period's end) and ``won``
    (acquired in the period). Non-contractual: a purchase in period ``p`` makes the
    customer active at the ends of periods ``p .. p-3`` (the twelve months after it), and
    never before acquisition; exact for periods whose three predecessors are also in the
    grid. Contractual: acquired on or before the end and not churned by it.
    """
    n = grid.height
    if n > _MAX_PERIODS:
        raise ValueError(f"a grid of at most {_MAX_PERIODS} quarters is supported, got {n}")
    full = (1 << n) - 1
    acquired = _period_of(C.acquired_on, grid)
    # acquired before the grid: active anywhere in it; inside: from its period on
    allowed = pl.when(acquired.is_null()).then(pl.lit(full, pl.UInt32)).otherwise(_below(acquired))
    won = pl.when(acquired >= 0).then(_bits(acquired)).otherwise(pl.lit(0, pl.UInt32))
    customers = snapshot.customers.select(
        C.customer_id,
        allowed.alias("_allowed"),
        won.alias("won"),
        *(
            [_period_of(C.churned_on, grid).alias("_churn"), pl.col(C.churned_on)]
            if snapshot.manifest.contractual
            else []
        ),
    )
    if snapshot.manifest.contractual:
        # churned in period c: inactive at the ends of periods c and later (k <= c)
        gone = (
            pl.when(pl.col(C.churned_on).is_null())
            .then(pl.lit(0, pl.UInt32))
            .when(pl.col("_churn").is_null())  # churned before the grid
            .then(pl.lit(full, pl.UInt32))
            .otherwise(_below(pl.col("_churn")))
        )
        active = pl.col("_allowed") & ~gone & pl.lit(full, pl.UInt32)
        return customers.select(C.customer_id, active.alias("active"), "won")
    bought = (
        snapshot.transactions.filter(pl.col(C.amount) > 0)
        .select(C.customer_id, _period_of(C.date, grid).alias("_p"))
        .filter(pl.col("_p") >= 0)
        .group_by(C.customer_id)
        .agg(_bits(pl.col("_p")).bitwise_or().alias("_bought"))
    )
    p = pl.col("_bought").fill_null(0)
    covered = p | (p // 2) | (p // 4) | (p // 8)
    active = covered & pl.col("_allowed") & pl.lit(full, pl.UInt32)
    return customers.join(bought, on=C.customer_id, how="left").select(
        C.customer_id, active.alias("active"), "won"
    )


def _bit(mask: pl.Expr, k: int) -> pl.Expr:
    return (mask // (1 << k)) % 2


def active_customers_lazy(snapshot: Snapshot, grid: pl.DataFrame) -> pl.LazyFrame:
    """Pairs ``(customer_id, period)`` where the customer is active at that period's end
    (definitions in :func:`activity_masks_lazy`)."""
    return (
        activity_masks_lazy(snapshot, grid)
        .select(C.customer_id, pl.col("active"), pl.int_ranges(0, grid.height).alias(PERIOD))
        .explode(PERIOD)
        .filter(((pl.col("active") // pl.lit(2, pl.UInt32).pow(pl.col(PERIOD))) % 2) == 1)
        .select(C.customer_id, pl.col(PERIOD).cast(pl.Int32))
    )


def quarterly_trend(snapshot: Snapshot, periods: int = 12) -> pl.LazyFrame:
    """Per quarter: revenue, gross profit, service cost, acquisition spend, customers won,
    reactivated, lost and active at the end, plus the year-ago retention counts.

    The last ``periods`` quarters are returned; eight more are computed internally (one
    for the previous quarter, four for the year-ago comparison, three so that activity
    from purchases before the oldest quarter counts) so every returned row is exact.
    Customer movements are counted on per-customer bit masks (one bit per quarter), so
    the cost grows with customers, not with customers x quarters.
    """
    grid = period_grid(snapshot.as_of, periods + 8)
    n = grid.height
    masks = activity_masks_lazy(snapshot, grid)
    now, won = pl.col("active"), pl.col("won")
    prev, year_ago = now // 2, now // 16  # bit k: active at the end of period k+1, k+4
    kinds = {
        ACTIVE: now,
        WON: won,
        REACTIVATED: now & ~prev & ~won,
        LOST: (prev | won) & ~now,
        ACTIVE_YEAR_AGO: year_ago,
        RETAINED: year_ago & now,
    }
    movements = (
        masks.select(
            [
                _bit(mask, k).sum().alias(f"{name}|{k}")
                for name, mask in kinds.items()
                for k in range(n)
            ]
        )
        .unpivot()
        .select(
            pl.col("variable").str.split_exact("|", 1).struct.rename_fields(["kind", "k"]),
            pl.col("value"),
        )
        .unnest("variable")
        .group_by(pl.col("k").cast(pl.Int32).alias(PERIOD))
        .agg(pl.col("value").filter(pl.col("kind") == name).first().alias(name) for name in kinds)
    )
    acquired = _assign_period(
        snapshot.customers.select(C.acquired_on, C.acquisition_cost), C.acquired_on, grid
    )
    money = (
        _assign_period(snapshot.transactions.select(C.date, C.amount, C.cost), C.date, grid)
        .group_by(PERIOD)
        .agg(
            pl.col(C.amount).sum().alias(REVENUE),
            (pl.col(C.amount) - pl.col(C.cost)).sum().alias(GROSS_PROFIT),
        )
    )
    service = (
        _assign_period(snapshot.service_costs.select(C.date, C.cost), C.date, grid)
        .group_by(PERIOD)
        .agg(pl.col(C.cost).sum().alias(SERVICE_COST))
    )
    acquisition = acquired.group_by(PERIOD).agg(
        pl.col(C.acquisition_cost).sum().alias(ACQUISITION_SPEND)
    )
    first_activity = _first_activity(snapshot)
    return (
        grid.lazy()
        .join(movements, on=PERIOD, how="left")
        .join(money, on=PERIOD, how="left")
        .join(service, on=PERIOD, how="left")
        .join(acquisition, on=PERIOD, how="left")
        .join(first_activity, how="cross")
        # drop quarters that end before the company's first recorded activity
        .filter(pl.col(PERIOD_END) >= pl.col("_first"))
        .drop("_first")
        .with_columns(
            pl.col(ACTIVE, WON, REACTIVATED, LOST, ACTIVE_YEAR_AGO, RETAINED)
            .fill_null(0)
            .cast(pl.Int64),
            pl.col(REVENUE, GROSS_PROFIT, SERVICE_COST, ACQUISITION_SPEND).fill_null(0.0),
        )
        .filter(pl.col(PERIOD).is_between(0, periods - 1))
        .sort(PERIOD, descending=True)
    )


def _first_activity(snapshot: Snapshot) -> pl.LazyFrame:
    return pl.concat(
        [
            snapshot.customers.select(pl.col(C.acquired_on).min().alias("_first")),
            snapshot.transactions.select(pl.col(C.date).min().alias("_first")),
        ]
    ).select(pl.col("_first").min())


# ----------------------------------------------------------------------------- KPIs


def _window_sum(trend: pl.DataFrame, column: str, k: int) -> float | None:
    """Sum of ``column`` over periods k..k+3 (twelve months), if all four exist."""
    rows = trend.filter(pl.col(PERIOD).is_between(k, k + 3))
    return float(rows[column].sum()) if rows.height == 4 else None


def _value(trend: pl.DataFrame, column: str, k: int) -> float | None:
    rows = trend.filter(pl.col(PERIOD) == k)
    return float(rows[column][0]) if rows.height else None


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _kpi_values(trend: pl.DataFrame, k: int, discount_rate: float) -> dict[str, float | None]:
    active = _value(trend, ACTIVE, k)
    year_ago = _value(trend, ACTIVE_YEAR_AGO, k)
    retention = _div(_value(trend, RETAINED, k), year_ago)
    revenue = _window_sum(trend, REVENUE, k)
    gross = _window_sum(trend, GROSS_PROFIT, k)
    service = _window_sum(trend, SERVICE_COST, k)
    won = _window_sum(trend, WON, k)
    cac = _div(_window_sum(trend, ACQUISITION_SPEND, k), won)
    margin = _div(None if gross is None or service is None else gross - service, active)
    clv = None
    if margin is not None and retention is not None:
        clv = margin * retention / (1 + discount_rate - retention)
    return {
        "active_customers": active,
        "revenue_ttm": revenue,
        "gross_profit_ttm": gross,
        "retention": retention,
        "churn": None if retention is None else 1 - retention,
        "new_customers": won,
        "acquisition_cost": cac,
        "margin_per_customer": margin,
        "average_clv": clv,
        "customer_equity": None if clv is None or active is None else clv * active,
        "ltv_cac": _div(clv, cac),
        "payback_months": _div(cac, None if margin is None or margin <= 0 else margin / 12),
    }


_KPI_SPECS: tuple[tuple[str, str, Kind, bool, str], ...] = (
    (
        "active_customers",
        "Active customers",
        "count",
        True,
        "Customers with a purchase in the last 12 months (subscriptions: under contract "
        "at the date).",
    ),
    (
        "revenue_ttm",
        "Revenue (12 months)",
        "money",
        True,
        "Purchases net of refunds over the trailing twelve months.",
    ),
    (
        "gross_profit_ttm",
        "Gross profit (12 months)",
        "money",
        True,
        "Revenue minus the direct cost of the sales, trailing twelve months.",
    ),
    (
        "retention",
        "Annual retention",
        "pct",
        True,
        "Of the customers active a year ago, the share still active today.",
    ),
    (
        "churn",
        "Annual churn rate",
        "pct",
        False,
        "1 - annual retention: the share of last year's active customers no longer active.",
    ),
    (
        "new_customers",
        "New customers (12 months)",
        "count",
        True,
        "Customers acquired in the trailing twelve months.",
    ),
    (
        "acquisition_cost",
        "Average acquisition cost",
        "money",
        False,
        "Acquisition spend of the last twelve months divided by the customers it won (CAC).",
    ),
    (
        "average_clv",
        "CLV per active customer",
        "money",
        True,
        "Customer equity divided by the active customers: what an active customer is "
        "worth in expected, discounted future margin.",
    ),
    (
        "customer_equity",
        "Customer equity",
        "money",
        True,
        "Sum of CLV over today's customers: what the current customer base is worth. "
        "New customers still to be won are not included (the What-if page adds them).",
    ),
    (
        "ltv_cac",
        "LTV : CAC",
        "ratio",
        True,
        "Average CLV divided by average acquisition cost; above 3x is usually healthy.",
    ),
    (
        "payback_months",
        "CAC payback",
        "months",
        False,
        "Months of average margin needed to earn back the acquisition cost.",
    ),
)


def overview_report(
    snapshot: Snapshot,
    *,
    periods: int = 12,
    clv: ClvHeadline | None = None,
    previous_clv: ClvHeadline | None = None,
    clv_model: bool = True,
    top_fraction: float = 0.10,
    history: int = 8,
) -> OverviewReport:
    """Compute the Executive Overview of ``snapshot``.

    Parameters
    ----------
    snapshot
        The company's data.
    periods
        Quarters shown in the trend (the KPIs need at least eight quarters of history for
        their year-ago comparisons and previous-quarter deltas).
    clv, previous_clv
        CLV model results at the as-of date and at the previous quarter end; when given,
        they replace the simple retention formula for average CLV, equity and LTV:CAC.
    clv_model
        When ``clv`` is not given, fit the CLV model (:meth:`ClvHeadline.fitted`) at both
        dates; if it cannot be fitted, the simple formula is used and the method says why.
    top_fraction
        Share of customers in the profit headline (0.10: "the top 10% earn ...").
    history
        Quarters of KPI history kept for the cards' sparklines.
    """
    from crm_core.segments.profit import PROFIT, customer_profit_lazy
    from crm_core.segments.report import top_share

    trend = quarterly_trend(snapshot, periods=max(periods, history + 4)).collect()
    d = snapshot.manifest.discount_rate
    past = [_kpi_values(trend, k, d) for k in range(history - 1, -1, -1)]  # oldest first
    now, before = past[-1], past[-2]
    method = "Simple retention formula m·r/(1+d−r)"
    if clv is None and clv_model:
        try:
            clv = ClvHeadline.fitted(snapshot)
        except ValueError as exc:
            method += f" (the CLV model could not be fitted: {exc})"
        else:
            try:
                previous_clv = ClvHeadline.fitted(snapshot.cut(add_months(snapshot.as_of, -3)))
            except ValueError:
                previous_clv = None  # no delta rather than a misleading one
    valued = (
        f" The model values {clv.customers:,} customers (lapsed ones weighted by their "
        "small chance of still being active)."
        if clv is not None and clv.customers
        else ""
    )
    if clv is not None:
        method = clv.method
        for values, model in ((now, clv), (before, previous_clv)):
            equity = None if model is None else model.customer_equity
            values["customer_equity"] = equity
            values["average_clv"] = _div(equity, values["active_customers"])
            values["ltv_cac"] = _div(values["average_clv"], values["acquisition_cost"])
        for values in past[:-2]:  # model results exist for the two dates only
            values["average_clv"] = values["customer_equity"] = values["ltv_cac"] = None
    kpis = tuple(
        Kpi(
            key,
            label,
            now[key],
            before[key],
            kind,
            help_
            + (f" Method: {method}." if key in {"average_clv", "customer_equity"} else "")
            + (valued if key == "customer_equity" else ""),
            better,
            tuple(values[key] for values in past),
        )
        for key, label, kind, better, help_ in _KPI_SPECS
    )
    profits = customer_profit_lazy(snapshot).select(PROFIT).collect()[PROFIT]
    return OverviewReport(
        company=snapshot.manifest.company,
        currency=snapshot.currency,
        business_model=snapshot.manifest.business_model,
        as_of=snapshot.as_of,
        previous_as_of=add_months(snapshot.as_of, -3),
        kpis=kpis,
        trend=trend.filter(pl.col(PERIOD) < periods).select(
            PERIOD_START,
            PERIOD_END,
            LABEL,
            REVENUE,
            GROSS_PROFIT,
            SERVICE_COST,
            ACQUISITION_SPEND,
            WON,
            REACTIVATED,
            LOST,
            ACTIVE,
        ),
        top_fraction=top_fraction,
        top_profit_share=top_share(profits, top_fraction),
        clv_method=method,
    )
