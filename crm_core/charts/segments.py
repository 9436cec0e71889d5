"""Figures of the Segments page: the A/B/C table, the whale curve and the value matrix
here; cost to serve and the sales-channel mix in :mod:`crm_core.charts.segments_costs`, RFM
segments and their migration in :mod:`crm_core.charts.segments_rfm` (all re-exported).

Every builder takes a result of :mod:`crm_core.segments.report` or
:mod:`crm_core.segments.rfm` and returns a ``go.Figure`` whose title states the finding in
words, finished with :func:`crm_core.charts.style.apply_layout`. The whale curve arrives
thinned to about a thousand points (:mod:`crm_core.segments.whale`).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.segments_base import empty_figure, tier_rows
from crm_core.charts.segments_costs import channel_mix, cost_to_serve, touchpoint_burden
from crm_core.charts.segments_rfm import rfm_migration_heatmap, rfm_segment_shares
from crm_core.charts.style import (
    NEGATIVE,
    NEUTRAL,
    PRIMARY,
    TIER_COLORS,
    apply_layout,
    currency_prefix,
)
from crm_core.copy.segments import share_text
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.segments.columns import (
    COST_SHARE,
    CUMULATIVE_PROFIT,
    CUSTOMER_SHARE,
    CUSTOMERS,
    PROFIT,
    PROFIT_PER_CUSTOMER,
    PROFIT_RANK,
    PROFIT_SHARE,
    QUADRANT,
    REVENUE,
    REVENUE_SHARE,
    TIER,
    TOTAL_COST,
)
from crm_core.segments.report import SegmentReport
from crm_core.segments.tiers import TIERS, tier_name

__all__ = [
    "abc_shares",
    "channel_mix",
    "cost_to_serve",
    "rfm_migration_heatmap",
    "rfm_segment_shares",
    "share_text",
    "touchpoint_burden",
    "value_matrix",
    "whale_curve",
]


LOSS_FILL = "rgba(198, 40, 40, 0.08)"


# ----------------------------------------------------------------------------- A/B/C


def abc_shares(report: SegmentReport) -> go.Figure:
    """The seeds' A/B/C table as bars: each tier's share of customers, revenue, costs, profit.

    One horizontal 100% bar per measure, split into tiers A, B and C. Shares of profit are
    left out when customers lost money in total (they are not meaningful then).
    """
    fig = go.Figure()
    w = report.window.label
    if report.is_empty:
        return empty_figure(
            fig,
            "No customer was active in this window",
            w,
            "No purchases, service contacts or acquisitions in the window.",
        )
    rows = tier_rows(report)
    a, _, c = report.cutoffs
    stats = report.whale_stats
    measures = [
        ("Customers", CUSTOMER_SHARE, CUSTOMERS),
        ("Revenue", REVENUE_SHARE, REVENUE),
        ("Total costs", COST_SHARE, TOTAL_COST),
    ]
    if stats.meaningful:
        measures.append(("Net profit", PROFIT_SHARE, PROFIT))
    labels = [m[0] for m in measures]
    for tier in TIERS:
        row = rows[tier]
        shares = [row[col] or 0.0 for _, col, _ in measures]
        amounts = [
            fmt_count(row[col]) if col == CUSTOMERS else fmt_money(row[col], report.currency)
            for _, _, col in measures
        ]
        name = tier_name(tier, report.cutoffs)
        fig.add_bar(
            y=labels,
            x=shares,
            orientation="h",
            name=name,
            marker_color=TIER_COLORS[tier],
            text=[share_text(s) if abs(s) >= 0.05 else "" for s in shares],
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            textfont={"color": "white" if tier == "A" else "#1B2430"},
            customdata=[[share_text(s), amt] for s, amt in zip(shares, amounts, strict=True)],
            hovertemplate=f"<b>Tier {name}</b><br>%{{y}}: %{{customdata[0]}} "
            "(%{customdata[1]})<extra></extra>",
        )
    fig.update_layout(barmode="relative", bargap=0.35, legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed", title_text="")
    fig.update_xaxes(
        title_text="Share of the company total (%)",
        tickformat=".0%",
        zeroline=True,
        zerolinecolor="#5F6B7A",
    )
    cs = rows["C"]
    if stats.meaningful:
        title = (
            f"Top {fmt_pct(a)} of customers earn {share_text(report.top_profit_share)} of profit"
        )
        subtitle = (
            f"Tier C ({share_text(c)} of customers) earns {share_text(cs[PROFIT_SHARE])} of profit "
            f"and causes {share_text(cs[COST_SHARE])} of costs · customers ranked by net profit, "
            f"{w}"
        )
    else:
        title = (
            f"Customers lost {fmt_money(-stats.total_profit, report.currency)} in total: "
            "shares of profit are not meaningful"
        )
        subtitle = f"Shares of customers, revenue and costs by profit tier · {w}"
    return apply_layout(fig, title=title, subtitle=subtitle, height=400)


# ----------------------------------------------------------------------------- whale curve


def whale_curve(report: SegmentReport) -> go.Figure:
    """Cumulative share of profit against customers ranked by profit, coloured by tier.

    Marks the peak (where the profitable customers end), shades the loss tail, and draws
    the tier boundaries. When customers lost money in total, the curve is drawn in
    currency (cumulative profit) instead of shares.
    """
    fig = go.Figure()
    stats = report.whale_stats
    cur = report.currency
    w = report.window.label
    if report.is_empty:
        return empty_figure(fig, "No customer was active in this window", w, "Nothing to rank.")
    n = stats.customers
    meaningful = stats.meaningful
    y_col = PROFIT_SHARE if meaningful else CUMULATIVE_PROFIT
    boundaries = (
        report.whale.filter(pl.col(TIER).is_not_null())
        .group_by(TIER)
        .agg(pl.col(PROFIT_RANK).max())
        .sort(TIER)
    )
    last_rank = dict(zip(boundaries[TIER].cast(pl.String), boundaries[PROFIT_RANK], strict=True))
    curve = report.whale  # thinned to about a thousand points, boundaries kept
    previous = curve.head(1)  # the origin
    for tier in TIERS:
        part = curve.filter(pl.col(TIER) == tier)
        if part.height == 0:
            continue
        seg = pl.concat([previous, part])
        previous = part.tail(1)
        cum = seg[CUMULATIVE_PROFIT].to_list()
        shares = seg[PROFIT_SHARE].to_list()
        fig.add_scatter(
            x=seg[CUSTOMER_SHARE].to_list(),
            y=seg[y_col].to_list(),
            mode="lines",
            line={"color": TIER_COLORS[tier], "width": 3},
            name=f"Tier {tier_name(tier, report.cutoffs)}",
            customdata=[
                [share_text(x), share_text(s) if s is not None else "", fmt_money(v, cur)]
                for x, s, v in zip(seg[CUSTOMER_SHARE], shares, cum, strict=True)
            ],
            hovertemplate=(
                "The top %{customdata[0]} of customers<br>earn %{customdata[1]} of profit "
                "(%{customdata[2]})<extra></extra>"
                if meaningful
                else "The top %{customdata[0]} of customers<br>earn %{customdata[2]} in total"
                "<extra></extra>"
            ),
        )
    top = 1.0 if meaningful else stats.total_profit
    fig.add_hline(
        y=top,
        line={"color": NEUTRAL, "dash": "dash", "width": 1},
        annotation_text="Total profit",
        annotation_position="bottom right",
        annotation_font_color=NEUTRAL,
    )
    for tier, rank in last_rank.items():
        if tier == "C" or rank in (0, n):
            continue
        fig.add_vline(x=rank / n, line={"color": "#CFD8DC", "dash": "dot", "width": 1})
    peak_x = stats.profitable_customers / n
    peak_y = stats.peak_share if meaningful else stats.peak_profit
    tail_x = (stats.profitable_customers + stats.breakeven_customers) / n
    if stats.unprofitable_customers:
        fig.add_vrect(x0=tail_x, x1=1.0, fillcolor=LOSS_FILL, line_width=0, layer="below")
        fig.add_annotation(
            x=(tail_x + 1.0) / 2,
            y=top,
            yshift=-36,
            text=(
                f"Loss tail: {share_text(stats.loss_tail_customer_share)} of customers<br>"
                f"lose {fmt_money(-stats.loss_tail_profit, cur)}"
            ),
            showarrow=False,
            font={"color": NEGATIVE, "size": 12},
        )
    if stats.profitable_customers:
        peak_text = (
            f"Peak: {share_text(peak_y)} of profit"
            if meaningful
            else f"Peak: {fmt_money(peak_y, cur)}"
        )
        fig.add_scatter(
            x=[peak_x],
            y=[peak_y],
            mode="markers",
            marker={"color": NEGATIVE if stats.unprofitable_customers else PRIMARY, "size": 10},
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_annotation(
            x=peak_x,
            y=peak_y,
            text=f"{peak_text}<br>from the {share_text(peak_x)} profitable customers",
            showarrow=True,
            arrowhead=0,
            ax=-70,
            ay=-40,
            align="right",
            font={"size": 12},
        )
    fig.update_xaxes(
        title_text="Customers, most to least profitable (%)", tickformat=".0%", range=[0, 1.0]
    )
    if meaningful:
        fig.update_yaxes(
            title_text="Cumulative share of net profit (%)", tickformat=".0%", rangemode="tozero"
        )
        given = stats.given_back_share or 0.0
        if stats.unprofitable_customers and given >= 0.0005:
            title = (
                f"The least profitable {share_text(stats.loss_tail_customer_share)} of customers "
                f"give back {share_text(given)} of profit"
            )
        else:
            title = "Every customer is profitable: no loss tail"
        subtitle = (
            f"Profit peaks at {share_text(stats.peak_share)} of the total before loss-making "
            f"customers give it back · {w}"
        )
    else:
        fig.update_yaxes(
            title_text=f"Cumulative net profit ({cur})",
            tickprefix=currency_prefix(cur),
            tickformat="~s",
        )
        title = (
            f"Customers lost {fmt_money(-stats.total_profit, cur)} in total"
            if stats.profitable_customers == 0
            else f"The profitable {share_text(peak_x)} earn {fmt_money(stats.peak_profit, cur)}, "
            f"the rest lose {fmt_money(-stats.loss_tail_profit, cur)}"
        )
        subtitle = f"Cumulative net profit in {cur} (total profit is negative) · {w}"
    return apply_layout(fig, title=title, subtitle=subtitle, height=460)


# ----------------------------------------------------------------------------- value matrix


def value_matrix(report: SegmentReport) -> go.Figure:
    """The activity value matrix: four tiles of purchase frequency against yearly spend.

    Each tile shows its customers, net profit and profit per customer; colour follows
    profit per customer (red for losses).
    """
    fig = go.Figure()
    vm = report.value_matrix
    cur = report.currency
    w = report.window.label
    if report.is_empty or vm.frequency_threshold is None:
        return empty_figure(fig, "No customer was active in this window", w, "Nothing to place.")
    rows = {str(r[QUADRANT]): r for r in vm.table.iter_rows(named=True)}
    xs = ["Occasional", "Frequent"]
    ys = ["Low spend", "High spend"]
    z, text = [], []
    meaningful = report.whale_stats.meaningful
    for high in (False, True):
        z_row, t_row = [], []
        for frequent in (False, True):
            r = next(
                v for v in rows.values() if v["frequent"] == frequent and v["high_spend"] == high
            )
            per = r[PROFIT_PER_CUSTOMER]
            z_row.append(per if per is not None else 0.0)
            share = f" ({share_text(r[PROFIT_SHARE])} of profit)" if meaningful else ""
            t_row.append(
                f"<b>{r[QUADRANT]}</b><br>{fmt_count(r[CUSTOMERS])} customers "
                f"({share_text(r[CUSTOMER_SHARE])})<br>Net profit {fmt_money(r[PROFIT], cur)}"
                f"{share}<br>{fmt_money(per, cur)} per customer"
            )
        z.append(z_row)
        text.append(t_row)
    peak = max(abs(v) for row in z for v in row) or 1.0
    fig.add_heatmap(
        x=xs,
        y=ys,
        z=z,
        text=text,
        texttemplate="%{text}",
        textfont={"size": 13},
        hovertemplate="%{text}<extra></extra>",
        colorscale=[[0.0, "#EF9A9A"], [0.5, "#FFFFFF"], [1.0, "#90CAF9"]],
        zmin=-peak,
        zmax=peak,
        showscale=False,
        xgap=4,
        ygap=4,
    )
    how = "medians" if vm.at_medians else "chosen thresholds"
    fig.update_xaxes(
        title_text=f"Purchase frequency (frequent: more than "
        f"{vm.frequency_threshold:.1f} purchases a year)",
        showgrid=False,
    )
    fig.update_yaxes(
        title_text=f"Yearly spend (high: more than {fmt_money(vm.amount_threshold, cur)})",
        showgrid=False,
    )
    best = max(rows.values(), key=lambda r: r[PROFIT])
    if meaningful:
        title = (
            f"{best[QUADRANT]} customers ({share_text(best[CUSTOMER_SHARE])} of customers) "
            f"earn {share_text(best[PROFIT_SHARE])} of profit"
        )
    else:
        title = f"{best[QUADRANT]} customers lose the least: {fmt_money(best[PROFIT], cur)}"
    subtitle = f"Purchases and revenue per year, split at the {how} · {w}"
    return apply_layout(fig, title=title, subtitle=subtitle, height=440, legend=False)
