"""AppTest of the Segments page: renders, shows crm_core's numbers, and its controls work."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from conftest import frame_with, metrics, open_page
from streamlit.testing.v1 import AppTest

from crm_core import load_snapshot
from crm_core.charts.segments import share_text
from crm_core.data.snapshot import write_snapshot
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.segments.profit import ProfitWindow
from crm_core.segments.report import SegmentReport, segment_report, tier_name
from crm_core.segments.rfm import rfm_report

PAGE = "pages/segments.py"


def tier_table(at: AppTest) -> dict[str, dict[str, str]]:
    """The A/B/C summary table as {measure: {column: text}}."""
    frame = at.table[0].value
    first = frame.columns[0]
    return {row[first]: row for row in frame.to_dict("records")}


def assert_shows(at: AppTest, report: SegmentReport) -> None:
    cur = report.currency
    stats = report.whale_stats
    shown = metrics(at)
    assert shown["Customers"] == fmt_count(stats.customers)
    assert shown["Net profit"] == fmt_money(stats.total_profit, cur)
    assert shown[f"Top {fmt_pct(report.cutoffs[0])} earn"] == fmt_pct(report.top_profit_share)
    assert shown["Profitable customers"] == fmt_pct(stats.peak_customer_share)
    assert shown["Lost by loss-makers"] == fmt_money(-stats.loss_tail_profit, cur)
    table = tier_table(at)
    for row in report.tiers.iter_rows(named=True):
        column = tier_name(str(row["tier"]), report.cutoffs)
        assert table["Customers"][column] == fmt_count(row["customers"])
        assert table["Net profit"][column] == fmt_money(row["profit"], cur)
        assert table["Share of net profit"][column] == share_text(row["profit_share"])
        assert table["Share of total costs"][column] == share_text(row["cost_share"])


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_page_shows_crm_core_numbers(data_dir: Path, snapshot_id: str) -> None:
    at = open_page(snapshot_id, PAGE)
    snap = load_snapshot(data_dir / snapshot_id)
    report = segment_report(snap)
    assert_shows(at, report)
    # the headline equals the tier table's tier A share, which the Overview also shows
    title = at.get("plotly_chart")[0].proto.spec
    assert f"Top 10% of customers earn {share_text(report.top_profit_share)}" in title
    assert len(at.get("plotly_chart")) >= 8
    assert not at.error and not at.warning
    # RFM segments table: same customers per segment as crm_core
    rfm = rfm_report(snap)
    rfm_shown = frame_with(at, "median_recency_days")
    assert rfm_shown["customers"].tolist() == rfm.segments["customers"].to_list()


def test_window_tiers_and_filters_change_the_numbers(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="seg_months").set_value(6).run()
    at.slider(key="seg_tiers").set_value((20, 50)).run()
    at.multiselect(key="seg_region").set_value(["West", "Midwest"]).run()
    at.multiselect(key="seg_channel").set_value(["Referral"]).run()
    assert not at.exception
    snap = load_snapshot(data_dir / "test-retail")
    report = segment_report(
        snap,
        ProfitWindow.trailing(snap.as_of, 6),
        (0.2, 0.3, 0.5),
        regions=["West", "Midwest"],
        channels=["Referral"],
    )
    assert_shows(at, report)


def test_amortised_acquisition_cost(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="seg_acq").set_value("3").run()
    assert not at.exception
    report = segment_report(load_snapshot(data_dir / "test-retail"), amortise_years=3.0)
    assert metrics(at)["Net profit"] == fmt_money(report.total_profit, report.currency)


def test_drill_down_lists_the_tier_and_offers_csv(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    report = segment_report(load_snapshot(data_dir / "test-retail"))
    at.segmented_control(key="seg_tier").set_value("C").run()
    assert not at.exception
    members = report.tier_customers("C")
    lead = f"**{fmt_count(members.height)} customers in tier C: other 70%**"
    assert any(m.value.startswith(lead) for m in at.markdown)
    listed = frame_with(at, "profit_rank")
    assert listed["customer_id"].tolist() == members["customer_id"].to_list()
    button = at.download_button(key="seg_download")
    assert button.label == "Download tier C as CSV"


def test_value_matrix_thresholds(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.toggle(key="seg_vm_custom").set_value(True).run()
    at.number_input(key="seg_vm_freq").set_value(20.0).run()
    at.number_input(key="seg_vm_amount").set_value(1000.0).run()
    assert not at.exception
    report = segment_report(
        load_snapshot(data_dir / "test-retail"), value_thresholds=(20.0, 1000.0)
    )
    shown = frame_with(at, "profit_per_customer")
    assert shown["customers"].tolist() == report.value_matrix.table["customers"].to_list()


def test_migration_date_choice(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    choice = at.selectbox(key="seg_rfm_from")
    assert len(choice.options) >= 2
    choice.set_value(choice.options[1]).run()
    assert not at.exception
    assert any("were still" in c.proto.spec for c in at.get("plotly_chart"))


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
    report = segment_report(load_snapshot(data_dir / "test-loss"))
    assert report.total_profit < 0
    assert any("not meaningful" in w.value for w in at.warning)
    assert metrics(at)["Top 10% earn"] == "n/a"
    assert "Share of net profit" not in tier_table(at)


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
