"""The what-if baseline: today's segments, measured from a snapshot, ready for the engine.

:func:`baseline_segments` turns a snapshot into the :class:`crm_core.whatif.Segment` list
that :func:`crm_core.whatif.simulate` projects (Blattberg & Deighton 1996; Gupta &
Lehmann 2003), one segment per profit tier (ABC, the default), RFM segment, acquisition
channel or region, with the observed inputs per segment in a table.

Definitions (``t0`` = the as-of date, ``t1`` = twelve calendar months earlier; amounts in
the snapshot's currency). They are the Executive overview's (:mod:`crm_core.overview.report`),
so the segments add up to the overview's figures:

* **active customer at t** - non-contractual: acquired on or before ``t`` with a purchase
  (positive amount) in the twelve months ending on ``t``; contractual: acquired on or
  before ``t`` and not churned by ``t`` (under contract).
* **customers** - customers active at ``t0``. Summed over segments: the overview's
  active customers.
* **observed_at_risk / observed_retained** - customers active at ``t1``, and those of them
  still active at ``t0``; **retention** = retained / at risk. Summed over segments this is
  the overview's annual retention. A segment nobody belonged to a year ago has no
  observed retention: it gets the company's overall retention (``retention_source`` =
  ``"company"``) and no retention uncertainty.
* **margin** - the yearly contribution ``m`` per active customer: trailing-twelve-month
  revenue (net of refunds) minus the direct cost of those sales minus service costs, of
  the segment's customers, divided by its active customers (the overview's margin per
  active customer, per segment). ``revenue`` and ``cost_to_serve`` are the same totals
  per active customer; ``margin_std`` is the standard error of the mean contribution of
  the segment's active customers (std / sqrt(n)). A segment without active customers
  gets the company's margin (``margin_source`` = ``"company"``).
* **acquisition_per_year / acquisition_cost** - customers acquired in the last twelve
  months (the overview's new customers; summed over segments, the same number) and their
  mean acquisition cost (CAC), attributed as below.

Which segment a customer is in:

* **channel / region**: the customer's acquisition channel or region (fixed for life);
  new customers count in their own channel or region.
* **tier**: the Segments page's ABC tiers (:func:`crm_core.segments.assign_tiers`,
  default 10/20/70%) ranked on trailing-twelve-month profit
  (:func:`crm_core.profit.customer_profit_lazy`). Tiers are measured *at each date*:
  today's tier counts a customer in ``customers`` and places their money; retention is
  measured on last year's tiers (the tier a customer was in at ``t1``, ranked on the
  twelve months to ``t1``): of last year's tier A, how many are still active. Ranking
  today's tiers backwards would make tier A's retention 100% by construction. Customers
  outside the ranking (no purchase, contact or acquisition in the window, e.g. a running
  contract without a payment) are placed in tier C.
* **rfm**: the RFM segment (:func:`crm_core.rfm.rfm_scores_lazy`, whole history) at each
  date, the same way; customers without a purchase yet are "New customers" when
  acquired in the last twelve months, otherwise "Hibernating".
* **new customers, tiers and RFM**: a customer's segment when acquired is not known (they
  move between segments as they buy), so the last twelve months' new customers are split
  across segments in proportion to where those of them still active sit today, at those
  customers' mean acquisition cost. The total stays the company's, and a segment nobody
  active is in gets no new customers.
* A segment with no active customer today and no new customers has nothing to project
  and is left out (a note says so); its customers still count in the company totals.

Each segment is projected on its own: customers keep their segment's retention and margin
(no movement between segments). Segments chosen by value (tiers, RFM) therefore give a
higher customer equity than fixed ones (channel, region) when the most valuable customers
also stay the longest; compare scenarios within one segmentation.

With ``retention_curve=True`` (contractual only) retention depends on tenure: the
shifted-beta-geometric model (Fader & Hardie 2007) is fitted to every contract's monthly
history (:mod:`crm_core.clv.customer`) and turned into yearly retention by tenure year,
``r(k) = S(12(k+1)) / S(12k)``. Each segment's churn ``1 - r(k)`` is scaled by one factor
so that the curve equals the segment's observed retention at the median tenure of its
active customers; the current customers follow the curve from that tenure, new customers
from tenure 0 (usually lower: the customers likely to churn leave first).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from crm_core.data.expressions import add_months, between
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
from crm_core.segments.profit import (
    DIRECT_COST,
    REVENUE,
    SERVICE_COST,
    ProfitWindow,
    customer_profit_lazy,
)
from crm_core.whatif.engine import Levers, Scenario, Segment

__all__ = [
    "BASELINE_LABELS",
    "DEFAULT_HORIZON_YEARS",
    "SEGMENTATIONS",
    "Baseline",
    "baseline_segments",
]

DEFAULT_HORIZON_YEARS = 10
"""Projection horizon when the manifest gives none (``"horizon_years"`` in the manifest)."""

SEGMENTATIONS: dict[str, str] = {
    "tier": "Profit tier (ABC)",
    "rfm": "RFM segment",
    "channel": "Acquisition channel",
    "region": "Region",
}
"""Ways to split customers into segments: key -> words."""

_DAYS_PER_YEAR = 365.25
_CURVE_YEARS = 60  # tenure years of a retention curve (the last value holds afterwards)

# Columns of Baseline.table (declared once, here).
SEGMENT = "segment"
CODE = "code"
CUSTOMERS = "customers"
AT_RISK = "observed_at_risk"
RETAINED = "observed_retained"
RETENTION = "retention"
RETENTION_SOURCE = "retention_source"
CONTRIBUTION = "contribution"
MARGIN = "margin"
MARGIN_STD = "margin_std"
MARGIN_SOURCE = "margin_source"
COST_TO_SERVE = "cost_to_serve"
ACQUISITION_PER_YEAR = "acquisition_per_year"
ACQUISITION_COST = "acquisition_cost"
TENURE_YEARS = "median_tenure_years"
OBSERVED = "observed"
COMPANY = "company"

BASELINE_LABELS: dict[str, str] = {
    SEGMENT: "Segment",
    CUSTOMERS: "Active customers",
    AT_RISK: "Active a year ago",
    RETAINED: "Still active",
    RETENTION: "Annual retention",
    RETENTION_SOURCE: "Retention from",
    REVENUE: "Revenue per customer",
    DIRECT_COST: "Direct cost per customer",
    COST_TO_SERVE: "Cost to serve per customer",
    MARGIN: "Margin per customer",
    MARGIN_STD: "Margin: standard error",
    MARGIN_SOURCE: "Margin from",
    CONTRIBUTION: "Contribution (12 months)",
    ACQUISITION_PER_YEAR: "New customers a year",
    ACQUISITION_COST: "Acquisition cost",
    TENURE_YEARS: "Median tenure (years)",
}
"""Words for every column of :attr:`Baseline.table` a user may see."""

# per-customer working columns
_ACTIVE_NOW = "_active_now"
_ACTIVE_THEN = "_active_then"
_NEW = "_acquired_in_year"
_SEG_NOW = "_segment_now"
_SEG_THEN = "_segment_then"
_CONTRIB = "_contribution"
_TENURE = "_tenure_years"


@dataclass(frozen=True)
class Baseline:
    """Today's segments of a snapshot and how they were measured.

    Attributes
    ----------
    segments
        One :class:`~crm_core.whatif.Segment` per row of ``table``, same order.
    table
        Observed inputs per segment: ``segment``, ``code`` (short URL-safe id),
        ``customers``, ``observed_at_risk``, ``observed_retained`` (counts),
        ``retention`` (fraction), ``retention_source`` (``observed``/``company``),
        ``contribution`` (trailing-12-month revenue - direct cost - service cost, total),
        ``revenue``, ``direct_cost``, ``cost_to_serve``, ``margin``, ``margin_std`` (per
        active customer per year), ``margin_source``, ``acquisition_per_year`` (count),
        ``acquisition_cost`` (per new customer), ``median_tenure_years``. Words for the
        columns: :data:`BASELINE_LABELS`.
    by
        Segmentation key (see :data:`SEGMENTATIONS`).
    as_of
        Date the baseline describes.
    currency, business_model, company
        From the manifest.
    horizon_years, discount_rate
        Projection defaults: the manifest's ``horizon_years`` (else
        :data:`DEFAULT_HORIZON_YEARS`) and ``discount_rate``.
    customers, at_risk, retained
        Company totals: active customers now, a year ago, and retained.
    company_margin
        Trailing-12-month contribution per active customer of the whole company.
    retention_curve
        Whether the segments carry a tenure-dependent sBG retention curve.
    notes
        Definitions and caveats in words, for the page's help.
    """

    segments: tuple[Segment, ...]
    table: pl.DataFrame = field(repr=False)
    by: str
    as_of: date
    currency: str
    business_model: str
    company: str
    horizon_years: int
    discount_rate: float
    customers: int
    at_risk: int
    retained: int
    company_margin: float
    retention_curve: bool = False
    notes: tuple[str, ...] = ()

    @property
    def company_retention(self) -> float:
        """Overall annual retention: retained / active a year ago (fraction)."""
        return self.retained / self.at_risk

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
            points from the observed retention, so the scenario stays relative to a
            baseline (and can be applied to a later snapshot).
        levers
            Levers applied to every segment.
        name, horizon_years, discount_rate, description
            As in :class:`~crm_core.whatif.Scenario`.
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


# ----------------------------------------------------------------------------- helpers


def _code(name: str, taken: set[str]) -> str:
    """Short URL-safe id of a segment name: ``"Paid search" -> "paid_search"``."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:24].strip("_") or "seg"
    code, i = base, 2
    while code in taken:
        code, i = f"{base}{i}", i + 1
    taken.add(code)
    return code


