"""Everything the quarterly review reads, computed by the functions the pages call.

:class:`ReviewInputs` holds the pages' own results for one snapshot and date: the
Executive overview (:func:`crm_core.overview.report.overview_report`), the Segments page's
default report (:func:`crm_core.segments.report.segment_report`: twelve months, tiers
10/20/70, acquisition charged in full, no filter), the Lifecycle page's default report,
funnel and cohorts, the Customer value page's valuation with its P10-P90 bands, and the
What-if page's baseline with a scenario projected against it. With the pages' default
controls the review therefore shows the pages' numbers; a test compares them.

:func:`review_inputs` builds them from the metric inputs (ledger, quarterly totals and the
CLV valuations of the model sets fitted at the as-of date and a quarter earlier) and the
fitted model sets themselves: it never fits a model. :func:`snapshot_review_inputs` is the
uncached path of the CLI: one ledger, one fit per date needed.

The value-at-risk section reads the Churn risk page's report
(:func:`crm_core.churn.report.churn_report`, the call list ranked by P(churn) x CLV, one
quarter ahead: the page's default horizon), or the data problem that prevented it (a
history too short to train and test on), which the slide then states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import polars as pl

from crm_core.churn.cuts import plan_cuts
from crm_core.churn.report import ChurnReport, churn_report
from crm_core.clv.fitted import FittedModels, fit_models
from crm_core.clv.uncertainty import SEGMENT, ClvBands, clv_bands_by
from crm_core.clv.valuation import ClvResult, value
from crm_core.data.ledger import L, Ledger, build_ledger
from crm_core.data.rules import DEFAULT_STAGES
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
from crm_core.errors import DataError
from crm_core.growth.movements import MovementView, movement_view
from crm_core.lifecycle.cohorts import CohortReport, cohort_retention
from crm_core.lifecycle.funnel import FunnelReport, lifecycle_funnel
from crm_core.lifecycle.prospects import leads
from crm_core.lifecycle.report import LifecycleReport, lifecycle_report
from crm_core.metrics.quarters import quarter_periods
from crm_core.metrics.registry import MetricInputs, metric_inputs
from crm_core.overview.report import OverviewReport, overview_report
from crm_core.segments.report import SegmentReport, segment_report
from crm_core.whatif import controls as ctl
from crm_core.whatif.labels import SEGMENTATIONS
from crm_core.whatif.levers import Levers, Scenario
from crm_core.whatif.report import BaselineReport, baseline_report
from crm_core.whatif.results import SimulationResult
from crm_core.whatif.workbench import project_scenario

__all__ = [
    "BAND_DRAWS",
    "CHURN_HORIZON_QUARTERS",
    "DEFAULT_SCENARIO",
    "FIT_QUARTERS",
    "Pending",
    "ReviewInputs",
    "WhatIf",
    "review_inputs",
    "snapshot_review_inputs",
]

BAND_DRAWS = 100
"""Parameter draws behind the P10-P90 ranges (seed 0): the Customer value page's."""
LIFECYCLE_COMPARE = 1
"""Quarters back the Lifecycle page compares with by default (its first choice)."""
FUNNEL_YEARS = 2
"""The funnel's "still active after N years" by default (the Lifecycle page's)."""
YEAR_AGO = 4
DEFAULT_SCENARIO = Scenario(
    name="Retention +5 points",
    levers=Levers(retention_points=5.0),
    description="Every segment keeps 5 more customers in 100 a year (Reichheld & Sasser)",
)
"""The what-if shown when no saved scenario is named: +5 points of retention everywhere."""
CHURN_HORIZON_QUARTERS = 1
"""The churn horizon of the value-at-risk slide: the Churn risk page's first choice."""
FIT_QUARTERS = (0, 1, YEAR_AGO)
"""Quarter ends (back from the as-of date) whose valuations the metrics read: the CLV
metrics now, a quarter and a year earlier (the Overview's "A year ago" cards)."""


@dataclass(frozen=True)
class Pending:
    """A result still being computed elsewhere (the app scores churn risk on a worker
    thread: minutes at hundreds of thousands of customers); ``what`` names it."""

    what: str


@dataclass(frozen=True, eq=False)
class WhatIf:
    """The What-if page's baseline and one scenario projected against it.

    Attributes
    ----------
    report
        :func:`crm_core.whatif.report.baseline_report` (segments, backtest, registry).
    scenario
        The scenario as the page's sliders show it (a saved one loaded onto them).
    saved
        Whether ``scenario`` is a saved scenario (else :data:`DEFAULT_SCENARIO`).
    horizon, rate, draws
        The sliders' horizon (years), discount rate (fraction) and Monte Carlo draws.
    reference, result
        Projections of the baseline and of the scenario.
    """

    report: BaselineReport
    scenario: Scenario
    saved: bool
    horizon: int
    rate: float
    draws: int
    reference: SimulationResult
    result: SimulationResult


