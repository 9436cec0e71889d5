"""AppTest of the Lifecycle page: renders on both samples and at an earlier date, shows the
registry's numbers under the registry's labels, and its controls and tabs work."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import frame_with, metrics, open_page
from streamlit.testing.v1 import AppTest

from crm_app.state import escape_markdown
from crm_core import load_snapshot
from crm_core.churn.cuts import plan_cuts
from crm_core.churn.report import churn_report, fit_cuts
from crm_core.clv.valuation import value
from crm_core.copy.churn import LIFECYCLE_ROWS
from crm_core.copy.churn import headline as churn_headline
from crm_core.copy.lifecycle import CUSTOM_SUFFIX, TABS, headline
from crm_core.copy.lifecycle_progress import funnel_table
from crm_core.data.rules import StageRules
from crm_core.formatting import fmt_kind
from crm_core.lifecycle.funnel import lifecycle_funnel
from crm_core.lifecycle.report import CARD_KEYS, lifecycle_report
from crm_core.lifecycle.stages import CUSTOMER_STAGES
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import METRICS, metric_value

PAGE = "pages/lifecycle.py"


def show(at: AppTest, tab: str) -> None:
    at.session_state["lc_view"] = tab
    at.run()
    assert not at.exception, at.exception


def assert_registry_cards(at: AppTest, inputs) -> None:
    """Active customers and stage counts: the registry's labels and values."""
    shown = metrics(at)
    for key in CARD_KEYS:
        metric = METRICS[key]
        value = fmt_kind(metric_value(inputs, key), metric.kind, inputs.ledger.currency)
        assert shown[metric.label] == value, key


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_page_shows_the_registry_numbers(data_dir: Path, snapshot_id: str) -> None:
    at = open_page(snapshot_id, PAGE)
    inputs = snapshot_metrics(load_snapshot(data_dir / snapshot_id))
    assert_registry_cards(at, inputs)
    report = lifecycle_report(inputs)
    assert at.subheader[0].value == headline(report)
    table = frame_with(at, "change")
    assert table["customers"].tolist() == [
        report.stage_value(s, "customers") for s in CUSTOMER_STAGES
    ]
    assert len(at.get("plotly_chart")) == 2  # only the open tab is drawn
    assert not at.error
    show(at, "Early warning")
    # the first rows of the Churn risk page's call list, and a link to that page
    ledger = inputs.ledger
    fits = fit_cuts(ledger, plan_cuts(ledger).cuts)
    churn = churn_report(ledger, fits, value(fits[0]))
    listed = frame_with(at, "value_at_risk")
    assert len(listed) == min(churn.listed, LIFECYCLE_ROWS)
    top = churn.call_list.head(len(listed))
    assert listed["customer_id"].tolist() == top["customer_id"].to_list()
    assert listed["value_at_risk"].tolist() == pytest.approx(top["value_at_risk"].to_list())
    assert any(escape_markdown(churn_headline(churn)) in c.value for c in at.caption)
    links = [link.proto for link in at.get("page_link")]
    assert any(link.page.endswith("churn") for link in links), links
    show(at, "Funnel")
    shown = frame_with(at, "reached")
    funnel = lifecycle_funnel(inputs.ledger)
    assert shown["reached"].tolist() == funnel_table(funnel)["reached"].to_list()
    assert len(at.get("plotly_chart")) == 3
    for tab, charts in (("Transitions", 2), ("Cohorts", 2), ("Profit by tenure", 1)):
        show(at, tab)
        assert len(at.get("plotly_chart")) == charts, tab
    assert set(TABS) == {"Stages", "Early warning", "Transitions", "Funnel", "Cohorts",
                         "Profit by tenure"}  # fmt: skip


def test_active_customers_equal_the_overviews(data_dir: Path) -> None:
    at = open_page("test-retail")
    overview = metrics(at)
    at.switch_page(PAGE).run()
    assert not at.exception
    label = METRICS["active_customers"].label
    assert metrics(at)[label] == overview[label]


def test_controls_change_the_numbers(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="lc_compare").set_value(4).run()
    at.slider(key="lc_new_days").set_value(60).run()
    at.select_slider(key="lc_trend_months").set_value(9).run()
    at.selectbox(key="lc_years").set_value(1).run()
    assert not at.exception, at.exception
    inputs = snapshot_metrics(load_snapshot(data_dir / "test-retail"))
    rules = StageRules(new_days=60, trend_months=9)
    report = lifecycle_report(inputs, rules, 4)
    shown = metrics(at)
    for card in report.cards:
        fixed = card.key in ("active_customers", "stage_churned")
        label = card.label if fixed else card.label + CUSTOM_SUFFIX
        assert shown[label] == fmt_kind(card.value, "count"), card.key
    assert at.subheader[0].value == headline(report)
    # the rules are spelled out with the chosen thresholds, churn as the activity rule
    assert any("less than 60 days ago" in m.value for m in at.markdown)
    assert "lc_churn_after" not in [s.key for s in at.slider]
    show(at, "Funnel")
    steps = frame_with(at, "reached")
    assert steps["label"].tolist()[-1] == "Still active after 1 year"


def test_p_alive_signal_and_cohort_measures(data_dir: Path) -> None:
    at = open_page("test-retail", PAGE)
    at.toggle(key="lc_use_p_alive").set_value(True).run()
    assert not at.exception, at.exception
    inputs = snapshot_metrics(load_snapshot(data_dir / "test-retail"))
    rules = StageRules(decline_p_alive=0.5)
    report = lifecycle_report(inputs, rules, p_alive_model=inputs.clv[0].bgnbd)
    declining = METRICS["stage_declining"].label + CUSTOM_SUFFIX
    assert metrics(at)[declining] == fmt_kind(report.card("stage_declining").value, "count")
    show(at, "Cohorts")
    assert any("Annual retention" in c.value for c in at.caption)
    at.segmented_control(key="lc_cohort_metric").set_value("revenue_index").run()
    assert not at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("first-quarter revenue" in t for t in titles)
    show(at, "Profit by tenure")
    at.toggle(key="lc_complete_years").set_value(True).run()
    assert not at.exception


def test_earlier_as_of_date_and_subscriptions(data_dir: Path) -> None:
    at = open_page("test-subscription", PAGE)
    assert "lc_use_p_alive" not in [t.key for t in at.toggle]
    at.selectbox(key="as_of").set_value("2026-03-31").run()
    assert not at.exception, at.exception
    snap = load_snapshot(data_dir / "test-subscription").cut("2026-03-31")
    assert_registry_cards(at, snapshot_metrics(snap))
    assert "as of 31 Mar 2026" in at.caption[0].value
