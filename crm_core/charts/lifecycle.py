"""Figures of the Lifecycle page: stage mix, stage history, transitions (Sankey and matrix),
the funnel, cohort retention heat maps and curves, and profit by tenure year.

Every builder takes a result of :mod:`crm_core.lifecycle` (report, funnel, cohorts or
tenure) and returns a ``go.Figure`` whose title
states the finding, finished with :func:`crm_core.charts.style.apply_layout`. Stage colours
are declared once, in :data:`STAGE_COLORS`, and used by every chart.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.segments import share_text
from crm_core.charts.style import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    PRIMARY,
    apply_layout,
    currency_prefix,
    share_heatmap,
)
from crm_core.formatting import fmt_count, fmt_money
from crm_core.lifecycle.cohorts import (
    COHORT_LABEL,
    QUARTER,
    RETENTION,
    REVENUE_RETENTION,
    CohortReport,
)
from crm_core.lifecycle.funnel import (
    ACTIVE_AFTER,
    CONVERSION,
    ELIGIBLE,
    FIRST_PURCHASE,
    LABEL,
    REACHED,
    REPEAT,
    STABLE,
    STEP,
    STEP_INDEX,
    FunnelReport,
)
from crm_core.lifecycle.report import (
    AS_OF,
    CHURNED,
    CUSTOMER_STAGES,
    CUSTOMERS,
    DECLINING,
    FLOW_LABELS,
    FLOW_NODES,
    FROM_STAGE,
    GROWING,
    LEAD_DROPPED,
    MATURE,
    NEW,
    NOT_YET,
    PROSPECT,
    REVENUE_TTM,
    STAGE,
    STAGE_LABELS,
    TO_STAGE,
    LifecycleReport,
    Transitions,
)
from crm_core.lifecycle.tenure import (
    ACQUISITION,
    BASE_PROFIT,
    EXTRA_PURCHASES,
    LOWER_COST_TO_SERVE,
    PROFIT,
    TENURE_YEAR,
    TenureProfit,
)

__all__ = [
    "STAGE_COLORS",
    "cohort_curves",
    "cohort_heatmap",
    "funnel_chart",
    "funnel_conversion_heatmap",
    "stage_history_chart",
    "stage_value_mix",
    "tenure_profit_chart",
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


def _day(d: date) -> str:
    return f"{d:%d %b %Y}"


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _top_axis(fig: go.Figure) -> go.Figure:
    """Room between the subtitle and an x axis drawn on top (heat maps)."""
    fig.update_layout(margin={"t": 150})
    return fig


def _empty(title: str, subtitle: str, message: str) -> go.Figure:
    fig = go.Figure()
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
    return apply_layout(fig, title=title, subtitle=subtitle, legend=False, height=360)


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
        if c and v is not None and v / c > ratio:
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
        subtitle=f"As of {_day(report.as_of)}; all customers acquired so far (leads excluded)",
        height=400,
    )
    fig.update_layout(legend_traceorder="normal")
    return fig


def stage_history_chart(report: LifecycleReport) -> go.Figure:
    """Customers in each stage at every month end of the history (stacked areas)."""
    mix = report.mix.filter(pl.col(STAGE) != PROSPECT)
    if mix.height == 0:
        return _empty("No customers yet", "Stage at each month end", "No customers.")
    days = sorted(mix[AS_OF].unique().to_list())
    fig = go.Figure()
    for stage in CUSTOMER_STAGES:
        counts = dict(mix.filter(pl.col(STAGE) == stage).select(AS_OF, CUSTOMERS).iter_rows())
        fig.add_scatter(
            x=days,
            y=[counts.get(d, 0) for d in days],
            name=STAGE_LABELS[stage],
            mode="lines",
            stackgroup="stages",
            line={"width": 0.5, "color": STAGE_COLORS[stage]},
            fillcolor=_rgba(STAGE_COLORS[stage], 0.75),
            hovertemplate=f"{STAGE_LABELS[stage]}: %{{y:,}} customers<extra>%{{x|%b %Y}}</extra>",
        )
    first = dict(mix.filter(pl.col(AS_OF) == days[0]).select(STAGE, CUSTOMERS).iter_rows())
    last = dict(mix.filter(pl.col(AS_OF) == days[-1]).select(STAGE, CUSTOMERS).iter_rows())
    live_first = sum(v for k, v in first.items() if k != CHURNED)
    live_last = sum(v for k, v in last.items() if k != CHURNED)
    title = "How the customer base moved through the stages"
    if live_first and live_last:
        # the live stage whose share of the live base moved most
        moves = [
            (last.get(s, 0) / live_last - first.get(s, 0) / live_first, s)
            for s in (NEW, GROWING, MATURE, DECLINING)
        ]
        _, stage = max(moves, key=lambda m: abs(m[0]))
        title = (
            f"{STAGE_LABELS[stage]} customers: {share_text(last.get(stage, 0) / live_last)} of "
            f"the live base now, {share_text(first.get(stage, 0) / live_first)} "
            f"{len(days) - 1} months ago"
        )
    fig.update_yaxes(title_text="Customers", rangemode="tozero")
    fig.update_xaxes(title_text="Month end", dtick="M3", tickformat="%b %Y")
    fig = apply_layout(
        fig,
        title=title,
        subtitle="Stage of every customer at each month end (live base = not churned)",
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


def transitions_sankey(
    t: Transitions, currency: str, *, hide_stayed_churned: bool = True
) -> go.Figure:
    """Customers and leads flowing between the stages of two dates (Sankey).

    ``hide_stayed_churned`` leaves out customers churned at both dates, which would
    otherwise dwarf every other flow.
    """
    flows = t.flows
    if hide_stayed_churned:
        flows = flows.filter(~((pl.col(FROM_STAGE) == CHURNED) & (pl.col(TO_STAGE) == CHURNED)))
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
    hidden = " Customers churned at both dates are left out." if hide_stayed_churned else ""
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


# ----------------------------------------------------------------------------- funnel


_FUNNEL_COLORS = {
    "prospects": STAGE_COLORS[PROSPECT],
    FIRST_PURCHASE: STAGE_COLORS[NEW],
    REPEAT: STAGE_COLORS[GROWING],
    STABLE: STAGE_COLORS[MATURE],
    ACTIVE_AFTER: "#0B2545",
}


def _leak_phrase(step: str, years: int) -> str:
    return {
        FIRST_PURCHASE: "prospects make a first purchase",
        REPEAT: "first-time buyers come back for a second purchase",
        STABLE: "eligible repeat buyers become stable customers",
        ACTIVE_AFTER: f"eligible stable customers are still buying after {years} years",
    }[step]


def funnel_chart(funnel: FunnelReport) -> go.Figure:
    """The lifecycle funnel: customers reaching each step, with the step's conversion."""
    steps = funnel.steps
    if steps.height == 0 or steps[REACHED][0] == 0:
        return _empty("No prospects or customers yet", "", "Nobody to count.")
    text = []
    for row in steps.iter_rows(named=True):
        if row[CONVERSION] is None:
            text.append(fmt_count(row[REACHED]))
        else:
            text.append(
                f"{fmt_count(row[REACHED])} · {share_text(row[CONVERSION])} of "
                f"{fmt_count(row[ELIGIBLE])} eligible"
            )
    fig = go.Figure(
        go.Funnel(
            y=steps[LABEL].to_list(),
            x=steps[REACHED].to_list(),
            text=text,
            textinfo="text",
            textposition="outside",
            marker={"color": [_FUNNEL_COLORS[s] for s in steps[STEP].to_list()]},
            connector={"fillcolor": "#E3E8EE"},
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    leaks = steps.filter(pl.col(STEP_INDEX) > 0).drop_nulls(CONVERSION)
    if leaks.height:
        worst = leaks.sort(CONVERSION).row(0, named=True)
        title = f"Biggest leak: only {share_text(worst[CONVERSION])} of " + _leak_phrase(
            worst[STEP], funnel.years
        )
    else:
        title = "The lifecycle funnel"
    return apply_layout(
        fig,
        title=title,
        subtitle="Everyone met so far; a step's rate counts only customers old enough to "
        "have reached it",
        height=420,
        legend=False,
    )


def funnel_conversion_heatmap(funnel: FunnelReport, by: str = "channel") -> go.Figure:
    """Step conversion rates per acquisition channel (``by="channel"``) or cohort year."""
    if by not in ("channel", "cohort"):
        raise ValueError(f"by must be 'channel' or 'cohort', got {by!r}")
    frame = (funnel.by_channel if by == "channel" else funnel.by_cohort).filter(
        pl.col(STEP_INDEX) > 0
    )
    if frame.height == 0:
        return _empty("No conversions yet", "", "Nobody to count.")
    groups = [str(g) for g in frame[by].unique().sort().to_list()]
    steps = frame.select(STEP_INDEX, LABEL).unique().sort(STEP_INDEX)[LABEL].to_list()
    cell = {(str(r[by]), r[LABEL]): r for r in frame.iter_rows(named=True)}
    z = [[cell[(g, s)][CONVERSION] for s in steps] for g in groups]
    text = [
        [
            "–"
            if cell[(g, s)][CONVERSION] is None
            else f"{share_text(cell[(g, s)][CONVERSION])}<br>"
            f"<span style='font-size:10px'>of {fmt_count(cell[(g, s)][ELIGIBLE])}</span>"
            for s in steps
        ]
        for g in groups
    ]
    fig = go.Figure()
    fig.add_trace(
        share_heatmap(
            steps,
            groups,
            z,
            text,
            hovertemplate="<b>%{y}</b> · %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(
        autorange="reversed",
        title_text="Acquisition channel" if by == "channel" else "Cohort (year acquired)",
        type="category",
        showgrid=False,
    )
    fig.update_xaxes(title_text="Step (conversion of the eligible)", showgrid=False, side="top")
    stable = frame.filter((pl.col(STEP_INDEX) == 3) & pl.col(CONVERSION).is_not_null())
    if stable.height >= 2:
        best = stable.sort(CONVERSION, descending=True).row(0, named=True)
        worst = stable.sort(CONVERSION).row(0, named=True)
        what = "channel" if by == "channel" else "cohort"
        if by == "channel":
            title = (
                f"{best[by]} turns {share_text(best[CONVERSION])} of repeat buyers into stable "
                f"customers; {worst[by]} only {share_text(worst[CONVERSION])}"
            )
        else:
            title = (
                f"The {best[by]} cohort turned {share_text(best[CONVERSION])} of repeat buyers "
                f"into stable customers; the {worst[by]} cohort only "
                f"{share_text(worst[CONVERSION])}"
            )
        subtitle = f"Conversion of each step by {what}; eligible customers in small type"
    else:
        title = f"Funnel conversion by {by}"
        subtitle = "Conversion of each step; eligible customers in small type"
    return _top_axis(
        apply_layout(
            fig, title=title, subtitle=subtitle, height=190 + 48 * len(groups), legend=False
        )
    )


# ----------------------------------------------------------------------------- cohorts


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _metric_name(metric: str) -> str:
    if metric == RETENTION:
        return "customers still active"
    if metric == REVENUE_RETENTION:
        return "revenue kept (NRR)"
    raise ValueError(f"metric must be {RETENTION!r} or {REVENUE_RETENTION!r}, got {metric!r}")


def _cohort_title(cohorts: CohortReport, metric: str) -> str:
    """The pooled value a year after acquisition (or at the latest quarter seen)."""
    avg = cohorts.average.filter((pl.col(QUARTER) <= 4) & (pl.col(QUARTER) > 0))
    if avg.height == 0 or avg[metric][-1] is None:
        return "Retention of each acquisition cohort"
    k, value = int(avg[QUARTER][-1]), avg[metric][-1]
    when = "A year" if k == 4 else f"{k} quarter{'s' if k > 1 else ''}"
    if metric == RETENTION:
        verb = "under contract" if cohorts.business_model == "contractual" else "still buying"
        return f"{when} after acquisition {share_text(value)} of customers are {verb}"
    return f"{when} in, cohorts bring {share_text(value)} of their first-quarter revenue"


def _cohort_subtitle(cohorts: CohortReport, metric: str) -> str:
    if metric == RETENTION:
        active = (
            "with a running contract at the quarter's start"
            if cohorts.business_model == "contractual"
            else "with a purchase in the quarter"
        )
        return f"Share of each cohort {active}; quarters counted from each acquisition day"
    return "Net revenue in quarter k / in quarter 0 (refunds netted); only complete quarters"


def cohort_heatmap(cohorts: CohortReport, metric: str = RETENTION) -> go.Figure:
    """Acquisition quarter x quarters since acquisition, coloured by ``metric``
    (``"retention"`` or ``"revenue_retention"``), with the value written in each cell."""
    name = _metric_name(metric)
    table = cohorts.table
    if table.height == 0:
        return _empty("No cohort has a complete quarter yet", "", "Not enough history.")
    present = table[COHORT_LABEL].unique().to_list()
    labels = cohorts.cohorts.filter(pl.col(COHORT_LABEL).is_in(present))[COHORT_LABEL].to_list()
    sizes = dict(cohorts.cohorts.select(COHORT_LABEL, "customers").iter_rows())
    quarters = list(range(int(table[QUARTER].max()) + 1))
    cell = {(r[COHORT_LABEL], r[QUARTER]): r for r in table.iter_rows(named=True)}
    z = [[(cell[(c, q)][metric] if (c, q) in cell else None) for q in quarters] for c in labels]
    text = [
        [
            ("" if v is None else share_text(v)) if (c, q) in cell else ""
            for q, v in zip(quarters, row, strict=True)
        ]
        for c, row in zip(labels, z, strict=True)
    ]
    top = 1.0 if metric == RETENTION else max(1.0, max((v for r in z for v in r if v), default=1))
    fig = go.Figure()
    fig.add_heatmap(
        x=[f"Q{q}" for q in quarters],
        y=[f"{c} ({fmt_count(sizes[c])})" for c in labels],
        z=z,
        text=text,
        texttemplate="%{text}",
        textfont={"size": 11},
        colorscale="Blues",
        zmin=0,
        zmax=top,
        colorbar={"title": {"text": _capital(name)}, "tickformat": ".0%", "thickness": 12},
        xgap=1,
        ygap=1,
        hovertemplate="Cohort %{y}, quarter %{x}: %{text} " + name + "<extra></extra>",
    )
    fig.update_yaxes(
        autorange="reversed", title_text="Acquisition quarter (customers)", showgrid=False
    )
    fig.update_xaxes(title_text="Quarters since acquisition", showgrid=False, side="top")
    return _top_axis(
        apply_layout(
            fig,
            title=_cohort_title(cohorts, metric),
            subtitle=_cohort_subtitle(cohorts, metric),
            height=220 + 30 * len(labels),
            legend=False,
        )
    )


def cohort_curves(cohorts: CohortReport, metric: str = RETENTION) -> go.Figure:
    """One retention curve per cohort (thin) and the pooled average (bold)."""
    name = _metric_name(metric)
    table = cohorts.table
    if table.height == 0:
        return _empty("No cohort has a complete quarter yet", "", "Not enough history.")
    fig = go.Figure()
    labels = table[COHORT_LABEL].unique(maintain_order=True).to_list()
    for i, label in enumerate(labels):
        rows = table.filter(pl.col(COHORT_LABEL) == label)
        shade = 0.25 + 0.6 * i / max(len(labels) - 1, 1)
        fig.add_scatter(
            x=rows[QUARTER].to_list(),
            y=rows[metric].to_list(),
            name=label,
            mode="lines",
            line={"width": 1.2, "color": _rgba(PRIMARY, shade)},
            hovertemplate=f"{label}, quarter %{{x}}: %{{y:.0%}} {name}<extra></extra>",
        )
    avg = cohorts.average
    fig.add_scatter(
        x=avg[QUARTER].to_list(),
        y=avg[metric].to_list(),
        name="All cohorts",
        mode="lines+markers",
        line={"width": 3.5, "color": "#E69F00"},
        hovertemplate=f"All cohorts, quarter %{{x}}: %{{y:.0%}} {name}<extra></extra>",
    )
    fig.update_xaxes(title_text="Quarters since acquisition", dtick=1)
    fig.update_yaxes(title_text=_capital(name), tickformat=".0%", rangemode="tozero")
    return apply_layout(
        fig,
        title=_cohort_title(cohorts, metric),
        subtitle=_cohort_subtitle(cohorts, metric) + "; darker lines are newer cohorts",
        height=420,
    )


# ----------------------------------------------------------------------------- tenure

_PART_STYLE = (
    (ACQUISITION, "Acquisition cost", NEGATIVE),
    (BASE_PROFIT, "Base profit (their first-year level)", PRIMARY),
    (EXTRA_PURCHASES, "Extra (or fewer) purchases vs their first year", POSITIVE),
    (LOWER_COST_TO_SERVE, "Lower cost to serve vs their first year", "#56B4E9"),
)


def _ordinal(n: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    return f"{n}{suffix}"


def tenure_profit_chart(tenure: TenureProfit) -> go.Figure:
    """Average profit per surviving customer by tenure year, split into its parts
    (stacked bars, negative parts below zero) with the total as a marker line."""
    table = tenure.table
    currency = tenure.currency
    if table.height == 0:
        return _empty("No customer has completed a first year yet", "", "Not enough history.")
    years = [
        f"Year {y}" + (" (mostly in progress)" if share >= 0.5 else "")
        for y, share in zip(table[TENURE_YEAR], table["in_progress_share"], strict=True)
    ]
    fig = go.Figure()
    for column, name, color in _PART_STYLE:
        values = table[column].to_list()
        if column == ACQUISITION and not any(values):
            continue
        fig.add_bar(
            x=years,
            y=values,
            name=name,
            marker_color=color,
            customdata=[fmt_money(v, currency) for v in values],
            hovertemplate=f"%{{x}} · {name}: %{{customdata}}<extra></extra>",
        )
    profit = table[PROFIT].to_list()
    notes = [
        f"{fmt_count(c)} customers" + (" · year in progress" if p > 0 else "")
        for c, p in zip(table["customers"], table["in_progress_share"], strict=True)
    ]
    fig.add_scatter(
        x=years,
        y=profit,
        name="Profit per customer",
        mode="markers+text+lines",
        line={"color": "#1B2430", "width": 1.5, "dash": "dot"},
        marker={"size": 10, "color": "#1B2430", "symbol": "diamond"},
        text=[fmt_money(v, currency) for v in profit],
        textposition="top center",
        customdata=notes,
        hovertemplate="%{x}: %{text} profit per customer-year<br>%{customdata}<extra></extra>",
    )
    first, last = profit[0], profit[-1]
    be = tenure.breakeven_year
    if be is None:
        title = "Customers have not turned profitable in the years observed"
    elif len(profit) == 1:
        title = (
            f"Customers earn {fmt_money(first, currency)} in their first year, after the "
            "acquisition cost"
        )
    elif be == 0:
        title = (
            f"Customers pay back their acquisition cost in year 0; profit per customer "
            f"{'grows' if last >= first else 'moves'} from {fmt_money(first, currency)} to "
            f"{fmt_money(last, currency)} by year {len(profit) - 1}"
        )
    else:
        title = f"Customers become profitable in their {_ordinal(be + 1)} year"
    fig.update_layout(barmode="relative", bargap=0.35)
    fig.update_yaxes(
        title_text=f"Profit per customer-year ({currency})",
        tickprefix=currency_prefix(currency),
        tickformat="~s",
        zeroline=True,
        zerolinewidth=1.5,
    )
    fig.update_xaxes(title_text="Tenure year (year 0 = first 12 months after acquisition)")
    return apply_layout(
        fig,
        title=title,
        subtitle="Customers active in each year; parts compare each customer with their own "
        "first year and add up to the profit",
        height=460,
    )
