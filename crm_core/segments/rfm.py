"""RFM segments of the ledger's customers, their profit, and migration between two dates.

Scores and the segment map are defined in :mod:`crm_core.segments.rfm_scores` (re-exported
here). Profit per segment is :func:`crm_core.metrics.profit.customer_profit` over the
profit window (default the trailing twelve months), 0 for scored customers not dealt with
in it. Migration compares the segments at an earlier period end of the same ledger (the
panel is causal, so those are the scores the business would have computed then) with the
segments at the as-of date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.metrics.profit import ProfitWindow, customer_profit, profit_window
from crm_core.segments.columns import (
    CUSTOMER_SHARE,
    CUSTOMERS,
    PROFIT,
    PROFIT_PER_CUSTOMER,
    PROFIT_SHARE,
    per_customer,
    share_of_total,
)
from crm_core.segments.rfm_scores import (
    FM_SCORE,
    FREQUENCY,
    MONETARY,
    R_SCORE,
    RECENCY_DAYS,
    SEGMENT,
    SEGMENT_DTYPE,
    SEGMENT_NAMES,
    grid_frame,
    quintile_score,
    scores_at,
    segment_of,
)
from crm_core.segments.selection import Selection

__all__ = [
    "AVG_FREQUENCY",
    "AVG_MONETARY",
    "FROM_SEGMENT",
    "MEDIAN_RECENCY_DAYS",
    "NEW_CUSTOMER",
    "SEGMENT",
    "SEGMENT_COLUMNS",
    "SEGMENT_NAMES",
    "SHARE_OF_FROM",
    "TO_SEGMENT",
    "Comparison",
    "RFMMigration",
    "RFMReport",
    "comparable_periods",
    "quintile_score",
    "rfm_migration",
    "rfm_report",
    "segment_of",
]

MEDIAN_RECENCY_DAYS = "median_recency_days"
AVG_FREQUENCY = "avg_frequency"
AVG_MONETARY = "avg_monetary"
FROM_SEGMENT = "from_segment"
TO_SEGMENT = "to_segment"
SHARE_OF_FROM = "share_of_from"

NEW_CUSTOMER = "No purchase yet"
"""``from_segment`` of customers first scored after the earlier date (acquired since, or
without a purchase day until then)."""
FROM_DTYPE = pl.Enum([*SEGMENT_NAMES, NEW_CUSTOMER])

SEGMENT_COLUMNS = (
    SEGMENT,
    CUSTOMERS,
    CUSTOMER_SHARE,
    PROFIT,
    PROFIT_SHARE,
    PROFIT_PER_CUSTOMER,
    MEDIAN_RECENCY_DAYS,
    AVG_FREQUENCY,
    AVG_MONETARY,
)


@dataclass(frozen=True)
class RFMReport:
    """RFM scores and segments at the ledger's as-of date (see :func:`rfm_report`).

    Attributes
    ----------
    as_of
        Date of the scores.
    window
        Profit window of the ``profit`` columns.
    currency
        ISO code of amounts.
    customers
        One row per scored customer (``cid`` order): ``cid, customer_id, region,
        acquisition_channel``, the scores of :data:`~crm_core.segments.rfm_scores.
        SCORE_COLUMNS` and ``profit`` (window, currency).
    segments
        One row per segment in :data:`SEGMENT_NAMES` order (empty ones included), columns
        :data:`SEGMENT_COLUMNS`; ``profit_share`` null when total profit is not positive.
    grid
        25 rows, R score 5..1 by FM score 1..5: ``r_score, fm_score, segment, customers,
        profit``.
    """

    as_of: date
    window: ProfitWindow
    currency: str
    customers: pl.DataFrame
    segments: pl.DataFrame
    grid: pl.DataFrame

    @property
    def is_empty(self) -> bool:
        """No customer has a purchase day in the history."""
        return self.customers.height == 0


def _profits(
    ledger: Ledger, months: int, amortise_years: float | None, profits: pl.DataFrame | None
) -> pl.LazyFrame:
    if profits is not None:
        return profits.lazy().select(L.cid, PROFIT)
    return customer_profit(ledger, months, amortise_years=amortise_years).select(L.cid, PROFIT)


def rfm_report(
    ledger: Ledger,
    *,
    months: int = 12,
    amortise_years: float | None = None,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    profits: pl.DataFrame | None = None,
) -> RFMReport:
    """RFM scores and named segments of the ledger's customers at its as-of date.

    Parameters
    ----------
    ledger
        The customer ledger (scores describe its period 0).
    months
        Profit window for each segment's profit (a multiple of the ledger's period).
    amortise_years
        Acquisition-cost amortisation of the profit (:mod:`crm_core.metrics.profit`).
    regions, channels
        Keep only customers of these regions / acquisition channels (``None`` or empty:
        all); scores are quintiles within the selection.
    profits
        ``cid, profit`` of :func:`~crm_core.metrics.profit.customer_profit` for that window
        when the caller has it already (saves computing it again).

    Returns
    -------
    RFMReport
        Collected in one pass; segments with zero customers when nobody has a purchase.
    """
    window = profit_window(ledger, months)
    selection = Selection.of(regions, channels)
    keep = None if selection.everyone else selection.expr()
    scored = (
        scores_at(ledger, 0, keep)
        .join(_profits(ledger, months, amortise_years, profits), on=L.cid, how="left")
        .with_columns(pl.col(PROFIT).fill_null(0.0))
    )
    agg = scored.group_by(SEGMENT).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        pl.col(PROFIT).sum(),
        pl.col(RECENCY_DAYS).median().alias(MEDIAN_RECENCY_DAYS),
        pl.col(FREQUENCY).mean().alias(AVG_FREQUENCY),
        pl.col(MONETARY).mean().alias(AVG_MONETARY),
    )
    names = pl.LazyFrame({SEGMENT: list(SEGMENT_NAMES)}, schema={SEGMENT: SEGMENT_DTYPE})
    segments = (
        names.join(agg, on=SEGMENT, how="left")
        .with_columns(pl.col(CUSTOMERS).fill_null(0), pl.col(PROFIT).fill_null(0.0))
        .with_columns(
            share_of_total(CUSTOMERS, positive_total=True).alias(CUSTOMER_SHARE),
            share_of_total(PROFIT, positive_total=True).alias(PROFIT_SHARE),
            per_customer(PROFIT).alias(PROFIT_PER_CUSTOMER),
        )
        .select(SEGMENT_COLUMNS)
        .sort(SEGMENT)
    )
    cells = scored.group_by(R_SCORE, FM_SCORE).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS), pl.col(PROFIT).sum()
    )
    grid = (
        grid_frame()
        .join(cells, on=[R_SCORE, FM_SCORE], how="left")
        .with_columns(pl.col(CUSTOMERS).fill_null(0), pl.col(PROFIT).fill_null(0.0))
        .sort([R_SCORE, FM_SCORE], descending=[True, False])
    )
    customers, seg_frame, grid_table = pl.collect_all([scored, segments, grid])
    return RFMReport(
        as_of=ledger.as_of,
        window=window,
        currency=ledger.currency,
        customers=customers,
        segments=seg_frame,
        grid=grid_table,
    )


@dataclass(frozen=True)
class RFMMigration:
    """How customers moved between RFM segments from an earlier period end to the as-of date.

    Attributes
    ----------
    from_as_of, to_as_of
        The two dates.
    flows
        One row per (before, after) pair with customers: ``from_segment`` (a segment, or
        :data:`NEW_CUSTOMER` for customers first scored after ``from_as_of``),
        ``to_segment``, ``customers`` and ``share_of_from`` (fraction of the
        ``from_segment``'s customers).
    """

    from_as_of: date
    to_as_of: date
    flows: pl.DataFrame

    def stayed(self, segment: str) -> float | None:
        """Share of ``segment`` at ``from_as_of`` still in it at ``to_as_of``."""
        mine = self.flows.filter(pl.col(FROM_SEGMENT) == segment)
        total = mine[CUSTOMERS].sum()
        if not total:
            return None
        kept = mine.filter(pl.col(TO_SEGMENT) == segment)[CUSTOMERS].sum()
        return float(kept) / total


def rfm_migration(
    ledger: Ledger,
    periods_back: int,
    *,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    now: RFMReport | None = None,
) -> RFMMigration:
    """Segment migration from the end of period ``periods_back`` to the as-of date.

    Parameters
    ----------
    ledger
        The customer ledger.
    periods_back
        The earlier period end, in the ledger's periods (quarters, or months for
        contractual businesses) before the as-of date; at least 1.
    regions, channels
        Filters, as in :func:`rfm_report` (scores at each date within the selection).
    now
        :func:`rfm_report` of the same ledger and filters, when the caller has it (its
        scores are the "after" side).

    Raises
    ------
    ValueError
        If ``periods_back`` is not within the ledger's history.
    """
    if isinstance(periods_back, bool) or not isinstance(periods_back, int):
        raise ValueError(f"periods_back must be a whole number of periods, got {periods_back!r}")
    if not 1 <= periods_back < ledger.periods:
        raise ValueError(
            f"periods_back must be between 1 and {ledger.periods - 1} (the history before "
            f"{ledger.as_of}), got {periods_back}"
        )
    selection = Selection.of(regions, channels)
    keep = None if selection.everyone else selection.expr()
    before = scores_at(ledger, periods_back, keep).select(
        L.cid, pl.col(SEGMENT).alias(FROM_SEGMENT)
    )
    current = now.customers.lazy() if now is not None else scores_at(ledger, 0, keep)
    after = current.select(L.cid, pl.col(SEGMENT).alias(TO_SEGMENT))
    flows = (
        after.join(before, on=L.cid, how="left")
        .with_columns(pl.col(FROM_SEGMENT).cast(pl.String).fill_null(NEW_CUSTOMER).cast(FROM_DTYPE))
        .group_by(FROM_SEGMENT, TO_SEGMENT)
        .agg(pl.len().cast(pl.Int64).alias(CUSTOMERS))
        .with_columns(
            (pl.col(CUSTOMERS) / pl.col(CUSTOMERS).sum().over(FROM_SEGMENT)).alias(SHARE_OF_FROM)
        )
        .sort(FROM_SEGMENT, TO_SEGMENT)
        .collect()
    )
    return RFMMigration(
        from_as_of=ledger.period_end(periods_back), to_as_of=ledger.as_of, flows=flows
    )


@dataclass(frozen=True)
class Comparison:
    """An earlier date the migration can start from."""

    months: int
    periods_back: int
    on: date


def comparable_periods(
    ledger: Ledger, months: Iterable[int] = (3, 6, 12, 24)
) -> tuple[Comparison, ...]:
    """The earlier period ends ``months`` before the as-of date that the ledger reaches and
    at which some customer had already bought (so there are scores to compare)."""
    first = ledger.customers[L.first_purchase].min()
    out = []
    for m in months:
        back, rest = divmod(m, ledger.period_months)
        if rest or not 1 <= back < ledger.periods:
            continue
        on = ledger.period_end(back)
        if first is not None and on >= first:  # type: ignore[operator]
            out.append(Comparison(m, back, on))
    return tuple(out)
