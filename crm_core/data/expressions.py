"""Reusable polars expressions: date windows, quarters, profit terms.

Transforms across ``crm_core`` build on these so a window or a quarter means the same
thing everywhere.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import polars as pl

from crm_core.data.schema import C

__all__ = [
    "add_months",
    "between",
    "gross_profit",
    "months_before",
    "quarter_end",
    "quarter_label",
    "quarter_start",
    "trailing_window",
]


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day.

    ``add_months(date(2026, 9, 30), -3) == date(2026, 6, 30)`` and month ends stay month
    ends (``2026-03-31 -> 2026-02-28``).
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    is_month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month, last if is_month_end else min(day.day, last))


def months_before(day: date, months: int) -> date:
    """``add_months(day, -months)``."""
    return add_months(day, -months)


def trailing_window(as_of: date, months: int = 12) -> tuple[date, date]:
    """First and last day (both inclusive) of the ``months`` months ending on ``as_of``.

    The trailing twelve months of 2026-09-30 are 2025-10-01 .. 2026-09-30.
    """
    if months <= 0:
        raise ValueError(f"window must be at least one month, got {months}")
    return months_before(as_of, months) + timedelta(days=1), as_of


def between(column: str, start: date, end: date) -> pl.Expr:
    """True where ``start <= column <= end`` (dates, both ends inclusive)."""
    return pl.col(column).is_between(pl.lit(start), pl.lit(end), closed="both")


def quarter_start(column: str) -> pl.Expr:
    """First day of the calendar quarter of a date column."""
    return pl.col(column).dt.truncate("1q")


def quarter_end(day: date) -> date:
    """Last day of the calendar quarter containing ``day``."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    return add_months(date(day.year, first_month, 1), 3) - timedelta(days=1)


def quarter_label(column: str) -> pl.Expr:
    """Quarter of a date column as text, e.g. ``"2026 Q3"``."""
    return pl.format("{} Q{}", pl.col(column).dt.year(), pl.col(column).dt.quarter())


def gross_profit() -> pl.Expr:
    """Revenue minus direct cost of a transaction row (currency)."""
    return (pl.col(C.amount) - pl.col(C.cost)).alias("gross_profit")
