"""RFM scores (quintiles) and named RFM segments of the ledger's customers at a period end.

RFM (recency, frequency, monetary value; Hughes, "Strategic Database Marketing", 1994)
scores each customer 1-5 on three measures read off the customer ledger at the end of
period ``k`` (the panel is causal, so these are what the business knew then):

* **recency**: days from the last purchase day (``last_purchase``) to the period end;
  fewer is better;
* **frequency**: purchase days up to the period end (``cum_purchase_days``: several
  purchases on one day count once, days netting to a refund do not count, as in the CLV
  model's inputs);
* **monetary**: revenue net of refunds up to the period end (currency).

The whole history up to the period end is used, so lapsed customers keep their place (as
"at risk" or "hibernating") instead of vanishing. Customers without a purchase day are not
scored.

**Quintile scores, ties.** Each measure is ranked within the scored customers (best
last); a customer's score is ``1 + floor(5 * (r - 1) / n)`` where ``r`` is the *lowest*
rank of the customers sharing its value. Equal values therefore always share a score, the
score of the quintile in which their group starts. Scores are relative to the customers
scored (and the filters), so they are recomputed at every date.

**Segments.** The widely used RFM segment map of recency against the combined
frequency-monetary score ``FM = round_half_up((F + M) / 2)`` (rows R, columns FM)::

    R\\FM  1                 2                   3                   4              5
    5     New customers     Potential loyalists Potential loyalists Champions      Champions
    4     Promising         Potential loyalists Potential loyalists Loyal          Loyal
    3     About to sleep    About to sleep      Need attention      Loyal          Loyal
    2     Hibernating       Hibernating         At risk             At risk        Can't lose them
    1     Hibernating       Hibernating         At risk             At risk        Can't lose them
"""

from __future__ import annotations

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C

__all__ = [
    "FM_SCORE",
    "FREQUENCY",
    "F_SCORE",
    "LAST_PURCHASE",
    "MONETARY",
    "M_SCORE",
    "QUINTILES",
    "RECENCY_DAYS",
    "RFM_CODE",
    "R_SCORE",
    "SCORE_COLUMNS",
    "SEGMENT",
    "SEGMENT_DTYPE",
    "SEGMENT_NAMES",
    "grid_frame",
    "quintile_score",
    "rfm_measures",
    "score",
    "scores_at",
    "segment_of",
]

LAST_PURCHASE = L.last_purchase
RECENCY_DAYS = "recency_days"
FREQUENCY = "frequency"
MONETARY = "monetary"
R_SCORE = "r_score"
F_SCORE = "f_score"
M_SCORE = "m_score"
FM_SCORE = "fm_score"
RFM_CODE = "rfm_code"
SEGMENT = "segment"

QUINTILES = 5

SEGMENT_NAMES: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New customers",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
)
"""The named segments, best first (descriptions and actions: :mod:`crm_core.copy.segments`)."""
SEGMENT_DTYPE = pl.Enum(SEGMENT_NAMES)

