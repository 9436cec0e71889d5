"""Does the baseline reproduce the past? Start it a year ago, project a year, compare.

:func:`backtest` builds the baseline at the ledger period a year before the as-of date
(period 4 of a quarterly ledger, 12 of a monthly one: the ledger is causal, so that is
what the snapshot cut then would give), with the levers observed then and the model set
fitted then, projects its year 1 (:func:`~crm_core.whatif.engine.simulate`) and compares
the year-end active customers, the year's revenue and its profit (contribution: revenue
minus direct cost and cost to serve, before acquisition spend) with what the ledger
observed at the as-of date (the registry's active customers, revenue and contribution,
:mod:`crm_core.metrics.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.clv.fitted import FittedModels
from crm_core.errors import NotEnoughData
from crm_core.metrics.registry import MetricInputs, contribution_ttm, metric_value
from crm_core.whatif.baseline import baseline_segments
from crm_core.whatif.engine import simulate
from crm_core.whatif.facts import history_reaches
from crm_core.whatif.labels import DEFAULT_CUTOFFS

__all__ = ["Backtest", "backtest", "backtest_period"]


@dataclass(frozen=True)
class Backtest:
    """The baseline of a year ago against what happened (module docstring).

    Attributes
    ----------
    start, end
        The date the past baseline describes and the as-of date (a year later).
    predicted_customers, actual_customers
        Active customers at ``end``: projected and observed.
    predicted_revenue, actual_revenue
        Revenue of the year to ``end`` (currency).
    predicted_profit, actual_profit
        Contribution of the year to ``end`` (currency).
    """

    start: date
    end: date
    predicted_customers: float
    actual_customers: float
    predicted_revenue: float
    actual_revenue: float
    predicted_profit: float
    actual_profit: float

    def errors(self) -> dict[str, float | None]:
        """Relative errors (predicted / actual - 1) of customers, revenue and profit."""

        def err(predicted: float, actual: float) -> float | None:
            return predicted / actual - 1.0 if actual else None

        return {
            "customers": err(self.predicted_customers, self.actual_customers),
            "revenue": err(self.predicted_revenue, self.actual_revenue),
            "profit": err(self.predicted_profit, self.actual_profit),
        }

    def within(self, tolerance: float) -> bool:
        """Whether every relative error is at most ``tolerance`` (0.10 = 10%)."""
        return all(e is not None and abs(e) <= tolerance for e in self.errors().values())


def backtest_period(inputs: MetricInputs) -> int | None:
    """The ledger period a year before the as-of date, if the baseline can start there
    (its own year before must be in the ledger); else ``None``."""
    ledger = inputs.ledger
    period = ledger.periods_per_year
    return period if history_reaches(ledger, period) else None


def backtest(
    inputs: MetricInputs,
    *,
    by: str = "tier",
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    models: FittedModels | None = None,
    facts: pl.DataFrame | None = None,
    labels: Mapping[int, pl.DataFrame] | None = None,
) -> Backtest:
    """Start the baseline a year before the as-of date and compare its year 1 with the
    year the ledger observed (module docstring).

    Parameters
    ----------
    inputs
        The metric inputs of the ledger (registry values at the as-of date).
    by, cutoffs
        The segmentation, as in :func:`~crm_core.whatif.baseline.baseline_segments`.
    models
        The model set fitted a year before the as-of date (contractual: the sBG
        retention), or ``None``.
    facts, labels
        :func:`~crm_core.whatif.facts.customer_facts` and
        :func:`~crm_core.whatif.labels.label_frames` covering that period (computed when
        not given).

    Raises
    ------
    NotEnoughData
        When the ledger does not reach two years back.
    """
    period = backtest_period(inputs)
    if period is None:
        raise NotEnoughData("the history is too short to start the baseline a year earlier")
    past = baseline_segments(
        inputs.ledger,
        by=by,
        cutoffs=cutoffs,
        models=models,
        period=period,
        facts=facts,
        labels=labels,
    )
    year1 = simulate(past.segments, horizon_years=1, discount_rate=past.discount_rate).totals
    return Backtest(
        start=past.as_of,
        end=inputs.ledger.as_of,
        predicted_customers=float(year1["customers"][0]),
        actual_customers=float(metric_value(inputs, "active_customers", 0) or 0.0),
        predicted_revenue=float(year1["revenue"][0] or 0.0),
        actual_revenue=float(metric_value(inputs, "revenue_ttm", 0) or 0.0),
        predicted_profit=float(year1["margin"][0]),
        actual_profit=float(contribution_ttm(inputs, 0) or 0.0),
    )
