"""Forecast against actual: consistent with the holdout check for the same dates, actuals
summed from the raw rows, the purchase probability against a simulation with known truth,
and the sBG revenue forecast against a plain loop."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm_core import load_snapshot
from crm_core.clv import fit_models
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.fitted import PERIODS_PAID, REVENUE_PER_PERIOD
from crm_core.clv.holdout import calibration_choices, holdout_check
from crm_core.data.expressions import add_months
from crm_core.data.ledger import build_ledger
from crm_core.growth import forecast as fc
from crm_core.growth import forecast_paths as fp


@pytest.fixture(scope="module")
def retail(sample_dir: Path):
    ledger = build_ledger(load_snapshot(sample_dir))
    return ledger, fc.fit_history(ledger)


@pytest.fixture(scope="module")
def subscriptions(subscription_dir: Path):
    ledger = build_ledger(load_snapshot(subscription_dir))
    return ledger, fc.fit_history(ledger)


def _summary(history, measure: str) -> dict[date, dict]:
    rows = history.summary.filter(pl.col("measure") == measure)
    return {r["fit_end"]: r for r in rows.iter_rows(named=True)}


def test_fits_are_the_holdout_checks_calibration_dates(retail) -> None:
    ledger, history = retail
    assert history.fits == calibration_choices(ledger)
    assert history.skipped == ()
    assert history.model_name == "BG/NBD + Gamma-Gamma"


def test_retail_error_equals_the_holdout_check(retail) -> None:
    ledger, history = retail
    purchases = _summary(history, fp.PURCHASES)
    for end in history.fits:
        k = next(p for p in range(ledger.periods) if ledger.period_end(p) == end)
        check = holdout_check(ledger, end, models=fit_models(ledger, k))
        row = purchases[end]
        assert row["forecast"] == pytest.approx(check.predicted_total, rel=1e-9)
        assert row["actual"] == check.actual_total
        assert row["error"] == pytest.approx(check.error, rel=1e-6, abs=1e-9)


def test_subscription_error_equals_the_holdout_check(subscriptions) -> None:
    ledger, history = subscriptions
    active = _summary(history, fp.ACTIVE)
    for end in history.fits[:4]:
        k = next(p for p in range(ledger.periods) if ledger.period_end(p) == end)
        check = holdout_check(ledger, end, models=fit_models(ledger, k))
        assert active[end]["forecast"] == pytest.approx(check.predicted_total)
        assert active[end]["actual"] == check.actual_total
    assert history.measures == (fp.ACTIVE, fp.REVENUE)


def test_actual_revenue_is_the_raw_rows(retail, sample_dir: Path) -> None:
    ledger, history = retail
    snap = load_snapshot(sample_dir)
    tx = snap.transactions.collect()
    end = history.fits[3]  # a year back
    fit = fit_models(ledger, 4)
    known = fit.inputs["customer_id"]
    for row in history.of(end).filter(pl.col("measure") == fp.REVENUE).iter_rows(named=True):
        start = add_months(row["period_end"], -3) + timedelta(days=1)
        direct = tx.filter(
            pl.col("date").is_between(start, row["period_end"])
            & pl.col("customer_id").is_in(known.implode())
        )["amount"].sum()
        assert row["actual"] == pytest.approx(direct)
    # flows add up to date; active customers are a level, forecast at most 366 days on
    paths = history.paths
    active = paths.filter(pl.col("measure") == fp.ACTIVE)
    assert (
        active.filter(pl.col("quarters_ahead") > 4)["forecast"].null_count()
        == active.filter(pl.col("quarters_ahead") > 4).height
    )
    assert _summary(history, fp.ACTIVE)[history.fits[-1]]["quarters_ahead"] == 4


def test_active_forecast_is_exact_for_the_sure_ones(retail) -> None:
    """Customers within their lapse threshold a quarter on are counted as 1 each, the
    others by their purchase probability: the forecast lies between the two bounds."""
    ledger, history = retail
    row = history.of(history.fits[0]).filter(pl.col("measure") == fp.ACTIVE).row(0, named=True)
    fit = fit_models(ledger, 1)
    state = ledger.at(1).collect().join(fit.inputs.select("cid"), on="cid")
    days = (ledger.period_end(0) - ledger.period_end(1)).days
    sure = (state["days_since_activity"] + days <= state["lapse_after_days"]).sum()
    assert sure <= row["forecast"] <= fit.inputs.height
    assert abs(row["forecast"] / row["actual"] - 1) < 0.2


def test_purchase_probability_against_a_simulation() -> None:
    """Known BG/NBD parameters: simulate every customer's purchases through calibration
    and a 30-week holdout; the predicted number who buy in the holdout matches."""
    rng = np.random.default_rng(11)
    r, alpha, a, b = 0.8, 6.0, 0.7, 3.0
    n, horizon = 60_000, 30.0
    age = rng.uniform(10, 100, n)
    rate, drop = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    x, last, bought = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    live, now = np.ones(n, dtype=bool), np.zeros(n)
    while live.any():
        i = np.flatnonzero(live)
        now[i] += rng.exponential(1 / rate[i])
        before = now[i] <= age[i]
        after = (now[i] > age[i]) & (now[i] <= age[i] + horizon)
        x[i[before]] += 1
        last[i[before]] = now[i[before]]
        bought[i[after]] = True
        dropped = before & (rng.random(i.size) < drop[i])
        live[i[~before | dropped]] = False
    model = BGNBDModel(r, alpha, a, b)
    alive = model._p_alive(x, last, age)
    predicted = fp.buy_probability(model, x, age, horizon, alive)
    sd = np.sqrt((predicted * (1 - predicted)).sum())
    assert abs(predicted.sum() - bought.sum()) < 4 * sd
    for k in (0, 1, 3):
        sel = x == k
        assert abs(predicted[sel].sum() - bought[sel].sum()) < 4 * np.sqrt(sel.sum()) + 1


def test_subscription_revenue_forecast_by_a_plain_loop(subscriptions, subscription_dir) -> None:
    ledger, _ = subscriptions
    k = 6  # two quarters back
    fit = fit_models(ledger, k)
    paths = fp.fit_paths(ledger, fit).filter(pl.col("measure") == fp.REVENUE)
    running = fit.inputs.filter(pl.col("active")).join(
        ledger.customers.select("cid", "acquired_on"), on="cid"
    )
    model = fit.sbg
    expected = []
    for end in paths["period_end"]:
        total = 0.0
        for paid, rate, acquired in running.select(
            PERIODS_PAID, REVENUE_PER_PERIOD, "acquired_on"
        ).iter_rows():
            started = sum(1 for m in range(0, 200) if add_months(acquired, m) <= end)
            base = model.survival(paid - 1)
            total += rate * sum(
                model.survival(paid - 1 + n) / base for n in range(1, started - paid + 1)
            )
        expected.append(total)
    cumulative = np.cumsum(paths["forecast"].to_numpy())
    assert cumulative == pytest.approx(np.array(expected), rel=1e-9)


def test_fit_keyed_on_another_ledger_is_refused(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    ledger = build_ledger(snap)
    earlier = build_ledger(snap.cut(ledger.period_end(1)))
    with pytest.raises(ValueError, match="another ledger"):
        fp.fit_paths(ledger, fit_models(earlier, 1))
    with pytest.raises(ValueError, match="whole number of quarters"):
        fp.fit_paths(ledger, fit_models(ledger, 0))


def test_short_history_has_no_fits(make_snapshot) -> None:
    from conftest import customer, purchase

    snap = make_snapshot([customer("a", date(2026, 8, 1))], [purchase("a", date(2026, 8, 1), 10)])
    history = fc.fit_history(build_ledger(snap))
    assert history.fits == [] and history.paths.is_empty()
    assert history.mean_abs_error(fp.PURCHASES) is None
