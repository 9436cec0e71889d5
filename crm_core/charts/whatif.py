"""Figures and sentences of the What-if page: projections with bands, equity bridges,
the sensitivity tornado, the retention budget split and scenario comparisons.

Pure functions: results of :mod:`crm_core.whatif.engine` / :mod:`crm_core.whatif.optimize` in,
``go.Figure`` (or a sentence) out, finished with :func:`crm_core.charts.style.apply_layout`.
Every number shown goes through :mod:`crm_core.formatting`.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from crm_core.charts.style import (
    NEGATIVE,
    NEUTRAL,
    PALETTE,
    POSITIVE,
    PRIMARY,
    apply_layout,
    currency_prefix,
)
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.whatif.engine import RetentionUplift, SimulationResult
from crm_core.whatif.optimize import ALL_SEGMENTS, BreakEven, BudgetAllocation

__all__ = [
    "MAX_COMPARED",
    "allocation_figure",
    "break_even_sentence",
    "equity_waterfall_figure",
    "projection_figure",
    "retention_uplift_sentence",
    "scenario_comparison_figure",
    "tornado_figure",
]

MAX_COMPARED = 4
"""Scenario comparison: the reference plus up to three scenarios."""

_METRICS = {
    # metric: (axis title, words in titles, money?)
    "customers": ("Customers active at year end", "customers", False),
    "profit": ("Profit per year", "profit", True),
    "discounted_profit": ("Discounted profit per year", "discounted profit", True),
}
_BAND_NOTE = "shaded: P10–P90, 80% of {draws} simulated outcomes"
_SCENARIO_COLORS = (PRIMARY, PALETTE[1], PALETTE[2], PALETTE[3])


def _points(value: float) -> str:
    """Size of a change in percentage points: 5 -> '5', 3.3247 -> '3.3', 0.04 -> '0.04'."""
    size = abs(value)
    return f"{round(size, 1):g}" if size >= 0.1 else f"{size:.1g}"


def _customers(value: float | None) -> str:
    """Projected customers are expected values; show them as whole customers."""
    return fmt_count(None if value is None else round(value))


def _signed_money(value: float, currency: str) -> str:
    return ("+" if value >= 0 else "") + fmt_money(value, currency)


def _fmt(value: float | None, money: bool, currency: str) -> str:
    return fmt_money(value, currency) if money else _customers(value)


def _money_axis(currency: str, digits: str = "~s") -> dict:
    """Axis ticks in ``currency``: ``$`` goes into the d3 format, so a negative tick reads
    ``−$200k``, not ``$−200k``; other currencies are a tick prefix."""
    symbol = currency_prefix(currency)
    if symbol == "$":
        return {"tickformat": f"${digits}"}
    return {"tickprefix": symbol, "tickformat": digits}


def _horizon_note(result: SimulationResult) -> str:
    rate = result.discount_rate
    digits = 0 if round(rate * 100, 6).is_integer() else 1
    return (
        f"{result.horizon_years}-year horizon, discount rate {fmt_pct(rate, digits=digits)} a year"
    )


# ----------------------------------------------------------------------------- projection


def _series(
    result: SimulationResult, metric: str, segment: str | None
) -> tuple[list[int], list[float], pl.DataFrame | None]:
    """Years, deterministic values and the P10/P90 band (or None) of one metric."""
    if segment is None:
        frame = result.totals
    else:
        if segment not in result.segments:
            raise ValueError(f"Unknown segment {segment!r}; known: {result.segments}")
        frame = result.by_year.filter(pl.col("segment") == segment)
    band = None
    if result.uncertainty is not None:
        bands = result.uncertainty.totals if segment is None else result.uncertainty.by_year
        band = bands.filter(pl.col("metric") == metric)
        if segment is not None:
            band = band.filter(pl.col("segment") == segment)
        band = band.sort("year")
    return frame["year"].to_list(), frame[metric].to_list(), band


def projection_figure(
    baseline: SimulationResult,
    scenario: SimulationResult | None = None,
    *,
    metric: str = "profit",
    currency: str = "USD",
    segment: str | None = None,
    baseline_name: str = "Baseline",
    scenario_name: str = "Scenario",
) -> go.Figure:
    """Year-by-year projection of one metric, baseline against a scenario, with P10–P90 bands.

    Parameters
    ----------
    baseline, scenario
        Results of :func:`crm_core.whatif.simulate` (bands drawn when they have draws).
    metric
        ``"customers"`` (active at year end), ``"profit"`` or ``"discounted_profit"``.
    currency
        ISO code for axis and hover labels.
    segment
        One segment's projection; ``None`` for all segments together.
    baseline_name, scenario_name
        Legend names.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {sorted(_METRICS)}, got {metric!r}")
    axis_title, words, money = _METRICS[metric]
    fig = go.Figure()
    lines = [(baseline, baseline_name, PRIMARY)]
    if scenario is not None:
        lines.append((scenario, scenario_name, PALETTE[1]))
    draws = 0
    last: list[float] = []
    for result, name, color in lines:
        years, values, band = _series(result, metric, segment)
        if band is not None and band.height:
            draws = result.uncertainty.draws
            fig.add_scatter(
                x=band["year"].to_list(),
                y=band["p90"].to_list(),
                name=f"{name}: P90",
                mode="lines",
                line={"width": 0, "color": color},
                showlegend=False,
                hoverinfo="skip",
            )
            fig.add_scatter(
                x=band["year"].to_list(),
                y=band["p10"].to_list(),
                name=f"{name}: likely range (P10–P90)",
                mode="lines",
                line={"width": 0, "color": color},
                fill="tonexty",
                fillcolor=_transparent(color),
                customdata=[
                    [_fmt(lo, money, currency), _fmt(hi, money, currency)]
                    for lo, hi in zip(band["p10"], band["p90"], strict=True)
                ],
                hovertemplate=(
                    f"Year %{{x}}<br>{name}: %{{customdata[0]}} to %{{customdata[1]}}"
                    "<extra>P10–P90</extra>"
                ),
            )
        fig.add_scatter(
            x=years,
            y=values,
            name=name,
            mode="lines+markers",
            line={"color": color, "width": 2.5},
            customdata=[_fmt(v, money, currency) for v in values],
            hovertemplate=f"Year %{{x}}<br>{name}: %{{customdata}}<extra></extra>",
        )
        last.append(values[-1] if values else 0.0)
    where = "" if segment is None else f" in {segment}"
    horizon = baseline.horizon_years
    if scenario is None:
        first_values = _series(baseline, metric, segment)[1]
        start, end = first_values[0], first_values[-1]
        verb = ("grow" if end > start else "fall" if end < start else "stay") + (
            "" if metric == "customers" else "s"
        )
        title = (
            f"{words.capitalize()}{where} {verb} from {_fmt(start, money, currency)} in year 1 "
            f"to {_fmt(end, money, currency)} in year {horizon}"
        )
    elif metric == "customers":
        gap = last[1] - last[0]
        verb = "keeps" if gap >= 0 else "loses"
        title = (
            f"{scenario_name} {verb} {_customers(abs(gap))} "
            f"{'more' if gap >= 0 else 'fewer'} customers{where} by year {horizon}"
        )
    else:
        gap = sum(_series(scenario, metric, segment)[1]) - sum(
            _series(baseline, metric, segment)[1]
        )
        verb = "adds" if gap >= 0 else "costs"
        title = (
            f"{scenario_name} {verb} {fmt_money(abs(gap), currency)} of {words}{where} "
            f"over {horizon} years"
        )
    subtitle = _horizon_note(baseline)
    if draws:
        subtitle += "; " + _BAND_NOTE.format(draws=fmt_count(draws))
    fig.update_xaxes(title_text="Year", dtick=1 if horizon <= 15 else None)
    yaxis = {"title_text": f"{axis_title} ({currency})" if money else axis_title}
    if money:
        yaxis |= _money_axis(currency)
    else:
        yaxis |= {"tickformat": "~s", "rangemode": "tozero"}
    fig.update_yaxes(**yaxis)
    fig.update_layout(hovermode="x unified")
    return apply_layout(fig, title=title, subtitle=subtitle)


