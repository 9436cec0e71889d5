"""The What-if baseline on the sample companies: it adds up to the Overview's figures,
reproduces the past (the backtest), runs through the engine, and uses the shared sBG fit
for contracts (crm_core.whatif.baseline, .backtest, .report)."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core import load_snapshot
from crm_core.clv.fitted import fit_models
from crm_core.data.ledger import build_ledger
from crm_core.metrics.compute import ledger_metrics
from crm_core.metrics.registry import contribution_ttm, metric_value
from crm_core.whatif.backtest import backtest
from crm_core.whatif.baseline import SEGMENTATIONS, baseline_segments
from crm_core.whatif.engine import simulate
from crm_core.whatif.report import BASELINE_METRICS, baseline_report

COMPANIES = ["retail", "subscription"]


@pytest.fixture(scope="module")
def companies(sample_dir, subscription_dir):
    """Per company: metric inputs (ledger, quarterly totals, CLV) and the model sets fitted
    at the as-of date and a year earlier (contracts only: the sBG retention)."""
    out = {}
    for name, folder in (("retail", sample_dir), ("subscription", subscription_dir)):
        ledger = build_ledger(load_snapshot(folder))
        year = ledger.periods_per_year
        fits = (
            (fit_models(ledger, 0), fit_models(ledger, year)) if ledger.contractual else (None,) * 2
        )
        out[name] = (ledger_metrics(ledger), *fits)
    return out


@pytest.mark.parametrize("by", list(SEGMENTATIONS))
@pytest.mark.parametrize("company", COMPANIES)
def test_adds_up_to_the_overview(companies, company, by):
    """Segments sum to the registry's active customers, retention, margin per active
    customer, new customers and acquisition cost."""
    inputs, now, _ = companies[company]
    b = baseline_segments(inputs.ledger, by=by, models=now)
    t = b.table
    value = lambda key: metric_value(inputs, key, 0)  # noqa: E731
    assert int(t["customers"].sum()) == b.customers == value("active_customers")
    assert b.company_retention == pytest.approx(value("retention"), abs=1e-12)
    assert b.company_margin == pytest.approx(value("margin_per_customer"), rel=1e-9)
    assert b.totals.contribution == pytest.approx(contribution_ttm(inputs, 0), rel=1e-9)
    assert b.totals.new_customers == value("new_customers")
    assert b.totals.acquisition_cost == pytest.approx(value("acquisition_cost"), rel=1e-9)
    assert b.dropped == ()  # every segment has someone to project on the samples
    assert int(t["observed_at_risk"].sum()) == b.at_risk
    assert int(t["observed_retained"].sum()) == b.retained
    assert float(t["contribution"].sum()) == pytest.approx(b.totals.contribution, rel=1e-9)
    assert int(t["new_customers"].sum()) == value("new_customers")
    spend = float((t["new_customers"] * t["acquisition_cost"]).sum())
    assert spend / value("new_customers") == pytest.approx(value("acquisition_cost"), rel=1e-9)
    # what is observed adds up: active = retained + new still active + reactivated
    totals = b.totals
    assert totals.customers == totals.retained + totals.new_active + totals.reactivated
    # and so does the money: continuing + first-year margins make the contribution
    money = (t["continuing_margin"] * t["continuing"] + t["new_margin"] * t["new_active"]).sum()
    assert float(money) == pytest.approx(totals.contribution, rel=1e-9)


@pytest.mark.parametrize("by", list(SEGMENTATIONS))
@pytest.mark.parametrize("company", COMPANIES)
def test_backtest_reproduces_the_last_year_within_ten_percent(companies, company, by):
    """Started a year ago with the levers observed then, year 1 lands within 10% of what
    the ledger observed: active customers, revenue and profit (contribution)."""
    inputs, _, then = companies[company]
    check = backtest(inputs, by=by, models=then)
    assert check.actual_customers == metric_value(inputs, "active_customers", 0)
    assert check.actual_revenue == pytest.approx(metric_value(inputs, "revenue_ttm", 0))
    assert check.actual_profit == pytest.approx(contribution_ttm(inputs, 0))
    assert check.start < check.end == inputs.ledger.as_of
    for what, error in check.errors().items():
        assert abs(error) <= 0.10, (what, error)
    assert check.within(0.10)


@pytest.mark.parametrize("company", COMPANIES)
def test_the_base_grows_like_the_overview_says(companies, company):
    """The contradiction of issue #9: the Overview shows the base growing, so year 1 of the
    baseline must not fall below today's active customers."""
    inputs, now, _ = companies[company]
    b = baseline_segments(inputs.ledger, models=now)
    assert metric_value(inputs, "active_customers", 0) > metric_value(inputs, "active_customers", 4)
    year1 = simulate(b.segments, horizon_years=1, discount_rate=b.discount_rate).totals
    assert year1["customers"][0] > b.customers


