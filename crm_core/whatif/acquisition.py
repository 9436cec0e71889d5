"""Where does the next dollar of acquisition go? The acquisition budget optimiser.

The unit economics of each acquisition channel (its CAC, and what the customers it wins
are worth: their first-year survival, retention and margin) are the What-if baseline's
channel segments (``by="channel"``: the ledger's customers won in the last year and their
acquisition cost, as on the Growth page's unit economics). :func:`optimize_acquisition_budget`
splits an extra yearly acquisition budget across them to maximise projected customer
equity, with the projection of :mod:`crm_core.whatif.engine` (same timing, discounting and
new-customer survival), so a dollar of acquisition and a dollar of retention
(:func:`crm_core.whatif.optimize.optimize_retention_budget`) are valued alike.

Response of acquisition to spend (constant elasticity, the usual diminishing-returns
shape of advertising response; Hanssens, Parsons & Schultz 2001, *Market Response
Models*, ch. 3): a channel winning ``a0`` customers a year for ``S0 = a0 x CAC`` wins::

    a(x) = a0 * (1 + x / S0) ** elasticity

customers a year when given ``x`` more a year, every projected year, at an average CAC of
``(S0 + x) / a(x)``. With ``elasticity = 1`` the CAC stays as it is (every dollar buys
``1 / CAC`` customers, so all money goes to the best channel); below 1 each extra dollar
buys fewer customers, the marginal CAC at today's spend being ``CAC / elasticity``.
The elasticity is an assumption (no snapshot shows spend changing); the default
:data:`DEFAULT_ELASTICITY` is stated wherever the result is shown.

The next dollar's return of a channel, ``marginal_equity``, is the change in customer
equity (net of the spend) from one more currency unit of yearly budget there, per unit:
with ``a(x)`` linear in equity, it is ``elasticity x (value of a new customer before
CAC) / CAC x (1 + x/S0) ** (elasticity - 1) - 1`` per discounted year of spend. The
budget is spent only while that is positive. Channels that won nobody, or at no cost,
have no response curve (no ``S0``) and get no budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from crm_core.whatif.breakeven import budget_amount
from crm_core.whatif.checks import check_discount, check_horizon, check_periods
from crm_core.whatif.optimize import grid_allocation
from crm_core.whatif.projection import Arrays, project, stack
from crm_core.whatif.segment import Segment, check_segments

__all__ = [
    "DEFAULT_ELASTICITY",
    "AcquisitionAllocation",
    "optimize_acquisition_budget",
]

DEFAULT_ELASTICITY = 0.7
"""Spend elasticity of customers won: 10% more spend wins about 7% more customers."""
_FLAT = 1e-4  # equity per currency unit below which a marginal return reads as 0


@dataclass(frozen=True, eq=False)
class AcquisitionAllocation:
    """The best split of an extra yearly acquisition budget across channels.

    Attributes
    ----------
    budget, spent
        Extra yearly acquisition budget offered and used (currency per year, every
        projected year); ``spent < budget`` when no channel's next dollar pays any more.
    equity, baseline_equity
        Customer equity with the allocation and without it (currency, net of spend).
    elasticity
        The spend elasticity of customers won assumed (module docstring).
    allocation
        One row per segment: ``segment``, ``budget`` (currency per year), ``share`` (of
        the budget), ``cac`` (today's, currency per customer), ``new_customers_before``,
        ``new_customers_after`` (a year), ``cac_after`` (average CAC with the budget),
        ``new_customer_value`` (value of a new customer won in year 1 net of today's CAC,
        currency), ``equity_gain`` (currency) and ``first_dollar_equity`` /
        ``marginal_equity``: equity added, net of the spend, by one more currency unit a
        year before any budget / at the allocation (currency per currency; > 0: more
        spend there pays). ``None`` where the channel has no response curve.
    """

    budget: float
    spent: float
    equity: float
    baseline_equity: float
    elasticity: float
    allocation: pl.DataFrame = field(repr=False)

    @property
    def gain(self) -> float:
        """Equity added by the allocation (currency)."""
        return self.equity - self.baseline_equity

    def next_dollar(self) -> dict | None:
        """The row of the channel where the first extra dollar adds most equity (``None``
        when no channel has a response curve)."""
        rows = self.allocation.filter(pl.col("first_dollar_equity").is_not_null())
        if rows.height == 0:
            return None
        return rows.sort("first_dollar_equity", descending=True).row(0, named=True)


def _with_spend(arrays: Arrays, extra: np.ndarray, elasticity: float) -> Arrays:
    """``arrays`` with ``extra`` (B, S) more acquisition spend a year (module docstring)."""
    a0, cac = arrays.acquisition, arrays.acquisition_cost
    today = a0 * cac
    ok = today > 0
    ratio = np.divide(extra, today, out=np.zeros_like(extra), where=ok)
    won = np.where(ok, a0 * (1.0 + ratio) ** elasticity, a0)
    cost = np.divide(today + extra, won, out=np.broadcast_to(cac, won.shape).copy(), where=ok)
    return replace(arrays, acquisition=won, acquisition_cost=cost)


def _equity(arrays: Arrays, extra: np.ndarray, elasticity: float, periods: int) -> np.ndarray:
    return project(_with_spend(arrays, extra, elasticity), periods).equity


def optimize_acquisition_budget(
    segments: Sequence[Segment],
    budget: float,
    *,
    horizon_years: int,
    discount_rate: float,
    periods_per_year: int = 1,
    elasticity: float = DEFAULT_ELASTICITY,
    grid_steps: int = 200,
) -> AcquisitionAllocation:
    """Split an extra yearly acquisition budget across segments (channels) to maximise
    customer equity (module docstring).

    Each segment's equity depends on its own spend only, so an exact dynamic programme on
    ``grid_steps`` budget units (:func:`crm_core.whatif.optimize.grid_allocation`) finds
    the best split; equity is net of the spend, so the budget need not be spent in full.

    Parameters
    ----------
    segments
        The baseline segments (the What-if baseline by channel).
    budget
        Extra acquisition budget (currency per year, every projected year).
    horizon_years, discount_rate, periods_per_year
        As in :func:`crm_core.whatif.simulate`.
    elasticity
        Spend elasticity of customers won, in (0, 1].
    grid_steps
        Budget units of the grid search (20..2000).
    """
    check_segments(segments)
    amount = budget_amount("budget", budget)
    horizon = check_horizon(horizon_years)
    rate = check_discount(discount_rate)
    periods = check_periods(periods_per_year)
    if isinstance(elasticity, bool) or not 0 < float(elasticity) <= 1:
        raise ValueError(f"elasticity must be in (0, 1], got {elasticity!r}")
    if isinstance(grid_steps, bool) or not isinstance(grid_steps, int):
        raise ValueError(f"grid_steps must be a whole number, got {grid_steps!r}")
    if not 20 <= grid_steps <= 2000:
        raise ValueError(f"grid_steps must be in 20..2000, got {grid_steps}")
    e = float(elasticity)
    arrays = stack([segments], horizon, [rate])
    n = len(segments)
    eligible = (arrays.acquisition * arrays.acquisition_cost)[0] > 0
    zero = np.zeros((1, n))
    before = _equity(arrays, zero, e, periods)[0]
    alloc = np.zeros(n)
    if amount > 0 and eligible.any():
        units = np.arange(grid_steps + 1)[:, None] * (amount / grid_steps)
        grid = _equity(arrays, np.broadcast_to(units, (grid_steps + 1, n)).copy(), e, periods)
        gains = np.where(eligible, grid - before, 0.0)
        alloc = grid_allocation(gains) * (amount / grid_steps)
    step = max(amount / n, 1.0) * 1e-4
    low = np.maximum(alloc - step, 0.0)
    rows = np.stack([alloc, low, alloc + step, np.full(n, step)])
    spent_arrays = _with_spend(arrays, rows, e)
    flows = project(spent_arrays, periods)
    after, at_low, at_high, first = flows.equity
    base_flows = project(arrays, periods)

    def slope(rise: np.ndarray, run: np.ndarray) -> list[float | None]:
        value = rise / run
        value = np.where(np.abs(value) >= _FLAT, value, 0.0)
        return [float(v) if ok else None for v, ok in zip(value, eligible, strict=True)]

    cac = arrays.acquisition_cost[0]
    allocation = pl.DataFrame(
        {
            "segment": pl.Series([s.name for s in segments], dtype=pl.String),
            "budget": alloc,
            "share": alloc / amount if amount > 0 else np.zeros(n),
            "cac": cac,
            "new_customers_before": arrays.acquisition[0],
            "new_customers_after": spent_arrays.acquisition[0],
            "cac_after": spent_arrays.acquisition_cost[0],
            "new_customer_value": base_flows.new_customer_value[0],
            "equity_gain": after - before,
            "first_dollar_equity": pl.Series(slope(first - before, np.full(n, step)),
                                             dtype=pl.Float64),
            "marginal_equity": pl.Series(slope(at_high - at_low, alloc + step - low),
                                         dtype=pl.Float64),
        }
    )  # fmt: skip
    return AcquisitionAllocation(
        budget=amount,
        spent=float(alloc.sum()),
        equity=float(after.sum()),
        baseline_equity=float(before.sum()),
        elasticity=e,
        allocation=allocation,
    )
