"""RFM segments and their migration (figures of the Segments page's RFM tab)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.segments_base import empty_figure
from crm_core.charts.style import NEGATIVE, PRIMARY, apply_layout, share_heatmap
from crm_core.copy.segments import share_text
from crm_core.formatting import fmt_count, fmt_money
from crm_core.segments.columns import CUSTOMER_SHARE, CUSTOMERS, PROFIT, PROFIT_SHARE
from crm_core.segments.rfm import (
    FROM_SEGMENT,
    MEDIAN_RECENCY_DAYS,
    SEGMENT,
    SHARE_OF_FROM,
    TO_SEGMENT,
    RFMMigration,
    RFMReport,
)

__all__ = ["rfm_migration_heatmap", "rfm_segment_shares"]


# ----------------------------------------------------------------------------- RFM


def rfm_segment_shares(rfm: RFMReport) -> go.Figure:
    """Each RFM segment's share of customers next to its share of net profit."""
    fig = go.Figure()
    seg = rfm.segments
    cur = rfm.currency
    if rfm.is_empty:
        return empty_figure(
            fig, "No purchases to score", f"As of {rfm.as_of:%d %b %Y}", "No customer bought."
        )
    names = seg[SEGMENT].cast(pl.String).to_list()
    meaningful = seg[PROFIT_SHARE].null_count() == 0
    detail = [
        [fmt_count(n), fmt_money(p, cur), f"{d:.0f}" if d is not None else "n/a"]
        for n, p, d in zip(seg[CUSTOMERS], seg[PROFIT], seg[MEDIAN_RECENCY_DAYS], strict=True)
    ]
    hover = (
        "<b>%{y}</b><br>%{customdata[0]} customers, net profit %{customdata[1]}<br>"
        "median %{customdata[2]} days since the last purchase<extra></extra>"
    )
    fig.add_bar(
        y=names,
        x=seg[CUSTOMER_SHARE].fill_null(0.0).to_list(),
        orientation="h",
        name="Share of customers",
        marker_color="#B0BEC5",
        text=[share_text(v) for v in seg[CUSTOMER_SHARE].fill_null(0.0)],
        textposition="outside",
        customdata=detail,
        hovertemplate=hover,
    )
    if meaningful:
        fig.add_bar(
            y=names,
            x=seg[PROFIT_SHARE].to_list(),
            orientation="h",
            name="Share of net profit",
            marker_color=[PRIMARY if v >= 0 else NEGATIVE for v in seg[PROFIT_SHARE]],
            text=[share_text(v) for v in seg[PROFIT_SHARE]],
            textposition="outside",
            customdata=detail,
            hovertemplate=hover,
        )
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    fig.update_yaxes(autorange="reversed", title_text="")
    fig.update_xaxes(title_text="Share of the total (%)", tickformat=".0%", zeroline=True)
    top = seg.row(0, named=True)  # Champions come first
    if meaningful:
        title = (
            f"{top[SEGMENT]} are {share_text(top[CUSTOMER_SHARE])} of customers and earn "
            f"{share_text(top[PROFIT_SHARE])} of profit"
        )
    else:
        title = f"{top[SEGMENT]} are {share_text(top[CUSTOMER_SHARE])} of customers"
    return apply_layout(
        fig,
        title=title,
        subtitle=f"RFM segments as of {rfm.as_of:%d %b %Y}; net profit over {rfm.window.label}",
        height=520,
    )


def rfm_migration_heatmap(migration: RFMMigration) -> go.Figure:
    """Where each segment's customers went: rows before, columns after, share of the row."""
    fig = go.Figure()
    flows = migration.flows
    before = f"{migration.from_as_of:%d %b %Y}"
    after = f"{migration.to_as_of:%d %b %Y}"
    if flows.height == 0:
        return empty_figure(fig, "No customers to follow", f"{before} to {after}", "No purchases.")
    rows = flows[FROM_SEGMENT].unique().sort().cast(pl.String).to_list()
    cols = flows[TO_SEGMENT].unique().sort().cast(pl.String).to_list()
    cell = {(str(r[FROM_SEGMENT]), str(r[TO_SEGMENT])): r for r in flows.iter_rows(named=True)}
    z = [[(cell[(r, c)][SHARE_OF_FROM] if (r, c) in cell else None) for c in cols] for r in rows]
    text = [
        [
            f"{share_text(cell[(r, c)][SHARE_OF_FROM])}<br>({fmt_count(cell[(r, c)][CUSTOMERS])})"
            if (r, c) in cell
            else ""
            for c in cols
        ]
        for r in rows
    ]
    fig.add_trace(
        share_heatmap(
            cols,
            rows,
            z,
            text,
            hovertemplate=f"<b>%{{y}}</b> on {before}<br>→ %{{x}} on {after}: "
            "%{text}<extra></extra>",
            font_size=11,
        )
    )
    fig.update_yaxes(autorange="reversed", title_text=f"Segment on {before}", showgrid=False)
    fig.update_xaxes(title_text=f"Segment on {after}", showgrid=False, tickangle=-30)
    focus = "Champions" if migration.stayed("Champions") is not None else rows[0]
    stayed = migration.stayed(focus)
    title = (
        f"{share_text(stayed)} of {focus} on {before} were still {focus} on {after}"
        if stayed is not None
        else f"Segment moves from {before} to {after}"
    )
    fig = apply_layout(
        fig,
        title=title,
        subtitle="Share of each segment's customers by their later segment (customers in brackets)",
        height=600,
        legend=False,
    )
    fig.update_layout(margin={"b": 120, "l": 150})
    return fig
