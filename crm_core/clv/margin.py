"""The contribution margin ratio every CLV and projection values future revenue at.

``(revenue - direct cost - service costs) / revenue`` over the trailing twelve months of
the customer ledger (the Overview's window), or over the whole history when those months
hold no revenue. Acquisition costs are not deducted: they are sunk for the customers being
valued. It is the same margin the Segments, What-if and Overview pages use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import PERIOD_START
from crm_core.data.schema import TRANSACTIONS, C
from crm_core.errors import SnapshotError
from crm_core.formatting import fmt_pct

__all__ = ["ContributionMargin", "contribution_margin", "margin_label"]


@dataclass(frozen=True)
class ContributionMargin:
    """The contribution margin ratio and the sums behind it.

    Attributes
    ----------
    ratio
        ``(revenue - direct_cost - service_cost) / revenue`` (fraction).
    revenue, direct_cost, service_cost
        Net revenue (refunds included), direct cost of the sales and service costs of all
        touchpoints over the window (currency).
    start, end
        The window, both days inclusive.
    trailing
        ``True`` for the trailing twelve months, ``False`` when the whole history was used
        because those months had no revenue.
    """

    ratio: float
    revenue: float
    direct_cost: float
    service_cost: float
    start: date
    end: date
    trailing: bool

    @property
    def window_label(self) -> str:
        """The window in words: ``"last 12 months"`` or ``"whole history"``."""
        return "last 12 months" if self.trailing else "whole history"


def _sums(ledger: Ledger, first: int, last: int) -> tuple[float, float, float]:
    row = (
        ledger.lazy()
        .filter(pl.col(L.period).is_between(first, last))
        .select(pl.col(L.revenue).sum(), pl.col(L.direct_cost).sum(), pl.col(L.service_cost).sum())
        .collect()
        .row(0)
    )
    return float(row[0] or 0.0), float(row[1] or 0.0), float(row[2] or 0.0)


def contribution_margin(ledger: Ledger, period: int = 0) -> ContributionMargin:
    """Contribution margin ratio over the twelve months to the end of ``period``.

    Parameters
    ----------
    ledger
        The customer ledger.
    period
        Ledger period whose end the window closes on (0: the as-of date).

    Raises
    ------
    SnapshotError
        If net revenue is not positive, or direct and service costs take all of it
        (ratio <= 0): such a business loses money on every sale, so no customer has a
        positive CLV.
    """
    last = min(period + ledger.periods_per_year, ledger.periods) - 1
    revenue, direct, service = _sums(ledger, period, last)
    trailing = revenue > 0
    end = ledger.period_end(period)
    start = ledger.grid[PERIOD_START][last]
    if not trailing:
        revenue, direct, service = _sums(ledger, period, ledger.periods)
        first = ledger.customers.filter(pl.col(L.first_purchase) <= end)[L.first_purchase].min()
        start = first if isinstance(first, date) else end
    if revenue <= 0:
        raise SnapshotError(
            TRANSACTIONS.file,
            "net revenue is not positive, so no margin can be computed for CLV",
            column=C.amount,
        )
    ratio = (revenue - direct - service) / revenue
    if ratio <= 0:
        window = f"the 12 months to {end}" if trailing else f"the history to {end}"
        raise SnapshotError(
            TRANSACTIONS.file,
            f"the contribution margin over {window} is {ratio:.1%}: direct costs "
            f"({direct:,.0f}) and service costs ({service:,.0f}) exceed revenue "
            f"({revenue:,.0f}), so the business loses money on every sale and no customer "
            "has a positive lifetime value",
            column=C.cost,
        )
    return ContributionMargin(
        ratio=ratio,
        revenue=revenue,
        direct_cost=direct,
        service_cost=service,
        start=start,
        end=end,
        trailing=trailing,
    )


def margin_label(margin: float, source: ContributionMargin | None) -> str:
    """``"margin 31% after direct and service costs"`` (or ``"margin 25% as given"``)."""
    if source is None:
        return f"margin {fmt_pct(margin)} as given"
    return f"margin {fmt_pct(margin)} after direct and service costs"
