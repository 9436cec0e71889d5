"""Which segment a customer is in, at a ledger period: profit tier, channel or region.

* **tier** - the Segments page's rule: customers dealt with in the twelve months to the
  date (:func:`crm_core.metrics.profit.customer_profit`) ranked by profit, highest first
  (ties by customer), tier A the best ``round(a * n)`` (at least one,
  :func:`crm_core.metrics.profit.top_count_expr`), A and B together the best
  ``round((a + b) * n)``, C the rest. Tiers are measured at each date, so a customer can
  move between them. A customer outside the ranking (no purchase, contact or acquisition
  in the window, yet active by a long usual gap) is placed in the last tier.
* **channel**, **region** - the customer's acquisition channel or region, fixed for life.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C
from crm_core.metrics.profit import PROFIT, customer_profit
from crm_core.metrics.tiers import (
    DEFAULT_CUTOFFS,
    TIER,
    TIERS,
    assign_tiers,
    tier_names,
    validate_cutoffs,
)

__all__ = [
    "DEFAULT_CUTOFFS",
    "SEGMENT",
    "SEGMENTATIONS",
    "TIERS",
    "UNKNOWN",
    "label_frames",
    "segment_labels",
    "tier_names",
    "validate_cutoffs",
]

SEGMENT = "segment"
SEGMENTATIONS: dict[str, str] = {
    "tier": "Profit tier (ABC)",
    "channel": "Acquisition channel",
    "region": "Region",
}
"""Ways to split customers into segments: key -> words."""
UNKNOWN = "Unknown"


def _tiers(ledger: Ledger, quarter: int, cutoffs: Sequence[float]) -> pl.LazyFrame:
    names = dict(zip(TIERS, tier_names(cutoffs), strict=True))
    profits = customer_profit(ledger, 12, quarter=quarter).select(L.cid, PROFIT)
    return assign_tiers(profits, cutoffs, key=L.cid).select(
        L.cid, pl.col(TIER).cast(pl.String).replace_strict(names).alias(SEGMENT)
    )


def segment_labels(
    ledger: Ledger, by: str, period: int, cutoffs: Sequence[float] = DEFAULT_CUTOFFS
) -> tuple[pl.LazyFrame, tuple[str, ...] | None, str]:
    """Customers' segments at the end of ledger period ``period``.

    Parameters
    ----------
    ledger
        The customer ledger.
    by
        A key of :data:`SEGMENTATIONS`.
    period
        Ledger period; for tiers a quarter end (a multiple of the periods in a quarter).
    cutoffs
        Tier shares (A, B, C), for ``by="tier"``.

    Returns
    -------
    (pl.LazyFrame, tuple or None, str)
        ``cid, segment`` (tiers: the customers ranked; channel and region: everyone), the
        segments' display order (``None``: by size) and the segment of a customer the
        frame leaves out.
    """
    if by not in SEGMENTATIONS:
        raise ValueError(f"by must be one of {', '.join(SEGMENTATIONS)}, got {by!r}")
    if by == "tier":
        step = 3 // ledger.period_months
        if period % step:
            raise ValueError(f"tiers are measured at quarter ends; period {period} is not one")
        names = tier_names(cutoffs)
        return _tiers(ledger, period // step, cutoffs), names, names[-1]
    column = C.acquisition_channel if by == "channel" else C.region
    labels = ledger.customers.lazy().select(
        L.cid, pl.col(column).cast(pl.String).fill_null(UNKNOWN).alias(SEGMENT)
    )
    return labels, None, UNKNOWN


def label_frames(
    ledger: Ledger,
    by: str,
    periods: Sequence[int],
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    *,
    also: Sequence[pl.LazyFrame] = (),
) -> tuple[dict[int, pl.DataFrame], list[pl.DataFrame]]:
    """:func:`segment_labels` at several periods, collected together with the queries
    ``also`` (one ``collect_all``, so polars runs them side by side): the labels by period
    and the collected ``also`` frames."""
    wanted = sorted(set(periods))
    queries = [segment_labels(ledger, by, k, cutoffs)[0] for k in wanted]
    frames = pl.collect_all([*queries, *also])
    return dict(zip(wanted, frames[: len(wanted)], strict=True)), frames[len(wanted) :]