# rows: R score 5..1; columns: FM score 1..5
_GRID = {
    5: ("New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
    4: ("Promising", "Potential loyalists", "Potential loyalists", "Loyal", "Loyal"),
    3: ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    1: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
}
_LOOKUP = pl.Series(
    [_GRID[r][fm - 1] for r in range(1, QUINTILES + 1) for fm in range(1, QUINTILES + 1)],
    dtype=SEGMENT_DTYPE,
)  # index (r - 1) * 5 + (fm - 1)

SCORE_COLUMNS = (
    LAST_PURCHASE,
    RECENCY_DAYS,
    FREQUENCY,
    MONETARY,
    R_SCORE,
    F_SCORE,
    M_SCORE,
    FM_SCORE,
    RFM_CODE,
    SEGMENT,
)
"""Columns :func:`score` adds after the key."""


def segment_of(r: int, fm: int) -> str:
    """Segment name of a recency score ``r`` and a frequency-monetary score ``fm`` (1-5)."""
    if r not in _GRID or not 1 <= fm <= QUINTILES:
        raise ValueError(f"scores must be whole numbers 1-5, got R={r!r}, FM={fm!r}")
    return _GRID[r][fm - 1]


def grid_frame() -> pl.LazyFrame:
    """The 25 cells of the segment map: ``r_score, fm_score, segment``."""
    rows = [(r, fm, _GRID[r][fm - 1]) for r in _GRID for fm in range(1, QUINTILES + 1)]
    return pl.LazyFrame(
        rows, schema={R_SCORE: pl.Int8, FM_SCORE: pl.Int8, SEGMENT: SEGMENT_DTYPE}, orient="row"
    )


def quintile_score(column: str, *, higher_is_better: bool = True) -> pl.Expr:
    """Quintile score 1-5 of ``column`` within the frame (5 = best; ties share a score).

    ``1 + floor(5 * (r - 1) / n)`` with ``r`` the lowest 1-based rank among equal values
    (ranked worst to best) and ``n`` the number of rows; Int8, named after ``column``.
    """
    rank = pl.col(column).rank("min", descending=not higher_is_better).cast(pl.Int64)
    return ((rank - 1) * QUINTILES // pl.len().cast(pl.Int64) + 1).cast(pl.Int8)


def rfm_measures(ledger: Ledger, period: int = 0) -> pl.LazyFrame:
    """Recency, frequency and monetary value of every customer at the end of ``period``.

    Returns
    -------
    pl.LazyFrame
        One row per customer with a purchase day by then: ``cid, last_purchase,
        recency_days`` (Int64 days to the period end), ``frequency`` (purchase days,
        Int64), ``monetary`` (net revenue up to the period end, currency), in ``cid`` order.
    """
    if not 0 <= period < ledger.periods:
        raise ValueError(f"period must be in 0..{ledger.periods - 1}, got {period}")
    end = ledger.period_end(period)
    history = ledger.lazy().filter(pl.col(L.period) >= period)
    money = history.group_by(L.cid).agg(pl.col(L.revenue).sum().alias(MONETARY))
    return (
        ledger.at(period)
        .filter(pl.col(L.cum_purchase_days) > 0)
        .select(
            L.cid,
            pl.col(L.last_purchase),
            (pl.lit(end) - pl.col(L.last_purchase))
            .dt.total_days()
            .cast(pl.Int64)
            .alias(RECENCY_DAYS),
            pl.col(L.cum_purchase_days).cast(pl.Int64).alias(FREQUENCY),
        )
        .join(money, on=L.cid, how="left", maintain_order="left")
    )


def score(measures: pl.LazyFrame) -> pl.LazyFrame:
    """Quintile scores, the RFM code and the segment of the customers in ``measures``.

    ``measures`` has a key column, ``last_purchase``, ``recency_days``, ``frequency`` and
    ``monetary`` (one row per customer to score); the scores are ranks within it. Adds
    ``r_score, f_score, m_score, fm_score`` (Int8, 1-5), ``rfm_code`` (Int16, e.g. 545 for
    R5 F4 M5) and ``segment``.
    """
    fm = (pl.col(F_SCORE).cast(pl.Int16) + pl.col(M_SCORE) + 1) // 2
    index = (pl.col(R_SCORE).cast(pl.Int64) - 1) * QUINTILES + pl.col(FM_SCORE) - 1
    return (
        measures.with_columns(
            quintile_score(RECENCY_DAYS, higher_is_better=False).alias(R_SCORE),
            quintile_score(FREQUENCY).alias(F_SCORE),
            quintile_score(MONETARY).alias(M_SCORE),
        )
        .with_columns(
            fm.cast(pl.Int8).alias(FM_SCORE),
            (
                pl.col(R_SCORE).cast(pl.Int16) * 100
                + pl.col(F_SCORE).cast(pl.Int16) * 10
                + pl.col(M_SCORE)
            ).alias(RFM_CODE),
        )
        .with_columns(pl.lit(_LOOKUP).gather(index).alias(SEGMENT))
    )


def scores_at(ledger: Ledger, period: int, keep: pl.Expr | None = None) -> pl.LazyFrame:
    """RFM scores at the end of ``period`` of the customers passing ``keep`` (an expression
    on the ledger's customer columns, e.g. a region filter; ``None``: everyone).

    Returns
    -------
    pl.LazyFrame
        ``cid, customer_id, region, acquisition_channel`` and :data:`SCORE_COLUMNS`.
    """
    measures = ledger.with_customers(
        rfm_measures(ledger, period), C.customer_id, C.region, C.acquisition_channel
    )
    if keep is not None:
        measures = measures.filter(keep)
    return score(measures)