def _active(snapshot: Snapshot, at: date) -> pl.Expr:
    """True for customers active at ``at`` (needs ``_last_purchase_<at>`` joined for
    non-contractual snapshots; see :func:`_people`)."""
    acquired = pl.col(C.acquired_on) <= pl.lit(at)
    if snapshot.manifest.contractual:
        return acquired & (pl.col(C.churned_on).is_null() | (pl.col(C.churned_on) > pl.lit(at)))
    return acquired & pl.col(f"_bought_{at.isoformat()}").fill_null(False)


def _bought(snapshot: Snapshot, at: date) -> pl.LazyFrame:
    """Customers with a purchase (positive amount) in the twelve months ending on ``at``."""
    window = ProfitWindow.trailing(at)
    return (
        snapshot.transactions.filter(
            (pl.col(C.amount) > 0) & between(C.date, window.start, window.end)
        )
        .select(C.customer_id)
        .unique()
        .with_columns(pl.lit(True).alias(f"_bought_{at.isoformat()}"))
    )


def _money(snapshot: Snapshot, window: ProfitWindow) -> pl.LazyFrame:
    """Trailing revenue, direct cost and service cost per customer in ``window``."""
    tx = (
        snapshot.transactions.filter(between(C.date, window.start, window.end))
        .group_by(C.customer_id)
        .agg(
            pl.col(C.amount).sum().alias(REVENUE),
            pl.col(C.cost).sum().alias(DIRECT_COST),
        )
    )
    service = (
        snapshot.service_costs.filter(between(C.date, window.start, window.end))
        .group_by(C.customer_id)
        .agg(pl.col(C.cost).sum().alias(SERVICE_COST))
    )
    return tx.join(service, on=C.customer_id, how="full", coalesce=True)


