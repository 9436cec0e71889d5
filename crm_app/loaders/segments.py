"""Loader of the Segments page: everything it shows, from the shared ledger and valuation.

The page calls :func:`filter_choices` (for its widgets) and then :func:`segments_view`
once per run. The view is assembled from parts cached separately (``st.cache_resource``,
one copy per server process), so moving one control recomputes only what depends on it:

* per window: the customers' profit (:func:`crm_core.metrics.profit.customer_profit`) and
  the window's raw touchpoint and sales-channel rows (only when the Cost to serve tab is
  open);
* per control set: the segment report (tiers, whale curve, value matrix);
* per open tab: its figures, the RFM segments and their migration, the tier's list.

Nothing here refits a model or rebuilds the ledger: they come from
:mod:`crm_app.loaders.base`. The CLV per tier is the shared 3-year valuation (the one
behind the Overview's customer equity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_app.loaders import base
from crm_core.charts import segments as charts
from crm_core.clv.valuation import ClvResult
from crm_core.copy import segments as copy
from crm_core.copy import segments_tables as tables
from crm_core.metrics.profit import customer_profit
from crm_core.metrics.registry import metric_inputs, metric_value
from crm_core.segments import columns as S
from crm_core.segments.cost_to_serve import WindowRows, window_rows
from crm_core.segments.drilldown import MONEY_COLUMNS, TOP_ROWS, csv_bytes, tier_list
from crm_core.segments.report import SegmentReport, add_costs, segment_report
from crm_core.segments.rfm import Comparison, RFMMigration, RFMReport, comparable_periods
from crm_core.segments.rfm import rfm_migration as _rfm_migration
from crm_core.segments.rfm import rfm_report as _rfm_report
from crm_core.segments.selection import FilterOptions, filter_options

__all__ = ["Choices", "SegmentsView", "filter_choices", "segments_view"]

# Entries per cache. At 1,000,000 customers a report or an RFM report holds about 70 MB
# and the window's profits about 55 MB, so the per-control caches are kept short.
_ENTRIES = 8
Cutoffs = tuple[float, float, float]


@dataclass(frozen=True)
class Choices:
    """What the page's widgets offer: filter values and the migration dates."""

    options: FilterOptions
    comparisons: tuple[Comparison, ...]
    registry_top_share: float | None
    registry_active: float | None


@st.cache_resource(show_spinner=False, max_entries=4 * _ENTRIES)
def filter_choices(path: str, stamp: str, as_of: date) -> Choices:
    """Regions, acquisition channels and migration dates of the snapshot at ``as_of``, and
    the registry's top-10% share and active customers there."""
    led = base.ledger(path, stamp, as_of)
    inputs = metric_inputs(led)  # no CLV needed: neither metric reads it
    return Choices(
        options=filter_options(led),
        comparisons=comparable_periods(led, copy.MIGRATION_MONTHS),
        registry_top_share=metric_value(inputs, "top_profit_share"),
        registry_active=metric_value(inputs, "active_customers"),
    )


@st.cache_resource(show_spinner="Ranking customers by profit…", max_entries=_ENTRIES)
def _profits(
    path: str, stamp: str, as_of: date, months: int, amortise: float | None
) -> pl.DataFrame:
    return customer_profit(
        base.ledger(path, stamp, as_of), months, amortise_years=amortise
    ).collect()


@st.cache_resource(show_spinner="Reading touchpoints and sales channels…", max_entries=4)
def _rows(path: str, stamp: str, as_of: date, months: int) -> WindowRows:
    return window_rows(base.ledger(path, stamp, as_of), months)


def _clv(path: str, stamp: str, as_of: date) -> tuple[ClvResult | None, str | None]:
    # called exactly as base.metrics calls it (the cache keys on how arguments are
    # passed), so the Overview's valuation is the one used here
    result = base.valuation(path, stamp, as_of, quarters_back=0)
    return (result, None) if isinstance(result, ClvResult) else (None, str(result))


@st.cache_resource(show_spinner="Ranking customers by profit…", max_entries=_ENTRIES)
def _report(
    path: str,
    stamp: str,
    as_of: date,
    months: int,
    cutoffs: Cutoffs,
    amortise: float | None,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
    thresholds: tuple[float, float] | None,
    costs: bool,
) -> SegmentReport:
    if costs:
        plain = _report(
            path, stamp, as_of, months, cutoffs, amortise, regions, channels, thresholds, False
        )
        return add_costs(plain, _rows(path, stamp, as_of, months))
    clv, _ = _clv(path, stamp, as_of)
    return segment_report(
        base.ledger(path, stamp, as_of),
        months=months,
        cutoffs=cutoffs,
        amortise_years=amortise,
        regions=regions,
        channels=channels,
        clv=clv,
        value_thresholds=thresholds,
        profits=_profits(path, stamp, as_of, months, amortise),
        costs=False,
    )


