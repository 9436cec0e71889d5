"""Figures of the What-if page's spending analysis: the sensitivity tornado, the best
split of a retention budget and of an acquisition budget across channels (pure functions,
results of :mod:`crm_core.whatif.optimize` and :mod:`crm_core.whatif.acquisition` in,
``go.Figure`` out)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from crm_core.charts.style import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    PRIMARY,
    apply_layout,
    currency_prefix,
)
from crm_core.charts.whatif import money_axis, signed_money
from crm_core.formatting import fmt_money
from crm_core.whatif.acquisition import AcquisitionAllocation
from crm_core.whatif.optimize import ALL_SEGMENTS, BudgetAllocation

__all__ = ["acquisition_figure", "allocation_figure", "tornado_figure"]


def _points(value: float) -> str:
    """Size of a change in percentage points: 5 -> '5', 3.3247 -> '3.3', 0.04 -> '0.04'."""
    size = abs(value)
    return f"{round(size, 1):g}" if size >= 0.1 else f"{size:.1g}"


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
    """Sensitivity tornado: change in projected equity when each lever moves down or up.

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
            customdata=[[m, signed_money(d, currency)] for m, d in zip(moves, deltas, strict=True)],
            hovertemplate="%{y}, %{customdata[0]}: %{customdata[1]} of equity<extra></extra>",
        )
    if rows:
        lead = rows[-1]
        up = lead["delta_high"]
        title = (
            f"{_lever_name(lead)} moves projected equity most: "
            f"{signed_money(up, currency)} for {_change_label(lead['high_change'], lead['unit'])}"
        )
        base = fmt_money(lead["baseline_equity"], currency)
        subtitle = f"One lever at a time, the rest at {reference_name} (projected equity {base})"
    else:
        title, subtitle = "No lever changes projected equity", None
    fig.update_layout(barmode="overlay", bargap=0.3)
    fig.update_xaxes(
        title_text=f"Change in projected equity ({currency})",
        zeroline=True,
        zerolinecolor=NEUTRAL,
        **money_axis(currency),
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
            [fmt_money(b, currency), fmt_money(s, currency), signed_money(g, currency)]
            for b, s, g in zip(
                budgets, frame["spend_per_customer"], frame["equity_gain"], strict=True
            )
        ],
        hovertemplate=(
            "%{x}: %{customdata[0]} a year (%{customdata[1]} per customer)"
            "<br>Projected equity %{customdata[2]}<extra></extra>"
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
            customdata=[signed_money(v, currency) for v in values],
            hovertemplate=(
                f"%{{x}}, {name.lower()}: %{{customdata}} of equity per extra {unit}<extra></extra>"
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(
        title_text=f"Budget per year ({currency})", **money_axis(currency), row=1, col=1
    )
    fig.update_yaxes(
        title_text=f"Equity per extra {unit} ({currency})",
        **money_axis(currency, ",.2f"),
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
            title = "No retention spend adds projected equity"
        else:
            title = (
                f"The first {unit} of retention budget goes furthest in {segments[best]}: "
                f"{signed_money(first[best], currency)} of equity"
            )
    else:
        lead = segments[max(range(len(budgets)), key=budgets.__getitem__)]
        title = (
            f"{fmt_money(result.spent, currency)} a year on retention adds "
            f"{fmt_money(result.gain, currency)} of projected equity, most of it spent in {lead}"
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


def acquisition_title(result: AcquisitionAllocation, currency: str) -> str:
    """The finding: where the acquisition budget goes, or where its first dollar would."""
    frame = result.allocation
    unit = f"{currency_prefix(currency)}1"
    if result.spent > 0:
        top = frame.sort("budget", descending=True).row(0, named=True)
        share = top["budget"] / result.spent
        where = "all of it" if share > 0.995 else f"{share:.0%} of it"
        return (
            f"{fmt_money(result.spent, currency)} a year on acquisition adds "
            f"{fmt_money(result.gain, currency)} of projected equity, {where} in {top['segment']}"
        )
    best = result.next_dollar()
    if best is None or (best["first_dollar_equity"] or 0.0) <= 0:
        return "No channel's next acquisition dollar adds projected equity"
    return (
        f"The next {unit} of acquisition goes furthest in {best['segment']}: "
        f"{signed_money(best['first_dollar_equity'], currency)} of equity"
    )


def acquisition_figure(result: AcquisitionAllocation, *, currency: str = "USD") -> go.Figure:
    """Equity added by the next currency unit of yearly acquisition spend per channel,
    before any extra budget and after the best split (net of the spend), with each
    channel's budget, CAC and new customers in the hover text."""
    frame = result.allocation
    segments = frame["segment"].to_list()
    unit = f"{currency_prefix(currency)}1"
    fig = go.Figure()
    hover = [
        [fmt_money(b, currency), fmt_money(c, currency), fmt_money(a, currency),
         f"{n0:,.0f}", f"{n1:,.0f}"]
        for b, c, a, n0, n1 in zip(frame["budget"], frame["cac"], frame["cac_after"],
                                   frame["new_customers_before"], frame["new_customers_after"],
                                   strict=True)
    ]  # fmt: skip
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
            customdata=[[signed_money(v or 0.0, currency), *h] for v, h in zip(values, hover,
                                                                              strict=True)],
            hovertemplate=(
                f"%{{x}}, {name.lower()}: %{{customdata[0]}} of equity per extra {unit} a year"
                "<br>Budget %{customdata[1]} a year; CAC %{customdata[2]} now, "
                "%{customdata[3]} with it<br>New customers a year %{customdata[4]} now, "
                "%{customdata[5]} with it<extra></extra>"
            ),
        )  # fmt: skip
    fig.update_layout(barmode="group")
    fig.update_yaxes(
        title_text=f"Equity per extra {unit} a year ({currency})",
        **money_axis(currency, ",.2f"),
        zeroline=True,
        zerolinecolor=NEUTRAL,
    )
    fig.update_xaxes(title_text="Acquisition channel")
    subtitle = (
        f"Best split of {fmt_money(result.budget, currency)} a year of extra acquisition "
        f"spend; {result.elasticity:.0%} more customers won for every 100% more spend "
        f"(elasticity {result.elasticity:g}, an assumption). Equity is net of the spend"
    )
    fig = apply_layout(fig, title=acquisition_title(result, currency), subtitle=subtitle)
    fig.update_layout(legend={"y": -0.2, "yanchor": "top", "x": 1.0, "xanchor": "right"},
                      margin={"b": 96})  # fmt: skip
    return fig
