"""Calibration / holdout checks on the customer ledger of the sample companies (both
business models): the fit at an earlier period end of the same ledger against what the
ledger records afterwards, which equals what the raw transactions say."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.clv.fitted import fit_models
from crm_core.clv.holdout import calibration_choices, holdout_check
from crm_core.clv.summary import purchase_days, rfm_summary
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.snapshot import Snapshot, load_snapshot
from crm_core.sample import generate_sample

CALIBRATION_END = date(2025, 9, 30)


@pytest.fixture(scope="module")
def retail(tmp_path_factory) -> Snapshot:
    path = generate_sample(tmp_path_factory.mktemp("retail") / "s", customers=2000, seed=7)
    return load_snapshot(path)


@pytest.fixture(scope="module")
def subscription(tmp_path_factory) -> Snapshot:
    path = generate_sample(
        tmp_path_factory.mktemp("subs") / "s", customers=2000, seed=7, business_model="contractual"
    )
    return load_snapshot(path)


@pytest.fixture(scope="module")
def retail_ledger(retail) -> Ledger:
    return build_ledger(retail)


@pytest.fixture(scope="module")
def subscription_ledger(subscription) -> Ledger:
    return build_ledger(subscription)


def test_bgnbd_holdout_on_the_retail_sample(retail, retail_ledger):
    check = holdout_check(retail_ledger, CALIBRATION_END)
    assert check.model_name == "BG/NBD" and check.bgnbd is not None
    b = check.by_bucket
    assert b["bucket"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    calibration = rfm_summary(retail.transactions, observation_end=CALIBRATION_END)
    calibration = calibration.filter(pl.col("T") > 0)
    assert int(b["customers"].sum()) == check.customers == calibration.height
    # the bucket means add up to the totals
    assert float((b["customers"] * b["predicted"]).sum()) == pytest.approx(check.predicted_total)
    assert float((b["customers"] * b["actual"]).sum()) == pytest.approx(check.actual_total)
    # predicted: the conditional expectation of FHL eq. 10, through the model's own method
    weeks = (retail.as_of - CALIBRATION_END).days / 7
    expected = check.bgnbd.expected_purchases(
        weeks, calibration["frequency"], calibration["recency"], calibration["T"]
    )
    assert check.predicted_total == pytest.approx(float(expected.sum()), rel=1e-9)
    # the holdout from the ledger panel is the raw transactions' purchase days after the
    # calibration end, of the customers the calibration knew
    days = purchase_days(retail.transactions).collect()
    after = days.filter(pl.col("date") > CALIBRATION_END).join(
        calibration.select("customer_id"), on="customer_id", how="semi"
    )
    assert check.actual_total == after.height
    # the generator is a BG/NBD world with seasonality and a latent VIP class: the
    # total holdout forecast is within 15% and the buckets rise with frequency
    assert abs(check.error) < 0.15
    assert b["predicted"][7] > 2 * b["predicted"][0]
    t = check.tracking  # one point per ledger period end (quarters)
    assert t["step"].to_list() == list(range(1, t.height + 1))
    assert t["date"][-1] == retail.as_of and t["date"].to_list() == sorted(t["date"].to_list())
    assert set(t["date"].to_list()) <= set(retail_ledger.grid["period_end"].to_list())
    assert (t["actual"].diff().drop_nulls() >= 0).all()
    assert (t["predicted"].diff().drop_nulls() >= 0).all()
    # a period ends on the calibration day: the cumulative count there is the calibration
    # customers' repeat purchases, and the rest is the holdout
    at_cal = t.filter(pl.col("date") == CALIBRATION_END)
    assert at_cal["period"][0] == "calibration"
    assert at_cal["actual"][0] == int(calibration["frequency"].sum())
    assert t["actual"][-1] - at_cal["actual"][0] == pytest.approx(check.actual_total)
    assert set(t["period"].unique()) == {"calibration", "holdout"}
    # predicted and actual agree to within 15% over the calibration period as well
    assert at_cal["predicted"][0] == pytest.approx(at_cal["actual"][0], rel=0.15)


def test_a_given_fit_is_used_and_must_match_the_date(retail_ledger):
    fit = fit_models(retail_ledger, 4)  # 30 Sep 2025, four quarters back
    given = holdout_check(retail_ledger, CALIBRATION_END, models=fit)
    fitted_here = holdout_check(retail_ledger, 4)
    assert_frame_equal(given.by_bucket, fitted_here.by_bucket)  # group means: float order
    assert_frame_equal(given.tracking, fitted_here.tracking)
    assert given.predicted_total == pytest.approx(fitted_here.predicted_total, rel=1e-12)
    assert given.bgnbd is fit.bgnbd
    with pytest.raises(ValueError, match="fitted at"):
        holdout_check(retail_ledger, 3, models=fit)
    with pytest.raises(ValueError, match="not a period end"):
        holdout_check(retail_ledger, "2025-09-29")


def test_sbg_holdout_on_the_subscription_sample(subscription, subscription_ledger):
    check = holdout_check(subscription_ledger, "2025-09-30")
    assert check.model_name == "sBG" and check.sbg is not None
    t = check.tracking
    assert t["actual"][0] == t["predicted"][0] == check.customers
    assert t["date"][-1] == subscription.as_of and t.height == 13  # 12 monthly periods
    # still under contract at the end: the customers' own churn dates say the same
    running = subscription.customers.filter(
        (pl.col("acquired_on") <= CALIBRATION_END)
        & (pl.col("churned_on").is_null() | (pl.col("churned_on") > CALIBRATION_END))
    ).collect()
    assert check.customers == running.height
    still = running.filter(
        pl.col("churned_on").is_null() | (pl.col("churned_on") > subscription.as_of)
    )
    assert t["actual"][-1] == check.actual_total == still.height
    assert abs(check.error) < 0.05
    b = check.by_bucket
    assert int(b["customers"].sum()) == check.customers
    # longer-tenured customers are more likely to stay (heterogeneity)
    assert b["predicted"][-1] > b["predicted"][0]
    np.testing.assert_allclose(
        float((b["customers"] * b["actual"]).sum()), check.actual_total, rtol=1e-12
    )


def test_calibration_must_end_before_as_of(retail_ledger):
    with pytest.raises(ValueError, match="before"):
        holdout_check(retail_ledger, retail_ledger.as_of)


def test_calibration_choices_are_period_ends_with_history(
    retail, retail_ledger, subscription_ledger
):
    ends = calibration_choices(retail_ledger)  # data from 2 Oct 2023, as of 30 Sep 2026
    assert ends[0] == date(2026, 6, 30) and ends[-1] == date(2024, 6, 30)  # 6 months after
    assert len(ends) == 9 and ends == sorted(ends, reverse=True)
    # the monthly ledger of a subscription business offers the same quarter ends
    assert calibration_choices(subscription_ledger) == ends
    # the ledger's periods end on the as-of date: at a mid-quarter date, 3-month steps back
    mid_quarter = calibration_choices(build_ledger(retail.cut("2026-08-15")))
    assert mid_quarter[:2] == [date(2026, 5, 15), date(2026, 2, 15)]
    assert calibration_choices(build_ledger(retail.cut("2024-01-31"))) == []  # four months


def test_headline_and_summary_state_the_error_in_words(retail_ledger, subscription_ledger):
    from dataclasses import replace

    check = holdout_check(retail_ledger, CALIBRATION_END)
    predicted, actual = round(check.predicted_total), round(check.actual_total)
    assert check.summary == (
        f"Fitted on data to 30 Sep 2025, the model predicted {predicted:,} repeat purchases "
        f"from 1 Oct 2025 to 30 Sep 2026 by the {check.customers:,} customers it knew; "
        f"{actual:,} happened ({check.error * 100:+.0f}%)."
    )
    assert check.headline == f"The model forecast repeat purchases to within {check.error:.0%}"
    over = replace(check, predicted_total=1.31 * check.actual_total)
    assert over.headline == "The model over-forecast repeat purchases by 31%"
    under = replace(check, predicted_total=0.8 * check.actual_total)
    assert under.headline == "The model under-forecast repeat purchases by 20%"
    sbg = holdout_check(subscription_ledger, CALIBRATION_END)
    assert sbg.summary.startswith(
        f"Fitted on data to 30 Sep 2025, the model expected {round(sbg.predicted_total)} of the "
        f"{sbg.customers} customers with a running contract then to still have one on "
        "30 Sep 2026;"
    )
    assert sbg.bucket_noun == "months paid"
