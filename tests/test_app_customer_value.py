"""AppTest of the Customer value page: renders for both business models, shows crm_core's
numbers, its inputs drive the formulas, and a snapshot the models cannot fit leaves the
calculator working."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import frame_with, metrics, open_page
from streamlit.testing.v1 import AppTest

from crm_core import load_snapshot
from crm_core.clv import clv_bands_by, customer_clv, group_labels, holdout_check
from crm_core.clv.customer import parameter_table
from crm_core.clv.formulas import clv_contribution, clv_profit, clv_retention, clv_revenue
from crm_core.clv.holdout import calibration_choices
from crm_core.clv.ltv import cohort_choices, ltv_table, ltv_table_from_cohort, ltv_table_text
from crm_core.data.snapshot import write_snapshot
from crm_core.formatting import fmt_count, fmt_money, fmt_pct

PAGE = "pages/customer_value.py"


def open_value(snapshot_id: str, view: str | None = None):
    at = open_page(snapshot_id, PAGE)
    if view is not None:
        at.session_state["cv_view"] = view
        at.run()
        assert not at.exception, at.exception
    return at


def headers(at: AppTest, column: str) -> list[str]:
    """The headers users see on the st.dataframe showing ``column`` (its column config)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            config = json.loads(frame.proto.columns)
            return [config[c]["label"] for c in frame.value.columns]
    raise AssertionError(f"no table with a {column!r} column")


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_cards_and_top_customers_match_crm_core(data_dir: Path, snapshot_id: str) -> None:
    at = open_value(snapshot_id)
    snap = load_snapshot(data_dir / snapshot_id)
    result = customer_clv(snap)
    cur = snap.currency
    shown = metrics(at)
    assert shown["Customer equity"] == fmt_money(result.customer_equity, cur)
    assert shown["Average CLV per customer valued"] == fmt_money(result.average_clv, cur)
    assert shown["Customers valued"] == fmt_count(result.customers)
    assert shown["Margin used"] == fmt_pct(result.margin)
    # the P10-P90 ranges: crm_core's bands with the page's draws and seed
    bands = clv_bands_by(result, {"tier": group_labels(snap, "tier")}, draws=100, seed=0)["tier"]
    delta = {m.label: m.proto.delta for m in at.metric}
    assert delta["Customer equity"] == (
        f"P10–P90 {fmt_money(bands.equity_p10, cur)} – {fmt_money(bands.equity_p90, cur)}"
    )
    assert at.subheader[0].value == (
        f"Customers are worth {fmt_money(result.customer_equity, cur)} over the next 3 years"
    )
    assert any(result.method in c.value for c in at.caption)  # names model and margin
    # the top 25 customers, in crm_core's order, with crm_core's CLV
    top = frame_with(at, "customer_id")  # headers in words come from the column config
    expected = result.table.head(25)
    assert top["customer_id"].tolist() == expected["customer_id"].to_list()
    assert top["clv"].tolist() == pytest.approx(expected["clv"].to_list())
    words = headers(at, "customer_id")
    assert words[:2] == ["Customer", "CLV ($)"] and not any("_" in w for w in words)
    share = result.top_share(25 / result.customers)
    assert f"25 most valuable customers hold {fmt_pct(share)}" in at.subheader[1].value
    model_chart = "cv_chart_retention" if snap.manifest.contractual else "cv_chart_p_alive"
    charts = {c.proto.id for c in at.get("plotly_chart")}
    assert len(charts) == 3 and any(model_chart in c for c in charts)
    assert not at.error


def test_horizon_changes_the_valuation(data_dir: Path) -> None:
    at = open_value("test-subscription")
    at.selectbox(key="cv_horizon").set_value(5).run()
    at.selectbox(key="cv_top").set_value(10).run()
    assert not at.exception
    result = customer_clv(load_snapshot(data_dir / "test-subscription"), horizon_years=5)
    assert metrics(at)["Customer equity"] == fmt_money(result.customer_equity, "USD")
    top = frame_with(at, "customer_id")
    assert top["customer_id"].tolist() == result.table.head(10)["customer_id"].to_list()


