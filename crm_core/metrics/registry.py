"""Every company metric the product shows, declared once: name, unit, definition, function.

A :class:`Metric` is computed from :class:`MetricInputs` (the customer ledger's quarterly
totals and the CLV valuations of the fitted model set) at a quarter end ``q`` (0 = the
as-of date, 1 = the previous quarter end, 4 = a year earlier). Pages, the CLI and the
deck read :func:`kpis` (or :func:`metric_value`); none computes a metric itself, so a
number is the same wherever it appears. Amounts are in the snapshot's currency.

Names that look alike but measure different things are different metrics, and their
definitions say how they relate: *customer equity* (the current base valued by the fitted
CLV model) versus the What-if page's *equity with new customers*; *CLV per active
customer* (equity over active customers) versus the Customer value page's *average CLV per
customer valued* (equity over every customer the model values, lapsed ones included);
*churned revenue* (revenue movements, :mod:`crm_core.metrics.movements`) versus the
activity rule's *churned* customers and *annual churn rate*.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from crm_core.clv.valuation import DEFAULT_HORIZON_YEARS, ClvResult
from crm_core.data.ledger import CHURNED, DECLINING, GROWING, MATURE, NEW, Ledger
from crm_core.data.rules import DEFAULT_ACTIVITY, DEFAULT_STAGES, ActivityRule, StageRules
from crm_core.metrics import movements as mv
from crm_core.metrics.profit import PROFIT, customer_profit, top_share
from crm_core.metrics.quarters import (
    ACQUISITION_SPEND,
    ACTIVE,
    ACTIVE_YEAR_AGO,
    GROSS_PROFIT,
    QUARTER,
    RETAINED,
    REVENUE,
    SERVICE_COST,
    WON,
    company_quarters,
    stage_column,
)

__all__ = [
    "KPI_KEYS",
    "METRICS",
    "TOP_FRACTION",
    "Kind",
    "Kpi",
    "Metric",
    "MetricInputs",
    "kpis",
    "metric_inputs",
    "metric_value",
]

Kind = Literal["money", "count", "pct", "ratio", "months"]


@dataclass(frozen=True)
class MetricInputs:
    """What every company metric is computed from, once per snapshot and date.

    Attributes
    ----------
    ledger
        The customer ledger.
    quarters
        :func:`crm_core.metrics.quarters.company_quarters` of the ledger.
    clv
        CLV valuations (:func:`crm_core.clv.valuation.value` of the model set fitted at
        that quarter end) by quarter index; quarters without one have no CLV metrics.
    clv_note
        Why CLV metrics are missing, when the model could not be fitted.
    movements
        :func:`crm_core.metrics.movements.quarter_movements` of the ledger (growth metrics).
    """

    ledger: Ledger
    quarters: pl.DataFrame
    clv: Mapping[int, ClvResult] = field(default_factory=dict)
    clv_note: str | None = None
    movements: pl.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.movements is None:
            object.__setattr__(self, "movements", mv.quarter_movements(self.ledger))

    @property
    def discount_rate(self) -> float:
        """The manifest's yearly discount rate."""
        return self.ledger.snapshot.manifest.discount_rate


def metric_inputs(
    ledger: Ledger, clv: Mapping[int, ClvResult] | None = None, clv_note: str | None = None
) -> MetricInputs:
    """:class:`MetricInputs` of ``ledger`` with the given valuations."""
    return MetricInputs(ledger, company_quarters(ledger), dict(clv or {}), clv_note)


# ----------------------------------------------------------------------------- building blocks


def _at(m: MetricInputs, column: str, q: int) -> float | None:
    rows = m.quarters.filter(pl.col(QUARTER) == q)
    return float(rows[column][0]) if rows.height else None


def _year(m: MetricInputs, column: str, q: int) -> float | None:
    """Sum over the four quarters ``q .. q + 3`` (twelve months), if all exist."""
    rows = m.quarters.filter(pl.col(QUARTER).is_between(q, q + 3))
    return float(rows[column].sum()) if rows.height == 4 else None


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def active_customers(m: MetricInputs, q: int) -> float | None:
    return _at(m, ACTIVE, q)


