"""Exact reading of numbers and dates written as text, and the rules for typed columns.

Every value is read exactly or refused, never guessed:

* **Numbers** are read under one decimal mark per file (``.`` or ``,``), detected from
  values that can only be read one way (``12,50``, ``1.234,50``, ``1,234.50``, ``1.234.567``)
  or given (``--decimal``). Thousands separators must group digits by three (``,`` ``'``
  or a space with ``.``; ``.`` ``'`` or a space with ``,``). A file whose only separators are
  ambiguous (``1,234``: 1234 or 1.234?) or that mixes both marks is refused with the option
  to pass. Currency signs (``$ € £ ¥ ₹``) and accounting negatives ``(12.50)`` are read.
* **Dates** are read under one format per column, chosen among the formats below when
  exactly one reads every value (``13/01/2024`` can only be day/month/year), or given
  (``--date-format``); ``01/02/2024`` alone is refused naming both readings. A time of day
  after the date is ignored. Two-digit years are read only under an explicit format.
* **Typed columns** (Parquet, Excel, SQL): whole numbers up to 2**53, decimals and floats
  are amounts; booleans are not; dates and timestamps are dates, integers are not (unless a
  ``--date-format`` such as ``%Y%m%d`` is given); ids are text or whole numbers, never
  floating-point numbers (``1.0`` may have been ``"001"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

__all__ = [
    "DATE_FORMATS",
    "DECIMAL_MARKS",
    "KNOWN_DATE_FORMATS",
    "MAX_EXACT_INT",
    "PLAIN_NUMBER",
    "TWO_DIGIT_YEAR",
    "DateFormat",
    "clean_date",
    "clean_number",
    "date_candidates",
    "decimal_evidence",
    "has_time_fields",
    "number_pattern",
    "parse_date",
    "parse_number",
    "plain_number",
]

DECIMAL_MARKS = (".", ",")
MAX_EXACT_INT = 2**53  # every integer up to this is exactly a float64
_CURRENCY = "$€£¥₹"
_SPACES = " \u00a0\u202f"  # space, no-break space, narrow no-break space
_THOUSANDS = {".": (",", "'", *_SPACES), ",": (".", "'", *_SPACES)}


def _grouped(separator: str) -> str:
    return rf"[0-9]{{1,3}}(?:{re.escape(separator)}[0-9]{{3}})+"


def number_pattern(decimal: str) -> str:
    """Regular expression of a number written with the decimal mark ``decimal``."""
    groups = "|".join(_grouped(s) for s in _THOUSANDS[decimal])
    d = re.escape(decimal)
    return rf"^[+-]?(?:(?:[0-9]+|{groups})(?:{d}[0-9]+)?|{d}[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def clean_number(text: pl.Expr) -> pl.Expr:
    """Text of a number without surrounding spaces, currency signs or accounting
    parentheses (``"(12.50)"`` -> ``"-12.50"``); empty text becomes null."""
    s = (
        text.str.strip_chars()
        .str.replace_all(f"[{_CURRENCY}]", "")
        .str.strip_chars()
        .str.replace(r"^\((.*)\)$", "-$1")
        .str.replace("^\u2212", "-")
        .str.strip_chars()
    )
    return pl.when(s == "").then(None).otherwise(s)


def parse_number(cleaned: pl.Expr, decimal: str) -> pl.Expr:
    """The value of cleaned number text under ``decimal`` (null where it does not match)."""
    thousands = "".join(re.escape(s) for s in _THOUSANDS[decimal])
    digits = cleaned.str.replace_all(f"[{thousands}]", "")
    if decimal == ",":
        digits = digits.str.replace(",", ".", literal=True)
    return (
        pl.when(cleaned.str.contains(number_pattern(decimal)))
        .then(digits.cast(pl.Float64, strict=False))
        .otherwise(None)
    )


PLAIN_NUMBER = {".": r"^[+-]?[0-9]+(?:\.[0-9]+)?$", ",": r"^[+-]?[0-9]+(?:,[0-9]+)?$"}
"""Numbers written plainly (no thousands separator, sign, space or exponent quirks): what
:func:`parse_number` reads them as is :func:`plain_number`."""


def plain_number(text: pl.Expr, decimal: str) -> pl.Expr:
    """The value of text matching ``PLAIN_NUMBER[decimal]`` (as :func:`parse_number`)."""
    digits = text if decimal == "." else text.str.replace(",", ".", literal=True)
    return digits.cast(pl.Float64, strict=False)


def decimal_evidence(cleaned: pl.Expr) -> dict[str, pl.Expr]:
    """Boolean expressions classifying cleaned number text.

    ``"."`` / ``","``: readable only with that decimal mark; ``"ambiguous"``: readable with
    both and holding a separator (``1,234``); ``"invalid"``: readable with neither.
    """
    dot = cleaned.str.contains(number_pattern("."))
    comma = cleaned.str.contains(number_pattern(","))
    return {
        ".": dot & ~comma,
        ",": comma & ~dot,
        "ambiguous": dot & comma & cleaned.str.contains("[.,]"),
        "invalid": ~dot & ~comma,
    }


# ----------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class DateFormat:
    """A date format the reader recognises: its strftime form and the shape it accepts."""

    fmt: str
    pattern: str
    example: str


_D, _M, _Y = "[0-9]{1,2}", "[0-9]{1,2}", "[0-9]{4}"
_MON, _MONTH = "[A-Za-z]{3}", "[A-Za-z]{3,9}"
DATE_FORMATS: tuple[DateFormat, ...] = (
    DateFormat("%Y-%m-%d", f"^{_Y}-{_M}-{_D}$", "2024-01-31"),
    DateFormat("%Y/%m/%d", f"^{_Y}/{_M}/{_D}$", "2024/01/31"),
    DateFormat("%Y.%m.%d", rf"^{_Y}\.{_M}\.{_D}$", "2024.01.31"),
    DateFormat("%Y%m%d", "^[0-9]{8}$", "20240131"),
    DateFormat("%d.%m.%Y", rf"^{_D}\.{_M}\.{_Y}$", "31.01.2024"),
    DateFormat("%d/%m/%Y", f"^{_D}/{_M}/{_Y}$", "31/01/2024"),
    DateFormat("%m/%d/%Y", f"^{_M}/{_D}/{_Y}$", "01/31/2024"),
    DateFormat("%d-%m-%Y", f"^{_D}-{_M}-{_Y}$", "31-01-2024"),
    DateFormat("%m-%d-%Y", f"^{_M}-{_D}-{_Y}$", "01-31-2024"),
    DateFormat("%d-%b-%Y", f"^{_D}-{_MON}-{_Y}$", "31-Jan-2024"),
    DateFormat("%d %b %Y", f"^{_D} {_MON} {_Y}$", "31 Jan 2024"),
    DateFormat("%d %B %Y", f"^{_D} {_MONTH} {_Y}$", "31 January 2024"),
    DateFormat("%b %d, %Y", f"^{_MON} {_D}, {_Y}$", "Jan 31, 2024"),
    DateFormat("%B %d, %Y", f"^{_MONTH} {_D}, {_Y}$", "January 31, 2024"),
)
KNOWN_DATE_FORMATS = {f.fmt: f for f in DATE_FORMATS}
TWO_DIGIT_YEAR = r"^[0-9]{1,2}([/.-])[0-9]{1,2}[/.-][0-9]{2}$"
_TIME = (
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*(?:[AaPp][Mm])?\s*"
    r"(?:Z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?)$"
)
_TIME_FIELDS = re.compile(r"%[HIMSpTRzfr]")


def has_time_fields(fmt: str) -> bool:
    """Whether a strftime format reads a time of day (then the time is not stripped)."""
    return bool(_TIME_FIELDS.search(fmt))


def clean_date(text: pl.Expr, fmt: str | None = None) -> pl.Expr:
    """Date text without surrounding spaces or a trailing time of day; empty -> null."""
    s = text.str.strip_chars()
    if fmt is None or not has_time_fields(fmt):
        s = s.str.replace(_TIME, "")
    return pl.when(s == "").then(None).otherwise(s)


def parse_date(cleaned: pl.Expr, fmt: str) -> pl.Expr:
    """The date of cleaned text under ``fmt`` (null where it does not match).

    A recognised format also requires its exact shape (four-digit years); any other
    format is read by polars' strftime parser as given.
    """
    known = KNOWN_DATE_FORMATS.get(fmt)
    if has_time_fields(fmt):
        value = cleaned.str.to_datetime(fmt, strict=False).dt.date()
    else:
        value = cleaned.str.to_date(fmt, strict=False)
    if known is None:
        return value
    return pl.when(cleaned.str.contains(known.pattern)).then(value).otherwise(None)


def date_candidates(values: pl.Series) -> dict[str, int]:
    """How many of the (cleaned, distinct, non-null) ``values`` each known format reads."""
    frame = pl.DataFrame({"v": values})
    counts = frame.select(
        [parse_date(pl.col("v"), f.fmt).is_not_null().sum().alias(f.fmt) for f in DATE_FORMATS]
    )
    return {name: int(n) for name, n in counts.row(0, named=True).items()}
