"""Figures of the Lifecycle page's progress views: the funnel, acquisition cohorts and
profit by tenure year.

Pure builders: a result of :mod:`crm_core.lifecycle` in, a ``go.Figure`` out, finished with
:func:`crm_core.charts.style.apply_layout`; colours from :data:`crm_core.charts.lifecycle.
STAGE_COLORS`.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.lifecycle import (
    MIN_FOR_A_FINDING,
    STAGE_COLORS,
    empty_figure,
    rgba,
    top_axis,
)
from crm_core.charts.style import (
    NEGATIVE,
    POSITIVE,
    PRIMARY,
    apply_layout,
    currency_prefix,
    share_heatmap,
)
from crm_core.copy.lifecycle import share_text
from crm_core.copy.lifecycle_progress import COHORT_MEASURES
from crm_core.data.ledger import GROWING, MATURE, NEW
from crm_core.formatting import fmt_count, fmt_money
from crm_core.lifecycle.cohorts import (
    ACTIVE_SHARE,
    BUYING_SHARE,
    COHORT_LABEL,
    CUSTOMERS,
    QUARTER,
    REVENUE_INDEX,
    CohortReport,
)
from crm_core.lifecycle.funnel import (
    ACTIVE_AFTER,
    CONVERSION,
    ELIGIBLE,
    FIRST_PURCHASE,
    LABEL,
    PROSPECTS,
    REACHED,
    REPEAT,
    STABLE,
    STEP,
    STEP_INDEX,
    FunnelReport,
)
from crm_core.lifecycle.stages import PROSPECT
from crm_core.lifecycle.tenure import (
    ACQUISITION,
    BASE_PROFIT,
    EXTRA_PURCHASES,
    IN_PROGRESS_SHARE,
    LOWER_COST_TO_SERVE,
    PARTS,
    PROFIT,
    TENURE_YEAR,
    TenureProfit,
)

__all__ = [
    "cohort_curves",
    "cohort_heatmap",
    "funnel_chart",
    "funnel_conversion_heatmap",
    "tenure_profit_chart",
]

_empty = empty_figure
_rgba = rgba
_top_axis = top_axis


# ----------------------------------------------------------------------------- funnel


_FUNNEL_COLORS = {
    PROSPECTS: STAGE_COLORS[PROSPECT],
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
            # the widest bar (the top) keeps its label inside, the others beside them
            textposition=["inside", *["outside"] * (steps.height - 1)],
            insidetextanchor="middle",
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
            [html.escape(g) for g in groups],  # channel names are data: never markup
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
    stable = frame.filter(
        (pl.col(STEP_INDEX) == 3)
        & pl.col(CONVERSION).is_not_null()
        & (pl.col(ELIGIBLE) >= MIN_FOR_A_FINDING)
    )
    what = "channel" if by == "channel" else "cohort"
    subtitle = f"Conversion of each step by {what}; eligible customers in small type"
    title = f"Funnel conversion by {what}"
    if stable.height >= 2:
        best = stable.sort(CONVERSION, descending=True).row(0, named=True)
        worst = stable.sort(CONVERSION).row(0, named=True)
        high, low = share_text(best[CONVERSION]), share_text(worst[CONVERSION])
        if high == low:
            title = f"Every {what} turns about {high} of repeat buyers into stable customers"
        elif by == "channel":
            title = (
                f"{best[by]} turns {high} of repeat buyers into stable customers; "
                f"{worst[by]} only {low}"
            )
        else:
            title = (
                f"The {best[by]} cohort turned {high} of repeat buyers into stable customers; "
                f"the {worst[by]} cohort only {low}"
            )
    return _top_axis(
        apply_layout(
            fig, title=title, subtitle=subtitle, height=190 + 48 * len(groups), legend=False
        )
    )


# ----------------------------------------------------------------------------- cohorts


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_SHORT = {
    BUYING_SHARE: "share of the cohort buying",
    ACTIVE_SHARE: "share of the cohort active",
    REVENUE_INDEX: "revenue vs quarter 0",
}


def _metric_name(metric: str) -> str:
    if metric not in _SHORT:
        raise ValueError(f"metric must be one of {sorted(_SHORT)}, got {metric!r}")
    return _SHORT[metric]


def _cohort_title(cohorts: CohortReport, metric: str) -> str:
    """The pooled value a year after the acquisition quarter (or the latest one seen)."""
    avg = cohorts.average.filter((pl.col(QUARTER) <= 4) & (pl.col(QUARTER) > 0))
    if avg.height == 0 or avg[metric][-1] is None:
        return f"{COHORT_MEASURES[metric]}: each acquisition cohort over time"
    k, value = int(avg[QUARTER][-1]), avg[metric][-1]
    when = "Four quarters" if k == 4 else f"{k} quarter{'s' if k > 1 else ''}"
    if metric == BUYING_SHARE:
        return f"{when} after the acquisition quarter, {share_text(value)} of a cohort buy"
    if metric == ACTIVE_SHARE:
        verb = "under contract" if cohorts.business_model == "contractual" else "still active"
        return f"{when} after the acquisition quarter, {share_text(value)} of a cohort are {verb}"
    return f"{when} in, cohorts bring {share_text(value)} of their first-quarter revenue"


def _cohort_subtitle(cohorts: CohortReport, metric: str) -> str:
    if metric == BUYING_SHARE:
        return "Share of each cohort with a purchase in the quarter (quarter 0: of acquisition)"
    if metric == ACTIVE_SHARE:
        return "Share of each cohort active at the quarter end by the activity rule of every page"
    return "Net revenue in quarter k / in quarter 0 (refunds netted); quarters that have ended"


def cohort_heatmap(cohorts: CohortReport, metric: str = BUYING_SHARE) -> go.Figure:
    """Acquisition quarter x quarters since, coloured by ``metric`` (``buying_share``,
    ``active_share`` or ``revenue_index``), with the value written in each cell."""
    name = _metric_name(metric)
    table = cohorts.table
    if table.height == 0:
        return _empty("No cohort has a quarter yet", "", "Not enough history.")
    labels = cohorts.cohorts[COHORT_LABEL].to_list()
    sizes = dict(cohorts.cohorts.select(COHORT_LABEL, CUSTOMERS).iter_rows())
    quarters = list(range(int(table[QUARTER].max()) + 1))
    cell = {(r[COHORT_LABEL], r[QUARTER]): r[metric] for r in table.iter_rows(named=True)}
    z = [[cell.get((c, q)) for q in quarters] for c in labels]
    text = [["" if v is None else share_text(v) for v in row] for row in z]
    top = (
        1.0 if metric != REVENUE_INDEX else max(1.0, max((v for r in z for v in r if v), default=1))
    )
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
    fig.update_xaxes(
        title_text="Quarters since the acquisition quarter", showgrid=False, side="top"
    )
    return _top_axis(
        apply_layout(
            fig,
            title=_cohort_title(cohorts, metric),
            subtitle=_cohort_subtitle(cohorts, metric),
            height=220 + 30 * len(labels),
            legend=False,
        )
    )


def cohort_curves(cohorts: CohortReport, metric: str = BUYING_SHARE) -> go.Figure:
    """One curve per cohort (thin, darker = newer) and the pooled average (bold)."""
    name = _metric_name(metric)
    table = cohorts.table
    if table.height == 0:
        return _empty("No cohort has a quarter yet", "", "Not enough history.")
    fig = go.Figure()
    labels = cohorts.cohorts[COHORT_LABEL].to_list()
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
    fig.update_xaxes(title_text="Quarters since the acquisition quarter", dtick=1)
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
        for y, share in zip(table[TENURE_YEAR], table[IN_PROGRESS_SHARE], strict=True)
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
        for c, p in zip(table[CUSTOMERS], table[IN_PROGRESS_SHARE], strict=True)
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
    # headroom above the tallest stack for the profit labels
    ups = table.select(pl.sum_horizontal(pl.col(PARTS).clip(0.0)))[:, 0]
    downs = table.select(pl.sum_horizontal(pl.col(PARTS).clip(None, 0.0)))[:, 0]
    top, bottom = max([0.0, *profit, *ups]), min([0.0, *profit, *downs])
    span = (top - bottom) or 1.0
    fig.update_yaxes(
        range=[bottom - 0.08 * span, top + 0.16 * span],
        title_text=f"Profit per customer-year ({currency})",
        tickprefix=currency_prefix(currency),
        tickformat="~s",
        zeroline=True,
        zerolinewidth=1.5,
    )
    fig.update_xaxes(
        title_text="Tenure year (year 0: the first 12 months, from the period of acquisition)"
    )
    return apply_layout(
        fig,
        title=title,
        subtitle="Customers active in each year; parts compare each customer with their own "
        "first year and add up to the profit",
        height=460,
    )
