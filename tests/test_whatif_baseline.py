"""What-if baseline from the customer ledger (crm_core.whatif.baseline): hand-computed
segments under the one activity rule, tiers measured on last year's tiers, contracts.

Sample-company checks (the Overview's totals, the backtest) are in test_whatif_backtest.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from conftest import contact, customer, purchase

from crm_core.data.ledger import build_ledger
from crm_core.errors import NotEnoughData
from crm_core.whatif.baseline import DEFAULT_HORIZON_YEARS, SEGMENTATIONS, baseline_segments
from crm_core.whatif.engine import Levers, Scenario, simulate


def row(baseline, name: str) -> dict:
    return baseline.table.filter(pl.col("segment") == name).row(0, named=True)


def test_segmentations_are_tiers_channels_and_regions():
    assert list(SEGMENTATIONS) == ["tier", "channel", "region"]


@pytest.fixture
def shop(make_snapshot):
    """Non-contractual, as of 2026-09-30 (a year ago: 2025-09-30).

    Web: c1 bought in both years (retained), c2 only last year (lost), c5 is new and
    bought, c6 is new without a purchase (active: acquired two months ago). Store: c3
    retained (with a refund this year), c4 new.
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
    assert b.names == ["Web", "Store"]  # by active customers (3, 2)
    web, store = row(b, "Web"), row(b, "Store")
    # Web: active now c1, c5 and c6 (acquired two months ago: the acquisition keeps a
    # customer active for a year); a year ago c1 and c2, of whom c1 is still active
    assert (web["customers"], web["observed_at_risk"], web["observed_retained"]) == (3, 2, 1)
    assert web["retention"] == pytest.approx(0.5)
    assert web["retention_source"] == "observed"
    # contribution: c1 200 - 80 - 15, c2 -5 (a lapsed customer still costs money), c5 30 - 10
    assert web["contribution"] == pytest.approx(120.0)
    assert web["margin"] == pytest.approx(40.0)  # per active customer: the overview's margin
    assert (web["new_customers"], web["new_active"], web["new_survival"]) == (2, 2, 1.0)
    assert web["acquisition_cost"] == pytest.approx(55.0)
    assert web["acquisition_per_year"] == pytest.approx(2.0)  # no year before: no trend
    assert web["reactivated"] == 0
    # continuing customers (won before the year): c1's and c2's money over c1, still active
    assert web["continuing"] == 1
    assert web["continuing_margin"] == pytest.approx(100.0)
    assert web["continuing_revenue"] == pytest.approx(200.0)
    assert web["continuing_cost_to_serve"] == pytest.approx(20.0)
    # first-year customers: c5's and c6's money over the two still active
    assert web["new_margin"] == pytest.approx(10.0)
    assert web["new_revenue"] == pytest.approx(15.0)
    assert (store["customers"], store["observed_at_risk"], store["observed_retained"]) == (2, 1, 1)
    assert store["margin"] == pytest.approx((120 - 20 - 50 + 60 - 30) / 2)  # 40
    assert store["continuing_margin"] == pytest.approx(50.0)  # c3, refund and all
    assert store["new_margin"] == pytest.approx(30.0)  # c4
    assert (b.customers, b.at_risk, b.retained) == (5, 3, 2)
    assert b.company_retention == pytest.approx(2 / 3)
    assert b.company_margin == pytest.approx(200 / 5)
    assert not b.growth_observed and b.acquisition_growth == 0.0
    seg = b.segment("Web")
    assert (seg.customers, seg.retention, seg.margin) == (3.0, 0.5, 100.0)
    assert (seg.acquisition_per_year, seg.acquisition_cost) == (2.0, 55.0)
    assert (seg.new_survival, seg.new_margin, seg.new_revenue) == (1.0, 10.0, 15.0)
    assert (seg.observed_at_risk, seg.observed_retained) == (2, 1)
    assert seg.revenue == pytest.approx(200.0) and seg.cost_to_serve == pytest.approx(20.0)
    assert b.codes == {"Store": "store", "Web": "web"}
    assert (b.horizon_years, b.discount_rate) == (DEFAULT_HORIZON_YEARS, 0.10)
    # next year: 3 x 0.5 stay and earn 100, 2 new x 1.0 survive their first year and earn 10
    year1 = simulate([seg], horizon_years=1, discount_rate=0.1).by_year
    assert year1["customers"][0] == pytest.approx(3.5)
    assert year1["margin"][0] == pytest.approx(1.5 * 100 + 2 * 10)


