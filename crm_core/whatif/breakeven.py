"""Break-even of a retention spend: how much retention must it buy to pay off, next to
spending the same money on acquisition.

Budget convention (shared with :mod:`crm_core.whatif.optimize`): a yearly budget ``B``
given to a segment buys ``B / (customers + acquisition_per_year)`` of extra retention
spend per customer per year, i.e. it is the first year's spend on everyone active at the
start of year 1; later years spend the same amount per customer on whoever is active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from crm_core.whatif.checks import check_discount, check_horizon, check_periods, number
from crm_core.whatif.engine import equity_by_segment
from crm_core.whatif.levers import Levers, apply_scenario
from crm_core.whatif.projection import project, stack
from crm_core.whatif.segment import Segment, check_segments

__all__ = ["BreakEven", "break_even", "break_even_table", "budget_amount", "spend_per_customer"]


def budget_amount(name: str, value: float) -> float:
    """A yearly budget or spend: a finite number >= 0 (currency per year)."""
    amount = number("budget", name, value)
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
    amount = budget_amount("spend", spend)
    horizon = check_horizon(horizon_years)
    rate = check_discount(discount_rate)
    periods = check_periods(periods_per_year)
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
    arrays = stack([[segment], [boosted]], horizon, [rate, rate])
    flows = project(arrays, periods)
    start = flows.start  # (P, 2, 1)
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
    check_segments(segments)
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