def _labels(
    snapshot: Snapshot, at: date, by: str, cutoffs: Sequence[float]
) -> tuple[pl.LazyFrame | pl.Expr, list[str] | None, pl.Expr]:
    """Segment of every customer at ``at``: a frame to join (or an expression on the
    customer columns), the segment order (``None``: by size) and the fallback label."""
    window = ProfitWindow.trailing(at)
    if by == "tier":
        from crm_core.segments.report import TIER, TIERS, assign_tiers, tier_name

        names = {t: tier_name(t, cutoffs) for t in TIERS}
        ranked = assign_tiers(customer_profit_lazy(snapshot, window), cutoffs).select(
            C.customer_id,
            pl.col(TIER).cast(pl.String).replace_strict(names).alias("_label"),
        )
        return ranked, list(names.values()), pl.lit(names[TIERS[-1]])
    if by == "rfm":
        from crm_core.segments.rfm import SEGMENT as RFM_SEGMENT
        from crm_core.segments.rfm import SEGMENT_NAMES, rfm_scores_lazy

        scores = rfm_scores_lazy(snapshot.transactions, at).select(
            C.customer_id, pl.col(RFM_SEGMENT).cast(pl.String).alias("_label")
        )
        fallback = (
            pl.when(between(C.acquired_on, window.start, window.end))
            .then(pl.lit("New customers"))
            .otherwise(pl.lit("Hibernating"))
        )
        return scores, list(SEGMENT_NAMES), fallback
    column = C.acquisition_channel if by == "channel" else C.region
    return pl.col(column), None, pl.lit("Unknown")


