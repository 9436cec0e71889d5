"""AppTest of the Customer value page: renders for both business models and at an earlier
date, shows crm_core's numbers (the shared fit valued at the chosen horizon, the registry's
customer equity), its inputs drive the formulas, and a snapshot the models cannot fit
leaves the calculator working. Also the loader's groupings and the downloadable list."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import customer, frame_with, metrics, open_page, purchase
from streamlit.testing.v1 import AppTest

from crm_app.loaders.customer_value import BAND_DRAWS, groupings
from crm_core import load_snapshot
from crm_core.clv.customer import parameter_table
from crm_core.clv.fitted import fit_models
from crm_core.clv.formulas import clv_contribution, clv_profit, clv_retention, clv_revenue
from crm_core.clv.holdout import calibration_choices, holdout_check
from crm_core.clv.ltv import cohort_choices, ltv_table, ltv_table_from_cohort, ltv_table_text
from crm_core.clv.uncertainty import clv_bands_by
from crm_core.clv.valuation import value
from crm_core.copy import customer_value as copy
from crm_core.copy import customer_value_calculator as calc
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import write_snapshot
from crm_core.formatting import fmt_count, fmt_kind, fmt_money, fmt_pct
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import METRICS, metric_value

PAGE = "pages/customer_value.py"


def open_value(snapshot_id: str, view: str | None = None, as_of: str | None = None):
    at = open_page(snapshot_id, PAGE)
    if as_of is not None:
        at.selectbox(key="as_of").set_value(as_of).run()
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


@pytest.mark.parametrize(
    ("snapshot_id", "as_of"),
    [("test-retail", None), ("test-subscription", None), ("test-retail", "2026-03-31")],
)
def test_cards_and_top_customers_match_crm_core(data_dir: Path, snapshot_id, as_of) -> None:
    at = open_value(snapshot_id, as_of=as_of)
    snap = load_snapshot(data_dir / snapshot_id)
    snap = snap if as_of is None else snap.cut(as_of)
    ledger = build_ledger(snap)
    result = value(fit_models(ledger))
    cur = snap.currency
    shown = metrics(at)
    # the registry's customer equity (the Overview's), by its label
    inputs = snapshot_metrics(snap)
    equity = metric_value(inputs, "customer_equity")
    assert equity == pytest.approx(result.customer_equity, rel=1e-6)  # refits: optimiser noise
    assert shown[METRICS["customer_equity"].label] == fmt_kind(equity, "money", cur)
    assert shown["Average CLV per customer valued"] == fmt_money(result.average_clv, cur)
    assert shown["Customers valued"] == fmt_count(result.customers)
    assert f"**Margin:** {fmt_pct(result.margin)} of revenue" in copy.method_caption(result)
    # the P10-P90 ranges: crm_core's bands of the same fit with the page's draws and seed
    bands = clv_bands_by(result, groupings(ledger), draws=BAND_DRAWS, seed=0)["tier"]
    delta = {m.label: m.proto.delta for m in at.metric}
    assert delta["Customer equity"] == copy.band(bands.equity_p10, bands.equity_p90, cur)
    assert at.subheader[0].value == copy.headline(result)
    # how the average per customer valued reconciles with the Overview's per active customer
    active = metric_value(inputs, "active_customers")
    line = copy.reconciliation(result, active, equity)
    assert any(c.value == line for c in at.caption)
    assert f"all {result.customers:,} customers" in line and f"{active:,.0f} active" in line
    assert any(result.method in c.value for c in at.caption)  # names model and margin
    # the top 25 customers, in crm_core's order, with crm_core's CLV to the cent
    top = frame_with(at, "customer_id")
    expected = result.table.head(25)
    assert top["customer_id"].tolist() == expected["customer_id"].to_list()
    assert top["clv"].tolist() == pytest.approx(expected["clv"].round(2).to_list())
    words = headers(at, "customer_id")
    assert words[:2] == ["Customer", f"CLV ({'$' if cur == 'USD' else cur})"]
    assert not any("_" in w for w in words)
    share = result.top_share(25 / result.customers)
    assert f"25 most valuable customers hold {fmt_pct(share)}" in at.subheader[1].value
    model_chart = "cv_chart_retention" if snap.manifest.contractual else "cv_chart_p_alive"
    charts = {c.proto.id for c in at.get("plotly_chart")}
    assert len(charts) == 3 and any(model_chart in c for c in charts)
    assert not at.error


def test_horizon_values_the_same_fit_and_names_the_horizon(data_dir: Path) -> None:
    at = open_value("test-subscription")
    at.selectbox(key="cv_horizon").set_value(5).run()
    at.selectbox(key="cv_top").set_value(10).run()
    assert not at.exception
    models = fit_models(build_ledger(load_snapshot(data_dir / "test-subscription")))
    five = value(models, horizon_years=5)
    shown = metrics(at)
    assert "Customer equity" not in shown  # not the registry's 3-year equity
    assert shown["Customer equity, 5-year horizon"] == fmt_money(five.customer_equity, "USD")
    top = frame_with(at, "customer_id")
    assert top["customer_id"].tolist() == five.table.head(10)["customer_id"].to_list()
    line = next(c.value for c in at.caption if c.value.startswith("Average CLV"))
    three = value(models).customer_equity
    assert f"the 3-year equity ({fmt_money(three, 'USD')})" in line


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


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_calculator_shows_an_actual_cohort_of_the_ledger(data_dir: Path, snapshot_id) -> None:
    at = open_value(snapshot_id, view="Calculator")
    ltv_chart = next(c for c in at.get("plotly_chart") if "cv_chart_ltv" in c.proto.id)
    assert "The cohort turns profitable in year 3" in ltv_chart.proto.spec
    snap = load_snapshot(data_dir / snapshot_id)
    ledger = build_ledger(snap)
    cohort = cohort_choices(ledger)[0]
    actual = ltv_table_from_cohort(ledger, cohort.oldest, cohort.youngest, cohort.years)
    labels = calc.cohort_labels(snap.manifest.contractual)
    tables = [f.value for f in at.dataframe if "Measure" in f.value.columns]
    want = ltv_table_text(actual, "USD", labels).to_dict(as_series=False)
    assert tables[1].to_dict("list") == want
    assert any(f"customers {cohort.label}" in m.value for m in at.markdown)


def test_model_check_states_the_holdout_error(data_dir: Path) -> None:
    at = open_value("test-retail", view="Model check")
    ledger = build_ledger(load_snapshot(data_dir / "test-retail"))
    cal = date(2025, 9, 30)  # the default: one year before the as-of date
    assert at.selectbox(key="cv_calibration").value == cal
    check = holdout_check(ledger, cal)
    assert at.subheader[0].value == check.headline
    assert any(m.value == check.summary for m in at.markdown)
    other = calibration_choices(ledger)[0]
    at.selectbox(key="cv_calibration").set_value(other).run()
    assert at.subheader[0].value == holdout_check(ledger, other).headline
    params = parameter_table(value(fit_models(ledger)))
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


def test_groupings_by_profit_tier_and_channel(make_snapshot) -> None:
    # as of 2026-09-30: ten customers with profits 10..100 in the last year, one inactive
    customers = [customer(f"C{i}", date(2025, 1, 1), channel="Web" if i % 2 else "Store")
                 for i in range(11)]  # fmt: skip
    sales = [purchase(f"C{i}", date(2026, 3, 1), 10.0 * (i + 1)) for i in range(10)]
    sales.append(purchase("C10", date(2025, 2, 1), 500.0))  # before the last 12 months
    ledger = build_ledger(make_snapshot(customers, sales))
    by = {k: dict(ledger.with_customers(v.lazy()).select("customer_id", "segment").collect()
                  .iter_rows()) for k, v in groupings(ledger).items()}  # fmt: skip
    tiers = by["tier"]
    assert tiers["C9"] == "Tier A (top 10%)"  # the most profitable of ten
    assert tiers["C8"] == tiers["C7"] == "Tier B (next 20%)"
    assert tiers["C0"] == "Tier C (other 70%)"
    assert tiers["C10"] == "No activity in the last 12 months"
    assert by["channel"]["C1"] == "Web" and by["channel"]["C2"] == "Store"


def test_download_is_every_customer_in_words_cents_and_formula_safe(sample_dir: Path) -> None:
    ledger = build_ledger(load_snapshot(sample_dir))
    result = value(fit_models(ledger))
    # data that a spreadsheet would run: ids, channels and regions starting with = + - @
    risky = {0: "=HYPERLINK(1)", 1: "+1", 2: "-2", 3: "@x"}
    cids = result.table["cid"].head(4).to_list()
    ids = result.table["customer_id"].to_list()
    table = result.table.with_columns(
        pl.Series("customer_id", [risky.get(i, v) for i, v in enumerate(ids)])
    )
    customers = ledger.customers.with_columns(
        pl.when(pl.col("cid") == cids[0]).then(pl.lit("=cmd|'/c calc'!A1"))
        .otherwise(pl.col("acquisition_channel")).alias("acquisition_channel"),
        pl.when(pl.col("cid") == cids[1]).then(pl.lit("@SUM(A1)"))
        .otherwise(pl.col("region")).alias("region"),
    )  # fmt: skip
    csv = copy.customers_csv(replace(result, table=table), replace(ledger, customers=customers))
    frame = pl.read_csv(io.BytesIO(csv), infer_schema=False)
    assert frame.height == result.customers
    assert frame.columns[:2] == ["Customer", "CLV over the next 3 years ($)"]
    assert not any("_" in c for c in frame.columns)
    assert frame["Customer"].head(4).to_list() == ["'=HYPERLINK(1)", "'+1", "'-2", "'@x"]
    assert frame["Acquisition channel"][0] == "'=cmd|'/c calc'!A1"
    assert frame["Region"][1] == "'@SUM(A1)"
    numbers = frame.select(pl.exclude("Customer", "Acquisition channel", "Region"))
    for column in numbers.columns:  # no raw floats: at most two decimals, no exponents
        assert numbers[column].str.contains(r"^-?\d+(\.\d{1,2})?$").all(), column
    clv = frame["CLV over the next 3 years ($)"].cast(pl.Float64)
    assert clv.to_list() == pytest.approx(result.table["clv"].round(2).to_list(), abs=0.006)
