"""Executive overview: KPIs with changes against the previous quarter and a year earlier,
and the quarterly trend.

Every number comes from the metric registry (:mod:`crm_core.metrics.registry`) computed on
the customer ledger and the fitted CLV model set, so the Overview, the other pages, the
CLI and the deck agree. The KPI history and the trend use the quarter ends
``t_q = as_of - 3q months``; CLV metrics exist at the dates a model set was fitted for
(the as-of date and the previous quarter end, and four quarters back when the inputs
carry that valuation, for the year-on-year changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.expressions import add_months
from crm_core.metrics.quarters import (
    ACQUISITION_SPEND,
    ACTIVE,
    GROSS_PROFIT,
    LOST,
    QUARTER,
    REACTIVATED,
    REVENUE,
    SERVICE_COST,
    WON,
)
from crm_core.metrics.registry import (
    KPI_KEYS,
    TOP_FRACTION,
    Kpi,
    MetricInputs,
    kpis,
    metric_value,
)

__all__ = ["OverviewReport", "overview_report"]

TREND_COLUMNS = (
    "period_start",
    "period_end",
    "label",
    REVENUE,
    GROSS_PROFIT,
    SERVICE_COST,
    ACQUISITION_SPEND,
    WON,
    REACTIVATED,
    LOST,
    ACTIVE,
)


@dataclass(frozen=True)
class OverviewReport:
    """Everything the Executive Overview shows.

    Attributes
    ----------
    company, currency, business_model
        From the manifest.
    as_of, previous_as_of, year_ago_as_of
        The date described, the previous quarter end and the date four quarters earlier
        (the two dates changes are measured against).
    kpis
        The KPI cards, in display order.
    trend
        One row per quarter (oldest first): ``period_start, period_end, label, revenue,
        gross_profit, service_cost, acquisition_spend, won, reactivated, lost, active``.
    top_fraction, top_profit_share
        The headline: the top ``top_fraction`` of customers by trailing-12-month profit
        earn ``top_profit_share`` of it (``None`` when total profit is not positive).
    clv_method
        How CLV per active customer and customer equity were computed (or why not).
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
    year_ago_as_of: date

    def kpi(self, key: str) -> Kpi:
        """The KPI with ``key`` (``KeyError`` if unknown)."""
        for k in self.kpis:
            if k.key == key:
                return k
        raise KeyError(key)


def _clv_method(inputs: MetricInputs) -> str:
    result = inputs.clv.get(0)
    if result is None:
        return "not available: " + (inputs.clv_note or "the CLV model was not fitted")
    return result.method


def overview_report(inputs: MetricInputs, *, periods: int = 12, history: int = 8) -> OverviewReport:
    """The Executive Overview of a ledger and its CLV valuations.

    Parameters
    ----------
    inputs
        The metric inputs (ledger, quarterly totals, CLV valuations).
    periods
        Quarters shown in the trend.
    history
        Quarters of KPI history for the cards' sparklines.
    """
    man = inputs.ledger.snapshot.manifest
    result = inputs.clv.get(0)
    method = _clv_method(inputs)
    valued = (
        f"The model values {result.customers:,} customers (lapsed ones weighted by their "
        "small chance of still being active). "
        if result is not None
        else ""
    )
    notes = {"average_clv": f"Method: {method}.", "customer_equity": f"{valued}Method: {method}."}
    trend = (
        inputs.quarters.filter(pl.col(QUARTER) < periods)
        .sort(QUARTER, descending=True)
        .select(TREND_COLUMNS)
    )
    return OverviewReport(
        company=man.company,
        currency=man.currency,
        business_model=man.business_model,
        as_of=inputs.ledger.as_of,
        previous_as_of=add_months(inputs.ledger.as_of, -3),
        kpis=kpis(inputs, KPI_KEYS, history=history, notes=notes),
        trend=trend,
        top_fraction=TOP_FRACTION,
        top_profit_share=metric_value(inputs, "top_profit_share"),
        clv_method=method,
        year_ago_as_of=add_months(inputs.ledger.as_of, -12),
    )
