"""Expected purchases over a horizon (crm_core.clv._horizon): the Chebyshev evaluation of the
Euler-transformed formula equals the model's own formula, stays finite where that one
overflows, and does not depend on how many distinct customers there are."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import beta as beta_dist

from crm_core.clv import _horizon
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.gamma_gamma import GammaGammaModel
from crm_core.clv.valuation import bgnbd_clv_values

WEEKS_PER_YEAR = 365.25 / 7


def _steps(horizon_years: float, per_year: float = WEEKS_PER_YEAR, rate: float = 0.1):
    years, disc = _horizon.horizon_steps(horizon_years, 12, rate)
    return years * per_year, disc


def _direct(model: BGNBDModel, x, age, times, disc):
    """The step sum with the model's own E(t) (FHL 2005 eq. 10 without P(alive))."""
    cum = model._alive_expectation(times[None, :], x[:, None], age[:, None])
    return np.diff(cum, axis=1, prepend=0.0) @ disc, cum[:, -1]


@pytest.mark.parametrize(
    ("params", "unit_per_year", "horizon"),
    [
        ((0.243, 4.414, 0.793, 2.426), WEEKS_PER_YEAR, 3.0),  # CDNOW, weeks
        ((0.99, 1.29, 0.69, 7.1), WEEKS_PER_YEAR, 10.0),  # the sample retailer
        ((0.5, 30.0, 2.5, 4.0), 365.25, 2.0),  # days, a > 1
        ((1.2, 0.05, 0.3, 0.8), WEEKS_PER_YEAR, 5.5),  # tiny alpha: a wide interval in w
        ((0.8, 2.0, 1.0002, 3.0), WEEKS_PER_YEAR, 3.0),  # next to the removable a = 1
    ],
)
def test_equals_the_models_formula(params, unit_per_year, horizon):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 40, size=400).astype(np.float64)
    age = np.round(rng.uniform(0.2, 3 * unit_per_year, size=400), 3)
    model = BGNBDModel(*params)
    times, disc = _steps(horizon, unit_per_year)
    discounted, at_end = _horizon.purchases_by_customer(model.params, x, age, times, disc)
    want_discounted, want_end = _direct(model, x, age, times, disc)
    np.testing.assert_allclose(discounted, want_discounted, rtol=1e-9)
    np.testing.assert_allclose(at_end, want_end, rtol=1e-9)


def test_very_frequent_buyers_over_ten_years_stay_finite():
    # the sample retailer at 1M customers: a few buy every other day (x ~ 600); the
    # textbook form overflows (2F1 -> inf while the power -> 0); both forms must be finite
    model = BGNBDModel(0.988, 1.292, 0.693, 7.083)
    x, age = np.array([667.0, 3.0]), np.array([154.29, 100.0])
    times, disc = _steps(10.0)
    direct = model._alive_expectation(times[-1:], x, age)
    discounted, at_end = _horizon.purchases_by_customer(model.params, x, age, times, disc)
    assert np.all(np.isfinite(discounted)) and np.all(np.isfinite(at_end))
    r, alpha, a, b = model.params

    def integral(xi: float, ti: float, t: float) -> float:
        # E = E_p[(1 - (1 + p t / (alpha + T))^-(r + x)) / p], p ~ Beta(a, b + x)
        u = t / (alpha + ti)
        f = lambda p: (1 - (1 + p * u) ** -(r + xi)) / p * beta_dist.pdf(p, a, b + xi)  # noqa: E731
        return quad(f, 0, 1, points=[a / (b + xi)], limit=200)[0]

    assert at_end[0] == pytest.approx(integral(667.0, 154.29, times[-1]), rel=1e-7)
    assert at_end[1] == pytest.approx(integral(3.0, 100.0, times[-1]), rel=1e-7)
    assert direct[0] == pytest.approx(integral(667.0, 154.29, times[-1]), rel=1e-7)
    gg = GammaGammaModel(4.4, 5.4, 47.7)
    ones = np.ones(2)
    values = bgnbd_clv_values(model, gg, x, age - 1, age, 30 * ones, margin=0.4,
                              horizon_years=10.0, discount_rate=0.1)  # fmt: skip
    assert np.all(np.isfinite(values["clv"])) and values["clv"][0] > values["clv"][1]


def test_pairs_and_matrix_agree(monkeypatch):
    rng = np.random.default_rng(8)
    x = rng.integers(0, 200, size=3000).astype(np.float64)
    age = rng.integers(1, 1100, size=3000) / 7
    model = BGNBDModel(0.99, 1.29, 0.69, 7.1)
    times, disc = _steps(3.0)
    matrix = _horizon.purchases_by_customer(model.params, x, age, times, disc)
    monkeypatch.setattr(_horizon, "_MATRIX_CELLS", 0)
    pairs = _horizon.purchases_by_customer(model.params, x, age, times, disc)
    for got, want in zip(pairs, matrix, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13)


def test_steps_end_at_the_horizon():
    years, disc = _horizon.horizon_steps(1.5, 12, 0.1)
    assert years.size == 18 and years[-1] == 1.5
    years, disc = _horizon.horizon_steps(0.1, 12, 0.0)
    assert years.tolist() == [1 / 12, 0.1] and disc.tolist() == [1.0, 1.0]
