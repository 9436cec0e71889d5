"""Per-customer facts of the What-if baseline, read off the customer ledger in one pass.

For a reference period ``k`` of the ledger (0: the as-of date; a year's worth of periods,
``P = periods_per_year``, for the backtest) and the year before it, every customer acquired
by the end of period ``k`` gets (the Executive overview's definitions,
:mod:`crm_core.metrics`):

* ``active_now`` / ``active_then`` - active by the one activity rule
  (:mod:`crm_core.data.rules`) at the end of period ``k`` and ``k + P`` (a year earlier);
* ``won_now`` - acquired in the twelve months to period ``k``'s end (periods
  ``k .. k + P - 1``); ``won_before`` - in the twelve months before those;
* ``revenue``, ``direct_cost``, ``service_cost`` - booked in the twelve months to the
  end of period ``k`` (currency), and ``contribution`` = revenue - direct cost - service
  cost;
* ``acquisition_cost`` and ``tenure_years`` (years from acquisition to period ``k``'s end).

:func:`customer_facts` computes the columns for several reference periods in one query,
suffixed ``_<k>``; :func:`facts_at` selects those of one ``k``
under the plain names. The ledger is causal, so the facts at ``k = P`` are what the
ledger of the snapshot cut a year earlier would give at its own period 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C

__all__ = [
    "ACTIVE_NOW",
    "ACTIVE_THEN",
    "CONTRIBUTION",
    "DIRECT_COST",
    "REVENUE",
    "SERVICE_COST",
    "TENURE_YEARS",
    "WON_BEFORE",
    "WON_NOW",
    "customer_facts",
    "customer_facts_lazy",
    "facts_at",
    "history_reaches",
]

ACTIVE_NOW = "active_now"
ACTIVE_THEN = "active_then"
WON_NOW = "won_now"
WON_BEFORE = "won_before"
REVENUE = L.revenue
DIRECT_COST = L.direct_cost
SERVICE_COST = L.service_cost
CONTRIBUTION = "contribution"
TENURE_YEARS = "tenure_years"
_MONEY = (REVENUE, DIRECT_COST, SERVICE_COST)
_DAYS_PER_YEAR = 365.25


def _at(name: str, k: int) -> str:
    return f"{name}_{k}"


def history_reaches(ledger: Ledger, k: int) -> bool:
    """Whether the ledger holds the year before period ``k`` (so period ``k + P`` exists
    and retention from a year earlier can be observed)."""
    return k + ledger.periods_per_year < ledger.periods


def customer_facts(ledger: Ledger, starts: Iterable[int] = (0,)) -> pl.DataFrame:
    """:func:`customer_facts_lazy`, collected."""
    return customer_facts_lazy(ledger, starts).collect()


def customer_facts_lazy(ledger: Ledger, starts: Iterable[int] = (0,)) -> pl.LazyFrame:
    """Facts of every customer for each reference period in ``starts`` (module docstring).

    Returns
    -------
    pl.LazyFrame
        One row per customer of the ledger (in no particular order): ``cid``,
        ``acquired_period``, ``acquisition_cost`` and, per ``k`` in ``starts``,
        ``active_now_<k>``, ``active_then_<k>``, ``revenue_<k>``, ``direct_cost_<k>``,
        ``service_cost_<k>`` (money of the twelve months to period ``k``).
    """
    year = ledger.periods_per_year
    ks = sorted(set(starts))
    moments = sorted({m for k in ks for m in (k, k + year)})
    out = ledger.customers.lazy().select(
        L.cid, L.acquired_period, C.acquisition_cost, C.acquired_on
    )
    for m in moments:  # one filter of the panel per date: cheaper than a filtered group-by
        flags = ledger.at(m).select(L.cid, pl.col(L.active).alias(f"_active_{m}"))
        out = out.join(flags, on=L.cid, how="left")
    for k in ks:
        money = ledger.window(k, year, sums=_MONEY).rename({c: _at(c, k) for c in _MONEY})
        out = out.join(money, on=L.cid, how="left")
    active = {m: pl.col(f"_active_{m}").fill_null(False) for m in moments}
    return out.with_columns(
        *(active[k].alias(_at(ACTIVE_NOW, k)) for k in ks),
        *(active[k + year].alias(_at(ACTIVE_THEN, k)) for k in ks),
        *(pl.col(_at(c, k)).fill_null(0.0) for k in ks for c in _MONEY),
    ).drop(f"_active_{m}" for m in moments)


def facts_at(facts: pl.LazyFrame, ledger: Ledger, k: int) -> pl.LazyFrame:
    """The facts of reference period ``k`` under plain names, for the customers acquired
    by its end (see the module docstring for the columns)."""
    year = ledger.periods_per_year
    end: date = ledger.period_end(k)
    acquired = pl.col(L.acquired_period)
    return (
        facts.filter(acquired >= k)
        .select(
            L.cid,
            L.acquired_period,
            C.acquisition_cost,
            pl.col(_at(ACTIVE_NOW, k)).alias(ACTIVE_NOW),
            pl.col(_at(ACTIVE_THEN, k)).alias(ACTIVE_THEN),
            acquired.is_between(k, k + year - 1).alias(WON_NOW),
            acquired.is_between(k + year, k + 2 * year - 1).alias(WON_BEFORE),
            *(pl.col(_at(c, k)).alias(c) for c in _MONEY),
            ((pl.lit(end) - pl.col(C.acquired_on)).dt.total_days() / _DAYS_PER_YEAR).alias(
                TENURE_YEARS
            ),
        )
        .with_columns(
            (pl.col(REVENUE) - pl.col(DIRECT_COST) - pl.col(SERVICE_COST)).alias(CONTRIBUTION)
        )
    )
