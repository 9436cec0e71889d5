"""The drill-down list of a tier: the top rows for the screen, every row for a CSV file.

A page shows at most :data:`TOP_ROWS` customers of a tier (the count of all of them is
stated) and offers the whole list as a CSV generated on click. Both come from
:func:`tier_list`: money rounded to cents (no ``8767.569999999998``, no ``7.6e-21``, no
``-0``), rates to two decimals, enums as text, and every text cell that a spreadsheet
would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) prefixed with an apostrophe. Headers are words, passed in by the caller
(:mod:`crm_core.copy.segments`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl
import polars.selectors as cs

from crm_core.formatting import formula_safe
from crm_core.segments.columns import (
    ACQUISITION_COST,
    CLV,
    DIRECT_COST,
    PROFIT,
    REVENUE,
    SERVICE_COST,
    TOTAL_COST,
    YEARLY_AMOUNT,
)

__all__ = [
    "MONEY_COLUMNS",
    "TOP_ROWS",
    "csv_bytes",
    "rounded",
    "tier_list",
]

TOP_ROWS = 500
"""Customers of a tier shown on screen (the CSV has them all)."""

MONEY_COLUMNS = frozenset(
    {REVENUE, DIRECT_COST, SERVICE_COST, ACQUISITION_COST, TOTAL_COST, PROFIT, YEARLY_AMOUNT, CLV}
)
"""Per-customer amounts (currency), rounded to cents."""


def rounded(column: str, digits: int, scale: float = 1.0) -> pl.Expr:
    """``column`` times ``scale`` rounded to ``digits`` decimals, a rounded -0 as 0."""
    value = (pl.col(column) * scale).round(digits) if scale != 1.0 else pl.col(column).round(digits)
    return pl.when(value == 0).then(pl.lit(0.0)).otherwise(value).alias(column)


def tier_list(
    members: pl.DataFrame, columns: Sequence[str], limit: int | None = None
) -> pl.DataFrame:
    """``columns`` of ``members`` (best first), cleaned for people and spreadsheets.

    Parameters
    ----------
    members
        Rows of :attr:`crm_core.segments.report.SegmentReport.customers`.
    columns
        Columns to keep, in order.
    limit
        Keep only the first ``limit`` rows (``None``: all).

    Returns
    -------
    pl.DataFrame
        Money columns rounded to cents and other decimals to two places (``-0`` written as
        0), enums and categoricals as formula-safe text, dates unchanged.
    """
    frame = members.head(limit) if limit is not None else members
    frame = frame.select(columns)
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    texts = frame.select(cs.string() | cs.enum() | cs.categorical()).columns
    return frame.with_columns(
        *(rounded(c, 2) for c in floats),  # cents for money, two decimals for rates
        *(formula_safe(c) for c in texts),
    )


def csv_bytes(frame: pl.DataFrame, headers: Mapping[str, str]) -> bytes:
    """``frame`` (from :func:`tier_list`) as UTF-8 CSV with ``headers`` as column words;
    decimals written with two places, never in scientific notation."""
    return (
        frame.rename({c: headers.get(c, c) for c in frame.columns})
        .write_csv(float_precision=2, float_scientific=False)
        .encode("utf-8")
    )