@dataclass(frozen=True, eq=False)
class ReviewInputs:
    """The pages' results the review is made of (module docstring).

    ``clv`` and ``bands`` are ``None`` when no CLV model could be fitted, ``whatif`` when
    the baseline cannot be measured; the notes say why. ``growth`` is the Growth page's
    quarterly revenue movements (:func:`crm_core.growth.movements.movement_view`).
    ``churn`` is the Churn risk page's report, the data problem that prevented it,
    :class:`Pending` while it is still being scored, or ``None`` (not asked for).
    ``extras`` carries results of further sections by section key.
    """

    metrics: MetricInputs
    overview: OverviewReport
    segments: SegmentReport
    lifecycle: LifecycleReport
    funnel: FunnelReport
    cohorts: CohortReport
    clv: ClvResult | None
    bands: ClvBands | None
    whatif: WhatIf | None
    whatif_note: str | None = None
    growth: MovementView | None = None
    churn: ChurnReport | DataError | Pending | None = None
    extras: Mapping[str, object] | None = None

    @property
    def currency(self) -> str:
        """ISO code of every amount."""
        return self.overview.currency

    @property
    def contractual(self) -> bool:
        """Whether the business is contractual (subscriptions)."""
        return self.metrics.ledger.contractual


def channel_groups(inputs: MetricInputs) -> dict[str, pl.DataFrame]:
    """``cid, segment`` by acquisition channel: the Customer value page's channel
    grouping (the P10-P90 equity band is the same whatever the grouping)."""
    customers = inputs.ledger.customers.lazy()
    frame = customers.select(L.cid, pl.col(C.acquisition_channel).alias(SEGMENT)).collect()
    return {"channel": frame}


def _segmentation(report_of: Callable[[str], BaselineReport], scenario: Scenario) -> str:
    """The first segmentation (tier, channel, region) naming every segment the scenario
    moves; ``ValueError`` when none does."""
    if not scenario.segment_levers:
        return "tier"
    names = {name for name, _ in scenario.segment_levers}
    for by in SEGMENTATIONS:
        if names <= set(report_of(by).baseline.names):
            return by
    raise ValueError(
        f"Scenario {scenario.name!r} moves segments {sorted(names)} that no segmentation "
        f"of this snapshot has ({', '.join(SEGMENTATIONS.values())})"
    )


def what_if(
    report_of: Callable[[str], BaselineReport],
    scenario: Scenario | None,
    project: Callable[[str, Scenario | None, int, float, int], SimulationResult] | None = None,
) -> WhatIf:
    """The scenario on the What-if page's sliders and its projection against the baseline.

    ``report_of(by)`` gives the baseline report of a segmentation, ``project(by, scenario,
    horizon, rate, draws)`` a projection (default: :func:`project_scenario`; the app passes
    its cached ones). The scenario goes through the sliders as the page's "Load onto the
    sliders" does, so the numbers are the ones the page shows for it.
    """
    saved = scenario is not None
    scenario = scenario if scenario is not None else DEFAULT_SCENARIO
    by = _segmentation(report_of, scenario)
    report = report_of(by)
    base = report.baseline
    values, _ = ctl.controls_from_scenario(base, scenario)
    shown, horizon, rate, draws = ctl.scenario_from_controls(base, values)
    shown = replace(shown, name=scenario.name, description=scenario.description)

    def run(s: Scenario | None) -> SimulationResult:
        if project is not None:
            return project(by, s, horizon, rate, draws)
        return project_scenario(base, s, horizon, rate, draws)

    return WhatIf(report, shown, saved, horizon, rate, draws, run(None), run(shown))


