"""Levers and scenarios: changes to segments relative to a baseline.

:class:`Levers` is what the What-if page's sliders set; a :class:`Scenario` names a set of
levers, with extra changes per segment, and optional horizon and discount-rate overrides
(the saved scenarios). :func:`apply_scenario` applies them to a list of segments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from crm_core.whatif.checks import check_discount, check_horizon, number
from crm_core.whatif.segment import Segment, check_segments

__all__ = ["LEVER_LIMITS", "Levers", "Scenario", "apply_scenario"]

LEVER_LIMITS = {
    "retention_points": (-100.0, 100.0),
    "margin_pct": (-1000.0, 1000.0),
    "cost_to_serve_pct": (-100.0, 1000.0),
    "acquisition_volume_pct": (-100.0, 1000.0),
    "acquisition_cost_pct": (-100.0, 1000.0),
    "extra_retention_spend": (0.0, math.inf),
}
"""Allowed range of every lever (units as in :class:`Levers`)."""


@dataclass(frozen=True)
class Levers:
    """Changes to a segment relative to the baseline (what the sliders set).

    Attributes
    ----------
    retention_points
        Retention change in percentage points (5 = 80% -> 85%), applied to the base's
        retention, the tenure curves and new customers' first-year survival; results
        clipped to [0, 1].
    margin_pct
        Change of the yearly margin per customer in percent of its size (10 = +10%; an
        improvement also for a negative margin), from extra revenue at the same costs.
    cost_to_serve_pct
        Change of the cost to serve in percent (10 = +10%); the margin moves by the
        opposite amount (revenue unchanged).
    acquisition_volume_pct
        Change of the customers acquired per year in percent.
    acquisition_cost_pct
        Change of the cost per acquired customer in percent.
    extra_retention_spend
        Extra retention spend per customer per year (currency), on the response curve.
    """

    retention_points: float = 0.0
    margin_pct: float = 0.0
    cost_to_serve_pct: float = 0.0
    acquisition_volume_pct: float = 0.0
    acquisition_cost_pct: float = 0.0
    extra_retention_spend: float = 0.0

    def __post_init__(self) -> None:
        for name, (low, high) in LEVER_LIMITS.items():
            value = number("Levers", name, getattr(self, name))
            if not low <= value <= high:
                raise ValueError(f"Levers: {name} must be in [{low:g}, {high:g}], got {value:g}")
            object.__setattr__(self, name, value)

    @property
    def is_zero(self) -> bool:
        """True when the levers change nothing."""
        return all(getattr(self, f.name) == 0.0 for f in fields(self))

    def to_dict(self) -> dict[str, float]:
        """The levers as a plain dict (field name -> value)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Scenario:
    """A named set of lever changes relative to a baseline list of segments.

    Attributes
    ----------
    name
        Scenario name shown to users.
    levers
        Changes applied to every segment.
    segment_levers
        Extra changes per segment name, added to ``levers`` (points and percents add).
        A mapping is accepted and stored as a sorted tuple of pairs (hashable).
    horizon_years
        Projection horizon override (years); ``None`` keeps the caller's.
    discount_rate
        Yearly discount rate override (fraction); ``None`` keeps the caller's.
    description
        Free text shown next to the name.
    """

    name: str = "Scenario"
    levers: Levers = field(default_factory=Levers)
    segment_levers: tuple[tuple[str, Levers], ...] = ()
    horizon_years: int | None = None
    discount_rate: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Scenario name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.levers, Levers):
            raise ValueError(f"Scenario {self.name!r}: levers must be a Levers")
        pairs = self.segment_levers
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        checked: dict[str, Levers] = {}
        for item in items:
            segment, levers = item
            if not isinstance(segment, str) or not isinstance(levers, Levers):
                raise ValueError(
                    f"Scenario {self.name!r}: segment_levers maps segment names to Levers"
                )
            if segment in checked:
                raise ValueError(f"Scenario {self.name!r}: segment {segment!r} given twice")
            checked[segment] = levers
        object.__setattr__(self, "segment_levers", tuple(sorted(checked.items())))
        if self.horizon_years is not None:
            object.__setattr__(self, "horizon_years", check_horizon(self.horizon_years))
        if self.discount_rate is not None:
            object.__setattr__(self, "discount_rate", check_discount(self.discount_rate))
        if not isinstance(self.description, str):
            raise ValueError(f"Scenario {self.name!r}: description must be text")

    @property
    def is_zero(self) -> bool:
        """True when no lever changes anything (overrides aside)."""
        return self.levers.is_zero and all(v.is_zero for _, v in self.segment_levers)

    def levers_for(self, segment: str) -> Levers:
        """The levers that apply to ``segment`` (scenario-wide plus segment-specific)."""
        own = dict(self.segment_levers).get(segment)
        if own is None:
            return self.levers
        return Levers(
            **{
                name: min(max(getattr(self.levers, name) + getattr(own, name), low), high)
                for name, (low, high) in LEVER_LIMITS.items()
            }
        )


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _retention_changes(segment: Segment, delta: float) -> dict[str, Any]:
    retention = _clip(segment.retention + delta)
    changes: dict[str, Any] = {"retention": retention}
    for name in ("retention_curve", "base_retention_curve"):
        curve = getattr(segment, name)
        if curve is not None:
            changes[name] = tuple(_clip(v + delta) for v in curve)
    if segment.new_survival is not None:
        changes["new_survival"] = _clip(segment.new_survival + delta)
    if segment.retention_max is not None:
        changes["retention_max"] = max(segment.retention_max, retention)
    return changes


