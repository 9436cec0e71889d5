"""The What-if baseline: today's segments, measured on the customer ledger, for the engine.

:func:`baseline_segments` turns the ledger at a period end ``t`` (the as-of date, or a year
earlier for the backtest) into the :class:`~crm_core.whatif.segment.Segment` list that
:func:`~crm_core.whatif.engine.simulate` projects, one segment per profit tier (the
default), acquisition channel or region (:mod:`crm_core.whatif.labels`), with what was
observed per segment in :attr:`Baseline.table`.

What is observed (per-customer facts: :mod:`crm_core.whatif.facts`; the Executive
overview's definitions, so the segments add up to its figures):

* **customers** - active at ``t`` by the one activity rule (the overview's active
  customers); **observed retention** - of those active a year before ``t`` (in the
  segment they were in then), the share active at ``t`` (its annual retention);
* **margin** - contribution (revenue - direct cost - cost to serve) of the twelve months to
  ``t`` per active customer (its margin per active customer);
* **new customers** - acquired in those twelve months, and their acquisition cost (its new
  customers and CAC); **first-year survival** - the share of them still active at ``t``;
* **reactivated** - active at ``t``, inactive a year earlier, acquired before the year.

So ``active(t) = active(t - 1y) x retention + new x first-year survival + reactivated``
exactly, and the projection repeats that year after year: today's customers leave at the
observed retention, new customers enter through their first-year survival (nearly all of
a retailer's new customers are still active at the end of their first year, because a
purchase keeps a customer active for a year), lapsed customers come back at the observed
rate. The money is split the same way: today's continuing customers earn the margin of
last year's continuing ones (their contribution over those still active), new ones the
first-year margin of last year's new customers, so the two add up to the observed
contribution. New customers a year grow once by the observed change on the year before
(when two years are observed, clipped to -50%..+100%): the pace at which the business now
acquires, held from then on.

Contractual businesses: with the fitted sBG model (:mod:`crm_core.whatif.tenure`), each
segment's observed retention is moved by the change in tenure: its churn is scaled by the
model's churn of today's customers over that of last year's (younger) ones, so a segment
keeps its own level while the base ages; without a fit, the observed rate. With
``retention_curve=True`` later years follow the model's curve too.

Tiers are measured at each date: today's tier counts a customer today and places their
money and their acquisition; retention is measured on last year's tiers. Each segment is
projected on its own (no movement between segments).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from crm_core.clv.fitted import FittedModels, fit_models
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.snapshot import Snapshot
from crm_core.errors import DataError, NotEnoughData
from crm_core.whatif.baseline_table import (
    CODE,
    OBSERVED,
    SEGMENT,
    SegmentTotals,
    measure_segments,
    segment_rows,
)
from crm_core.whatif.facts import customer_facts, history_reaches
from crm_core.whatif.labels import DEFAULT_CUTOFFS, SEGMENTATIONS, validate_cutoffs
from crm_core.whatif.levers import Levers, Scenario
from crm_core.whatif.segment import Segment
from crm_core.whatif.tenure import tenure_retention

__all__ = [
    "DEFAULT_HORIZON_YEARS",
    "SEGMENTATIONS",
    "Baseline",
    "baseline_segments",
]

DEFAULT_HORIZON_YEARS = 10
"""Projection horizon when the manifest gives none (``"horizon_years"`` in the manifest)."""


@dataclass(frozen=True)
class Baseline:
    """The segments of a ledger at one period end and how they were measured.

    Attributes
    ----------
    segments
        One :class:`~crm_core.whatif.segment.Segment` per row of ``table``, same order.
    table
        What was observed per segment (:mod:`crm_core.whatif.baseline_table`).
    by
        Segmentation key (see :data:`SEGMENTATIONS`).
    as_of, period
        The date the baseline describes and its ledger period (0 = the ledger's as-of).
    currency, business_model, company, contractual
        From the manifest.
    horizon_years, discount_rate
        Projection defaults: the manifest's ``horizon_years`` (else
        :data:`DEFAULT_HORIZON_YEARS`) and ``discount_rate``.
    totals
        Company totals (:class:`~crm_core.whatif.baseline_table.SegmentTotals`): active
        customers, a year ago, retained, contribution, new customers, ...
    acquisition_growth
        Yearly change of new customers applied once (fraction; 0 when not observed).
    growth_observed
        Whether two years of acquisitions were observed.
    retention_model
        ``"sBG"`` when the projection's retention comes from the fitted contract model,
        else ``"observed"``.
    retention_curve
        Whether the segments carry tenure curves (contractual, with the model).
    dropped
        Segments with nothing to project (no active, new or returning customer) and the
        customers active a year ago who were in them.
    """

    segments: tuple[Segment, ...]
    table: pl.DataFrame = field(repr=False)
    by: str
    as_of: date
    period: int
    currency: str
    business_model: str
    company: str
    contractual: bool
    horizon_years: int
    discount_rate: float
    totals: SegmentTotals
    acquisition_growth: float = 0.0
    growth_observed: bool = False
    retention_model: str = OBSERVED
    retention_curve: bool = False
    dropped: tuple[tuple[str, int], ...] = ()

    @property
    def customers(self) -> int:
        """Active customers at the date (the overview's active customers)."""
        return self.totals.customers

    @property
    def at_risk(self) -> int:
        """Customers active a year before the date."""
        return self.totals.at_risk

    @property
    def retained(self) -> int:
        """Of those, still active at the date."""
        return self.totals.retained

    @property
    def company_retention(self) -> float:
        """Observed annual retention: retained / active a year ago (fraction)."""
        return self.totals.retained / self.totals.at_risk

    @property
    def company_margin(self) -> float:
        """Contribution of the twelve months per active customer (currency)."""
        return self.totals.margin

    @property
    def names(self) -> list[str]:
        """Segment names in order."""
        return [s.name for s in self.segments]

    @property
    def codes(self) -> dict[str, str]:
        """Segment name -> short URL-safe code (``"A"``, ``"paid_search"``)."""
        return dict(zip(self.table[SEGMENT], self.table[CODE], strict=True))

    def segment(self, name: str) -> Segment:
        """The segment called ``name`` (``KeyError`` if there is none)."""
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    def row(self, name: str) -> dict:
        """The table row of segment ``name`` (``KeyError`` if there is none)."""
        rows = self.table.filter(pl.col(SEGMENT) == name)
        if rows.is_empty():
            raise KeyError(name)
        return rows.row(0, named=True)

    def scenario(
        self,
        retention: Mapping[str, float] | None = None,
        levers: Levers | None = None,
        *,
        name: str = "Scenario",
        horizon_years: int | None = None,
        discount_rate: float | None = None,
        description: str = "",
    ) -> Scenario:
        """A scenario setting some segments' retention to given values.

        Parameters
        ----------
        retention
            Segment name -> target annual retention (fraction); stored as the change in
            points from the baseline's retention, so the scenario stays relative to a
            baseline (and can be applied to a later snapshot).
        levers
            Levers applied to every segment.
        name, horizon_years, discount_rate, description
            As in :class:`~crm_core.whatif.levers.Scenario`.
        """
        per_segment = {}
        for segment_name, target in (retention or {}).items():
            points = (float(target) - self.segment(segment_name).retention) * 100.0
            if abs(points) > 1e-9:
                per_segment[segment_name] = Levers(retention_points=points)
        return Scenario(
            name=name,
            levers=levers or Levers(),
            segment_levers=per_segment,
            horizon_years=horizon_years,
            discount_rate=discount_rate,
            description=description,
        )

    def retention_targets(self, scenario: Scenario) -> dict[str, float]:
        """Annual retention per segment under ``scenario`` (fractions, clipped to [0, 1]).

        Raises ``ValueError`` when the scenario names segments this baseline lacks.
        """
        known = set(self.names)
        unknown = sorted(n for n, _ in scenario.segment_levers if n not in known)
        if unknown:
            raise ValueError(
                f"Scenario {scenario.name!r} has levers for segments {unknown} that this "
                f"segmentation does not have ({', '.join(self.names)})"
            )
        return {
            s.name: min(max(s.retention + scenario.levers_for(s.name).retention_points / 100, 0), 1)
            for s in self.segments
        }


def _code(name: str, taken: set[str]) -> str:
    """Short URL-safe id of a segment name: ``"Paid search" -> "paid_search"``."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:24].strip("_") or "seg"
    code, i = base, 2
    while code in taken:
        code, i = f"{base}{i}", i + 1
    taken.add(code)
    return code


def _horizon_default(snapshot: Snapshot) -> int:
    value = snapshot.manifest.extra.get("horizon_years")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100:
        return value
    return DEFAULT_HORIZON_YEARS


def _source(
    source: Ledger | Snapshot, models: FittedModels | None, period: int
) -> tuple[Ledger, FittedModels | None]:
    """The ledger (and, for a snapshot of contracts, the fit) of ``source``."""
    if isinstance(source, Ledger):
        return source, models
    if not isinstance(source, Snapshot):
        raise ValueError(f"source must be a Ledger or a Snapshot, got {type(source).__name__}")
    ledger = build_ledger(source)
    if models is None and ledger.contractual and period < ledger.periods:
        try:
            models = fit_models(ledger, period)
        except DataError:
            models = None
    return ledger, models


def baseline_segments(
    source: Ledger | Snapshot,
    *,
    by: str = "tier",
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    retention_curve: bool = False,
    models: FittedModels | None = None,
    period: int = 0,
    facts: pl.DataFrame | None = None,
    labels: Mapping[int, pl.DataFrame] | None = None,
) -> Baseline:
    """Measure the segments of a ledger at a period end (module docstring).

    Parameters
    ----------
    source
        The customer ledger (the app passes its shared one), or a snapshot (the CLI and
        tests: its ledger is built, and for contracts the sBG model fitted, here).
    by
        ``"tier"`` (ABC profit tiers), ``"channel"`` (acquisition channel) or ``"region"``.
    cutoffs
        Tier shares (A, B, C) as fractions summing to 1; used with ``by="tier"``.
    retention_curve
        Later years follow the sBG retention curve by tenure (contractual, with a fit).
    models
        The fitted model set at ``period`` (contractual: the sBG retention by tenure);
        ``None`` uses the observed retention.
    period
        Ledger period whose end the baseline describes (0: the as-of date; a year's
        periods for the backtest).
    facts
        :func:`~crm_core.whatif.facts.customer_facts` of the ledger covering ``period``
        (computed when not given).
    labels
        :func:`~crm_core.whatif.labels.label_frames` of ``by`` at ``period`` and a year
        earlier (computed when not given).

    Raises
    ------
    ValueError
        Unknown ``by``, bad cut-offs, a curve asked for a non-contractual ledger.
    NotEnoughData
        No customer active a year before the date (retention cannot be observed), or
        nothing to project.
    """
    if by not in SEGMENTATIONS:
        raise ValueError(f"by must be one of {', '.join(SEGMENTATIONS)}, got {by!r}")
    cutoffs = validate_cutoffs(cutoffs)
    ledger, models = _source(source, models, period)
    if retention_curve and not ledger.contractual:
        raise ValueError(
            "a tenure-dependent retention curve needs contracts (a contractual snapshot); "
            "this snapshot is non-contractual"
        )
    end = ledger.period_end(period) if period < ledger.periods else ledger.as_of
    if not history_reaches(ledger, period):
        raise NotEnoughData(
            f"no customer was active a year before {end:%d %b %Y}, so retention cannot be "
            "observed; choose a later date or a snapshot with more history"
        )
    if facts is None:
        facts = customer_facts(ledger, (period,))
    measured = measure_segments(ledger, facts, by, period, cutoffs, labels)
    if measured.totals.at_risk == 0:
        raise NotEnoughData(
            f"no customer was active a year before {end:%d %b %Y}, so retention cannot be "
            "observed; choose a later date or a snapshot with more history"
        )
    tenure = {}
    if ledger.contractual and models is not None:
        tenure = tenure_retention(
            models, measured.people, period, ledger.periods_per_year, ledger.period_months
        )
    use_curve = retention_curve and bool(tenure)
    table, segments, dropped = segment_rows(measured, tenure, curve=use_curve)
    if not segments:
        raise NotEnoughData(
            f"no customer is active on {end:%d %b %Y} and none was acquired in the twelve "
            "months before, so there is nothing to project"
        )
    taken: set[str] = set()
    codes = [name.split(":")[0] if by == "tier" else _code(name, taken) for name in table[SEGMENT]]
    table = table.with_columns(pl.Series(CODE, codes, dtype=pl.String))
    man = ledger.snapshot.manifest
    return Baseline(
        segments=segments,
        table=table,
        by=by,
        as_of=end,
        period=period,
        currency=man.currency,
        business_model=man.business_model,
        company=man.company,
        contractual=ledger.contractual,
        horizon_years=_horizon_default(ledger.snapshot),
        discount_rate=man.discount_rate,
        totals=measured.totals,
        acquisition_growth=measured.growth,
        growth_observed=measured.growth_observed,
        retention_model="sBG" if tenure else OBSERVED,
        retention_curve=use_curve,
        dropped=dropped,
    )
