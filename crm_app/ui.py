"""Small rendering helpers shared by the pages (no analytics here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import streamlit as st

from crm_app.state import Selection
from crm_core.formatting import fmt_delta, fmt_kind
from crm_core.metrics.registry import Kpi

__all__ = ["kpi_cards", "page_header"]

_CARD_HEIGHT = 210


def page_header(title: str, sel: Selection, subtitle: str | None = None) -> None:
    """Page title with the company and date it describes."""
    st.title(title)
    line = f"{sel.company} · as of {sel.as_of:%d %b %Y}"
    if sel.as_of != sel.snapshot_as_of:
        line += f" (snapshot of {sel.snapshot_as_of:%d %b %Y})"
    if subtitle:
        line += f" · {subtitle}"
    st.caption(line)


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
