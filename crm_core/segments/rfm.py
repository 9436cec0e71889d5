"""RFM scoring (quintiles), named RFM segments, and migration between two as-of dates.

RFM (recency, frequency, monetary value; Hughes, "Strategic Database Marketing", 1994)
scores each customer 1-5 on three measures taken from the purchase history up to the
as-of date:

* **recency**: days from the last purchase (a transaction with a positive amount) to the
  as-of date; fewer is better;
* **frequency**: purchase days (several purchases on one day count once, as in
  ``rfm_summary``);
* **monetary**: revenue net of refunds (currency).

By default the whole history up to the as-of date is used, so lapsed customers keep their
place (as "at risk" or "hibernating") instead of vanishing; ``lookback_months`` limits it.
Customers without a purchase in that history are not scored.

**Quintile scores, ties.** Each measure is ranked within the scored customers (best
last); a customer's score is ``1 + floor(5 * (r - 1) / n)`` where ``r`` is the *lowest*
rank of the customers sharing its value. Equal values therefore always share a score,
the score of the quintile in which their group starts: if half the customers bought once,
all of them score F = 1 and the next frequency scores 3. Scores are relative to the
customers scored at that date (and filters), so they are recomputed at every as-of date.

**Segments.** The widely used RFM segment map of recency against the combined
frequency-monetary score ``FM = round_half_up((F + M) / 2)`` (rows R, columns FM)::

    R\\FM  1                 2                   3                   4              5
    5     New customers     Potential loyalists Potential loyalists Champions      Champions
    4     Promising         Potential loyalists Potential loyalists Loyal          Loyal
    3     About to sleep    About to sleep      Need attention      Loyal          Loyal
    2     Hibernating       Hibernating         At risk             At risk        Can't lose them
    1     Hibernating       Hibernating         At risk             At risk        Can't lose them

Profit per segment is :func:`crm_core.profit.customer_profit_lazy` over the profit window
(default: the trailing twelve months), 0 for customers with no activity in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
from crm_core.segments.profit import PROFIT, ProfitWindow, customer_profit_lazy
from crm_core.segments.report import (
    CUSTOMER_SHARE,
    CUSTOMERS,
    PROFIT_PER_CUSTOMER,
    PROFIT_SHARE,
    as_names,
    filter_customers,
    per_customer,
    share_of_total,
)

__all__ = [
    "NEW_CUSTOMER",
    "NO_PURCHASE",
    "RFM_LABELS",
    "SEGMENTS",
    "SEGMENT_NAMES",
    "RFMMigration",
    "RFMReport",
    "RFMSegment",
    "quintile_score",
    "rfm_migration",
    "rfm_report",
    "rfm_scores_lazy",
    "segment_of",
]

LAST_PURCHASE = "last_purchase"
RECENCY_DAYS = "recency_days"
FREQUENCY = "frequency"
MONETARY = "monetary"
R_SCORE = "r_score"
F_SCORE = "f_score"
M_SCORE = "m_score"
FM_SCORE = "fm_score"
RFM_CODE = "rfm_code"
SEGMENT = "segment"
MEDIAN_RECENCY_DAYS = "median_recency_days"
AVG_FREQUENCY = "avg_frequency"
AVG_MONETARY = "avg_monetary"
DESCRIPTION = "description"
ACTION = "action"
FROM_SEGMENT = "from_segment"
TO_SEGMENT = "to_segment"
SHARE_OF_FROM = "share_of_from"

QUINTILES = 5


@dataclass(frozen=True)
class RFMSegment:
    """A named RFM segment: who they are and what to do about them."""

    name: str
    description: str
    action: str


SEGMENTS: tuple[RFMSegment, ...] = (
    RFMSegment(
        "Champions",
        "Bought recently, buy often and spend the most.",
        "Reward them; early access to new products; ask for referrals and reviews.",
    ),
    RFMSegment(
        "Loyal",
        "Buy often and spend well; not always the most recent.",
        "Up-sell higher-value products; enrol in the loyalty programme.",
    ),
    RFMSegment(
        "Potential loyalists",
        "Recent customers with average frequency and spend.",
        "Offer membership or a loyalty programme; recommend related products.",
    ),
    RFMSegment(
        "New customers",
        "Bought very recently, only once or twice so far.",
        "Onboard well: welcome series, first-month support, a reason to come back.",
    ),
    RFMSegment(
        "Promising",
        "Recent buyers who have not spent much yet.",
        "Build the relationship: targeted offers and product education.",
    ),
    RFMSegment(
        "Need attention",
        "Average recency, frequency and spend: drifting.",
        "Limited-time offers based on past purchases; reactivate before they sleep.",
    ),
    RFMSegment(
        "About to sleep",
        "Below-average recency, frequency and spend.",
        "Share popular products and renewals at a discount; reconnect cheaply.",
    ),
    RFMSegment(
        "At risk",
        "Bought often and spent well, but long ago.",
        "Personal win-back contact; find out why they left; tailored offers.",
    ),
    RFMSegment(
        "Can't lose them",
        "Once among the best customers; no purchase for a long time.",
        "Win them back now: talk to them, personal offers, service recovery.",
    ),
    RFMSegment(
        "Hibernating",
        "Last purchase long ago, few purchases, low spend.",
        "Serve at low cost: automated reactivation offers; do not chase expensively.",
    ),
)
SEGMENT_NAMES: tuple[str, ...] = tuple(s.name for s in SEGMENTS)
SEGMENT_DTYPE = pl.Enum(SEGMENT_NAMES)
NEW_CUSTOMER = "Not yet a customer"
NO_PURCHASE = "No purchase in the lookback"
FROM_DTYPE = pl.Enum([*SEGMENT_NAMES, NEW_CUSTOMER])
TO_DTYPE = pl.Enum([*SEGMENT_NAMES, NO_PURCHASE])

# rows: R score 5..1; columns: FM score 1..5
_GRID = {
    5: ("New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
    4: ("Promising", "Potential loyalists", "Potential loyalists", "Loyal", "Loyal"),
    3: ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    1: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
}

RFM_LABELS: dict[str, str] = {
    C.customer_id: "Customer",
    C.region: "Region",
    C.acquisition_channel: "Acquisition channel",
    LAST_PURCHASE: "Last purchase",
    RECENCY_DAYS: "Days since last purchase",
    FREQUENCY: "Purchase days",
    MONETARY: "Revenue",
    R_SCORE: "Recency score",
    F_SCORE: "Frequency score",
    M_SCORE: "Monetary score",
    FM_SCORE: "Frequency-monetary score",
    RFM_CODE: "RFM code",
    SEGMENT: "RFM segment",
    PROFIT: "Net profit",
    CUSTOMERS: "Customers",
    CUSTOMER_SHARE: "Share of customers",
    PROFIT_SHARE: "Share of net profit",
    PROFIT_PER_CUSTOMER: "Net profit per customer",
    MEDIAN_RECENCY_DAYS: "Median days since last purchase",
    AVG_FREQUENCY: "Average purchase days",
    AVG_MONETARY: "Average revenue",
    DESCRIPTION: "Who they are",
    ACTION: "Recommended action",
    FROM_SEGMENT: "Segment before",
    TO_SEGMENT: "Segment after",
    SHARE_OF_FROM: "Share of the segment before",
}


def segment_of(r: int, fm: int) -> str:
    """Segment name of a recency score ``r`` and a frequency-monetary score ``fm`` (1-5)."""
    if r not in _GRID or not 1 <= fm <= QUINTILES:
        raise ValueError(f"scores must be whole numbers 1-5, got R={r!r}, FM={fm!r}")
    return _GRID[r][fm - 1]


def _grid_frame() -> pl.LazyFrame:
    rows = [(r, fm, _GRID[r][fm - 1]) for r in _GRID for fm in range(1, QUINTILES + 1)]
    return pl.LazyFrame(
        rows,
        schema={R_SCORE: pl.Int8, FM_SCORE: pl.Int8, SEGMENT: SEGMENT_DTYPE},
        orient="row",
    )


def quintile_score(column: str, *, higher_is_better: bool = True) -> pl.Expr:
    """Quintile score 1-5 of ``column`` within the frame (5 = best; ties share a score).

    ``1 + floor(5 * (r - 1) / n)`` with ``r`` the lowest 1-based rank among equal values
    (ranked worst to best) and ``n`` the number of rows; Int8, named after ``column``.
    """
    rank = pl.col(column).rank("min", descending=not higher_is_better).cast(pl.Int64)
    return ((rank - 1) * QUINTILES // pl.len().cast(pl.Int64) + 1).cast(pl.Int8)


def rfm_scores_lazy(
    transactions: pl.LazyFrame,
    as_of: date,
    *,
    start: date | None = None,
) -> pl.LazyFrame:
    """Recency, frequency, monetary value and their quintile scores per customer.

    Parameters
    ----------
    transactions
        ``customer_id, date, amount`` rows (any others are ignored).
    as_of
        Date the scores describe; later rows are ignored.
    start
        First day of history to use (inclusive); ``None`` uses all history.

    Returns
    -------
    pl.LazyFrame
        One row per customer with a purchase in the history: ``customer_id,
        last_purchase, recency_days`` (Int64 days), ``frequency`` (purchase days, Int64),
        ``monetary`` (net revenue, currency), ``r_score, f_score, m_score, fm_score``
        (Int8, 1-5), ``rfm_code`` (e.g. ``"545"``) and ``segment``.
    """
    rows = pl.col(C.date) <= pl.lit(as_of)
    if start is not None:
        rows &= pl.col(C.date) >= pl.lit(start)
    bought = pl.col(C.amount) > 0
    return (
        transactions.filter(rows)
        .group_by(C.customer_id)
        .agg(
            pl.col(C.date).filter(bought).max().alias(LAST_PURCHASE),
            pl.col(C.date).filter(bought).n_unique().cast(pl.Int64).alias(FREQUENCY),
            pl.col(C.amount).sum().alias(MONETARY),
        )
        .filter(pl.col(FREQUENCY) > 0)
        .with_columns(
            (pl.lit(as_of) - pl.col(LAST_PURCHASE))
            .dt.total_days()
            .cast(pl.Int64)
            .alias(RECENCY_DAYS)
        )
        .with_columns(
            quintile_score(RECENCY_DAYS, higher_is_better=False).alias(R_SCORE),
            quintile_score(FREQUENCY).alias(F_SCORE),
            quintile_score(MONETARY).alias(M_SCORE),
        )
        .with_columns(
            ((pl.col(F_SCORE).cast(pl.Int64) + pl.col(M_SCORE) + 1) // 2)
            .cast(pl.Int8)
            .alias(FM_SCORE),
            pl.format("{}{}{}", R_SCORE, F_SCORE, M_SCORE).alias(RFM_CODE),
        )
        .join(_grid_frame(), on=[R_SCORE, FM_SCORE], how="left")
        .select(
            C.customer_id,
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
    )


def _lookback_start(as_of: date, lookback_months: int | None) -> date | None:
    if lookback_months is None:
        return None
    if isinstance(lookback_months, bool) or not isinstance(lookback_months, int):
        raise ValueError(f"lookback_months must be a whole number, got {lookback_months!r}")
    return ProfitWindow.trailing(as_of, lookback_months).start


def _scored_customers(
    snapshot: Snapshot,
    lookback_months: int | None,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
) -> pl.LazyFrame:
    """RFM scores of the customers of ``snapshot`` in the filters (scores within them)."""
    people = filter_customers(
        snapshot.customers.filter(pl.col(C.acquired_on) <= pl.lit(snapshot.as_of)).select(
            C.customer_id, C.region, C.acquisition_channel
        ),
        regions,
        channels,
    )
    tx = snapshot.transactions.join(people.select(C.customer_id), on=C.customer_id, how="semi")
    scores = rfm_scores_lazy(
        tx, snapshot.as_of, start=_lookback_start(snapshot.as_of, lookback_months)
    )
    return people.join(scores, on=C.customer_id, how="inner")


@dataclass(frozen=True)
class RFMReport:
    """RFM scores and segments at one as-of date (see :func:`rfm_report`).

    Attributes
    ----------
    as_of
        Date of the scores.
    window
        Profit window of the ``profit`` columns.
    lookback_start
        First day of purchase history used (``None``: all history).
    currency
        ISO code of amounts.
    customers
        One row per scored customer: ``customer_id, region, acquisition_channel,
        last_purchase, recency_days, frequency, monetary, r_score, f_score, m_score,
        fm_score, rfm_code, segment, profit``, sorted by segment then profit (highest first).
    segments
        One row per segment in :data:`SEGMENTS` order (empty ones included): ``segment,
        customers, customer_share, profit, profit_share, profit_per_customer,
        median_recency_days, avg_frequency, avg_monetary, description, action``.
        ``profit_share`` is null when total profit is not positive.
    grid
        25 rows, R score 5..1 by FM score 1..5: ``r_score, fm_score, segment, customers,
        profit``.
    """

    as_of: date
    window: ProfitWindow
    lookback_start: date | None
    currency: str
    customers: pl.DataFrame
    segments: pl.DataFrame
    grid: pl.DataFrame

    @property
    def is_empty(self) -> bool:
        """No customer has a purchase in the history."""
        return self.customers.height == 0


def _segment_table() -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            SEGMENT: list(SEGMENT_NAMES),
            DESCRIPTION: [s.description for s in SEGMENTS],
            ACTION: [s.action for s in SEGMENTS],
        },
        schema={SEGMENT: SEGMENT_DTYPE, DESCRIPTION: pl.String, ACTION: pl.String},
    )


def rfm_report(
    snapshot: Snapshot,
    *,
    window: ProfitWindow | None = None,
    lookback_months: int | None = None,
    amortise_years: float | None = None,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> RFMReport:
    """RFM scores and named segments of ``snapshot``'s customers as of its date.

    Parameters
    ----------
    snapshot
        The company's data (scores describe ``snapshot.as_of``).
    window
        Profit window for each segment's profit; default the trailing twelve months.
    lookback_months
        Purchase history used for the scores; ``None`` (default) uses all of it.
    amortise_years
        Acquisition-cost amortisation of the profit (see :mod:`crm_core.segments.profit`).
    regions, channels
        Keep only customers of these regions / acquisition channels (``None`` or empty:
        all); scores are quintiles within the selection.

    Returns
    -------
    RFMReport
        Collected in one pass; empty frames (segments with zero customers) when nobody has
        a purchase.
    """
    w = window or ProfitWindow.trailing(snapshot.as_of)
    reg = as_names(regions, "regions")
    chan = as_names(channels, "channels")
    start = _lookback_start(snapshot.as_of, lookback_months)
    profit = customer_profit_lazy(snapshot, w, amortise_years=amortise_years).select(
        C.customer_id, PROFIT
    )
    scored = (
        _scored_customers(snapshot, lookback_months, reg, chan)
        .join(profit, on=C.customer_id, how="left")
        .with_columns(pl.col(PROFIT).fill_null(0.0))
        .sort([SEGMENT, PROFIT, C.customer_id], descending=[False, True, False])
    )
    agg = scored.group_by(SEGMENT).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        pl.col(PROFIT).sum(),
        pl.col(RECENCY_DAYS).median().alias(MEDIAN_RECENCY_DAYS),
        pl.col(FREQUENCY).mean().alias(AVG_FREQUENCY),
        pl.col(MONETARY).mean().alias(AVG_MONETARY),
    )
    segments = (
        _segment_table()
        .join(agg, on=SEGMENT, how="left")
        .with_columns(pl.col(CUSTOMERS).fill_null(0), pl.col(PROFIT).fill_null(0.0))
        .with_columns(
            share_of_total(CUSTOMERS, positive_total=True).alias(CUSTOMER_SHARE),
            share_of_total(PROFIT, positive_total=True).alias(PROFIT_SHARE),
            per_customer(PROFIT).alias(PROFIT_PER_CUSTOMER),
        )
        .select(
            SEGMENT,
            CUSTOMERS,
            CUSTOMER_SHARE,
            PROFIT,
            PROFIT_SHARE,
            PROFIT_PER_CUSTOMER,
            MEDIAN_RECENCY_DAYS,
            AVG_FREQUENCY,
            AVG_MONETARY,
            DESCRIPTION,
            ACTION,
        )
        .sort(SEGMENT)
    )
    grid = (
        _grid_frame()
        .join(
            scored.group_by(R_SCORE, FM_SCORE).agg(
                pl.len().cast(pl.Int64).alias(CUSTOMERS), pl.col(PROFIT).sum()
            ),
            on=[R_SCORE, FM_SCORE],
            how="left",
        )
        .with_columns(pl.col(CUSTOMERS).fill_null(0), pl.col(PROFIT).fill_null(0.0))
        .sort([R_SCORE, FM_SCORE], descending=[True, False])
    )
    customers, seg_frame, grid_frame = pl.collect_all([scored, segments, grid])
    return RFMReport(
        as_of=snapshot.as_of,
        window=w,
        lookback_start=start,
        currency=snapshot.currency,
        customers=customers,
        segments=seg_frame,
        grid=grid_frame,
    )


@dataclass(frozen=True)
class RFMMigration:
    """How customers moved between RFM segments from one as-of date to a later one.

    Attributes
    ----------
    from_as_of, to_as_of
        The two dates.
    flows
        One row per (before, after) pair with customers: ``from_segment`` (a segment, or
        ``"Not yet a customer"`` for customers first scored after ``from_as_of``),
        ``to_segment`` (a segment, or ``"No purchase in the lookback"`` when a lookback
        drops a customer), ``customers`` and ``share_of_from`` (fraction of the
        ``from_segment``'s customers).
    """

    from_as_of: date
    to_as_of: date
    flows: pl.DataFrame

    def stayed(self, segment: str) -> float | None:
        """Share of ``segment`` at ``from_as_of`` still in it at ``to_as_of``."""
        row = self.flows.filter((pl.col(FROM_SEGMENT) == segment) & (pl.col(TO_SEGMENT) == segment))
        total = self.flows.filter(pl.col(FROM_SEGMENT) == segment)[CUSTOMERS].sum()
        if not total:
            return None
        return (float(row[CUSTOMERS].sum()) if row.height else 0.0) / total


def rfm_migration(
    snapshot: Snapshot,
    from_as_of: date,
    to_as_of: date | None = None,
    *,
    lookback_months: int | None = None,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> RFMMigration:
    """Segment migration between ``from_as_of`` and ``to_as_of`` (default: the snapshot's).

    Scores at each date are computed on :meth:`Snapshot.cut` of that date, so each is what
    the business would have seen then.

    Raises
    ------
    ValueError
        If ``from_as_of`` is not before ``to_as_of`` or a date lies after the snapshot.
    """
    end = to_as_of or snapshot.as_of
    if from_as_of >= end:
        raise ValueError(f"from_as_of ({from_as_of}) must be before to_as_of ({end})")
    reg = as_names(regions, "regions")
    chan = as_names(channels, "channels")
    before = _scored_customers(snapshot.cut(from_as_of), lookback_months, reg, chan).select(
        C.customer_id, pl.col(SEGMENT).alias(FROM_SEGMENT)
    )
    after = _scored_customers(snapshot.cut(end), lookback_months, reg, chan).select(
        C.customer_id, pl.col(SEGMENT).alias(TO_SEGMENT)
    )
    flows = (
        before.join(after, on=C.customer_id, how="full", coalesce=True)
        .with_columns(
            pl.col(FROM_SEGMENT).cast(pl.String).fill_null(NEW_CUSTOMER).cast(FROM_DTYPE),
            pl.col(TO_SEGMENT).cast(pl.String).fill_null(NO_PURCHASE).cast(TO_DTYPE),
        )
        .group_by(FROM_SEGMENT, TO_SEGMENT)
        .agg(pl.len().cast(pl.Int64).alias(CUSTOMERS))
        .with_columns(
            (pl.col(CUSTOMERS) / pl.col(CUSTOMERS).sum().over(FROM_SEGMENT)).alias(SHARE_OF_FROM)
        )
        .sort(FROM_SEGMENT, TO_SEGMENT)
        .collect()
    )
    return RFMMigration(from_as_of=from_as_of, to_as_of=end, flows=flows)
