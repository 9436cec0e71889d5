"""AppTest of the Executive overview: renders, and shows crm_core's numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest

from crm_core import load_snapshot
from crm_core.formatting import fmt_kind, fmt_pct
from crm_core.metrics.compute import snapshot_metrics
from crm_core.overview.report import overview_report


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_overview_shows_crm_core_numbers(data_dir: Path, snapshot_id: str) -> None:
    at = open_page(snapshot_id)
    assert not at.exception
    report = overview_report(snapshot_metrics(load_snapshot(data_dir / snapshot_id)))
    shown = {m.label: m.value for m in at.metric}
    for kpi in report.kpis:
        assert shown[kpi.label] == fmt_kind(kpi.value, kpi.kind, report.currency), kpi.key
    headline = at.subheader[0].value
    assert f"earn {fmt_pct(report.top_profit_share)} of profit" in headline
    assert len(at.get("plotly_chart")) == 2


def test_earlier_as_of_date(data_dir: Path) -> None:
    at = open_page("test-retail")
    at.selectbox(key="as_of").set_value("2026-03-31").run()
    assert not at.exception
    snap = load_snapshot(data_dir / "test-retail").cut("2026-03-31")
    report = overview_report(snapshot_metrics(snap))
    shown = {m.label: m.value for m in at.metric}
    active = report.kpi("active_customers")
    assert shown[active.label] == fmt_kind(active.value, "count")
    assert "as of 31 Mar 2026" in at.caption[0].value


def test_invalid_snapshot_shows_an_error_box(data_dir: Path) -> None:
    broken = data_dir / "broken"
    shutil.copytree(data_dir / "test-retail", broken)
    (broken / "customers.parquet").write_bytes(b"not parquet")
    at = open_page("broken")
    assert not at.exception
    assert any(
        "customers.parquet" in _plain(e.value) and "truncated or damaged" in _plain(e.value)
        for e in at.error
    )
    # the rest of the app stays usable: pick a good snapshot again
    at.selectbox(key="snapshot").set_value("test-retail").run()
    assert not at.exception
    assert not at.error
    assert len(at.metric) == 11


def test_no_snapshot_gives_guidance(tmp_path: Path, monkeypatch) -> None:
    from crm_app import state

    monkeypatch.setattr(state, "DATA_DIR", tmp_path / "empty")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "none"))
    at = AppTest.from_function(_run_app_with_empty_data, args=(str(tmp_path / "empty"),))
    at.run()
    assert not at.exception
    assert any("crm sample" in i.value for i in at.info)


def _run_app_with_empty_data(empty: str) -> None:
    from pathlib import Path

    from crm_app import state

    state.DATA_DIR = Path(empty)
    state.sidebar()
    state.require_selection()


def _plain(markdown: str) -> str:
    """Markdown source with escapes removed (data in error boxes is escaped)."""
    return markdown.replace("\\", "")


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_cards_compare_with_a_year_ago(data_dir: Path, snapshot_id: str) -> None:
    from dataclasses import replace

    from crm_core.clv import fit_models, value
    from crm_core.formatting import fmt_delta

    at = open_page(snapshot_id)
    at.segmented_control(key="ov_compare").set_value("year").run()
    assert not at.exception
    inputs = snapshot_metrics(load_snapshot(data_dir / snapshot_id))
    ledger = inputs.ledger
    step = 3 if ledger.contractual else 1
    year_ago = value(fit_models(ledger, 4 * step))
    report = overview_report(replace(inputs, clv={**inputs.clv, 4: year_ago}))
    shown = {m.label: m for m in at.metric}
    assert report.year_ago_as_of.strftime("%b %Y") in at.metric[0].proto.delta_description
    for kpi in report.kpis:
        assert shown[kpi.label].value == fmt_kind(kpi.value, kpi.kind, report.currency)
        delta = fmt_delta(kpi.year_delta, kpi.kind, report.currency)
        assert delta is not None, kpi.key  # every card has its change on a year ago
        assert shown[kpi.label].delta.lstrip("+-") == delta.lstrip("+-"), kpi.key
