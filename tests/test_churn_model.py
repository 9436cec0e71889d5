"""The churn model's parts against hand computations, closed forms and simulations with a
known truth: evaluation numbers, model features, calibration, reasons and savings."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.special import betaln

from crm_core.churn.columns import F, R
from crm_core.churn.evaluate import calibration_table, decile_of, lift_table, scores
from crm_core.churn.features import FeatureSpec
from crm_core.churn.model import MIN_CHURNERS, train
from crm_core.churn.model_features import _renewals_due, median_wait, renewal_probability
from crm_core.churn.reasons import groups_of, reasons
from crm_core.churn.value import best_contacts, saved_by_tier, savings, savings_curve
from crm_core.clv.sbg import SBGModel
from crm_core.errors import NotEnoughData


def test_scores_by_hand() -> None:
    y = np.array([1, 0, 1, 0], dtype=bool)
    s = np.array([0.9, 0.8, 0.4, 0.1])
    got = scores(y, s)
    assert got.roc_auc == 0.75  # 3 of the 4 (churner, stayer) pairs ordered right
    # average precision: precision 1 at the first churner, 2/3 at the second
    assert got.pr_auc == pytest.approx((1 + 2 / 3) / 2)
    assert got.brier == pytest.approx(np.mean((s - y) ** 2))


def test_lift_and_calibration_by_hand() -> None:
    # 20 customers, scores 19 .. 0; churners at ranks 0, 1, 2 and 10
    score = np.arange(20, 0, -1, dtype=float)
    churned = np.zeros(20, dtype=bool)
    churned[[0, 1, 2, 10]] = True
    lift = lift_table(churned, score)
    assert lift["customers"].to_list() == [2] * 10
    assert lift["churners"].to_list() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert lift["lift"][0] == pytest.approx(1.0 / 0.2)  # decile rate 100% over 20%
    assert lift["capture"][0] == 0.5 and lift["cumulative_capture"][-1] == 1.0
    assert scores(churned, score / 20).top_decile_lift == pytest.approx(5.0)
    # equal scores: in row order
    assert decile_of(np.array([1.0, 1.0, 1.0, 1.0, 1.0]), 5).tolist() == [0, 1, 2, 3, 4]
    p = np.linspace(0.05, 0.95, 20)
    cal = calibration_table(p > 0.5, p)
    assert cal["customers"].to_list() == [2] * 10
    assert cal["predicted"][0] == pytest.approx(p[:2].mean())
    assert cal["observed"].to_list() == [0.0] * 5 + [1.0] * 5


def test_median_wait_matches_a_simulation() -> None:
    """Given alive, the BG/NBD rate is Gamma(r + x, alpha + T); the next purchase waits an
    exponential time at that rate: the simulated median equals the closed form."""
    rng = np.random.default_rng(3)
    r, alpha, x, age = 0.8, 4.0, 5.0, 30.0
    rate = rng.gamma(r + x, 1 / (alpha + age), 400_000)
    wait = rng.exponential(1 / rate)
    closed = median_wait(r, alpha, np.array([x]), np.array([age]))[0]
    assert np.median(wait) == pytest.approx(closed, rel=0.01)


def test_renewal_probability_is_the_product_of_retention_rates() -> None:
    model = SBGModel(alpha=1.2, beta=6.5)
    paid = np.array([1, 4, 12])
    due = np.array([3.0, 1.0, 0.0])
    expected = [
        np.prod([model.retention(t) for t in range(m, m + int(n))])
        for m, n in zip(paid, due, strict=True)
    ]
    np.testing.assert_allclose(renewal_probability(1.2, 6.5, paid, due), expected)
    # S(t) = B(alpha, beta + t) / B(alpha, beta)
    assert renewal_probability(1.2, 6.5, np.array([1]), np.array([5.0]))[0] == pytest.approx(
        np.exp(betaln(1.2, 6.5 + 5) - betaln(1.2, 6.5))
    )
    # renewal dates due in a 0.25-year horizon with monthly periods
    years = np.array([0.01, 0.24, 0.26, 0.1])
    assert _renewals_due(years, 0.25, 1 / 12).tolist() == [3.0, 1.0, 0.0, 2.0]


def ranked_list() -> pl.DataFrame:
    return pl.DataFrame(
        {
            R.p_churn: [0.9, 0.5, 0.8, 0.1],
            R.value_at_risk: [90.0, 40.0, 8.0, 1.0],
            R.tier: ["A", "C", "B", "C"],
        }
    )


def test_savings_by_hand() -> None:
    ranked = ranked_list()
    s = savings(ranked, 2, 0.25, 10.0)
    assert (s.contacted, s.value_at_risk, s.churners) == (2, 130.0, pytest.approx(1.4))
    assert (s.saved_value, s.cost, s.net) == (32.5, 20.0, 12.5)
    assert s.saved_customers == pytest.approx(0.35)
    assert savings(ranked, 99, 0.25, 10.0).contacted == 4
    # gains 0.25 x value - 10: 12.5, 0, -8, -9.75 -> net 0, 12.5, 12.5, 4.5, -5.25
    assert best_contacts(ranked, 0.25, 10.0) == 1
    assert best_contacts(ranked, 0.25, 100.0) == 0
    curve = savings_curve(ranked, 0.25, 10.0)
    assert curve["contacted"].to_list() == [0, 1, 2, 3, 4]
    assert curve["net"].to_list() == pytest.approx([0.0, 12.5, 12.5, 4.5, -5.25])
    assert saved_by_tier(ranked, 3, 0.5) == pytest.approx({"A": 0.45, "B": 0.4, "C": 0.25})
    with pytest.raises(ValueError, match="success_rate"):
        savings(ranked, 1, 1.5, 0.0)


SPEC = FeatureSpec(
    contractual=False, channels=(), touchpoints=(), acquisition_channels=("Web",),
    with_models=False,
)  # fmt: skip


def synthetic(n: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Rows whose true P(churn) depends on days since the last purchase and on the spend
    change only; the other features are noise."""
    rng = np.random.default_rng(seed)
    days = rng.uniform(0, 360, n)
    change = rng.uniform(-1, 1, n)
    truth = 1 / (1 + np.exp(-(-4.0 + days / 60 - 2.0 * change)))
    data = {name: rng.normal(size=n) for name in SPEC.names}
    data[F.days_since], data[F.spend_change] = days, change
    data[F.acquisition_channel] = np.zeros(n)
    frame = pl.DataFrame(data).with_columns(pl.Series(F.churned, rng.random(n) < truth))
    return frame, truth


