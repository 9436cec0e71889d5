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

__all__ = ["CLV", "P_ALIVE", "REVENUE_TTM", "clv_by_cid", "revenue_ttm", "with_values"]

REVENUE_TTM = "revenue_ttm"
CLV = "clv"
P_ALIVE = "p_alive"


def revenue_ttm(ledger: Ledger, period: int) -> pl.LazyFrame:
    """``cid, revenue_ttm``: net revenue of the twelve months to the end of ``period``.

    The ledger's two trend windows cover twelve months under the default stage rules
    (``recent_revenue + previous_revenue``), so no aggregation is needed then.
    """
    rows = ledger.lazy().filter(pl.col(L.period) == period)
    if 2 * ledger.stages.trend_months == 12:
        total = pl.col(L.recent_revenue) + pl.col(L.previous_revenue)
        return rows.select(L.cid, total.alias(REVENUE_TTM))
    return ledger.window(period, ledger.periods_per_year, sums=(L.revenue,)).select(
        L.cid, pl.col(L.revenue).alias(REVENUE_TTM)
    )


def clv_by_cid(clv: ClvResult | None) -> pl.DataFrame | None:
    """``cid, clv, p_alive`` of a valuation, keyed on its ledger's customers.

    The valuation's ``cid`` are this ledger's: a shared fit made on another ledger of the
    snapshot is re-keyed onto this one before it is valued
    (:func:`crm_core.clv.fitted.rekey`).
    """
    if clv is None:
        return None
    return clv.table.select(L.cid, CLV, P_ALIVE)


def by_cid(ledger: Ledger, frame: pl.DataFrame | None, column: str) -> pl.Expr:
    """``column`` of ``frame`` (keyed on ``cid``) gathered for each row's ``cid``; null
    where ``frame`` has no row (a dense array per customer: no join)."""
    values = np.full(ledger.customers.height, np.nan)
    if frame is not None and frame.height:
        values[frame[L.cid].to_numpy()] = frame[column].to_numpy()
    dense = pl.Series(column, values).fill_nan(None)
    return pl.lit(dense).gather(pl.col(L.cid)).alias(column)


def with_values(frame: pl.DataFrame, ledger: Ledger, clv: ClvResult | None) -> pl.DataFrame:
    """Add (null where not valued) ``clv, p_alive`` of a valuation to a frame keyed on
    ``cid``."""
    valued = clv_by_cid(clv)
    return frame.with_columns(by_cid(ledger, valued, CLV), by_cid(ledger, valued, P_ALIVE))