def _transparent(color: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


# ----------------------------------------------------------------------------- waterfall


def equity_waterfall_figure(
    baseline: SimulationResult,
    scenario: SimulationResult,
    *,
    currency: str = "USD",
    baseline_name: str = "Baseline",
    scenario_name: str = "Scenario",
) -> go.Figure:
    """Customer equity from the baseline to the scenario, one step per segment."""
    before = baseline.segment_equity()
    after = scenario.segment_equity()
    if list(before) != list(after):
        raise ValueError("baseline and scenario must have the same segments")
    changes = {name: after[name] - before[name] for name in before}
    total_before, total_after = baseline.customer_equity, scenario.customer_equity
    labels = [baseline_name, *changes, scenario_name]
    values = [total_before, *changes.values(), total_after]
    texts = [
        fmt_money(total_before, currency),
        *(_signed_money(v, currency) for v in changes.values()),
        fmt_money(total_after, currency),
    ]
    fig = go.Figure(
        go.Waterfall(
            name="Customer equity",
            x=labels,
            y=values,
            measure=["absolute", *["relative"] * len(changes), "total"],
            text=texts,
            textposition="outside",
            customdata=texts,
            hovertemplate="%{x}: %{customdata}<extra></extra>",
            increasing={"marker": {"color": POSITIVE}},
            decreasing={"marker": {"color": NEGATIVE}},
            totals={"marker": {"color": PRIMARY}},
            connector={"line": {"color": NEUTRAL, "width": 1}},
        )
    )
    gap = total_after - total_before
    share = gap / total_before if total_before > 0 else None
    verb = "adds" if gap >= 0 else "removes"
    amount = fmt_money(abs(gap), currency)
    title = f"{scenario_name} {verb} {amount}"
    if share is not None:
        title += f" ({fmt_pct(share, signed=True)})"
    title += " of customer equity"
    if changes and gap != 0:
        lead = max(changes, key=lambda n: changes[n] * (1 if gap > 0 else -1))
        title += f"; most from {lead}"
    fig.update_yaxes(title_text=f"Customer equity ({currency})", **_money_axis(currency))
    fig.update_xaxes(title_text="Segment")
    return apply_layout(
        fig,
        title=title,
        subtitle="Change in discounted profit of current and future customers by segment; "
        + _horizon_note(scenario),
        legend=False,
    )


# ----------------------------------------------------------------------------- tornado


def _change_label(value: float, unit: str) -> str:
    if unit == "points":
        return f"{'+' if value >= 0 else '−'}{_points(value)} pt"
    if unit == "years":
        return f"{'+' if value >= 0 else '−'}{abs(value):g} yr"
    return f"{'+' if value >= 0 else '−'}{abs(value):g}%"


def _lever_name(row: dict) -> str:
    name = row["lever_label"]
    return name if row["segment"] == ALL_SEGMENTS else f"{name}, {row['segment']}"


def tornado_figure(
    frame: pl.DataFrame,
    *,
    currency: str = "USD",
    top: int = 12,
    reference_name: str = "the baseline",
) -> go.Figure:
    """Sensitivity tornado: change in customer equity when each lever moves down or up.

    Parameters
    ----------
    frame
        Output of :func:`crm_core.whatif_optimize.sensitivity` (largest impact first).
    currency
        ISO code for the axis and hover labels.
    top
        Number of levers shown (the largest impacts).
    reference_name
        What the levers move from, for the subtitle ("the baseline", "the scenario").
    """
    rows = frame.head(top).to_dicts()
    rows.reverse()  # plotly draws the first category at the bottom
    names = [_lever_name(r) for r in rows]
    fig = go.Figure()
    for side, words, color in (("low", "Lever down", NEGATIVE), ("high", "Lever up", POSITIVE)):
        deltas = [r[f"delta_{side}"] for r in rows]
        moves = [_change_label(r[f"{side}_change"], r["unit"]) for r in rows]
        fig.add_bar(
            y=names,
            x=deltas,
            orientation="h",
            name=words,
            marker_color=color,
            text=moves,
            textposition="auto",
            customdata=[
                [m, _signed_money(d, currency)] for m, d in zip(moves, deltas, strict=True)
            ],
            hovertemplate="%{y}, %{customdata[0]}: %{customdata[1]} of equity<extra></extra>",
        )
    if rows:
        lead = rows[-1]
        up = lead["delta_high"]
        title = (
            f"{_lever_name(lead)} moves customer equity most: "
            f"{_signed_money(up, currency)} for {_change_label(lead['high_change'], lead['unit'])}"
        )
        base = fmt_money(lead["baseline_equity"], currency)
        subtitle = f"One lever at a time, the rest at {reference_name} (customer equity {base})"
    else:
        title, subtitle = "No lever changes customer equity", None
    fig.update_layout(barmode="overlay", bargap=0.3)
    fig.update_xaxes(
        title_text=f"Change in customer equity ({currency})",
        zeroline=True,
        zerolinecolor=NEUTRAL,
        **_money_axis(currency),
    )
    fig.update_yaxes(title_text="Lever")
    return apply_layout(fig, title=title, subtitle=subtitle, height=max(360, 60 + 34 * len(rows)))


# ----------------------------------------------------------------------------- optimiser


def allocation_figure(result: BudgetAllocation, *, currency: str = "USD") -> go.Figure:
    """Best split of a retention budget (left) and the equity one more dollar adds (right).

    The right panel shows, per segment, the equity added by one more currency unit of
    yearly budget before any budget and after the split (net of the spend itself).
    """
    frame = result.allocation
    segments = frame["segment"].to_list()
    budgets = frame["budget"].to_list()
    unit = f"{currency_prefix(currency)}1"
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Retention budget per year", f"Equity added by the next {unit}"),
        horizontal_spacing=0.14,
    )
    fig.add_bar(
        x=segments,
        y=budgets,
        name="Budget per year",
        marker_color=PRIMARY,
        text=[fmt_money(b, currency) for b in budgets],
        textposition="outside",
        customdata=[
            [fmt_money(b, currency), fmt_money(s, currency), _signed_money(g, currency)]
            for b, s, g in zip(
                budgets, frame["spend_per_customer"], frame["equity_gain"], strict=True
            )
        ],
        hovertemplate=(
            "%{x}: %{customdata[0]} a year (%{customdata[1]} per customer)"
            "<br>Customer equity %{customdata[2]}<extra></extra>"
        ),
        showlegend=False,
        row=1,
        col=1,
    )
    for column, name, color in (
        ("first_dollar_equity", "Before any budget", NEUTRAL),
        ("marginal_equity", "After this split", POSITIVE),
    ):
        values = frame[column].to_list()
        fig.add_bar(
            x=segments,
            y=values,
            name=name,
            marker_color=color,
            customdata=[_signed_money(v, currency) for v in values],
            hovertemplate=(
                f"%{{x}}, {name.lower()}: %{{customdata}} of equity per extra {unit}<extra></extra>"
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(
        title_text=f"Budget per year ({currency})", **_money_axis(currency), row=1, col=1
    )
    fig.update_yaxes(
        title_text=f"Equity per extra {unit} ({currency})",
        **_money_axis(currency, ",.2f"),
        zeroline=True,
        zerolinecolor=NEUTRAL,
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="Segment")
    first = frame["first_dollar_equity"].to_list()
    if result.spent <= 0:
        best = max(range(len(first)), key=first.__getitem__) if first else None
        if best is None or first[best] <= 0:
            title = "No retention spend adds customer equity"
        else:
            title = (
                f"The first {unit} of retention budget goes furthest in {segments[best]}: "
                f"{_signed_money(first[best], currency)} of equity"
            )
    else:
        lead = segments[max(range(len(budgets)), key=budgets.__getitem__)]
        title = (
            f"{fmt_money(result.spent, currency)} a year on retention adds "
            f"{fmt_money(result.gain, currency)} of customer equity, most of it spent in {lead}"
        )
    equal_gain = result.equal_split_equity - result.baseline_equity
    subtitle = f"Best split of a {fmt_money(result.budget, currency)} yearly budget"
    if 0 < result.spent < result.budget * 0.999:
        subtitle += " (spending the rest would lower equity)"
    subtitle += (
        f"; an equal split would add {fmt_money(equal_gain, currency)}. Equity is net of the spend"
    )
    fig = apply_layout(fig, title=title, subtitle=subtitle)
    # Legend under the plots: above them it would cover the panel titles.
    fig.update_layout(
        legend={"y": -0.2, "yanchor": "top", "x": 1.0, "xanchor": "right"},
        margin={"b": 96},
    )
    return fig


# ----------------------------------------------------------------------------- comparison


def scenario_comparison_figure(
    results: Mapping[str, SimulationResult], *, currency: str = "USD"
) -> go.Figure:
    """Customer equity (with P10–P90 whiskers) and customers at the horizon, side by side.

    Parameters
    ----------
    results
        Scenario name -> result, the reference (baseline) first; at most four.
    currency
        ISO code for axis and hover labels.
    """
    if not 1 <= len(results) <= MAX_COMPARED:
        raise ValueError(f"compare 1 to {MAX_COMPARED} scenarios (baseline plus three)")
    names = list(results)
    items = list(results.values())
    equity = [r.customer_equity for r in items]
    customers = [r.totals["customers"][-1] for r in items]
    colors = [_SCENARIO_COLORS[i] for i in range(len(items))]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Customer equity", "Customers at the end of the horizon"),
        horizontal_spacing=0.14,
    )
    has_bands = all(r.uncertainty is not None for r in items)
    error = None
    if has_bands:
        error = {
            "type": "data",
            "symmetric": False,
            "array": [r.uncertainty.equity.p90 - e for r, e in zip(items, equity, strict=True)],
            "arrayminus": [
                e - r.uncertainty.equity.p10 for r, e in zip(items, equity, strict=True)
            ],
            "color": NEUTRAL,
        }
    fig.add_bar(
        x=names,
        y=equity,
        name="Customer equity",
        marker_color=colors,
        error_y=error,
        text=[fmt_money(e, currency) for e in equity],
        textposition="inside",
        insidetextanchor="middle",
        customdata=[fmt_money(e, currency) for e in equity],
        hovertemplate="%{x}: %{customdata} of customer equity<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_bar(
        x=names,
        y=customers,
        name="Customers at the end of the horizon",
        marker_color=colors,
        text=[_customers(c) for c in customers],
        textposition="inside",
        insidetextanchor="middle",
        customdata=[_customers(c) for c in customers],
        hovertemplate="%{x}: %{customdata} customers<extra></extra>",
        row=1,
        col=2,
    )
    fig.update_yaxes(
        title_text=f"Customer equity ({currency})", **_money_axis(currency), row=1, col=1
    )
    fig.update_yaxes(title_text="Active customers", tickformat="~s", row=1, col=2)
    fig.update_xaxes(title_text="Scenario")
    best = max(range(len(items)), key=equity.__getitem__)
    if len(items) == 1:
        title = f"{names[0]}: {fmt_money(equity[0], currency)} of customer equity"
    elif best == 0:
        title = f"{names[0]} stays ahead: no scenario adds customer equity"
    else:
        title = (
            f"{names[best]} gives the most customer equity: {fmt_money(equity[best], currency)}, "
            f"{fmt_money(equity[best] - equity[0], currency)} more than {names[0]}"
        )
    subtitle = _horizon_note(items[0])
    if has_bands:
        subtitle += "; whiskers: P10–P90 of simulated outcomes"
    return apply_layout(fig, title=title, subtitle=subtitle, legend=False)


# ----------------------------------------------------------------------------- sentences


def retention_uplift_sentence(uplift: RetentionUplift, *, currency: str = "USD") -> str:
    """The "+5 points of retention" answer in words.

    e.g. "Keeping 5 more customers in every 100 each year raises customer equity by 31%
    ($2.4M)".
    """
    points = _points(uplift.points)
    if uplift.points >= 0:
        lead = f"Keeping {points} more customers in every 100 each year"
    else:
        lead = f"Losing {points} more customers in every 100 each year"
    change = uplift.change
    verb = "raises" if change >= 0 else "lowers"
    amount = fmt_money(abs(change), currency)
    share = uplift.change_share
    if share is None:
        return f"{lead} {verb} customer equity by {amount}"
    return f"{lead} {verb} customer equity by {fmt_pct(abs(share))} ({amount})"


def break_even_sentence(result: BreakEven, *, currency: str = "USD") -> str:
    """Break-even of a retention spend, and the acquisition alternative, in words."""
    spend = fmt_money(result.spend, currency)
    head = f"Spending {spend} a year on retention in {result.segment}"
    if result.required_points is None:
        text = f"{head} cannot pay off, even if nobody left"
    else:
        text = (
            f"{head} pays off if it keeps {_points(result.required_points)} more customers "
            f"in every 100 each year; the response curve expects "
            f"{_points(result.bought_points)} more"
        )
    if result.customers_bought_per_year is not None and result.acquisition_equity_gain is not None:
        gain = result.acquisition_equity_gain
        text += (
            f". The same money buys {_customers(result.customers_bought_per_year)} new customers a "
            f"year, {'adding' if gain >= 0 else 'losing'} {fmt_money(abs(gain), currency)} of "
            "customer equity"
        )
    return text + "."
