"""Figures of the Growth page: the movements waterfall and trend, net and gross revenue
retention, CAC against value by channel or cohort, and forecast against actual."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import plotly.graph_objects as go
import polars as pl

from crm_core.charts.style import (
    NEGATIVE,
    NEUTRAL,
    PALETTE,
    POSITIVE,
    PRIMARY,
    apply_layout,
    currency_prefix,
    empty_figure,
)
from crm_core.copy import growth as copy
from crm_core.formatting import fmt_kind, fmt_money, fmt_pct, fmt_ratio
from crm_core.growth import economics as ue
from crm_core.growth import forecast as fc
from crm_core.growth import forecast_paths as fp
from crm_core.growth.movements import CHANGE, NOW_LABEL, MovementView
from crm_core.metrics import movements as mv

__all__ = [
    "economics_scatter",
    "forecast_errors",
    "forecast_path",
    "movement_trend",
    "movement_waterfall",
    "retention_trend",
]

_COLOURS = {
    mv.NEW: POSITIVE,
    mv.EXPANSION: "#66BB6A",
    mv.REACTIVATION: "#A5D6A7",
    mv.CONTRACTION: "#EF9A9A",
    mv.CHURNED: NEGATIVE,
}


def movement_waterfall(view: MovementView, key: int, currency: str) -> go.Figure:
    """Revenue (or MRR) then, each movement, revenue now: one period as a waterfall."""
    row = view.row(key)
    name = copy.amount_name(view.recurring)
    steps = [(copy.MOVEMENT_WORDS[m], row[mv.MOVEMENT_COLUMNS[m]]) for m in mv.MOVEMENTS]
    x = [f"{name} {row['compared_label']}", *(s[0] for s in steps), f"{name} {row[NOW_LABEL]}"]
    y = [row[mv.AMOUNT_THEN], *(s[1] for s in steps), row[mv.AMOUNT_NOW]]
    fig = go.Figure(
        go.Waterfall(
            x=x,
            y=y,
            measure=["absolute", *["relative"] * len(steps), "total"],
            text=[fmt_money(v, currency) for v in y],
            textposition="outside",
            cliponaxis=False,
            customdata=[fmt_money(v, currency) for v in y],
            hovertemplate="%{x}: %{customdata}<extra></extra>",
            increasing={"marker": {"color": POSITIVE}},
            decreasing={"marker": {"color": NEGATIVE}},
            totals={"marker": {"color": PRIMARY}},
            connector={"line": {"color": NEUTRAL, "width": 1}},
        )
    )
    top = max(row[mv.AMOUNT_THEN], row[mv.AMOUNT_NOW]) + sum(max(s[1], 0) for s in steps)
    fig.update_yaxes(title_text=f"{name} ({currency})", tickprefix=currency_prefix(currency),
                     tickformat="~s", range=[0, top * 1.12])  # fmt: skip
    return apply_layout(
        fig,
        title=copy.headline(row, view.recurring, currency),
        subtitle=copy.waterfall_subtitle(row, view.recurring),
        legend=False,
    )


def movement_trend(view: MovementView, currency: str, periods: int = 8) -> go.Figure:
    """The movements of the latest ``periods`` periods: gains up, losses down, net line."""
    frame = view.recent(periods)
    title = copy.trend_title(frame, view.granularity, currency)
    subtitle = f"{copy.amount_name(view.recurring)} movements per period (net line: the change)"
    if frame.is_empty():
        return empty_figure(title, subtitle, "Needs a comparison period in the history.")
    fig = go.Figure()
    labels = frame["label"].to_list()
    for m in mv.MOVEMENTS:
        values = frame[mv.MOVEMENT_COLUMNS[m]].to_list()
        fig.add_bar(
            x=labels,
            y=values,
            name=copy.MOVEMENT_WORDS[m],
            marker_color=_COLOURS[m],
            customdata=[fmt_money(v, currency) for v in values],
            hovertemplate=f"%{{x}}<br>{copy.MOVEMENT_WORDS[m]}: %{{customdata}}<extra></extra>",
        )
    net = frame[CHANGE].to_list()
    fig.add_scatter(
        x=labels,
        y=net,
        name="Net change",
        mode="lines+markers",
        line={"color": "#1B2430", "width": 2},
        customdata=[fmt_money(v, currency) for v in net],
        hovertemplate="%{x}<br>Net change: %{customdata}<extra></extra>",
    )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title_text=f"Per period ({currency})", tickprefix=currency_prefix(currency),
                     tickformat="~s", zeroline=True, zerolinewidth=1.5)  # fmt: skip
    return apply_layout(fig, title=title, subtitle=subtitle)


def retention_trend(
    labels: Sequence[str], nrr: Sequence[float | None], grr: Sequence[float | None]
) -> go.Figure:
    """Net and gross revenue retention by quarter (oldest first)."""
    known = [i for i, v in enumerate(nrr) if v is not None]
    title = copy.retention_title(
        nrr[known[-1]] if known else None, grr[known[-1]] if known else None,
        labels[known[-1]] if known else "",
    )  # fmt: skip
    subtitle = "Revenue now of the customers of a year earlier, over their revenue then"
    if not known:
        return empty_figure(title, subtitle, "Needs a year of history.")
    fig = go.Figure()
    for name, values, colour in (("Net revenue retention", nrr, PRIMARY),
                                 ("Gross revenue retention", grr, PALETTE[1])):  # fmt: skip
        fig.add_scatter(
            x=[labels[i] for i in known],
            y=[values[i] for i in known],
            name=name,
            mode="lines+markers",
            line={"color": colour, "width": 2},
            customdata=[fmt_pct(values[i], digits=1) for i in known],
            hovertemplate=f"%{{x}}<br>{name}: %{{customdata}}<extra></extra>",
        )
    fig.add_hline(y=1.0, line={"color": NEUTRAL, "dash": "dot", "width": 1})
    fig.update_yaxes(title_text="Share of revenue kept", tickformat=".0%", rangemode="tozero")
    return apply_layout(fig, title=title, subtitle=subtitle)


def economics_scatter(result: ue.UnitEconomics) -> go.Figure:
    """CAC against value per customer, one bubble per group (area = customers won), with
    the break-even (1x) and 3x lines."""
    title = copy.economics_title(result)
    subtitle = "Value per customer = margin to date + 3-year CLV; bubble area = customers won"
    table = result.table.filter(pl.col(ue.CAC).is_not_null() & pl.col(ue.VALUE).is_not_null())
    if table.is_empty():
        return empty_figure(title, subtitle, "No CLV or acquisition cost to compare.")
    cur = result.currency
    biggest = max(table[ue.CUSTOMERS].max(), 1)  # type: ignore[type-var]
    fig = go.Figure()
    fig.add_scatter(
        x=table[ue.CAC].to_list(),
        y=table[ue.VALUE].to_list(),
        mode="markers+text",
        text=table[ue.GROUP].to_list(),
        textposition="top center",
        cliponaxis=False,
        marker={
            "size": table[ue.CUSTOMERS].to_list(),
            "sizemode": "area",
            "sizeref": 2.0 * biggest / 48**2,
            "sizemin": 6,
            "color": PRIMARY,
            "opacity": 0.75,
        },
        customdata=[
            [
                fmt_money(r[ue.CAC], cur),
                fmt_money(r[ue.VALUE], cur),
                fmt_ratio(r[ue.RATIO]),
                fmt_kind(r[ue.CUSTOMERS], "count"),
            ]
            for r in table.iter_rows(named=True)
        ],
        hovertemplate="%{text}<br>CAC: %{customdata[0]}<br>Value: %{customdata[1]}"
        "<br>Value : CAC %{customdata[2]}<br>Customers won: %{customdata[3]}<extra></extra>",
        showlegend=False,
    )
    top_x = float(table[ue.CAC].max()) * 1.15  # type: ignore[arg-type]
    for multiple, dash in ((1, "dot"), (3, "dash")):
        fig.add_scatter(
            x=[0, top_x], y=[0, multiple * top_x], mode="lines", name=f"Value = {multiple}x CAC",
            line={"color": NEUTRAL, "dash": dash, "width": 1}, hoverinfo="skip",
        )  # fmt: skip
    top_y = float(table[ue.VALUE].max()) * 1.2  # type: ignore[arg-type]
    prefix = currency_prefix(cur)
    fig.update_xaxes(title_text=f"CAC per customer won ({cur})", tickprefix=prefix,
                     range=[0, top_x], rangemode="tozero")  # fmt: skip
    fig.update_yaxes(title_text=f"Value per customer ({cur})", tickprefix=prefix,
                     tickformat="~s", range=[0, top_y])  # fmt: skip
    return apply_layout(fig, title=title, subtitle=subtitle, height=460)


def forecast_path(history: fc.ForecastHistory, fit_end: date, measure: str) -> go.Figure:
    """One fit's forecast of each quarter since (line) against what happened (bars)."""
    name, kind = copy.MEASURES[measure]
    rows = history.of(fit_end).filter(pl.col(fp.MEASURE) == measure).sort(fp.STEP)
    summary = history.summary.filter(
        (pl.col(fc.FIT_END) == fit_end) & (pl.col(fp.MEASURE) == measure)
    )
    if rows.is_empty() or summary.is_empty():
        return empty_figure(f"No forecast of {name.lower()} to show", "", "Pick another fit.")
    row = summary.row(0, named=True)
    cur = history.currency
    labels = [copy.day(d) for d in rows[fp.PERIOD_END].to_list()]
    fig = go.Figure()
    fig.add_bar(x=labels, y=rows[fp.ACTUAL].to_list(), name="What happened",
                marker_color=PRIMARY,
                customdata=[fmt_kind(v, kind, cur) for v in rows[fp.ACTUAL].to_list()],
                hovertemplate="%{x}<br>Actual: %{customdata}<extra></extra>")  # fmt: skip
    fig.add_scatter(x=labels, y=rows[fp.FORECAST].to_list(), name="Forecast",
                    mode="lines+markers", line={"color": PALETTE[1], "width": 3, "dash": "dash"},
                    customdata=[fmt_kind(v, kind, cur) for v in rows[fp.FORECAST].to_list()],
                    hovertemplate="%{x}<br>Forecast: %{customdata}<extra></extra>")  # fmt: skip
    per = "at the quarter end" if measure == fp.ACTIVE else "per quarter"
    unit = f" ({cur})" if kind == "money" else ""
    fig.update_yaxes(title_text=f"{name} {per}{unit}", tickformat="~s", rangemode="tozero",
                     tickprefix=currency_prefix(cur) if kind == "money" else "")  # fmt: skip
    fig.update_xaxes(title_text="Quarter ending")
    return apply_layout(
        fig,
        title=copy.fit_verdict(row, measure),
        subtitle=copy.fit_summary(row, measure, cur, history.as_of),
    )