@pytest.mark.parametrize("company", COMPANIES)
def test_baseline_runs_through_the_engine(companies, company):
    inputs, now, _ = companies[company]
    b = baseline_segments(inputs.ledger, models=now)
    result = simulate(b.segments, horizon_years=b.horizon_years, discount_rate=0.1, draws=200)
    assert result.customer_equity > 0
    assert result.segments == b.names == ["A: top 10%", "B: next 20%", "C: other 70%"]
    assert result.uncertainty.equity.p10 < result.customer_equity < result.uncertainty.equity.p90
    year1 = result.by_year.filter(result.by_year["year"] == 1)
    for seg in b.segments:
        got = year1.filter(year1["segment"] == seg.name)["customers"].item()
        expected = (
            seg.customers * seg.retention
            + seg.acquisition_per_year * seg.new_survival
            + seg.reactivations_per_year
        )
        assert got == pytest.approx(expected)
        row = b.row(seg.name)
        assert seg.acquisition_per_year == pytest.approx(
            row["new_customers"] * (1 + b.acquisition_growth)
        )


def test_contracts_use_the_shared_sbg_fit(companies):
    inputs, now, _ = companies["subscription"]
    flat = baseline_segments(inputs.ledger, by="channel", models=now)
    assert flat.retention_model == "sBG"
    for r in flat.table.iter_rows(named=True):
        assert r["retention_source"] == "model"
        # today's base is older than last year's, so the model keeps more of it, and each
        # channel keeps its own level: the churn is scaled, not replaced
        assert r["observed_retention"] < r["retention"] < 1
    t = flat.table
    best = t.sort("observed_retention")["segment"][-1]
    assert t.sort("retention")["segment"][-1] == best
    spread = (t["retention"].max() - t["retention"].min()) / (
        t["observed_retention"].max() - t["observed_retention"].min()
    )
    assert 0.5 < spread < 1.0  # differences shrink a little (churn scaled down), not vanish
    curved = baseline_segments(inputs.ledger, by="channel", models=now, retention_curve=True)
    assert curved.retention_curve
    for seg in curved.segments:
        base = np.array(seg.base_retention_curve)
        assert base[0] == pytest.approx(seg.retention)
        assert np.all(np.diff(base) >= -1e-12)  # sBG retention rises with tenure
        assert base[-1] <= 1.0
        assert seg.retention_curve is not None
    # the year-1 projection is the flat one's; later years keep more customers
    flat_run = simulate(flat.segments, horizon_years=5, discount_rate=0.1).totals["customers"]
    curve_run = simulate(curved.segments, horizon_years=5, discount_rate=0.1).totals["customers"]
    assert curve_run[0] == pytest.approx(flat_run[0])
    assert curve_run[-1] > flat_run[-1]
    unfitted = baseline_segments(inputs.ledger, by="channel")
    assert unfitted.retention_model == "observed"


@pytest.mark.parametrize("company", COMPANIES)
def test_report_has_the_registry_figures_and_the_backtest(companies, company):
    inputs, now, then = companies[company]
    report = baseline_report(inputs, models_now=now, models_then=then)
    assert set(report.metrics) == set(BASELINE_METRICS)
    for key, value in report.metrics.items():
        assert value == metric_value(inputs, key, 0), key
    assert report.backtest is not None and report.backtest_note is None
    assert report.clv is not None
    assert report.clv.customer_equity == report.metrics["customer_equity"]
    assert report.baseline.customers == report.metrics["active_customers"]