def _people(
    snapshot: Snapshot, by: str, cutoffs: Sequence[float], t0: date, t1: date
) -> tuple[pl.LazyFrame, list[str] | None]:
    """One row per customer acquired by ``t0`` with activity flags, money and segments."""
    now = ProfitWindow.trailing(t0)
    frame = snapshot.customers.filter(pl.col(C.acquired_on) <= pl.lit(t0)).select(
        C.customer_id, C.acquired_on, C.churned_on, C.acquisition_cost, C.acquisition_channel,
        C.region,
    )  # fmt: skip
    if not snapshot.manifest.contractual:
        for at in (t0, t1):
            frame = frame.join(_bought(snapshot, at), on=C.customer_id, how="left")
    frame = frame.join(_money(snapshot, now), on=C.customer_id, how="left").with_columns(
        pl.col(REVENUE, DIRECT_COST, SERVICE_COST).fill_null(0.0),
        _active(snapshot, t0).alias(_ACTIVE_NOW),
        _active(snapshot, t1).alias(_ACTIVE_THEN),
        between(C.acquired_on, now.start, now.end).alias(_NEW),
        ((pl.lit(t0) - pl.col(C.acquired_on)).dt.total_days() / _DAYS_PER_YEAR)
        .floor()
        .alias(_TENURE),
    )
    order = None
    for at, alias in ((t0, _SEG_NOW), (t1, _SEG_THEN)):
        labels, order, fallback = _labels(snapshot, at, by, cutoffs)
        if isinstance(labels, pl.Expr):
            frame = frame.with_columns(labels.fill_null(fallback).alias(alias))
        else:
            frame = (
                frame.join(labels, on=C.customer_id, how="left")
                .with_columns(pl.col("_label").fill_null(fallback).alias(alias))
                .drop("_label")
            )
    contribution = pl.col(REVENUE) - pl.col(DIRECT_COST) - pl.col(SERVICE_COST)
    return frame.with_columns(contribution.alias(_CONTRIB)), order


def _horizon_default(snapshot: Snapshot) -> int:
    value = snapshot.manifest.extra.get("horizon_years")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100:
        return value
    return DEFAULT_HORIZON_YEARS


# ----------------------------------------------------------------------------- entry point


