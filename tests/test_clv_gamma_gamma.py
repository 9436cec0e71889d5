"""Gamma-Gamma spend model: published CDNOW fit, reference values, recovery, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm_core.clv import ModelFitError, fit_gamma_gamma
from crm_core.clv.simulate import simulate_gamma_gamma

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cdnow_fit():
    df = pl.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    return fit_gamma_gamma(df["x"], df["zbar"])


def test_published_cdnow_estimates(cdnow_fit):
    # Fader & Hardie (2013) note on the 946 CDNOW repeaters: p = 6.25, q = 3.74,
    # gamma = 15.44 (we get 15.4477; the published mean spends are rounded to cents)
    m = cdnow_fit
    assert m.n_customers == 946
    assert m.p == pytest.approx(6.25, abs=0.005)
    assert m.q == pytest.approx(3.74, abs=0.005)
    assert m.gamma == pytest.approx(15.44, abs=0.01)
    # lifetimes 0.11.3 GammaGammaFitter: 6.248802, 3.744588, 15.447748; se 1.189687,
    # 0.290166, 4.159994 (throwaway virtualenv, not a dependency)
    np.testing.assert_allclose(m.params, [6.248802, 3.744588, 15.447748], rtol=1e-5)
    np.testing.assert_allclose(
        [m.p_se, m.q_se, m.gamma_se], [1.189687, 0.290166, 4.159994], rtol=2e-3
    )
    assert m.mean_spend == pytest.approx(6.248802 * 15.447748 / 2.744588, rel=1e-5)


def test_expected_spend_reference_values(cdnow_fit):
    # lifetimes conditional_expected_average_profit([1, 2, 6], [11.77, 22.35, 50.0])
    got = cdnow_fit.expected_spend(np.array([1, 2, 6]), np.array([11.77, 22.35, 50.0]))
    np.testing.assert_allclose(got, [18.91147984, 24.65861617, 48.98851583], rtol=1e-6)
    # no repeat purchase: the population mean
    assert cdnow_fit.expected_spend(0, 0.0) == pytest.approx(cdnow_fit.mean_spend)
    # many purchases: the customer's own mean dominates
    assert cdnow_fit.expected_spend(1000, 80.0) == pytest.approx(80.0, rel=0.01)


def test_expected_spend_rejects_bad_inputs(cdnow_fit):
    with pytest.raises(ValueError, match=">= 0"):
        cdnow_fit.expected_spend(2, -5.0)
    with pytest.raises(ValueError, match="finite"):
        cdnow_fit.expected_spend(2, float("nan"))
    with pytest.raises(ValueError, match="no finite mean"):
        cdnow_fit.with_params(2.0, 0.9, 10.0).expected_spend(1, 10.0)


def test_parameter_recovery_quick():
    # 20,000 repeaters: estimates within 4 asymptotic standard errors
    rng = np.random.default_rng(5)
    params = (6.0, 3.5, 15.0)
    x = rng.integers(1, 12, size=20_000).astype(float)
    m = simulate_gamma_gamma(*params, x, rng)
    fit = fit_gamma_gamma(x, m)
    z = (np.array(fit.params) - params) / [fit.p_se, fit.q_se, fit.gamma_se]
    assert np.all(np.abs(z) < 4), z


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "seed"), [((2.0, 5.0, 40.0), 21), ((10.0, 2.5, 5.0), 22), ((1.0, 8.0, 200.0), 23)]
)
def test_parameter_recovery_several_sets(params, seed):
    rng = np.random.default_rng(seed)
    x = rng.geometric(0.3, size=200_000).astype(float)
    m = simulate_gamma_gamma(*params, x, rng)
    fit = fit_gamma_gamma(x, m)
    z = (np.array(fit.params) - params) / [fit.p_se, fit.q_se, fit.gamma_se]
    assert np.all(np.abs(z) < 4), z


def test_non_repeaters_are_ignored_and_weights_work():
    rng = np.random.default_rng(8)
    x = rng.integers(1, 6, size=3000).astype(float)
    m = simulate_gamma_gamma(6.0, 3.5, 15.0, x, rng)
    base = fit_gamma_gamma(x, m)
    padded = fit_gamma_gamma(np.r_[x, np.zeros(500)], np.r_[m, np.zeros(500)])
    np.testing.assert_allclose(base.params, padded.params, rtol=1e-9)
    doubled = fit_gamma_gamma(x, m, weights=np.full(x.size, 2.0))
    np.testing.assert_allclose(
        doubled.params, fit_gamma_gamma(np.tile(x, 2), np.tile(m, 2)).params, rtol=1e-6
    )


@pytest.mark.parametrize(
    ("x", "m", "match"),
    [
        ([0, 0, 0], [0, 0, 0], "at least two"),
        ([1, 2, 3], [10, float("nan"), 5], "finite"),
        ([1, 2, 3], [10, 0, 5], "positive monetary_value"),
        ([1, -2, 3], [10, 3, 5], "whole numbers"),
        ([1, 2, 3], [10, 10, 10], "same mean spend"),
        ([1, 2], [1.0], "differ in length"),
    ],
)
def test_degenerate_data_raise_model_fit_error(x, m, match):
    with pytest.raises(ModelFitError, match=match):
        fit_gamma_gamma(x, m)


def _spenders(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 30, size=n).astype(np.float64)
    m = np.round(simulate_gamma_gamma(4.0, 10.0, 90.0, x, rng), 2)
    return x, np.maximum(m, 0.01)


def test_analytic_hessian_matches_finite_differences():
    from crm_core.clv import gamma_gamma
    from crm_core.clv._fit import hessian

    x, m = _spenders(3_000, seed=8)
    data = gamma_gamma._Spend(x, m / m.mean(), np.ones_like(x))
    theta = np.log([3.0, 8.0, 6.0])
    f, g, h = gamma_gamma._neg_ll(theta, data, hess=True)
    f2, g2 = gamma_gamma._neg_ll(theta, data)
    assert f == f2
    np.testing.assert_array_equal(g, g2)
    fd = hessian(lambda th: gamma_gamma._neg_ll(th, data), theta)
    np.testing.assert_allclose(h, fd, rtol=1e-6)


def test_newton_path_equals_the_plain_optimiser():
    # more repeaters than the start subsample: the fit starts on a subsample and finishes
    # with Newton steps on the analytic Hessian; the plain L-BFGS path gives the same fit
    from crm_core.clv import gamma_gamma
    from crm_core.clv._fit import maximise

    x, m = _spenders(60_000, seed=9)
    fast = fit_gamma_gamma(x, m)
    scale = float(m.mean())
    data = gamma_gamma._Spend(x, m / scale, np.ones_like(x))
    starts = [np.log([p, q, (q - 1) / p]) for p in (0.5, 2.0, 8.0) for q in (1.5, 3.0, 8.0)]
    plain = maximise(
        lambda th: gamma_gamma._neg_ll(th, data),
        starts,
        names=("p", "q", "gamma"),
        model="Gamma-Gamma",
        total_weight=float(x.size),
    )
    want = np.exp(plain.log_params) * np.array([1, 1, scale])
    np.testing.assert_allclose(fast.params, want, rtol=1e-6)
    np.testing.assert_allclose(fast.covariance, plain.covariance, rtol=1e-4)