def test_activity_identity_holds_by_hand(shop):
    """active today = retained + new still active + reactivated, per fixed segment."""
    b = baseline_segments(shop, by="channel")
    for r in b.table.iter_rows(named=True):
        assert r["customers"] == r["observed_retained"] + r["new_active"] + r["reactivated"]


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
    assert partner["observed_retention"] is None
    assert partner["retention_source"] == "company"
    assert partner["retention"] == pytest.approx(0.5)  # a kept, b lost
    # nobody continuing in Partner: the company's continuing margin (a's 10)
    assert partner["continuing_margin"] == pytest.approx(10.0)
    seg = b.segment("Partner")
    assert seg.observed_at_risk is None and seg.retention == pytest.approx(0.5)
    assert row(b, "Web")["retention_source"] == "observed"


@pytest.fixture
def tiers_shop(make_snapshot):
    """Profits a year ago: p1 1000, p2 500, p3 100, p4 50 (p5, p6 not yet customers).
    This year: p3 900, p5 300 - 100 acquisition, p1 10, p6 acquired without a purchase
    (-50). With cut-offs 50/25/25%: a year ago A = p1, p2; B = p3; C = p4. Today A = p3,
    p5; B = p1; C = p6 (active: acquired four months ago)."""
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


def test_tiers_measure_retention_and_margin_on_last_years_tiers(tiers_shop):
    b = baseline_segments(tiers_shop, by="tier", cutoffs=(0.5, 0.25, 0.25))
    assert b.names == ["A: top 50%", "B: next 25%", "C: other 25%"]
    a, tier_b, c = (row(b, n) for n in b.names)
    assert [a["code"], tier_b["code"], c["code"]] == ["A", "B", "C"]
    # of last year's A (p1, p2) only p1 is still active; today's A is p3 and p5
    assert (a["customers"], a["observed_at_risk"], a["observed_retained"]) == (2, 2, 1)
    assert a["margin"] == pytest.approx((900 + 300) / 2)  # today's A per active customer
    # what last year's A earned this year (p1's 10, p2's 0) over those still active (p1)
    assert a["continuing_margin"] == pytest.approx(10.0)
    # p5 was won into today's A: its first-year contribution (before its acquisition cost)
    assert (a["new_customers"], a["new_margin"], a["acquisition_cost"]) == (1, 300.0, 100.0)
    assert (tier_b["customers"], tier_b["observed_at_risk"], tier_b["observed_retained"]) == (
        1,
        1,
        1,
    )
    assert tier_b["continuing_margin"] == pytest.approx(900.0)  # last year's B is p3
    # last year's C (p4) lapsed: nobody continuing, so the company's continuing margin
    assert (c["customers"], c["observed_at_risk"], c["observed_retained"]) == (1, 1, 0)
    assert c["continuing_margin"] == pytest.approx((10 + 900) / 2)
    assert (c["new_customers"], c["new_active"], c["new_margin"]) == (1, 1, 0.0)
    assert (b.customers, b.at_risk, b.retained) == (4, 4, 2)


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
    b = baseline_segments(build_ledger(contracts), by="region")  # no fit: observed retention
    north, south = row(b, "North"), row(b, "South")
    assert (north["customers"], north["observed_at_risk"], north["observed_retained"]) == (1, 2, 1)
    assert north["retention_source"] == "observed" and b.retention_model == "observed"
    # k2 paid this year before churning: its money counts, over North's 1 active customer
    assert north["margin"] == pytest.approx(100 + 90)
    assert north["continuing_margin"] == pytest.approx(100 + 90)
    # k5 signed on the last day of the year before: active a year ago, still running
    assert (south["customers"], south["observed_at_risk"], south["observed_retained"]) == (2, 1, 1)
    assert south["margin"] == pytest.approx(50.0)
    assert (south["new_customers"], south["acquisition_cost"]) == (1, 70.0)
    assert (b.customers, b.at_risk, b.retained) == (3, 3, 2)
    # one new contract this year against two the year before: -50%, the lower bound
    assert b.growth_observed and b.acquisition_growth == pytest.approx(-0.5)
    assert south["acquisition_per_year"] == pytest.approx(0.5)


