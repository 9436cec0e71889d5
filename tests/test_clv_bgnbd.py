"""BG/NBD (Fader, Hardie & Lee 2005): published CDNOW fit, reference predictions,
parameter recovery, grouping, unit invariance and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm_core.clv import ModelFitError, fit_bgnbd
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.simulate import simulate_bgnbd

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cdnow() -> pl.DataFrame:
    return pl.read_csv(DATA / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: pl.DataFrame) -> BGNBDModel:
    return fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_published_cdnow_estimates(cdnow_fit):
    # FHL 2005, section 4: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    m = cdnow_fit
    assert m.r == pytest.approx(0.243, abs=5e-4)
    assert m.alpha == pytest.approx(4.414, abs=5e-4)
    assert m.a == pytest.approx(0.793, abs=5e-4)
    assert m.b == pytest.approx(2.426, abs=5e-4)
    assert m.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert m.n_customers == 2357
    assert m.time_unit == "W"


def test_standard_errors_match_lifetimes(cdnow_fit):
    # lifetimes 0.11.3 BetaGeoFitter(penalizer_coef=0).fit(..., tol=1e-10).summary, run in
    # a throwaway virtualenv (not a dependency): se 0.012557, 0.378221, 0.185719, 0.705346
    m = cdnow_fit
    got = [m.r_se, m.alpha_se, m.a_se, m.b_se]
    np.testing.assert_allclose(got, [0.012557, 0.378221, 0.185719, 0.705346], rtol=2e-3)


# Conditional expectations over the next 39 weeks and P(alive) from lifetimes 0.11.3
# (conditional_expected_number_of_purchases_up_to_time, conditional_probability_alive)
# with the same CDNOW fit; the parameters agree to 1e-7 so rtol 1e-5 is ample.
REFERENCE = [
    # x, t_x, T, E[Y(39) | x, t_x, T], P(alive)
    (0, 0.00, 38.86, 0.19478084699557247, 1.0),
    (1, 1.71, 38.86, 0.20325064493830242, 0.21222741),
    (2, 30.43, 38.86, 1.2259104520741433, 0.72660915),
    (6, 36.57, 38.86, 3.917320762125366, 0.86962132),
    (10, 20.00, 38.86, 0.2864163925420686, 0.03935614),
    (3, 5.00, 38.00, 0.09922459170583954, 0.0406358),
]


@pytest.mark.parametrize(("x", "tx", "T", "expected", "alive"), REFERENCE)
def test_reference_predictions(cdnow_fit, x, tx, T, expected, alive):
    assert cdnow_fit.expected_purchases(39, x, tx, T) == pytest.approx(expected, rel=1e-5)
    assert cdnow_fit.p_alive(x, tx, T) == pytest.approx(alive, rel=1e-5)


def test_unconditional_expectation(cdnow_fit):
    # lifetimes expected_number_of_purchases_up_to_time(39), (78)
    assert cdnow_fit.expected_purchases_new(39) == pytest.approx(1.1950162976654073, rel=1e-5)
    assert cdnow_fit.expected_purchases_new(78) == pytest.approx(1.8579717823108668, rel=1e-5)
    assert cdnow_fit.expected_purchases_new(0) == 0.0


def test_predictions_are_vectorised_and_sane(cdnow, cdnow_fit):
    m = cdnow_fit
    alive = m.p_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert isinstance(alive, pl.Series)
    assert alive.min() > 0 and alive.max() <= 1
    t = np.array([0.0, 10.0, 39.0, 100.0])
    e = m.expected_purchases(t, 2, 30.43, 38.86)
    assert e[0] == 0 and np.all(np.diff(e) > 0)
    # the CDNOW holdout (weeks 40-78): FHL figure 3 shows 1,788 actual repeat purchases
    # against about 1,700-1,800 predicted; the sum of conditional expectations lands there
    total = float(m.expected_purchases(39, cdnow["frequency"], cdnow["recency"], cdnow["T"]).sum())
    assert 1600 < total < 1900


def test_expectation_is_continuous_through_a_equal_one(cdnow_fit):
    # the formulas divide by (a - 1); near a = 1 the removable singularity is bridged
    args = (20.0, 3, 15.0, 30.0)
    grid = 1 + np.linspace(-4e-3, 4e-3, 17)
    values = np.array(
        [cdnow_fit.with_params(0.5, 5.0, a, 3.0).expected_purchases(*args) for a in grid]
    )
    assert np.all(np.isfinite(values))
    # smooth, no jump: second differences on a 5e-4 grid are of order f'' * 2.5e-7
    assert np.max(np.abs(np.diff(values, 2))) < 1e-6


def test_weights_equal_duplicated_rows(cdnow):
    x, tx, t = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    doubled = fit_bgnbd(np.tile(x, 2), np.tile(tx, 2), np.tile(t, 2))
    weighted = fit_bgnbd(x, tx, t, weights=np.full(x.size, 2.0))
    np.testing.assert_allclose(doubled.params, weighted.params, rtol=1e-6)
    assert doubled.log_likelihood == pytest.approx(weighted.log_likelihood, rel=1e-9)
    assert weighted.n_customers == 2 * x.size


def test_time_unit_only_rescales_alpha(cdnow, cdnow_fit):
    x, tx, t = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    days = fit_bgnbd(x, tx * 7, t * 7, time_unit="D")
    assert days.alpha == pytest.approx(cdnow_fit.alpha * 7, rel=1e-6)
    for name in ("r", "a", "b"):
        assert getattr(days, name) == pytest.approx(getattr(cdnow_fit, name), rel=1e-6)
    # the density of a time in days is the weekly density / 7 per repeat purchase
    assert days.log_likelihood == pytest.approx(
        cdnow_fit.log_likelihood - x.sum() * np.log(7), rel=1e-9
    )
    assert days.expected_purchases(273, 2, 213, 272) == pytest.approx(
        cdnow_fit.expected_purchases(39, 2, 213 / 7, 272 / 7), rel=1e-6
    )


def _recovery(params, n, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(13, 78, size=n).round(0)  # weeks observed, whole weeks like real data
    x, tx = simulate_bgnbd(*params, t, rng)
    fit = fit_bgnbd(x, tx, t)
    ses = np.array([fit.r_se, fit.alpha_se, fit.a_se, fit.b_se])
    z = (np.array(fit.params) - np.array(params)) / ses
    return fit, z


def test_parameter_recovery_quick():
    # 20,000 simulated customers: every estimate within 4 asymptotic standard errors
    # (a two-sided 4-sigma band; the SEs themselves are a few percent of the values)
    fit, z = _recovery((0.25, 4.0, 0.8, 2.5), 20_000, seed=1)
    assert np.all(np.abs(z) < 4), z
    assert fit.r_se / fit.r < 0.1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "seed"),
    [
        ((0.25, 4.0, 0.8, 2.5), 11),
        ((1.0, 2.0, 0.5, 5.0), 12),
        ((2.0, 10.0, 1.5, 3.0), 13),
        ((0.5, 1.0, 2.0, 20.0), 14),
    ],
)
def test_parameter_recovery_several_sets(params, seed):
    _, z = _recovery(params, 200_000, seed)
    assert np.all(np.abs(z) < 4), z


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0, 0, 0], [0, 0, 0], [10, 10, 10]), "repeat purchase"),
        (([1, float("nan")], [1, 0], [5, 5]), "NaN"),
        (([1, -1], [1, 0], [5, 5]), "whole numbers"),
        (([1.5, 1], [1, 1], [5, 5]), "whole numbers"),
        (([1, 2], [6, 1], [5, 5]), "between 0 and T"),
        (([1, 2], [1, 1], [5, 0]), "positive"),
        (([0, 2], [1, 1], [5, 5]), "recency must be 0"),
        (([1, 2], [1, 1], [5]), "differ in length"),
        (([], [], []), "no customers"),
    ],
)
def test_degenerate_data_raise_model_fit_error(args, match):
    with pytest.raises(ModelFitError, match=match):
        fit_bgnbd(*args)


def test_model_fit_error_is_a_value_error_and_bad_weights_fail():
    assert issubclass(ModelFitError, ValueError)
    with pytest.raises(ModelFitError, match="weights"):
        fit_bgnbd([1, 2], [1, 1], [5, 5], weights=[1, -1])


def test_prediction_inputs_are_checked(cdnow_fit):
    with pytest.raises(ValueError, match="recency"):
        cdnow_fit.p_alive(1, 10, 5)
    with pytest.raises(ValueError, match="t must be"):
        cdnow_fit.expected_purchases(-1, 1, 1, 5)
    with pytest.raises(ValueError, match="finite"):
        cdnow_fit.p_alive(float("nan"), 1, 5)


# ------------------------------------------------------------- the fit's fast path


def _weekly_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers observed for whole days, summarised in weeks (as rfm_summary does)."""
    rng = np.random.default_rng(seed)
    days = rng.integers(1, 1100, size=n).astype(np.float64)
    x, tx_weeks = simulate_bgnbd(0.9, 20.0, 0.7, 6.0, days / 7, rng)
    tx = np.minimum(np.round(tx_weeks * 7), days) / 7
    return x, np.where(x > 0, tx, 0.0), days / 7


