"""Figures of the What-if page: projections with bands, equity bridges and scenario
comparisons (the tornado and the budget split: :mod:`crm_core.charts.whatif_spend`).

Pure functions: results of :mod:`crm_core.whatif.engine` in, ``go.Figure`` out, finished
with :func:`crm_core.charts.style.apply_layout`. Every number shown goes through
:mod:`crm_core.formatting`. The What-if figures are *projected equity* (retention model),
never "customer equity", which is the Overview's fitted-CLV figure.
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
from crm_core.whatif.results import SimulationResult

__all__ = [
    "MAX_COMPARED",
    "equity_waterfall_figure",
    "money_axis",
    "projection_figure",
    "scenario_comparison_figure",
    "signed_money",
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


def _customers(value: float | None) -> str:
    """Projected customers are expected values; show them as whole customers."""
    return fmt_count(None if value is None else round(value))


def signed_money(value: float, currency: str) -> str:
    return ("+" if value >= 0 else "") + fmt_money(value, currency)


def _fmt(value: float | None, money: bool, currency: str) -> str:
    return fmt_money(value, currency) if money else _customers(value)


def money_axis(currency: str, digits: str = "~s") -> dict:
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
        yaxis |= money_axis(currency)
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
    """Projected equity from the baseline to the scenario, one step per segment."""
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
        *(signed_money(v, currency) for v in changes.values()),
        fmt_money(total_after, currency),
    ]
    fig = go.Figure(
        go.Waterfall(
            name="Projected equity",
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
    title += " of projected equity"
    if changes and gap != 0:
        lead = max(changes, key=lambda n: changes[n] * (1 if gap > 0 else -1))
        title += f"; most from {lead}"
    fig.update_yaxes(title_text=f"Projected equity ({currency})", **money_axis(currency))
    fig.update_xaxes(title_text="Segment")
    return apply_layout(
        fig,
        title=title,
        subtitle="Change in discounted profit by segment; " + _horizon_note(scenario),
        legend=False,
    )


# ----------------------------------------------------------------------------- comparison


def scenario_comparison_figure(
    results: Mapping[str, SimulationResult], *, currency: str = "USD"
) -> go.Figure:
    """Projected equity (with P10–P90 whiskers) and customers at the horizon, side by side.

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
        subplot_titles=("Projected equity", "Customers at the end of the horizon"),
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
        name="Projected equity",
        marker_color=colors,
        error_y=error,
        text=[fmt_money(e, currency) for e in equity],
        textposition="inside",
        insidetextanchor="middle",
        customdata=[fmt_money(e, currency) for e in equity],
        hovertemplate="%{x}: %{customdata} of projected equity<extra></extra>",
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
        title_text=f"Projected equity ({currency})", **money_axis(currency), row=1, col=1
    )
    fig.update_yaxes(title_text="Active customers", tickformat="~s", row=1, col=2)
    fig.update_xaxes(title_text="Scenario")
    best = max(range(len(items)), key=equity.__getitem__)
    if len(items) == 1:
        title = f"{names[0]}: {fmt_money(equity[0], currency)} of projected equity"
    elif best == 0:
        title = f"{names[0]} stays ahead: no scenario adds projected equity"
    else:
        title = (
            f"{names[best]} gives the most projected equity: {fmt_money(equity[best], currency)}, "
            f"{fmt_money(equity[best] - equity[0], currency)} more than {names[0]}"
        )
    subtitle = _horizon_note(items[0])
    if has_bands:
        subtitle += "; whiskers: P10–P90 of simulated outcomes"
    return apply_layout(fig, title=title, subtitle=subtitle, legend=False)
