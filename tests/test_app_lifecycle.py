"""AppTest of the Lifecycle page: renders, shows crm_core's numbers, and its controls work."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest

from crm_core import load_snapshot
from crm_core.charts.segments import share_text
from crm_core.data.expressions import add_months
from crm_core.formatting import fmt_count, fmt_kind, fmt_money
from crm_core.lifecycle.funnel import lifecycle_funnel
from crm_core.lifecycle.report import CUSTOMER_STAGES, STAGE_LABELS, StageRules, lifecycle_report

PAGE = "pages/lifecycle.py"


def assert_shows(at: AppTest, report) -> None:
    """Stage cards (customers, revenue, months), transition cards and the headline."""
    cur = report.currency
    cards = [(m.label, m.value) for m in at.metric]
    expected = []
    for prefix in ("customers_", "revenue_", "months_"):
        for kpi in report.kpis:
            if kpi.key.startswith(prefix):
                stage = kpi.key.removeprefix(prefix)
                expected.append((STAGE_LABELS[stage], fmt_kind(kpi.value, kpi.kind, cur)))
    t = report.transitions
    expected += [
        ("Started declining", fmt_count(t.into_declining.customers)),
        ("Revenue at risk", fmt_money(t.into_declining.revenue_ttm, cur)),
        ("Churned", fmt_count(t.into_churned.customers)),
        ("Revenue lost", fmt_money(t.into_churned.revenue_ttm, cur)),
    ]
    assert cards == expected
    declining = report.stage_value("declining", "customers")
    assert at.subheader[0].value.startswith(f"{fmt_count(declining)} customers are declining")
    # the stage table lists the customer stages with crm_core's counts
    table = next(f.value for f in at.dataframe if "change" in f.value.columns)
    assert table["customers"].tolist() == [
        report.stage_value(s, "customers") for s in CUSTOMER_STAGES
    ]


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_page_shows_crm_core_numbers(data_dir: Path, snapshot_id: str) -> None:
    at = open_page(snapshot_id, PAGE)
    snap = load_snapshot(data_dir / snapshot_id)
    assert_shows(at, lifecycle_report(snap))
    funnel = lifecycle_funnel(snap)
    shown = next(f.value for f in at.dataframe if "Step" in f.value.columns)
    assert shown["Reached"].tolist() == [fmt_count(v) for v in funnel.steps["reached"]]
    assert shown["Conversion of the eligible"].tolist()[1:] == [
        share_text(v) for v in funnel.steps["conversion"].to_list()[1:]
    ]
    assert len(at.get("plotly_chart")) == 10
    assert not at.error


def test_controls_change_the_numbers(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="lc_compare").set_value(12).run()
    at.slider(key="lc_new_days").set_value(60).run()
    at.slider(key="lc_churn_after").set_value(300).run()
    at.selectbox(key="lc_years").set_value(1).run()
    assert not at.exception, at.exception
    snap = load_snapshot(data_dir / "test-retail")
    rules = StageRules(new_days=60, churn_after_days=300)
    assert_shows(at, lifecycle_report(snap, rules, add_months(snap.as_of, -12)))
    funnel = lifecycle_funnel(snap, years=1, rules=rules)
    shown = next(f.value for f in at.dataframe if "Step" in f.value.columns)
    assert shown["Step"].tolist()[-1] == "Still active after 1 year"
    assert shown["Reached"].tolist() == [fmt_count(v) for v in funnel.steps["reached"]]
    # the rules are spelled out with the chosen thresholds
    assert any("less than 60 days ago" in m.value for m in at.markdown)


def test_p_alive_signal_and_cohort_metric(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.toggle(key="lc_use_p_alive").set_value(True).run()
    assert not at.exception, at.exception
    snap = load_snapshot(data_dir / "test-retail")
    report = lifecycle_report(snap, StageRules(decline_p_alive=0.5))
    assert_shows(at, report)
    at.segmented_control(key="lc_cohort_metric").set_value("revenue_retention").run()
    assert not at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("first-quarter revenue" in t for t in titles)


def test_earlier_as_of_date_and_contract_rules(data_dir: Path) -> None:
    at = open_page("test-subscription", PAGE)
    # churn comes from the contract: no inactivity slider for subscriptions
    assert "lc_churn_after" not in [s.key for s in at.slider]
    at.selectbox(key="as_of").set_value("2026-03-31").run()
    assert not at.exception, at.exception
    snap = load_snapshot(data_dir / "test-subscription").cut("2026-03-31")
    assert_shows(at, lifecycle_report(snap))
