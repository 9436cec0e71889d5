"""AppTest of the Segments page: renders, shows crm_core's numbers, and its controls work."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from conftest import APP, frame_with, metrics, open_page
from streamlit.testing.v1 import AppTest

from crm_core import load_snapshot
from crm_core.clv.fitted import fit_models
from crm_core.clv.valuation import value
from crm_core.copy import segments as copy
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import Snapshot, write_snapshot
from crm_core.errors import DataError
from crm_core.formatting import fmt_count, fmt_kind, fmt_money, fmt_pct
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import METRICS, metric_value
from crm_core.segments.drilldown import TOP_ROWS
from crm_core.segments.report import SegmentReport, segment_report, tier_name
from crm_core.segments.rfm import rfm_report

PAGE = "pages/segments.py"
TOP = METRICS["top_profit_share"]


def report_of(snap: Snapshot, **kw) -> SegmentReport:
    """What the page shows: the report with the valuation of the shared fit (if any)."""
    led = build_ledger(snap)
    try:
        clv = value(fit_models(led))
    except DataError:  # the page shows the tiers without CLV then
        clv = None
    return segment_report(led, clv=clv, **kw)


def tier_table(at: AppTest) -> dict[str, dict[str, str]]:
    """The A/B/C summary table as {measure: {column: text}}."""
    frame = at.table[0].value
    first = frame.columns[0]
    return {row[first]: row for row in frame.to_dict("records")}


def show(at: AppTest, view: str) -> AppTest:
    """Open a tab (the tabs are bound to ``seg_view``)."""
    at.session_state["seg_view"] = view
    at.run()
    assert not at.exception, at.exception
    return at


def assert_shows(at: AppTest, report: SegmentReport) -> None:
    cur = report.currency
    stats = report.whale_stats
    shown = metrics(at)
    assert shown[copy.CUSTOMERS_LABEL] == fmt_count(stats.customers)
    assert shown["Net profit"] == fmt_money(stats.total_profit, cur)
    if not report.is_overview_default:
        label = f"Top {fmt_pct(report.cutoffs[0])} earn (this selection)"
        assert shown[label] == fmt_kind(report.top_profit_share, "pct")
        assert TOP.label not in shown  # a different quantity, a different label
    assert shown["Profitable customers"] == fmt_pct(stats.peak_customer_share)
    assert shown["Lost by loss-makers"] == fmt_money(-stats.loss_tail_profit, cur)
    table = tier_table(at)
    for row in report.tiers.iter_rows(named=True):
        column = tier_name(str(row["tier"]), report.cutoffs)
        assert table["Customers"][column] == fmt_count(row["customers"])
        assert table["Net profit"][column] == fmt_money(row["profit"], cur)
        assert table["Share of net profit"][column] == copy.share_text(row["profit_share"])
        assert table["Share of total costs"][column] == copy.share_text(row["cost_share"])
        if report.has_clv:
            clv = fmt_money(row["avg_clv"], cur, compact=False)
            assert table[copy.CLV_LABEL][column] == clv


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_page_shows_crm_core_numbers(data_dir: Path, snapshot_id: str) -> None:
    at = open_page(snapshot_id, PAGE)
    snap = load_snapshot(data_dir / snapshot_id)
    report = report_of(snap)
    assert_shows(at, report)
    # with the default controls the third card IS the registry's top-10% share, the
    # Executive overview's headline, under the registry's label
    registry = metric_value(snapshot_metrics(snap), "top_profit_share")
    assert metrics(at)[TOP.label] == fmt_kind(registry, TOP.kind, report.currency)
    assert report.top_profit_share == pytest.approx(registry)
    title = at.get("plotly_chart")[0].proto.spec
    assert f"Top 10% of customers earn {copy.share_text(registry)}" in title
    assert not at.error and not at.warning
    # the customers card says how it relates to the Overview's active customers
    note = next(c.value for c in at.caption if "dealt with" in c.value)
    active = metric_value(snapshot_metrics(snap), "active_customers")
    assert f"Active customers \\({fmt_count(active, compact=False)}\\)" in note
    assert len(at.get("plotly_chart")) == 1  # only the open tab is drawn
    # RFM segments: same customers per segment as crm_core, and the migration heatmap
    show(at, "RFM segments")
    rfm = rfm_report(build_ledger(snap))
    rfm_shown = frame_with(at, "median_recency_days")
    assert rfm_shown["customers"].tolist() == rfm.segments["customers"].to_list()
    assert any("were still" in c.proto.spec for c in at.get("plotly_chart"))
    for view in copy.VIEWS:
        show(at, view)
        assert at.get("plotly_chart"), view


def test_window_tiers_and_filters_change_the_numbers(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="seg_months").set_value(6).run()
    at.slider(key="seg_tiers").set_value((20, 50)).run()
    at.multiselect(key="seg_region").set_value(["West", "Midwest"]).run()
    at.multiselect(key="seg_channel").set_value(["Referral"]).run()
    assert not at.exception
    report = report_of(
        load_snapshot(data_dir / "test-retail"),
        months=6,
        cutoffs=(0.2, 0.3, 0.5),
        regions=["West", "Midwest"],
        channels=["Referral"],
    )
    assert_shows(at, report)


def test_amortised_acquisition_cost(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="seg_acq").set_value("3").run()
    assert not at.exception
    report = report_of(load_snapshot(data_dir / "test-retail"), amortise_years=3.0)
    assert metrics(at)["Net profit"] == fmt_money(report.total_profit, report.currency)
    assert_shows(at, report)


def test_earlier_as_of_date(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="as_of").set_value("2026-03-31").run()
    assert not at.exception
    snap = load_snapshot(data_dir / "test-retail").cut("2026-03-31")
    report = report_of(snap)
    assert report.window.label == "1 Apr 2025 – 31 Mar 2026"
    assert_shows(at, report)
    registry = metric_value(snapshot_metrics(snap), "top_profit_share")
    assert metrics(at)[TOP.label] == fmt_kind(registry, TOP.kind)


def test_drill_down_lists_the_tier_and_offers_csv(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    report = report_of(load_snapshot(data_dir / "test-retail"))
    at.segmented_control(key="seg_tier").set_value("C").run()
    assert not at.exception
    members = report.tier_customers("C")
    assert members.height > TOP_ROWS  # the sample's tier C is longer than the screen list
    lead = f"**{fmt_count(members.height, compact=False)} customers in tier C: other 70%**"
    assert any(m.value.startswith(lead) for m in at.markdown)
    listed = frame_with(at, "profit_rank")
    assert listed["customer_id"].tolist() == members["customer_id"].head(TOP_ROWS).to_list()
    assert listed["profit"].tolist() == members["profit"].head(TOP_ROWS).round(2).to_list()
    assert any(f"{TOP_ROWS} most profitable of {members.height:,}" in c.value for c in at.caption)
    button = at.download_button(key="seg_download")
    assert button.label == "Download tier C as CSV"


def test_value_matrix_thresholds(data_dir: Path) -> None:
    at = show(open_page("test-retail", PAGE), "Value matrix")
    at.toggle(key="seg_vm_custom").set_value(True).run()
    at.number_input(key="seg_vm_freq").set_value(20.0).run()
    at.number_input(key="seg_vm_amount").set_value(1000.0).run()
    assert not at.exception
    report = report_of(load_snapshot(data_dir / "test-retail"), value_thresholds=(20.0, 1000.0))
    shown = frame_with(at, "profit_per_customer")
    assert shown["customers"].tolist() == report.value_matrix.table["customers"].to_list()


def test_migration_from_a_shared_link(data_dir: Path) -> None:
    """A URL naming the comparison is honoured on the first run (no stale heatmap)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["snapshot"] = "test-retail"
    at.query_params["seg_view"] = "RFM segments"
    at.query_params["seg_rfm_from"] = "12 months earlier"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    heat = [c.proto.spec for c in at.get("plotly_chart") if "were still" in c.proto.spec]
    assert heat and "30 Sep 2025" in heat[0]