def _money_changes(segment: Segment, levers: Levers) -> dict[str, Any]:
    """Margin, cost to serve and revenue after the margin and cost-to-serve levers."""
    pct, serve_pct = levers.margin_pct / 100.0, levers.cost_to_serve_pct / 100.0
    changes: dict[str, Any] = {}
    uplift = abs(segment.margin) * pct  # extra revenue at the same costs
    serve = segment.cost_to_serve * (1.0 + serve_pct)
    margin = segment.margin + uplift - (serve - segment.cost_to_serve)
    if margin != segment.margin:
        changes |= {"margin": margin, "cost_to_serve": serve}
        if segment.revenue is not None:
            changes["revenue"] = segment.revenue + uplift
        if segment.spend_half is None and segment.margin != 0:
            changes["spend_half"] = segment.half_spend  # keep the response curve in place
    first = segment.first_year_margin
    first_uplift = abs(first) * pct
    first_serve = segment.first_year_cost_to_serve * serve_pct
    if segment.new_margin is not None:
        changes["new_margin"] = first + first_uplift - first_serve
    if segment.new_cost_to_serve is not None:
        changes["new_cost_to_serve"] = segment.new_cost_to_serve * (1.0 + serve_pct)
    if segment.new_revenue is not None:
        changes["new_revenue"] = segment.new_revenue + first_uplift
    return changes


def _apply_levers(segment: Segment, levers: Levers) -> Segment:
    if levers.is_zero:
        return segment
    changes: dict[str, Any] = {}
    if levers.retention_points:
        changes |= _retention_changes(segment, levers.retention_points / 100.0)
    if levers.margin_pct or levers.cost_to_serve_pct:
        changes |= _money_changes(segment, levers)
    if levers.acquisition_volume_pct:
        changes["acquisition_per_year"] = segment.acquisition_per_year * max(
            0.0, 1.0 + levers.acquisition_volume_pct / 100.0
        )
    if levers.acquisition_cost_pct:
        changes["acquisition_cost"] = segment.acquisition_cost * max(
            0.0, 1.0 + levers.acquisition_cost_pct / 100.0
        )
    if levers.extra_retention_spend:
        changes["extra_retention_spend"] = (
            segment.extra_retention_spend + levers.extra_retention_spend
        )
    return replace(segment, **changes)


def apply_scenario(
    segments: Sequence[Segment], scenario: Scenario | Levers, *, strict: bool = True
) -> tuple[Segment, ...]:
    """Apply a scenario (or the same levers to every segment) to a baseline.

    Parameters
    ----------
    segments
        Baseline segments.
    scenario
        A :class:`Scenario`, or :class:`Levers` applied to every segment.
    strict
        Raise ``ValueError`` when the scenario names a segment the baseline lacks (a
        saved scenario from another segmentation); otherwise ignore those levers.

    Returns
    -------
    tuple of Segment
        The changed segments, in the baseline's order.
    """
    check_segments(segments)
    if isinstance(scenario, Levers):
        return tuple(_apply_levers(s, scenario) for s in segments)
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be a Scenario or Levers, got {type(scenario).__name__}")
    names = {s.name for s in segments}
    unknown = sorted(name for name, _ in scenario.segment_levers if name not in names)
    if unknown and strict:
        raise ValueError(
            f"Scenario {scenario.name!r} has levers for unknown segments {unknown}; "
            f"the baseline has {sorted(names)}"
        )
    return tuple(_apply_levers(s, scenario.levers_for(s.name)) for s in segments)
