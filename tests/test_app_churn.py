"""AppTest of the Churn risk page on both samples and an earlier date: it renders, its
numbers are ``crm churn``'s on the same snapshot, the contact controls move the money saved
as computed by hand, the What-if link carries the retention change, and a snapshot too
short to train on gives an error box instead of a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np
import pytest
from conftest import frame_with, metrics
from streamlit.testing.v1 import AppTest
from test_churn_report import recent_only

from crm_app.state import escape_markdown
from crm_core import load_snapshot
from crm_core.churn.columns import R
from crm_core.churn.cuts import plan_cuts
from crm_core.churn.report import churn_report, fit_cuts
from crm_core.cli import main
from crm_core.clv.valuation import value
from crm_core.copy import churn as copy
from crm_core.data.ledger import build_ledger
from crm_core.formatting import fmt_count, fmt_kind, fmt_money, fmt_ratio
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import METRICS, metric_value
from crm_core.whatif.baseline import baseline_segments
from crm_core.whatif.controls import retention_value

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "pages/churn.py"


def open_churn(snapshot_id: str, as_of: str | None = None, **params: str) -> Any:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["snapshot"] = snapshot_id
    if as_of is not None:
        at.query_params["as_of"] = as_of
    for key, val in params.items():
        at.query_params[key] = val
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def show(at: AppTest, tab: str) -> None:
    at.session_state["ch_view"] = tab
    at.run()
    assert not at.exception, at.exception


def cli_json(capsys, path: Path, as_of: str | None) -> dict:
    argv = ["churn", "--snapshot", str(path), "--json"]
    argv += [] if as_of is None else ["--as-of", as_of]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def report_of(path: Path, as_of: str | None):
    snap = load_snapshot(path)
    ledger = build_ledger(snap if as_of is None else snap.cut(as_of))
    fits = fit_cuts(ledger, plan_cuts(ledger).cuts)
    return ledger, churn_report(ledger, fits, value(fits[0]))


@pytest.mark.parametrize(
    ("snapshot_id", "as_of"),
    [("test-retail", None), ("test-subscription", None), ("test-retail", "2026-03-31")],
)
def test_page_numbers_are_crm_churns(data_dir: Path, capsys, snapshot_id: str, as_of) -> None:
    at = open_churn(snapshot_id, as_of)
    assert not at.error, [e.value for e in at.error]
    path = data_dir / snapshot_id
    data = cli_json(capsys, path, as_of)
    _, report = report_of(path, as_of)
    shown = metrics(at)
    assert shown["ROC AUC, model"] == f"{data['roc_auc']:.3f}"
    assert shown["ROC AUC, recency alone"] == f"{data['baseline_roc_auc']:.3f}"
    lift = data["top_decile_lift" if data["ranked_by"] == "model" else "baseline_top_decile_lift"]
    assert shown["Top-10% lift"] == fmt_ratio(lift)
    assert shown["Value at risk"] == fmt_money(data["value_at_risk"], data["currency"])
    assert shown["Expected churners"] == fmt_count(data["expected_churners"])
    # every active customer (the registry's number, under its label) is scored
    snap = load_snapshot(path)
    inputs = snapshot_metrics(snap if as_of is None else snap.cut(as_of))
    active = METRICS["active_customers"]
    assert shown[active.label] == fmt_kind(metric_value(inputs, "active_customers"), active.kind)
    assert metric_value(inputs, "active_customers") == data["customers_scored"]
    assert at.subheader[0].value == copy.headline(report)
    assert f"{data['ranked_top_decile_capture']:.0%}" in at.subheader[0].value
    assert any(escape_markdown(copy.quality_sentence(report)) == c.value for c in at.caption)
    # the call list: the CLI's ranking, the default 500 contacts (or fewer customers)
    table = frame_with(at, R.value_at_risk)
    assert len(table) == min(500, data["customers_listed"])
    top = report.call_list.head(len(table))
    assert table[R.customer_id].tolist() == top[R.customer_id].to_list()
    # the CLV fit's optimiser may end a few 1e-8 apart from run to run
    np.testing.assert_allclose(
        table[R.value_at_risk].to_numpy(), top[R.value_at_risk].to_numpy(), rtol=1e-6
    )
    assert table["reasons"].iloc[0]  # the first customer has reasons in words
    assert at.get("download_button") and at.get("page_link")
    assert len(at.get("plotly_chart")) == 1  # only the open tab is drawn
    show(at, "Value at risk")
    assert len(at.get("plotly_chart")) == 2
    show(at, "Model quality")
    quality = frame_with(at, "ROC AUC")
    assert quality["ROC AUC"].tolist()[0] == f"{data['roc_auc']:.4f}"
    assert quality["Brier score"].tolist()[0] == f"{data['brier']:.4f}"
    assert quality["PR AUC"].tolist()[0] == f"{data['pr_auc']:.4f}"
    assert len(at.get("plotly_chart")) == 2


def test_contacts_move_the_money_saved(data_dir: Path) -> None:
    at = open_churn("test-subscription")
    at.slider(key="ch_contacts").set_value(100).run()
    at.slider(key="ch_success").set_value(40).run()
    at.number_input(key="ch_cost").set_value(12.0).run()
    assert not at.exception, at.exception
    _, report = report_of(data_dir / "test-subscription", None)
    top = report.scored.head(100)
    saved = 0.4 * float(top[R.value_at_risk].sum())
    shown = metrics(at)
    assert shown["Value at risk contacted"] == fmt_money(float(top[R.value_at_risk].sum()))
    assert shown["Expected value saved"] == fmt_money(saved)
    assert shown["Contact cost"] == fmt_money(1_200.0)
    assert shown["Net saving"] == fmt_money(saved - 1_200.0)
    assert len(frame_with(at, R.value_at_risk)) == 100
    # the What-if link: profit tiers, each tier's retention raised by the customers kept
    link = at.get("page_link")[0].proto
    assert link.page.endswith("whatif") or "whatif" in link.page
    query = {k: v[0] for k, v in parse_qs(link.query_string).items()}
    assert query["seg"] == "Profit tiers" and query["snapshot"] == "test-subscription"
    ledger = build_ledger(load_snapshot(data_dir / "test-subscription"))
    # the What-if page's baseline: subscriptions' retention from the sBG fit at the date
    baseline = baseline_segments(ledger, models=fit_cuts(ledger, (0,))[0])
    kept = {t: 0.4 * float(top.filter(top[R.tier] == t)[R.p_churn].sum()) for t in "ABC"}
    for segment in baseline.segments:
        code = baseline.codes[segment.name]
        new = min(segment.retention + kept[code] / segment.customers, 1.0)
        assert float(query[f"r_{code}"]) == retention_value(new), code


def test_whatif_link_opens_the_whatif_page_with_the_change(data_dir: Path) -> None:
    at = open_churn("test-subscription", ch_contacts="300", ch_success="60")
    query = {k: v[0] for k, v in parse_qs(at.get("page_link")[0].proto.query_string).items()}
    whatif = AppTest.from_file(APP, default_timeout=300)
    for key, val in query.items():
        whatif.query_params[key] = val
    whatif.switch_page("pages/whatif.py")
    whatif.run()
    assert not whatif.exception, whatif.exception
    assert whatif.selectbox(key="seg").value == "Profit tiers"
    moved = [k for k in query if k.startswith("r_")]
    assert moved
    for key in moved:
        assert whatif.slider(key=key).value == float(query[key]), key


def test_too_short_a_history_is_an_error_box(data_dir: Path) -> None:
    recent_only(data_dir / "test-retail", data_dir / "short-retail", "2026-04-01")
    at = open_churn("short-retail")
    assert len(at.error) == 1 and "churn model" in at.error[0].value
    assert "history of more than 6 months" in at.error[0].value
    assert not at.get("plotly_chart") and not at.metric