@st.cache_resource(show_spinner="Scoring recency, frequency and spend…", max_entries=_ENTRIES)
def _rfm(
    path: str,
    stamp: str,
    as_of: date,
    months: int,
    amortise: float | None,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
) -> RFMReport:
    return _rfm_report(
        base.ledger(path, stamp, as_of),
        months=months,
        amortise_years=amortise,
        regions=regions,
        channels=channels,
        profits=_profits(path, stamp, as_of, months, amortise),
    )


@st.cache_resource(show_spinner="Following customers between segments…", max_entries=_ENTRIES)
def _migration(
    path: str,
    stamp: str,
    as_of: date,
    periods_back: int,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
) -> RFMMigration:
    now = _rfm(path, stamp, as_of, 12, None, regions, channels)  # scores do not depend on profit
    return _rfm_migration(
        base.ledger(path, stamp, as_of),
        periods_back,
        regions=regions,
        channels=channels,
        now=now,
    )


@dataclass(frozen=True)
class TierList:
    """The drill-down of one tier: the first rows formatted, the count, and the CSV."""

    tier: str
    customers: int
    profit: float
    shown: pl.DataFrame
    columns: dict[str, str]
    csv: Callable[[], bytes]
    file_name: str


@dataclass(frozen=True)
class SegmentsView:
    """Everything the Segments page renders in one run.

    ``figures`` holds the open tab's figures only; ``rfm`` and ``migration`` are filled
    when the RFM tab is open, ``members`` when the tier tab is.
    """

    report: SegmentReport
    cards: tuple[copy.Card, ...]
    customers_note: str
    clv_note: str
    figures: dict[str, go.Figure]
    members: TierList | None = None
    rfm: RFMReport | None = None
    migration: RFMMigration | None = None


def _tier_csv(
    report: SegmentReport, tier: str, columns: list[str], headers: dict[str, str]
) -> bytes:
    """The whole tier as CSV, built on click (the view keeps no copy of the rows)."""
    return csv_bytes(tier_list(report.tier_customers(tier), columns), headers)


def _members(report: SegmentReport, tier: str, as_of: date) -> TierList:
    members = report.tier_customers(tier)
    columns = dict(tables.MEMBER_COLUMNS)
    if report.has_clv:
        columns[S.CLV] = "cents"
    csv_columns = [*columns, S.TIER, S.PURCHASES_PER_YEAR, S.YEARLY_AMOUNT]
    unit = report.currency
    headers = {
        c: f"{tables.COLUMN_LABELS[c]} ({unit})" if c in MONEY_COLUMNS else tables.COLUMN_LABELS[c]
        for c in csv_columns
    }
    return TierList(
        tier=tier,
        customers=members.height,
        profit=float(members[S.PROFIT].sum()),
        shown=tier_list(members, list(columns), limit=TOP_ROWS),
        columns=columns,
        csv=partial(_tier_csv, report, tier, csv_columns, headers),
        file_name=f"segments-tier-{tier}-{as_of.isoformat()}.csv",
    )


@st.cache_resource(show_spinner=False, max_entries=3 * _ENTRIES)  # light: figures, 500 rows
def segments_view(
    path: str,
    stamp: str,
    as_of: date,
    months: int,
    cutoffs: Cutoffs,
    amortise: float | None,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
    thresholds: tuple[float, float] | None,
    view: str,
    tier: str = "A",
    compare_months: int | None = None,
) -> SegmentsView:
    """The Segments page for these controls, with the figures of the open tab ``view``
    (one of :data:`crm_core.copy.segments.VIEWS`)."""
    costs = view == copy.VIEWS[4]
    report = _report(
        path, stamp, as_of, months, cutoffs, amortise, regions, channels, thresholds, costs
    )
    choices = filter_choices(path, stamp, as_of)
    _, reason = _clv(path, stamp, as_of)
    figures: dict[str, go.Figure] = {}
    members = rfm = migration = None
    if view == copy.VIEWS[0]:
        figures["abc"] = charts.abc_shares(report)
        members = _members(report, tier, as_of)
    elif view == copy.VIEWS[1]:
        figures["whale"] = charts.whale_curve(report)
    elif view == copy.VIEWS[2]:
        figures["matrix"] = charts.value_matrix(report)
    elif view == copy.VIEWS[3]:
        rfm = _rfm(path, stamp, as_of, months, amortise, regions, channels)
        figures["rfm"] = charts.rfm_segment_shares(rfm)
        back = {c.months: c.periods_back for c in choices.comparisons}
        if compare_months in back:
            migration = _migration(path, stamp, as_of, back[compare_months], regions, channels)
            figures["migration"] = charts.rfm_migration_heatmap(migration)
    elif costs:
        figures["cost"] = charts.cost_to_serve(report)
        figures["burden"] = charts.touchpoint_burden(report)
        figures["channels"] = charts.channel_mix(report)
    return SegmentsView(
        report=report,
        cards=copy.cards(report, choices.registry_top_share),
        customers_note=copy.customers_note(report, choices.registry_active),
        clv_note=copy.clv_note(report, reason),
        figures=figures,
        members=members,
        rfm=rfm,
        migration=migration,
    )