def baseline_segments(
    snapshot: Snapshot,
    *,
    by: str = "tier",
    cutoffs: Sequence[float] = (0.10, 0.20, 0.70),
    retention_curve: bool = False,
) -> Baseline:
    """Measure today's segments of ``snapshot`` as inputs of the what-if engine.

    Definitions, attribution rules and the tenure curve are in the module docstring; the
    totals are the Executive overview's (active customers, annual retention, margin per
    active customer, new customers and their acquisition cost).

    Parameters
    ----------
    snapshot
        The company's data (cut at the date to describe).
    by
        ``"tier"`` (ABC profit tiers), ``"rfm"``, ``"channel"`` (acquisition channel) or
        ``"region"``.
    cutoffs
        Tier shares (A, B, C) as fractions summing to 1; used with ``by="tier"``.
    retention_curve
        Give each segment a tenure-dependent retention curve from an sBG fit
        (contractual snapshots only).

    Returns
    -------
    Baseline

    Raises
    ------
    ValueError
        Unknown ``by``, bad cut-offs, a curve asked for a non-contractual snapshot, or a
        snapshot without customers active a year before its date (retention cannot be
        observed).
    """
    if by not in SEGMENTATIONS:
        raise ValueError(f"by must be one of {', '.join(SEGMENTATIONS)}, got {by!r}")
    if by == "tier":
        from crm_core.segments.report import validate_cutoffs

        cutoffs = validate_cutoffs(cutoffs)
    contractual = snapshot.manifest.contractual
    if retention_curve and not contractual:
        raise ValueError(
            "a tenure-dependent retention curve needs contracts (a contractual snapshot); "
            "this snapshot is non-contractual"
        )
    t0 = snapshot.as_of
    t1 = add_months(t0, -12)
    people, order = _people(snapshot, by, cutoffs, t0, t1)
    active = pl.col(_ACTIVE_NOW)
    now = people.group_by(pl.col(_SEG_NOW).alias(SEGMENT)).agg(
        active.sum().cast(pl.Int64).alias(CUSTOMERS),
        pl.col(_CONTRIB).sum().alias(CONTRIBUTION),
        pl.col(REVENUE).sum().alias(REVENUE),
        pl.col(DIRECT_COST).sum().alias(DIRECT_COST),
        pl.col(SERVICE_COST).sum().alias(SERVICE_COST),
        pl.col(_CONTRIB).filter(active).std().alias("_contrib_std"),
        pl.col(_NEW).sum().cast(pl.Int64).alias("_new"),
        pl.col(C.acquisition_cost).filter(pl.col(_NEW)).sum().alias("_new_cost"),
        (pl.col(_NEW) & active).sum().cast(pl.Int64).alias("_new_active"),
        pl.col(C.acquisition_cost).filter(pl.col(_NEW) & active).sum().alias("_new_active_cost"),
        pl.col(_TENURE).filter(active).median().alias(TENURE_YEARS),
    )
    then = (
        people.filter(pl.col(_ACTIVE_THEN))
        .group_by(pl.col(_SEG_THEN).alias(SEGMENT))
        .agg(
            pl.len().cast(pl.Int64).alias(AT_RISK),
            active.sum().cast(pl.Int64).alias(RETAINED),
        )
    )
    raw = (
        now.join(then, on=SEGMENT, how="full", coalesce=True)
        .with_columns(
            pl.col(CUSTOMERS, AT_RISK, RETAINED, "_new", "_new_active").fill_null(0),
            pl.col(
                CONTRIBUTION, REVENUE, DIRECT_COST, SERVICE_COST, "_new_cost", "_new_active_cost"
            ).fill_null(0.0),
        )
        .collect()
    )
    return _finish(snapshot, raw, by, order, retention_curve)