def test_codes_equal_numpy_unique():
    from crm_core.clv._arrays import codes

    rng = np.random.default_rng(3)
    days = rng.integers(0, 1200, size=5_000)
    weeks_polars = pl.Series(days).cast(pl.Float64) / 7  # polars multiplies by 1/7
    for values in (days.astype(float), days / 7, weeks_polars.to_numpy(), rng.random(500)):
        uniq, inverse = codes(values)
        want_u, want_i = np.unique(values, return_inverse=True)
        np.testing.assert_array_equal(uniq, want_u)
        np.testing.assert_array_equal(inverse, want_i)
        np.testing.assert_array_equal(uniq[inverse], values)


def test_group_codes_equal_a_plain_group_by():
    from crm_core.clv._arrays import group_codes

    rng = np.random.default_rng(4)
    cols = [rng.integers(0, 5, 2_000), rng.integers(0, 7, 2_000), rng.integers(0, 3, 2_000)]
    weights = rng.integers(0, 3, 2_000).astype(float)
    (a, b, c), w = group_codes(cols, (5, 7, 3), weights)
    want = (
        pl.DataFrame({"a": cols[0], "b": cols[1], "c": cols[2], "w": weights})
        .filter(pl.col("w") > 0)
        .group_by("a", "b", "c")
        .agg(pl.col("w").sum())
        .sort("a", "b", "c")
    )
    for got, name in ((a, "a"), (b, "b"), (c, "c"), (w, "w")):
        np.testing.assert_array_equal(got, want[name].to_numpy())


