"""Shared look of every figure: palette, fonts, titles that state the finding.

Figure builders in the ``crm_core.charts`` modules call :func:`apply_layout` last, so a
chart looks the same on every page and in the exported deck.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "NEGATIVE",
    "NEUTRAL",
    "PALETTE",
    "POSITIVE",
    "PRIMARY",
    "SEQUENTIAL",
    "TIER_COLORS",
    "apply_layout",
    "currency_prefix",
    "empty_figure",
    "literal_figure",
    "literal_text",
    "share_heatmap",
]

PRIMARY = "#1F4E79"
POSITIVE = "#2E7D32"
NEGATIVE = "#C62828"
NEUTRAL = "#8A94A6"
# Qualitative palette, colour-blind friendly (Okabe-Ito inspired, tuned for print).
PALETTE = ["#1F4E79", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F", "#F0E442"]
SEQUENTIAL = "Blues"
TIER_COLORS = {"A": "#1F4E79", "B": "#56B4E9", "C": "#B0BEC5"}

_FONT = "Inter, Segoe UI, Helvetica Neue, Arial, sans-serif"


def _house_template() -> go.layout.Template:
    """The layout part of plotly's ``plotly_white`` only: the full template carries
    defaults for every trace type, and validating it on every figure took most of the
    time of drawing a page (about 8 ms a figure; this one takes 2 ms)."""
    white = pio.templates["plotly_white"].layout
    return go.layout.Template(
        layout={
            "paper_bgcolor": white.paper_bgcolor,
            "plot_bgcolor": white.plot_bgcolor,
            "xaxis": white.xaxis.to_plotly_json(),
            "yaxis": white.yaxis.to_plotly_json(),
            "hovermode": white.hovermode,
            "colorscale": white.colorscale.to_plotly_json(),
        }
    )


_TEMPLATE = _house_template()


def currency_prefix(currency: str) -> str:
    """Tick prefix for an axis in ``currency`` (``$`` for USD, ``EUR `` for unknown codes)."""
    from crm_core.formatting import CURRENCY_SYMBOLS

    return CURRENCY_SYMBOLS.get(currency, f"{currency} ")


def apply_layout(
    fig: go.Figure,
    *,
    title: str,
    subtitle: str | None = None,
    height: int = 420,
    legend: bool = True,
) -> go.Figure:
    """Give ``fig`` the house layout and a title that states the finding.

    Parameters
    ----------
    fig
        Figure to style (modified in place and returned).
    title
        The finding, in words ("Top 10% of customers earn 71% of profit"); plain text
        (``<``, ``>`` and ``&`` are shown as typed).
    subtitle
        Optional smaller line under the title: the definition or the period (plain text).
    height
        Figure height in pixels.
    legend
        Show the legend (horizontal, above the plot area).
    """
    text = f"<b>{html.escape(title, quote=False)}</b>"  # data in a title is text, never markup
    if subtitle:
        small = html.escape(subtitle, quote=False)
        text += f"<br><span style='font-size:12px;color:#5F6B7A'>{small}</span>"
    # the house values are constants checked by the tests: skipping plotly's validation of
    # them halves the cost of drawing a chart (a What-if slider move draws four)
    fig._validate = fig.layout._validate = False
    try:
        _house(fig, text, height, bool(subtitle), legend)
    finally:
        fig._validate = fig.layout._validate = True
    return fig


def _house(fig: go.Figure, text: str, height: int, subtitle: bool, legend: bool) -> None:
    fig.update_layout(
        template=_TEMPLATE,
        # pinned a fixed distance below the figure's top edge, whatever the figure height
        title={
            "text": text,
            "x": 0.0,
            "xanchor": "left",
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 14, "l": 4},
        },
        font={"family": _FONT, "size": 13, "color": "#1B2430"},
        colorway=PALETTE,
        height=height,
        margin={"l": 60, "r": 24, "t": 86 if subtitle else 64, "b": 96 if legend else 48},
        showlegend=legend,
        # below the plot, anchored to the figure's bottom edge: a legend that wraps on a
        # narrow screen grows upwards into the margin, never over the title or the axes
        legend={
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0.0,
            "xanchor": "left",
            "x": 0.0,
            "title": {"text": ""},
        },
        hoverlabel={"font": {"family": _FONT}},
    )


def share_heatmap(
    x: list[str],
    y: list[str],
    z: list[list[float | None]],
    text: list[list[str]],
    *,
    hovertemplate: str,
    font_size: int = 12,
) -> go.Heatmap:
    """A heat map of shares (0 to 1) with the value written in each cell: the house style
    for transition matrices and conversion tables (blue scale, no colour bar, thin gaps)."""
    return go.Heatmap(
        x=x,
        y=y,
        z=z,
        text=text,
        texttemplate="%{text}",
        textfont={"size": font_size},
        colorscale="Blues",
        zmin=0,
        zmax=1,
        showscale=False,
        xgap=2,
        ygap=2,
        hovertemplate=hovertemplate,
    )


def empty_figure(
    title: str, subtitle: str, message: str, *, fig: go.Figure | None = None, height: int = 360
) -> go.Figure:
    """An empty state: ``message`` in the middle of the plot area, no axes, the house title
    (a fresh figure, or ``fig`` when the builder has one already)."""
    fig = fig if fig is not None else go.Figure()
    fig.add_annotation(
        text=html.escape(message, quote=False),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": NEUTRAL},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return apply_layout(fig, title=title, subtitle=subtitle, legend=False, height=height)


# ----------------------------------------------------------------------------- literal text
# Plotly draws every label with its own pseudo-HTML (<a href>, <b>, <span style>, entities).
# Data-derived strings must show as typed: ``literal_figure`` escapes them in one place, so
# every page (through ``crm_app.ui.plotly_chart``) and the deck get the same guarantee.

# Fields whose strings come from the data only: escaped in full.
_DATA_FIELDS = ("x", "y", "labels", "parents", "ids", "customdata", "name", "legendgroup")
_NESTED_DATA_FIELDS = (("node", "label"), ("link", "label"), ("header", "values"),
                       ("cells", "values"))  # fmt: skip
# Fields where builders put their own line breaks and bold around data: every tag but the
# house's few formatting ones (never a link, never a style) is escaped.
_MARKUP_FIELDS = ("text", "hovertext", "hovertemplate", "texttemplate")
_HOUSE_TAG = re.compile(
    r"<(?:br ?/?|/?b|/?i|/?sup|/?sub|/?extra|/span|span style='[^'<>]*')>", re.IGNORECASE
)
_LITERAL_META = "crm_literal"
_BARE_AMP = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


def literal_text(text: str) -> str:
    """``text`` as plotly shows it literally: ``&``, ``<`` and ``>`` as entities."""
    return html.escape(text, quote=False)


def _escape_keeping_entities(text: str) -> str:
    return _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _house_markup(text: str) -> str:
    """``text`` with every tag except the house's formatting ones (``<br>``, ``<b>``,
    ``<i>``, ``<sup>``, ``<sub>``, ``<extra>``, ``<span style='…'>``) made literal; an
    entity already written (``&lt;``, by a builder that escaped its data) is kept."""
    parts, last = [], 0
    for match in _HOUSE_TAG.finditer(text):
        parts.append(_escape_keeping_entities(text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_escape_keeping_entities(text[last:]))
    return "".join(parts)


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """``value`` with ``fn`` applied to every string in it (lists, tuples and arrays of
    any depth); numbers, dates and ``None`` unchanged."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OUS":
            return np.vectorize(lambda v: _map_strings(v, fn), otypes=[object])(value)
        return value
    if isinstance(value, list | tuple):
        return [_map_strings(v, fn) for v in value]
    return value


