"""Per-customer RFM summary: the frequency / recency / age / spend inputs of the CLV models.

``rfm_summary`` turns a transaction log into one row per customer, in the form the BG/NBD
and Gamma-Gamma models expect (Fader, Hardie & Lee 2005):

* purchases are counted in **purchase days**: all of a customer's transactions on one
  calendar day are netted (amounts summed) and count once;
* **refunds** (negative amounts) are netted into the day they are booked on; a day whose
  net amount is negative is a refund day, not a purchase day. A refund booked on a later
  day therefore does not reduce an earlier purchase: that day simply is not a purchase.
  A day netting to exactly zero (a free item, as in CDNOW, or a purchase returned the
  same day) still counts as a purchase day, with amount 0. A customer with no purchase
  day at all (only refunds, or nothing up to ``observation_end``) does not appear in the
  summary;
* ``frequency`` = purchase days after the first (repeat purchases);
* ``recency`` = time from the first to the last purchase day;
* ``T`` = time from the first purchase day to ``observation_end``;
* ``monetary_value`` = mean net amount of the repeat purchase days (the first purchase is
  left out, as in Fader, Hardie & Lee 2005), 0 when ``frequency`` is 0;
* durations are in days divided by 7 for ``time_unit="W"`` (weeks) or by 1 for ``"D"``.

Transactions dated after ``observation_end`` are ignored, so a calibration summary can be
taken from a longer log.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from crm_core.data.schema import C

__all__ = [
    "DAYS_PER_UNIT",
    "DAYS_PER_YEAR",
    "FIRST_PURCHASE",
    "FREQUENCY",
    "MONETARY_VALUE",
    "RECENCY",
    "TIME_UNIT_NAMES",
    "T_AGE",
    "purchase_days",
    "rfm_summary",
    "rfm_summary_lazy",
    "units_per_year",
]

FREQUENCY = "frequency"
RECENCY = "recency"
T_AGE = "T"
MONETARY_VALUE = "monetary_value"
FIRST_PURCHASE = "first_purchase"

DAYS_PER_YEAR = 365.25
DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}
TIME_UNIT_NAMES = {"D": "days", "W": "weeks"}


def units_per_year(time_unit: str) -> float:
    """Time units in a year of 365.25 days: 52.18 weeks (``"W"``) or 365.25 days (``"D"``)."""
    return DAYS_PER_YEAR / _days_per_unit(time_unit)


def _days_per_unit(time_unit: str) -> float:
    try:
        return DAYS_PER_UNIT[time_unit]
    except KeyError:
        raise ValueError(
            f"time_unit must be one of {', '.join(DAYS_PER_UNIT)}, got {time_unit!r}"
        ) from None


def _as_day(value: date | datetime | str, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None


def purchase_days(
    transactions: pl.DataFrame | pl.LazyFrame,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pl.LazyFrame:
    """One row per customer and purchase day: ``customer_id, date, amount`` (net >= 0).

    Transactions of the same customer and calendar day are summed; days whose net amount
    is negative (refund days) are dropped. ``start`` and ``end``
    (inclusive) restrict the dates.

    Raises
    ------
    ValueError
        If a required column is missing or has the wrong type.
    """
    lf = transactions.lazy()
    names = lf.collect_schema()
    missing = [c for c in (C.customer_id, C.date, C.amount) if c not in names]
    if missing:
        raise ValueError(f"transactions need the column(s) {', '.join(missing)}")
    if not names[C.amount].is_numeric():
        raise ValueError(f"column '{C.amount}' must be numeric, found {names[C.amount]}")
    if not (names[C.date] == pl.Date or isinstance(names[C.date], pl.Datetime)):
        raise ValueError(f"column '{C.date}' must be a date, found {names[C.date]}")
    lf = lf.select(
        pl.col(C.customer_id),
        pl.col(C.date).cast(pl.Date).alias(C.date),
        pl.col(C.amount).cast(pl.Float64).alias(C.amount),
    )
    if start is not None:
        lf = lf.filter(pl.col(C.date) >= pl.lit(start))
    if end is not None:
        lf = lf.filter(pl.col(C.date) <= pl.lit(end))
    return (
        lf.group_by(C.customer_id, C.date)
        .agg(pl.col(C.amount).sum().alias(C.amount))
        .filter(pl.col(C.amount) >= 0)
    )


def rfm_summary_lazy(
    transactions: pl.DataFrame | pl.LazyFrame,
    *,
    observation_end: date | datetime | str,
    time_unit: str = "W",
) -> pl.LazyFrame:
    """Lazy form of :func:`rfm_summary`, with an extra ``first_purchase`` date column."""
    unit = _days_per_unit(time_unit)
    end = _as_day(observation_end, "observation_end")
    days = purchase_days(transactions, end=end)
    first = pl.col(C.date).min()
    return (
        days.group_by(C.customer_id)
        .agg(
            first.alias(FIRST_PURCHASE),
            pl.col(C.date).max().alias("_last"),
            (pl.len() - 1).cast(pl.Int64).alias(FREQUENCY),
            pl.col(C.amount).sum().alias("_total"),
            pl.col(C.amount).sort_by(C.date).first().alias("_first_amount"),
        )
        .with_columns(
            ((pl.col("_last") - pl.col(FIRST_PURCHASE)).dt.total_days() / unit)
            .cast(pl.Float64)
            .alias(RECENCY),
            ((pl.lit(end) - pl.col(FIRST_PURCHASE)).dt.total_days() / unit)
            .cast(pl.Float64)
            .alias(T_AGE),
            pl.when(pl.col(FREQUENCY) > 0)
            .then((pl.col("_total") - pl.col("_first_amount")) / pl.col(FREQUENCY))
            .otherwise(0.0)
            .alias(MONETARY_VALUE),
        )
        .select(C.customer_id, FREQUENCY, RECENCY, T_AGE, MONETARY_VALUE, FIRST_PURCHASE)
        .sort(C.customer_id)
    )


def rfm_summary(
    transactions: pl.DataFrame | pl.LazyFrame,
    *,
    observation_end: date | datetime | str,
    time_unit: str = "W",
) -> pl.DataFrame:
    """Frequency, recency, age and mean repeat spend per customer (see module docstring).

    Parameters
    ----------
    transactions
        Frame with ``customer_id``, ``date`` (date or datetime) and ``amount`` (currency;
        negative = refund). Other columns are ignored.
    observation_end
        Last day observed (inclusive); later transactions are ignored.
    time_unit
        ``"W"`` (weeks of 7 days) or ``"D"`` (days) for ``recency`` and ``T``.

    Returns
    -------
    pl.DataFrame
        ``customer_id, frequency (Int64), recency, T (time units), monetary_value
        (currency)``, one row per customer with at least one purchase day, sorted by id.

    Raises
    ------
    ValueError
        For a missing column, a wrong type, an unknown ``time_unit`` or a bad date.
    """
    return (
        rfm_summary_lazy(transactions, observation_end=observation_end, time_unit=time_unit)
        .drop(FIRST_PURCHASE)
        .collect()
    )