def test_analytic_hessian_matches_finite_differences():
    from crm_core.clv import bgnbd
    from crm_core.clv._fit import hessian

    x, tx, t = _weekly_sample(5_000, seed=5)
    data = bgnbd._group(x, tx, t, None, float(t.mean()))
    theta = np.log([0.8, 0.5, 0.6, 5.0])
    f, g, h = bgnbd._neg_ll(theta, data, hess=True)
    f2, g2 = bgnbd._neg_ll(theta, data)
    assert f == f2
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_allclose(h, hessian(lambda th: bgnbd._neg_ll(th, data), theta), rtol=1e-6)


def test_newton_path_equals_the_plain_optimiser():
    # more customers than the start subsample: fit_bgnbd fits the subsample, then finishes
    # with Newton steps on the analytic Hessian; the plain L-BFGS path gives the same fit
    from crm_core.clv import bgnbd
    from crm_core.clv._fit import maximise

    x, tx, t = _weekly_sample(60_000, seed=6)
    fast = fit_bgnbd(x, tx, t)
    scale = float(t.mean())
    data = bgnbd._group(x, tx, t, None, scale)
    plain = maximise(
        lambda th: bgnbd._neg_ll(th, data),
        bgnbd._starts(data),
        names=("r", "alpha", "a", "b"),
        model="BG/NBD",
        total_weight=float(x.size),
    )
    want = np.exp(plain.log_params) * np.array([1, scale, 1, 1])
    np.testing.assert_allclose(fast.params, want, rtol=1e-6)
    np.testing.assert_allclose(fast.covariance, plain.covariance, rtol=1e-4)
    ll = plain.log_likelihood - data.sum_wx * np.log(scale)
    assert fast.log_likelihood == pytest.approx(ll, rel=1e-10)
