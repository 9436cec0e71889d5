"""Cost to serve by touchpoint and the sales-channel mix per profit tier (figures of the
Segments page's Cost to serve tab)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.segments_base import empty_figure, tier_rows
from crm_core.charts.style import (
    PALETTE,
    TIER_COLORS,
    apply_layout,
    currency_prefix,
    literal_text,
)
from crm_core.copy.segments import humanise, share_text
from crm_core.data.schema import C
from crm_core.formatting import fmt_money, fmt_ratio
from crm_core.segments.columns import (
    CONTACTS,
    CONTACTS_PER_CUSTOMER,
    COST,
    COST_PER_CONTACT,
    COST_PER_CUSTOMER,
    GROSS_PROFIT,
    PROFIT_SHARE,
    PURCHASES,
    REVENUE,
    SERVICE_COST_PER_CUSTOMER,
    SHARE_OF_TIER_PURCHASES,
    SHARE_OF_TOUCHPOINT_COST,
    TIER,
)
from crm_core.segments.report import SegmentReport
from crm_core.segments.tiers import TIERS, tier_name

__all__ = ["channel_mix", "cost_to_serve", "touchpoint_burden"]


# ----------------------------------------------------------------------------- cost to serve


def _touchpoint_order(report: SegmentReport) -> list[str]:
    """Touchpoints, most expensive per contact first."""
    per_contact = (
        report.cost_to_serve.group_by(C.touchpoint)
        .agg((pl.col(COST).sum() / pl.col(CONTACTS).sum()).alias(COST_PER_CONTACT))
        .sort([COST_PER_CONTACT, C.touchpoint], descending=[True, False], nulls_last=True)
    )
    return per_contact[C.touchpoint].to_list()


def cost_to_serve(report: SegmentReport) -> go.Figure:
    """Service cost per customer in each tier, stacked by touchpoint (costliest at the base)."""
    fig = go.Figure()
    cur = report.currency
    w = report.window.label
    cts = report.cost_to_serve
    if report.is_empty or cts is None or cts.height == 0 or cts[COST].sum() == 0:
        return empty_figure(
            fig, "No service costs recorded in this window", w, "No touchpoint costs to show."
        )
    order = _touchpoint_order(report)
    names = [tier_name(t, report.cutoffs) for t in TIERS]
    for i, tp in enumerate(order):
        part = cts.filter(pl.col(C.touchpoint) == tp).sort(TIER)
        values = [v or 0.0 for v in part[COST_PER_CUSTOMER].to_list()]
        fig.add_bar(
            x=names,
            y=values,
            name=humanise(tp),
            marker_color=PALETTE[i % len(PALETTE)],
            customdata=[
                [fmt_money(v, cur), f"{c:.2f}"]
                for v, c in zip(values, part[CONTACTS_PER_CUSTOMER].fill_null(0.0), strict=True)
            ],
            hovertemplate=f"<b>%{{x}}</b><br>{literal_text(humanise(tp))}: %{{customdata[0]}} "
            "per customer "
            "(%{customdata[1]} contacts)<extra></extra>",
        )
    rows = tier_rows(report)
    totals = [rows[t][SERVICE_COST_PER_CUSTOMER] or 0.0 for t in TIERS]
    fig.add_scatter(
        x=names,
        y=totals,
        mode="text",
        text=[fmt_money(v, cur) for v in totals],
        textposition="top center",
        showlegend=False,
        hoverinfo="skip",
    )
    fig.update_layout(barmode="stack", bargap=0.4)
    fig.update_yaxes(
        title_text=f"Cost to serve per customer ({cur})",
        tickprefix=currency_prefix(cur),
        rangemode="tozero",
    )
    fig.update_xaxes(title_text="Profit tier")
    a_cost, c_cost = totals[0], totals[2]
    if a_cost > 0 and c_cost > a_cost:
        title = (
            f"A tier-C customer costs {fmt_money(c_cost, cur)} to serve, "
            f"{fmt_ratio(c_cost / a_cost)} a tier-A customer"
        )
    else:
        title = (
            f"Serving a customer costs {fmt_money(a_cost, cur)} in tier A and "
            f"{fmt_money(c_cost, cur)} in tier C"
        )
    return apply_layout(
        fig,
        title=title,
        subtitle=f"Service cost per customer by touchpoint, costliest per contact at the base · "
        f"{w}",
        height=420,
    )


def touchpoint_burden(report: SegmentReport) -> go.Figure:
    """Each touchpoint's cost split by tier: who consumes the expensive touchpoints."""
    fig = go.Figure()
    cur = report.currency
    w = report.window.label
    cts = report.cost_to_serve
    if report.is_empty or cts is None or cts.height == 0 or cts[COST].sum() == 0:
        return empty_figure(
            fig, "No service costs recorded in this window", w, "No touchpoint costs to show."
        )
    order = _touchpoint_order(report)
    per_contact = {
        tp: cts.filter(pl.col(C.touchpoint) == tp)
        .select(pl.col(COST).sum() / pl.col(CONTACTS).sum())
        .item()
        for tp in order
    }
    labels = [f"{humanise(tp)} ({fmt_money(per_contact[tp], cur)} a contact)" for tp in order]
    for tier in TIERS:
        part = cts.filter(pl.col(TIER) == tier)
        share = dict(zip(part[C.touchpoint], part[SHARE_OF_TOUCHPOINT_COST], strict=True))
        cost = dict(zip(part[C.touchpoint], part[COST], strict=True))
        values = [share.get(tp) or 0.0 for tp in order]
        fig.add_bar(
            y=labels,
            x=values,
            orientation="h",
            name=tier_name(tier, report.cutoffs),
            marker_color=TIER_COLORS[tier],
            text=[share_text(v) if v >= 0.07 else "" for v in values],
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            textfont={"color": "white" if tier == "A" else "#1B2430"},
            customdata=[
                [share_text(v), fmt_money(cost.get(tp, 0.0), cur)]
                for v, tp in zip(values, order, strict=True)
            ],
            hovertemplate=f"<b>%{{y}}</b><br>Tier {tier}: %{{customdata[0]}} of the cost "
            "(%{customdata[1]})<extra></extra>",
        )
    fig.update_layout(barmode="stack", bargap=0.35, legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed", title_text="")
    fig.update_xaxes(
        title_text="Share of the touchpoint's cost (%)", tickformat=".0%", range=[0, 1]
    )
    top_tp = order[0]
    c_part = cts.filter((pl.col(TIER) == "C") & (pl.col(C.touchpoint) == top_tp))
    c_share = c_part[SHARE_OF_TOUCHPOINT_COST][0] if c_part.height else None
    c_profit = tier_rows(report)["C"][PROFIT_SHARE]
    title = f"Tier C causes {share_text(c_share)} of the cost of {humanise(top_tp).lower()}"
    if c_profit is not None:
        title += f" but earns {share_text(c_profit)} of profit"
    return apply_layout(
        fig,
        title=title,
        subtitle=f"Each touchpoint's service cost split by profit tier, costliest per contact "
        f"first · {w}",
        height=120 + 48 * len(order),
    )


def channel_mix(report: SegmentReport) -> go.Figure:
    """Share of each tier's purchases by sales channel, with gross margin in the hover."""
    fig = go.Figure()
    w = report.window.label
    sales = report.channel_sales
    if report.is_empty or sales is None or sales.height == 0 or sales[PURCHASES].sum() == 0:
        return empty_figure(fig, "No purchases in this window", w, "No sales channels to show.")
    channels = (
        sales.group_by(C.channel)
        .agg(pl.col(PURCHASES).sum())
        .sort([PURCHASES, C.channel], descending=[True, False])[C.channel]
        .to_list()
    )
    names = [tier_name(t, report.cutoffs) for t in TIERS]
    share_of: dict[tuple[str, str], float] = {}
    for i, ch in enumerate(channels):
        part = sales.filter(pl.col(C.channel) == ch).sort(TIER)
        values = [v or 0.0 for v in part[SHARE_OF_TIER_PURCHASES].to_list()]
        margin = [
            share_text(g / r) if r else "n/a"
            for g, r in zip(part[GROSS_PROFIT], part[REVENUE], strict=True)
        ]
        for tier, v in zip(TIERS, values, strict=True):
            share_of[(tier, ch)] = v
        fig.add_bar(
            y=names,
            x=values,
            orientation="h",
            name=humanise(ch),
            marker_color=PALETTE[i % len(PALETTE)],
            text=[share_text(v) if v >= 0.07 else "" for v in values],
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            customdata=[[share_text(v), m] for v, m in zip(values, margin, strict=True)],
            hovertemplate=f"<b>%{{y}}</b><br>{literal_text(humanise(ch))}: %{{customdata[0]}} "
            "of purchases, "
            "gross margin %{customdata[1]}<extra></extra>",
        )
    fig.update_layout(barmode="stack", bargap=0.35, legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed", title_text="")
    fig.update_xaxes(title_text="Share of the tier's purchases (%)", tickformat=".0%", range=[0, 1])
    gap = max(channels, key=lambda ch: share_of[("C", ch)] - share_of[("A", ch)])
    title = (
        f"Tier C makes {share_text(share_of[('C', gap)])} of its purchases by "
        f"{humanise(gap).lower()}, tier A {share_text(share_of[('A', gap)])}"
    )
    return apply_layout(
        fig,
        title=title,
        subtitle=f"Purchases by sales channel in each profit tier · {w}",
        height=320,
    )
