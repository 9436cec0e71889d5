"""Monte Carlo bands of the what-if projection (Beta posterior retention, margin noise)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from crm_core.whatif.engine import Levers, Segment, apply_scenario, simulate


def segments(at_risk: int = 100, retained: int = 80, margin_std: float = 10.0) -> list[Segment]:
    return [
        Segment(
            "A",
            1000,
            retained / at_risk,
            100.0,
            50,
            120.0,
            observed_at_risk=at_risk,
            observed_retained=retained,
            margin_std=margin_std,
        ),
        Segment("B", 400, 0.6, 40.0, observed_at_risk=50, observed_retained=30),
    ]


def run(segs, draws=2000, seed=11, **kwargs):
    return simulate(segs, horizon_years=10, discount_rate=0.1, draws=draws, seed=seed, **kwargs)


def test_bands_contain_the_deterministic_result():
    result = run(segments())
    bands = result.uncertainty
    assert bands is not None
    assert bands.draws == 2000
    assert bands.equity.p10 < result.customer_equity < bands.equity.p90
    assert bands.equity.contains(result.customer_equity)
    deterministic = result.by_segment.unpivot(
        index="segment", on=["equity", "clv", "new_customer_value"], variable_name="metric"
    )
    joined = bands.by_segment.join(deterministic, on=["segment", "metric"])
    assert joined.height == 6
    assert (joined["p10"] <= joined["value"]).all()
    assert (joined["value"] <= joined["p90"]).all()
    totals = result.totals.unpivot(
        index="year", on=["customers", "profit", "discounted_profit"], variable_name="metric"
    )
    joined = bands.totals.join(totals, on=["year", "metric"])
    assert joined.height == 30
    assert (joined["p10"] <= joined["value"] + 1e-9).all()
    assert (joined["value"] <= joined["p90"] + 1e-9).all()


def test_bands_per_segment_and_year():
    result = run(segments())
    by_year = result.uncertainty.by_year
    assert by_year.columns == ["year", "segment", "metric", "p10", "p50", "p90"]
    assert by_year.height == 10 * 2 * 3
    assert (by_year["p10"] <= by_year["p50"]).all()
    assert (by_year["p50"] <= by_year["p90"]).all()
    customers = by_year.filter(pl.col("metric") == "customers").join(
        result.by_year.select("year", "segment", "customers"), on=["year", "segment"]
    )
    assert (customers["p10"] <= customers["customers"] + 1e-9).all()
    assert (customers["customers"] <= customers["p90"] + 1e-9).all()


def test_deterministic_retention_is_the_median_draw():
    # Re-centred posterior: the retention of the median draw is the segment's retention.
    one = [Segment("A", 1000, 0.8, 100.0, observed_at_risk=100, observed_retained=80)]
    result = run(one, draws=4001)
    assert result.uncertainty.equity.p50 == pytest.approx(result.customer_equity, rel=2e-3)


def test_bands_narrow_as_observed_counts_grow():
    widths = []
    for scale in (1, 10, 100):
        result = run(segments(at_risk=100 * scale, retained=80 * scale, margin_std=0.0))
        band = result.uncertainty.equity
        widths.append(band.p90 - band.p10)
    assert widths[0] > widths[1] > widths[2] > 0
    # Width of the retention posterior shrinks like 1/sqrt(n): about 10x over 100x counts.
    assert widths[0] / widths[2] == pytest.approx(10, rel=0.3)


def test_retention_draws_follow_the_beta_posterior_spread():
    one = [Segment("A", 1.0, 0.6, 1.0, observed_at_risk=50, observed_retained=30)]
    result = simulate(one, horizon_years=1, discount_rate=0.0, draws=20000, seed=3)
    # With horizon 1, d = 0 and margin 1, one customer's equity is its retention.
    draws = result.uncertainty.equity_draws
    posterior = stats.beta(31, 21)
    spread = posterior.ppf(0.9) - posterior.ppf(0.1)
    assert np.quantile(draws, 0.9) - np.quantile(draws, 0.1) == pytest.approx(spread, rel=0.05)


def test_no_counts_and_no_noise_collapse_the_band():
    result = run([Segment("A", 100, 0.7, 10.0, 5, 3.0)], draws=50)
    band = result.uncertainty.equity
    assert band.p10 == pytest.approx(result.customer_equity)
    assert band.p90 == pytest.approx(result.customer_equity)


def test_margin_noise_alone_gives_a_normal_band():
    one = [Segment("A", 1.0, 1.0, 100.0, margin_std=10.0)]
    result = simulate(one, horizon_years=1, discount_rate=0.0, draws=20000, seed=5)
    band = result.uncertainty.equity
    assert band.p50 == pytest.approx(100.0, abs=0.5)
    assert band.p90 - band.p10 == pytest.approx(2 * 1.2816 * 10.0, rel=0.05)


def test_seeded_and_reproducible():
    a = run(segments(), draws=200, seed=1).uncertainty.equity_draws
    b = run(segments(), draws=200, seed=1).uncertainty.equity_draws
    c = run(segments(), draws=200, seed=2).uncertainty.equity_draws
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    generator = run(segments(), draws=200, seed=np.random.default_rng(1)).uncertainty
    np.testing.assert_array_equal(generator.equity_draws, a)


def test_same_seed_gives_common_random_numbers_across_scenarios():
    base = segments()
    better = apply_scenario(base, Levers(retention_points=3))
    before = run(base, draws=500, seed=4).uncertainty.equity_draws
    after = run(better, draws=500, seed=4).uncertainty.equity_draws
    assert (after > before).all()  # every draw improves: the noise is shared


def test_quarterly_bands_and_no_draws():
    result = run(segments(), draws=300, periods_per_year=4)
    assert result.uncertainty.totals.height == 30
    assert result.uncertainty.equity.contains(result.customer_equity)
    assert run(segments(), draws=0).uncertainty is None


def test_certain_retention_stays_within_bounds():
    # All observed customers stayed: draws are clipped at 100% retention.
    one = [Segment("A", 100, 1.0, 10.0, observed_at_risk=20, observed_retained=20)]
    result = run(one, draws=500)
    band = result.uncertainty.equity
    assert band.p90 == pytest.approx(result.customer_equity)
    assert band.p10 < result.customer_equity


def test_a_measured_first_year_survival_is_not_shifted_by_the_retention_draws():
    # no current customers: year 1 holds only the year's new customers, all still active
    seg = Segment(
        "A", 0.0, 0.5, 10.0, 100.0, 0.0, new_survival=1.0, observed_at_risk=40,
        observed_retained=20,
    )  # fmt: skip
    bands = simulate([seg], horizon_years=2, discount_rate=0.1, draws=500).uncertainty
    customers = bands.totals.filter(pl.col("metric") == "customers").sort("year")
    assert customers.row(0, named=True)["p10"] == pytest.approx(100.0)
    assert customers.row(0, named=True)["p90"] == pytest.approx(100.0)
    year2 = customers.row(1, named=True)  # the survivors' retention is uncertain
    assert year2["p10"] < year2["p50"] < year2["p90"]
