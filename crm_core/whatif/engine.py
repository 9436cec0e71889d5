"""What-if engine: project customer segments forward and value them as customer equity.

A :class:`Segment` describes a group of customers today (how many, how many stay each
year, what an active customer earns, how many are acquired each year and at what cost).
:func:`simulate` projects every segment year by year and discounts the profit into
*customer equity* (Blattberg & Deighton 1996, "Manage marketing by the customer equity
test", HBR; Gupta & Lehmann 2003, "Customers as assets", J. Interactive Marketing).
:class:`Levers` and :class:`Scenario` describe changes relative to a baseline (the sliders
of the What-if page and the saved scenarios); :func:`apply_scenario` applies them.

Timing (one year is one period; ``periods_per_year=4`` gives quarters, see below)
---------------------------------------------------------------------------------
* ``customers`` are the active customers at the start of year 1 (time 0). Each year a
  share ``retention`` of the customers active at the start of the year is still active at
  its end, so with no acquisition ``N0 * r**t`` customers are active at the end of year t.
* The margin ``m`` is earned at the end of each year by the customers still active then,
  discounted by ``(1 + d) ** -t``. A current customer is therefore worth
  ``m * q * (1 - q**H) / (1 - q)`` with ``q = r / (1 + d)`` over ``H`` years, which tends
  to the closed form ``m * r / (1 + d - r)`` (domain brief, section 2) as ``H`` grows.
* ``acquisition_per_year`` new customers join at the *start* of each year 1..H, paying
  ``acquisition_cost`` each then (discount ``(1 + d) ** -(t - 1)``); from then on they
  behave like the base (same retention and margin, tenure counted from acquisition), so
  a new customer is worth ``m * r / (1 + d - r) - acquisition_cost`` at acquisition when
  the horizon is long. Year t's row counts them in ``new_customers`` and
  ``customers_start``; the first margin they earn is at the end of year t.
* Retention spend (``retention_spend + extra_retention_spend`` per customer per year) is
  paid at the start of each year for every customer active then (including that year's
  new customers), so it is discounted by ``(1 + d) ** -(t - 1)``.
* Quarterly projection (``periods_per_year=4``): quarterly retention ``r ** (1/4)``,
  margin ``m / 4`` at each quarter end, a quarter of the yearly acquisitions at each
  quarter start, discount ``(1 + d) ** -(q / 4)``. Year-end customers equal the yearly
  projection's; equity is slightly higher because margin arrives earlier.

Margin, revenue and costs
-------------------------
``margin`` is the yearly *contribution* of an active customer: revenue minus the direct
cost of what they buy minus the cost to serve them, before acquisition and retention
spend (the ``m`` of ``m * r / (1 + d - r)``). ``revenue`` and ``cost_to_serve`` are an
optional breakdown used to show revenue and cost lines and to let levers act on them; the
implied direct cost ``revenue - margin - cost_to_serve`` must not be negative.

Response of retention to extra spend (Blattberg & Deighton 1996)
----------------------------------------------------------------
``extra_retention_spend`` ``s`` per customer per year raises retention along a concave
curve with diminishing returns::

    r(s) = r0 + (r_max - r0) * (1 - exp(-ln 2 * s / s_half))

``r_max`` (``retention_max``) is the ceiling spending can reach; by default it removes
half the churn (``r0 + 0.5 * (1 - r0)``). ``s_half`` (``spend_half``) is the spend per
customer per year that buys half of the possible gain; by default 10% of the yearly
margin per customer. With a tenure curve, spend removes the same share
``(r_max - r0) / (1 - r0)`` of churn in every tenure year. ``retention_spend`` is the spend
already made today: its effect is in the observed ``retention``, so it only adds cost.

Uncertainty
-----------
With ``draws > 0``, :func:`simulate` also runs a Monte Carlo over parameter uncertainty
and reports P10/P50/P90 bands of every output. For a segment with observed counts
(``observed_retained`` of ``observed_at_risk`` customers stayed a year), retention is
drawn from the Beta posterior ``Beta(a0 + retained, b0 + lost)`` (uniform prior
``a0 = b0 = 1`` by default) and re-centred on the segment's ``retention``:
``r_draw = retention + (p - median(posterior))``, clipped to [0, 1]. So the band has the
posterior's width and skew, the deterministic projection sits at its median, and a
scenario that moves retention moves the whole band. Segments without counts have no
retention uncertainty. The mean margin is drawn from ``Normal(margin, margin_std)``.
The same seed gives the same draws for every scenario of the same segments (common
random numbers), so differences between scenarios are not blurred by sampling noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "DEFAULT_CHURN_CUT",
    "DEFAULT_HALF_SPEND_SHARE",
    "MAX_HORIZON_YEARS",
    "Band",
    "Levers",
    "RetentionUplift",
    "Scenario",
    "Segment",
    "SimulationResult",
    "Uncertainty",
    "apply_scenario",
    "retention_response",
    "retention_uplift",
    "run_scenario",
    "scenario_kpis",
    "scenario_table",
    "simulate",
]

DEFAULT_CHURN_CUT = 0.5
"""Default ceiling of retention spend: it can remove at most half of the churn."""
DEFAULT_HALF_SPEND_SHARE = 0.10
"""Default ``spend_half``: 10% of the yearly margin per customer buys half the gain."""
MAX_HORIZON_YEARS = 100
MAX_DRAWS = 100_000
_PERIODS = (1, 4)
_QUANTILES = (0.1, 0.5, 0.9)
_LN2 = math.log(2.0)


# ----------------------------------------------------------------------------- validation


def _number(owner: str, name: str, value: Any) -> float:
    """``value`` as a finite float, or a ValueError naming the owner and the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    return number


def _at_least(owner: str, name: str, value: Any, low: float) -> float:
    number = _number(owner, name, value)
    if number < low:
        raise ValueError(f"{owner}: {name} must be >= {low:g}, got {number:g}")
    return number


