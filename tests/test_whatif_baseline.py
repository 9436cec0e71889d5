"""What-if baseline from a snapshot (crm_core.whatif.baseline): hand-computed segments,
consistency with the Executive overview, the tenure curve, and engine integration."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from conftest import contact, customer, purchase
from polars.testing import assert_frame_equal

from crm_core import load_snapshot
from crm_core.metrics.compute import snapshot_metrics
from crm_core.overview.report import overview_report
from crm_core.whatif.baseline import DEFAULT_HORIZON_YEARS, SEGMENTATIONS, baseline_segments
from crm_core.whatif.engine import Levers, Scenario, simulate


def row(baseline, name: str) -> dict:
    return baseline.table.filter(pl.col("segment") == name).row(0, named=True)


# ----------------------------------------------------------------------------- by hand


@pytest.fixture
def shop(make_snapshot):
    """Non-contractual, as of 2026-09-30 (a year ago: 2025-09-30).

    Web: c1 bought in both years (retained), c2 only last year (lost), c5 is new and
    bought, c6 is new without a purchase (not active). Store: c3 retained (with a refund
    this year), c4 new.
    """
    customers = [
        customer("c1", date(2024, 1, 1), channel="Web", cost=10),
        customer("c2", date(2024, 6, 1), channel="Web", cost=20),
        customer("c3", date(2024, 2, 1), channel="Store", cost=30),
        customer("c4", date(2026, 2, 1), channel="Store", cost=40),
        customer("c5", date(2026, 5, 1), channel="Web", cost=50),
        customer("c6", date(2026, 8, 1), channel="Web", cost=60),
    ]
    transactions = [
        purchase("c1", date(2025, 3, 1), 100, 40),
        purchase("c1", date(2026, 3, 1), 200, 80),
        purchase("c2", date(2025, 5, 1), 50, 20),
        purchase("c3", date(2025, 1, 10), 80, 30),
        purchase("c3", date(2026, 1, 10), 120, 50),
        purchase("c3", date(2026, 2, 1), -20, 0),
        purchase("c4", date(2026, 2, 1), 60, 30),
        purchase("c5", date(2026, 5, 2), 30, 10),
    ]
    service = [
        contact("c1", date(2026, 4, 1), "call_center", 15),
        contact("c2", date(2026, 4, 1), "mail", 5),  # a lapsed customer still costs money
        contact("c3", date(2025, 6, 1), "web", 10),  # last year: not in this year's margin
    ]
    return make_snapshot(customers, transactions, service)


def test_channels_by_hand(shop):
    b = baseline_segments(shop, by="channel")
    assert b.names == ["Store", "Web"]  # by customers (2 each), then name
    web, store = row(b, "Web"), row(b, "Store")
    # Web: active now c1, c5; a year ago c1, c2 (c1 still active)
    assert (web["customers"], web["observed_at_risk"], web["observed_retained"]) == (2, 2, 1)
    assert web["retention"] == pytest.approx(0.5)
    # contribution: c1 200 - 80 - 15, c2 -5 (service), c5 30 - 10 -> 120 over 2 customers
    assert web["contribution"] == pytest.approx(120.0)
    assert web["margin"] == pytest.approx(60.0)
    assert web["revenue"] == pytest.approx(115.0)
    assert web["direct_cost"] == pytest.approx(45.0)
    assert web["cost_to_serve"] == pytest.approx(10.0)
    assert web["acquisition_per_year"] == pytest.approx(2.0)  # c5 and c6
    assert web["acquisition_cost"] == pytest.approx(55.0)
    # standard error of the mean contribution of the active customers (105 and 20)
    assert web["margin_std"] == pytest.approx(np.std([105, 20], ddof=1) / math.sqrt(2))
    assert (store["customers"], store["observed_at_risk"], store["observed_retained"]) == (2, 1, 1)
    assert store["retention"] == pytest.approx(1.0)
    assert store["margin"] == pytest.approx((120 - 20 - 50 + 60 - 30) / 2)  # 40
    assert store["acquisition_per_year"] == pytest.approx(1.0)
    assert store["acquisition_cost"] == pytest.approx(40.0)
    assert (b.customers, b.at_risk, b.retained) == (4, 3, 2)
    assert b.company_retention == pytest.approx(2 / 3)
    assert b.company_margin == pytest.approx(200 / 4)
    seg = b.segment("Web")
    assert (seg.customers, seg.retention, seg.margin) == (2.0, 0.5, 60.0)
    assert (seg.acquisition_per_year, seg.acquisition_cost) == (2.0, 55.0)
    assert (seg.observed_at_risk, seg.observed_retained) == (2, 1)
    assert seg.revenue == pytest.approx(115.0) and seg.cost_to_serve == pytest.approx(10.0)
    assert b.codes == {"Store": "store", "Web": "web"}
    assert (b.horizon_years, b.discount_rate) == (DEFAULT_HORIZON_YEARS, 0.10)


def test_segment_without_last_year_customers_uses_company_retention(make_snapshot):
    snap = make_snapshot(
        [
            customer("a", date(2024, 1, 1), channel="Web"),
            customer("b", date(2024, 1, 1), channel="Web"),
            customer("n", date(2026, 1, 1), channel="Partner", cost=80),
        ],
        [
            purchase("a", date(2025, 1, 1), 10),
            purchase("a", date(2026, 1, 1), 10),
            purchase("b", date(2025, 1, 1), 10),
            purchase("n", date(2026, 2, 1), 50, 20),
        ],
    )
    b = baseline_segments(snap, by="channel")
    partner = row(b, "Partner")
    assert partner["observed_at_risk"] == 0
    assert partner["retention_source"] == "company"
    assert partner["retention"] == pytest.approx(0.5)  # a kept, b lost
    seg = b.segment("Partner")
    assert seg.observed_at_risk is None and seg.retention == pytest.approx(0.5)
    assert row(b, "Web")["retention_source"] == "observed"


@pytest.fixture
def tiers_shop(make_snapshot):
    """Profits a year ago: p1 1000, p2 500, p3 100, p4 50 (p5, p6 not yet customers).
    This year: p3 900, p5 300 - 100 acquisition, p1 10, p6 acquired without a purchase
    (-50). With cut-offs 50/25/25%: a year ago A = p1, p2; B = p3; C = p4. Today A = p3,
    p5; B = p1; C = p6 (not active)."""
    customers = [
        customer("p1", date(2023, 1, 1)),
        customer("p2", date(2023, 1, 1)),
        customer("p3", date(2023, 1, 1)),
        customer("p4", date(2023, 1, 1)),
        customer("p5", date(2026, 3, 1), cost=100),
        customer("p6", date(2026, 6, 1), cost=50),
    ]
    transactions = [
        purchase("p1", date(2025, 2, 1), 1000),
        purchase("p2", date(2025, 2, 1), 500),
        purchase("p3", date(2025, 2, 1), 100),
        purchase("p4", date(2025, 2, 1), 50),
        purchase("p1", date(2026, 2, 1), 10),
        purchase("p3", date(2026, 2, 1), 900),
        purchase("p5", date(2026, 3, 1), 300),
    ]
    return make_snapshot(customers, transactions)


def test_tiers_measure_retention_on_last_years_tiers(tiers_shop):
    b = baseline_segments(tiers_shop, by="tier", cutoffs=(0.5, 0.25, 0.25))
    # tier C today holds only p6 (not active, no active new customer): nothing to project
    assert b.names == ["A: top 50%", "B: next 25%"]
    a, tier_b = row(b, "A: top 50%"), row(b, "B: next 25%")
    assert a["code"] == "A" and tier_b["code"] == "B"
    # of last year's A (p1, p2) only p1 is still active; today's A is p3 and p5
    assert (a["customers"], a["observed_at_risk"], a["observed_retained"]) == (2, 2, 1)
    assert a["margin"] == pytest.approx((900 + 300) / 2)
    # both new customers (p5, p6) go where the active new one is (p5: tier A), at its CAC
    assert a["acquisition_per_year"] == pytest.approx(2.0)
    assert a["acquisition_cost"] == pytest.approx(100.0)
    # last year's B (p3) is still active; today's B is p1
    assert (tier_b["customers"], tier_b["observed_at_risk"], tier_b["observed_retained"]) == (
        1,
        1,
        1,
    )
    assert tier_b["margin"] == pytest.approx(10.0)
    assert tier_b["acquisition_per_year"] == 0
    # the company counts everyone: p4 (last year's C, lost) included
    assert (b.customers, b.at_risk, b.retained) == (3, 4, 2)
    assert any("C: other 25%" in note and "Not projected" in note for note in b.notes)


def test_rfm_segments_cover_every_active_customer(tiers_shop):
    b = baseline_segments(tiers_shop, by="rfm")
    assert int(b.table["customers"].sum()) == b.customers == 3
    assert b.at_risk == 4  # last year's segments nobody is in today are not projected
    assert b.table["acquisition_per_year"].sum() == pytest.approx(2.0)
    assert {"loyal": "Loyal", "potential_loyalists": "Potential loyalists"}.items() <= {
        code: name for name, code in b.codes.items()
    }.items()


@pytest.fixture
def contracts(make_snapshot):
    """Contractual, by region. North: k1 runs, k2 churned this year. South: k3 churned
    before a year ago, k4 new this year, k5 signed exactly a year ago."""
    customers = [
        customer("k1", date(2024, 1, 1), region="North"),
        customer("k2", date(2024, 3, 1), region="North", churned_on=date(2026, 3, 1)),
        customer("k3", date(2025, 1, 1), region="South", churned_on=date(2025, 6, 1)),
        customer("k4", date(2026, 1, 1), region="South", cost=70),
        customer("k5", date(2025, 9, 30), region="South", cost=30),
    ]
    transactions = [
        purchase("k1", date(2026, 1, 1), 120, 20),
        purchase("k2", date(2025, 12, 1), 100, 10),
        purchase("k3", date(2025, 2, 1), 100, 10),
        purchase("k4", date(2026, 2, 1), 60),
        purchase("k5", date(2026, 3, 1), 40),
    ]
    return make_snapshot(customers, transactions, business_model="contractual")


def test_contractual_retention_from_contracts(contracts):
    b = baseline_segments(contracts, by="region")
    north, south = row(b, "North"), row(b, "South")
    assert (north["customers"], north["observed_at_risk"], north["observed_retained"]) == (1, 2, 1)
    # k2 paid this year before churning: its money counts, over North's 1 active customer
    assert north["margin"] == pytest.approx(100 + 90)
    assert (south["customers"], south["observed_at_risk"], south["observed_retained"]) == (2, 1, 1)
    assert south["margin"] == pytest.approx(50.0)
    assert south["acquisition_per_year"] == 1  # k5 was signed on the last day before the window
    assert south["acquisition_cost"] == pytest.approx(70.0)
    assert (b.customers, b.at_risk, b.retained) == (3, 3, 2)


def test_bad_arguments(shop, make_snapshot):
    with pytest.raises(ValueError, match="by must be one of"):
        baseline_segments(shop, by="colour")
    with pytest.raises(ValueError, match="cutoffs"):
        baseline_segments(shop, cutoffs=(0.5, 0.6, 0.1))
    with pytest.raises(ValueError, match="contractual"):
        baseline_segments(shop, retention_curve=True)
    young = make_snapshot([customer("x", date(2026, 1, 1))], [purchase("x", date(2026, 1, 2), 10)])
    with pytest.raises(ValueError, match="retention cannot be observed"):
        baseline_segments(young)


def test_manifest_horizon(make_snapshot, shop):
    from dataclasses import replace

    snap = replace(shop, manifest=replace(shop.manifest, extra={"horizon_years": 7}))
    assert baseline_segments(snap, by="region").horizon_years == 7


def test_scenario_from_retention_targets_and_back(shop):
    b = baseline_segments(shop, by="channel")
    scenario = b.scenario({"Web": 0.65, "Store": 1.0}, Levers(margin_pct=5), name="Plan")
    levers = dict(scenario.segment_levers)
    assert set(levers) == {"Web"}  # Store is already at 100%: no change recorded
    assert levers["Web"].retention_points == pytest.approx(15.0)
    assert scenario.levers == Levers(margin_pct=5)
    targets = b.retention_targets(scenario)
    assert targets == pytest.approx({"Store": 1.0, "Web": 0.65})
    other = Scenario("Tiers", segment_levers={"A: top 10%": Levers(retention_points=5)})
    with pytest.raises(ValueError, match="A: top 10%"):
        b.retention_targets(other)


# ----------------------------------------------------------------------------- sample data


@pytest.fixture(scope="module")
def samples(sample_dir, subscription_dir):
    return {
        "retail": load_snapshot(sample_dir),
        "subscription": load_snapshot(subscription_dir),
    }


@pytest.fixture(scope="module")
def overviews(samples):
    return {name: overview_report(snapshot_metrics(snap)) for name, snap in samples.items()}


@pytest.mark.parametrize("by", list(SEGMENTATIONS))
@pytest.mark.parametrize("company", ["retail", "subscription"])
def test_consistent_with_the_overview(samples, overviews, company, by):
    """The segments add up to the Executive overview's active customers, annual retention,
    margin per active customer and new customers."""
    b = baseline_segments(samples[company], by=by)
    report = overviews[company]
    t = b.table
    assert int(t["customers"].sum()) == b.customers == report.kpi("active_customers").value
    assert b.company_retention == pytest.approx(report.kpi("retention").value, abs=1e-12)
    trend = report.trend.tail(4)  # the last four quarters (oldest first)
    contribution = float(trend["gross_profit"].sum() - trend["service_cost"].sum())
    assert b.company_margin * b.customers == pytest.approx(contribution, rel=1e-9)
    if by != "rfm":  # RFM segments nobody is active in (not projected) may hold some money
        total = float((t["margin"] * t["customers"]).sum())
        assert total == pytest.approx(contribution, rel=1e-9)
    new = report.kpi("new_customers").value
    assert float(t["acquisition_per_year"].sum()) == pytest.approx(new)
    spend = float((t["acquisition_per_year"] * t["acquisition_cost"]).sum())
    if by in ("channel", "region"):  # each new customer at their own cost
        assert spend / new == pytest.approx(report.kpi("acquisition_cost").value)
    if by != "tier":  # tiers leave out no one; the others may drop segments nobody is in
        return
    assert int(t["observed_at_risk"].sum()) == b.at_risk
    assert int(t["observed_retained"].sum()) == b.retained


@pytest.mark.parametrize("company", ["retail", "subscription"])
def test_baseline_runs_through_the_engine(samples, company):
    b = baseline_segments(samples[company])
    result = simulate(b.segments, horizon_years=b.horizon_years, discount_rate=0.1, draws=200)
    assert result.customer_equity > 0
    assert result.segments == b.names == ["A: top 10%", "B: next 20%", "C: other 70%"]
    assert result.uncertainty.equity.p10 < result.customer_equity < result.uncertainty.equity.p90
    # year-1 customers of today's base decay by the observed retention
    year1 = result.by_year.filter(pl.col("year") == 1)
    for seg in b.segments:
        got = year1.filter(pl.col("segment") == seg.name)["customers"].item()
        assert got == pytest.approx(
            seg.customers * seg.retention + seg.acquisition_per_year * seg.retention
        )


def test_tenure_curve_meets_observed_retention(samples):
    b = baseline_segments(samples["subscription"], by="channel", retention_curve=True)
    assert b.retention_curve
    assert any("shifted-beta-geometric" in n for n in b.notes)
    for seg in b.segments:
        curve = np.array(seg.retention_curve)
        assert curve[seg.base_tenure_years] == pytest.approx(seg.retention)
        assert np.all(np.diff(curve) >= -1e-12)  # sBG retention rises with tenure
        assert curve[0] < curve[-1] <= 1.0
    flat = baseline_segments(samples["subscription"], by="channel")
    assert_frame_equal(flat.table, b.table, rel_tol=1e-9)
    # the engine uses the curve: customers at year 1 follow the base tenure's rate
    result = simulate(b.segments, horizon_years=5, discount_rate=0.1)
    assert result.customer_equity > 0
