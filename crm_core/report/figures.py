"""Figures of the review that no page draws: a finding's metric quarter by quarter.

Pure builders in the house style (:func:`crm_core.charts.style.apply_layout`); every other
figure of the deck is the pages' own (:mod:`crm_core.charts`).
"""

from __future__ import annotations

import html
import re
from datetime import date

import plotly.graph_objects as go

from crm_core.charts.style import NEGATIVE, NEUTRAL, POSITIVE, apply_layout, currency_prefix
from crm_core.data.expressions import add_months
from crm_core.formatting import fmt_kind
from crm_core.metrics.registry import METRICS, Kpi

__all__ = ["figure_heading", "finding_figure", "on_slide", "quarter_labels", "untitled"]

_AXIS = {
    "money": "{label} ({currency})",
    "count": "{label}",
    "pct": "{label} (%)",
    "ratio": "{label} (multiple)",
    "months": "{label} (months)",
}


def quarter_labels(as_of: date, count: int) -> list[str]:
    """Labels of the quarter ends ``as_of - 3(count - 1) months .. as_of``, oldest first
    (``"Sep 2025"``; the last one is the as-of date itself)."""
    ends = [add_months(as_of, -3 * q) for q in range(count - 1, -1, -1)]
    return [f"{d:%b %Y}" if i < count - 1 else f"{d:%d %b %Y}" for i, d in enumerate(ends)]


def finding_figure(kpi: Kpi, as_of: date, currency: str, *, title: str, good: bool) -> go.Figure:
    """The metric at the last quarter ends (bars), today's bar coloured by whether the
    move is good news, the quarter and the year compared with outlined.

    Parameters
    ----------
    kpi
        A registry KPI with its history (oldest first, ending with the value).
    as_of
        The date of the last value.
    currency
        ISO code for money values.
    title
        The finding in words (plain text).
    good
        Whether the move is good news (today's bar green, else red).
    """
    history = list(kpi.history) or [kpi.value]
    labels = quarter_labels(as_of, len(history))
    known = [(x, v) for x, v in zip(labels, history, strict=True) if v is not None]
    xs = [x for x, _ in known]
    ys = [v for _, v in known]
    n = len(history)
    year_ago, last_quarter = labels[n - 5] if n >= 5 else None, labels[n - 2] if n >= 2 else None
    colors = [(POSITIVE if good else NEGATIVE) if x == labels[-1] else NEUTRAL for x in xs]
    lines = ["#1B2430" if x in (year_ago, last_quarter) else "rgba(0,0,0,0)" for x in xs]
    pct = kpi.kind == "pct"
    fig = go.Figure(
        go.Bar(
            x=xs,
            y=[v * 100 for v in ys] if pct else ys,
            marker={"color": colors, "line": {"color": lines, "width": 2}},
            text=[fmt_kind(v, kpi.kind, currency) for v in ys],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )
    axis = _AXIS[kpi.kind].format(label=METRICS[kpi.key].label, currency=currency)
    fig.update_yaxes(title_text=axis, rangemode="tozero", showticklabels=True)
    if kpi.kind == "money":
        fig.update_yaxes(tickprefix=currency_prefix(currency), tickformat="~s")
    fig.update_xaxes(type="category", title_text="Quarter end")
    return apply_layout(
        fig,
        title=title,
        subtitle="Outlined: the last quarter end and a year earlier",
        legend=False,
        height=460,
    )


_BOLD = re.compile(r"<b>(.*?)</b>", re.S)
_SMALL = re.compile(r"<span[^>]*>(.*?)</span>", re.S)


def figure_heading(fig: go.Figure) -> tuple[str, str]:
    """The title and subtitle :func:`~crm_core.charts.style.apply_layout` gave ``fig``, as
    plain text (``("", "")`` for a figure without a title)."""
    text = fig.layout.title.text or ""
    bold, small = _BOLD.search(text), _SMALL.search(text)
    title = bold.group(1) if bold else re.sub(r"<[^>]+>", "", text.split("<br>")[0])
    subtitle = small.group(1) if small else ""
    return html.unescape(title).strip(), html.unescape(subtitle).strip()


def untitled(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` without its title (the slide shows it), the top margin reduced."""
    out = go.Figure(fig)
    top = max(24, int(out.layout.margin.t or 0) - 64)
    out.update_layout(title={"text": ""}, margin={"t": top})
    return out


_CHAR_PX = 7.0  # width of a character of a 12-13 px axis title, in CSS pixels


def fit_axis_titles(fig: go.Figure, height: int) -> go.Figure:
    """``fig`` with every y-axis title longer than its plot is tall broken onto two lines
    at the space nearest its middle (a page's figure drawn shorter on a slide).

    ``height`` is the figure's height in CSS pixels; the plot is that less the margins.
    """
    margin = fig.layout.margin
    plot = height - (margin.t if margin.t is not None else 80)
    plot -= margin.b if margin.b is not None else 80
    out = go.Figure(fig)
    for name in [k for k in out.layout if k.startswith("yaxis")]:
        axis = out.layout[name]
        text = axis.title.text if axis.title is not None else None
        if not text or "<br>" in text or len(text) * _CHAR_PX <= plot or " " not in text:
            continue
        spaces = [i for i, c in enumerate(text) if c == " "]
        cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
        axis.title.text = text[:cut] + "<br>" + text[cut + 1 :]
    return out


def on_slide(figure: go.Figure, slide_title: str) -> go.Figure:
    """``figure`` as a page shows it under a slide's title: untitled when the slide's
    title is the figure's own."""
    return untitled(figure) if figure_heading(figure)[0] == slide_title else figure
