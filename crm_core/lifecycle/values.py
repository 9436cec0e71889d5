"""What a customer is worth at a period end: twelve-month revenue and CLV.

Revenue is summed from the customer ledger; CLV and P(alive) come from a shared valuation
(:func:`crm_core.clv.valuation.value` of the model set fitted at that date). Values are
gathered per customer through dense arrays indexed by the ledger's ``cid`` (no joins).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_core.clv.valuation import ClvResult
from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C

__all__ = ["CLV", "P_ALIVE", "REVENUE_TTM", "clv_by_cid", "revenue_ttm", "with_values"]

REVENUE_TTM = "revenue_ttm"
CLV = "clv"
P_ALIVE = "p_alive"


def revenue_ttm(ledger: Ledger, period: int) -> pl.LazyFrame:
    """``cid, revenue_ttm``: net revenue of the twelve months to the end of ``period``."""
    return ledger.window(period, ledger.periods_per_year, sums=(L.revenue,)).select(
        L.cid, pl.col(L.revenue).alias(REVENUE_TTM)
    )


def clv_by_cid(ledger: Ledger, clv: ClvResult | None) -> pl.LazyFrame | None:
    """``cid, clv, p_alive`` of a valuation, keyed on this ledger's customers.

    The valuation is matched on ``customer_id``: a shared fit may have been made on another
    ledger of the same snapshot (keyed on its date), whose ``cid`` numbering differs.
    """
    if clv is None:
        return None
    ids = ledger.customers.lazy().select(L.cid, C.customer_id)
    return ids.join(
        clv.table.lazy().select(C.customer_id, CLV, P_ALIVE), on=C.customer_id, how="inner"
    ).select(L.cid, CLV, P_ALIVE)


def by_cid(ledger: Ledger, frame: pl.DataFrame | None, column: str) -> pl.Expr:
    """``column`` of ``frame`` (keyed on ``cid``) gathered for each row's ``cid``; null
    where ``frame`` has no row (a dense array per customer: no join)."""
    values = np.full(ledger.customers.height, np.nan)
    if frame is not None and frame.height:
        values[frame[L.cid].to_numpy()] = frame[column].to_numpy()
    dense = pl.Series(column, values).fill_nan(None)
    return pl.lit(dense).gather(pl.col(L.cid)).alias(column)


def with_values(
    frame: pl.DataFrame, ledger: Ledger, period: int, clv: ClvResult | None
) -> pl.DataFrame:
    """Add ``revenue_ttm`` and (null where not valued) ``clv, p_alive`` to a stage table."""
    revenue = revenue_ttm(ledger, period).collect()
    values = clv_by_cid(ledger, clv)
    valued = None if values is None else values.collect()
    return frame.with_columns(
        by_cid(ledger, revenue, REVENUE_TTM).fill_null(0.0),
        by_cid(ledger, valued, CLV),
        by_cid(ledger, valued, P_ALIVE),
    )
