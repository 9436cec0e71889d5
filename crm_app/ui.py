"""Small rendering helpers shared by the pages (no analytics here).

Data is text: a page never hands a data-derived string to Streamlit's Markdown or to plotly's
pseudo-HTML itself. :func:`plotly_chart` draws a figure with every data-derived string made
literal (:func:`crm_core.charts.style.literal_figure`); :func:`text` writes a line of words
that may quote data (names, values, error messages) with every Markdown and directive
character escaped (:func:`crm_app.state.escape_markdown`, also exported here as
:func:`esc` for labels and tooltips). ``tests/test_markup_scan.py`` fails on a page that
calls ``st.plotly_chart`` directly or passes a computed string to a Markdown element.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import plotly.graph_objects as go
import streamlit as st

from crm_app.state import Selection, escape_markdown
from crm_core.charts.style import literal_figure
from crm_core.formatting import fmt_delta, fmt_kind
from crm_core.metrics.registry import Kpi

__all__ = ["esc", "kpi_cards", "page_header", "plotly_chart", "text"]

_CARD_HEIGHT = 210


def page_header(title: str, sel: Selection, subtitle: str | None = None) -> None:
    """Page title with the company and date it describes."""
    st.title(title)
    line = f"{escape_markdown(sel.company)} · as of {sel.as_of:%d %b %Y}"
    if sel.as_of != sel.snapshot_as_of:
        line += f" (snapshot of {sel.snapshot_as_of:%d %b %Y})"
    if subtitle:
        line += f" · {subtitle}"
    st.caption(line)


esc = escape_markdown
"""Escape a data-derived string for a widget label, a tooltip or a Markdown line."""


def plotly_chart(fig: go.Figure, *, key: str, where: Any = None, **kwargs: Any) -> Any:
    """``st.plotly_chart`` of ``fig`` with its data-derived strings made literal.

    Parameters
    ----------
    fig
        The figure (not modified: the cached object may be shared by every session).
    key
        Widget key (every chart has one).
    where
        A container or column to draw into (default: the current one).
    **kwargs
        Passed on to ``st.plotly_chart`` (``on_select``, ``config``, ...).
    """
    target = st if where is None else where
    # the literal spec is valid (it is ``fig``'s, strings replaced): skip plotly's second
    # validation, which Streamlit would run on a dict (a third of a What-if rerun's charts)
    literal = go.Figure(literal_figure(fig), _validate=False)
    return target.plotly_chart(literal, key=key, **kwargs)


def text(line: str, *, help: str | None = None, where: Any = None) -> None:
    """A line of words that may quote data, shown exactly as written (no Markdown, no
    ``:color[]`` directive, no link or image), with an optional tooltip treated alike."""
    target = st if where is None else where
    target.markdown(escape_markdown(line), help=None if help is None else escape_markdown(help))


def _latest_run(history: Sequence[float | None]) -> list[float]:
    """The values of the latest quarters with no gap (a sparkline spaces points evenly, so
    a value from a year back next to last quarter's would mislead)."""
    run: list[float] = []
    for value in reversed(history):
        if value is None:
            break
        run.append(value)
    return run[::-1]


def kpi_cards(
    kpis: Sequence[Kpi],
    currency: str,
    *,
    per_row: int = 4,
    compare: str = "",
    versus: Literal["quarter", "year"] = "quarter",
) -> None:
    """KPI cards in rows: formatted value, change since the previous quarter or a year
    earlier (grey when it rounds to nothing), a sparkline of recent quarters, and the
    definition as a tooltip.

    Parameters
    ----------
    kpis
        Cards to show, in order.
    currency
        ISO code of money values.
    per_row
        Cards per row.
    compare
        What the change is measured against (e.g. "vs 30 Jun 2026").
    versus
        ``"quarter"``: the change since the previous quarter end (``Kpi.delta``);
        ``"year"``: since four quarters earlier (``Kpi.year_delta``).
    """
    for start in range(0, len(kpis), per_row):
        row = kpis[start : start + per_row]
        histories = [_latest_run(kpi.history) for kpi in row]
        sparklines = [h if len(h) >= 3 else None for h in histories]
        # cards in a row share a height when some of them carry a sparkline
        height = _CARD_HEIGHT if any(sparklines) and not all(sparklines) else "content"
        columns = st.columns(per_row)
        for column, kpi, sparkline in zip(columns, row, sparklines, strict=False):
            change = kpi.year_delta if versus == "year" else kpi.delta
            delta = fmt_delta(change, kpi.kind, currency)
            unchanged = delta is not None and not any(c in "123456789" for c in delta)
            with column:
                st.metric(
                    kpi.label,
                    fmt_kind(kpi.value, kpi.kind, currency),
                    delta=delta.lstrip("+-") if unchanged else delta,
                    delta_color="off"
                    if unchanged
                    else ("normal" if kpi.higher_is_better else "inverse"),
                    delta_arrow="off" if unchanged else "auto",
                    delta_description=compare or None,
                    help=kpi.help,
                    border=True,
                    chart_data=sparkline,
                    chart_type="area",
                    height=height,
                )
