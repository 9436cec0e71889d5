"""Stage history: time in the current stage, and the stage mix at every period end.

Both read a stage panel (:func:`crm_core.lifecycle.stages.stage_panel`: one row per
customer and ledger period, each customer's rows oldest first), so they cost one pass over
the panel and no join across dates.

**Time in stage.** A customer in stage ``s`` at period end ``k`` who was in ``s`` at the
``r`` period ends ``k, k+1, ..., k+r-1`` but not at ``k+r`` (another stage, or not yet
acquired) entered ``s`` between those two period ends: the time in stage is counted as
``r - 1/2`` periods (quarters; months for contractual businesses). The ledger reaches back
to each customer's acquisition, so the count is never cut off by the history.
"""

from __future__ import annotations

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import LABEL, PERIOD_END
from crm_core.lifecycle.stages import STAGE

__all__ = ["CUSTOMERS", "PERIODS_IN_STAGE", "REVENUE", "stage_mix", "with_time_in_stage"]

PERIODS_IN_STAGE = "periods_in_stage"
CUSTOMERS = "customers"
REVENUE = "revenue"


def with_time_in_stage(stages: pl.DataFrame) -> pl.DataFrame:
    """``stages`` with ``periods_in_stage`` (periods, ``r - 1/2``; null before acquisition)."""
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    same_customer = (pl.col(L.cid).shift(1) == pl.col(L.cid)).fill_null(False)
    same_stage = (pl.col(STAGE) == pl.col(STAGE).shift(1)).fill_null(False)
    start = pl.when(~(same_customer & same_stage)).then(row).forward_fill()
    return stages.with_columns(
        pl.when(pl.col(STAGE).is_not_null())
        .then((row - start).cast(pl.Float64) + 0.5)
        .alias(PERIODS_IN_STAGE)
    )


def stage_mix(stages: pl.DataFrame, ledger: Ledger) -> pl.DataFrame:
    """Customers in each stage at every period end, and their revenue in the period.

    Returns
    -------
    pl.DataFrame
        ``period, period_end, label, stage, customers, revenue`` (currency, net revenue
        booked in the period by the customers in the stage at its end), one row per
        period and customer stage (zeros included), oldest period first.
    """
    counts = (
        stages.lazy()
        .select(L.period, STAGE)
        .with_columns(pl.lit(ledger.panel[L.revenue]).alias(REVENUE))
        .filter(pl.col(STAGE).is_not_null())
        .group_by(L.period, STAGE)
        .agg(pl.len().cast(pl.Int64).alias(CUSTOMERS), pl.col(REVENUE).sum())
    )
    frame = (
        ledger.grid.lazy()
        .select(L.period, PERIOD_END, LABEL)
        .join(
            pl.LazyFrame({STAGE: pl.Series(stages[STAGE].dtype.categories)}).cast(
                {STAGE: stages[STAGE].dtype}
            ),
            how="cross",
        )
    )
    return (
        frame.join(counts, on=[L.period, STAGE], how="left")
        .with_columns(pl.col(CUSTOMERS).fill_null(0), pl.col(REVENUE).fill_null(0.0))
        .sort([L.period, STAGE], descending=[True, False])
        .collect()
    )