def revenue_ttm(m: MetricInputs, q: int) -> float | None:
    return _year(m, REVENUE, q)


def gross_profit_ttm(m: MetricInputs, q: int) -> float | None:
    return _year(m, GROSS_PROFIT, q)


def contribution_ttm(m: MetricInputs, q: int) -> float | None:
    gross, service = _year(m, GROSS_PROFIT, q), _year(m, SERVICE_COST, q)
    return None if gross is None or service is None else gross - service


def retention(m: MetricInputs, q: int) -> float | None:
    return _div(_at(m, RETAINED, q), _at(m, ACTIVE_YEAR_AGO, q))


def churn(m: MetricInputs, q: int) -> float | None:
    r = retention(m, q)
    return None if r is None else 1 - r


def new_customers_ttm(m: MetricInputs, q: int) -> float | None:
    return _year(m, WON, q)


def acquisition_cost(m: MetricInputs, q: int) -> float | None:
    return _div(_year(m, ACQUISITION_SPEND, q), _year(m, WON, q))


def margin_per_customer(m: MetricInputs, q: int) -> float | None:
    return _div(contribution_ttm(m, q), active_customers(m, q))


def customer_equity(m: MetricInputs, q: int) -> float | None:
    result = m.clv.get(q)
    return None if result is None else result.customer_equity


def average_clv(m: MetricInputs, q: int) -> float | None:
    return _div(customer_equity(m, q), active_customers(m, q))


def ltv_cac(m: MetricInputs, q: int) -> float | None:
    return _div(average_clv(m, q), acquisition_cost(m, q))


def payback_months(m: MetricInputs, q: int) -> float | None:
    margin = margin_per_customer(m, q)
    return _div(acquisition_cost(m, q), None if margin is None or margin <= 0 else margin / 12)


def _growth(
    measure: Callable[..., float | None], *args: object, **kwargs: object
) -> Callable[[MetricInputs, int], float | None]:
    """A growth measure of :mod:`crm_core.metrics.movements` read off the inputs."""

    def compute(m: MetricInputs, q: int) -> float | None:
        return measure(m.movements, q, *args, **kwargs)

    return compute


TOP_FRACTION = 0.10
"""The share of customers in the profit-concentration headline ("the top 10% earn ...")."""


def top_profit_share(m: MetricInputs, q: int) -> float | None:
    if m.quarters.filter(pl.col(QUARTER).is_between(q, q + 3)).height < 4:
        return None  # twelve months to quarter q are not all in the history
    profits = customer_profit(m.ledger, 12, quarter=q).select(PROFIT).collect()[PROFIT]
    return top_share(profits, TOP_FRACTION)


def _stage(stage: str) -> Callable[[MetricInputs, int], float | None]:
    def count(m: MetricInputs, q: int) -> float | None:
        return _at(m, stage_column(stage), q)

    return count


# ----------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Metric:
    """One metric: its name, unit, definition and the function that computes it.

    Attributes
    ----------
    key
        Stable identifier (``"active_customers"``), used by pages, the CLI and tests.
    label
        Name shown to users (card titles, table headers, the deck).
    kind
        Unit: money (snapshot currency), count, pct (a fraction), ratio (a multiple) or
        months.
    definition
        One sentence: the tooltip and the deck's appendix.
    compute
        ``compute(inputs, q)`` -> the value at quarter end ``q`` (``None`` when undefined).
    higher_is_better
        Whether a rise is good news (colours deltas).
    """

    key: str
    label: str
    kind: Kind
    definition: str
    compute: Callable[[MetricInputs, int], float | None]
    higher_is_better: bool = True


_THEN = (
    "in the same quarter a year earlier (subscriptions: MRR, month on month, summed over the "
    "quarter)"
)