def _finish(
    snapshot: Snapshot,
    raw: pl.DataFrame,
    by: str,
    order: list[str] | None,
    retention_curve: bool,
) -> Baseline:
    """Company totals, acquisition attribution, fallbacks, codes, the optional curve and
    the Segment objects."""
    customers = int(raw[CUSTOMERS].sum())
    at_risk = int(raw[AT_RISK].sum())
    retained = int(raw[RETAINED].sum())
    if at_risk == 0:
        raise ValueError(
            f"no customer was active a year before {snapshot.as_of:%d %b %Y}, so retention "
            "cannot be observed; choose a later date or a snapshot with more history"
        )
    company_retention = retained / at_risk
    company_margin = float(raw[CONTRIBUTION].sum()) / customers if customers else 0.0
    raw = raw.with_columns(_acquisitions(raw, by))
    dead = raw.filter((pl.col(CUSTOMERS) == 0) & (pl.col(ACQUISITION_PER_YEAR) <= 0))
    raw = raw.filter((pl.col(CUSTOMERS) > 0) | (pl.col(ACQUISITION_PER_YEAR) > 0))
    if raw.is_empty():
        raise ValueError(
            f"no customer is active on {snapshot.as_of:%d %b %Y} and none was acquired in the "
            "twelve months before, so there is nothing to project"
        )
    if order is None:
        raw = raw.sort([CUSTOMERS, SEGMENT], descending=[True, False])
    else:
        rank = {name: i for i, name in enumerate(order)}
        raw = raw.sort(pl.col(SEGMENT).replace_strict(rank, default=len(rank)), SEGMENT)
    has_customers = pl.col(CUSTOMERS) > 0
    per = pl.col(CUSTOMERS).cast(pl.Float64)
    table = raw.with_columns(
        pl.when(pl.col(AT_RISK) > 0)
        .then(pl.col(RETAINED) / pl.col(AT_RISK))
        .otherwise(company_retention)
        .alias(RETENTION),
        pl.when(pl.col(AT_RISK) > 0)
        .then(pl.lit(OBSERVED))
        .otherwise(pl.lit(COMPANY))
        .alias(RETENTION_SOURCE),
        pl.when(has_customers)
        .then(pl.col(CONTRIBUTION) / per)
        .otherwise(company_margin)
        .alias(MARGIN),
        pl.when(has_customers).then(pl.lit(OBSERVED)).otherwise(pl.lit(COMPANY)).alias(MARGIN_SOURCE),
        pl.when(has_customers).then(pl.col(REVENUE) / per).otherwise(None).alias(REVENUE),
        pl.when(has_customers).then(pl.col(DIRECT_COST) / per).otherwise(0.0).alias(DIRECT_COST),
        pl.when(has_customers).then(pl.col(SERVICE_COST) / per).otherwise(0.0).alias(COST_TO_SERVE),
        pl.when(pl.col(CUSTOMERS) > 1)
        .then(pl.col("_contrib_std").fill_null(0.0) / per.sqrt())
        .otherwise(0.0)
        .alias(MARGIN_STD),
    )  # fmt: skip
    taken: set[str] = set()
    codes = [name.split(":")[0] if by == "tier" else _code(name, taken) for name in table[SEGMENT]]
    table = table.with_columns(pl.Series(CODE, codes, dtype=pl.String)).select(
        SEGMENT, CODE, CUSTOMERS, AT_RISK, RETAINED, RETENTION, RETENTION_SOURCE, CONTRIBUTION,
        REVENUE, DIRECT_COST, COST_TO_SERVE, MARGIN, MARGIN_STD, MARGIN_SOURCE,
        ACQUISITION_PER_YEAR, ACQUISITION_COST, TENURE_YEARS,
    )  # fmt: skip
    notes = list(_notes(snapshot, by))
    if not dead.is_empty():
        names = ", ".join(dead[SEGMENT].to_list())
        notes.append(
            f"Not projected: {names} (nobody active in them today and no new customers); "
            f"{int(dead[AT_RISK].sum()):,} of last year's active customers were in them, and "
            "they count in the company's retention."
        )
    curves: dict[str, tuple[tuple[float, ...], int]] = {}
    if retention_curve:
        curves, note = _tenure_curves(snapshot, table)
        notes.append(note)
    segments = []
    for row in table.iter_rows(named=True):
        curve, tenure = curves.get(row[SEGMENT], (None, 0))
        observed = row[RETENTION_SOURCE] == OBSERVED
        segments.append(
            Segment(
                row[SEGMENT],
                float(row[CUSTOMERS]),
                float(row[RETENTION]),
                float(row[MARGIN]),
                float(row[ACQUISITION_PER_YEAR]),
                float(row[ACQUISITION_COST]),
                revenue=row[REVENUE],
                cost_to_serve=float(row[COST_TO_SERVE]),
                margin_std=float(row[MARGIN_STD]),
                observed_at_risk=row[AT_RISK] if observed else None,
                observed_retained=row[RETAINED] if observed else None,
                retention_curve=curve,
                base_tenure_years=tenure,
            )
        )
    man = snapshot.manifest
    return Baseline(
        segments=tuple(segments),
        table=table,
        by=by,
        as_of=snapshot.as_of,
        currency=man.currency,
        business_model=man.business_model,
        company=man.company,
        horizon_years=_horizon_default(snapshot),
        discount_rate=man.discount_rate,
        customers=customers,
        at_risk=at_risk,
        retained=retained,
        company_margin=company_margin,
        retention_curve=bool(curves),
        notes=tuple(notes),
    )


def _acquisitions(raw: pl.DataFrame, by: str) -> list[pl.Expr]:
    """``acquisition_per_year`` and ``acquisition_cost`` per segment.

    Channel and region: the segment's own new customers. Tiers and RFM segments (which a
    customer moves between): all new customers of the last twelve months, split in
    proportion to where those still active sit today, at the mean acquisition cost of
    those; so the total is the company's and no new customer lands in a segment nobody
    active is in. Without any active new customer, each counts in today's segment.
    """
    own = (
        pl.col("_new").cast(pl.Float64).alias(ACQUISITION_PER_YEAR),
        pl.when(pl.col("_new") > 0)
        .then(pl.col("_new_cost") / pl.col("_new"))
        .otherwise(0.0)
        .alias(ACQUISITION_COST),
    )
    active_new = int(raw["_new_active"].sum())
    if by in ("channel", "region") or active_new == 0:
        return list(own)
    total_new = float(raw["_new"].sum())
    return [
        (pl.col("_new_active") * (total_new / active_new)).alias(ACQUISITION_PER_YEAR),
        pl.when(pl.col("_new_active") > 0)
        .then(pl.col("_new_active_cost") / pl.col("_new_active"))
        .otherwise(0.0)
        .alias(ACQUISITION_COST),
    ]


