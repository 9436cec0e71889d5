"""The Growth page's view of the revenue movements: periods, the waterfall, the movers.

The movements themselves are a company metric (:mod:`crm_core.metrics.movements`: one
definition for the page, the registry, the CLI and the deck). This module lays them out
for reading:

* **retail** (quarterly ledger): each quarter against the same quarter a year earlier;
* **subscriptions** (monthly ledger): MRR month on month, or by quarter (the three
  months' movements summed, from the MRR of the month before the quarter to that of its
  last month: the registry's quarterly growth metrics).

and lists the customers behind each movement (:func:`movers`), largest change first.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import LABEL, PERIOD, period_grid
from crm_core.data.schema import C
from crm_core.metrics import movements as mv
from crm_core.metrics.quarters import QUARTER, quarter_periods

__all__ = [
    "CHANGE",
    "KEY",
    "MONTHS",
    "NOW_LABEL",
    "QUARTERS",
    "MovementView",
    "movement_view",
    "movers",
    "top_movers",
]

MONTHS, QUARTERS = "month", "quarter"
KEY = "key"
CHANGE = "change"
NOW_LABEL = "now_label"
AMOUNTS = tuple(mv.MOVEMENT_COLUMNS.values())


@dataclass(frozen=True)
class MovementView:
    """The movements of every period shown, latest first.

    Attributes
    ----------
    granularity
        ``"quarter"`` or ``"month"`` (monthly ledgers only).
    recurring
        Whether the amount is MRR (subscriptions) rather than revenue.
    frame
        ``key`` (ledger period, or quarter for a monthly ledger by quarter), ``label``,
        ``compared_label`` (what it is compared with), ``now_label`` (the period whose
        amount is ``revenue_now``: the label, or a quarter's last month),
        ``revenue_then, revenue_now``, the
        five signed movement amounts and ``change = revenue_now - revenue_then``.
    lag
        Ledger periods between a period and its comparison (4, or 1 for months).
    step
        Ledger periods per key (1, or 3 for a monthly ledger by quarter).
    """

    granularity: str
    recurring: bool
    frame: pl.DataFrame
    lag: int
    step: int

    @property
    def keys(self) -> list[int]:
        """The periods shown, latest first."""
        return self.frame[KEY].to_list()

    def row(self, key: int) -> dict:
        """The movements of one period (``KeyError`` for a period not shown)."""
        rows = self.frame.filter(pl.col(KEY) == key)
        if rows.is_empty():
            raise KeyError(key)
        return rows.row(0, named=True)

    def periods(self, key: int) -> range:
        """Ledger periods making up ``key``."""
        return range(key * self.step, key * self.step + self.step)

    def recent(self, n: int) -> pl.DataFrame:
        """The latest ``n`` periods, oldest first (for a trend chart)."""
        return self.frame.head(n).reverse()


def movement_view(ledger: Ledger, granularity: str = QUARTERS) -> MovementView:
    """The movements of ``ledger`` by quarter, or by month for a monthly ledger.

    Raises
    ------
    ValueError
        For an unknown granularity, or months on a quarterly ledger.
    """
    if granularity not in (MONTHS, QUARTERS):
        raise ValueError(f"granularity must be {MONTHS!r} or {QUARTERS!r}, got {granularity!r}")
    step = quarter_periods(ledger)
    if granularity == MONTHS and step == 1:
        raise ValueError("a quarterly ledger has no monthly movements")
    lag = mv.comparison_lag(ledger)
    money = [mv.AMOUNT_THEN, mv.AMOUNT_NOW, *AMOUNTS]
    change = (pl.col(mv.AMOUNT_NOW) - pl.col(mv.AMOUNT_THEN)).alias(CHANGE)
    if granularity == MONTHS or step == 1:
        frame = mv.period_movements(ledger).select(
            pl.col(PERIOD).alias(KEY), LABEL, mv.COMPARED_LABEL, pl.col(LABEL).alias(NOW_LABEL),
            *money, change,
        )  # fmt: skip
        return MovementView(granularity, ledger.contractual, frame, lag, 1)
    quarters = period_grid(ledger.as_of, ledger.periods // step, 3).select(
        pl.col(PERIOD).alias(QUARTER), LABEL
    )
    ends = ledger.grid.filter(pl.col(PERIOD) % step == 0)  # the quarters' last months
    before = ends.select(
        (pl.col(PERIOD) // step - 1).cast(pl.Int32).alias(QUARTER),
        pl.col(LABEL).alias(mv.COMPARED_LABEL),
    )
    last = ends.select((pl.col(PERIOD) // step).cast(pl.Int32).alias(QUARTER),
                       pl.col(LABEL).alias(NOW_LABEL))  # fmt: skip
    frame = (
        mv.quarter_movements(ledger)
        .drop_nulls(mv.MOVEMENT_COLUMNS[mv.NEW])
        .join(quarters, on=QUARTER, how="left")
        .join(before, on=QUARTER, how="left")
        .join(last, on=QUARTER, how="left")
        .select(pl.col(QUARTER).alias(KEY), LABEL, mv.COMPARED_LABEL, NOW_LABEL, *money, change)
        .sort(KEY)
    )
    return MovementView(granularity, True, frame, lag, step)


def _ranked(ledger: Ledger, view: MovementView, key: int) -> pl.LazyFrame:
    """Per customer with a change in period ``key``: the movements, largest change first."""
    moves = mv.customer_movements(ledger, view.periods(key), view.lag)
    change = (pl.col(mv.AMOUNT_NOW) - pl.col(mv.AMOUNT_THEN)).alias(CHANGE)
    # the monthly changes of a quarter add up to it
    return moves.with_columns(change).sort([pl.col(CHANGE).abs(), L.cid], descending=[True, False])


_COLUMNS = (C.customer_id, C.acquisition_channel, C.region, mv.AMOUNT_THEN, mv.AMOUNT_NOW,
            CHANGE, mv.MOVEMENT, *AMOUNTS)  # fmt: skip


def movers(ledger: Ledger, view: MovementView, key: int) -> pl.LazyFrame:
    """The customers behind the movements of period ``key`` of ``view``, largest change
    first: ``customer_id, acquisition_channel, region, revenue_then, revenue_now,
    change``, ``revenue_movement`` (the movement of the largest amount) and the five signed
    movement amounts (summing to the change)."""
    frame = _ranked(ledger, view, key)
    return ledger.with_customers(frame, C.customer_id, C.acquisition_channel, C.region).select(
        _COLUMNS
    )


def top_movers(
    ledger: Ledger, view: MovementView, key: int, n: int
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The ``n`` customers with the largest changes in each movement of period ``key``
    (columns of :func:`movers`), and the number of customers in each movement."""
    ranked = _ranked(ledger, view, key).collect()
    counts = dict(ranked.group_by(mv.MOVEMENT).len().iter_rows())
    top = ranked.lazy().group_by(mv.MOVEMENT, maintain_order=True).head(n)
    shown = ledger.with_customers(top, C.customer_id, C.acquisition_channel, C.region)
    return (
        shown.select(_COLUMNS)
        .sort([pl.col(CHANGE).abs(), C.customer_id], descending=[True, False])
        .collect(),
        {m: counts.get(m, 0) for m in mv.MOVEMENTS},
    )
