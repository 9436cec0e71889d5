"""Stage transitions between two period ends of the same ledger, with the value that moved.

Every customer acquired by the later date and every lead open at either date follows one
path from a node at the earlier date to a node at the later one:

* a customer goes from their stage at the earlier date, or from *prospect* when the lead
  they are linked to (:mod:`crm_core.lifecycle.prospects`) was open then, or from *not yet
  known*, to their stage at the later date;
* a lead open at the later date goes from *prospect* (open at the earlier date too) or
  *not yet known* to *prospect*;
* a lead open at the earlier date that is neither open at the later date nor the lead of a
  customer acquired by then goes to *lead dropped* (too old, or a second lead of the same
  customer).

So every entity at the earlier date goes to exactly one node and every one at the later
date comes from exactly one; customers never leave the base (churned is a stage). Values
are those at the earlier date: net revenue over the twelve months to it, and the CLV of
the valuation fitted at it (the shared model set), zero for leads and newcomers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.valuation import ClvResult
from crm_core.data.ledger import CHURNED, DECLINING, L, Ledger
from crm_core.data.rules import DEFAULT_STAGES, StageRules
from crm_core.data.schema import C
from crm_core.lifecycle.prospects import LINKED, leads, open_at
from crm_core.lifecycle.stages import PROSPECT, STAGE, STAGES, assign_stages, stage_panel
from crm_core.lifecycle.values import CLV, REVENUE_TTM, with_values

__all__ = [
    "CLV",
    "CUSTOMERS",
    "FLOW_NODES",
    "FROM_STAGE",
    "LEAD_DROPPED",
    "NOT_YET",
    "REVENUE_TTM",
    "TO_STAGE",
    "MovedValue",
    "Transitions",
    "flows_between",
    "moved_into",
    "stage_transitions",
    "transitions",
]

NOT_YET = "not_yet"
"""Where entities unknown at the earlier date come from."""
LEAD_DROPPED = "lead_dropped"
"""Where leads go that were open at the earlier date and are no longer counted."""
FLOW_NODES: tuple[str, ...] = (NOT_YET, *STAGES, LEAD_DROPPED)

FROM_STAGE = "from_stage"
TO_STAGE = "to_stage"
CUSTOMERS = "customers"


@dataclass(frozen=True)
class MovedValue:
    """Customers who moved into a stage between two dates, valued at the earlier date.

    Attributes
    ----------
    customers
        How many moved in (from any other node).
    revenue_ttm
        Their net revenue over the twelve months to the earlier date (currency).
    clv
        Their CLV at the earlier date (currency), ``None`` without a valuation then.
    """

    customers: int
    revenue_ttm: float
    clv: float | None


@dataclass(frozen=True)
class Transitions:
    """Stage transitions between ``start`` and ``end`` (module docstring).

    Attributes
    ----------
    start, end
        The earlier and the later period end.
    flows
        ``from_stage, to_stage, customers, revenue_ttm, clv``: one row per pair of nodes
        with at least one customer or lead, in node order; values at ``start`` (``clv``
        null without a valuation at ``start``).
    into_declining, into_churned
        Customers declining (churned) at ``end`` who were in another node at ``start``.
    """

    start: date
    end: date
    flows: pl.DataFrame
    into_declining: MovedValue
    into_churned: MovedValue

    def count(self, from_stage: str, to_stage: str) -> int:
        """Customers (or leads) that went from ``from_stage`` to ``to_stage``."""
        rows = self.flows.filter(
            (pl.col(FROM_STAGE) == from_stage) & (pl.col(TO_STAGE) == to_stage)
        )
        return int(rows[CUSTOMERS].sum()) if rows.height else 0

    def share(self, from_stage: str, to_stage: str) -> float | None:
        """Share of the ``from_stage`` entities at ``start`` that were ``to_stage`` at ``end``."""
        total = int(self.flows.filter(pl.col(FROM_STAGE) == from_stage)[CUSTOMERS].sum())
        return self.count(from_stage, to_stage) / total if total else None


def _codes(column: str) -> pl.Expr:
    """Node codes (positions in :data:`FLOW_NODES`) of a customer-stage column."""
    return (pl.col(column).to_physical().cast(pl.Int8) + FLOW_NODES.index(STAGES[1])).alias(column)


def _dense(cids: np.ndarray, values: np.ndarray, size: int, fill: float) -> np.ndarray:
    out = np.full(size, fill, dtype=np.float64)
    out[cids] = values
    return out


def flows_between(
    before: pl.DataFrame,
    after: pl.DataFrame,
    leads: pl.DataFrame,
    start: date,
    end: date,
    prospect_days: int | None,
) -> pl.DataFrame:
    """Transition counts and values (see :class:`Transitions`).

    ``before`` has ``cid, stage, revenue_ttm, clv`` at ``start``; ``after`` has ``cid,
    stage`` at ``end`` (customer stages as the ledger's enum); ``leads`` is
    :func:`crm_core.lifecycle.prospects.leads`. Customers are matched by ``cid`` through
    dense arrays (every customer at ``start`` is one at ``end``), nodes are small integer
    codes until the counts are made.
    """
    size = int(after[L.cid].max()) + 1 if after.height else 0
    cids = before[L.cid].to_numpy()
    earlier = before.select(_codes(STAGE))[STAGE].to_numpy().astype(np.float64)
    lead_rows = leads.with_columns(
        open_at(start, prospect_days).alias("_open_before"),
        open_at(end, prospect_days).alias("_open_after"),
    )
    linked = lead_rows.filter(pl.col(LINKED) & pl.col("_open_before"))[L.cid].to_numpy()
    linked = linked[linked < size]  # leads of customers acquired after ``end`` stay leads
    waiting = _dense(linked, np.ones(linked.size), size, 0.0)
    stage_then = _dense(cids, earlier, size, np.nan)
    arrays = {
        "_then": stage_then,
        "_lead": waiting,
        REVENUE_TTM: _dense(cids, before[REVENUE_TTM].to_numpy(), size, 0.0),
        CLV: _dense(cids, before[CLV].fill_null(0.0).to_numpy(), size, 0.0),
    }
    index = after[L.cid]
    customers = (
        after.lazy()
        .select(
            *(pl.lit(pl.Series(k, v)).gather(index).alias(k) for k, v in arrays.items()),
            _codes(STAGE).alias(TO_STAGE),
        )
        .select(
            pl.when(pl.col("_then").is_not_nan())
            .then(pl.col("_then"))
            .when(pl.col("_lead") > 0)
            .then(pl.lit(float(FLOW_NODES.index(PROSPECT))))
            .otherwise(pl.lit(float(FLOW_NODES.index(NOT_YET))))
            .cast(pl.Int8)
            .alias(FROM_STAGE),
            pl.col(TO_STAGE).cast(pl.Int8),
            REVENUE_TTM,
            CLV,
        )
    )
    prospect, not_yet = FLOW_NODES.index(PROSPECT), FLOW_NODES.index(NOT_YET)
    converted = pl.col(LINKED) & (pl.col(C.acquired_on) <= pl.lit(end))
    open_leads = (
        lead_rows.lazy()
        .filter(pl.col("_open_after"))
        .select(
            pl.when(pl.col("_open_before"))
            .then(pl.lit(prospect, pl.Int8))
            .otherwise(pl.lit(not_yet, pl.Int8))
            .alias(FROM_STAGE),
            # a column first: literals alone would make one row of an empty frame
            pl.col("_open_after").cast(pl.Int8).mul(prospect).alias(TO_STAGE),
        )
    )
    dropped = (
        lead_rows.lazy()
        .filter(pl.col("_open_before") & ~pl.col("_open_after") & ~converted.fill_null(False))
        .select(
            pl.col("_open_before").cast(pl.Int8).mul(prospect).alias(FROM_STAGE),
            pl.col("_open_before")
            .cast(pl.Int8)
            .mul(FLOW_NODES.index(LEAD_DROPPED))
            .alias(TO_STAGE),
        )
    )
    labels = pl.Series(list(FLOW_NODES))
    return (
        pl.concat([customers, open_leads, dropped], how="diagonal_relaxed")
        .group_by(FROM_STAGE, TO_STAGE)
        .agg(
            pl.len().cast(pl.Int64).alias(CUSTOMERS),
            pl.col(REVENUE_TTM).fill_null(0.0).sum().alias(REVENUE_TTM),
            pl.col(CLV).fill_null(0.0).sum().alias(CLV),
        )
        .sort(FROM_STAGE, TO_STAGE)
        .with_columns(pl.lit(labels).gather(pl.col(c)).alias(c) for c in (FROM_STAGE, TO_STAGE))
        .collect()
    )


def moved_into(flows: pl.DataFrame, stage: str, with_clv: bool) -> MovedValue:
    """The customers who entered ``stage`` (from any other node) and their earlier value."""
    rows = flows.filter((pl.col(TO_STAGE) == stage) & (pl.col(FROM_STAGE) != stage))
    return MovedValue(
        customers=int(rows[CUSTOMERS].sum()),
        revenue_ttm=float(rows[REVENUE_TTM].sum()),
        clv=float(rows[CLV].sum()) if with_clv else None,
    )


def transitions(
    before: pl.DataFrame,
    after: pl.DataFrame,
    leads: pl.DataFrame,
    start: date,
    end: date,
    prospect_days: int | None,
    *,
    with_clv: bool,
) -> Transitions:
    """:class:`Transitions` from the two stage tables (see :func:`flows_between`)."""
    if not start < end:
        raise ValueError(f"the earlier date {start} must lie before the later date {end}")
    flows = flows_between(before, after, leads, start, end, prospect_days)
    if not with_clv:
        flows = flows.with_columns(pl.lit(None, dtype=pl.Float64).alias(CLV))
    return Transitions(
        start=start,
        end=end,
        flows=flows,
        into_declining=moved_into(flows, DECLINING, with_clv),
        into_churned=moved_into(flows, CHURNED, with_clv),
    )


def stage_transitions(
    ledger: Ledger,
    start_period: int,
    end_period: int = 0,
    rules: StageRules = DEFAULT_STAGES,
    *,
    p_alive_model: BGNBDModel | None = None,
    clv_start: ClvResult | None = None,
) -> Transitions:
    """Stage transitions of customers and leads between two period ends of ``ledger``.

    Values are those at ``start_period`` (twelve-month revenue; CLV from ``clv_start``,
    the valuation fitted at that date). Raises ``ValueError`` unless ``start_period >
    end_period >= 0`` and both are periods of the ledger.
    """
    if not ledger.periods > start_period > end_period >= 0:
        raise ValueError(
            f"need {ledger.periods - 1} >= start_period > end_period >= 0, got "
            f"{start_period} and {end_period}"
        )
    panel = stage_panel(ledger, rules, p_alive_model)
    earlier = assign_stages(ledger, start_period, stages=panel, customer_columns=False, facts=())
    earlier = with_values(earlier.select(L.cid, STAGE, REVENUE_TTM), ledger, clv_start)
    later = panel.filter((pl.col(L.period) == end_period) & pl.col(STAGE).is_not_null())
    return transitions(
        earlier,
        later.select(L.cid, STAGE),
        leads(ledger),
        ledger.period_end(start_period),
        ledger.period_end(end_period),
        rules.prospect_days,
        with_clv=clv_start is not None,
    )
