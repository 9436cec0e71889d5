"""Native tables of the review: formatted cells from the pages' frames and the KPIs."""

from __future__ import annotations

import polars as pl

from crm_core.copy import review as words
from crm_core.formatting import fmt_count, fmt_kind, fmt_money, fmt_pct
from crm_core.report.inputs import ReviewInputs
from crm_core.report.slides import Table

__all__ = ["frame_table", "kpi_table", "text_table"]


def frame_table(frame: pl.DataFrame, kinds: dict[str, tuple[str, str]], currency: str) -> Table:
    """A native table from ``frame``'s columns ``kinds`` (column -> (heading, kind)):
    ``text``, ``date``, ``money`` (compact), ``cents`` (exact), ``count``, ``pct`` (a
    fraction), ``percent`` (already times 100) or ``signed`` (a signed count); money
    headings carry the currency."""

    formats = {
        "date": lambda v: f"{v:%d %b %Y}",
        "money": lambda v: fmt_money(float(v), currency),
        "cents": lambda v: fmt_money(float(v), currency, compact=False),
        "count": lambda v: fmt_count(float(v), compact=False),
        "signed": lambda v: f"{int(v):+,}",
        "pct": lambda v: fmt_pct(float(v)),
        "percent": lambda v: f"{float(v):.0f}%",  # already in percent (the pages' frames)
    }

    def cell(value: object, kind: str) -> str:
        if value is None:
            return "n/a"
        return formats[kind](value) if kind in formats else str(value)

    present = [(c, h, k) for c, (h, k) in kinds.items() if c in frame.columns]
    header = tuple(f"{h} ({currency})" if k in ("money", "cents") else h for _, h, k in present)
    rows = tuple(
        tuple(cell(row[c], k) for c, _, k in present) for row in frame.iter_rows(named=True)
    )
    numeric = tuple(k not in ("text", "date") for _, _, k in present)
    return Table(header, rows, numeric)


def text_table(frame: pl.DataFrame) -> Table:
    """A frame of text cells (the pages' word tables) as a native table; every column
    but the first holds numbers."""
    header = tuple(frame.columns)
    rows = tuple(tuple(str(v) for v in row) for row in frame.iter_rows())
    return Table(header, rows, tuple(i > 0 for i in range(len(header))))


def kpi_table(inputs: ReviewInputs) -> Table:
    """The KPI slide's table: every Executive overview card, now, last quarter and a year
    ago, with the changes (the cards' values, formatted as the cards are)."""
    cur = inputs.currency
    rows = []
    for kpi in inputs.overview.kpis:
        rows.append(
            (
                kpi.label,
                fmt_kind(kpi.value, kpi.kind, cur),
                fmt_kind(kpi.previous, kpi.kind, cur),
                words.change_text(kpi, kpi.previous, cur),
                fmt_kind(kpi.year_ago, kpi.kind, cur),
                words.change_text(kpi, kpi.year_ago, cur),
            )
        )
    return Table(words.KPI_HEADER, tuple(rows), (False, True, True, True, True, True))
