"""AppTest of the Growth page on both samples and an earlier date: it renders and shows
crm_core's numbers (the registry's cards, the movements, unit economics, forecasts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from conftest import frame_with, metrics
from streamlit.testing.v1 import AppTest

from crm_core import load_snapshot
from crm_core.clv import fit_models, value
from crm_core.clv.holdout import holdout_check
from crm_core.copy import growth as copy
from crm_core.data.ledger import build_ledger
from crm_core.formatting import fmt_kind, fmt_pct
from crm_core.growth.economics import unit_economics
from crm_core.metrics import movements as mv
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import METRICS, metric_value

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _open(snapshot_id: str, view: str | None = None, as_of: str | None = None) -> Any:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["snapshot"] = snapshot_id
    if as_of is not None:
        at.query_params["as_of"] = as_of
    if view is not None:
        at.query_params["gr_view"] = view
    at.switch_page("pages/growth.py")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.mark.parametrize(
    ("snapshot_id", "as_of"),
    [("test-retail", None), ("test-subscription", None), ("test-retail", "2026-03-31")],
)
def test_cards_and_movements_are_crm_cores(data_dir: Path, snapshot_id: str, as_of) -> None:
    at = _open(snapshot_id, as_of=as_of)
    snap = load_snapshot(data_dir / snapshot_id)
    snap = snap if as_of is None else snap.cut(as_of)
    inputs = snapshot_metrics(snap)
    shown = metrics(at)
    keys = copy.card_keys(snap.manifest.contractual)
    for key in keys:
        metric = METRICS[key]
        assert shown[metric.label] == fmt_kind(metric_value(inputs, key), metric.kind), key
    assert f"kept {fmt_pct(metric_value(inputs, 'nrr'))}" in at.subheader[0].value
    assert len(at.get("plotly_chart")) == 3  # waterfall, trend, retention
    # the movers: the churned customers of the latest period, largest change first
    movers = frame_with(at, "change")
    assert len(movers) == min(copy.TOP_MOVERS, len(movers))
    assert (movers["revenue_movement"] == "Churned").all()
    assert movers["change"].abs().is_monotonic_decreasing
    ledger = build_ledger(snap)
    step = 3 if ledger.contractual else 1
    every = mv.customer_movements(ledger, range(step)).collect()
    # every customer's churned amount adds up to the card (the drill-down is exact)
    assert every["churned_revenue"].sum() == pytest.approx(-metric_value(inputs, "churned_revenue"))
    assert every.filter(pl.col(mv.MOVEMENT) == mv.CHURNED).height >= len(movers)


def test_monthly_view_of_a_subscription(data_dir: Path) -> None:
    at = _open("test-subscription")
    at.segmented_control(key="gr_grain").set_value("month").run()
    assert not at.exception
    ledger = build_ledger(load_snapshot(data_dir / "test-subscription"))
    row = mv.period_movements(ledger).row(0, named=True)
    assert at.selectbox(key="gr_period_month").value == 0
    chart = at.get("plotly_chart")[0].proto.spec
    assert f"MRR {row['compared_label']}" in chart and f"MRR {row['label']}" in chart


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_unit_economics_table(data_dir: Path, snapshot_id: str) -> None:
    at = _open(snapshot_id, "Unit economics")
    ledger = build_ledger(load_snapshot(data_dir / snapshot_id))
    result = unit_economics(ledger, value(fit_models(ledger)))
    shown = frame_with(at, "value_to_cac")
    assert list(shown["group"]) == [*result.table["group"], "All"]
    assert list(shown["value_to_cac"][:-1]) == pytest.approx(result.table["value_to_cac"].to_list())
    assert list(shown["retention_12m"][:-1]) == pytest.approx(
        [round(v * 100, 1) for v in result.table["retention_12m"]]
    )
    assert len(at.get("plotly_chart")) == 1
    at.segmented_control(key="gr_by").set_value("cohort").run()
    assert not at.exception
    cohorts = frame_with(at, "value_to_cac")
    assert cohorts["customers"].sum() == 2 * ledger.customers.height  # groups + the total


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_forecast_errors_are_the_holdout_checks(data_dir: Path, snapshot_id: str) -> None:
    at = _open(snapshot_id, "Forecast vs actual")
    ledger = build_ledger(load_snapshot(data_dir / snapshot_id))
    step = 3 if ledger.contractual else 1
    table = frame_with(at, "error")
    year_back = ledger.period_end(4 * step)
    row = table.loc[pd.to_datetime(table["fit_end"]).dt.date == year_back].iloc[0]
    check = holdout_check(ledger, year_back, models=fit_models(ledger, 4 * step))
    assert row["error"] == pytest.approx(round(check.error * 100, 1))
    assert at.selectbox(key="gr_fit").value == year_back
    assert len(at.get("plotly_chart")) == 2


@pytest.mark.slow
@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_forecast_table_agrees_with_the_customer_value_pages_check(data_dir, snapshot_id) -> None:
    """The Customer value page's holdout check, read off that page at two calibration
    dates, states the forecast and the actual of the Growth page's row for the same fit."""
    growth = frame_with(_open(snapshot_id, "Forecast vs actual"), "error")
    check = AppTest.from_file(APP, default_timeout=300)
    check.query_params["snapshot"] = snapshot_id
    check.query_params["cv_view"] = "Model check"
    check.switch_page("pages/customer_value.py")
    check.run()
    assert not check.exception, check.exception
    box = check.selectbox(key="cv_calibration")
    for end in (box.value, box.options[0] if box.value != box.options[0] else box.options[1]):
        box = check.selectbox(key="cv_calibration").set_value(end)
        check.run()
        (summary,) = [m.value for m in check.markdown if m.value.startswith("Fitted on data to")]
        day = pd.Timestamp(end).date() if not hasattr(end, "year") else end
        row = growth.loc[pd.to_datetime(growth["fit_end"]).dt.date == day].iloc[0]
        assert f"{round(row['forecast']):,}" in summary, (summary, row.to_dict())
        assert f"{round(row['actual']):,} " in summary, (summary, row.to_dict())
        # the same error: the summary's whole percent, the table's one decimal
        shown = float(re.search(r"\(([+-]?\d+)%\)\.$", summary).group(1))
        assert abs(shown - row["error"]) <= 0.55, (summary, row.to_dict())
