"""Where should the next dollar go? The retention budget optimiser.

Built on the projection of :mod:`crm_core.whatif.engine` (same timing and response curve):
:func:`optimize_retention_budget` splits a yearly retention budget across segments to
maximise projected equity (Blattberg & Deighton 1996: spend on retention until the last
dollar adds as much equity in every segment). The break-even of a spend
(:mod:`crm_core.whatif.breakeven`) and the tornado (:mod:`crm_core.whatif.sensitivity`)
are importable from here too; the acquisition budget's split across channels is
:mod:`crm_core.whatif.acquisition`, on the same grid search (:func:`grid_allocation`).

Budget convention: a yearly budget ``B_i`` given to a segment buys
``B_i / (customers + acquisition_per_year)`` of extra retention spend per customer per
year, i.e. it is the first year's spend on everyone active at the start of year 1; later
years spend the same amount per customer on whoever is active, so the yearly outlay follows
the size of the base. Every spend is on top of the segment's ``extra_retention_spend``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from crm_core.whatif.breakeven import (
    BreakEven,
    break_even,
    break_even_table,
    budget_amount,
    spend_per_customer,
)
from crm_core.whatif.checks import check_discount, check_horizon, check_periods
from crm_core.whatif.projection import Arrays, project, stack
from crm_core.whatif.segment import Segment, check_segments
from crm_core.whatif.sensitivity import ALL_SEGMENTS, sensitivity

__all__ = [
    "ALL_SEGMENTS",
    "BreakEven",
    "BudgetAllocation",
    "break_even",
    "break_even_table",
    "budget_amount",
    "grid_allocation",
    "optimize_retention_budget",
    "sensitivity",
    "spend_per_customer",
]

_FLAT = 1e-4  # equity per currency unit below which a marginal return reads as 0
_POLISH_ITERATIONS = 20


def _reach(arrays: Arrays) -> np.ndarray:
    return (arrays.customers + arrays.acquisition)[0]


def _equity_with_spend(arrays: Arrays, budgets: np.ndarray, periods: int) -> np.ndarray:
    """Segment equity (B, S) when segment i gets ``budgets[b, i]`` more per year."""
    reach = _reach(arrays)
    per_customer = np.divide(budgets, reach, out=np.zeros_like(budgets), where=reach > 0)
    return project(replace(arrays, extra=arrays.extra + per_customer), periods).equity


# ----------------------------------------------------------------------------- optimiser


@dataclass(frozen=True, eq=False)
class BudgetAllocation:
    """The best split of a yearly retention budget across segments.

    Attributes
    ----------
    budget
        Yearly retention budget offered (currency per year).
    spent
        Budget used (currency per year); below ``budget`` when more spend would lower
        equity (every segment's ``marginal_equity`` is <= 0 there).
    equity
        Customer equity with the allocation (currency).
    baseline_equity
        Customer equity without it (currency).
    equal_split_equity
        Customer equity when the budget is split equally across segments (currency).
    method
        ``"grid"`` (exact dynamic programme on a grid) or ``"grid+SLSQP"`` (refined by
        scipy's SLSQP when that did better).
    allocation
        One row per segment: ``segment``, ``budget`` (currency per year), ``share`` (of
        the budget), ``spend_per_customer`` (currency per customer per year),
        ``retention_before``, ``retention_after`` (year-1 retention of current customers,
        fractions), ``equity_before``, ``equity_after``, ``equity_gain`` (currency), and
        ``marginal_equity``: change of customer equity, net of the spend itself, from one
        more currency unit of yearly budget in that segment at this allocation (currency
        per currency; > 0 means more spend there still pays). At the optimum it is equal
        across the segments that get money and no higher in those that don't.
        ``first_dollar_equity`` is the same for the first unit, before any budget.
    """

    budget: float
    spent: float
    equity: float
    baseline_equity: float
    equal_split_equity: float
    method: str
    allocation: pl.DataFrame = field(repr=False)

    @property
    def gain(self) -> float:
        """Equity added by the allocation (currency)."""
        return self.equity - self.baseline_equity

    @property
    def gain_over_equal_split(self) -> float:
        """Equity added over an equal split of the same budget (currency)."""
        return self.equity - self.equal_split_equity


def grid_allocation(gains: np.ndarray) -> np.ndarray:
    """Best units per segment, at most ``G`` in total: exact dynamic programme.

    ``gains[k, i]`` is the equity gain of segment ``i`` given ``k`` of ``G`` budget units
    (``gains[0] == 0``). Works for non-concave gains too; O(S * G^2).
    """
    units, n_seg = gains.shape[0] - 1, gains.shape[1]
    j = np.arange(units + 1)[:, None]
    k = np.arange(units + 1)[None, :]
    valid = k <= j
    rest = np.where(valid, j - k, 0)
    best = np.zeros(units + 1)  # best gain with at most j units over the segments so far
    choice = np.zeros((n_seg, units + 1), dtype=int)
    for i in range(n_seg):
        candidates = np.where(valid, best[rest] + gains[:, i][k], -np.inf)
        choice[i] = candidates.argmax(axis=1)
        best = candidates.max(axis=1)
    out = np.zeros(n_seg, dtype=int)
    left = units
    for i in reversed(range(n_seg)):
        out[i] = choice[i, left]
        left -= out[i]
    return out


def _polish(
    arrays: Arrays, start: np.ndarray, budget: float, eligible: np.ndarray, periods: int
) -> np.ndarray | None:
    """Refine a grid allocation with SLSQP on the continuous problem (None if it fails)."""
    from scipy.optimize import minimize

    base = _equity_with_spend(arrays, np.zeros((1, len(start))), periods).sum()
    step = 1e-6

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        # Segments are independent, so one batch of (x, x + h) gives every partial.
        rows = np.stack([x, x + step]) * budget
        equity = _equity_with_spend(arrays, rows, periods)
        value = -(equity[0].sum() - base) / budget
        grad = -(equity[1] - equity[0]) / (step * budget)
        return float(value), np.where(eligible, grad, 0.0)

    bounds = [(0.0, 1.0) if ok else (0.0, 0.0) for ok in eligible]
    constraint = {
        "type": "ineq",
        "fun": lambda x: 1.0 - x.sum(),
        "jac": lambda x: -np.ones_like(x),
    }
    try:
        res = minimize(
            objective,
            start / budget,
            jac=True,
            method="SLSQP",
            bounds=bounds,
            constraints=[constraint],
            # The grid start is already within one grid step of the optimum: a few
            # iterations polish it. More (maxiter 200, ftol 1e-12) changed the equity gain
            # by < 1e-10 of itself on the sample baselines but sometimes took 0.5 s, too
            # slow for a slider move.
            options={"maxiter": _POLISH_ITERATIONS, "ftol": 1e-10},
        )
    except (ValueError, FloatingPointError):  # pragma: no cover - defensive
        return None
    x = np.clip(np.nan_to_num(res.x), 0.0, 1.0) * eligible
    total = x.sum()
    if total > 1.0:
        x /= total
    return x * budget


def optimize_retention_budget(
    segments: Sequence[Segment],
    budget: float,
    *,
    horizon_years: int,
    discount_rate: float,
    periods_per_year: int = 1,
    grid_steps: int = 200,
) -> BudgetAllocation:
    """Split a yearly retention budget across segments to maximise customer equity.

    Each segment's equity depends only on its own spend (concave response curve, module
    docstring of :mod:`crm_core.whatif.engine`), so the problem is separable: an exact dynamic
    programme on ``grid_steps`` budget units finds the best grid split (also when the
    equity curve is not concave), then scipy's SLSQP refines it on the continuous
    problem and is kept only when it does better. Equity is net of the spend, so the
    budget need not be spent in full: spend stops where the next dollar stops paying.

    Parameters
    ----------
    segments
        The baseline segments.
    budget
        Extra retention budget (currency per year, year-1 spend; module docstring).
    horizon_years, discount_rate, periods_per_year
        As in :func:`crm_core.whatif.simulate`.
    grid_steps
        Budget units of the grid search (20..2000).

    Returns
    -------
    BudgetAllocation
    """
    check_segments(segments)
    amount = budget_amount("budget", budget)
    horizon = check_horizon(horizon_years)
    rate = check_discount(discount_rate)
    periods = check_periods(periods_per_year)
    if isinstance(grid_steps, bool) or not isinstance(grid_steps, int):
        raise ValueError(f"grid_steps must be a whole number, got {grid_steps!r}")
    if not 20 <= grid_steps <= 2000:
        raise ValueError(f"grid_steps must be in 20..2000, got {grid_steps}")
    arrays = stack([segments], horizon, [rate])
    n_seg = len(segments)
    eligible = _reach(arrays) > 0
    zero = np.zeros((1, n_seg))
    before = _equity_with_spend(arrays, zero, periods)[0]
    method = "grid"
    if amount > 0 and eligible.any():
        units = np.arange(grid_steps + 1)[:, None] * (amount / grid_steps)
        grid = _equity_with_spend(arrays, np.broadcast_to(units, (grid_steps + 1, n_seg)), periods)
        gains = np.where(eligible, grid - before, 0.0)
        alloc = grid_allocation(gains) * (amount / grid_steps)
        polished = _polish(arrays, alloc, amount, eligible, periods)
        if polished is not None:
            both = _equity_with_spend(arrays, np.stack([alloc, polished]), periods).sum(axis=1)
            if both[1] > both[0] + 1e-9 * max(1.0, abs(both[0])):
                alloc, method = polished, "grid+SLSQP"
        alloc = np.where(alloc > amount * 1e-9, alloc, 0.0)
        equal = np.where(eligible, amount / eligible.sum(), 0.0)
    else:
        alloc = np.zeros(n_seg)
        equal = alloc
    reach = _reach(arrays)
    step = max(amount / n_seg, 1.0) * 1e-4
    low = np.maximum(alloc - step, 0.0)
    nothing = np.zeros(n_seg)
    rows = np.stack([alloc, equal, low, alloc + step, nothing + step])
    per_customer = np.divide(rows, reach, out=np.zeros_like(rows), where=eligible)
    projected = project(replace(arrays, extra=arrays.extra + per_customer), periods)
    after, equal_equity, at_low, at_high, first = projected.equity

    def slope(rise: np.ndarray, run: np.ndarray) -> np.ndarray:
        # Equity per currency unit; optimiser-level noise (< 1e-4 per unit) reads as 0.
        value = rise / run
        return np.where(eligible & (np.abs(value) >= _FLAT), value, 0.0)

    allocation = pl.DataFrame(
        {
            "segment": pl.Series([s.name for s in segments], dtype=pl.String),
            "budget": alloc,
            "share": alloc / amount if amount > 0 else nothing,
            "spend_per_customer": per_customer[0],
            "retention_before": project(arrays, periods).r_year1[0],
            "retention_after": projected.r_year1[0],
            "equity_before": before,
            "equity_after": after,
            "equity_gain": after - before,
            "marginal_equity": slope(at_high - at_low, alloc + step - low),
            "first_dollar_equity": slope(first - before, np.full(n_seg, step)),
        }
    )
    return BudgetAllocation(
        budget=amount,
        spent=float(alloc.sum()),
        equity=float(after.sum()),
        baseline_equity=float(before.sum()),
        equal_split_equity=float(equal_equity.sum()),
        method=method,
        allocation=allocation,
    )