def forecast_errors(history: fc.ForecastHistory, measure: str) -> go.Figure:
    """Every fit's error up to the as-of date, by fit date, with a +-10% band."""
    name = copy.MEASURES[measure][0]
    title = copy.history_title(history, measure)
    subtitle = f"{name}: forecast / actual - 1, from each fit to {copy.day(history.as_of)}"
    rows = history.summary.filter(pl.col(fp.MEASURE) == measure).sort(fc.FIT_END)
    if rows.is_empty():
        return empty_figure(title, subtitle, "Needs at least two quarters of history.")
    x = [copy.day(d) for d in rows[fc.FIT_END].to_list()]
    errors = rows[fc.ERROR].to_list()
    fig = go.Figure()
    fig.add_bar(
        x=x,
        y=errors,
        marker_color=[NEGATIVE if e is not None and abs(e) > 0.10 else POSITIVE for e in errors],
        customdata=[fmt_pct(e, signed=True) for e in errors],
        hovertemplate="Fitted on %{x}<br>Error: %{customdata}<extra></extra>",
        showlegend=False,
    )
    fig.add_hrect(y0=-0.10, y1=0.10, fillcolor=NEUTRAL, opacity=0.12, line_width=0, layer="below")
    fig.update_yaxes(title_text="Forecast error", tickformat="+.0%", zeroline=True)
    fig.update_xaxes(title_text="Fitted on (calibration end)")
    return apply_layout(fig, title=title, subtitle=subtitle, legend=False)
