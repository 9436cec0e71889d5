"""Figures of the Segments page: the A/B/C table, the whale curve, the value matrix, cost
to serve by touchpoint and sales channel, RFM segments and their migration.

Every builder takes a result of :mod:`crm_core.segments.report` or
:mod:`crm_core.segments.rfm` and returns
a ``go.Figure`` whose title states the finding in words, finished with
:func:`crm_core.charts.style.apply_layout`.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.style import (
    NEGATIVE,
    NEUTRAL,
    PALETTE,
    PRIMARY,
    TIER_COLORS,
    apply_layout,
    currency_prefix,
    share_heatmap,
)
from crm_core.copy.segments import humanise, share_text  # share_text: re-exported
from crm_core.data.schema import C
from crm_core.formatting import fmt_count, fmt_money, fmt_pct, fmt_ratio
from crm_core.segments.columns import (
    CONTACTS,
    CONTACTS_PER_CUSTOMER,
    COST,
    COST_PER_CONTACT,
    COST_PER_CUSTOMER,
    COST_SHARE,
    CUMULATIVE_PROFIT,
    CUSTOMER_SHARE,
    CUSTOMERS,
    GROSS_PROFIT,
    PROFIT,
    PROFIT_PER_CUSTOMER,
    PROFIT_RANK,
    PROFIT_SHARE,
    PURCHASES,
    QUADRANT,
    REVENUE,
    REVENUE_SHARE,
    SERVICE_COST_PER_CUSTOMER,
    SHARE_OF_TIER_PURCHASES,
    SHARE_OF_TOUCHPOINT_COST,
    TIER,
    TOTAL_COST,
)
from crm_core.segments.report import SegmentReport
from crm_core.segments.rfm import (
    FROM_SEGMENT,
    MEDIAN_RECENCY_DAYS,
    SEGMENT,
    SHARE_OF_FROM,
    TO_SEGMENT,
    RFMMigration,
    RFMReport,
)
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


def _tier_rows(report: SegmentReport) -> dict[str, dict]:
    return {str(r[TIER]): r for r in report.tiers.iter_rows(named=True)}


def _empty(fig: go.Figure, title: str, subtitle: str, message: str) -> go.Figure:
    fig.add_annotation(
        text=message,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": NEUTRAL},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return apply_layout(fig, title=title, subtitle=subtitle, legend=False)


# ----------------------------------------------------------------------------- A/B/C


def abc_shares(report: SegmentReport) -> go.Figure:
    """The seeds' A/B/C table as bars: each tier's share of customers, revenue, costs, profit.

    One horizontal 100% bar per measure, split into tiers A, B and C. Shares of profit are
    left out when customers lost money in total (they are not meaningful then).
    """
    fig = go.Figure()
    w = report.window.label
    if report.is_empty:
        return _empty(
            fig,
            "No customer was active in this window",
            w,
            "No purchases, service contacts or acquisitions in the window.",
        )
    rows = _tier_rows(report)
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
        return _empty(fig, "No customer was active in this window", w, "Nothing to rank.")
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
        return _empty(fig, "No customer was active in this window", w, "Nothing to place.")
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
        return _empty(
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
            hovertemplate=f"<b>%{{x}}</b><br>{humanise(tp)}: %{{customdata[0]}} per customer "
            "(%{customdata[1]} contacts)<extra></extra>",
        )
    rows = _tier_rows(report)
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
        return _empty(
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
    c_profit = _tier_rows(report)["C"][PROFIT_SHARE]
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
        return _empty(fig, "No purchases in this window", w, "No sales channels to show.")
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
            hovertemplate=f"<b>%{{y}}</b><br>{humanise(ch)}: %{{customdata[0]}} of purchases, "
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


# ----------------------------------------------------------------------------- RFM


def rfm_segment_shares(rfm: RFMReport) -> go.Figure:
    """Each RFM segment's share of customers next to its share of net profit."""
    fig = go.Figure()
    seg = rfm.segments
    cur = rfm.currency
    if rfm.is_empty:
        return _empty(
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
        return _empty(fig, "No customers to follow", f"{before} to {after}", "No purchases.")
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
