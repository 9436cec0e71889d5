"""The period grid of the customer ledger: periods ending on the as-of date.

Periods step back from the as-of date by whole calendar months, ``t_k = add_months(as_of,
-k * period_months)`` (``k = 0`` is the latest), and period ``k`` is ``(t_{k+1}, t_k]``:
quarters for non-contractual businesses, months for contractual ones. When the as-of date
is a quarter end the periods are calendar quarters ("2026 Q3"), otherwise they are labelled
"3 months to 2026-08-15". The grid reaches back to the company's first recorded activity,
so every dated row of a snapshot falls in exactly one period.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import polars as pl

from crm_core.data.expressions import add_months

__all__ = [
    "LABEL",
    "PERIOD",
    "PERIOD_END",
    "PERIOD_START",
    "is_quarter_end",
    "period_grid",
    "period_of",
]

PERIOD = "period"
PERIOD_START = "period_start"
PERIOD_END = "period_end"
LABEL = "label"


def is_quarter_end(day: date) -> bool:
    """Whether ``day`` is the last day of a calendar quarter."""
    return day.month % 3 == 0 and day.day == calendar.monthrange(day.year, day.month)[1]


def _label(end: date, period_months: int, aligned: bool) -> str:
    if not aligned:
        return (
            f"{period_months} months to {end.isoformat()}"
            if period_months != 1
            else (f"Month to {end.isoformat()}")
        )
    if period_months == 3:
        return f"{end.year} Q{(end.month - 1) // 3 + 1}"
    if period_months == 1:
        return f"{end:%b %Y}"
    return f"{period_months} months to {end.isoformat()}"


def period_grid(as_of: date, periods: int, period_months: int = 3) -> pl.DataFrame:
    """The latest ``periods`` periods ending on ``as_of``.

    Returns
    -------
    pl.DataFrame
        ``period`` (Int32, 0 = latest), ``period_start``, ``period_end`` (both inclusive)
        and ``label``, latest first.
    """
    if periods < 1:
        raise ValueError(f"periods must be at least 1, got {periods}")
    if period_months not in (1, 3):
        raise ValueError(f"period_months must be 1 or 3, got {period_months}")
    ends = [add_months(as_of, -period_months * k) for k in range(periods + 1)]
    month_end = add_months(as_of, 1).replace(day=1) - timedelta(days=1) == as_of
    aligned = month_end and (period_months == 1 or is_quarter_end(as_of))
    rows = [
        (k, ends[k + 1] + timedelta(days=1), ends[k], _label(ends[k], period_months, aligned))
        for k in range(periods)
    ]
    return pl.DataFrame(
        rows,
        schema={PERIOD: pl.Int32, PERIOD_START: pl.Date, PERIOD_END: pl.Date, LABEL: pl.String},
        orient="row",
    )


def periods_back_to(as_of: date, first: date, period_months: int) -> int:
    """Number of periods needed for the grid to contain ``first`` (at least 1)."""
    n = 1
    while add_months(as_of, -period_months * n) >= first:
        n += 1
    return n


def period_of(column: str | pl.Expr, grid: pl.DataFrame) -> pl.Expr:
    """Index ``k`` of the grid period containing a date column; null outside the grid.

    A binary search in the period ends, so no sort of the (possibly huge) data is needed.
    """
    n = grid.height
    ends = pl.Series(
        [grid[PERIOD_START][-1] - timedelta(days=1), *reversed(grid[PERIOD_END].to_list())],
        dtype=pl.Date,
    )
    expr = pl.col(column) if isinstance(column, str) else column
    i = pl.lit(ends).search_sorted(expr, side="left").cast(pl.Int32)
    return pl.when((i >= 1) & (i <= n)).then(pl.lit(n, pl.Int32) - i)
