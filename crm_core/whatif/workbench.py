"""Everything the What-if page's workbench shows for one position of the sliders.

:func:`workbench` runs, from the baseline and the scenario on the sliders: the scenario's
projection against the baseline's, what +5 points of retention are worth, the tornado,
the best split of a retention budget and the break-even of that budget per segment; with
segments by acquisition channel, the best split of the same yearly budget spent on
acquisition instead (:mod:`crm_core.whatif.acquisition`: where the next dollar of
acquisition goes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

from crm_core.whatif.acquisition import AcquisitionAllocation, optimize_acquisition_budget
from crm_core.whatif.baseline import Baseline
from crm_core.whatif.breakeven import BreakEven, break_even
from crm_core.whatif.engine import retention_uplift, run_scenario, simulate
from crm_core.whatif.levers import Scenario, apply_scenario
from crm_core.whatif.optimize import BudgetAllocation, optimize_retention_budget
from crm_core.whatif.results import RetentionUplift, SimulationResult
from crm_core.whatif.sensitivity import sensitivity

__all__ = ["Workbench", "by_value", "default_budget", "project_scenario", "workbench"]

TORNADO_TOP = 10
BY_CHANNEL = "channel"
"""The segmentation whose segments acquisition spend can be directed to."""


@dataclass(frozen=True, eq=False)
class Workbench:
    """The workbench's results (see the module docstring).

    Attributes
    ----------
    reference, result
        Projections of the baseline and of the scenario (the same object when the
        scenario changes nothing).
    changed
        Whether the scenario moves any lever.
    uplift
        Projected equity with 5 more retention points in every segment (baseline).
    tornado
        :func:`~crm_core.whatif.sensitivity.sensitivity` around the scenario.
    allocation
        The best split of ``budget`` around the scenario.
    break_even
        Per segment with someone to spend on: the budget's break-even; for segments
        defined by value (tiers) without the acquisition comparison.
    acquisition
        With segments by acquisition channel: the best split of ``budget`` as extra
        acquisition spend across the channels (``None`` for other segmentations).
    """

    reference: SimulationResult
    result: SimulationResult
    changed: bool
    uplift: RetentionUplift
    tornado: pl.DataFrame = field(repr=False)
    allocation: BudgetAllocation = field(repr=False)
    break_even: tuple[BreakEven, ...] = ()
    acquisition: AcquisitionAllocation | None = field(default=None, repr=False)

    @property
    def best_break_even(self) -> BreakEven | None:
        """The segment where the budget adds the most equity through retention."""
        if not self.break_even:
            return None
        return max(self.break_even, key=lambda r: r.retention_equity_gain)


def by_value(baseline: Baseline) -> bool:
    """Whether segments are defined by value (customers cannot be bought into them)."""
    return baseline.by == "tier"


def default_budget(baseline: Baseline) -> float:
    """A yearly retention budget to start from: 5% of a year's margin, one significant
    digit, at least 100 (currency)."""
    return float(f"{max(0.05 * baseline.company_margin * baseline.customers, 100.0):.1g}")


def project_scenario(
    baseline: Baseline, scenario: Scenario | None, horizon: int, rate: float, draws: int
) -> SimulationResult:
    """Projection of the baseline (``scenario=None``) or of a scenario; the same seed
    (common random numbers), so two scenarios' bands differ only by the levers."""
    if scenario is None:
        return simulate(baseline.segments, horizon_years=horizon, discount_rate=rate, draws=draws)
    return run_scenario(
        baseline.segments, scenario, horizon_years=horizon, discount_rate=rate, draws=draws
    )


def workbench(
    baseline: Baseline,
    scenario: Scenario,
    *,
    horizon: int,
    rate: float,
    draws: int,
    budget: float,
    per_segment: bool = False,
    reference: SimulationResult | None = None,
) -> Workbench:
    """The workbench for the scenario on the sliders (module docstring).

    ``reference`` is the baseline's projection at the same horizon, rate and draws, when
    the caller has it already (a cached one).
    """
    if reference is None:
        reference = project_scenario(baseline, None, horizon, rate, draws)
    changed = not scenario.is_zero
    result = project_scenario(baseline, scenario, horizon, rate, draws) if changed else reference
    moved = apply_scenario(baseline.segments, scenario)
    common = {"horizon_years": horizon, "discount_rate": rate}
    rows = tuple(
        break_even(s, budget, **common) for s in moved if s.customers + s.acquisition_per_year > 0
    )
    if by_value(baseline):  # nobody can buy customers into a tier: retention only
        rows = tuple(
            replace(r, customers_bought_per_year=None, acquisition_equity_gain=None) for r in rows
        )
    return Workbench(
        reference=reference,
        result=result,
        changed=changed,
        uplift=retention_uplift(baseline.segments, **common),
        tornado=sensitivity(moved, per_segment=per_segment, **common),
        allocation=optimize_retention_budget(moved, budget, **common),
        break_even=rows,
        acquisition=(
            optimize_acquisition_budget(moved, budget, **common)
            if baseline.by == BY_CHANNEL
            else None
        ),
    )