def literal_figure(fig: go.Figure | dict[str, Any]) -> dict[str, Any]:
    """The figure's JSON-ready dict with every data-derived string made literal.

    Category ticks and values (``x``, ``y``, ``labels``, ``ids``, ``parents``), trace and
    legend names, ``customdata`` (what hover templates substitute), Sankey and table labels
    and the axes' ``categoryarray`` are escaped in full; ``text``, ``hovertext``, the hover
    and text templates, ``ticktext`` and annotation texts keep only the house's formatting
    tags (line breaks, bold, italics), so a link, an image, a style or an entity in a name
    is shown as typed. The title, already plain text (:func:`apply_layout`), is untouched.
    Pure: ``fig`` is not modified. Idempotent: a dict it returned comes back unchanged.

    Parameters
    ----------
    fig
        A plotly figure or its dict (``fig.to_plotly_json()``).

    Returns
    -------
    dict
        ``{"data": [...], "layout": {...}}``, accepted by ``st.plotly_chart`` and
        ``go.Figure``.
    """
    spec = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig
    layout = dict(spec.get("layout") or {})
    meta = layout.get("meta")
    if isinstance(meta, dict) and meta.get(_LITERAL_META):
        return spec
    data = []
    for source in spec.get("data") or []:
        trace = dict(source)
        for field in _DATA_FIELDS:
            if field in trace:
                trace[field] = _map_strings(trace[field], literal_text)
        for field in _MARKUP_FIELDS:
            if field in trace:
                trace[field] = _map_strings(trace[field], _house_markup)
        for outer, inner in _NESTED_DATA_FIELDS:
            part = trace.get(outer)
            if isinstance(part, dict) and inner in part:
                trace[outer] = {**part, inner: _map_strings(part[inner], literal_text)}
        group_title = trace.get("legendgrouptitle")
        if isinstance(group_title, dict) and "text" in group_title:
            trace["legendgrouptitle"] = {**group_title, "text": literal_text(group_title["text"])}
        data.append(trace)
    for key, value in list(layout.items()):
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            axis = dict(value)
            if "categoryarray" in axis:
                axis["categoryarray"] = _map_strings(axis["categoryarray"], literal_text)
            if "ticktext" in axis:
                axis["ticktext"] = _map_strings(axis["ticktext"], _house_markup)
            layout[key] = axis
    if "annotations" in layout:
        layout["annotations"] = [
            {**a, "text": _house_markup(a["text"])} if isinstance(a.get("text"), str) else a
            for a in layout["annotations"]
        ]
    layout["meta"] = {**(meta if isinstance(meta, dict) else {}), _LITERAL_META: True}
    return {**spec, "data": data, "layout": layout}
