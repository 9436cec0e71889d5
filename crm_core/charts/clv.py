"""Figures of the CLV models: distribution, P(alive), LTV payback, retention, model checks.

Pure builders: results of ``crm_core.clv`` in, ``go.Figure`` out, finished with
:func:`crm_core.charts.style.apply_layout`; titles state the finding, axes carry units and
currency, legends and hovers use words.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import plotly.graph_objects as go
import polars as pl

from crm_core.charts.style import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    PRIMARY,
    apply_layout,
    currency_prefix,
)
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.holdout import ACTUAL, BUCKET, PERIOD, PREDICTED, HoldoutCheck
from crm_core.clv.ltv import CUMULATIVE_NPV, NPV_PROFIT, YEAR, payback_year
from crm_core.clv.sbg import SBGModel
from crm_core.clv.summary import TIME_UNIT_NAMES
from crm_core.clv.uncertainty import ALL_CUSTOMERS, ClvBands
from crm_core.clv.valuation import CLV, ClvResult
from crm_core.formatting import fmt_count, fmt_money, fmt_pct

__all__ = [
    "clv_bands_figure",
    "clv_distribution_figure",
    "holdout_buckets_figure",
    "holdout_tracking_figure",
    "ltv_payback_figure",
    "p_alive_heatmap_figure",
    "sbg_retention_figure",
]


def clv_distribution_figure(result: ClvResult, *, bins: int = 40) -> go.Figure:
    """Customers by CLV (``bins`` equal-width bars from 0 to the largest CLV, counted in
    crm_core so the browser gets ``bins`` bars, not a point per customer), titled with the
    share of equity the top 10% hold."""
    values = result.table[CLV].to_numpy()
    cur = result.currency
    top = values.max() if values.size else 0.0
    counts, edges = np.histogram(values, bins=bins, range=(0.0, float(top) or 1.0))
    keep = counts > 0
    low, high = edges[:-1][keep], edges[1:][keep]
    fig = go.Figure()
    fig.add_bar(
        x=(low + high) / 2,
        y=counts[keep],
        width=(high - low) * 0.95,
        marker_color=PRIMARY,
        name="Customers",
        customdata=[
            f"{fmt_money(lo, cur)} to {fmt_money(hi, cur)}"
            for lo, hi in zip(low, high, strict=True)
        ],
        hovertemplate="CLV %{customdata}<br>%{y:,} customers<extra></extra>",
    )
    share = result.top_share(0.10)
    title = (
        f"The top 10% of customers hold {fmt_pct(share)} of customer equity"
        if share is not None
        else "No customer value to show"
    )
    fig.add_vline(
        x=result.average_clv,
        line_dash="dash",
        line_color=NEUTRAL,
        annotation_text=f"Average {fmt_money(result.average_clv, cur)}",
        annotation_position="top right",
    )
    fig.update_xaxes(title_text=f"CLV per customer ({cur})", tickprefix=currency_prefix(cur),
                     tickformat="~s", rangemode="tozero")  # fmt: skip
    # CLV is highly skewed: a log count axis keeps the long tail of valuable customers visible
    fig.update_yaxes(title_text="Customers (log scale)", type="log", dtick=1)
    subtitle = (
        f"{result.method}; {fmt_count(result.customers)} customers, equity "
        f"{fmt_money(result.customer_equity, cur)}, discount {fmt_pct(result.discount_rate)} a "
        "year"
    )
    return apply_layout(fig, title=title, subtitle=subtitle, legend=False)


def p_alive_heatmap_figure(
    model: BGNBDModel, *, T: float, max_frequency: int = 20, bins: int = 30
) -> go.Figure:
    """P(alive) by repeat purchases and time since the last purchase, for customers
    whose first purchase was ``T`` time units ago."""
    if T <= 0:
        raise ValueError(f"T must be positive, got {T!r}")
    unit = TIME_UNIT_NAMES.get(model.time_unit, model.time_unit)
    freq = np.arange(0, max_frequency + 1)
    since = np.linspace(0, T, bins)
    x, gap = np.meshgrid(freq, since)
    recency = np.where(x > 0, T - gap, 0.0)
    z = np.asarray(model.p_alive(x.ravel(), recency.ravel(), np.full(x.size, T)))
    z = z.reshape(x.shape)
    # without a repeat purchase the last purchase is the first one, T ago: one cell only
    z = np.where((x == 0) & (gap < T), np.nan, z)
    fig = go.Figure(
        go.Heatmap(
            x=freq,
            y=since,
            z=z,
            zmin=0,
            zmax=1,
            colorscale="Blues",
            colorbar={"title": {"text": "P(alive)"}, "tickformat": ".0%"},
            hovertemplate=(
                f"%{{x}} repeat purchases<br>last purchase %{{y:.0f}} {unit} ago"
                "<br>P(alive) %{z:.0%}<extra></extra>"
            ),
        )
    )
    probe = min(5, max_frequency)
    below = since[np.asarray(model.p_alive(probe, T - since, T)) < 0.5]
    if probe > 0 and below.size:
        title = (
            f"A customer with {probe} repeat purchases is probably gone after "
            f"{below[0]:.0f} {unit} without buying"
        )
    else:
        title = "Customers who bought recently are the ones still active"
    fig.update_xaxes(title_text="Repeat purchases")
    fig.update_yaxes(title_text=f"Time since last purchase ({unit})")
    return apply_layout(
        fig,
        title=title,
        subtitle=f"BG/NBD probability a customer is still active, first purchase {T:.0f} "
        f"{unit} ago",
        legend=False,
    )


def ltv_payback_figure(table: pl.DataFrame, *, currency: str = "USD") -> go.Figure:
    """NPV of profit per year (bars) and the cumulative NPV (line) of an LTV table,
    annotating the year the cohort turns profitable."""
    years = table[YEAR].to_list()
    npv = table[NPV_PROFIT].to_list()
    cum = table[CUMULATIVE_NPV].to_list()
    fig = go.Figure()
    fig.add_bar(
        x=years,
        y=npv,
        name="NPV of the year's profit",
        marker_color=[POSITIVE if v >= 0 else NEGATIVE for v in npv],
        customdata=[fmt_money(v, currency) for v in npv],
        hovertemplate="Year %{x}<br>NPV of profit %{customdata}<extra></extra>",
    )
    fig.add_scatter(
        x=years,
        y=cum,
        name="Cumulative NPV",
        mode="lines+markers",
        line={"color": PRIMARY, "width": 3},
        customdata=[fmt_money(v, currency) for v in cum],
        hovertemplate="Year %{x}<br>Cumulative NPV %{customdata}<extra></extra>",
    )
    payback = payback_year(table)
    if payback is None:
        title = f"The cohort has not paid back within {len(years)} years"
    else:
        title = (
            "The cohort is profitable from its first year"
            if payback == years[0]
            else f"The cohort turns profitable in year {payback}"
        )
        value = cum[years.index(payback)]
        # below the cumulative line, where the bars (all positive from then on) leave room
        fig.add_annotation(x=payback, y=value, text=f"Profitable from year {payback}",
                           showarrow=True, arrowhead=2, ax=0, ay=45)  # fmt: skip
    fig.add_hline(y=0, line_color=NEUTRAL, line_width=1)
    fig.update_xaxes(title_text="Year since acquisition", dtick=1)
    ticks = _money_ticks([*npv, *cum, 0.0])
    fig.update_yaxes(title_text=f"Net present value ({currency})", tickvals=ticks,
                     ticktext=_money_labels(ticks, currency))  # fmt: skip
    return apply_layout(
        fig,
        title=title,
        subtitle="Profit after direct, service and (year 1) acquisition costs, discounted "
        "to the acquisition year",
    )


def _money_ticks(values: list[float], count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2, 2.5 or 5 times a power of ten) covering
    ``values``, so money axes can be labelled by :func:`fmt_money` (``-$50k``, not
    plotly's ``$-50k``)."""
    lo, hi = float(min(values)), float(max(values))
    span = hi - lo
    if span <= 0 or not np.isfinite(span):
        return [lo]
    raw = span / count
    power = 10 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = np.floor(lo / step) * step
    return [float(v) for v in np.arange(first, hi + step, step) if lo - step / 2 <= v]