def _share(owner: str, name: str, value: Any) -> float:
    number = _number(owner, name, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(
            f"{owner}: {name} must be a fraction in [0, 1] (0.8 = 80% stay a year), got {number:g}"
        )
    return number


def _count(owner: str, name: str, value: Any) -> int:
    number = _at_least(owner, name, value, 0.0)
    if not number.is_integer():
        raise ValueError(f"{owner}: {name} must be a whole number of customers, got {value!r}")
    return int(number)


# ----------------------------------------------------------------------------- segment


@dataclass(frozen=True)
class Segment:
    """A group of customers today and what they are worth each year.

    Attributes
    ----------
    name
        Segment label shown to users (unique within a projection).
    customers
        Active customers at the start of year 1 (a count, fractional allowed).
    retention
        Share of the customers active at the start of a year still active at its end
        (fraction in [0, 1]), at today's retention spend.
    margin
        Yearly contribution of an active customer (currency): revenue minus direct cost
        minus cost to serve, before acquisition and retention spend. May be negative.
    acquisition_per_year
        New customers acquired at the start of every projected year (count per year).
    acquisition_cost
        Cost of acquiring one new customer (currency per customer).
    revenue
        Optional yearly revenue of an active customer (currency); ``None`` when unknown.
    cost_to_serve
        Yearly cost to serve an active customer (currency), already deducted in
        ``margin``; levers on it move the margin.
    retention_spend
        Today's retention spend per customer per year (currency). Its effect is in
        ``retention``; it only adds cost.
    extra_retention_spend
        Additional retention spend per customer per year (currency); raises retention
        along the response curve (module docstring) and adds cost.
    retention_max
        Ceiling of retention that extra spend can reach (fraction, >= ``retention``);
        ``None`` means ``retention + 0.5 * (1 - retention)``.
    spend_half
        Extra spend per customer per year buying half the possible gain (currency, > 0);
        ``None`` means 10% of ``|margin|`` (no response when the margin is 0).
    retention_curve
        Optional retention by tenure year (index 0 = first year after acquisition, the
        last value holds afterwards), e.g. from a shifted-beta-geometric fit (Fader &
        Hardie 2007). Replaces the flat ``retention`` in the projection; ``retention``
        stays the reference for the posterior and for levers, which shift every entry.
    base_tenure_years
        Tenure index of the current customers on ``retention_curve`` (0 = they follow the
        curve from its start, like a new cohort).
    observed_at_risk, observed_retained
        Observed counts for the Beta posterior of retention: of ``observed_at_risk``
        customers active at the start of a year, ``observed_retained`` were still active
        a year later. Both or neither.
    margin_std
        Standard deviation of the uncertainty of the mean ``margin`` (currency), used in
        Monte Carlo draws.
    """

    name: str
    customers: float
    retention: float
    margin: float
    acquisition_per_year: float = 0.0
    acquisition_cost: float = 0.0
    _: KW_ONLY
    revenue: float | None = None
    cost_to_serve: float = 0.0
    retention_spend: float = 0.0
    extra_retention_spend: float = 0.0
    retention_max: float | None = None
    spend_half: float | None = None
    retention_curve: tuple[float, ...] | None = None
    base_tenure_years: int = 0
    observed_at_risk: int | None = None
    observed_retained: int | None = None
    margin_std: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Segment name must be a non-empty string, got {self.name!r}")
        owner = f"Segment {self.name!r}"
        put = object.__setattr__
        put(self, "customers", _at_least(owner, "customers", self.customers, 0.0))
        put(self, "retention", _share(owner, "retention", self.retention))
        put(self, "margin", _number(owner, "margin", self.margin))
        for name in (
            "acquisition_per_year",
            "acquisition_cost",
            "cost_to_serve",
            "retention_spend",
            "extra_retention_spend",
            "margin_std",
        ):
            put(self, name, _at_least(owner, name, getattr(self, name), 0.0))
        if self.revenue is not None:
            revenue = _number(owner, "revenue", self.revenue)
            put(self, "revenue", revenue)
            direct = revenue - self.margin - self.cost_to_serve
            if direct < -1e-9 * max(1.0, abs(revenue)):
                raise ValueError(
                    f"{owner}: revenue ({revenue:g}) is below margin + cost_to_serve "
                    f"({self.margin + self.cost_to_serve:g}); margin is revenue minus direct "
                    "cost minus cost to serve, so the direct cost would be negative"
                )
        if self.retention_max is not None:
            ceiling = _share(owner, "retention_max", self.retention_max)
            if ceiling < self.retention:
                raise ValueError(
                    f"{owner}: retention_max ({ceiling:g}) is below retention "
                    f"({self.retention:g}); it is the ceiling extra spend can reach"
                )
            put(self, "retention_max", ceiling)
        if self.spend_half is not None:
            half = _number(owner, "spend_half", self.spend_half)
            if half <= 0:
                raise ValueError(f"{owner}: spend_half must be > 0, got {half:g}")
            put(self, "spend_half", half)
        if self.retention_curve is not None:
            if isinstance(self.retention_curve, (str, bytes)) or not isinstance(
                self.retention_curve, Iterable
            ):
                raise ValueError(
                    f"{owner}: retention_curve must be a sequence of fractions, "
                    f"got {self.retention_curve!r}"
                )
            curve = tuple(
                _share(owner, f"retention_curve[{i}]", v)
                for i, v in enumerate(self.retention_curve)
            )
            if not curve:
                raise ValueError(f"{owner}: retention_curve must not be empty")
            put(self, "retention_curve", curve)
        tenure = self.base_tenure_years
        if isinstance(tenure, bool) or not isinstance(tenure, (int, np.integer)) or tenure < 0:
            raise ValueError(f"{owner}: base_tenure_years must be a whole number >= 0")
        put(self, "base_tenure_years", int(tenure))
        at_risk, retained = self.observed_at_risk, self.observed_retained
        if (at_risk is None) != (retained is None):
            raise ValueError(
                f"{owner}: give both observed_at_risk and observed_retained, or neither"
            )
        if at_risk is not None:
            at_risk = _count(owner, "observed_at_risk", at_risk)
            retained = _count(owner, "observed_retained", retained)
            if at_risk < 1:
                raise ValueError(f"{owner}: observed_at_risk must be at least 1")
            if retained > at_risk:
                raise ValueError(
                    f"{owner}: observed_retained ({retained}) exceeds observed_at_risk ({at_risk})"
                )
            put(self, "observed_at_risk", at_risk)
            put(self, "observed_retained", retained)

    @property
    def churn_cut(self) -> float:
        """Largest share of churn that extra spend can remove (fraction)."""
        if self.retention >= 1.0:
            return 0.0
        if self.retention_max is None:
            return DEFAULT_CHURN_CUT
        return (self.retention_max - self.retention) / (1.0 - self.retention)

    @property
    def half_spend(self) -> float:
        """Extra spend per customer per year buying half the gain (currency; inf = none)."""
        if self.spend_half is not None:
            return self.spend_half
        half = DEFAULT_HALF_SPEND_SHARE * abs(self.margin)
        return half if half > 0 else math.inf

    @property
    def effective_retention(self) -> float:
        """Flat retention after the extra spend (fraction)."""
        return float(
            retention_response(
                self.retention,
                self.extra_retention_spend,
                churn_cut=self.churn_cut,
                spend_half=self.half_spend,
            )
        )

    @property
    def direct_cost(self) -> float | None:
        """Yearly direct cost of an active customer's purchases (currency) when known."""
        if self.revenue is None:
            return None
        return self.revenue - self.margin - self.cost_to_serve


def retention_response(
    retention: float | np.ndarray,
    extra_spend: float | np.ndarray,
    *,
    churn_cut: float | np.ndarray = DEFAULT_CHURN_CUT,
    spend_half: float | np.ndarray,
) -> np.ndarray:
    """Retention after ``extra_spend`` per customer per year (Blattberg & Deighton 1996).

    ``r0 + churn_cut * (1 - r0) * (1 - 2 ** (-extra_spend / spend_half))``: concave, with
    diminishing returns, approaching ``r_max = r0 + churn_cut * (1 - r0)``.

    Parameters
    ----------
    retention
        Retention ``r0`` without the extra spend (fraction).
    extra_spend
        Extra spend per customer per year (currency, >= 0).
    churn_cut
        Share of churn the spend can remove at most (fraction).
    spend_half
        Spend per customer per year that buys half the gain (currency, > 0; inf = none).
    """
    r0 = np.asarray(retention, dtype=float)
    gain = -np.expm1(-_LN2 * np.asarray(extra_spend, dtype=float) / spend_half)
    return r0 + np.asarray(churn_cut, dtype=float) * (1.0 - r0) * gain


# ----------------------------------------------------------------------------- levers


_LEVER_LIMITS = {
    "retention_points": (-100.0, 100.0),
    "margin_pct": (-1000.0, 1000.0),
    "cost_to_serve_pct": (-100.0, 1000.0),
    "acquisition_volume_pct": (-100.0, 1000.0),
    "acquisition_cost_pct": (-100.0, 1000.0),
    "extra_retention_spend": (0.0, math.inf),
}


@dataclass(frozen=True)
class Levers:
    """Changes to a segment relative to the baseline (what the sliders set).

    Attributes
    ----------
    retention_points
        Retention change in percentage points (5 = 80% -> 85%); results clipped to [0, 1].
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
        for name, (low, high) in _LEVER_LIMITS.items():
            value = _number("Levers", name, getattr(self, name))
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
            object.__setattr__(self, "horizon_years", _horizon(self.horizon_years))
        if self.discount_rate is not None:
            object.__setattr__(self, "discount_rate", _discount(self.discount_rate))
        if not isinstance(self.description, str):
            raise ValueError(f"Scenario {self.name!r}: description must be text")

    def levers_for(self, segment: str) -> Levers:
        """The levers that apply to ``segment`` (scenario-wide plus segment-specific)."""
        own = dict(self.segment_levers).get(segment)
        if own is None:
            return self.levers
        return Levers(
            **{
                name: min(max(getattr(self.levers, name) + getattr(own, name), low), high)
                for name, (low, high) in _LEVER_LIMITS.items()
            }
        )


def _apply_levers(segment: Segment, levers: Levers) -> Segment:
    if levers.is_zero:
        return segment
    changes: dict[str, Any] = {}
    delta = levers.retention_points / 100.0
    if delta:
        retention = min(max(segment.retention + delta, 0.0), 1.0)
        changes["retention"] = retention
        if segment.retention_curve is not None:
            changes["retention_curve"] = tuple(
                min(max(v + delta, 0.0), 1.0) for v in segment.retention_curve
            )
        if segment.retention_max is not None:
            changes["retention_max"] = max(segment.retention_max, retention)
    margin = segment.margin + abs(segment.margin) * levers.margin_pct / 100.0
    cost_to_serve = segment.cost_to_serve * (1.0 + levers.cost_to_serve_pct / 100.0)
    margin -= cost_to_serve - segment.cost_to_serve
    if margin != segment.margin:
        changes["margin"] = margin
        changes["cost_to_serve"] = cost_to_serve
        if segment.revenue is not None:
            # A margin change is extra revenue at the same costs; a cost change is not.
            changes["revenue"] = segment.revenue + abs(segment.margin) * levers.margin_pct / 100
        if segment.spend_half is None and segment.margin != 0:
            changes["spend_half"] = segment.half_spend  # keep the response curve in place
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
    _check_segments(segments)
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


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Band:
    """P10, P50 and P90 of a Monte Carlo output (same unit as the output)."""

    p10: float
    p50: float
    p90: float

    def contains(self, value: float) -> bool:
        """True when ``value`` lies within [P10, P90]."""
        return self.p10 <= value <= self.p90


@dataclass(frozen=True, eq=False)
class Uncertainty:
    """Monte Carlo bands of a projection (P10/P50/P90 over ``draws`` draws).

    Attributes
    ----------
    draws
        Number of draws.
    equity
        Band of total customer equity (currency).
    equity_draws
        Total customer equity of every draw (currency), shape ``(draws,)``.
    totals
        Columns ``year, metric, p10, p50, p90`` for all segments together; metrics
        ``customers`` (active at year end), ``profit`` and ``discounted_profit``
        (currency), ordered by metric then year.
    by_segment
        Columns ``segment, metric, p10, p50, p90``; metrics ``equity``, ``clv`` and
        ``new_customer_value`` (as in :attr:`SimulationResult.by_segment`).
    segment_names
        Segment names in input order.
    year_draws
        Metric -> array ``(years, draws, segments)`` of every draw, the source of
        :attr:`by_year`.
    """

    draws: int
    equity: Band
    equity_draws: np.ndarray = field(repr=False)
    totals: pl.DataFrame = field(repr=False)
    by_segment: pl.DataFrame = field(repr=False)
    segment_names: tuple[str, ...] = field(repr=False)
    year_draws: Mapping[str, np.ndarray] = field(repr=False)

    @cached_property
    def by_year(self) -> pl.DataFrame:
        """Columns ``year, segment, metric, p10, p50, p90`` per segment (computed on use)."""
        frames = []
        for metric, x in self.year_draws.items():
            q = np.quantile(x, _QUANTILES, axis=1)  # (3, H, S)
            frame = _long({"p10": q[0], "p50": q[1], "p90": q[2]}, self.segment_names)
            frames.append(frame.insert_column(2, pl.lit(metric).alias("metric")))
        return pl.concat(frames)


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Deterministic projection (plus Monte Carlo bands when asked).

    Attributes
    ----------
    customer_equity
        Discounted profit of the current customers and of every customer acquired in the
        horizon, net of acquisition and retention spend (currency).
    by_year
        One row per (year, segment), years ascending, segments in input order. Columns:
        ``year`` (1..H), ``segment``, ``customers`` (active at year end, earning that
        year's margin), ``customers_start`` (active at year start, including the customers
        acquired then; quarterly: at the first quarter's start), ``new_customers``,
        ``revenue`` and ``costs`` (direct cost plus cost to serve; null when the
        segment's revenue is unknown), ``service_costs``,
        ``margin`` (contribution), ``acquisition_spend``, ``retention_spend``, ``profit``
        (margin minus both spends), ``discounted_profit`` (currency; flows of the year).
    totals
        One row per year summed over segments, same columns without ``segment`` plus
        ``cumulative_discounted_profit``.
    by_segment
        One row per segment: ``segment``, ``customers`` (today), ``retention`` (year-1
        retention of current customers after extra spend), ``margin``, ``clv`` (discounted
        profit per current customer over the horizon), ``new_customer_value`` (value of
        one customer acquired at the start of year 1, net of its acquisition cost),
        ``equity_current`` (from current customers), ``equity_new`` (from acquisitions,
        net of their cost) and ``equity``.
    by_quarter
        With ``periods_per_year=4``: ``year, quarter, segment`` and the ``by_year`` columns
        per quarter; otherwise ``None``.
    uncertainty
        Monte Carlo bands when ``draws > 0``; otherwise ``None``.
    """

    customer_equity: float
    by_year: pl.DataFrame = field(repr=False)
    totals: pl.DataFrame = field(repr=False)
    by_segment: pl.DataFrame = field(repr=False)
    horizon_years: int
    discount_rate: float
    periods_per_year: int
    by_quarter: pl.DataFrame | None = field(default=None, repr=False)
    uncertainty: Uncertainty | None = field(default=None, repr=False)

    @property
    def segments(self) -> list[str]:
        """Segment names in input order."""
        return self.by_segment["segment"].to_list()

    def segment_equity(self) -> dict[str, float]:
        """Customer equity per segment (currency)."""
        return dict(zip(self.segments, self.by_segment["equity"].to_list(), strict=True))


# ----------------------------------------------------------------------------- core


def _horizon(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"horizon_years must be a whole number of years, got {value!r}")
    if not 1 <= value <= MAX_HORIZON_YEARS:
        raise ValueError(f"horizon_years must be in 1..{MAX_HORIZON_YEARS}, got {value}")
    return int(value)


def _discount(value: Any) -> float:
    rate = _number("simulate", "discount_rate", value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(
            f"discount_rate must be a yearly fraction in [0, 1] (0.10 = 10%), got {rate:g}"
        )
    return rate


def _check_segments(segments: Sequence[Segment]) -> None:
    if isinstance(segments, Segment) or not isinstance(segments, Sequence):
        raise ValueError("segments must be a list of Segment")
    if not segments:
        raise ValueError("segments must not be empty")
    seen: set[str] = set()
    for s in segments:
        if not isinstance(s, Segment):
            raise ValueError(f"segments must be Segment objects, got {type(s).__name__}")
        if s.name in seen:
            raise ValueError(f"segment names must be unique; {s.name!r} appears twice")
        seen.add(s.name)


@dataclass(frozen=True)
class _Arrays:
    """Inputs of a batch of projections: B variants (draws, lever settings) x S segments."""

    names: tuple[str, ...]
    customers: np.ndarray  # (B, S) active at the start of year 1
    margin: np.ndarray  # (B, S) currency per active customer per year
    revenue: np.ndarray  # (B, S) currency per active customer per year, nan = unknown
    cost_to_serve: np.ndarray  # (B, S)
    acquisition: np.ndarray  # (B, S) customers per year
    acquisition_cost: np.ndarray  # (B, S) currency per customer
    spend: np.ndarray  # (B, S) today's retention spend per customer per year (cost only)
    extra: np.ndarray  # (B, S) extra retention spend per customer per year
    cut: np.ndarray  # (B, S) share of churn extra spend can remove
    half: np.ndarray  # (B, S) extra spend buying half the gain (inf = none)
    r_new: np.ndarray  # (H, B, S) yearly retention by tenure year, before extra spend
    r_base: np.ndarray  # (H, B, S) yearly retention of current customers by year
    discount: np.ndarray  # (B,)


def _curves(segment: Segment, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Yearly retention by tenure (new cohorts) and by projection year (current base)."""
    if segment.retention_curve is None:
        flat = np.full(horizon, segment.retention)
        return flat, flat
    curve = np.asarray(segment.retention_curve)
    last = len(curve) - 1
    years = np.arange(horizon)
    base = curve[np.minimum(years + segment.base_tenure_years, last)]
    return curve[np.minimum(years, last)], base


def _arrays(
    variants: Sequence[Sequence[Segment]], horizon: int, discount: Sequence[float]
) -> _Arrays:
    """Stack B variants of the same segments (same names, same order) into arrays."""
    names = tuple(s.name for s in variants[0])
    scalars = np.array(
        [
            [
                (
                    s.customers,
                    s.margin,
                    math.nan if s.revenue is None else s.revenue,
                    s.cost_to_serve,
                    s.acquisition_per_year,
                    s.acquisition_cost,
                    s.retention_spend,
                    s.extra_retention_spend,
                    s.churn_cut,
                    s.half_spend,
                )
                for s in segs
            ]
            for segs in variants
        ],
        dtype=float,
    )  # (B, S, 10)
    curves = np.array([[_curves(s, horizon) for s in segs] for segs in variants])  # B,S,2,H
    r_new = np.ascontiguousarray(np.moveaxis(curves[:, :, 0], -1, 0))
    r_base = np.ascontiguousarray(np.moveaxis(curves[:, :, 1], -1, 0))
    if np.array_equal(r_new, r_base):
        r_base = r_new  # the base follows the new-cohort curve: _project computes it once
    cols = np.moveaxis(scalars, -1, 0)
    return _Arrays(names, *cols, r_new, r_base, np.asarray(discount, dtype=float))


@dataclass(frozen=True)
class _Flows:
    """A projected batch. Time-first: per-period arrays are (P, B, S), others (B, S)."""

    periods_per_year: int
    r_year1: np.ndarray  # year-1 retention of current customers after extra spend
    start_base: np.ndarray  # (P, B, S) current customers active at each period start
    end_base: np.ndarray  # (P, B, S) ... and at each period end
    start_new: np.ndarray  # (P, B, S) acquired customers active at each period start
    end_new: np.ndarray  # (P, B, S)
    new: np.ndarray  # customers acquired at each period start
    margin: np.ndarray  # per active customer per period (currency)
    spend: np.ndarray  # retention spend per customer per period (currency)
    acquisition_spend: np.ndarray  # per period (currency)
    df_end: np.ndarray  # (P, B, 1) discount factor at each period end
    df_start: np.ndarray  # (P, B, 1) ... and start
    equity_base: np.ndarray
    equity_new: np.ndarray
    new_customer_value: np.ndarray

    @property
    def equity(self) -> np.ndarray:
        return self.equity_base + self.equity_new


def _accumulate(x: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Running product/sum along axis 0 (a short loop beats ``np.cumprod`` here)."""
    out = np.empty_like(x)
    out[0] = x[0]
    for k in range(1, len(x)):
        op(out[k - 1], x[k], out=out[k])
    return out


def _project(a: _Arrays, periods_per_year: int = 1) -> _Flows:
    """Project a batch of segment variants, vectorised over (periods, variants, segments)."""
    f = periods_per_year
    same = a.r_base is a.r_new  # current customers follow the new-cohort curve
    lift = a.cut * -np.expm1(-_LN2 * a.extra / a.half)
    r_new = a.r_new + lift * (1.0 - a.r_new)
    r_base = r_new if same else a.r_base + lift * (1.0 - a.r_base)
    r_year1 = r_base[0]
    if f > 1:
        r_new = np.repeat(r_new, f, axis=0) ** (1.0 / f)
        r_base = r_new if same else np.repeat(r_base, f, axis=0) ** (1.0 / f)
    surv_new = _accumulate(r_new, np.multiply)  # survival after 1..P periods
    surv_base = surv_new if same else _accumulate(r_base, np.multiply)
    cum_new = _accumulate(surv_new, np.add)
    new = a.acquisition / f
    end_base = a.customers * surv_base
    start_base = np.concatenate(
        [np.broadcast_to(a.customers, end_base.shape[1:])[None], end_base[:-1]]
    )
    end_new = new * cum_new
    start_new = new * (1.0 + cum_new - surv_new)
    t_end = np.arange(1, len(r_new) + 1) / f
    log_df = -np.log1p(a.discount)
    df_end = np.exp(np.outer(t_end, log_df))[..., None]
    df_start = np.exp(np.outer(t_end - 1.0 / f, log_df))[..., None]
    margin = a.margin / f
    spend = (a.spend + a.extra) / f
    acq = new * a.acquisition_cost
    earn = df_end * margin  # value of one active customer at a period end
    cost = df_start * spend  # cost of one customer active at a period start
    value_new = (earn * surv_new).sum(axis=0) - cost[0] - (cost[1:] * surv_new[:-1]).sum(axis=0)
    if same:  # every current customer is worth what a new one is, before acquisition
        equity_base = a.customers * value_new
    else:
        equity_base = (earn * end_base).sum(axis=0) - (cost * start_base).sum(axis=0)
    equity_new = (
        (earn * end_new).sum(axis=0) - (cost * start_new).sum(axis=0) - acq * df_start.sum(axis=0)
    )
    return _Flows(
        periods_per_year=f,
        r_year1=r_year1,
        start_base=start_base,
        end_base=end_base,
        start_new=start_new,
        end_new=end_new,
        new=new,
        margin=margin,
        spend=spend,
        acquisition_spend=acq,
        df_end=df_end,
        df_start=df_start,
        equity_base=equity_base,
        equity_new=equity_new,
        new_customer_value=value_new - a.acquisition_cost,
    )


_COLUMNS = (
    "customers",
    "customers_start",
    "new_customers",
    "revenue",
    "costs",
    "service_costs",
    "margin",
    "acquisition_spend",
    "retention_spend",
    "profit",
    "discounted_profit",
)
_STOCKS = {"customers": -1, "customers_start": 0}  # the period of a year a stock is read at


def _by_period(flows: _Flows, a: _Arrays, only: Sequence[str] = _COLUMNS) -> dict:
    """Period columns of a batch, each (P, B, S) (currency or customers)."""
    end = flows.end_base + flows.end_new
    start = flows.start_base + flows.start_new
    margin = flows.margin * end
    spend = flows.spend * start
    acq = np.broadcast_to(flows.acquisition_spend, end.shape)
    f = flows.periods_per_year
    cols = {"customers": end, "customers_start": start, "margin": margin}
    cols["profit"] = margin - spend - acq
    if "discounted_profit" in only:
        cols["discounted_profit"] = margin * flows.df_end - (spend + acq) * flows.df_start
    if "revenue" in only:
        revenue = (a.revenue / f) * end
        cols |= {
            "new_customers": np.broadcast_to(flows.new, end.shape),
            "revenue": revenue,
            "costs": revenue - margin,
            "service_costs": (a.cost_to_serve / f) * end,
            "acquisition_spend": acq,
            "retention_spend": spend,
        }
    return {k: cols[k] for k in only}


def _to_years(columns: dict, periods_per_year: int) -> dict:
    """Aggregate period columns to years: stocks at the year's end/start, flows summed."""
    f = periods_per_year
    if f == 1:
        return columns
    out = {}
    for name, x in columns.items():
        shaped = x.reshape((-1, f, *x.shape[1:]))
        out[name] = shaped[:, _STOCKS[name]] if name in _STOCKS else shaped.sum(axis=1)
    return out


def _long(columns: dict, names: Sequence[str], **time: np.ndarray) -> pl.DataFrame:
    """(T, S) arrays -> rows ordered by time, then segment; ``time`` gives T-long keys."""
    n_seg = len(names)
    n_time = next(iter(columns.values())).shape[0]
    time = time or {"year": np.arange(1, n_time + 1)}
    data: dict[str, Any] = {
        k: pl.Series(k, np.repeat(v, n_seg), dtype=pl.Int64) for k, v in time.items()
    }
    data["segment"] = pl.Series("segment", list(names) * n_time, dtype=pl.String)
    for name, x in columns.items():
        data[name] = pl.Series(name, np.ravel(x), nan_to_null=True)
    return pl.DataFrame(data)


def _year_index(horizon: int) -> pl.Series:
    return pl.Series("year", np.arange(1, horizon + 1), dtype=pl.Int64)


def _per_customer(total: np.ndarray, customers: np.ndarray) -> np.ndarray:
    return np.divide(total, customers, out=np.full(np.shape(total), np.nan), where=customers > 0)


def _frames(
    flows: _Flows, a: _Arrays, horizon: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """Frames of a single-variant batch: by year, totals, by segment, by quarter."""
    f = flows.periods_per_year
    periods = {k: v[:, 0] for k, v in _by_period(flows, a).items()}  # (P, S)
    years = _to_years(periods, f)
    by_year = _long(years, a.names)
    totals = pl.DataFrame(
        [_year_index(horizon)]
        + [pl.Series(k, v.sum(axis=1), nan_to_null=True) for k, v in years.items()]
    ).with_columns(pl.col("discounted_profit").cum_sum().alias("cumulative_discounted_profit"))
    by_quarter = None
    if f > 1:
        year_no = np.arange(1, horizon + 1)
        by_quarter = _long(
            periods,
            a.names,
            year=np.repeat(year_no, f),
            quarter=np.tile(np.arange(1, f + 1), horizon),
        )
    by_segment = pl.DataFrame(
        [
            pl.Series("segment", list(a.names), dtype=pl.String),
            pl.Series("customers", a.customers[0]),
            pl.Series("retention", flows.r_year1[0]),
            pl.Series("margin", a.margin[0]),
            pl.Series("clv", _per_customer(flows.equity_base[0], a.customers[0]), nan_to_null=True),
            pl.Series("new_customer_value", flows.new_customer_value[0]),
            pl.Series("equity_current", flows.equity_base[0]),
            pl.Series("equity_new", flows.equity_new[0]),
            pl.Series("equity", flows.equity[0]),
        ]
    )
    return by_year, totals, by_segment, by_quarter


def _draw_arrays(
    segments: Sequence[Segment],
    arrays: _Arrays,
    draws: int,
    rng: np.random.Generator,
    prior: tuple[float, float],
) -> _Arrays:
    """Monte Carlo variants of a single-variant batch (draws x segments)."""
    from scipy.special import betaincinv

    n = len(segments)
    has_counts = np.array([s.observed_at_risk is not None for s in segments])
    retained = np.array([s.observed_retained or 0 for s in segments], dtype=float)
    at_risk = np.array([s.observed_at_risk or 0 for s in segments], dtype=float)
    a = prior[0] + retained
    b = prior[1] + at_risk - retained
    p = rng.beta(a, b, size=(draws, n))
    shift = np.where(has_counts, p - betaincinv(a, b, 0.5), 0.0)
    z = rng.standard_normal((draws, n))
    std = np.array([s.margin_std for s in segments])
    shape = (draws, n)
    r_new = np.clip(arrays.r_new + shift, 0.0, 1.0)
    return replace(
        arrays,
        customers=np.broadcast_to(arrays.customers, shape),
        margin=arrays.margin + std * z,
        revenue=np.broadcast_to(arrays.revenue, shape),
        cost_to_serve=np.broadcast_to(arrays.cost_to_serve, shape),
        r_new=r_new,
        r_base=r_new if arrays.r_base is arrays.r_new else np.clip(arrays.r_base + shift, 0, 1),
        discount=np.broadcast_to(arrays.discount, (draws,)),
    )


_BAND_METRICS = ("customers", "profit", "discounted_profit")


def _uncertainty(flows: _Flows, a: _Arrays, horizon: int, draws: int) -> Uncertainty:
    """Quantiles of the headline outputs over the draws, in one pass."""
    n_seg = len(a.names)
    periods = _by_period(flows, a, _BAND_METRICS)
    years = _to_years(periods, flows.periods_per_year)  # metric -> (H, D, S)
    equity = flows.equity
    seg_metrics = {
        "equity": equity,
        "clv": _per_customer(flows.equity_base, a.customers),
        "new_customer_value": flows.new_customer_value,
    }
    equity_draws = equity.sum(axis=1)
    blocks = [equity_draws[:, None], *seg_metrics.values()]
    blocks += [years[m].sum(axis=2).T for m in _BAND_METRICS]
    q = np.quantile(np.concatenate(blocks, axis=1), _QUANTILES, axis=0)  # (3, K)
    cut = 1 + n_seg * len(seg_metrics)
    segment = pl.Series("segment", list(a.names) * len(seg_metrics), dtype=pl.String)
    by_segment = pl.DataFrame(
        [
            segment,
            pl.Series("metric", [m for m in seg_metrics for _ in range(n_seg)]),
            *(pl.Series(f"p{round(p * 100)}", q[i, 1:cut], nan_to_null=True)
              for i, p in enumerate(_QUANTILES)),
        ]
    )  # fmt: skip
    totals = pl.DataFrame(
        [
            pl.Series("year", np.tile(np.arange(1, horizon + 1), len(_BAND_METRICS))),
            pl.Series("metric", [m for m in _BAND_METRICS for _ in range(horizon)]),
            *(pl.Series(f"p{round(p * 100)}", q[i, cut:]) for i, p in enumerate(_QUANTILES)),
        ]
    )
    return Uncertainty(
        draws=draws,
        equity=Band(float(q[0, 0]), float(q[1, 0]), float(q[2, 0])),
        equity_draws=equity_draws,
        totals=totals,
        by_segment=by_segment,
        segment_names=a.names,
        year_draws=years,
    )


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def simulate(
    segments: Sequence[Segment],
    *,
    horizon_years: int,
    discount_rate: float,
    draws: int = 0,
    seed: int | np.random.Generator | None = 0,
    periods_per_year: int = 1,
    retention_prior: tuple[float, float] = (1.0, 1.0),
) -> SimulationResult:
    """Project segments year by year and value them as customer equity.

    Timing, the retention response and the uncertainty model are in the module
    docstring (customer equity: Blattberg & Deighton 1996; retention-based CLV
    ``m * r / (1 + d - r)``: Gupta & Lehmann 2003).

    Parameters
    ----------
    segments
        The segments (unique names).
    horizon_years
        Years projected (1..100).
    discount_rate
        Yearly discount rate (fraction, 0.10 = 10%).
    draws
        Monte Carlo draws for P10/P50/P90 bands (0 = deterministic only).
    seed
        Seed or ``np.random.Generator`` of the draws (the same seed gives the same draws).
    periods_per_year
        1 for a yearly projection, 4 for quarters (also returned in ``by_quarter``).
    retention_prior
        ``(a0, b0)`` of the Beta prior of retention (default uniform ``(1, 1)``).

    Returns
    -------
    SimulationResult
        Customer equity (currency), frames by year, by segment and in total, and the
        Monte Carlo bands when ``draws > 0``.

    Raises
    ------
    ValueError
        Bad segments list or arguments (segment fields are checked by :class:`Segment`).
    """
    _check_segments(segments)
    horizon = _horizon(horizon_years)
    rate = _discount(discount_rate)
    if periods_per_year not in _PERIODS:
        raise ValueError(f"periods_per_year must be 1 or 4, got {periods_per_year!r}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)):
        raise ValueError(f"draws must be a whole number, got {draws!r}")
    if not 0 <= draws <= MAX_DRAWS:
        raise ValueError(f"draws must be in 0..{MAX_DRAWS}, got {draws}")
    a0 = _number("simulate", "retention_prior[0]", retention_prior[0])
    b0 = _number("simulate", "retention_prior[1]", retention_prior[1])
    if a0 <= 0 or b0 <= 0:
        raise ValueError(f"retention_prior must be two numbers > 0, got {retention_prior!r}")
    arrays = _arrays([segments], horizon, [rate])
    flows = _project(arrays, periods_per_year)
    by_year, totals, by_segment, by_quarter = _frames(flows, arrays, horizon)
    uncertainty = None
    if draws:
        mc = _draw_arrays(segments, arrays, int(draws), _rng(seed), (a0, b0))
        uncertainty = _uncertainty(_project(mc, periods_per_year), mc, horizon, int(draws))
    return SimulationResult(
        customer_equity=float(flows.equity.sum()),
        by_year=by_year,
        totals=totals,
        by_segment=by_segment,
        horizon_years=horizon,
        discount_rate=rate,
        periods_per_year=periods_per_year,
        by_quarter=by_quarter,
        uncertainty=uncertainty,
    )


def run_scenario(
    baseline: Sequence[Segment],
    scenario: Scenario,
    *,
    horizon_years: int,
    discount_rate: float,
    draws: int = 0,
    seed: int | np.random.Generator | None = 0,
    periods_per_year: int = 1,
    strict: bool = True,
) -> SimulationResult:
    """:func:`simulate` the baseline with ``scenario`` applied (and its overrides).

    ``horizon_years`` and ``discount_rate`` are used unless the scenario overrides them.
    """
    return simulate(
        apply_scenario(baseline, scenario, strict=strict),
        horizon_years=scenario.horizon_years or horizon_years,
        discount_rate=(discount_rate if scenario.discount_rate is None else scenario.discount_rate),
        draws=draws,
        seed=seed,
        periods_per_year=periods_per_year,
    )


def equity_by_segment(
    variants: Sequence[Sequence[Segment]],
    *,
    horizon_years: int,
    discount_rate: float | Sequence[float],
    periods_per_year: int = 1,
) -> np.ndarray:
    """Customer equity per segment of many variants of the same segments, in one pass.

    Parameters
    ----------
    variants
        B lists of segments with the same names in the same order.
    horizon_years, periods_per_year
        As in :func:`simulate`.
    discount_rate
        One yearly rate for all variants or one per variant (fraction).

    Returns
    -------
    np.ndarray
        Shape ``(B, S)``: equity of each segment in each variant (currency).
    """
    if not variants:
        raise ValueError("variants must not be empty")
    names = None
    for segs in variants:
        _check_segments(segs)
        current = [s.name for s in segs]
        if names is not None and current != names:
            raise ValueError("every variant must have the same segments in the same order")
        names = current
    horizon = _horizon(horizon_years)
    rates = np.broadcast_to(
        np.array([_discount(r) for r in np.atleast_1d(discount_rate)]), (len(variants),)
    )
    return _project(_arrays(variants, horizon, rates), periods_per_year).equity


# ----------------------------------------------------------------------------- +5 points


@dataclass(frozen=True)
class RetentionUplift:
    """What keeping ``points`` more customers in every 100 each year is worth.

    Attributes
    ----------
    points
        Retention change in percentage points, in every segment.
    equity_before, equity_after
        Customer equity without and with the change (currency).
    """

    points: float
    equity_before: float
    equity_after: float

    @property
    def change(self) -> float:
        """Equity gained (currency)."""
        return self.equity_after - self.equity_before

    @property
    def change_share(self) -> float | None:
        """Equity gained as a fraction of the equity before (None when that is <= 0)."""
        if self.equity_before <= 0:
            return None
        return self.change / self.equity_before


def retention_uplift(
    segments: Sequence[Segment],
    *,
    points: float = 5.0,
    horizon_years: int,
    discount_rate: float,
    periods_per_year: int = 1,
) -> RetentionUplift:
    """Customer equity when every segment keeps ``points`` more customers in 100 a year.

    The executive question behind Reichheld & Sasser (1990): what is +5 points of
    retention worth here? Retention is clipped at 100%.
    """
    after = apply_scenario(segments, Levers(retention_points=points))
    equity = equity_by_segment(
        [segments, after],
        horizon_years=horizon_years,
        discount_rate=discount_rate,
        periods_per_year=periods_per_year,
    ).sum(axis=1)
    return RetentionUplift(float(points), float(equity[0]), float(equity[1]))


# ----------------------------------------------------------------------------- cards


def scenario_kpis(baseline: SimulationResult, scenario: SimulationResult) -> tuple:
    """KPI cards of a scenario against its baseline (the What-if page's cards).

    Returns :class:`crm_core.overview.Kpi` objects whose ``value`` is the scenario's and
    ``previous`` the baseline's (so ``delta`` is the change the scenario makes), in order:
    ``equity`` (customer equity), ``equity_current`` (the part from today's customers),
    ``profit`` (undiscounted profit over the horizon), ``customers_end`` (active customers
    at the end of the horizon, rounded to whole customers), then ``clv:<segment>`` per
    segment (discounted profit per current customer over the horizon). ``history`` holds
    the scenario's yearly path where one exists (cumulative discounted profit, profit,
    customers).
    """
    from crm_core.metrics.registry import Kpi

    if baseline.segments != scenario.segments:
        raise ValueError("baseline and scenario must have the same segments")
    horizon = scenario.horizon_years
    base_t, scen_t = baseline.totals, scenario.totals
    base_s, scen_s = baseline.by_segment, scenario.by_segment

    def path(column: str) -> tuple[float, ...]:
        return tuple(float(v) for v in scen_t[column])

    kpis = [
        Kpi(
            "equity",
            "Customer equity, with new customers",
            scenario.customer_equity,
            baseline.customer_equity,
            "money",
            f"Discounted profit of today's customers and of those acquired over the next "
            f"{horizon} years, net of acquisition and retention spend. Sparkline: "
            "cumulative discounted profit by year.",
            history=path("cumulative_discounted_profit"),
        ),
        Kpi(
            "equity_current",
            "Value of today's customers",
            float(scen_s["equity_current"].sum()),
            float(base_s["equity_current"].sum()),
            "money",
            f"The part of customer equity from today's active customers over {horizon} years, "
            "projected with each segment's observed retention rate. The Executive overview "
            "values the same customers with the fitted CLV model (purchase-level, shorter "
            "horizon), so the two figures differ by their model, not by their data.",
        ),
        Kpi(
            "profit",
            f"Profit over {horizon} years",
            float(scen_t["profit"].sum()),
            float(base_t["profit"].sum()),
            "money",
            "Margin of active customers minus acquisition and retention spend, summed over "
            "the horizon without discounting. Sparkline: profit by year.",
            history=path("profit"),
        ),
        Kpi(
            "customers_end",
            f"Customers in year {horizon}",
            float(round(scen_t["customers"][-1])),
            float(round(base_t["customers"][-1])),
            "count",
            "Active customers at the end of the horizon, today's and new ones. Sparkline: "
            "active customers at each year end.",
            history=path("customers"),
        ),
    ]
    for row, before in zip(scen_s.iter_rows(named=True), base_s.iter_rows(named=True), strict=True):
        kpis.append(
            Kpi(
                f"clv:{row['segment']}",
                f"CLV · {row['segment']}",
                row["clv"],
                before["clv"],
                "money",
                f"Discounted profit of one of today's customers in {row['segment']} over "
                f"{horizon} years, net of retention spend.",
            )
        )
    return tuple(kpis)


def scenario_table(results: Mapping[str, SimulationResult]) -> pl.DataFrame:
    """One row per result (the reference first): ``scenario``, ``customer_equity``,
    ``equity_current``, ``profit`` (undiscounted, over the horizon), ``customers_end``,
    ``equity_p10``/``equity_p90`` (null without draws) and ``equity_change`` (against the
    first row; currency)."""
    if not results:
        raise ValueError("results must not be empty")
    rows = []
    for name, r in results.items():
        band = r.uncertainty.equity if r.uncertainty is not None else None
        rows.append(
            {
                "scenario": name,
                "customer_equity": r.customer_equity,
                "equity_current": float(r.by_segment["equity_current"].sum()),
                "profit": float(r.totals["profit"].sum()),
                "customers_end": float(r.totals["customers"][-1]),
                "equity_p10": None if band is None else band.p10,
                "equity_p90": None if band is None else band.p90,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "customer_equity": pl.Float64,
            "equity_current": pl.Float64,
            "profit": pl.Float64,
            "customers_end": pl.Float64,
            "equity_p10": pl.Float64,
            "equity_p90": pl.Float64,
        },
    )
    return frame.with_columns(
        (pl.col("customer_equity") - pl.col("customer_equity").first()).alias("equity_change")
    )