def test_bad_arguments(shop, make_snapshot):
    with pytest.raises(ValueError, match="by must be one of"):
        baseline_segments(shop, by="colour")
    with pytest.raises(ValueError, match="by must be one of"):
        baseline_segments(shop, by="rfm")  # RFM segments are not a What-if segmentation
    with pytest.raises(ValueError, match="cutoffs"):
        baseline_segments(shop, cutoffs=(0.5, 0.6, 0.1))
    with pytest.raises(ValueError, match="contractual"):
        baseline_segments(shop, retention_curve=True)
    young = make_snapshot([customer("x", date(2026, 1, 1))], [purchase("x", date(2026, 1, 2), 10)])
    with pytest.raises(NotEnoughData, match="retention cannot be observed"):
        baseline_segments(young)


def test_manifest_horizon(shop):
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


def test_tenure_shift_scales_the_observed_churn_by_hand():
    from crm_core.whatif.tenure import TenureRetention

    t = TenureRetention(expected_now=0.7, expected_then=0.6, model_curve=(0.7, 0.8),
                        cohort_curve=(0.9, 0.6, 0.76))  # fmt: skip
    # observed churn 50%, scaled by (1 - 0.7) / (1 - 0.6) = 0.75: retention 62.5%
    assert t.retention(0.5) == pytest.approx(0.625)
    assert t.retention(None) == pytest.approx(0.7)  # nothing observed: the model's
    base, cohort = t.curves(0.5)  # churn scaled by 0.375 / 0.3 = 1.25 so year 1 is 62.5%
    assert base == pytest.approx((0.625, 0.75))
    assert cohort == pytest.approx((0.875, 0.5, 0.7))
    assert TenureRetention(0.7, None, (0.7,), (0.9,)).retention(0.5) == pytest.approx(0.7)


def test_tier_segments_are_the_segments_pages_tiers(sample_dir) -> None:
    """One tier rule (crm_core.metrics.tiers): the What-if's tier of every customer is the
    Segments page's, default cut-offs, twelve months to the as-of date."""
    import polars as pl

    from crm_core import load_snapshot
    from crm_core.data.ledger import build_ledger
    from crm_core.metrics.profit import customer_profit
    from crm_core.segments.tiers import assign_tiers, tier_name
    from crm_core.whatif.labels import DEFAULT_CUTOFFS, segment_labels

    ledger = build_ledger(load_snapshot(sample_dir))
    labels, _, _ = segment_labels(ledger, "tier", 0)
    whatif = labels.collect().sort("cid")
    pages = (
        assign_tiers(customer_profit(ledger, 12), DEFAULT_CUTOFFS)
        .select("cid", pl.col("tier").cast(pl.String))
        .collect()
        .sort("cid")
    )
    names = {t: tier_name(t, DEFAULT_CUTOFFS) for t in "ABC"}
    assert whatif["cid"].to_list() == pages["cid"].to_list()
    assert whatif["segment"].to_list() == [names[t] for t in pages["tier"]]
