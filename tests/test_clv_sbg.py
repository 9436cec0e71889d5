"""sBG retention model (Fader & Hardie 2007): published fits, projections, DERL, recovery."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.clv import ModelFitError, fit_sbg, fit_sbg_censored
from crm_core.clv.simulate import simulate_sbg

# Fader & Hardie (2007), table 1: customers alive at the start of years 0..12 (of 1000)
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


def test_published_estimates_from_years_one_to_seven():
    # The paper fits years 1-7: regular alpha = 0.704, beta = 1.182 and high end
    # alpha = 0.668, beta = 3.806. (The regular segment has the lower retention, so it
    # has the larger mean churn alpha / (alpha + beta) = 0.37 = 1 - 0.631.)
    regular = fit_sbg(REGULAR[:8], period="year")
    high = fit_sbg(HIGH_END[:8], period="year")
    assert regular.alpha == pytest.approx(0.704, abs=5e-4)
    assert regular.beta == pytest.approx(1.182, abs=5e-4)
    assert high.alpha == pytest.approx(0.668, abs=5e-4)
    assert high.beta == pytest.approx(3.806, abs=5e-4)
    assert regular.period == "year" and regular.n_customers == 1000


def test_projections_of_years_eight_to_twelve():
    # Projection from the 7-year fit against the actual survivors the paper reports for
    # years 8-12 (its figure 4: the sBG tracks the holdout closely, unlike flat-rate
    # models). Our projections, pinned to +-0.5 customer: regular 220.1, 204.4, 191.2,
    # 179.9, 170.0; high end 460.4, 435.8, 414.2, 395.1, 378.0.
    years = np.arange(8, 13)
    for data, pinned, within in (
        (REGULAR, [220.1, 204.4, 191.2, 179.9, 170.0], 0.025),
        (HIGH_END, [460.4, 435.8, 414.2, 395.1, 378.0], 0.045),
    ):
        model = fit_sbg(data[:8])
        projected = 1000 * np.asarray(model.survival(years))
        np.testing.assert_allclose(projected, pinned, atol=0.5)
        np.testing.assert_allclose(projected, data[8:], rtol=within)


def test_retention_rises_with_tenure_and_matches_survival():
    m = fit_sbg(REGULAR[:8])
    t = np.arange(1, 13)
    r = np.asarray(m.retention(t))
    assert np.all(np.diff(r) > 0)
    s = np.asarray(m.survival(np.arange(0, 13)))
    np.testing.assert_allclose(s[1:] / s[:-1], r, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(m.churn_probability(t)), s[:-1] - s[1:], rtol=1e-10)
    assert m.survival(0) == 1.0


def test_derl_closed_form_equals_the_discounted_sum():
    m = fit_sbg(HIGH_END[:8])
    for renewals in (0, 3, 10):
        closed = m.derl(renewals, 0.10)
        # sum_{k>=1} S(n-1+k)/S(n-1) / 1.1^(k-1), n - 1 = renewals, truncated
        s = np.asarray(m.survival(np.arange(renewals, renewals + 3000)))
        direct = float(np.sum(s[1:] / s[0] / 1.1 ** np.arange(2999)))
        assert closed == pytest.approx(direct, rel=1e-9)
        assert m.derl(renewals, 0.10, horizon=3000) == pytest.approx(direct, rel=1e-9)
    # longer-tenured customers are worth more (retention rises with tenure)
    assert m.derl(10, 0.1) > m.derl(3, 0.1) > m.derl(0, 0.1)
    # a homogeneous check: beta -> large with alpha/(alpha+beta) = theta fixed gives the
    # geometric value sum (1-theta)^k / 1.1^(k-1) = (1-theta) / (1 - (1-theta)/1.1)
    homo = m.with_params(0.2 * 1e5, 0.8 * 1e5)
    assert homo.derl(0, 0.1) == pytest.approx(0.8 / (1 - 0.8 / 1.1), rel=1e-4)
    with pytest.raises(ValueError, match="discount_rate"):
        m.derl(0, 0.0)


def test_parameter_recovery_quick():
    rng = np.random.default_rng(3)
    alive = simulate_sbg(0.7, 1.2, 20_000, 8, rng)
    fit = fit_sbg(alive)
    z = (np.array(fit.params) - [0.7, 1.2]) / [fit.alpha_se, fit.beta_se]
    assert np.all(np.abs(z) < 4), z


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "seed"), [((0.668, 3.806), 31), ((2.0, 10.0), 32), ((0.3, 0.5), 33)]
)
def test_parameter_recovery_several_sets(params, seed):
    alive = simulate_sbg(*params, 200_000, 12, np.random.default_rng(seed))
    fit = fit_sbg(alive)
    z = (np.array(fit.params) - params) / [fit.alpha_se, fit.beta_se]
    assert np.all(np.abs(z) < 4), z


def test_censored_fit_matches_single_cohort_fit():
    alive = np.array(REGULAR[:8], dtype=float)
    lost = -np.diff(alive)
    censored = np.zeros(7)
    censored[-1] = alive[-1]
    a = fit_sbg(alive)
    b = fit_sbg_censored(lost, censored)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)


@pytest.mark.parametrize(
    ("alive", "match"),
    [
        ([1000, 1000, 1000, 1000], "nobody churned"),
        ([1000, 0, 0], "first period"),
        ([1000, 700, 800], "must not increase"),
        ([1000, float("nan"), 500], "finite"),
        ([0, 0, 0], "empty"),
        ([1000, 600], "at least two"),
    ],
)
def test_degenerate_data_raise_model_fit_error(alive, match):
    with pytest.raises(ModelFitError, match=match):
        fit_sbg(alive)


def test_bad_periods_raise_value_error():
    m = fit_sbg(REGULAR[:8])
    with pytest.raises(ValueError, match=">= 1"):
        m.retention(0)
    with pytest.raises(ValueError, match=">= 0"):
        m.survival(-1)
