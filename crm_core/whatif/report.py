"""Everything the What-if page starts from, in one call: the baseline, its backtest and the
registry's figures it reconciles with.

:func:`baseline_report` reads the shared metric inputs (ledger, quarterly totals, CLV
valuations) and the fitted model sets, and builds, from one pass of customer facts over
the ledger, today's baseline and the baseline of a year ago with its backtest
(:mod:`crm_core.whatif.backtest`). The registry's values of the quantities the page shows
next to the projection (active customers, retention, margin, new customers, CAC, customer
equity) come from :mod:`crm_core.metrics.registry`, so they equal the Overview's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crm_core.clv.fitted import FittedModels
from crm_core.clv.valuation import ClvResult
from crm_core.errors import DataError
from crm_core.metrics.registry import MetricInputs, metric_value
from crm_core.whatif.backtest import Backtest, backtest, backtest_period
from crm_core.whatif.baseline import Baseline, baseline_segments
from crm_core.whatif.facts import customer_facts_lazy, history_reaches
from crm_core.whatif.labels import DEFAULT_CUTOFFS, label_frames

__all__ = ["BASELINE_METRICS", "BaselineReport", "baseline_report"]

BASELINE_METRICS = (
    "active_customers",
    "retention",
    "margin_per_customer",
    "new_customers",
    "acquisition_cost",
    "customer_equity",
)
"""Registry metrics the What-if page shows next to its baseline."""


@dataclass(frozen=True)
class BaselineReport:
    """What the What-if page starts from.

    Attributes
    ----------
    baseline
        Today's segments (:class:`~crm_core.whatif.baseline.Baseline`).
    backtest
        The baseline of a year ago against what happened, or ``None``.
    backtest_note
        Why there is no backtest (too little history, ...), else ``None``.
    metrics
        Registry key -> value at the as-of date for :data:`BASELINE_METRICS`.
    clv
        The fitted-model valuation behind the registry's customer equity, or ``None``.
    """

    baseline: Baseline
    backtest: Backtest | None
    backtest_note: str | None
    metrics: Mapping[str, float | None] = field(repr=False)
    clv: ClvResult | None = field(default=None, repr=False)


def baseline_report(
    inputs: MetricInputs,
    *,
    by: str = "tier",
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    retention_curve: bool = False,
    models_now: FittedModels | None = None,
    models_then: FittedModels | None = None,
) -> BaselineReport:
    """The baseline, its backtest and the registry figures (module docstring).

    Parameters
    ----------
    inputs
        The shared metric inputs (:func:`crm_core.metrics.compute.ledger_metrics` or the
        app's cached ones).
    by, cutoffs, retention_curve
        As in :func:`~crm_core.whatif.baseline.baseline_segments`.
    models_now, models_then
        Model sets fitted at the as-of date and a year earlier (used for contracts).
    """
    ledger = inputs.ledger
    then = backtest_period(inputs)
    starts = (0,) if then is None else (0, then)
    facts_query = customer_facts_lazy(ledger, starts)
    labels = None
    if history_reaches(ledger, 0):
        year = ledger.periods_per_year
        moments = sorted({k + d for k in starts for d in (0, year)})
        labels, (facts,) = label_frames(ledger, by, moments, cutoffs, also=[facts_query])
    else:
        facts = facts_query.collect()
    baseline = baseline_segments(
        ledger,
        by=by,
        cutoffs=cutoffs,
        retention_curve=retention_curve,
        models=models_now,
        facts=facts,
        labels=labels,
    )
    check, note = None, None
    if then is None:
        note = "the history is too short to start the baseline a year earlier"
    else:
        try:
            check = backtest(
                inputs, by=by, cutoffs=cutoffs, models=models_then, facts=facts, labels=labels
            )
        except DataError as exc:
            note = str(exc)
    values = {key: metric_value(inputs, key, 0) for key in BASELINE_METRICS}
    return BaselineReport(baseline, check, note, values, inputs.clv.get(0))
