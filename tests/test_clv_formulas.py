"""Closed-form CLV models (DOMAIN.md section 2): hand values, limits, vectorisation, errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.clv.formulas import (
    annuity_factor,
    clv_contribution,
    clv_profit,
    clv_retention,
    clv_revenue,
)


def test_seed_worked_example_discount_factor():
    # the seeds' example: d = 9%, n = 5 and (1.09)^-5 = 0.65
    assert pytest.approx(0.65, abs=0.0005) == 1.09**-5
    assert annuity_factor(0.09, 5) == pytest.approx((1 - 1.09**-5) / 0.09)
    assert annuity_factor(0.09, 5) == pytest.approx((1 - 0.65) / 0.09, rel=2e-3)


def test_hand_computed_values():
    # 100 * (1 - 1.09^-5) / 0.09
    assert clv_revenue(100, 0.09, 5) == pytest.approx(388.9651263)
    # (100 - 40) * (1 - 1.1^-3) / 0.1 = 60 * 2.48685199
    assert clv_profit(100, 40, 0.10, 3) == pytest.approx(149.2111195)
    # -50 + 70/1.09 + 80/1.09^2 + 90/1.09^3 + 100/1.09^4 + 110/1.09^5
    want = -50 + sum((70 + 10 * (t - 1)) / 1.09**t for t in range(1, 6))
    assert clv_contribution(50, 100, 10, 30, 0.09, 5) == pytest.approx(want)
    assert want == pytest.approx(293.386, abs=1e-3)
    # 100 * 0.8 / (1 + 0.1 - 0.8)
    assert clv_retention(100, 0.8, 0.10) == pytest.approx(266.6666667)
    assert clv_retention(100, 0.8, 0.10, acquisition_cost=50) == pytest.approx(216.6666667)


def test_zero_discount_is_the_undiscounted_limit():
    assert clv_revenue(100, 0.0, 5) == 500.0
    assert clv_profit(100, 30, 0.0, 4) == 280.0
    assert clv_contribution(10, 100, 5, 20, 0.0, 3) == pytest.approx(-10 + 80 + 85 + 90)
    assert clv_revenue(100, 1e-12, 5) == pytest.approx(500.0)
    assert clv_revenue(100, 0.05, 0) == 0.0
    assert clv_contribution(10, 100, 5, 20, 0.05, 0) == -10.0
    # r = 0: nobody stays, nothing is earned
    assert clv_retention(100, 0.0, 0.1) == 0.0


def test_vectorised_over_numpy_and_polars():
    d = np.array([0.0, 0.05, 0.10])
    got = clv_revenue(100.0, d, 5)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, [clv_revenue(100.0, float(x), 5) for x in d])
    series = clv_profit(pl.Series("R", [100.0, 200.0]), 50.0, 0.1, 3)
    assert isinstance(series, pl.Series)
    assert series.to_list() == pytest.approx(
        [clv_profit(100, 50, 0.1, 3), clv_profit(200, 50, 0.1, 3)]
    )
    n = np.array([1, 2, 5])
    np.testing.assert_allclose(
        clv_contribution(50, 100, 10, 30, 0.09, n),
        [clv_contribution(50, 100, 10, 30, 0.09, int(k)) for k in n],
    )
    assert isinstance(clv_retention(100, 0.8, 0.1), float)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: clv_revenue(100, -1.0, 5), "greater than -1"),
        (lambda: clv_revenue(100, 0.1, -1), ">= 0"),
        (lambda: clv_revenue(float("nan"), 0.1, 5), "finite"),
        (lambda: clv_profit(100, float("inf"), 0.1, 5), "finite"),
        (lambda: clv_contribution(0, 100, 0, 0, 0.1, 2.5), "whole number"),
        (lambda: clv_retention(100, 1.2, 0.1), r"\[0, 1\]"),
        (lambda: clv_retention(100, -0.1, 0.1), r"\[0, 1\]"),
        (lambda: clv_retention(100, 1.0, 0.0), "infinite"),
        (lambda: clv_retention(100, 0.5, float("nan")), "finite"),
        (lambda: clv_revenue("abc", 0.1, 5), "numeric"),
    ],
)
def test_bad_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


rates = st.floats(min_value=0.0, max_value=0.5)
money = st.floats(min_value=1.0, max_value=1e6)


@given(R=money, d1=rates, d2=rates, n=st.integers(min_value=1, max_value=60))
def test_clv_falls_as_the_discount_rate_rises(R, d1, d2, n):
    lo, hi = sorted((d1, d2))
    if hi - lo < 1e-6:
        return
    assert clv_revenue(R, lo, n) > clv_revenue(R, hi, n)
    assert clv_profit(R, R / 2, lo, n) > clv_profit(R, R / 2, hi, n)
    assert clv_contribution(R, R, R / 10, R / 2, lo, n) > clv_contribution(
        R, R, R / 10, R / 2, hi, n
    )


@given(R=money, d=rates, n1=st.integers(0, 80), n2=st.integers(0, 80))
def test_clv_grows_with_years_of_loyalty(R, d, n1, n2):
    lo, hi = sorted((n1, n2))
    if lo == hi:
        return
    assert clv_revenue(R, d, lo) < clv_revenue(R, d, hi)
    assert clv_contribution(R, R, 0.0, R / 2, d, lo) < clv_contribution(R, R, 0.0, R / 2, d, hi)


@given(m=money, r=st.floats(0.0, 0.99), d=st.floats(0.01, 0.5))
def test_retention_value_is_the_discounted_geometric_sum(m, r, d):
    # m r / (1 + d - r) = sum_{t>=1} m r^t / (1 + d)^t
    t = np.arange(1, 4000)
    assert clv_retention(m, r, d) == pytest.approx(float(np.sum(m * (r / (1 + d)) ** t)), rel=1e-9)