def _registry(activity: ActivityRule, stages: StageRules) -> dict[str, Metric]:
    horizon = f"{DEFAULT_HORIZON_YEARS:g}-year"
    rows = [
        Metric("active_customers", "Active customers", "count",
               f"{activity.definition(contractual=False)} Subscriptions: under contract at "
               "the date.", active_customers),
        Metric("revenue_ttm", "Revenue (12 months)", "money",
               "Purchases net of refunds over the trailing twelve months.", revenue_ttm),
        Metric("gross_profit_ttm", "Gross profit (12 months)", "money",
               "Revenue minus the direct cost of the sales, trailing twelve months.",
               gross_profit_ttm),
        Metric("retention", "Annual retention", "pct",
               "Of the customers active a year ago, the share still active today.", retention),
        Metric("churn", "Annual churn rate", "pct",
               "1 - annual retention: the share of last year's active customers no longer "
               "active.", churn, higher_is_better=False),
        Metric("new_customers", "New customers (12 months)", "count",
               "Customers acquired in the trailing twelve months.", new_customers_ttm),
        Metric("acquisition_cost", "Average acquisition cost", "money",
               "Acquisition spend of the last twelve months divided by the customers it won "
               "(CAC).", acquisition_cost, higher_is_better=False),
        Metric("margin_per_customer", "Margin per active customer", "money",
               "Revenue minus direct cost and cost to serve over the last twelve months, "
               "divided by the active customers: the yearly margin m of the retention "
               "formula.", margin_per_customer),
        Metric("average_clv", "CLV per active customer", "money",
               "Customer equity divided by the active customers: what an active customer is "
               f"worth in expected, discounted future margin ({horizon} horizon).",
               average_clv),
        Metric("customer_equity", "Customer equity", "money",
               f"Sum of the fitted CLV ({horizon} horizon) over today's customers, lapsed "
               "ones weighted by their small chance of still being active: what the current "
               "base is worth. Customers still to be won are not included (the What-if page "
               "adds them).", customer_equity),
        Metric("ltv_cac", "LTV : CAC", "ratio",
               "CLV per active customer divided by the average acquisition cost; above 3x "
               "is usually healthy.", ltv_cac),
        Metric("payback_months", "CAC payback", "months",
               "Months of margin per active customer needed to earn back the average "
               "acquisition cost.", payback_months, higher_is_better=False),
        Metric("top_profit_share", f"Profit share of the top {TOP_FRACTION:.0%}", "pct",
               f"The most profitable {TOP_FRACTION:.0%} of the customers dealt with in the "
               "last 12 months, ranked by revenue minus direct cost, cost to serve and the "
               "acquisition cost of customers won in the period, earn this share of that "
               "profit.", top_profit_share),
        Metric("stage_new", "New", "count",
               f"Active customers acquired less than {stages.new_days} days ago "
               "(exploration).", _stage(NEW)),
        Metric("stage_growing", "Growing", "count",
               "Active customers whose spend is rising, or acquired less than "
               f"{stages.mature_days} days ago (formation).", _stage(GROWING)),
        Metric("stage_mature", "Mature", "count",
               f"Active customers acquired at least {stages.mature_days} days ago with steady "
               "spend (stability).", _stage(MATURE)),
        Metric("stage_declining", "Declining", "count",
               "Active customers overdue against their usual rhythm, or whose spend fell by "
               f"more than {stages.decline_drop:.0%} (decline: the early warning).",
               _stage(DECLINING), higher_is_better=False),
        Metric("stage_churned", "Churned", "count",
               "Customers ever acquired who are not active any more.", _stage(CHURNED),
               higher_is_better=False),
        Metric("nrr", "Net revenue retention", "pct",
               "Revenue now of last year's customers over their revenue then: (then + "
               "expansion - contraction - churned revenue) / then, this quarter against the "
               "same quarter a year earlier (subscriptions: MRR against the same month). New "
               "and reactivated customers are left out.", _growth(mv.net_revenue_retention)),
        Metric("grr", "Gross revenue retention", "pct",
               "Net revenue retention without expansion; at most 100%.",
               _growth(mv.gross_revenue_retention)),
        Metric("quick_ratio", "Quick ratio", "ratio",
               "(New + expansion + reactivation revenue) / (contraction + churned revenue) of "
               "the quarter; above 1x revenue grows.", _growth(mv.quick_ratio)),
        Metric("new_revenue", "Revenue from new customers", "money",
               "Revenue of the quarter from customers won since the same quarter a year "
               "earlier (subscriptions: MRR of customers won in its months).",
               _growth(mv.movement_total, mv.NEW)),
        Metric("expansion_revenue", "Expansion revenue", "money",
               f"Revenue gained from customers spending more than {_THEN}.",
               _growth(mv.movement_total, mv.EXPANSION)),
        Metric("reactivation_revenue", "Reactivation revenue", "money",
               f"Revenue from existing customers with none {_THEN}.",
               _growth(mv.movement_total, mv.REACTIVATION)),
        Metric("contraction_revenue", "Contraction revenue", "money",
               f"Revenue lost from customers spending less (but something) than {_THEN}; a "
               "positive amount.", _growth(mv.movement_total, mv.CONTRACTION, lost=True),
               higher_is_better=False),
        Metric("churned_revenue", "Churned revenue", "money",
               f"Revenue lost from customers with revenue {_THEN} and none now; a positive "
               "amount. Not the activity rule's churn: most retail customers who skip a "
               "quarter are still active.",
               _growth(mv.movement_total, mv.CHURNED, lost=True), higher_is_better=False),
        Metric("mrr", "MRR", "money",
               "Monthly recurring revenue (subscriptions): net revenue of the quarter's last "
               "month from customers under contract at its end, add-ons included.",
               _growth(mv.recurring_revenue)),
        Metric("arr", "ARR", "money", "Annual recurring revenue (subscriptions): 12 x MRR.",
               _growth(mv.recurring_revenue, months=12)),
    ]  # fmt: skip
    return {m.key: m for m in rows}


