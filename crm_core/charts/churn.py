"""Figures of the Churn risk page: lift by decile, calibration, value at risk by tier and
stage, and the net saving of contacting the top of the call list."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.style import NEUTRAL, POSITIVE, PRIMARY, apply_layout, currency_prefix
from crm_core.churn.columns import R
from crm_core.churn.evaluate import CAPTURE, CUSTOMERS, DECILE, LIFT, OBSERVED, PREDICTED
from crm_core.churn.report import ChurnReport
from crm_core.churn.value import CONTACTED, EXPECTED_CHURNERS, NET, SAVED_VALUE
from crm_core.formatting import fmt_count, fmt_money, fmt_pct, fmt_ratio

__all__ = ["calibration_chart", "lift_chart", "savings_chart", "value_at_risk_chart"]

CLOSE = 0.05
"""A tenth whose mean prediction is within this of its churn rate is well calibrated."""


def _span(report: ChurnReport) -> str:
    return {1: "next quarter", 2: "next half-year", 4: "next year"}.get(
        report.plan.horizon_quarters, f"next {report.plan.horizon_quarters} quarters"
    )


def lift_chart(report: ChurnReport) -> go.Figure:
    """Lift of each risk decile (bars: the list's score; markers: recency alone)."""
    v = report.validation
    ranked = v.lift if report.ranked_by == "model" else v.baseline_lift
    name = "Model" if report.ranked_by == "model" else "Recency alone (the list's score)"
    labels = [f"{d * 10 - 9}-{d * 10}%" for d in ranked[DECILE]]
    fig = go.Figure()
    fig.add_bar(
        x=labels,
        y=ranked[LIFT].fill_nan(None).to_list(),
        name=name,
        marker_color=PRIMARY,
        customdata=[
            [fmt_ratio(lift, digits=2), fmt_pct(cap), fmt_count(n)]
            for lift, cap, n in zip(ranked[LIFT], ranked[CAPTURE], ranked[CUSTOMERS], strict=True)
        ],
        hovertemplate="Riskiest %{x}<br>Lift %{customdata[0]}<br>%{customdata[1]} of the "
        "churners<br>%{customdata[2]} customers<extra></extra>",
    )
    if report.ranked_by == "model":
        fig.add_scatter(
            x=labels,
            y=v.baseline_lift[LIFT].fill_nan(None).to_list(),
            name="Recency alone",
            mode="markers",
            marker={"color": NEUTRAL, "size": 10, "symbol": "diamond"},
            hovertemplate="Riskiest %{x}<br>Recency alone: lift %{y:.2f}x<extra></extra>",
        )
    fig.add_hline(y=1, line_dash="dot", line_color=NEUTRAL)
    capture = float(ranked[CAPTURE][0])
    fig.update_xaxes(title_text="Customers by risk, riskiest first (share of customers)")
    fig.update_yaxes(title_text="Lift (churn rate / average churn rate)", rangemode="tozero")
    test = report.plan.ends[report.plan.test]
    return apply_layout(
        fig,
        title=f"The riskiest 10% hold {fmt_pct(capture)} of the {_span(report)}'s churners",
        subtitle=f"Out-of-time test: customers active on {test:%d %b %Y}, "
        "churn observed afterwards",
    )


def _points(gap: float) -> str:
    """A difference of probabilities in percentage points, in words."""
    return "a point" if gap * 100 < 1.5 else f"{gap * 100:.0f} points"


def calibration_chart(report: ChurnReport) -> go.Figure:
    """Mean predicted P(churn) against the observed churn rate, per tenth of the
    predictions, with the diagonal of perfect calibration."""
    cal = report.validation.calibration
    gap = float((cal[PREDICTED] - cal[OBSERVED]).abs().max()) if cal.height else 0.0
    fig = go.Figure()
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="Perfect calibration",
        line={"color": NEUTRAL, "dash": "dot"}, hoverinfo="skip",
    )  # fmt: skip
    fig.add_scatter(
        x=cal[PREDICTED].to_list(),
        y=cal[OBSERVED].to_list(),
        mode="lines+markers",
        name="Model (tenths of the predictions)",
        marker={"color": PRIMARY, "size": 9},
        customdata=[fmt_count(n) for n in cal[CUSTOMERS]],
        hovertemplate="Predicted %{x:.1%}<br>Observed %{y:.1%}<br>%{customdata} customers"
        "<extra></extra>",
    )
    top = max([*cal[PREDICTED].to_list(), *cal[OBSERVED].to_list(), 0.05])
    edge = min(1.0, top * 1.15)  # the points fill the plot (churn rates are often small)
    fig.update_xaxes(title_text="Predicted P(churn)", tickformat=".0%", range=[0, edge])
    fig.update_yaxes(title_text="Observed churn rate", tickformat=".0%", range=[0, edge])
    return apply_layout(
        fig,
        title=f"Predictions match observed churn within {_points(gap)} in every tenth"
        if gap <= CLOSE
        else f"Predictions miss observed churn by up to {_points(gap)} in a tenth",
        subtitle="The calibrated model at the out-of-time test date",
    )