def review_inputs(
    metrics: MetricInputs,
    *,
    models: Mapping[int, FittedModels] | None = None,
    scenario: Scenario | None = None,
    baseline_of: Callable[[str], BaselineReport] | None = None,
    project: Callable[[str, Scenario | None, int, float, int], SimulationResult] | None = None,
    churn: ChurnReport | DataError | Pending | None = None,
    extras: Mapping[str, object] | None = None,
) -> ReviewInputs:
    """The review's inputs from the metric inputs (module docstring).

    Parameters
    ----------
    metrics
        Ledger, quarterly totals and CLV valuations (the app's shared ones, or
        :func:`crm_core.metrics.compute.ledger_metrics`).
    models
        Fitted model sets by quarters back (0 and 4 are used for contractual businesses,
        as the What-if page does); missing ones are not fitted here.
    scenario
        A saved what-if scenario, or ``None`` for :data:`DEFAULT_SCENARIO`.
    baseline_of, project
        The What-if baseline report of a segmentation and a projection, when the caller
        caches them (the app); default: computed here.
    churn
        The churn report (the Churn risk page's, :data:`CHURN_HORIZON_QUARTERS` ahead) or
        the data problem that prevented it; ``None`` leaves the value-at-risk slide out.
    extras
        Results of optional sections, by section key.
    """
    ledger = metrics.ledger
    clv = metrics.clv.get(0)
    models = models or {}
    lead_rows = leads(ledger)
    before = metrics.clv.get(LIFECYCLE_COMPARE)
    bands = None
    if clv is not None:
        bands = clv_bands_by(clv, channel_groups(metrics), draws=BAND_DRAWS, seed=0)["channel"]

    def own_baseline(by: str) -> BaselineReport:
        contract = ledger.contractual
        return baseline_report(
            metrics,
            by=by,
            models_now=models.get(0) if contract else None,
            models_then=models.get(YEAR_AGO) if contract else None,
        )

    whatif, note = None, None
    try:
        whatif = what_if(baseline_of or _memo(own_baseline), scenario, project)
    except DataError as exc:
        note = str(exc)
    return ReviewInputs(
        metrics=metrics,
        overview=overview_report(metrics),
        segments=segment_report(ledger, clv=clv, costs=False),  # the page's first tab
        lifecycle=lifecycle_report(
            metrics, DEFAULT_STAGES, LIFECYCLE_COMPARE, clv_before=before, lead_rows=lead_rows
        ),
        funnel=lifecycle_funnel(ledger, years=FUNNEL_YEARS, lead_rows=lead_rows),
        cohorts=cohort_retention(ledger),
        clv=clv,
        bands=bands,
        whatif=whatif,
        whatif_note=note,
        growth=movement_view(ledger, "quarter"),
        churn=churn,
        extras=extras,
    )


def _memo(function: Callable[[str], BaselineReport]) -> Callable[[str], BaselineReport]:
    cache: dict[str, BaselineReport] = {}

    def call(by: str) -> BaselineReport:
        if by not in cache:
            cache[by] = function(by)
        return cache[by]

    return call


def churn_of(
    ledger: Ledger,
    fitted: Callable[[int], FittedModels | DataError],
    clv: ClvResult | None,
    note: str | None = None,
) -> ChurnReport | DataError:
    """The Churn risk page's report at :data:`CHURN_HORIZON_QUARTERS` (or why there is
    none): ``fitted(period)`` gives the model set fitted at a ledger period end (the
    caller's, so a fit the review already has is not fitted again)."""
    try:
        plan = plan_cuts(ledger, CHURN_HORIZON_QUARTERS)
        fits = {k: fitted(k) for k in plan.cuts}
        return churn_report(
            ledger, fits, clv, horizon_quarters=CHURN_HORIZON_QUARTERS, valuation_note=note
        )
    except DataError as exc:
        return exc


def snapshot_review_inputs(
    snapshot: Snapshot,
    *,
    scenario: Scenario | None = None,
    progress: Callable[[str], None] | None = None,
) -> ReviewInputs:
    """:func:`review_inputs` of a snapshot at its as-of date, uncached (the CLI): the
    ledger once, the CLV model set fitted once per date the pages use (the as-of date, the
    previous quarter end and a year earlier; the churn model's cut dates)."""
    step = progress or (lambda _: None)
    step("Building the customer ledger")
    ledger = build_ledger(snapshot)
    per_quarter = quarter_periods(ledger)
    quarters = FIT_QUARTERS
    fits: dict[int, FittedModels | DataError] = {}  # by ledger period

    def fitted(period: int) -> FittedModels | DataError:
        if period not in fits:
            try:
                fits[period] = fit_models(ledger, period)
            except DataError as exc:
                fits[period] = exc
        return fits[period]

    models: dict[int, FittedModels] = {}
    clv: dict[int, ClvResult] = {}
    note = None
    step("Fitting the CLV models")
    for q in quarters:
        period = q * per_quarter
        if period >= ledger.periods:
            continue
        fit = fitted(period)
        if isinstance(fit, DataError):
            if q == 0:
                note = str(fit)
            continue
        models[q] = fit
        clv[q] = value(fit)
    step("Scoring churn risk")
    churn = churn_of(ledger, fitted, clv.get(0), note)
    step("Computing the pages' numbers")
    return review_inputs(
        metric_inputs(ledger, clv, note), models=models, scenario=scenario, churn=churn
    )