METRICS: dict[str, Metric] = _registry(DEFAULT_ACTIVITY, DEFAULT_STAGES)
"""Every company metric, by key, in display order."""

KPI_KEYS: tuple[str, ...] = (
    "active_customers", "revenue_ttm", "gross_profit_ttm", "retention", "churn",
    "new_customers", "acquisition_cost", "average_clv", "customer_equity", "ltv_cac",
    "payback_months",
)  # fmt: skip
"""The Executive overview's KPI cards, in order."""


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Kpi:
    """A metric's value now, a quarter and a year earlier, and its recent history.

    Attributes
    ----------
    key, label, kind, help, higher_is_better
        From the :class:`Metric` (``help`` is its definition, plus any note).
    value, previous, year_ago
        At the as-of date, the previous quarter end and four quarters earlier (``None``
        where undefined or the data does not reach back far enough).
    history
        The values at the last quarter ends, oldest first, ending with ``value``.
    """

    key: str
    label: str
    value: float | None
    previous: float | None
    kind: Kind
    help: str
    higher_is_better: bool = True
    history: tuple[float | None, ...] = ()
    year_ago: float | None = None

    @property
    def delta(self) -> float | None:
        """Change since the previous quarter (same unit as the value), if both are known."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def year_delta(self) -> float | None:
        """Change since four quarters earlier (same unit as the value), if both are known."""
        if self.value is None or self.year_ago is None:
            return None
        return self.value - self.year_ago


def metric_value(inputs: MetricInputs, key: str, q: int = 0) -> float | None:
    """The value of metric ``key`` at quarter end ``q`` (``KeyError`` for an unknown key)."""
    return METRICS[key].compute(inputs, q)


def kpis(
    inputs: MetricInputs,
    keys: tuple[str, ...] = KPI_KEYS,
    *,
    history: int = 8,
    notes: Mapping[str, str] | None = None,
) -> tuple[Kpi, ...]:
    """The metrics ``keys`` as cards: value, previous quarter, a year ago and history."""
    out = []
    for key in keys:
        metric = METRICS[key]
        past = tuple(metric.compute(inputs, q) for q in range(history - 1, -1, -1))
        extra = (notes or {}).get(key)
        out.append(
            Kpi(
                key=key,
                label=metric.label,
                value=past[-1],
                previous=past[-2] if history > 1 else metric.compute(inputs, 1),
                kind=metric.kind,
                help=metric.definition + (f" {extra}" if extra else ""),
                higher_is_better=metric.higher_is_better,
                history=past,
                year_ago=metric.compute(inputs, 4),
            )
        )
    return tuple(out)
