"""Figures of the Lifecycle page's stages: value by stage, the stage mix over time, and
transitions between two dates (Sankey and matrix).

Every builder takes a result of :mod:`crm_core.lifecycle` and returns a ``go.Figure`` whose
title states the finding, finished with :func:`crm_core.charts.style.apply_layout`. Stage
colours are declared once, in :data:`STAGE_COLORS`, and used by every chart (the funnel,
cohort and tenure figures are in :mod:`crm_core.charts.lifecycle_progress`).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.style import (
    NEGATIVE,
    PRIMARY,
    apply_layout,
    empty_figure,
    share_heatmap,
)
from crm_core.copy.lifecycle import FLOW_LABELS, STAGE_LABELS, day, period_word, share_text
from crm_core.data.ledger import CHURNED, CUSTOMER_STAGES, DECLINING, GROWING, MATURE, NEW, L
from crm_core.data.periods import PERIOD_END
from crm_core.formatting import fmt_count, fmt_money
from crm_core.lifecycle.history import CUSTOMERS
from crm_core.lifecycle.report import LifecycleReport
from crm_core.lifecycle.stages import PROSPECT, STAGE
from crm_core.lifecycle.transitions import (
    FLOW_NODES,
    FROM_STAGE,
    LEAD_DROPPED,
    NOT_YET,
    TO_STAGE,
    Transitions,
)
from crm_core.lifecycle.values import REVENUE_TTM

__all__ = [
    "MIN_FOR_A_FINDING",
    "STAGE_COLORS",
    "empty_figure",
    "rgba",
    "stage_history_chart",
    "stage_value_mix",
    "transition_matrix",
    "transitions_sankey",
]

STAGE_COLORS: dict[str, str] = {
    NOT_YET: "#CFD8DC",
    PROSPECT: "#90A4AE",
    NEW: "#56B4E9",
    GROWING: "#009E73",
    MATURE: PRIMARY,
    DECLINING: "#E69F00",
    CHURNED: NEGATIVE,
    LEAD_DROPPED: "#B0BEC5",
}
"""One colour per lifecycle stage (and transition node), shared by every chart."""

MIN_FOR_A_FINDING = 20
"""Fewer customers than this in a stage make its shares too noisy for a chart title."""

_day = day


def rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` with an opacity, for fills."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def top_axis(fig: go.Figure) -> go.Figure:
    """Room between the subtitle and an x axis drawn on top (heat maps)."""
    fig.update_layout(margin={"t": 150})
    return fig


_empty = empty_figure
_rgba = rgba
_top_axis = top_axis


# ----------------------------------------------------------------------------- stages


def stage_value_mix(report: LifecycleReport) -> go.Figure:
    """Share of customers, of 12-month revenue and of CLV in each stage (100% bars)."""
    summary = report.summary.filter(pl.col(STAGE) != PROSPECT)
    rows = {r[STAGE]: r for r in summary.iter_rows(named=True)}
    measures = [("share_of_customers", "Customers"), ("share_of_revenue", "Revenue, 12 months")]
    if summary["share_of_clv"].is_not_null().any():
        measures.append(("share_of_clv", "Future value (CLV)"))
    fig = go.Figure()
    for stage in CUSTOMER_STAGES:
        row = rows[stage]
        shares = [row[col] or 0.0 for col, _ in measures]
        amounts = [
            fmt_count(row[CUSTOMERS]) + " customers",
            fmt_money(row[REVENUE_TTM], report.currency),
            *(
                [fmt_money(row["clv"], report.currency)]
                if len(measures) == 3 and row["clv"] is not None
                else []
            ),
        ]
        fig.add_bar(
            y=[name for _, name in measures],
            x=shares,
            name=STAGE_LABELS[stage],
            orientation="h",
            marker_color=STAGE_COLORS[stage],
            text=[share_text(s) if s >= 0.05 else "" for s in shares],
            textposition="inside",
            textangle=0,
            insidetextanchor="middle",
            customdata=amounts,
            hovertemplate=f"<b>{STAGE_LABELS[stage]}</b><br>%{{y}}: %{{x:.1%}} "
            "(%{customdata})<extra></extra>",
        )
    # finding: the stage whose value share most exceeds its share of customers
    best, ratio = None, 1.05  # only a stage bringing clearly more than its head count
    for stage in (NEW, GROWING, MATURE):
        c, v = rows[stage]["share_of_customers"], rows[stage]["share_of_revenue"]
        if c and v is not None and rows[stage][CUSTOMERS] >= MIN_FOR_A_FINDING and v / c > ratio:
            best, ratio = stage, v / c
    if best is None:
        title = "Where customers and revenue sit in the lifecycle"
    else:
        r = rows[best]
        title = (
            f"{STAGE_LABELS[best]} customers are {share_text(r['share_of_customers'])} of the "
            f"base but bring {share_text(r['share_of_revenue'])} of revenue"
        )
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title_text="Share of the total")
    fig.update_yaxes(autorange="reversed")
    fig = apply_layout(
        fig,
        title=title,
        subtitle=f"As of {_day(report.as_of)}; every customer acquired so far (leads excluded)",
        height=400,
    )
    fig.update_layout(legend_traceorder="normal")
    return fig


def stage_history_chart(report: LifecycleReport) -> go.Figure:
    """Customers in each stage at every period end of the ledger (stacked areas)."""
    mix = report.mix
    unit = period_word(report.period_months)
    if mix.height == 0 or mix[CUSTOMERS].sum() == 0:
        return _empty("No customers yet", f"Stage at each {unit} end", "No customers.")
    days = mix[PERIOD_END].unique(maintain_order=True).to_list()
    fig = go.Figure()
    for stage in CUSTOMER_STAGES:
        rows = mix.filter(pl.col(STAGE) == stage)
        fig.add_scatter(
            x=rows[PERIOD_END].to_list(),
            y=rows[CUSTOMERS].to_list(),
            name=STAGE_LABELS[stage],
            mode="lines",
            stackgroup="stages",
            line={"width": 0.5, "color": STAGE_COLORS[stage]},
            fillcolor=_rgba(STAGE_COLORS[stage], 0.75),
            hovertemplate=f"{STAGE_LABELS[stage]}: %{{y:,}} customers<extra>%{{x|%d %b %Y}}"
            "</extra>",
        )
    live = mix.filter(pl.col(STAGE) != CHURNED)
    totals = dict(live.group_by(L.period).agg(pl.col(CUSTOMERS).sum()).iter_rows())
    title = "How the customer base moved through the stages"
    year = 12 // report.period_months
    then = min(year, max(totals))
    if then > 0 and totals.get(0) and totals.get(then):
        # the live stage whose share of the live base moved most over (up to) a year
        def share(stage: str, k: int) -> float:
            rows = live.filter((pl.col(STAGE) == stage) & (pl.col(L.period) == k))
            return float(rows[CUSTOMERS].sum()) / totals[k]

        moves = [(share(s, 0) - share(s, then), s) for s in (NEW, GROWING, MATURE, DECLINING)]
        _, stage = max(moves, key=lambda m: abs(m[0]))
        ago = (
            "a year"
            if then == year
            else f"{then} {period_word(report.period_months, plural=then > 1)}"
        )
        title = (
            f"{STAGE_LABELS[stage]} customers: {share_text(share(stage, 0))} of the live base "
            f"now, {share_text(share(stage, then))} {ago} earlier"
        )
    fig.update_yaxes(title_text="Customers", rangemode="tozero")
    fig.update_xaxes(
        title_text=f"{unit.capitalize()} end", tickformat="%b %Y", range=[days[0], days[-1]]
    )
    fig = apply_layout(
        fig,
        title=title,
        subtitle=f"Stage of every customer at each {unit} end (live base: not churned)",
        height=420,
    )
    fig.update_layout(legend_traceorder="normal")
    return fig


# ----------------------------------------------------------------------------- transitions


def _flow_title(t: Transitions) -> str:
    """The biggest move out of a healthy stage: into decline or into churn."""
    starts = dict(t.flows.group_by(FROM_STAGE).agg(pl.col(CUSTOMERS).sum()).iter_rows())
    for stage in (MATURE, GROWING, NEW):
        candidates = [(t.share(stage, to) or 0.0, to) for to in (DECLINING, CHURNED)]
        share, to = max(candidates)
        if starts.get(stage, 0) >= MIN_FOR_A_FINDING:
            where = "are declining now" if to == DECLINING else "have churned since"
            return (
                f"{share_text(share)} of the customers who were {STAGE_LABELS[stage].lower()} "
                f"on {_day(t.start)} {where}"
            )
    return f"Stage moves from {_day(t.start)} to {_day(t.end)}"


def transitions_sankey(t: Transitions, currency: str, *, hide_standing: bool = True) -> go.Figure:
    """Customers and leads flowing between the stages of two dates (Sankey).

    ``hide_standing`` leaves out customers churned at both dates and leads open at both,
    which would otherwise dwarf every other flow.
    """
    flows = t.flows
    if hide_standing:
        standing = (pl.col(FROM_STAGE) == pl.col(TO_STAGE)) & pl.col(FROM_STAGE).is_in(
            [CHURNED, PROSPECT]
        )
        flows = flows.filter(~standing)
    if flows.height == 0:
        return _empty(_flow_title(t), f"{_day(t.start)} to {_day(t.end)}", "No movements.")
    left = [n for n in FLOW_NODES if n in set(flows[FROM_STAGE])]
    right = [n for n in FLOW_NODES if n in set(flows[TO_STAGE])]
    index = {("L", n): i for i, n in enumerate(left)}
    index.update({("R", n): len(left) + i for i, n in enumerate(right)})
    totals_l = dict(flows.group_by(FROM_STAGE).agg(pl.col(CUSTOMERS).sum()).iter_rows())
    totals_r = dict(flows.group_by(TO_STAGE).agg(pl.col(CUSTOMERS).sum()).iter_rows())
    labels = [f"{FLOW_LABELS[n]} ({fmt_count(totals_l[n])})" for n in left] + [
        f"{FLOW_LABELS[n]} ({fmt_count(totals_r[n])})" for n in right
    ]
    node_hover = [f"{FLOW_LABELS[n]} on {_day(t.start)}" for n in left] + [
        f"{FLOW_LABELS[n]} on {_day(t.end)}" for n in right
    ]
    rows = flows.to_dicts()
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": [STAGE_COLORS[n] for n in left] + [STAGE_COLORS[n] for n in right],
                "pad": 14,
                "thickness": 16,
                "line": {"width": 0},
                "customdata": node_hover,
                "hovertemplate": "%{customdata}: %{value:,}<extra></extra>",
            },
            link={
                "source": [index[("L", r[FROM_STAGE])] for r in rows],
                "target": [index[("R", r[TO_STAGE])] for r in rows],
                "value": [r[CUSTOMERS] for r in rows],
                "color": [_rgba(STAGE_COLORS[r[TO_STAGE]], 0.35) for r in rows],
                "customdata": [
                    [
                        FLOW_LABELS[r[FROM_STAGE]],
                        FLOW_LABELS[r[TO_STAGE]],
                        fmt_money(r[REVENUE_TTM], currency),
                    ]
                    for r in rows
                ],
                "hovertemplate": "%{customdata[0]} → %{customdata[1]}: %{value:,}<br>"
                "12-month revenue then: %{customdata[2]}<extra></extra>",
            },
        )
    )
    hidden = (
        " Customers churned at both dates and leads open at both are left out."
        if hide_standing
        else ""
    )
    return apply_layout(
        fig,
        title=_flow_title(t),
        subtitle=f"Stage on {_day(t.start)} (left) and on {_day(t.end)} (right).{hidden}",
        height=520,
        legend=False,
    )


def transition_matrix(t: Transitions) -> go.Figure:
    """Where each stage's customers went: rows the earlier stage, columns the later one,
    cells the share of the row (customers in brackets)."""
    flows = t.flows
    if flows.height == 0:
        return _empty("No customers to follow", f"{_day(t.start)} to {_day(t.end)}", "None.")
    rows = [n for n in FLOW_NODES if n in set(flows[FROM_STAGE])]
    cols = [n for n in FLOW_NODES if n in set(flows[TO_STAGE])]
    totals = dict(flows.group_by(FROM_STAGE).agg(pl.col(CUSTOMERS).sum()).iter_rows())
    cell = {(r[FROM_STAGE], r[TO_STAGE]): r[CUSTOMERS] for r in flows.iter_rows(named=True)}
    z = [[(cell[(r, c)] / totals[r] if (r, c) in cell else None) for c in cols] for r in rows]
    text = [
        [
            f"{share_text(cell[(r, c)] / totals[r])}<br>({fmt_count(cell[(r, c)])})"
            if (r, c) in cell
            else ""
            for c in cols
        ]
        for r in rows
    ]
    fig = go.Figure()
    fig.add_trace(
        share_heatmap(
            [FLOW_LABELS[c] for c in cols],
            [FLOW_LABELS[r] for r in rows],
            z,
            text,
            hovertemplate=f"<b>%{{y}}</b> on {_day(t.start)} → <b>%{{x}}</b> on {_day(t.end)}: "
            "%{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title_text=f"Stage on {_day(t.start)}", showgrid=False)
    fig.update_xaxes(title_text=f"Stage on {_day(t.end)}", showgrid=False, side="top")
    declining = totals.get(DECLINING, 0)
    if declining >= MIN_FOR_A_FINDING:
        back = sum(cell.get((DECLINING, s), 0) for s in (NEW, GROWING, MATURE)) / declining
        lost = cell.get((DECLINING, CHURNED), 0) / declining
        title = (
            f"Of {fmt_count(declining)} declining customers, {share_text(back)} recovered and "
            f"{share_text(lost)} churned"
        )
    elif totals.get(MATURE):
        kept = cell.get((MATURE, MATURE), 0) / totals[MATURE]
        title = (
            f"{share_text(kept)} of the customers who were mature on {_day(t.start)} were "
            f"still mature on {_day(t.end)}"
        )
    else:
        title = f"Stage moves from {_day(t.start)} to {_day(t.end)}"
    return _top_axis(
        apply_layout(
            fig,
            title=title,
            subtitle="Share of each earlier stage by later stage (customers or leads in brackets)",
            height=500,
            legend=False,
        )
    )
