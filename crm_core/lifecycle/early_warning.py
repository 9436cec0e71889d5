"""Early warning: the declining customers worth most, ranked by value at risk.

The list holds the customers *declining* at the as-of date (stage rules of the page) whose
CLV, from the shared valuation (:func:`crm_core.clv.valuation.value` of the model set
fitted at the as-of date), is at least one cent. **Value at risk** is the CLV itself: the
expected discounted margin the model still counts on from the customer, all of which is lost
if they lapse. BG/NBD CLV is already weighted by P(alive), so it is not multiplied by it
again; P(alive) is shown beside it.

Customers left out are counted, not hidden: those the model does not value (no purchase
day before the as-of date, a first purchase on it, or a contract already ended) and those
whose CLV rounds to less than a cent (the model thinks they have almost surely lapsed).
Without a valuation (the model could not be fitted) the list is ranked by the last twelve
months' revenue instead.

A later churn model will replace the rule behind "declining"; the list keeps its own
module so only this file changes then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from crm_core.data.ledger import DECLINING, L, Ledger
from crm_core.data.schema import C
from crm_core.formatting import formula_safe
from crm_core.lifecycle.stages import LOW_P_ALIVE, STAGE
from crm_core.lifecycle.values import CLV, P_ALIVE, REVENUE_TTM

__all__ = ["MIN_CLV", "P_ALIVE", "VALUE_AT_RISK", "EarlyWarning", "early_warning", "to_csv"]

MIN_CLV = 0.01
"""CLV below this (currency) is not meaningful: one cent."""
VALUE_AT_RISK = "value_at_risk"
_COLUMNS = (
    L.cid,
    STAGE,
    L.overdue,
    L.spend_drop,
    LOW_P_ALIVE,
    L.last_purchase,
    L.days_since_activity,
    L.usual_gap_days,
    REVENUE_TTM,
    CLV,
    P_ALIVE,
)


@dataclass(frozen=True)
class EarlyWarning:
    """The early-warning list (module docstring).

    Attributes
    ----------
    table
        One row per declining customer listed, highest value at risk first: ``cid, stage,
        overdue, spend_drop, low_p_alive, last_purchase, days_since_activity,
        usual_gap_days, revenue_ttm, clv, p_alive, value_at_risk`` (currency; null without
        a valuation), ``customer_id, acquisition_channel``.
    declining
        Customers declining at the as-of date.
    not_valued
        Declining customers the model does not value (no CLV).
    below_cent
        Declining customers with a CLV under one cent.
    with_clv
        Whether a valuation was available (else ``table`` is ranked by 12-month revenue).
    """

    table: pl.DataFrame
    declining: int
    not_valued: int
    below_cent: int
    with_clv: bool

    @property
    def left_out(self) -> int:
        """Declining customers not in the list."""
        return self.declining - self.table.height


def early_warning(stages: pl.DataFrame, ledger: Ledger, *, with_clv: bool) -> EarlyWarning:
    """The early-warning list from the as-of stage table.

    Parameters
    ----------
    stages
        One row per customer at the as-of date with ``cid, stage, revenue_ttm`` and (null
        where not valued) ``clv`` and ``p_alive`` (see :class:`LifecycleReport.stages`).
    ledger
        The ledger, for the listed customers' ``customer_id`` and acquisition channel.
    with_clv
        Whether ``clv`` comes from a valuation.
    """
    declining = stages.filter(pl.col(STAGE) == DECLINING).select(_COLUMNS)

    def named(table: pl.DataFrame) -> pl.DataFrame:
        lazy = ledger.with_customers(table.lazy(), C.customer_id, C.acquisition_channel)
        return lazy.collect()

    if not with_clv:
        table = declining.with_columns(pl.lit(None, dtype=pl.Float64).alias(VALUE_AT_RISK))
        table = table.sort(REVENUE_TTM, L.cid, descending=[True, False])
        return EarlyWarning(named(table), declining.height, 0, 0, with_clv=False)
    clv = pl.col(CLV)
    counts = declining.select(
        clv.is_null().sum().alias("none"), (clv < MIN_CLV).sum().alias("small")
    ).row(0)
    table = (
        declining.filter(clv >= MIN_CLV)
        .with_columns(clv.alias(VALUE_AT_RISK))
        .sort(VALUE_AT_RISK, L.cid, descending=[True, False])
    )
    return EarlyWarning(
        named(table), declining.height, int(counts[0]), int(counts[1]), with_clv=True
    )


def to_csv(
    frame: pl.DataFrame, headers: Mapping[str, str], *, percent: Sequence[str] = ()
) -> bytes:
    """``frame``'s columns ``headers`` (in that order) as a CSV for spreadsheets.

    Headers are the given words; numbers are printed with two decimals (money in cents,
    ``percent`` columns as percentages of 100), never in exponent notation; text cells
    starting with ``= + - @`` (or a tab or carriage return) get a leading apostrophe so a
    spreadsheet shows them as text instead of running them as formulas.
    """
    out = []
    for column in headers:
        expr = pl.col(column)
        dtype = frame.schema[column]
        if column in percent:
            expr = expr * 100
        if dtype == pl.String:
            expr = formula_safe(column)
        elif dtype.is_float() or column in percent:
            expr = expr.round(2)
        out.append(expr.alias(headers[column]))
    return frame.select(out).write_csv(float_precision=2).encode("utf-8")
