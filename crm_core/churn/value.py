"""Value at risk, the call list and what contacting its top customers is expected to save.

* **Value at risk** of a customer = ``P(churn) x CLV``: the probability of churning within
  the horizon (the calibrated model, or the recency baseline when the model does not beat
  it) times the customer's CLV from the shared valuation
  (:func:`crm_core.clv.valuation.value` of the model set fitted at the as-of date; the
  discounted margin expected over its horizon, three years by default). Customers the
  valuation does not cover (e.g. a first purchase on the as-of date) have none.
* **The call list**: customers with a value at risk, highest first (equal values in
  customer order).
* **Contacting the top K** with a success rate ``s`` (the share of would-be churners a
  contact keeps) and a cost ``c`` per contact is expected to save ``s x sum of their value
  at risk`` and ``s x sum of their P(churn)`` customers, for ``K x c``; the net is the
  difference. The best K maximises the net (the list is in decreasing value at risk, so
  the net rises while a customer's ``s x value at risk`` exceeds ``c``).
* **By tier and stage**: value at risk summed over the ABC profit tiers
  (:mod:`crm_core.metrics.tiers`, the Segments and What-if pages' rule; active customers
  outside the ranking count in tier C, as on the What-if page) and the ledger's lifecycle
  stages at the as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_core.churn.columns import F, R
from crm_core.data.ledger import L, Ledger
from crm_core.metrics.profit import PROFIT, customer_profit
from crm_core.metrics.tiers import TIER, TIERS, assign_tiers

__all__ = [
    "CUSTOMERS",
    "EXPECTED_CHURNERS",
    "Savings",
    "best_contacts",
    "by_group",
    "saved_by_tier",
    "savings",
    "savings_curve",
    "tiers_now",
]

CUSTOMERS = "customers"
EXPECTED_CHURNERS = "expected_churners"
SHARE = "share_of_value_at_risk"
CONTACTED, SAVED_VALUE, COST, NET = "contacted", "saved_value", "cost", "net"


@dataclass(frozen=True)
class Savings:
    """What contacting the top ``contacted`` customers of the call list is expected to do.

    Attributes
    ----------
    contacted
        Customers contacted (at most the list's length).
    value_at_risk, churners
        Their value at risk (currency) and expected churners (sum of P(churn)).
    success_rate, cost_per_contact
        The assumptions (fraction; currency per contact).
    saved_value, saved_customers, cost, net
        ``s x value at risk``, ``s x churners``, ``contacted x c`` and
        ``saved_value - cost`` (currency; customers).
    """

    contacted: int
    value_at_risk: float
    churners: float
    success_rate: float
    cost_per_contact: float

    @property
    def saved_value(self) -> float:
        return self.success_rate * self.value_at_risk

    @property
    def saved_customers(self) -> float:
        return self.success_rate * self.churners

    @property
    def cost(self) -> float:
        return self.contacted * self.cost_per_contact

    @property
    def net(self) -> float:
        return self.saved_value - self.cost


def _check(success_rate: float, cost_per_contact: float) -> None:
    if not 0 <= success_rate <= 1:
        raise ValueError(f"success_rate must be a fraction in [0, 1], got {success_rate!r}")
    if not cost_per_contact >= 0:
        raise ValueError(f"cost_per_contact must be >= 0, got {cost_per_contact!r}")


def savings(
    ranked: pl.DataFrame, contacts: int, success_rate: float, cost_per_contact: float
) -> Savings:
    """Expected effect of contacting the first ``contacts`` rows of the call list
    ``ranked`` (``p_churn, value_at_risk``, highest value at risk first)."""
    _check(success_rate, cost_per_contact)
    top = ranked.head(max(int(contacts), 0))
    return Savings(
        contacted=top.height,
        value_at_risk=float(top[R.value_at_risk].sum()),
        churners=float(top[R.p_churn].sum()),
        success_rate=float(success_rate),
        cost_per_contact=float(cost_per_contact),
    )


def _net(ranked: pl.DataFrame, success_rate: float, cost_per_contact: float) -> np.ndarray:
    """Net saving of contacting the top 0, 1, 2, ... customers."""
    gain = success_rate * ranked[R.value_at_risk].to_numpy() - cost_per_contact
    return np.concatenate([[0.0], np.cumsum(gain)])


def best_contacts(ranked: pl.DataFrame, success_rate: float, cost_per_contact: float) -> int:
    """The number of contacts with the largest expected net saving (0 when none pays)."""
    _check(success_rate, cost_per_contact)
    return int(np.argmax(_net(ranked, success_rate, cost_per_contact)))


def savings_curve(
    ranked: pl.DataFrame, success_rate: float, cost_per_contact: float, points: int = 200
) -> pl.DataFrame:
    """``contacted, saved_value, cost, net`` at about ``points`` list lengths from 0 to
    the whole list (a thin curve for a chart), always including the best length."""
    _check(success_rate, cost_per_contact)
    net = _net(ranked, success_rate, cost_per_contact)
    n = ranked.height
    at = np.unique(
        np.concatenate(
            [np.linspace(0, n, min(points, n + 1)).round().astype(np.int64), [np.argmax(net)]]
        )
    )
    return pl.DataFrame(
        {
            CONTACTED: at,
            SAVED_VALUE: net[at] + at * cost_per_contact,
            COST: at * cost_per_contact,
            NET: net[at],
        }
    )


def tiers_now(ledger: Ledger) -> pl.LazyFrame:
    """``cid, tier`` of every customer ranked by profit over the twelve months to the
    as-of date (:func:`crm_core.metrics.tiers.assign_tiers`)."""
    profits = customer_profit(ledger, 12).select(L.cid, PROFIT)
    return assign_tiers(profits, key=L.cid).select(
        pl.col(L.cid).alias(F.cid), pl.col(TIER).cast(pl.String).alias(R.tier)
    )


def by_group(scored: pl.DataFrame, column: str, order: tuple[str, ...]) -> pl.DataFrame:
    """Per value of ``column`` (in ``order``): ``customers, expected_churners,
    value_at_risk, share_of_value_at_risk`` over the scored customers."""
    total = float(scored[R.value_at_risk].sum()) or float("nan")
    groups = (
        scored.group_by(column)
        .agg(
            pl.len().alias(CUSTOMERS),
            pl.col(R.p_churn).sum().alias(EXPECTED_CHURNERS),
            pl.col(R.value_at_risk).sum().alias(R.value_at_risk),
        )
        .with_columns((pl.col(R.value_at_risk) / total).alias(SHARE))
    )
    keys = pl.DataFrame({column: list(order)}, schema={column: pl.String})
    return keys.join(groups.with_columns(pl.col(column).cast(pl.String)), on=column, how="left")


def saved_by_tier(ranked: pl.DataFrame, contacts: int, success_rate: float) -> dict[str, float]:
    """Customers expected to be kept in each tier by contacting the top ``contacts``:
    ``success_rate x`` their summed P(churn)."""
    top = ranked.head(max(int(contacts), 0))
    sums = dict(top.group_by(R.tier).agg(pl.col(R.p_churn).sum()).iter_rows())
    return {t: success_rate * float(sums.get(t, 0.0)) for t in TIERS}