def test_migration_date_choice(data_dir: Path) -> None:
    at = show(open_page("test-retail", PAGE), "RFM segments")
    choice = at.selectbox(key="seg_rfm_from")
    assert choice.options[:2] == ["3 months earlier", "6 months earlier"]
    choice.set_value(6).run()
    assert not at.exception
    heat = [c.proto.spec for c in at.get("plotly_chart") if "were still" in c.proto.spec]
    assert heat and "31 Mar 2026" in heat[0]  # six months before the as-of date


def test_customers_losing_money_get_a_clear_message(data_dir: Path) -> None:
    snap = load_snapshot(data_dir / "test-retail")
    write_snapshot(
        data_dir / "test-loss",
        manifest=replace(snap.manifest, company="Lossy"),
        customers=snap.customers,
        transactions=snap.transactions.with_columns((pl.col("amount").abs() * 1.3).alias("cost")),
        service_costs=snap.service_costs,
    )
    at = open_page("test-loss", PAGE)
    report = report_of(load_snapshot(data_dir / "test-loss"))
    assert report.total_profit < 0
    assert any("not meaningful" in w.value for w in at.warning)
    assert metrics(at)[TOP.label] == "n/a"
    assert "Share of net profit" not in tier_table(at)
    assert any(f"{copy.CLV_LABEL} is not shown" in c.value.replace("\\", "") for c in at.caption)


def test_empty_window_says_what_to_do(data_dir: Path) -> None:
    snap = load_snapshot(data_dir / "test-retail")
    old = snap.cut("2024-06-30")
    write_snapshot(
        data_dir / "test-dormant",
        manifest=snap.manifest,  # as of 2026-09-30, but nothing happened after mid-2024
        customers=old.customers,
        transactions=old.transactions,
        service_costs=old.service_costs,
    )
    at = open_page("test-dormant", PAGE)
    assert any("No customer bought" in i.value for i in at.info)
    assert not at.metric
    assert not at.tabs  # no empty tabs under the message


def test_the_tier_csv_has_every_customer_in_words(data_dir: Path) -> None:
    from crm_app.loaders.segments import _members

    snap = load_snapshot(data_dir / "test-retail")
    report = report_of(snap)
    members = _members(report, "C", snap.as_of)
    assert members.shown.height == TOP_ROWS < members.customers
    lines = members.csv().decode().splitlines()
    assert len(lines) == members.customers + 1
    header = lines[0].split(",")
    assert header[:3] == ["Customer", "Profit rank", "Net profit (USD)"]
    assert "CLV (3-year) (USD)" in header and "Tier" in header
    assert not any("e-" in line or "e+" in line for line in lines[1:])
    cents = [line.split(",")[2] for line in lines[1:]]
    assert all(len(v.split(".")[1]) == 2 for v in cents)  # money to the cent
    assert members.file_name == "segments-tier-C-2026-09-30.csv"
