"""The What-if page's controls as plain data: slider keys, ranges and starting values, the
scenario a set of slider values describes, and the slider values of a saved scenario.

No Streamlit here: the page reads and writes widget values by these keys (words in
:mod:`crm_core.copy.whatif`). Slider values are what the user sees: retention in percent
(on a 0.5-point grid), lever changes in whole percent, spend in currency, the discount
rate in percent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from crm_core.whatif.baseline import Baseline
from crm_core.whatif.levers import Levers, Scenario

__all__ = [
    "BANDS",
    "DRAWS",
    "HORIZON",
    "HORIZON_MAX",
    "PERCENT_LEVERS",
    "RATE",
    "RATE_MAX",
    "RATE_STEP",
    "RETENTION_STEP",
    "SPEND",
    "Adjustment",
    "PercentLever",
    "controls_from_scenario",
    "rebased_values",
    "renamed",
    "retention_key",
    "retention_value",
    "scenario_from_controls",
    "slider_defaults",
    "spend_range",
]

RETENTION_STEP = 0.5
"""Grid of the retention sliders (percentage points)."""
DRAWS = 1_000
"""Monte Carlo draws behind the likely-range bands."""
HORIZON_MAX = 30
RATE_MAX = 30.0
RATE_STEP = 0.5
SPEND, HORIZON, RATE, BANDS = "spend", "h", "d", "bands"


@dataclass(frozen=True)
class PercentLever:
    """A lever applied to every segment, as a slider in whole percent."""

    key: str  # widget key and URL parameter
    field: str  # the Levers field
    low: int
    high: int
    step: int


PERCENT_LEVERS = (
    PercentLever("mg", "margin_pct", -50, 50, 1),
    PercentLever("cts", "cost_to_serve_pct", -50, 100, 5),
    PercentLever("acqv", "acquisition_volume_pct", -100, 200, 5),
    PercentLever("acqc", "acquisition_cost_pct", -50, 100, 5),
)


@dataclass(frozen=True)
class Adjustment:
    """A saved scenario's value the sliders cannot show exactly.

    ``kind``: ``"lever"`` (``name`` the Levers field, ``wanted`` and ``shown`` in
    percent), ``"spend"`` (capped at ``shown``, currency) or ``"segment_levers"`` (levers
    other than retention for the segments in ``name``).
    """

    kind: str
    name: str
    wanted: float = 0.0
    shown: float = 0.0


def retention_key(code: str) -> str:
    """Widget key of a segment's retention slider."""
    return f"r_{code}"


def retention_value(retention: float) -> float:
    """Slider position of a retention (fraction): percent on the slider's grid."""
    return round(retention * 100 / RETENTION_STEP) * RETENTION_STEP


def spend_range(baseline: Baseline) -> tuple[float, float]:
    """Maximum and step of the extra-retention-spend slider (currency per customer)."""
    top = max(abs(baseline.company_margin), 1.0)
    magnitude = 10 ** max(len(str(int(top))) - 1, 0)
    top = max(round(top / magnitude) * magnitude, magnitude)
    return float(top), float(top / 100)


def _rate_value(rate: float) -> float:
    return round(rate * 100 / RATE_STEP) * RATE_STEP


def slider_defaults(baseline: Baseline) -> dict[str, float | int | bool]:
    """Every control's starting value: the baseline."""
    values: dict[str, float | int | bool] = {
        retention_key(baseline.codes[s.name]): retention_value(s.retention)
        for s in baseline.segments
    }
    values |= {lever.key: 0 for lever in PERCENT_LEVERS}
    values |= {
        SPEND: 0.0,
        HORIZON: min(baseline.horizon_years, HORIZON_MAX),
        RATE: _rate_value(baseline.discount_rate),
        BANDS: True,
    }
    return values


def rebased_values(baseline: Baseline) -> dict[str, float | int | bool]:
    """The controls to reset when the page moves to another baseline (snapshot, date or
    segmentation): all but the relative levers and the bands switch."""
    keep = {lever.key for lever in PERCENT_LEVERS} | {BANDS}
    return {k: v for k, v in slider_defaults(baseline).items() if k not in keep}


def scenario_from_controls(
    baseline: Baseline, values: Mapping[str, float | int | bool]
) -> tuple[Scenario, int, float, int]:
    """The scenario the controls describe, the horizon (years), discount rate (fraction)
    and Monte Carlo draws. Retention sliders left on their start are no change."""
    defaults = slider_defaults(baseline)
    targets = {}
    for s in baseline.segments:
        key = retention_key(baseline.codes[s.name])
        if values[key] != defaults[key]:
            targets[s.name] = float(values[key]) / 100.0
    changes = {lever.field: float(values[lever.key]) for lever in PERCENT_LEVERS}
    horizon, rate = int(values[HORIZON]), float(values[RATE])
    scenario = baseline.scenario(
        targets,
        Levers(extra_retention_spend=float(values[SPEND]), **changes),
        horizon_years=horizon if horizon != baseline.horizon_years else None,
        discount_rate=rate / 100 if rate != defaults[RATE] else None,
    )
    return scenario, horizon, rate / 100, DRAWS if values[BANDS] else 0


def controls_from_scenario(
    baseline: Baseline, scenario: Scenario
) -> tuple[dict[str, float | int | bool], tuple[Adjustment, ...]]:
    """Slider values showing a saved scenario, and what they cannot show exactly.

    Raises ``ValueError`` when the scenario names segments this baseline lacks.
    """
    targets = baseline.retention_targets(scenario)
    values = slider_defaults(baseline)
    adjusted: list[Adjustment] = []
    for segment, target in targets.items():
        key = retention_key(baseline.codes[segment])
        values[key] = min(max(round(target * 100, 1), 0.0), 100.0)
    for lever in PERCENT_LEVERS:
        wanted = getattr(scenario.levers, lever.field)
        values[lever.key] = min(max(round(wanted), lever.low), lever.high)
        if values[lever.key] != wanted:
            adjusted.append(Adjustment("lever", lever.field, wanted, values[lever.key]))
    top, _ = spend_range(baseline)
    wanted_spend = scenario.levers.extra_retention_spend
    values[SPEND] = min(wanted_spend, top)
    if values[SPEND] != wanted_spend:
        adjusted.append(Adjustment("spend", SPEND, wanted_spend, top))
    if scenario.horizon_years is not None:
        values[HORIZON] = min(scenario.horizon_years, HORIZON_MAX)
    if scenario.discount_rate is not None:
        values[RATE] = min(_rate_value(scenario.discount_rate), RATE_MAX)
    others = sorted(
        seg
        for seg, own in scenario.segment_levers
        if any(v for k, v in own.to_dict().items() if k != "retention_points")
    )
    if others:
        adjusted.append(Adjustment("segment_levers", ", ".join(others)))
    return values, tuple(adjusted)


def renamed(scenario: Scenario, name: str) -> Scenario:
    """``scenario`` under another name (validated by :class:`Scenario`)."""
    return replace(scenario, name=name)
