"""Per-segment sums of the baseline's customer facts, the rates derived from them, and the
:class:`~crm_core.whatif.segment.Segment` objects (definitions: :mod:`crm_core.whatif.baseline`).

Columns of :attr:`Baseline.table` (declared once, here; words: :mod:`crm_core.copy.whatif`):
``segment, code``; ``customers`` (active), ``observed_at_risk`` (active a year ago, in the
segment then), ``observed_retained``, ``observed_retention`` (null when nobody was in the
segment a year ago), ``retention`` (what the projection uses) and ``retention_source``
(``observed``, ``company`` or ``model``); the twelve months' ``revenue, direct_cost,
service_cost, contribution`` (totals) and ``margin`` (contribution per active customer);
``new_customers``, ``acquisition_spend``, ``acquisition_cost`` (per new customer),
``new_active``, ``new_survival``; ``reactivated``; ``continuing`` (active customers won
before the year), ``continuing_margin``, ``continuing_revenue``,
``continuing_cost_to_serve`` (per continuing customer), ``new_margin``, ``new_revenue``,
``new_cost_to_serve`` (per new customer still active); ``acquisition_per_year`` (projected)
``median_tenure_years`` and ``margin_std``. Per-customer figures fall back to the
company's where a segment has nobody to measure them on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C
from crm_core.whatif.facts import (
    ACTIVE_NOW,
    ACTIVE_THEN,
    CONTRIBUTION,
    DIRECT_COST,
    REVENUE,
    SERVICE_COST,
    TENURE_YEARS,
    WON_BEFORE,
    WON_NOW,
    facts_at,
)
from crm_core.whatif.labels import SEGMENT, label_frames, segment_labels
from crm_core.whatif.segment import Segment
from crm_core.whatif.tenure import TenureRetention

__all__ = [
    "ACQUISITION_COST",
    "ACQUISITION_PER_YEAR",
    "AT_RISK",
    "CODE",
    "COMPANY",
    "CUSTOMERS",
    "GROWTH_LIMITS",
    "MARGIN",
    "MODEL",
    "NEW_CUSTOMERS",
    "OBSERVED",
    "RETAINED",
    "RETENTION",
    "RETENTION_SOURCE",
    "SEGMENT",
    "Measured",
    "SegmentTotals",
    "measure_segments",
    "segment_rows",
]

CODE = "code"
CUSTOMERS = "customers"
AT_RISK = "observed_at_risk"
RETAINED = "observed_retained"
OBSERVED_RETENTION = "observed_retention"
RETENTION = "retention"
RETENTION_SOURCE = "retention_source"
MARGIN = "margin"
NEW_CUSTOMERS = "new_customers"
ACQUISITION_SPEND = "acquisition_spend"
ACQUISITION_COST = "acquisition_cost"
NEW_ACTIVE = "new_active"
NEW_SURVIVAL = "new_survival"
REACTIVATED = "reactivated"
CONTINUING = "continuing"
ACQUISITION_PER_YEAR = "acquisition_per_year"
TENURE = "median_tenure_years"
MARGIN_STD = "margin_std"
OBSERVED, COMPANY, MODEL = "observed", "company", "model"
GROWTH_LIMITS = (-0.5, 1.0)
"""Bounds of the yearly change of new customers carried into the projection."""

_COUNTS = (CUSTOMERS, NEW_CUSTOMERS, NEW_ACTIVE, CONTINUING, REACTIVATED)
_MONEY = (REVENUE, DIRECT_COST, SERVICE_COST, CONTRIBUTION)
# per group (continuing: "c_", new: "n_") sums of revenue, service cost and contribution
_GROUP_MONEY = (REVENUE, SERVICE_COST, CONTRIBUTION)


def _group(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


@dataclass(frozen=True)
class SegmentTotals:
    """Counts and money of a group of customers (a segment, or the company).

    Counts (customers): ``customers`` active, ``at_risk`` active a year ago, ``retained``,
    ``new_customers``, ``new_active``, ``continuing`` (active, won before the year),
    ``reactivated``. Money (currency, twelve months): ``revenue``, ``contribution``,
    ``acquisition_spend``; ``continuing_money`` and ``new_money`` map revenue, service cost
    and contribution to the sums over customers won before the year and in it.
    """

    customers: int
    at_risk: int
    retained: int
    new_customers: int
    new_active: int
    continuing: int
    reactivated: int
    revenue: float
    contribution: float
    acquisition_spend: float
    continuing_money: Mapping[str, float]
    new_money: Mapping[str, float]

    @property
    def margin(self) -> float:
        """Contribution per active customer (currency; 0 without active customers)."""
        return self.contribution / self.customers if self.customers else 0.0

    @property
    def acquisition_cost(self) -> float | None:
        """Acquisition spend per new customer (currency)."""
        return self.acquisition_spend / self.new_customers if self.new_customers else None


@dataclass(frozen=True)
class Measured:
    """Per-segment sums (``raw``), company totals, the per-customer frame they were summed
    from (``people``: facts with the segments ``_now`` and ``_then``) and growth."""

    raw: pl.DataFrame
    totals: SegmentTotals
    people: pl.LazyFrame
    order: tuple[str, ...] | None
    growth: float
    growth_observed: bool


def measure_segments(
    ledger: Ledger,
    facts: pl.DataFrame,
    by: str,
    period: int,
    cutoffs: Sequence[float],
    labels: Mapping[int, pl.DataFrame] | None = None,
) -> Measured:
    """Sum the customer facts of ``period`` by segment, today's and a year earlier's.

    ``labels`` maps ledger periods to :func:`~crm_core.whatif.labels.label_frames`
    (computed here for ``period`` and a year earlier when missing).
    """
    year = ledger.periods_per_year
    _, order, fallback = segment_labels(ledger, by, period, cutoffs)
    needed = (period, period + year)
    if labels is None or any(k not in labels for k in needed):
        labels, _ = label_frames(ledger, by, needed, cutoffs)
    now, then = (labels[k].lazy() for k in needed)
    people = (
        facts_at(facts.lazy(), ledger, period)
        .join(now.rename({SEGMENT: "_now"}), on=L.cid, how="left")
        .join(then.rename({SEGMENT: "_then"}), on=L.cid, how="left")
        .with_columns(pl.col("_now", "_then").fill_null(fallback))
    )
    act, won = pl.col(ACTIVE_NOW), pl.col(WON_NOW)
    by_now = people.group_by(pl.col("_now").alias(SEGMENT)).agg(
        act.sum().cast(pl.Int64).alias(CUSTOMERS),
        *(pl.col(c).sum() for c in _MONEY),
        won.sum().cast(pl.Int64).alias(NEW_CUSTOMERS),
        pl.col(C.acquisition_cost).filter(won).sum().alias(ACQUISITION_SPEND),
        (won & act).sum().cast(pl.Int64).alias(NEW_ACTIVE),
        *(pl.col(c).filter(won).sum().alias(_group("n_", c)) for c in _GROUP_MONEY),
        pl.col(TENURE_YEARS).filter(act).median().alias(TENURE),
    )
    # customers won before the year, by the segment they were in a year ago
    by_then = (
        people.filter(~won)
        .group_by(pl.col("_then").alias(SEGMENT))
        .agg(
            pl.col(ACTIVE_THEN).sum().cast(pl.Int64).alias(AT_RISK),
            (pl.col(ACTIVE_THEN) & act).sum().cast(pl.Int64).alias(RETAINED),
            act.sum().cast(pl.Int64).alias(CONTINUING),
            (act & ~pl.col(ACTIVE_THEN)).sum().cast(pl.Int64).alias(REACTIVATED),
            *(pl.col(c).sum().alias(_group("c_", c)) for c in _GROUP_MONEY),
            pl.col(CONTRIBUTION).filter(act).std().alias("_std"),
        )
    )
    before = people.select(pl.col(WON_BEFORE).sum().cast(pl.Int64))
    now_frame, then_frame, before_frame = pl.collect_all([by_now, by_then, before])
    raw = now_frame.join(then_frame, on=SEGMENT, how="full", coalesce=True).with_columns(
        pl.col(*_COUNTS, AT_RISK, RETAINED).fill_null(0),
        pl.col(*_MONEY, ACQUISITION_SPEND).fill_null(0.0),
        pl.col(*(f"{p}{c}" for p in ("c_", "n_") for c in _GROUP_MONEY)).fill_null(0.0),
    )
    totals = _totals(raw)
    growth, observed = 0.0, False
    earlier = int(before_frame.item())
    if ledger.periods >= period + 2 * year and earlier > 0:
        low, high = GROWTH_LIMITS
        growth, observed = min(max(totals.new_customers / earlier - 1.0, low), high), True
    return Measured(raw, totals, people, order, growth, observed)


def _totals(frame: pl.DataFrame) -> SegmentTotals:
    def total(column: str) -> float:
        return float(frame[column].sum())

    return SegmentTotals(
        customers=int(total(CUSTOMERS)),
        at_risk=int(total(AT_RISK)),
        retained=int(total(RETAINED)),
        new_customers=int(total(NEW_CUSTOMERS)),
        new_active=int(total(NEW_ACTIVE)),
        continuing=int(total(CONTINUING)),
        reactivated=int(total(REACTIVATED)),
        revenue=total(REVENUE),
        contribution=total(CONTRIBUTION),
        acquisition_spend=total(ACQUISITION_SPEND),
        continuing_money={c: total(_group("c_", c)) for c in _GROUP_MONEY},
        new_money={c: total(_group("n_", c)) for c in _GROUP_MONEY},
    )


def _per(money: Mapping[str, float], n: int, fallback: tuple[float, float, float]) -> tuple:
    """(margin, revenue, cost to serve) per customer of a group, or the fallback."""
    if n <= 0:
        return fallback
    return (money[CONTRIBUTION] / n, money[REVENUE] / n, money[SERVICE_COST] / n)


def _company_rates(t: SegmentTotals) -> dict[str, object]:
    continuing = _per(t.continuing_money, t.continuing, (t.margin, 0.0, 0.0))
    return {
        "retention": t.retained / t.at_risk,
        "continuing": continuing,
        "new": _per(t.new_money, t.new_active, continuing),
        "new_survival": t.new_active / t.new_customers if t.new_customers else 1.0,
    }


def _sort(raw: pl.DataFrame, order: tuple[str, ...] | None) -> pl.DataFrame:
    if order is None:
        return raw.sort([CUSTOMERS, SEGMENT], descending=[True, False])
    rank = {name: i for i, name in enumerate(order)}
    return raw.sort(pl.col(SEGMENT).replace_strict(rank, default=len(rank)), SEGMENT)


def segment_rows(
    measured: Measured, tenure: Mapping[str, TenureRetention], *, curve: bool
) -> tuple[pl.DataFrame, tuple[Segment, ...], tuple[tuple[str, int], ...]]:
    """The table, the segments to project and the dropped segments (name, at risk)."""
    company = _company_rates(measured.totals)
    growth = 1.0 + measured.growth
    raw = _sort(measured.raw, measured.order)
    keep = (pl.col(CUSTOMERS) > 0) | (pl.col(NEW_CUSTOMERS) > 0) | (pl.col(REACTIVATED) > 0)
    dropped = tuple(raw.filter(~keep).select(SEGMENT, AT_RISK).iter_rows())
    rows, segments = [], []
    for r in raw.filter(keep).iter_rows(named=True):
        name, n = r[SEGMENT], r[CUSTOMERS]
        seg_tenure = tenure.get(name)
        observed = r[RETAINED] / r[AT_RISK] if r[AT_RISK] else None
        if seg_tenure is not None:
            retention, source = seg_tenure.retention(observed), MODEL
            base_curve, new_curve = seg_tenure.curves(observed) if curve else (None, None)
        elif observed is not None:
            retention, source, base_curve, new_curve = observed, OBSERVED, None, None
        else:
            retention, source, base_curve, new_curve = company["retention"], COMPANY, None, None
        cont_money = {c: r[_group("c_", c)] for c in _GROUP_MONEY}
        new_money = {c: r[_group("n_", c)] for c in _GROUP_MONEY}
        c_margin, c_revenue, c_serve = _per(cont_money, r[CONTINUING], company["continuing"])
        n_margin, n_revenue, n_serve = _per(new_money, r[NEW_ACTIVE], company["new"])
        survival = r[NEW_ACTIVE] / r[NEW_CUSTOMERS] if r[NEW_CUSTOMERS] else company["new_survival"]
        cac = r[ACQUISITION_SPEND] / r[NEW_CUSTOMERS] if r[NEW_CUSTOMERS] else 0.0
        std = r["_std"] if r["_std"] is not None and not math.isnan(r["_std"]) else 0.0
        row = {
            SEGMENT: name, CUSTOMERS: n, AT_RISK: r[AT_RISK], RETAINED: r[RETAINED],
            OBSERVED_RETENTION: observed, RETENTION: retention, RETENTION_SOURCE: source,
            **{c: r[c] for c in _MONEY}, MARGIN: r[CONTRIBUTION] / n if n else None,
            NEW_CUSTOMERS: r[NEW_CUSTOMERS], ACQUISITION_SPEND: r[ACQUISITION_SPEND],
            ACQUISITION_COST: cac, NEW_ACTIVE: r[NEW_ACTIVE], NEW_SURVIVAL: survival,
            REACTIVATED: r[REACTIVATED], CONTINUING: r[CONTINUING],
            "continuing_margin": c_margin, "continuing_revenue": c_revenue,
            "continuing_cost_to_serve": c_serve, "new_margin": n_margin,
            "new_revenue": n_revenue, "new_cost_to_serve": n_serve,
            ACQUISITION_PER_YEAR: r[NEW_CUSTOMERS] * growth, TENURE: r[TENURE],
            MARGIN_STD: std / math.sqrt(r[CONTINUING]) if r[CONTINUING] > 1 else 0.0,
        }  # fmt: skip
        rows.append(row)
        counts = source != COMPANY and r[AT_RISK] > 0
        segments.append(
            Segment(
                name,
                float(n),
                retention,
                c_margin,
                row[ACQUISITION_PER_YEAR],
                cac,
                revenue=c_revenue,
                cost_to_serve=c_serve,
                new_survival=survival,
                new_margin=n_margin,
                new_revenue=n_revenue,
                new_cost_to_serve=n_serve,
                reactivations_per_year=float(r[REACTIVATED]),
                margin_std=row[MARGIN_STD],
                observed_at_risk=r[AT_RISK] if counts else None,
                observed_retained=r[RETAINED] if counts else None,
                retention_curve=new_curve,
                base_retention_curve=base_curve,
            )
        )
    table = pl.DataFrame(rows, infer_schema_length=None)
    return table, tuple(segments), dropped
