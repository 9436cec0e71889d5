"""The P10-P90 bands from the same fit, fast: the sampled, grid-interpolated totals of
crm_core.clv._band_totals against revaluing every customer under every draw (the exact
computation), on the sample companies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from crm_core.clv._band_totals import cell_totals
from crm_core.clv.fitted import fit_models
from crm_core.clv.summary import FREQUENCY, MONETARY_VALUE, RECENCY, T_AGE
from crm_core.clv.uncertainty import clv_bands, clv_bands_by, parameter_draws
from crm_core.clv.valuation import CLV, ClvResult, bgnbd_clv_values, sbg_clv_values, value
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import load_snapshot
from crm_core.errors import NotEnoughData

DRAWS = 60


@pytest.fixture(scope="module")
def retail(sample_dir) -> ClvResult:
    return value(fit_models(build_ledger(load_snapshot(sample_dir))))


@pytest.fixture(scope="module")
def subscription(subscription_dir) -> ClvResult:
    return value(fit_models(build_ledger(load_snapshot(subscription_dir))), horizon_years=5)


def _exact(result: ClvResult, draws: dict[str, np.ndarray]) -> np.ndarray:
    """``draws x customers``: every customer revalued under every draw."""
    t = result.table
    out = np.empty((len(next(iter(draws.values()))), t.height))
    if result.sbg is not None:
        for i, (al, be) in enumerate(draws["sbg"]):
            out[i] = sbg_clv_values(
                result.sbg.with_params(al, be), t["periods_paid"].to_numpy(),
                t["years_to_next_renewal"].to_numpy(), t["revenue_per_period"].to_numpy(),
                margin=result.margin, horizon_years=result.horizon_years,
                discount_rate=result.discount_rate, period_months=result.period_months or 1,
            )[CLV]  # fmt: skip
        return out
    x = t[FREQUENCY].to_numpy().astype(np.float64)
    tx, age, mv = (t[c].to_numpy() for c in (RECENCY, T_AGE, MONETARY_VALUE))
    for i in range(out.shape[0]):
        out[i] = bgnbd_clv_values(
            result.bgnbd.with_params(*draws["bgnbd"][i]),
            result.gamma_gamma.with_params(*draws["gamma_gamma"][i]),
            x, tx, age, mv, margin=result.margin, horizon_years=result.horizon_years,
            discount_rate=result.discount_rate, steps_per_year=result.steps_per_year,
        )[CLV]  # fmt: skip
    return out


def _segments(result: ClvResult) -> pl.Series:
    """Three groups of different value and behaviour."""
    return result.table.select(
        pl.when(pl.col("p_alive") < 0.3)
        .then(pl.lit("lapsing"))
        .when(pl.int_range(pl.len()) < pl.len() // 10)
        .then(pl.lit("top"))
        .otherwise(pl.lit("rest"))
    ).to_series()


def _worst_error(result: ClvResult, bands, labels: pl.Series, exact: np.ndarray) -> float:
    """Largest gap between the fast and the exact P10 / P50 / P90, over the band width."""
    names = np.asarray(labels.to_list(), dtype=object)
    worst = 0.0
    for row in bands.table.iter_rows(named=True):
        sel = slice(None) if row["segment"] == "All customers" else names == row["segment"]
        want = np.percentile(exact[:, sel].sum(axis=1), [10, 50, 90])
        got = np.array([row["equity_p10"], row["equity_p50"], row["equity_p90"]])
        worst = max(worst, float(np.max(np.abs(got - want)) / (want[2] - want[0])))
    return worst


@pytest.mark.parametrize(("sample", "tolerance"), [(40, 0.10), (1000, 0.03), (5000, 0.002)])
def test_fast_bgnbd_bands_match_the_exact_ones(retail, sample, tolerance):
    # 2,000 customers in three cells: sample=40 revalues 120 of them (about 6%), the default
    # (1,000) samples the largest cell, 5,000 revalues everyone (only the grid interpolation
    # is approximate). Tolerances: of the band's width (P90 - P10)
    labels = _segments(retail)
    bands = clv_bands(retail, segments=labels, draws=DRAWS, seed=4, sample=sample)
    exact = _exact(retail, parameter_draws(retail, DRAWS, seed=4))
    assert _worst_error(retail, bands, labels, exact) < tolerance
    width = bands.equity_p90 - bands.equity_p10
    assert 0.01 < width / retail.customer_equity < 0.5  # a real band, not a point


def test_sbg_bands_are_exact(subscription):
    labels = subscription.table.select(
        pl.when(pl.col("periods_paid") > 6).then(pl.lit("loyal")).otherwise(pl.lit("new"))
    ).to_series()
    bands = clv_bands(subscription, segments=labels, draws=DRAWS, seed=1)
    exact = _exact(subscription, parameter_draws(subscription, DRAWS, seed=1))
    assert _worst_error(subscription, bands, labels, exact) < 1e-9


def test_the_estimate_at_the_fitted_parameters_is_the_equity(retail):
    # whatever the sample, the weights make the fitted parameters give back each cell's
    # equity exactly (the grid ratio is one there)
    labels = _segments(retail).to_numpy()
    names, cell = np.unique(labels, return_inverse=True)
    fitted = {
        "bgnbd": np.tile(retail.bgnbd.params, (3, 1)),
        "gamma_gamma": np.tile(retail.gamma_gamma.params, (3, 1)),
    }
    totals = cell_totals(retail, fitted, cell, names.size, sample=25, seed=0)
    want = np.bincount(cell, weights=retail.table[CLV].to_numpy())
    np.testing.assert_allclose(totals, np.tile(want, (3, 1)), rtol=1e-9)


def test_groupings_share_cells_and_draws(retail):
    labels = _segments(retail)
    halves = pl.Series(["odd" if i % 2 else "even" for i in range(retail.customers)])
    by = clv_bands_by(retail, {"value": labels, "halves": halves}, draws=30, seed=2)
    assert by["value"].equity_p50 == by["halves"].equity_p50
    for bands in by.values():  # segments add up to everyone (counts and medians roughly)
        t = bands.table
        assert t["customers"][0] == retail.customers == t["customers"][1:].sum()
    keyed = retail.table.select("cid", labels.alias("segment"))
    again = clv_bands(retail, segments=keyed, draws=30, seed=2)  # a cid-keyed frame
    assert again.table.equals(clv_bands(retail, segments=labels, draws=30, seed=2).table)
    partial = keyed.filter(pl.col("segment") != "top")  # customers left out: "Unassigned"
    table = clv_bands(retail, segments=partial, draws=30, seed=2).table
    assert table["segment"].to_list() == ["All customers", "Unassigned", "lapsing", "rest"]
    assert table["customers"][1] == (labels == "top").sum()
    with pytest.raises(ValueError, match="sample"):
        clv_bands(retail, draws=30, sample=5)


def test_a_model_free_or_empty_result_is_refused(retail):
    with pytest.raises(ValueError, match="no fitted model"):
        clv_bands(replace(retail, bgnbd=None), draws=20)
    with pytest.raises(NotEnoughData, match="no customer is valued"):
        clv_bands(replace(retail, table=retail.table.head(0)), draws=20)