def test_calculator_inputs_drive_the_formulas(data_dir: Path) -> None:
    at = open_value("test-retail", view="Calculator")

    def shown(label: str) -> str:
        return metrics(at)[label]

    money = lambda v: fmt_money(v, "USD", compact=False)  # noqa: E731
    # the seeds' worked example: d = 9%, n = 5
    assert shown("Revenue-based CLV") == money(clv_revenue(1000, 0.09, 5))
    assert shown("Contribution CLV") == money(clv_contribution(500, 800, 100, 400, 0.09, 5))
    at.number_input(key="cv_R").set_value(2000.0).run()
    at.number_input(key="cv_d").set_value(12.0).run()
    at.number_input(key="cv_n").set_value(7).run()
    at.number_input(key="cv_P").set_value(900.0).run()
    at.number_input(key="cv_r").set_value(70.0).run()
    assert not at.exception
    assert shown("Revenue-based CLV") == money(clv_revenue(2000, 0.12, 7))
    assert shown("Profit-based CLV") == money(clv_profit(2000, 400, 0.12, 7))
    assert shown("Contribution CLV") == money(clv_contribution(500, 900, 100, 400, 0.12, 7))
    assert shown("Retention-based CLV") == money(clv_retention(600, 0.70, 0.12))
    # the planning LTV table follows the inputs: 7 years at 12%, 40% retention
    at.number_input(key="cv_ltv_retention").set_value(40.0).run()
    plan = ltv_table(1000, 0.40, [150 * 1.1**t for t in range(7)], 0.5, acquisition_cost=150,
                     discount_rate=0.12)  # fmt: skip
    tables = [f.value for f in at.dataframe if "Measure" in f.value.columns]
    assert tables[0].to_dict("list") == ltv_table_text(plan, "USD").to_dict(as_series=False)


def test_calculator_defaults_pay_back_like_the_seeds_and_show_an_actual_cohort(
    data_dir: Path,
) -> None:
    at = open_value("test-subscription", view="Calculator")
    ltv_chart = next(c for c in at.get("plotly_chart") if "cv_chart_ltv" in c.proto.id)
    assert "The cohort turns profitable in year 3" in ltv_chart.proto.spec
    snap = load_snapshot(data_dir / "test-subscription")
    cohort = cohort_choices(snap)[0]
    actual = ltv_table_from_cohort(snap, cohort.start, cohort.end, cohort.years)
    tables = [f.value for f in at.dataframe if "Measure" in f.value.columns]
    assert tables[1].to_dict("list") == ltv_table_text(actual, "USD").to_dict(as_series=False)
    assert any(f"customers {cohort.label}" in m.value for m in at.markdown)


def test_model_check_states_the_holdout_error(data_dir: Path) -> None:
    at = open_value("test-retail", view="Model check")
    snap = load_snapshot(data_dir / "test-retail")
    cal = date(2025, 9, 30)  # the default: one year before the as-of date
    assert at.selectbox(key="cv_calibration").value == cal
    check = holdout_check(snap, cal)
    assert at.subheader[0].value == check.headline
    assert any(m.value == check.summary for m in at.markdown)
    other = calibration_choices(snap)[0]
    at.selectbox(key="cv_calibration").set_value(other).run()
    assert at.subheader[0].value == holdout_check(snap, other).headline
    params = parameter_table(customer_clv(snap))
    table = at.table[0].value
    assert table["Parameter"].tolist() == params["parameter"].to_list()
    assert table["Estimate"].tolist() == [f"{v:.3f}" for v in params["estimate"]]


def test_unfittable_snapshot_keeps_the_calculator(data_dir: Path) -> None:
    """Costs above revenue: no positive CLV, said in an error box; the calculator works."""
    snap = load_snapshot(data_dir / "test-retail")
    write_snapshot(
        data_dir / "losing",
        manifest=replace(snap.manifest, company="Losing Co"),
        customers=snap.customers.collect(),
        transactions=snap.transactions.with_columns((pl.col("amount").abs() * 2).alias("cost"))
        .collect(),
    )  # fmt: skip
    at = open_value("losing")
    assert any("loses money on every sale" in e.value for e in at.error)
    assert not at.metric
    at.session_state["cv_view"] = "Calculator"
    at.run()
    assert not at.exception and not at.error
    assert metrics(at)["Revenue-based CLV"] == fmt_money(clv_revenue(1000, 0.09, 5), "USD",
                                                         compact=False)  # fmt: skip
