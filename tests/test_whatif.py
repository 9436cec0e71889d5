"""What-if projection: closed forms, timing, levers and input validation (whatif.engine)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crm_core.whatif.engine import (
    Levers,
    Scenario,
    Segment,
    apply_scenario,
    equity_by_segment,
    retention_response,
    retention_uplift,
    run_scenario,
    simulate,
)


def clv_closed_form(m: float, r: float, d: float) -> float:
    """Retention-based CLV, infinite horizon, margin at period end: m r / (1 + d - r)."""
    return m * r / (1 + d - r)


def clv_finite(m: float, r: float, d: float, years: int) -> float:
    """The same over ``years``: m q (1 - q^H) / (1 - q) with q = r / (1 + d)."""
    q = r / (1 + d)
    return m * sum(q**t for t in range(1, years + 1))


def one(**kwargs) -> list[Segment]:
    fields = {"name": "A", "customers": 100.0, "retention": 0.5, "margin": 10.0} | kwargs
    return [Segment(**fields)]


# ----------------------------------------------------------------------------- contract


def test_positional_contract_and_keyword_only_extras():
    s = Segment("A", 100, 0.8, 50.0, 10, 20)
    assert (s.acquisition_per_year, s.acquisition_cost) == (10.0, 20.0)
    assert Segment("B", 1, 0.5, 1.0).acquisition_per_year == 0.0
    with pytest.raises(TypeError):
        Segment("A", 100, 0.8, 50.0, 10, 20, None)  # extras are keyword-only


def test_by_year_small_case_by_hand():
    result = simulate(one(), horizon_years=3, discount_rate=0.1)
    expected = pl.DataFrame(
        {
            "year": pl.Series([1, 2, 3], dtype=pl.Int64),
            "segment": ["A", "A", "A"],
            "customers": [50.0, 25.0, 12.5],
            "customers_start": [100.0, 50.0, 25.0],
            "new_customers": [0.0, 0.0, 0.0],
            "reactivated": [0.0, 0.0, 0.0],
            "revenue": pl.Series([None, None, None], dtype=pl.Float64),
            "costs": pl.Series([None, None, None], dtype=pl.Float64),
            "service_costs": [0.0, 0.0, 0.0],
            "margin": [500.0, 250.0, 125.0],
            "acquisition_spend": [0.0, 0.0, 0.0],
            "retention_spend": [0.0, 0.0, 0.0],
            "profit": [500.0, 250.0, 125.0],
            "discounted_profit": [500 / 1.1, 250 / 1.1**2, 125 / 1.1**3],
        }
    )
    assert_frame_equal(result.by_year, expected)
    assert result.customer_equity == pytest.approx(500 / 1.1 + 250 / 1.21 + 125 / 1.331)
    assert result.totals["cumulative_discounted_profit"][-1] == pytest.approx(
        result.customer_equity
    )


def test_rows_are_year_major_in_segment_order():
    segments = [Segment("Z", 10, 0.5, 1.0), Segment("A", 10, 0.5, 1.0)]
    by_year = simulate(segments, horizon_years=2, discount_rate=0.0).by_year
    assert by_year.select("year", "segment").rows() == [(1, "Z"), (1, "A"), (2, "Z"), (2, "A")]


@pytest.mark.parametrize(("n0", "r"), [(100.0, 0.5), (1234.0, 0.83), (7.0, 1.0), (50.0, 0.0)])
def test_customers_decay_exactly_by_retention(n0, r):
    result = simulate(
        [Segment("A", n0, r, 10.0)], horizon_years=8, discount_rate=0.1, periods_per_year=1
    )
    expected = pl.DataFrame(
        {
            "year": pl.Series(range(1, 9), dtype=pl.Int64),
            "customers": [n0 * r**t for t in range(1, 9)],
        }
    )
    assert_frame_equal(result.by_year.select("year", "customers"), expected, rel_tol=1e-12)


def test_quarterly_matches_yearly_customers_and_pays_margin_each_quarter():
    segments = one(customers=1.0, retention=0.5, margin=4.0)
    yearly = simulate(segments, horizon_years=3, discount_rate=0.0)
    quarterly = simulate(segments, horizon_years=3, discount_rate=0.0, periods_per_year=4)
    assert_frame_equal(
        quarterly.by_year.select("year", "customers"),
        yearly.by_year.select("year", "customers"),
        rel_tol=1e-12,
    )
    rq = 0.5**0.25
    first_year = sum(rq**k for k in range(1, 5))  # margin 1 per quarter end
    assert quarterly.by_year["margin"][0] == pytest.approx(first_year)
    assert quarterly.by_quarter is not None
    assert quarterly.by_quarter.height == 12
    assert quarterly.by_quarter["customers"][3] == pytest.approx(0.5)
    assert yearly.by_quarter is None


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize(
    ("m", "r", "d", "expected"),
    [
        (100.0, 0.8, 0.10, 266.6666666666667),  # 100 * 0.8 / 0.3
        (50.0, 0.5, 0.00, 50.0),  # 50 * 0.5 / 0.5
        (120.0, 0.9, 0.12, 490.90909090909093),  # 120 * 0.9 / 0.22
    ],
)
def test_flat_retention_converges_to_closed_form(m, r, d, expected):
    assert clv_closed_form(m, r, d) == pytest.approx(expected)
    segment = [Segment("A", 1.0, r, m)]
    long_run = simulate(segment, horizon_years=100, discount_rate=d).by_segment["clv"][0]
    assert long_run == pytest.approx(expected, rel=1e-6)
    gaps = [
        expected - simulate(segment, horizon_years=h, discount_rate=d).by_segment["clv"][0]
        for h in (5, 10, 20, 40)
    ]
    assert all(a > b > 0 for a, b in itertools.pairwise(gaps))


@settings(max_examples=60, deadline=None)
@given(
    m=st.floats(-1000, 1000),
    r=st.floats(0.0, 0.99),
    d=st.floats(0.0, 0.5),
    years=st.integers(1, 60),
    customers=st.floats(1.0, 1e6),
)
def test_clv_equals_finite_closed_form(m, r, d, years, customers):
    result = simulate([Segment("A", customers, r, m)], horizon_years=years, discount_rate=d)
    clv = result.by_segment["clv"][0]
    assert clv == pytest.approx(clv_finite(m, r, d, years), rel=1e-9, abs=1e-9)
    assert result.customer_equity == pytest.approx(customers * clv, rel=1e-9, abs=1e-6)
    assert abs(clv) <= abs(clv_closed_form(m, r, d)) + 1e-9


def test_new_customer_value_matches_closed_form_minus_acquisition_cost():
    segment = [Segment("A", 0.0, 0.8, 100.0, 10.0, 150.0)]
    value = simulate(segment, horizon_years=100, discount_rate=0.1).by_segment[
        "new_customer_value"
    ][0]
    assert value == pytest.approx(100 * 0.8 / 0.3 - 150, rel=1e-6)


def test_acquisition_timing_by_hand():
    # 10 customers a year join at each year start paying 5 each; half stay a year.
    result = simulate([Segment("A", 0.0, 0.5, 10.0, 10.0, 5.0)], horizon_years=2, discount_rate=0.1)
    frame = result.by_year
    assert frame["new_customers"].to_list() == [10.0, 10.0]
    assert frame["customers_start"].to_list() == [10.0, 15.0]
    assert frame["customers"].to_list() == [5.0, 7.5]
    assert frame["acquisition_spend"].to_list() == [50.0, 50.0]
    assert frame["discounted_profit"].to_list() == pytest.approx(
        [50 / 1.1 - 50, 75 / 1.21 - 50 / 1.1]
    )
    assert result.by_segment["equity_current"][0] == 0.0
    assert result.by_segment["equity_new"][0] == pytest.approx(result.customer_equity)
    assert result.by_segment["new_customer_value"][0] == pytest.approx(
        10 * 0.5 / 1.1 + 10 * 0.25 / 1.21 - 5
    )
    assert result.by_segment["clv"][0] is None  # no current customers


def test_first_year_survival_and_margin_of_new_customers_by_hand():
    # 10 new a year, 90% still active at the end of their first year earning 4 each, then
    # 50% retention and margin 10 like the base (no current customers).
    seg = Segment(
        "A", 0.0, 0.5, 10.0, 10.0, 5.0, new_survival=0.9, new_margin=4.0, revenue=30.0,
        new_revenue=12.0, cost_to_serve=2.0, new_cost_to_serve=1.0,
    )  # fmt: skip
    result = simulate([seg], horizon_years=2, discount_rate=0.1)
    frame = result.by_year
    assert frame["customers"].to_list() == pytest.approx([9.0, 9.0 * 0.5 + 9.0])
    assert frame["customers_start"].to_list() == pytest.approx([10.0, 19.0])
    # year 2: 4.5 second-year customers at 10, 9 first-year ones at 4
    assert frame["margin"].to_list() == pytest.approx([36.0, 45.0 + 36.0])
    assert frame["revenue"].to_list() == pytest.approx([108.0, 4.5 * 30 + 9 * 12])
    assert frame["service_costs"].to_list() == pytest.approx([9.0, 4.5 * 2 + 9 * 1])
    assert result.customer_equity == pytest.approx(36 / 1.1 + 81 / 1.21 - 50 - 50 / 1.1)
    # one new customer: 0.9 * 4 at the end of year 1, 0.45 * 10 at the end of year 2, - 5
    assert result.by_segment["new_customer_value"][0] == pytest.approx(
        0.9 * 4 / 1.1 + 0.45 * 10 / 1.21 - 5
    )


def test_default_first_year_is_the_base_retention_and_margin():
    plain = simulate([Segment("A", 0.0, 0.5, 10.0, 10.0, 5.0)], horizon_years=3, discount_rate=0.1)
    same = simulate(
        [Segment("A", 0.0, 0.5, 10.0, 10.0, 5.0, new_survival=0.5, new_margin=10.0)],
        horizon_years=3,
        discount_rate=0.1,
    )
    assert_frame_equal(plain.by_year, same.by_year)


def test_reactivations_join_at_year_end_and_leave_like_the_base():
    seg = Segment("A", 100.0, 0.5, 10.0, reactivations_per_year=20.0)
    result = simulate([seg], horizon_years=3, discount_rate=0.0)
    frame = result.by_year
    # base 50, 25, 12.5; returning 20, 20 * 0.5 + 20 = 30, 35
    assert frame["customers"].to_list() == pytest.approx([70.0, 55.0, 47.5])
    assert frame["reactivated"].to_list() == [20.0, 20.0, 20.0]
    assert frame["customers_start"].to_list() == pytest.approx([100.0, 70.0, 55.0])
    assert result.by_segment["equity_current"][0] == pytest.approx(10 * (50 + 25 + 12.5))
    assert result.by_segment["equity_reactivated"][0] == pytest.approx(10 * (20 + 30 + 35))
    assert result.equity_today == pytest.approx(result.customer_equity)
    quarterly = simulate([seg], horizon_years=3, discount_rate=0.0, periods_per_year=4)
    # 5 a quarter; at the end of year 1: 5 * (1 + r + r^2 + r^3) with r = 0.5 ** 0.25
    rq = 0.5**0.25
    assert quarterly.by_year["customers"][0] == pytest.approx(50 + 5 * sum(rq**k for k in range(4)))


def test_quarterly_first_year_survival_spreads_over_four_quarters():
    seg = Segment("A", 0.0, 0.5, 4.0, 4.0, 0.0, new_survival=0.81, new_margin=8.0)
    result = simulate([seg], horizon_years=2, discount_rate=0.0, periods_per_year=4)
    s, r = 0.81**0.25, 0.5**0.25
    # one new customer each quarter; at the end of year 1 the four cohorts are 1..4 quarters old
    year1 = sum(s**k for k in range(1, 5))
    assert result.by_year["customers"][0] == pytest.approx(year1)
    first = result.by_quarter.filter(pl.col("year") == 1)["margin"].to_list()
    assert first == pytest.approx(
        [8.0 / 4 * sum(s**k for k in range(1, q + 1)) for q in range(1, 5)]
    )
    # year 2, quarter 1: cohorts of ages 1..4 quarters in their first year, one in its second
    q5 = result.by_quarter.filter((pl.col("year") == 2) & (pl.col("quarter") == 1))
    assert q5["customers"][0] == pytest.approx(sum(s**k for k in range(1, 5)) + s**4 * r)


def test_base_retention_curve_for_todays_customers():
    seg = Segment("A", 100.0, 0.6, 10.0, base_retention_curve=(0.6, 0.8))
    result = simulate([seg], horizon_years=3, discount_rate=0.0)
    assert result.by_year["customers"].to_list() == pytest.approx([60.0, 48.0, 38.4])
    moved = apply_scenario([seg], Levers(retention_points=10))[0]
    assert moved.base_retention_curve == pytest.approx((0.7, 0.9))


def test_retention_lever_moves_the_first_year_survival_too():
    seg = Segment("A", 10.0, 0.5, 10.0, 5.0, new_survival=0.97, new_margin=2.0)
    moved = apply_scenario([seg], Levers(retention_points=5, margin_pct=10))[0]
    assert moved.retention == pytest.approx(0.55)
    assert moved.new_survival == 1.0  # clipped
    assert moved.new_margin == pytest.approx(2.2)
    assert moved.margin == pytest.approx(11.0)


def test_retention_spend_is_paid_at_year_start_on_active_customers():
    result = simulate(one(retention_spend=2.0), horizon_years=2, discount_rate=0.1)
    assert result.by_year["retention_spend"].to_list() == [200.0, 100.0]
    assert result.customer_equity == pytest.approx(500 / 1.1 + 250 / 1.21 - 200 - 100 / 1.1)


def test_revenue_and_costs_lines():
    segments = one(revenue=30.0, cost_to_serve=4.0)  # direct cost 30 - 10 - 4 = 16
    frame = simulate(segments, horizon_years=1, discount_rate=0.0).by_year
    assert frame.select("revenue", "costs", "service_costs", "margin").row(0) == (
        1500.0,
        1000.0,
        200.0,
        500.0,
    )
    assert segments[0].direct_cost == 16.0


def test_totals_sum_segments_and_null_revenue_propagates():
    segments = [Segment("A", 100, 0.5, 10.0, revenue=20.0), Segment("B", 10, 0.5, 10.0)]
    result = simulate(segments, horizon_years=2, discount_rate=0.0)
    assert result.totals["customers"].to_list() == [55.0, 27.5]
    assert result.totals["revenue"].null_count() == 2
    assert result.segment_equity() == pytest.approx({"A": 750.0, "B": 75.0})


# ----------------------------------------------------------------------------- monotonicity


@settings(max_examples=60, deadline=None)
@given(
    r1=st.floats(0.0, 1.0),
    r2=st.floats(0.0, 1.0),
    m=st.floats(0.01, 1000),
    acquisition=st.floats(0, 1000),
    cost=st.floats(0, 5000),
    d=st.floats(0.0, 0.5),
    years=st.integers(1, 30),
)
def test_equity_rises_with_retention(r1, r2, m, acquisition, cost, d, years):
    low, high = sorted((r1, r2))
    equity = [
        simulate(
            [Segment("A", 100.0, r, m, acquisition, cost)], horizon_years=years, discount_rate=d
        ).customer_equity
        for r in (low, high)
    ]
    assert equity[1] >= equity[0] - 1e-9 * max(1.0, abs(equity[0]))


@pytest.mark.parametrize("ratio", [0.5, 0.9, 1.1, 1.5])
def test_acquisition_pays_only_below_clv(ratio):
    clv = clv_closed_form(100.0, 0.8, 0.1)  # 266.67
    without = simulate([Segment("A", 1000, 0.8, 100.0)], horizon_years=100, discount_rate=0.1)
    bought = simulate(
        [Segment("A", 1000, 0.8, 100.0, 50, ratio * clv)], horizon_years=100, discount_rate=0.1
    )
    if ratio < 1:
        assert bought.customer_equity > without.customer_equity
    else:
        assert bought.customer_equity < without.customer_equity


# ----------------------------------------------------------------------------- curves


def test_tenure_curve_for_new_cohorts_and_base_tenure():
    curve = (0.5, 0.8)
    new = simulate(one(retention_curve=curve), horizon_years=3, discount_rate=0.0)
    assert new.by_year["customers"].to_list() == pytest.approx([50.0, 40.0, 32.0])
    seasoned = simulate(
        one(retention_curve=curve, base_tenure_years=1), horizon_years=2, discount_rate=0.0
    )
    assert seasoned.by_year["customers"].to_list() == pytest.approx([80.0, 64.0])
    cohort = simulate(
        [Segment("A", 0.0, 0.5, 10.0, 10.0, 0.0, retention_curve=curve)],
        horizon_years=2,
        discount_rate=0.0,
    )
    # Year 2: the first cohort in its second year (10 * 0.5 * 0.8) plus the second (10 * 0.5).
    assert cohort.by_year["customers"].to_list() == pytest.approx([5.0, 9.0])


def test_retention_response_curve_by_hand():
    # Default ceiling removes half the churn; default s_half = 10% of the margin = 1.
    segment = one(extra_retention_spend=1.0)[0]
    assert segment.effective_retention == pytest.approx(0.625)
    assert float(retention_response(0.5, 0.0, spend_half=1.0)) == 0.5
    assert float(retention_response(0.5, 1e9, churn_cut=0.5, spend_half=1.0)) == pytest.approx(0.75)
    assert float(retention_response(0.6, 2.0, churn_cut=0.5, spend_half=2.0)) == pytest.approx(0.7)
    result = simulate([segment], horizon_years=3, discount_rate=0.0)
    assert result.by_year["customers"].to_list() == pytest.approx([62.5, 39.0625, 24.4140625])
    assert result.by_year["retention_spend"].to_list() == pytest.approx([100.0, 62.5, 39.0625])
    assert result.by_segment["retention"][0] == pytest.approx(0.625)
    capped = one(extra_retention_spend=1e6, retention_max=0.6, spend_half=5.0)[0]
    assert capped.effective_retention == pytest.approx(0.6)


def test_zero_margin_without_spend_half_has_no_response():
    segment = one(margin=0.0, extra_retention_spend=10.0)[0]
    assert segment.effective_retention == 0.5


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"retention": 1.2}, "retention"),
        ({"retention": -0.1}, "retention"),
        ({"retention": math.nan}, "retention"),
        ({"customers": -1.0}, "customers"),
        ({"customers": math.nan}, "customers"),
        ({"margin": math.inf}, "margin"),
        ({"margin": "10"}, "margin"),
        ({"acquisition_per_year": -5.0}, "acquisition_per_year"),
        ({"acquisition_cost": -1.0}, "acquisition_cost"),
        ({"cost_to_serve": -1.0}, "cost_to_serve"),
        ({"retention_spend": -1.0}, "retention_spend"),
        ({"extra_retention_spend": math.nan}, "extra_retention_spend"),
        ({"margin_std": -2.0}, "margin_std"),
        ({"revenue": 5.0, "cost_to_serve": 1.0}, "revenue"),
        ({"retention_max": 0.4}, "retention_max"),
        ({"retention_max": 1.5}, "retention_max"),
        ({"spend_half": 0.0}, "spend_half"),
        ({"retention_curve": (0.5, 1.5)}, "retention_curve[1]"),
        ({"retention_curve": ()}, "retention_curve"),
        ({"base_tenure_years": -1}, "base_tenure_years"),
        ({"observed_at_risk": 10}, "observed_retained"),
        ({"observed_at_risk": 10, "observed_retained": 11}, "observed_retained"),
        ({"observed_at_risk": 0, "observed_retained": 0}, "observed_at_risk"),
        ({"observed_at_risk": 10.5, "observed_retained": 1}, "observed_at_risk"),
        ({"new_survival": 1.2}, "new_survival"),
        ({"new_survival": math.nan}, "new_survival"),
        ({"new_margin": math.inf}, "new_margin"),
        ({"new_cost_to_serve": -1.0}, "new_cost_to_serve"),
        ({"reactivations_per_year": -3.0}, "reactivations_per_year"),
        ({"base_retention_curve": ()}, "base_retention_curve"),
        ({"base_retention_curve": (0.5, 1.5)}, "base_retention_curve[1]"),
        ({"revenue": 30.0, "new_margin": 20.0, "new_revenue": 10.0}, "first-year revenue"),
    ],
)
def test_invalid_segment_fields_raise_clear_value_error(kwargs, field):
    with pytest.raises(ValueError, match="Segment 'A'") as info:
        one(**kwargs)
    assert field in str(info.value)


def test_invalid_name_raises():
    with pytest.raises(ValueError, match="name"):
        Segment(" ", 1, 0.5, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_years": 0}, "horizon_years"),
        ({"horizon_years": 2.5}, "horizon_years"),
        ({"horizon_years": 101}, "horizon_years"),
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"discount_rate": math.nan}, "discount_rate"),
        ({"periods_per_year": 12}, "periods_per_year"),
        ({"draws": -1}, "draws"),
        ({"draws": 1.5}, "draws"),
        ({"retention_prior": (0.0, 1.0)}, "retention_prior"),
    ],
)
def test_invalid_simulate_arguments(kwargs, message):
    arguments = {"horizon_years": 5, "discount_rate": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        simulate(one(), **arguments)


def test_invalid_segment_lists():
    with pytest.raises(ValueError, match="empty"):
        simulate([], horizon_years=5, discount_rate=0.1)
    with pytest.raises(ValueError, match="unique"):
        simulate(one() + one(), horizon_years=5, discount_rate=0.1)
    with pytest.raises(ValueError, match="list of Segment"):
        simulate(one()[0], horizon_years=5, discount_rate=0.1)


# ----------------------------------------------------------------------------- levers


def test_levers_apply_by_hand():
    base = Segment(
        "A", 100, 0.8, 100.0, 10.0, 50.0, revenue=300.0, cost_to_serve=50.0, retention_max=0.9
    )
    (moved,) = apply_scenario([base], Levers(retention_points=5, margin_pct=10))
    assert moved.retention == pytest.approx(0.85)
    assert moved.retention_max == 0.9
    assert (moved.margin, moved.revenue, moved.cost_to_serve) == pytest.approx((110, 310, 50))
    assert moved.direct_cost == pytest.approx(base.direct_cost)
    (served,) = apply_scenario([base], Levers(cost_to_serve_pct=10))
    assert (served.margin, served.revenue, served.cost_to_serve) == pytest.approx((95, 300, 55))
    (acquired,) = apply_scenario(
        [base], Levers(acquisition_volume_pct=-50, acquisition_cost_pct=20)
    )
    assert (acquired.acquisition_per_year, acquired.acquisition_cost) == pytest.approx((5, 60))
    (spent,) = apply_scenario([base], Levers(extra_retention_spend=7))
    assert spent.extra_retention_spend == 7.0
    assert apply_scenario([base], Levers()) == (base,)


def test_levers_clip_retention_and_improve_negative_margins():
    (top,) = apply_scenario(
        one(retention=0.97, retention_curve=(0.9, 0.99)), Levers(retention_points=5)
    )
    assert top.retention == 1.0
    assert top.retention_curve == pytest.approx((0.95, 1.0))
    (loss,) = apply_scenario(one(margin=-20.0), Levers(margin_pct=10))
    assert loss.margin == pytest.approx(-18.0)


def test_margin_lever_keeps_default_response_curve():
    base = one(extra_retention_spend=1.0)[0]
    (moved,) = apply_scenario([base], Levers(margin_pct=50))
    assert moved.spend_half == pytest.approx(1.0)  # 10% of the baseline margin, pinned
    assert moved.effective_retention == pytest.approx(base.effective_retention)


def test_invalid_levers():
    with pytest.raises(ValueError, match="retention_points"):
        Levers(retention_points=150)
    with pytest.raises(ValueError, match="acquisition_volume_pct"):
        Levers(acquisition_volume_pct=-120)
    with pytest.raises(ValueError, match="extra_retention_spend"):
        Levers(extra_retention_spend=-1)
    with pytest.raises(ValueError, match="margin_pct"):
        Levers(margin_pct=math.nan)


def test_scenario_segment_levers_add_to_scenario_levers():
    segments = [Segment("A", 100, 0.8, 10.0), Segment("B", 100, 0.6, 10.0)]
    scenario = Scenario(
        "Plan",
        levers=Levers(retention_points=2),
        segment_levers={"B": Levers(retention_points=3, margin_pct=10)},
    )
    a, b = apply_scenario(segments, scenario)
    assert a.retention == pytest.approx(0.82)
    assert (b.retention, b.margin) == pytest.approx((0.65, 11.0))
    assert hash(scenario) == hash(
        Scenario(
            "Plan",
            levers=Levers(retention_points=2),
            segment_levers=(("B", Levers(retention_points=3, margin_pct=10)),),
        )
    )


def test_scenario_for_unknown_segment():
    scenario = Scenario("Plan", segment_levers={"Gone": Levers(retention_points=2)})
    with pytest.raises(ValueError, match="unknown segments"):
        apply_scenario(one(), scenario)
    assert apply_scenario(one(), scenario, strict=False) == tuple(one())


def test_run_scenario_uses_overrides():
    scenario = Scenario(
        "Long", levers=Levers(retention_points=10), horizon_years=7, discount_rate=0.0
    )
    result = run_scenario(one(), scenario, horizon_years=3, discount_rate=0.1)
    assert result.horizon_years == 7
    assert result.discount_rate == 0.0
    expected = simulate(
        [Segment("A", 100, 0.6, 10.0)], horizon_years=7, discount_rate=0.0
    ).customer_equity
    assert result.customer_equity == pytest.approx(expected)


def test_retention_uplift_by_hand():
    uplift = retention_uplift(one(), points=5, horizon_years=2, discount_rate=0.0)
    assert uplift.equity_before == pytest.approx(100 * 10 * (0.5 + 0.25))
    assert uplift.equity_after == pytest.approx(100 * 10 * (0.55 + 0.55**2))
    assert uplift.change_share == pytest.approx((0.55 + 0.3025) / 0.75 - 1)


def test_equity_by_segment_batches_variants():
    base = one()
    better = apply_scenario(base, Levers(retention_points=10))
    batch = equity_by_segment([base, better], horizon_years=3, discount_rate=[0.0, 0.1])
    assert batch.shape == (2, 1)
    assert batch[0, 0] == pytest.approx(
        simulate(base, horizon_years=3, discount_rate=0.0).customer_equity
    )
    assert batch[1, 0] == pytest.approx(
        simulate(better, horizon_years=3, discount_rate=0.1).customer_equity
    )
    with pytest.raises(ValueError, match="same segments"):
        equity_by_segment([base, [Segment("B", 1, 0.5, 1.0)]], horizon_years=3, discount_rate=0.1)


def test_results_are_numpy_free_frames():
    result = simulate(one(), horizon_years=2, discount_rate=0.1)
    assert isinstance(result.customer_equity, float)
    assert result.by_segment.columns == [
        "segment",
        "customers",
        "retention",
        "margin",
        "clv",
        "new_customer_value",
        "equity_current",
        "equity_reactivated",
        "equity_new",
        "equity",
    ]
    assert not np.isnan(result.by_year["discounted_profit"].to_numpy()).any()


# ----------------------------------------------------------------------------- cards


def test_scenario_kpis_compare_a_scenario_with_its_baseline():
    from crm_core.whatif.engine import scenario_kpis

    segs = [Segment("A", 100, 0.5, 10.0, 20, 5.0), Segment("B", 50, 0.8, 40.0)]
    base = simulate(segs, horizon_years=3, discount_rate=0.1)
    scen = run_scenario(
        segs, Scenario(segment_levers={"B": Levers(retention_points=10)}), horizon_years=3,
        discount_rate=0.1,
    )  # fmt: skip
    cards = {k.key: k for k in scenario_kpis(base, scen)}
    assert list(cards) == ["equity", "equity_today", "profit", "customers_end", "clv:A", "clv:B"]
    assert cards["equity"].value == scen.customer_equity
    assert cards["equity"].previous == base.customer_equity
    # B's current customers at 90%: m r (1 - q^H) / (1 - q) per customer, q = r / (1 + d)
    q = 0.9 / 1.1
    assert cards["clv:B"].value == pytest.approx(40 * q * (1 - q**3) / (1 - q))
    assert cards["clv:B"].segment == "B"
    assert cards["clv:A"].value == cards["clv:A"].previous
    assert cards["profit"].value == pytest.approx(scen.totals["profit"].sum())
    assert cards["equity_today"].value == pytest.approx(scen.by_segment["equity_current"].sum())
    # customers at the horizon, rounded to whole customers
    assert cards["customers_end"].value == round(scen.totals["customers"][-1])
    assert cards["equity"].history == tuple(scen.totals["cumulative_discounted_profit"])
    with pytest.raises(ValueError, match="same segments"):
        scenario_kpis(base, simulate(segs[:1], horizon_years=3, discount_rate=0.1))


def test_scenario_table_rows_and_changes():
    from crm_core.whatif.engine import scenario_table

    segs = [Segment("A", 100, 0.5, 10.0)]
    base = simulate(segs, horizon_years=2, discount_rate=0.0, draws=50)
    better = simulate(apply_scenario(segs, Levers(margin_pct=10)), horizon_years=2,
                      discount_rate=0.0, draws=50)  # fmt: skip
    table = scenario_table({"Baseline": base, "Better": better})
    assert table["scenario"].to_list() == ["Baseline", "Better"]
    # no discounting: equity = 10 * (50 + 25) = 750 and 10% more
    assert table["customer_equity"].to_list() == pytest.approx([750.0, 825.0])
    assert table["equity_today"].to_list() == pytest.approx([750.0, 825.0])
    assert table["equity_change"].to_list() == pytest.approx([0.0, 75.0])
    assert table["equity_p10"][0] <= 750.0 <= table["equity_p90"][0]
    plain = scenario_table({"Only": simulate(segs, horizon_years=2, discount_rate=0.0)})
    assert plain["equity_p10"].is_null().all()
    with pytest.raises(ValueError, match="empty"):
        scenario_table({})
