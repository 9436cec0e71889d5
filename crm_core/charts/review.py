"""Figures made for the quarterly review only: value at risk by profit tier, from the
Churn risk page's report (:class:`crm_core.churn.report.ChurnReport`)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.style import PRIMARY, apply_layout, currency_prefix, empty_figure
from crm_core.churn.columns import R
from crm_core.churn.report import ChurnReport
from crm_core.churn.value import CUSTOMERS, EXPECTED_CHURNERS
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.metrics.tiers import DEFAULT_CUTOFFS, tier_name

__all__ = ["risk_by_tier"]


def risk_by_tier(report: ChurnReport) -> go.Figure:
    """Value at risk (P(churn) x CLV) per ABC profit tier, with the active customers and
    expected churners of each tier in the hover text; the title names the tier holding
    most of it."""
    table = report.by_tier.filter(pl.col(CUSTOMERS).is_not_null())
    cur = report.currency
    values = [float(v or 0.0) for v in table[R.value_at_risk]]
    total = sum(values)
    if table.height == 0 or total <= 0:
        return empty_figure(
            "No value at risk",
            "P(churn) x CLV by profit tier",
            "No scored customer has a CLV",
        )
    labels = [tier_name(t, DEFAULT_CUTOFFS) for t in table[R.tier]]
    fig = go.Figure()
    fig.add_bar(
        x=values,
        y=labels,
        orientation="h",
        marker_color=PRIMARY,
        text=[fmt_money(v, cur) for v in values],
        textposition="auto",
        customdata=[
            [fmt_money(v, cur), fmt_count(n), fmt_count(c), fmt_pct(v / total)]
            for v, n, c in zip(values, table[CUSTOMERS], table[EXPECTED_CHURNERS], strict=True)
        ],
        hovertemplate="%{y}<br>Value at risk %{customdata[0]} (%{customdata[3]})<br>"
        "Expected churners %{customdata[2]} of %{customdata[1]} active<extra></extra>",
    )
    top = max(range(len(values)), key=values.__getitem__)
    tier, _, which = labels[top].partition(": ")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(
        title_text=f"Value at risk ({cur})", tickprefix=currency_prefix(cur), tickformat="~s"
    )
    return apply_layout(
        fig,
        title=f"Tier {tier} ({which} by profit) holds {fmt_pct(values[top] / total)} of "
        "the value at risk",
        subtitle="P(churn) x CLV by profit tier (last 12 months' profit)",
        legend=False,
        height=360,
    )
