"""Figures of the Executive Overview: money by quarter, customers won and lost."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.style import NEGATIVE, NEUTRAL, POSITIVE, PRIMARY, apply_layout
from crm_core.data.periods import LABEL
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.metrics.quarters import GROSS_PROFIT, LOST, REACTIVATED, REVENUE, WON

__all__ = ["customers_won_lost", "revenue_profit_by_quarter"]


def _yoy(trend: pl.DataFrame, column: str) -> float | None:
    """Change of the last quarter against the same quarter a year earlier."""
    if trend.height < 5:
        return None
    now, year_ago = trend[column][-1], trend[column][-5]
    return None if year_ago == 0 else now / year_ago - 1


def revenue_profit_by_quarter(trend: pl.DataFrame, currency: str) -> go.Figure:
    """Revenue and gross profit per quarter (bars), titled with the year-on-year change.

    Parameters
    ----------
    trend
        ``OverviewReport.trend`` (oldest quarter first).
    currency
        ISO code used for the axis and hover labels.
    """
    fig = go.Figure()
    labels = trend[LABEL].to_list()
    for column, name, color in (
        (REVENUE, "Revenue", PRIMARY),
        (GROSS_PROFIT, "Gross profit", POSITIVE),
    ):
        values = trend[column].to_list()
        fig.add_bar(
            x=labels,
            y=values,
            name=name,
            marker_color=color,
            customdata=[fmt_money(v, currency) for v in values],
            hovertemplate=f"%{{x}}<br>{name}: %{{customdata}}<extra></extra>",
        )
    growth = _yoy(trend, REVENUE)
    if trend.height == 0:
        title = "No sales recorded yet"
    elif growth is None:
        title = f"Revenue of {fmt_money(trend[REVENUE][-1], currency)} in {labels[-1]}"
    else:
        verb = "up" if growth >= 0 else "down"
        title = (
            f"Revenue {verb} {fmt_pct(abs(growth))} on a year ago: "
            f"{fmt_money(trend[REVENUE][-1], currency)} in {labels[-1]}"
        )
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(
        title_text=f"Amount per quarter ({currency})", tickformat="~s", rangemode="tozero"
    )
    return apply_layout(
        fig,
        title=title,
        subtitle="Revenue net of refunds; gross profit after the direct cost of sales",
    )


def customers_won_lost(trend: pl.DataFrame, *, contractual: bool = False) -> go.Figure:
    """Customers won, reactivated (up) and lost (down) per quarter, with the net change."""
    labels = trend[LABEL].to_list()
    fig = go.Figure()
    fig.add_bar(
        x=labels,
        y=trend[WON].to_list(),
        name="Won (new)",
        marker_color=POSITIVE,
        hovertemplate="%{x}<br>Won: %{y:,}<extra></extra>",
    )
    if trend[REACTIVATED].sum() > 0:
        fig.add_bar(
            x=labels,
            y=trend[REACTIVATED].to_list(),
            name="Reactivated",
            marker_color="#81C784",
            hovertemplate="%{x}<br>Reactivated: %{y:,}<extra></extra>",
        )
    fig.add_bar(
        x=labels,
        y=[-v for v in trend[LOST].to_list()],
        name="Lost",
        marker_color=NEGATIVE,
        customdata=trend[LOST].to_list(),
        hovertemplate="%{x}<br>Lost: %{customdata:,}<extra></extra>",
    )
    net = (trend[WON] + trend[REACTIVATED] - trend[LOST]).to_list()
    fig.add_scatter(
        x=labels,
        y=net,
        name="Net change",
        mode="lines+markers",
        line={"color": NEUTRAL, "width": 2},
        hovertemplate="%{x}<br>Net change: %{y:+,}<extra></extra>",
    )
    if trend.height == 0:
        title = "No customers yet"
    else:
        won = int(trend[WON][-1] + trend[REACTIVATED][-1])
        lost = int(trend[LOST][-1])
        net = won - lost
        title = (
            f"Net {'+' if net >= 0 else '−'}{fmt_count(abs(net))} customers in {labels[-1]}: "
            f"{fmt_count(won)} won, {fmt_count(lost)} lost"
        )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title_text="Customers per quarter", zeroline=True, zerolinewidth=1.5)
    fig = apply_layout(
        fig,
        title=title,
        subtitle=(
            "Lost: contract ended in the quarter"
            if contractual
            else "Lost: no purchase for 12 months; reactivated: bought again after that"
        ),
    )
    return fig