def test_calibrated_model_recovers_known_probabilities() -> None:
    frame, _ = synthetic(15_000, 1)
    trained = train(frame, SPEC)
    test, truth = synthetic(10_000, 2)
    x = test.select(SPEC.names).to_numpy()
    p = trained.predict(x)
    assert np.mean(np.abs(p - truth)) < 0.03
    y = test[F.churned].to_numpy()
    oracle = np.mean((truth - y) ** 2)
    assert np.mean((p - y) ** 2) < oracle * 1.03
    recency = scores(y, trained.recency(x), trained.predict_baseline(x))
    assert scores(y, p).roc_auc > recency.roc_auc + 0.02
    assert trained.calibration == "isotonic" and not trained.subsampled
    small = train(frame.head(5_000), SPEC, max_rows=2_000)
    assert small.rows == 2_000 and small.rows_available == 5_000 and small.subsampled


def test_reasons_name_the_feature_that_raises_the_risk() -> None:
    frame, _ = synthetic(15_000, 4)
    trained = train(frame, SPEC)
    typical = trained.typical.copy()
    spend_drop, silent = typical.copy(), typical.copy()
    spend_drop[SPEC.names.index(F.spend_change)] = -1.0
    silent[SPEC.names.index(F.days_since)] = 350.0
    why = reasons(trained, np.vstack([spend_drop, silent, typical]))
    assert why[R.reason.format(1)].to_list() == ["spend", "silence", None]
    assert why[R.effect.format(1)][0] > 0.05 and why[R.effect.format(1)][2] is None
    groups = groups_of(SPEC.names)
    assert set(groups) >= {"silence", "spend", "frequency", "service", "refunds"}


def test_too_few_churners_is_a_data_error() -> None:
    frame, _ = synthetic(2_000, 5)
    few = frame.with_columns(pl.Series(F.churned, np.arange(2_000) < MIN_CHURNERS - 1))
    with pytest.raises(NotEnoughData, match="at least 20 churners"):
        train(few, SPEC)