def _notes(snapshot: Snapshot, by: str) -> tuple[str, ...]:
    contractual = snapshot.manifest.contractual
    active = (
        "Active customers are those under contract at the date."
        if contractual
        else "Active customers are those with a purchase in the twelve months to the date."
    )
    notes = [
        active + " Retention is the share of last year's active customers still active "
        "today, as on the Executive overview.",
        "Margin per customer is the last twelve months' revenue minus direct costs and "
        "cost to serve, divided by the segment's active customers.",
        "New customers per year and their acquisition cost are those of the last twelve months.",
    ]
    if by == "tier":
        notes.append(
            "Tiers rank customers by their profit over the last twelve months (as on the "
            "Segments page). Retention is measured on last year's tiers: of the customers in "
            "a tier a year ago, the share still active. New customers are split across tiers "
            "like those of the last twelve months who are still active today."
        )
    elif by == "rfm":
        notes.append(
            "RFM segments are taken at each date: retention follows last year's segments, "
            "today's customers today's. New customers are split across segments like those of "
            "the last twelve months who are still active today."
        )
    else:
        notes.append(
            f"Customers belong to their {'acquisition channel' if by == 'channel' else 'region'}"
            " for life."
        )
    notes.append(
        "A segment with nobody active a year ago uses the company's overall retention; "
        "one without active customers uses the company's margin."
    )
    if by in ("tier", "rfm"):
        notes.append(
            "Each segment is projected on its own (customers do not move between segments), "
            "so segments chosen by value show a higher customer equity than acquisition "
            "channels or regions when the best customers also stay longest. Compare "
            "scenarios within one segmentation."
        )
    return tuple(notes)


def _tenure_curves(
    snapshot: Snapshot, table: pl.DataFrame
) -> tuple[dict[str, tuple[tuple[float, ...], int]], str]:
    """Per segment: the sBG yearly retention curve shifted to its observed retention, and
    the median tenure (years) of its active customers; plus a note in words."""
    try:
        from crm_core.clv.errors import ModelFitError
        from crm_core.clv.fitted import contract_inputs, fit_contract_sbg
        from crm_core.data.ledger import build_ledger
    except ImportError:  # pragma: no cover - the CLV package is part of the repo
        return {}, "Tenure curves are not available in this version; retention is flat."
    try:
        model = fit_contract_sbg(contract_inputs(build_ledger(snapshot), 0, 1), 1)
    except (ModelFitError, ValueError) as exc:
        return {}, f"The retention-by-tenure model could not be fitted ({exc}); retention is flat."
    survival = np.asarray(model.survival(np.arange(0, 12 * (_CURVE_YEARS + 1), 12)), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        yearly = np.where(survival[:-1] > 0, survival[1:] / survival[:-1], 1.0)
    curves = {}
    for row in table.iter_rows(named=True):
        median = row[TENURE_YEARS]
        tenure = 0 if median is None or math.isnan(median) else int(median)
        tenure = min(tenure, _CURVE_YEARS - 1)
        churn = 1.0 - yearly
        scale = (1.0 - row[RETENTION]) / churn[tenure] if churn[tenure] > 0 else 1.0
        curve = np.clip(1.0 - churn * scale, 0.0, 1.0)
        curves[row[SEGMENT]] = (tuple(float(v) for v in curve), tenure)
    first, later = yearly[0], yearly[min(4, _CURVE_YEARS - 1)]
    note = (
        "Retention rises with tenure (shifted-beta-geometric model, Fader & Hardie 2007, "
        f"fitted to every contract's monthly history: {first:.0%} in the first year, "
        f"{later:.0%} in the fifth). Each segment's churn is scaled so that the curve meets its "
        "observed retention at its customers' median tenure; new customers start at the "
        "first year's rate."
    )
    return curves, note
