"""Number formatting shared by charts, pages and the report (1.2M, 34%, $1,234).

Executives read formatted numbers; every figure the product shows goes through here so a
value looks the same on every page and in the deck.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import polars as pl

__all__ = [
    "CURRENCY_SYMBOLS",
    "fmt_count",
    "fmt_delta",
    "fmt_kind",
    "fmt_money",
    "fmt_months",
    "fmt_pct",
    "fmt_ratio",
    "formula_safe",
    "to_csv",
]

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _compact(value: float, digits: int) -> str:
    """Scale by the largest suffix the rounded value reaches (999,950 -> 1.0M)."""
    for threshold, suffix in _SUFFIXES:
        if round(abs(value) / threshold, digits) >= 1:
            return f"{value / threshold:,.{digits}f}{suffix}"
    return f"{value:,.0f}"


def fmt_money(
    value: float | None, currency: str = "USD", *, compact: bool = True, digits: int = 1
) -> str:
    """Format an amount of money: ``$1.2M``, ``-$340``, ``€12.5k``.

    Parameters
    ----------
    value
        Amount in the currency's main unit.
    currency
        ISO 4217 code; known codes get their symbol, others are prefixed with the code.
    compact
        Use k/M/B suffixes for large values.
    digits
        Decimals kept after a suffix.
    """
    if _missing(value):
        return "n/a"
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if compact and magnitude >= 1000:
        body = _compact(magnitude, digits)
    elif magnitude >= 100 or float(magnitude).is_integer():
        body = f"{magnitude:,.0f}"
    else:
        body = f"{magnitude:,.2f}"
    return f"{sign}{symbol}{body}"


def fmt_count(value: float | None, *, compact: bool = True, digits: int = 1) -> str:
    """Format a count of customers or purchases: ``12,345`` or ``1.2M`` when compact."""
    if _missing(value):
        return "n/a"
    if compact and abs(value) >= 10_000:
        return _compact(float(value), digits)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def fmt_pct(value: float | None, *, digits: int = 0, signed: bool = False) -> str:
    """Format a share given as a fraction: ``0.341 -> '34%'``; ``signed`` adds ``+``."""
    if _missing(value):
        return "n/a"
    percent = round(value * 100, digits)
    if percent == 0:
        percent = 0.0  # never "-0%"
    return f"{percent:+.{digits}f}%" if signed else f"{percent:.{digits}f}%"


def fmt_ratio(value: float | None, *, digits: int = 1) -> str:
    """Format a multiple such as LTV:CAC: ``3.2x``."""
    if _missing(value):
        return "n/a"
    return f"{value:.{digits}f}x"


def fmt_months(value: float | None) -> str:
    """Format a duration in months: ``7.5 months``."""
    if _missing(value):
        return "n/a"
    return f"{value:.1f} months"


def fmt_kind(value: float | None, kind: str, currency: str = "USD") -> str:
    """Format ``value`` by its kind: ``money``, ``count``, ``pct``, ``ratio`` or ``months``."""
    if kind == "money":
        return fmt_money(value, currency)
    if kind == "count":
        return fmt_count(value)
    if kind == "pct":
        return fmt_pct(value, digits=1)
    if kind == "ratio":
        return fmt_ratio(value)
    if kind == "months":
        return fmt_months(value)
    raise ValueError(f"unknown kind {kind!r}")


def fmt_delta(delta: float | None, kind: str, currency: str = "USD") -> str | None:
    """Signed change for a KPI card: ``+$1.2k``, ``-34``, ``+1.5 pts``; ``None`` if unknown."""
    if _missing(delta):
        return None
    sign = "+" if delta >= 0 else "-"
    if kind == "pct":
        return f"{sign}{abs(delta) * 100:.1f} pts"
    return sign + fmt_kind(abs(delta), kind, currency)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet run a cell as a formula (CSV injection)."""


def formula_safe(column: str) -> pl.Expr:
    """Text ``column`` with an apostrophe before values a spreadsheet would run as a
    formula (``=``, ``+``, ``-``, ``@``, tab, carriage return): every CSV download uses it."""
    text = pl.col(column).cast(pl.String)
    risky = pl.any_horizontal(text.str.starts_with(s) for s in FORMULA_STARTS)
    return pl.when(risky).then(pl.lit("'") + text).otherwise(text).alias(column)


def to_csv(
    frame: pl.DataFrame, headers: Mapping[str, str], *, percent: Sequence[str] = ()
) -> bytes:
    """``frame``'s columns ``headers`` (in that order) as a CSV for spreadsheets.

    Headers are the given words; numbers are printed with two decimals (money in cents,
    ``percent`` columns as percentages of 100), never in exponent notation; text cells
    starting with ``= + - @`` (or a tab or carriage return) get a leading apostrophe so a
    spreadsheet shows them as text instead of running them as formulas.
    """
    out = []
    for column in headers:
        expr = pl.col(column)
        dtype = frame.schema[column]
        if column in percent:
            expr = expr * 100
        if dtype == pl.String:
            expr = formula_safe(column)
        elif dtype.is_float() or column in percent:
            expr = expr.round(2)
        out.append(expr.alias(headers[column]))
    return frame.select(out).write_csv(float_precision=2).encode("utf-8")
