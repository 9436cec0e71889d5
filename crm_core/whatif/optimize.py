"""Where should the next dollar go? Retention budget optimiser, break-even, sensitivity.

Built on the projection of :mod:`crm_core.whatif.engine` (same timing and response curve):

* :func:`optimize_retention_budget` splits a yearly retention budget across segments to
  maximise customer equity (Blattberg & Deighton 1996: spend on retention until the last
  dollar adds as much equity in every segment).
* :func:`break_even` answers "how much retention must this spend buy to pay off?", next to
  spending the same money on acquisition.
* :func:`sensitivity` is the tornado: customer equity for +/-1 point of retention and
  +/-10% on the other levers.

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

from crm_core.whatif.engine import (
    MAX_HORIZON_YEARS,
    Levers,
    Scenario,
    Segment,
    _Arrays,
    _arrays,
    _check_segments,
    _discount,
    _horizon,
    _number,
    _project,
    apply_scenario,
    equity_by_segment,
)

__all__ = [
    "ALL_SEGMENTS",
    "BreakEven",
    "BudgetAllocation",
    "break_even",
    "break_even_table",
    "optimize_retention_budget",
    "sensitivity",
    "spend_per_customer",
]

ALL_SEGMENTS = "All segments"
_FLAT = 1e-4  # equity per currency unit below which a marginal return reads as 0
_PERIODS = (1, 4)
_POLISH_ITERATIONS = 20


def _periods(value: int) -> int:
    if value not in _PERIODS:
        raise ValueError(f"periods_per_year must be 1 or 4, got {value!r}")
    return value


def _budget(name: str, value: float) -> float:
    amount = _number("budget", name, value)
    if amount < 0:
        raise ValueError(f"{name} must be >= 0 (currency per year), got {amount:g}")
    return amount


def spend_per_customer(segment: Segment, yearly_spend: float) -> float:
    """Extra retention spend per customer per year bought by ``yearly_spend`` (currency).

    ``yearly_spend / (customers + acquisition_per_year)``: the first year's spend on
    everyone active at the start of year 1 (0 when the segment has nobody to spend on).
    """
    reach = segment.customers + segment.acquisition_per_year
    return yearly_spend / reach if reach > 0 else 0.0


def _reach(arrays: _Arrays) -> np.ndarray:
    return (arrays.customers + arrays.acquisition)[0]


def _equity_with_spend(arrays: _Arrays, budgets: np.ndarray, periods: int) -> np.ndarray:
    """Segment equity (B, S) when segment i gets ``budgets[b, i]`` more per year."""
    reach = _reach(arrays)
    per_customer = np.divide(budgets, reach, out=np.zeros_like(budgets), where=reach > 0)
    return _project(replace(arrays, extra=arrays.extra + per_customer), periods).equity


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


def _grid_allocation(gains: np.ndarray) -> np.ndarray:
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
    arrays: _Arrays, start: np.ndarray, budget: float, eligible: np.ndarray, periods: int
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
    _check_segments(segments)
    amount = _budget("budget", budget)
    horizon = _horizon(horizon_years)
    rate = _discount(discount_rate)
    periods = _periods(periods_per_year)
    if isinstance(grid_steps, bool) or not isinstance(grid_steps, int):
        raise ValueError(f"grid_steps must be a whole number, got {grid_steps!r}")
    if not 20 <= grid_steps <= 2000:
        raise ValueError(f"grid_steps must be in 20..2000, got {grid_steps}")
    arrays = _arrays([segments], horizon, [rate])
    n_seg = len(segments)
    eligible = _reach(arrays) > 0
    zero = np.zeros((1, n_seg))
    before = _equity_with_spend(arrays, zero, periods)[0]
    method = "grid"
    if amount > 0 and eligible.any():
        units = np.arange(grid_steps + 1)[:, None] * (amount / grid_steps)
        grid = _equity_with_spend(arrays, np.broadcast_to(units, (grid_steps + 1, n_seg)), periods)
        gains = np.where(eligible, grid - before, 0.0)
        alloc = _grid_allocation(gains) * (amount / grid_steps)
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
    projected = _project(replace(arrays, extra=arrays.extra + per_customer), periods)
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
            "retention_before": _project(arrays, periods).r_year1[0],
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


# ----------------------------------------------------------------------------- break-even


@dataclass(frozen=True)
class BreakEven:
    """Does a yearly retention spend pay off, and how does acquisition compare?

    Attributes
    ----------
    segment
        Segment name.
    spend
        Yearly spend considered (currency per year, year-1 amount; module docstring).
    spend_per_customer
        The same as extra retention spend per customer per year (currency).
    retention_pv_spend
        Present value of the retention spend over the horizon (currency).
    required_points
        Retention gain (percentage points, every year) the spend must buy to leave
        customer equity unchanged; ``None`` when even 100% retention would not pay.
    bought_points
        Year-1 retention gain the response curve expects from the spend (points).
    retention_equity_gain
        Customer equity added by the retention spend under the response curve (currency).
    customers_bought_per_year
        New customers the same money buys each year at the segment's acquisition cost;
        ``None`` when acquisition is free (cost 0).
    new_customer_value
        Value of one new customer at acquisition, net of its cost, over the horizon
        (currency); the closed form is ``m * r / (1 + d - r) - acquisition_cost``.
    acquisition_equity_gain
        Customer equity added by spending ``spend`` on acquisition every year (currency);
        ``None`` when acquisition is free.
    acquisition_pv_spend
        Present value of that acquisition spend (currency).
    """

    segment: str
    spend: float
    spend_per_customer: float
    retention_pv_spend: float
    required_points: float | None
    bought_points: float
    retention_equity_gain: float
    customers_bought_per_year: float | None
    new_customer_value: float
    acquisition_equity_gain: float | None
    acquisition_pv_spend: float

    @property
    def pays_off(self) -> bool:
        """True when the retention the spend buys is at least what it must buy."""
        return self.required_points is not None and self.bought_points >= self.required_points

    @property
    def better_use(self) -> str:
        """``"retention"`` or ``"acquisition"``: which use of the money adds more equity."""
        acquisition = self.acquisition_equity_gain
        if acquisition is None or self.retention_equity_gain >= acquisition:
            return "retention"
        return "acquisition"


def _single_equity(segment: Segment, horizon: int, rate: float, periods: int) -> float:
    return float(
        equity_by_segment(
            [[segment]], horizon_years=horizon, discount_rate=rate, periods_per_year=periods
        )[0, 0]
    )


def break_even(
    segment: Segment,
    spend: float,
    *,
    horizon_years: int,
    discount_rate: float,
    periods_per_year: int = 1,
) -> BreakEven:
    """Retention gain a yearly spend must buy to pay off, next to buying customers with it.

    The required gain solves ``equity(retention + x, cost + spend) = equity(baseline)``
    (scipy's brentq), the retention rising by ``x`` in every year and the spend paid on
    every active customer as in the projection. The acquisition alternative spends
    ``spend`` at the start of every year on ``spend / acquisition_cost`` more customers.

    Parameters
    ----------
    segment
        The segment.
    spend
        Yearly spend (currency per year, the first year's outlay; module docstring).
    horizon_years, discount_rate, periods_per_year
        As in :func:`crm_core.whatif.simulate`.
    """
    from scipy.optimize import brentq

    if not isinstance(segment, Segment):
        raise ValueError(f"segment must be a Segment, got {type(segment).__name__}")
    amount = _budget("spend", spend)
    horizon = _horizon(horizon_years)
    rate = _discount(discount_rate)
    periods = _periods(periods_per_year)
    per_customer = spend_per_customer(segment, amount)
    base = _single_equity(segment, horizon, rate, periods)
    paid = replace(segment, retention_spend=segment.retention_spend + per_customer)

    def shortfall(points: float) -> float:
        moved = apply_scenario([paid], Levers(retention_points=points))[0]
        return _single_equity(moved, horizon, rate, periods) - base

    lowest = min(segment.retention_curve or (segment.retention,))
    room = (1.0 - lowest) * 100.0
    if shortfall(0.0) >= 0:
        required: float | None = 0.0
    elif room > 0 and shortfall(room) >= 0:
        required = float(brentq(shortfall, 0.0, room, xtol=1e-9))
    else:
        required = None
    boosted = replace(segment, extra_retention_spend=segment.extra_retention_spend + per_customer)
    arrays = _arrays([[segment], [boosted]], horizon, [rate, rate])
    flows = _project(arrays, periods)
    start = flows.start_base + flows.start_new  # (P, 2, 1)
    pv_spend = float((start[:, 1, 0] * flows.df_start[:, 1, 0]).sum() * per_customer / periods)
    bought = float(flows.r_year1[1, 0] - flows.r_year1[0, 0]) * 100.0
    if segment.acquisition_cost > 0:
        extra_customers: float | None = amount / segment.acquisition_cost
        more = replace(segment, acquisition_per_year=segment.acquisition_per_year + extra_customers)
        acquisition_gain: float | None = _single_equity(more, horizon, rate, periods) - base
    else:
        extra_customers = acquisition_gain = None
    starts = np.arange(horizon * periods) / periods
    acquisition_pv = float(amount / periods * np.power(1.0 + rate, -starts).sum())
    return BreakEven(
        segment=segment.name,
        spend=amount,
        spend_per_customer=per_customer,
        retention_pv_spend=pv_spend,
        required_points=required,
        bought_points=bought,
        retention_equity_gain=float(flows.equity[1, 0]) - base,
        customers_bought_per_year=extra_customers,
        new_customer_value=float(flows.new_customer_value[0, 0]),
        acquisition_equity_gain=acquisition_gain,
        acquisition_pv_spend=acquisition_pv,
    )


def break_even_table(
    segments: Sequence[Segment],
    spend: float,
    *,
    horizon_years: int,
    discount_rate: float,
    periods_per_year: int = 1,
) -> pl.DataFrame:
    """:func:`break_even` for every segment with the same yearly ``spend``, one row each.

    Columns are the :class:`BreakEven` fields plus ``pays_off`` and ``better_use``.
    """
    _check_segments(segments)
    rows = []
    for s in segments:
        result = break_even(
            s,
            spend,
            horizon_years=horizon_years,
            discount_rate=discount_rate,
            periods_per_year=periods_per_year,
        )
        row = dict(result.__dict__)
        row["pays_off"] = result.pays_off
        row["better_use"] = result.better_use
        rows.append(row)
    schema = {
        "segment": pl.String,
        "pays_off": pl.Boolean,
        "better_use": pl.String,
    }
    return pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None).with_columns(
        pl.selectors.numeric().cast(pl.Float64)
    )


# ----------------------------------------------------------------------------- tornado


_TORNADO_LEVERS = (
    # key, words, unit, applies when any segment has ...
    ("retention_points", "Retention", "points", None),
    ("margin_pct", "Margin per customer", "percent", "margin"),
    ("cost_to_serve_pct", "Cost to serve", "percent", "cost_to_serve"),
    ("acquisition_volume_pct", "Customers acquired per year", "percent", "acquisition_per_year"),
    ("acquisition_cost_pct", "Acquisition cost", "percent", "acquisition_cost"),
)


def sensitivity(
    segments: Sequence[Segment],
    *,
    horizon_years: int,
    discount_rate: float,
    retention_points: float = 1.0,
    change_pct: float = 10.0,
    per_segment: bool = False,
    periods_per_year: int = 1,
) -> pl.DataFrame:
    """Tornado of customer equity: each lever moved down and up, the rest held.

    Retention moves by ``retention_points`` points; margin, cost to serve, acquisition
    volume and cost, the discount rate and the horizon by ``change_pct`` percent (the
    horizon by at least one year). Levers that change nothing (e.g. acquisition cost when
    nobody is acquired) are left out.

    Parameters
    ----------
    segments
        The baseline segments.
    horizon_years, discount_rate, periods_per_year
        As in :func:`crm_core.whatif.simulate`.
    retention_points
        Retention move (percentage points, > 0).
    change_pct
        Move of the other levers (percent, > 0).
    per_segment
        Move each lever in one segment at a time (one row per lever and segment) instead
        of in every segment at once (``segment`` = "All segments").

    Returns
    -------
    pl.DataFrame
        Columns ``lever`` (key), ``lever_label`` (words), ``segment``, ``unit``
        (``points``, ``percent`` or ``years``), ``low_change``, ``high_change`` (the
        moves, in ``unit``), ``equity_low``, ``equity_high``, ``delta_low``,
        ``delta_high`` (equity and its change from ``baseline_equity``, currency),
        ``impact`` (the larger absolute change) and ``baseline_equity``; sorted by
        ``impact``, largest first.
    """
    _check_segments(segments)
    horizon = _horizon(horizon_years)
    rate = _discount(discount_rate)
    periods = _periods(periods_per_year)
    points = _number("sensitivity", "retention_points", retention_points)
    pct = _number("sensitivity", "change_pct", change_pct)
    if not 0 < points <= 100 or not 0 < pct <= 100:
        raise ValueError("retention_points and change_pct must be in (0, 100]")
    targets = [s.name for s in segments] if per_segment else [ALL_SEGMENTS]
    variants: list[Sequence[Segment]] = [segments]
    rates = [rate]
    rows: list[dict] = []
    for key, words, unit, needs in _TORNADO_LEVERS:
        size = points if key == "retention_points" else pct
        for target in targets:
            chosen = (
                segments if target == ALL_SEGMENTS else [s for s in segments if s.name == target]
            )
            if needs and not any(getattr(s, needs) for s in chosen):
                continue
            pair = []
            for sign in (-1.0, 1.0):
                levers = Levers(**{key: sign * size})
                if target == ALL_SEGMENTS:
                    variants.append(apply_scenario(segments, levers))
                else:
                    scenario = Scenario(name="sensitivity", segment_levers={target: levers})
                    variants.append(apply_scenario(segments, scenario))
                rates.append(rate)
                pair.append(len(variants) - 1)
            rows.append(
                {"lever": key, "lever_label": words, "segment": target, "unit": unit,
                 "low_change": -size, "high_change": size, "rows": pair}
            )  # fmt: skip
    if rate > 0:
        low, high = rate * (1 - pct / 100), rate * (1 + pct / 100)
        variants += [segments, segments]
        rates += [low, min(high, 1.0)]
        rows.append(
            {"lever": "discount_rate", "lever_label": "Discount rate", "segment": ALL_SEGMENTS,
             "unit": "percent", "low_change": -pct, "high_change": pct,
             "rows": [len(variants) - 2, len(variants) - 1]}
        )  # fmt: skip
    equity = equity_by_segment(
        variants, horizon_years=horizon, discount_rate=rates, periods_per_year=periods
    ).sum(axis=1)
    baseline = float(equity[0])
    values = {id(r): (float(equity[r["rows"][0]]), float(equity[r["rows"][1]])) for r in rows}
    years = max(1, round(horizon * pct / 100))
    short, long_ = max(1, horizon - years), min(MAX_HORIZON_YEARS, horizon + years)
    horizon_row = {
        "lever": "horizon_years",
        "lever_label": "Horizon",
        "segment": ALL_SEGMENTS,
        "unit": "years",
        "low_change": float(short - horizon),
        "high_change": float(long_ - horizon),
    }
    rows.append(horizon_row)
    values[id(horizon_row)] = tuple(
        float(
            equity_by_segment(
                [segments], horizon_years=h, discount_rate=rate, periods_per_year=periods
            ).sum()
        )
        for h in (short, long_)
    )
    records = []
    for r in rows:
        low_equity, high_equity = values[id(r)]
        delta_low, delta_high = low_equity - baseline, high_equity - baseline
        impact = max(abs(delta_low), abs(delta_high))
        if impact <= 1e-9 * max(1.0, abs(baseline)):
            continue
        record = {k: v for k, v in r.items() if k != "rows"}
        record |= {
            "equity_low": low_equity,
            "equity_high": high_equity,
            "delta_low": delta_low,
            "delta_high": delta_high,
            "impact": impact,
            "baseline_equity": baseline,
        }
        records.append(record)
    schema = {
        "lever": pl.String,
        "lever_label": pl.String,
        "segment": pl.String,
        "unit": pl.String,
        "low_change": pl.Float64,
        "high_change": pl.Float64,
        "equity_low": pl.Float64,
        "equity_high": pl.Float64,
        "delta_low": pl.Float64,
        "delta_high": pl.Float64,
        "impact": pl.Float64,
        "baseline_equity": pl.Float64,
    }
    frame = pl.DataFrame(records, schema=schema)
    return frame.sort("impact", descending=True, maintain_order=True)
