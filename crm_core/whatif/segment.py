"""A :class:`Segment`: a group of customers today and what they are worth each year.

The projection that uses it is described in :mod:`crm_core.whatif.engine`; the response of
retention to extra spend (:func:`retention_response`) follows Blattberg & Deighton (1996,
"Manage marketing by the customer equity test", HBR)::

    r(s) = r0 + (r_max - r0) * (1 - exp(-ln 2 * s / s_half))
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np

from crm_core.whatif.checks import at_least, count, number, share

__all__ = [
    "DEFAULT_CHURN_CUT",
    "DEFAULT_HALF_SPEND_SHARE",
    "Segment",
    "check_segments",
    "retention_response",
]

DEFAULT_CHURN_CUT = 0.5
"""Default ceiling of retention spend: it can remove at most half of the churn."""
DEFAULT_HALF_SPEND_SHARE = 0.10
"""Default ``spend_half``: 10% of the yearly margin per customer buys half the gain."""
_LN2 = math.log(2.0)
_NON_NEGATIVE = (
    "acquisition_per_year",
    "acquisition_cost",
    "cost_to_serve",
    "retention_spend",
    "extra_retention_spend",
    "margin_std",
    "reactivations_per_year",
)


def _curve(owner: str, name: str, values: Any) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"{owner}: {name} must be a sequence of fractions, got {values!r}")
    curve = tuple(share(owner, f"{name}[{i}]", v) for i, v in enumerate(values))
    if not curve:
        raise ValueError(f"{owner}: {name} must not be empty")
    return curve


def _direct_cost_ok(owner: str, what: str, revenue: float, margin: float, serve: float) -> None:
    if revenue - margin - serve < -1e-9 * max(1.0, abs(revenue)):
        raise ValueError(
            f"{owner}: {what}revenue ({revenue:g}) is below margin + cost_to_serve "
            f"({margin + serve:g}); margin is revenue minus direct cost minus cost to serve, "
            "so the direct cost would be negative"
        )


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
        Yearly contribution of an active customer (currency), earned at the year end by
        those still active: revenue minus direct cost minus cost to serve, before
        acquisition and retention spend. May be negative.
    acquisition_per_year
        New customers acquired in every projected year (count per year).
    acquisition_cost
        Cost of acquiring one new customer (currency per customer).
    revenue
        Optional yearly revenue of an active customer (currency); ``None`` when unknown.
    cost_to_serve
        Yearly cost to serve an active customer (currency), already deducted in
        ``margin``; levers on it move the margin.
    new_survival
        Share of a year's new customers still active at the end of that year (their
        first-year survival, fraction). ``None``: they survive like the base, with
        ``retention`` (or ``retention_curve[0]``).
    new_margin, new_revenue, new_cost_to_serve
        Contribution, revenue and cost to serve, over their first (part) year, of a new
        customer still active at the end of the year they were won in (currency per
        customer). ``None``: ``margin``, ``revenue``, ``cost_to_serve``. From their second
        year on, new customers earn ``margin``.
    reactivations_per_year
        Lapsed customers who become active again each year (count per year), counted at
        each year end; from then on they stay, earn and leave like the base.
    retention_spend
        Today's retention spend per customer per year (currency). Its effect is in
        ``retention``; it only adds cost.
    extra_retention_spend
        Additional retention spend per customer per year (currency); raises retention
        along the response curve (:func:`retention_response`) and adds cost.
    retention_max
        Ceiling of retention that extra spend can reach (fraction, >= ``retention``);
        ``None`` means ``retention + 0.5 * (1 - retention)``.
    spend_half
        Extra spend per customer per year buying half the possible gain (currency, > 0);
        ``None`` means 10% of ``|margin|`` (no response when the margin is 0).
    retention_curve
        Optional retention of new customers by tenure year (index 0 = the year they were
        won in, replaced by ``new_survival`` when given; the last value holds afterwards),
        e.g. from a shifted-beta-geometric fit (Fader & Hardie 2007). Levers shift every
        entry.
    base_tenure_years
        Without ``base_retention_curve``: the current customers follow ``retention_curve``
        from this index (0 = like a new cohort).
    base_retention_curve
        Optional retention of today's customers by projection year (index 0 = year 1; the
        last value holds afterwards). Replaces ``retention`` (and ``retention_curve``) for
        them; ``retention`` stays the reference for levers and the posterior.
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
    new_survival: float | None = None
    new_margin: float | None = None
    new_revenue: float | None = None
    new_cost_to_serve: float | None = None
    reactivations_per_year: float = 0.0
    retention_spend: float = 0.0
    extra_retention_spend: float = 0.0
    retention_max: float | None = None
    spend_half: float | None = None
    retention_curve: tuple[float, ...] | None = None
    base_tenure_years: int = 0
    base_retention_curve: tuple[float, ...] | None = None
    observed_at_risk: int | None = None
    observed_retained: int | None = None
    margin_std: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Segment name must be a non-empty string, got {self.name!r}")
        owner = f"Segment {self.name!r}"
        put = object.__setattr__
        put(self, "customers", at_least(owner, "customers", self.customers, 0.0))
        put(self, "retention", share(owner, "retention", self.retention))
        put(self, "margin", number(owner, "margin", self.margin))
        for name in _NON_NEGATIVE:
            put(self, name, at_least(owner, name, getattr(self, name), 0.0))
        if self.new_survival is not None:
            put(self, "new_survival", share(owner, "new_survival", self.new_survival))
        if self.new_margin is not None:
            put(self, "new_margin", number(owner, "new_margin", self.new_margin))
        if self.new_cost_to_serve is not None:
            serve = at_least(owner, "new_cost_to_serve", self.new_cost_to_serve, 0.0)
            put(self, "new_cost_to_serve", serve)
        if self.revenue is not None:
            put(self, "revenue", number(owner, "revenue", self.revenue))
            _direct_cost_ok(owner, "", self.revenue, self.margin, self.cost_to_serve)
        if self.new_revenue is not None:
            put(self, "new_revenue", number(owner, "new_revenue", self.new_revenue))
            _direct_cost_ok(
                owner,
                "first-year ",
                self.new_revenue,
                self.first_year_margin,
                self.first_year_cost_to_serve,
            )
        if self.retention_max is not None:
            ceiling = share(owner, "retention_max", self.retention_max)
            if ceiling < self.retention:
                raise ValueError(
                    f"{owner}: retention_max ({ceiling:g}) is below retention "
                    f"({self.retention:g}); it is the ceiling extra spend can reach"
                )
            put(self, "retention_max", ceiling)
        if self.spend_half is not None:
            half = number(owner, "spend_half", self.spend_half)
            if half <= 0:
                raise ValueError(f"{owner}: spend_half must be > 0, got {half:g}")
            put(self, "spend_half", half)
        for name in ("retention_curve", "base_retention_curve"):
            if getattr(self, name) is not None:
                put(self, name, _curve(owner, name, getattr(self, name)))
        tenure = self.base_tenure_years
        if isinstance(tenure, bool) or not isinstance(tenure, (int, np.integer)) or tenure < 0:
            raise ValueError(f"{owner}: base_tenure_years must be a whole number >= 0")
        put(self, "base_tenure_years", int(tenure))
        self._check_counts(owner)

    def _check_counts(self, owner: str) -> None:
        at_risk, retained = self.observed_at_risk, self.observed_retained
        if (at_risk is None) != (retained is None):
            raise ValueError(
                f"{owner}: give both observed_at_risk and observed_retained, or neither"
            )
        if at_risk is None:
            return
        at_risk = count(owner, "observed_at_risk", at_risk)
        retained = count(owner, "observed_retained", retained)
        if at_risk < 1:
            raise ValueError(f"{owner}: observed_at_risk must be at least 1")
        if retained > at_risk:
            raise ValueError(
                f"{owner}: observed_retained ({retained}) exceeds observed_at_risk ({at_risk})"
            )
        object.__setattr__(self, "observed_at_risk", at_risk)
        object.__setattr__(self, "observed_retained", retained)

    @property
    def first_year_margin(self) -> float:
        """Margin of a new customer active at the end of its first year (currency)."""
        return self.margin if self.new_margin is None else self.new_margin

    @property
    def first_year_cost_to_serve(self) -> float:
        """Cost to serve of a new customer over its first year (currency)."""
        return self.cost_to_serve if self.new_cost_to_serve is None else self.new_cost_to_serve

    @property
    def first_year_revenue(self) -> float | None:
        """Revenue of a new customer over its first year (currency), when known."""
        return self.revenue if self.new_revenue is None else self.new_revenue

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


def check_segments(segments: Sequence[Segment]) -> None:
    """A non-empty list of :class:`Segment` with unique names (else ``ValueError``)."""
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