def _money_labels(ticks: list[float], currency: str) -> list[str]:
    """``fmt_money`` labels with as few decimals as the ticks need (``$25k``, ``$2.5k``)."""
    for digits in (0, 1, 2):
        labels = [fmt_money(v, currency, digits=digits) for v in ticks]
        if len(set(labels)) == len(labels) and all(
            round(v / 1000 ** int(np.log10(abs(v)) // 3), digits)
            == v / 1000 ** int(np.log10(abs(v)) // 3)
            for v in ticks
            if abs(v) >= 1000
        ):
            return labels
    return [fmt_money(v, currency) for v in ticks]


def sbg_retention_figure(
    model: SBGModel, *, periods: int = 24, alive: np.ndarray | None = None
) -> go.Figure:
    """Projected survival of a new cohort under sBG against a flat retention rate.

    The flat rate is the sBG's first-period retention applied every period (what a
    single average rate assumes); ``alive`` (customers active at ``t = 0 .. n``) adds the
    observed points.
    """
    t = np.arange(0, periods + 1)
    surv = np.asarray(model.survival(t))
    flat_rate = float(model.retention(1))
    flat = flat_rate**t
    fig = go.Figure()
    fig.add_scatter(x=t, y=surv, name="sBG projection (retention rises with tenure)",
                    mode="lines", line={"color": PRIMARY, "width": 3},
                    hovertemplate="%{x}: %{y:.1%} still active<extra></extra>")  # fmt: skip
    fig.add_scatter(x=t, y=flat, name=f"Flat {fmt_pct(flat_rate)} retention",
                    mode="lines", line={"color": NEUTRAL, "dash": "dash"},
                    hovertemplate="%{x}: %{y:.1%} still active<extra></extra>")  # fmt: skip
    if alive is not None and len(alive) > 0:
        a = np.asarray(alive, dtype=np.float64)
        fig.add_scatter(x=np.arange(a.size), y=a / a[0], name="Observed", mode="markers",
                        marker={"color": POSITIVE, "size": 8},
                        hovertemplate="%{x}: %{y:.1%} observed<extra></extra>")  # fmt: skip
    gap = surv[-1] / flat[-1] - 1 if flat[-1] > 0 else np.inf
    title = (
        f"A flat retention rate understates survivors after {periods} {model.period}s "
        f"({fmt_pct(flat[-1], digits=1)} vs {fmt_pct(surv[-1], digits=1)})"
        if gap > 0.01
        else f"{fmt_pct(surv[-1])} of a new cohort remain after {periods} {model.period}s"
    )
    fig.update_xaxes(title_text=f"{model.period.capitalize()}s since acquisition")
    fig.update_yaxes(title_text="Share of the cohort still active", tickformat=".0%",
                     rangemode="tozero")  # fmt: skip
    return apply_layout(
        fig,
        title=title,
        subtitle=f"Shifted-beta-geometric model (alpha {model.alpha:.2f}, beta "
        f"{model.beta:.2f}); customers differ in churn risk, so survivors are the loyal ones",
    )


def holdout_buckets_figure(check: HoldoutCheck) -> go.Figure:
    """Predicted against actual holdout behaviour per bucket (grouped bars), titled with
    the bucket where the forecast misses most."""
    b = check.by_bucket
    fig = go.Figure()
    is_share = check.model_name == "sBG"
    fmt = ".0%" if is_share else ".2f"
    for column, name, color in ((ACTUAL, "Actual", PRIMARY), (PREDICTED, "Predicted", NEUTRAL)):
        fig.add_bar(x=b[BUCKET].to_list(), y=b[column].to_list(), name=name,
                    marker_color=color,
                    hovertemplate=f"%{{x}}<br>{name}: %{{y:{fmt}}}<extra></extra>")  # fmt: skip
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=check.bucket_label, type="category")
    ylabel = (
        "Share still active at the holdout end"
        if is_share
        else "Repeat purchases per customer in the holdout"
    )
    fig.update_yaxes(title_text=ylabel, tickformat=".0%" if is_share else None)
    return apply_layout(fig, title=_bucket_title(check), subtitle=_holdout_subtitle(check))


def holdout_tracking_figure(check: HoldoutCheck) -> go.Figure:
    """Cumulative repeat purchases (or active customers) over time, actual against
    predicted, with the calibration end marked."""
    t = check.tracking
    fig = go.Figure()
    for column, name, style in (
        (ACTUAL, "Actual", {"color": PRIMARY, "width": 3}),
        (PREDICTED, "Predicted", {"color": NEUTRAL, "dash": "dash"}),
    ):
        fig.add_scatter(x=t["date"].to_list(), y=t[column].to_list(), name=name,
                        mode="lines+markers", line=style,
                        hovertemplate=f"%{{x}}<br>{name}: %{{y:,.0f}}<extra></extra>")  # fmt: skip
    fig.add_vline(x=check.calibration_end, line_color=NEUTRAL, line_width=1)
    fig.add_annotation(x=check.calibration_end, y=1, yref="paper", text="Calibration end",
                       showarrow=False, xanchor="left", yanchor="bottom")  # fmt: skip
    holdout = t.filter(pl.col(PERIOD) == "holdout")
    if holdout.height:
        fig.add_vrect(x0=check.calibration_end, x1=check.holdout_end, fillcolor=NEUTRAL,
                      opacity=0.08, line_width=0)  # fmt: skip
    ylabel = (
        "Customers with a running contract"
        if check.model_name == "sBG"
        else "Cumulative repeat purchases"
    )
    fig.update_xaxes(title_text="Date")
    fig.update_yaxes(title_text=ylabel, tickformat="~s")
    if check.model_name == "sBG":
        return apply_layout(fig, title=_holdout_title(check), subtitle=_holdout_subtitle(check))
    return apply_layout(
        fig,
        title=_tracking_title(check),
        subtitle=f"{_holdout_subtitle(check)}; expected: the model's average for customers "
        "of the same age, without their own history",
    )


def _tracking_title(check: HoldoutCheck) -> str:
    """BG/NBD tracking: purchases in the holdout along the unconditional curve."""
    t = check.tracking
    start = t.filter(pl.col(PERIOD) == "calibration").tail(1)
    if start.is_empty() or t.height < 2:
        return _holdout_title(check)
    actual = float(t[ACTUAL][-1] - start[ACTUAL][0])
    expected = float(t[PREDICTED][-1] - start[PREDICTED][0])
    if actual <= 0:
        return _holdout_title(check)
    return (
        f"Along its curve the model expected {fmt_count(round(expected))} repeat purchases in "
        f"the holdout; {fmt_count(round(actual))} happened "
        f"({fmt_pct(expected / actual - 1, signed=True)})"
    )


def _holdout_title(check: HoldoutCheck) -> str:
    if not check.actual_total:
        return f"No {check.measure} in the holdout to compare with"
    return (
        f"{check.model_name} forecast {fmt_count(round(check.predicted_total))} "
        f"{check.measure} against {fmt_count(round(check.actual_total))} actual "
        f"({fmt_pct(check.error, signed=True)})"
    )


def _bucket_title(check: HoldoutCheck) -> str:
    """The group the forecast misses most, relative to what happened, among groups of at
    least 5% of the customers (tiny groups are noisy)."""
    b = check.by_bucket.filter(pl.col("customers") > 0)
    if b.is_empty():
        return "No customers to compare"
    large = b.filter(pl.col("customers") >= 0.05 * b["customers"].sum())
    b = large if large.height else b
    gap = (b[PREDICTED] - b[ACTUAL]).abs() / b[ACTUAL].clip(lower_bound=1e-9)
    row = b.row(int(gap.arg_max() or 0), named=True)
    if check.model_name == "sBG":  # shares still active
        pred, act = fmt_pct(row[PREDICTED]), fmt_pct(row[ACTUAL])
    else:  # purchases per customer
        pred, act = f"{row[PREDICTED]:.1f}", f"{row[ACTUAL]:.1f}"
    group = f"{row[BUCKET]} {check.bucket_noun}"
    if pred == act:
        return f"The forecast matches every group of customers ({group}: {act})"
    return f"The largest miss is for customers with {group}: {pred} forecast, {act} actual"


def _day(value: object) -> str:
    return f"{value.day} {value:%b %Y}"  # type: ignore[attr-defined]


def _holdout_subtitle(check: HoldoutCheck) -> str:
    start = check.calibration_end + timedelta(days=1)
    return (
        f"Fitted on data to {_day(check.calibration_end)}, checked from {_day(start)} to "
        f"{_day(check.holdout_end)}; {fmt_count(check.customers)} customers"
    )


def clv_bands_figure(
    bands: ClvBands, *, currency: str = "USD", label: str = "Segment"
) -> go.Figure:
    """Average CLV per segment with its P10-P90 band under parameter uncertainty;
    ``label`` names the segments' axis ("Acquisition channel")."""
    t = bands.table.filter(pl.col("segment") != ALL_CUSTOMERS).sort("average_p50")
    if t.is_empty():
        t = bands.table
    mid = t["average_p50"].to_numpy()
    fig = go.Figure()
    fig.add_bar(
        y=t["segment"].to_list(),
        x=mid,
        orientation="h",
        marker_color=PRIMARY,
        name="Median CLV per customer",
        error_x={
            "type": "data",
            "symmetric": False,
            "array": t["average_p90"].to_numpy() - mid,
            "arrayminus": mid - t["average_p10"].to_numpy(),
            "color": NEUTRAL,
        },
        customdata=[
            f"{fmt_money(a, currency)} (P10-P90 {fmt_money(lo, currency)} to "
            f"{fmt_money(hi, currency)})"
            for a, lo, hi in zip(mid, t["average_p10"], t["average_p90"], strict=True)
        ],
        hovertemplate="%{y}<br>%{customdata}<extra></extra>",
    )
    best = t.row(t.height - 1, named=True)
    title = (
        f"{best['segment']} customers are worth the most: "
        f"{fmt_money(best['average_p50'], currency)} each "
        f"({fmt_money(best['average_p10'], currency)}-{fmt_money(best['average_p90'], currency)})"
    )
    fig.update_xaxes(title_text=f"CLV per customer ({currency})",
                     tickprefix=currency_prefix(currency), tickformat="~s")  # fmt: skip
    fig.update_yaxes(title_text=label)
    return apply_layout(
        fig,
        title=title,
        subtitle=f"Median and P10-P90 over {bands.draws} draws of the model parameters; "
        f"customer equity {fmt_money(bands.point_equity, currency)} (P10-P90 "
        f"{fmt_money(bands.equity_p10, currency)}-{fmt_money(bands.equity_p90, currency)})",
        legend=False,
    )
