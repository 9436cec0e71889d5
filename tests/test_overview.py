"""Executive overview: KPIs on a hand-made company, and consistency on the sample."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import active_by_brute_force, contact, customer, purchase

from crm_core import load_snapshot
from crm_core.clv import fit_models, value
from crm_core.data.expressions import add_months
from crm_core.data.ledger import build_ledger
from crm_core.data.periods import period_grid
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.quarters import company_quarters
from crm_core.metrics.registry import metric_inputs
from crm_core.overview.report import overview_report


def _report(snap):
    return overview_report(snapshot_metrics(snap))


def _trend(snap):
    return company_quarters(build_ledger(snap)).sort("quarter", descending=True)


D = date


@pytest.fixture
def tiny(make_snapshot):
    """Four customers; every number below is worked out by hand in the tests."""
    return make_snapshot(
        [
            customer("a", D(2024, 10, 15), cost=50),
            customer("b", D(2025, 2, 10), cost=30),
            customer("c", D(2026, 8, 20), cost=40),
            customer("d", D(2025, 11, 5), cost=20),
        ],
        [
            purchase("a", D(2024, 10, 15), 100, 40),
            purchase("a", D(2025, 8, 1), 200, 80),
            purchase("a", D(2026, 7, 1), 300, 100),
            purchase("b", D(2025, 2, 10), 50, 20),
            purchase("c", D(2026, 8, 20), 80, 30),
            purchase("c", D(2026, 9, 1), -20, 0),
            purchase("d", D(2025, 11, 5), 60, 30),
        ],
        [contact("a", D(2026, 5, 1), "call_center", 10), contact("c", D(2026, 9, 10), "web", 1)],
    )


def test_kpis_by_hand(tiny) -> None:
    report = _report(tiny)
    value = {k.key: k.value for k in report.kpis}
    # active at 2026-09-30: a (Jul 2026), c (Aug 2026), d (Nov 2025); b last bought Feb 2025
    assert value["active_customers"] == 3
    # active a year ago: a and b; of them only a is active now
    assert value["retention"] == pytest.approx(0.5)
    assert value["churn"] == pytest.approx(0.5)
    assert value["revenue_ttm"] == pytest.approx(300 + 80 - 20 + 60)
    assert value["gross_profit_ttm"] == pytest.approx(200 + 50 - 20 + 30)
    assert value["new_customers"] == 2  # c and d
    assert value["acquisition_cost"] == pytest.approx(30)  # (40 + 20) / 2
    margin = (260 - 11) / 3  # gross profit minus service cost, per active customer
    assert report.kpi("payback_months").value == pytest.approx(30 / (margin / 12))
    # four customers are too few for BG/NBD: no CLV, and the page says why (no stand-in)
    assert value["average_clv"] is None
    assert value["customer_equity"] is None
    assert value["ltv_cac"] is None
    assert report.clv_method.startswith("not available")


def test_previous_quarter_by_hand(tiny) -> None:
    report = _report(tiny)
    previous = {k.key: k.previous for k in report.kpis}
    assert report.previous_as_of == D(2026, 6, 30)
    assert previous["active_customers"] == 2  # a and d
    assert previous["retention"] == pytest.approx(0.5)  # a and b a year earlier, a kept
    assert previous["revenue_ttm"] == pytest.approx(200 + 60)
    assert previous["new_customers"] == 1
    assert report.kpi("active_customers").delta == 1


def test_won_lost_by_hand(tiny) -> None:
    trend = _trend(tiny)
    rows = {r["label"]: r for r in trend.iter_rows(named=True)}
    assert (rows["2026 Q3"]["won"], rows["2026 Q3"]["lost"], rows["2026 Q3"]["active"]) == (1, 0, 3)
    assert (rows["2026 Q1"]["won"], rows["2026 Q1"]["lost"], rows["2026 Q1"]["active"]) == (0, 1, 2)
    assert (rows["2025 Q4"]["won"], rows["2025 Q4"]["active"]) == (1, 3)
    assert rows["2026 Q3"]["revenue"] == pytest.approx(300 + 80 - 20)
    assert rows["2026 Q3"]["acquisition_spend"] == pytest.approx(40)


def test_top_share_can_exceed_one(tiny) -> None:
    # profits in the window: a 300-100-10 = 190, c 60-30-1-40 = -11, d 60-30-20 = 10
    report = _report(tiny)
    assert report.top_profit_share == pytest.approx(190 / 189)


def test_young_company_has_no_year_ago_values(make_snapshot) -> None:
    snap = make_snapshot([customer("a", D(2026, 8, 1))], [purchase("a", D(2026, 8, 1), 10)])
    report = _report(snap)
    assert report.kpi("active_customers").value == 1
    assert report.kpi("retention").value is None
    assert report.kpi("average_clv").value is None
    assert report.trend.height == 1  # quarters before the first activity are dropped


def test_period_grid_labels() -> None:
    grid = period_grid(D(2026, 9, 30), 3)
    assert grid["label"].to_list() == ["2026 Q3", "2026 Q2", "2026 Q1"]
    assert grid["period_start"].to_list()[0] == D(2026, 7, 1)
    odd = period_grid(D(2026, 8, 15), 1)
    assert odd["label"][0] == "3 months to 2026-08-15"
    assert odd["period_start"][0] == D(2026, 5, 16)


# ----------------------------------------------------------------------------- the sample


def test_active_counts_match_brute_force(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    trend = _trend(snap)
    for row in trend.tail(6).iter_rows(named=True):
        assert row["active"] == active_by_brute_force(snap, row["period_end"]), row["label"]


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_customers_are_conserved_every_quarter(which: str, request) -> None:
    snap = load_snapshot(request.getfixturevalue(which))
    trend = _trend(snap)
    active = trend["active"].to_list()
    for k in range(1, trend.height):
        row = trend.row(k, named=True)
        assert active[k] == active[k - 1] + row["won"] + row["reactivated"] - row["lost"]
    # every customer acquired in the shown quarters is counted as won exactly once
    first = trend["period_start"][0]
    acquired = snap.customers.filter(pl.col("acquired_on") >= first).select(pl.len()).collect()
    assert trend["won"].sum() == acquired.item()


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_previous_quarter_equals_report_at_that_date(which: str, request) -> None:
    snap = load_snapshot(request.getfixturevalue(which))
    now = _report(snap)
    then = _report(snap.cut(now.previous_as_of))
    for kpi in now.kpis:
        assert kpi.previous == pytest.approx(then.kpi(kpi.key).value), kpi.key


def test_contractual_active_and_retention(subscription_dir: Path) -> None:
    snap = load_snapshot(subscription_dir)
    customers = snap.customers.collect()
    t, year_ago = snap.as_of, add_months(snap.as_of, -12)

    def live(day: date) -> pl.Expr:
        return (pl.col("acquired_on") <= day) & (
            pl.col("churned_on").is_null() | (pl.col("churned_on") > day)
        )

    kept = customers.filter(live(year_ago))
    report = _report(snap)
    assert report.kpi("active_customers").value == customers.filter(live(t)).height
    assert report.kpi("retention").value == pytest.approx(kept.filter(live(t)).height / kept.height)


def test_revenue_matches_a_direct_sum(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    tx = snap.transactions.collect()
    direct = tx.filter(pl.col("date") > D(2025, 9, 30))["amount"].sum()
    assert _report(snap).kpi("revenue_ttm").value == pytest.approx(direct)


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_average_clv_and_equity_come_from_the_fitted_model(which: str, request) -> None:
    from crm_core.clv import customer_clv

    snap = load_snapshot(request.getfixturevalue(which))
    report = _report(snap)
    now = customer_clv(snap)
    before = customer_clv(snap.cut(report.previous_as_of))  # refit on the cut snapshot
    assert report.clv_method == now.method
    active = report.kpi("active_customers")
    assert report.kpi("customer_equity").value == pytest.approx(now.customer_equity)
    assert report.kpi("customer_equity").previous == pytest.approx(before.customer_equity)
    assert report.kpi("average_clv").value == pytest.approx(now.customer_equity / active.value)
    assert report.kpi("average_clv").previous == pytest.approx(
        before.customer_equity / active.previous
    )
    assert report.kpi("ltv_cac").value == pytest.approx(
        report.kpi("average_clv").value / report.kpi("acquisition_cost").value
    )
    assert f"{now.table.height:,} customers" in report.kpi("customer_equity").help


def test_metric_inputs_take_the_valuations_given(tiny, sample_dir: Path) -> None:
    ledger = build_ledger(load_snapshot(sample_dir))
    result = value(fit_models(ledger))
    inputs = metric_inputs(ledger, {0: result})
    report = overview_report(inputs)
    assert report.kpi("customer_equity").value == result.customer_equity
    assert report.kpi("customer_equity").previous is None  # no fit a quarter back given
    assert report.clv_method == result.method
    assert result.method in report.kpi("average_clv").help


# ----------------------------------------------------------------------------- year on year


def test_year_ago_by_hand(tiny) -> None:
    report = _report(tiny)
    assert report.year_ago_as_of == D(2025, 9, 30)
    # a year earlier a (Aug 2025) and b (Feb 2025) were active; revenue Oct 2024 - Sep 2025
    assert report.kpi("active_customers").year_ago == 2
    assert report.kpi("active_customers").year_delta == 3 - 2
    assert report.kpi("revenue_ttm").year_ago == pytest.approx(100 + 200 + 50)
    assert report.kpi("new_customers").year_ago == 2  # a (Oct 2024) and b
    assert report.kpi("customer_equity").year_delta is None  # no CLV at all here


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_year_ago_equals_report_at_that_date(which: str, request) -> None:
    """With the model set fitted four quarters back, every card's value a year ago is the
    Overview of the snapshot cut there (CLV metrics included)."""
    snap = load_snapshot(request.getfixturevalue(which))
    ledger = build_ledger(snap)
    step = 3 if ledger.contractual else 1
    clv = {q: value(fit_models(ledger, q * step)) for q in (0, 1, 4)}
    now = overview_report(metric_inputs(ledger, clv))
    then = _report(snap.cut(now.year_ago_as_of))
    for kpi in now.kpis:
        assert kpi.year_ago == pytest.approx(then.kpi(kpi.key).value), kpi.key
        assert kpi.year_ago is not None, kpi.key


def test_top_profit_share_needs_twelve_months_of_history(sample_dir: Path) -> None:
    """The share is over the twelve months to a quarter end: defined while those four
    quarters are in the history, ``None`` before (not an error, not a partial year)."""
    from crm_core.metrics.registry import metric_value

    inputs = snapshot_metrics(load_snapshot(sample_dir))
    last = inputs.quarters["quarter"].max()
    assert metric_value(inputs, "top_profit_share", last - 3) is not None
    for q in (last - 2, last, last + 1, last + 10):
        assert metric_value(inputs, "top_profit_share", q) is None
