"""Figures of the Segments page: they build for every case, state the finding, use words."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest

from crm_core.charts import segments as charts
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.snapshot import Snapshot, load_snapshot
from crm_core.segments.report import SegmentReport, segment_report
from crm_core.segments.rfm import rfm_migration, rfm_report

SEGMENT_BUILDERS = (
    charts.abc_shares,
    charts.whale_curve,
    charts.value_matrix,
    charts.cost_to_serve,
    charts.touchpoint_burden,
    charts.channel_mix,
)
RAW = re.compile(
    r"customer_id|customer_share|profit_share|cumulative_profit|service_cost|acquisition_cost"
    r"|yearly_amount|purchases_per_year|profit_rank|share_of_|total_cost|call_center|_clv"
)


def texts(fig: go.Figure) -> list[str]:
    """Every text a reader can see: titles, axis titles, legend names, hover templates."""
    layout = fig.layout
    out = [layout.title.text or ""]
    for axis in ("xaxis", "yaxis"):
        out.append(getattr(layout, axis).title.text or "")
    for annotation in layout.annotations:
        out.append(annotation.text or "")
    for trace in fig.data:
        out.append(str(trace.name or ""))
        out.append(str(getattr(trace, "hovertemplate", "") or ""))
        y = getattr(trace, "y", None)
        if y is not None and len(y) and isinstance(y[0], str):
            out.extend(y)
    return out


def title(fig: go.Figure) -> str:
    """The finding: the title's first line without its markup."""
    return re.sub(r"<[^>]+>", "", fig.layout.title.text.split("<br>")[0])


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> tuple[SegmentReport, Ledger]:
    led = build_ledger(load_snapshot(sample_dir))
    return segment_report(led), led


def test_titles_state_the_findings(sample) -> None:
    report, _ = sample
    stats = report.whale_stats
    assert title(charts.abc_shares(report)) == (
        f"Top 10% of customers earn {charts.share_text(report.top_profit_share)} of profit"
    )
    whale = title(charts.whale_curve(report))
    assert charts.share_text(stats.given_back_share) in whale
    assert charts.share_text(stats.loss_tail_customer_share) in whale
    c_cost = report.tiers.filter(pl.col("tier") == "C")["service_cost_per_customer"][0]
    assert f"${c_cost:.2f}" in title(charts.cost_to_serve(report))
    assert "Tier C causes" in title(charts.touchpoint_burden(report))
    assert "Tier C makes" in title(charts.channel_mix(report))


@pytest.mark.parametrize("builder", SEGMENT_BUILDERS)
def test_no_raw_column_names(sample, builder) -> None:
    report, _ = sample
    fig = builder(report)
    assert isinstance(fig, go.Figure)
    for text in texts(fig):
        assert not RAW.search(text), text


def test_rfm_figures(sample) -> None:
    _, led = sample
    rfm = rfm_report(led)
    fig = charts.rfm_segment_shares(rfm)
    champions = rfm.segments.row(0, named=True)
    assert title(fig).startswith(
        f"Champions are {charts.share_text(champions['customer_share'])} of customers"
    )
    mig = rfm_migration(led, 1, now=rfm)
    assert mig.from_as_of == date(2026, 6, 30)
    heat = charts.rfm_migration_heatmap(mig)
    assert f"{charts.share_text(mig.stayed('Champions'))} of Champions" in title(heat)
    for text in texts(fig) + texts(heat):
        assert not RAW.search(text), text


def test_share_text_never_shows_minus_zero() -> None:
    assert charts.share_text(-0.00004) == "0%"
    assert charts.share_text(-0.003) == "-0.3%"
    assert charts.share_text(0.78) == "78%"
    assert charts.share_text(0.068) == "6.8%"
    assert charts.share_text(None) == "n/a"


def test_whale_curve_is_thinned_but_keeps_the_peak(sample) -> None:
    _, led = sample
    report = segment_report(led, curve_points=100)
    fig = charts.whale_curve(report)
    xs = [x for trace in fig.data if trace.mode == "lines" for x in trace.x]
    assert len(xs) < 200
    peak_x = report.whale_stats.profitable_customers / report.whale_stats.customers
    assert any(abs(x - peak_x) < 1e-12 for x in xs)
    assert max(xs) == 1.0


# ----------------------------------------------------------------------------- edge cases


def snapshot_with(profits: list[float], as_of: str = "2026-09-30") -> Snapshot:
    n = len(profits)
    ids = [f"k{i}" for i in range(n)]
    return Snapshot.from_frames(
        {"schema_version": 1, "as_of": as_of, "company": "T"},
        customers=pl.DataFrame(
            {
                "customer_id": ids,
                "acquired_on": [date(2020, 1, 1)] * n,
                "acquisition_channel": ["Web"] * n,
                "acquisition_cost": [0.0] * n,
                "region": ["North"] * n,
            },
            schema_overrides={"acquired_on": pl.Date, "customer_id": pl.String},
        ),
        transactions=pl.DataFrame(
            {
                "customer_id": ids,
                "date": [date(2026, 5, 1)] * n,
                "amount": [10.0] * n,
                "cost": [10.0 - p for p in profits],
                "channel": ["web"] * n,
            },
            schema_overrides={"date": pl.Date, "customer_id": pl.String},
        ),
        service_costs=pl.DataFrame(
            {
                "customer_id": ids,
                "date": [date(2026, 5, 2)] * n,
                "touchpoint": ["call_center"] * n,
                "cost": [0.0] * n,
            },
            schema_overrides={"date": pl.Date, "customer_id": pl.String},
        ),
    )


@pytest.mark.parametrize(
    ("case", "profits", "as_of"),
    [
        ("all unprofitable", [-1.0, -2.0, -3.0], "2026-09-30"),
        ("single customer", [4.0], "2026-09-30"),
        ("everyone profitable", [5.0, 3.0, 1.0], "2026-09-30"),
        ("empty window", [4.0, 1.0], "2028-09-30"),  # nothing in the last twelve months
    ],
)
def test_edge_cases_build(case: str, profits: list[float], as_of: str) -> None:
    led = build_ledger(snapshot_with(profits, as_of))
    report = segment_report(led)
    for builder in SEGMENT_BUILDERS:
        fig = builder(report)
        assert title(fig), (case, builder.__name__)
    if case == "all unprofitable":
        assert "lost" in title(charts.abc_shares(report))
        assert "lost" in title(charts.whale_curve(report)).lower()
        assert "($)" not in charts.whale_curve(report).layout.yaxis.title.text
        assert "USD" in charts.whale_curve(report).layout.yaxis.title.text
    if case == "everyone profitable":
        assert title(charts.whale_curve(report)) == "Every customer is profitable: no loss tail"
    if case == "empty window":
        assert title(charts.abc_shares(report)) == "No customer was active in this window"
    if case != "empty window":
        rfm = rfm_report(led)
        assert title(charts.rfm_segment_shares(rfm))


def test_cost_figures_without_costs_say_so(sample) -> None:
    _, led = sample
    report = segment_report(led, costs=False)
    for builder in (charts.cost_to_serve, charts.touchpoint_burden, charts.channel_mix):
        assert title(builder(report)).startswith("No ")