def value_at_risk_chart(report: ChurnReport, by: str, names: dict[str, str]) -> go.Figure:
    """Value at risk per tier or stage (``by``: ``"tier"`` or ``"stage"``), with the
    expected churners in the hover text."""
    table = report.by_tier if by == R.tier else report.by_stage
    table = table.filter(pl.col(CUSTOMERS).is_not_null())
    cur = report.currency
    labels = [names.get(k, k) for k in table[by]]
    values = table[R.value_at_risk].to_list()
    fig = go.Figure()
    fig.add_bar(
        x=values,
        y=labels,
        orientation="h",
        marker_color=POSITIVE if by == R.stage else PRIMARY,
        customdata=[
            [fmt_money(v, cur), fmt_count(c), fmt_count(n)]
            for v, c, n in zip(values, table[EXPECTED_CHURNERS], table[CUSTOMERS], strict=True)
        ],
        hovertemplate="%{y}<br>Value at risk %{customdata[0]}<br>Expected churners "
        "%{customdata[1]} of %{customdata[2]}<extra></extra>",
    )
    total = sum(v or 0.0 for v in values)
    if total > 0:
        top = max(range(len(values)), key=lambda i: values[i] or 0.0)
        title = f"{labels[top]} holds {fmt_pct((values[top] or 0.0) / total)} of the value at risk"
    else:
        title = "No value at risk"
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(
        title_text=f"Value at risk ({cur})", tickprefix=currency_prefix(cur), tickformat="~s"
    )
    what = "profit tier (last 12 months)" if by == R.tier else "lifecycle stage today"
    return apply_layout(
        fig,
        title=title,
        subtitle=f"P(churn) x CLV by {what}",
        legend=False,
        height=320,
    )


def savings_chart(curve: pl.DataFrame, chosen: int, best: int, currency: str) -> go.Figure:
    """Expected value saved and net saving against the number of customers contacted."""
    fig = go.Figure()
    x = curve[CONTACTED].to_list()
    for column, name, color in ((SAVED_VALUE, "Value saved", PRIMARY), (NET, "Net", POSITIVE)):
        values = curve[column].to_list()
        fig.add_scatter(
            x=x,
            y=values,
            mode="lines",
            name=name,
            line={"color": color},
            customdata=[fmt_money(v, currency) for v in values],
            hovertemplate=f"%{{x:,}} contacted<br>{name}: %{{customdata}}<extra></extra>",
        )
    fig.add_vline(x=chosen, line_dash="dot", line_color=NEUTRAL)
    net = dict(zip(x, curve[NET].to_list(), strict=True))
    title = (
        f"Contacting the top {fmt_count(best)} saves the most: "
        f"{fmt_money(net.get(best, 0.0), currency)} net"
        if best > 0
        else "At this cost per contact no call pays for itself"
    )
    fig.update_xaxes(title_text="Customers contacted, top of the list first", rangemode="tozero")
    # no currency prefix on the ticks: the net can be negative ("$-1k"); the title says it
    fig.update_yaxes(title_text=f"Expected amount ({currency})", tickformat="~s")
    return apply_layout(
        fig, title=title, subtitle="The dotted line: the number chosen with the slider"
    )
