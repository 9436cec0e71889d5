"""Calibration / holdout checks on the sample companies (both business models)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from crm_core.clv.holdout import holdout_check
from crm_core.clv.summary import rfm_summary
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


def test_bgnbd_holdout_on_the_retail_sample(retail):
    check = holdout_check(retail, CALIBRATION_END)
    assert check.model_name == "BG/NBD" and check.bgnbd is not None
    b = check.by_bucket
    assert b["bucket"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    calibration = rfm_summary(retail.transactions, observation_end=CALIBRATION_END)
    calibration = calibration.filter(pl.col("T") > 0)
    assert int(b["customers"].sum()) == check.customers == calibration.height
    # the bucket means add up to the totals
    assert float((b["customers"] * b["predicted"]).sum()) == pytest.approx(check.predicted_total)
    assert float((b["customers"] * b["actual"]).sum()) == pytest.approx(check.actual_total)
    # the generator is a BG/NBD world with seasonality and a latent VIP class: the
    # total holdout forecast is within 15% and the buckets rise with frequency
    assert abs(check.error) < 0.15
    assert b["predicted"][7] > 2 * b["predicted"][0]
    t = check.tracking
    assert t["step"].to_list() == list(range(1, t.height + 1))
    assert t["date"][-1] == retail.as_of
    assert (t["actual"].diff().drop_nulls() >= 0).all()
    assert (t["predicted"].diff().drop_nulls() >= 0).all()
    # a week ends on the calibration day: the cumulative count there is the calibration
    # customers' repeat purchases, and the rest is the holdout
    at_cal = t.filter(pl.col("date") == CALIBRATION_END)
    assert at_cal["period"][0] == "calibration"
    assert at_cal["actual"][0] == int(calibration["frequency"].sum())
    assert t["actual"][-1] - at_cal["actual"][0] == pytest.approx(check.actual_total)
    assert set(t["period"].unique()) == {"calibration", "holdout"}
    # predicted and actual agree to within 15% over the calibration period as well
    assert at_cal["predicted"][0] == pytest.approx(at_cal["actual"][0], rel=0.15)


def test_sbg_holdout_on_the_subscription_sample(subscription):
    check = holdout_check(subscription, "2025-09-30")
    assert check.model_name == "sBG" and check.sbg is not None
    t = check.tracking
    assert t["actual"][0] == t["predicted"][0] == check.customers
    assert t["date"][-1] == subscription.as_of and t.height == 13  # 12 monthly steps
    assert abs(check.error) < 0.05
    b = check.by_bucket
    assert int(b["customers"].sum()) == check.customers
    # longer-tenured customers are more likely to stay (heterogeneity)
    assert b["predicted"][-1] > b["predicted"][0]
    np.testing.assert_allclose(
        float((b["customers"] * b["actual"]).sum()), check.actual_total, rtol=1e-12
    )


def test_calibration_must_end_before_as_of(retail):
    with pytest.raises(ValueError, match="before"):
        holdout_check(retail, retail.as_of)


def test_calibration_choices_are_quarter_ends_with_history(retail):
    from crm_core.clv.holdout import calibration_choices

    ends = calibration_choices(retail)  # data from 2 Oct 2023, as of 30 Sep 2026
    assert ends[0] == date(2026, 6, 30) and ends[-1] == date(2024, 6, 30)  # 6 months after
    assert len(ends) == 9 and ends == sorted(ends, reverse=True)
    mid_quarter = calibration_choices(retail.cut("2026-08-15"))
    assert mid_quarter[0] == date(2026, 6, 30)  # the as-of day's own quarter is not over
    assert calibration_choices(retail.cut("2024-01-31")) == []  # four months of data


def test_headline_and_summary_state_the_error_in_words(retail, subscription):
    from dataclasses import replace

    check = holdout_check(retail, CALIBRATION_END)
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
    sbg = holdout_check(subscription, CALIBRATION_END)
    assert sbg.summary.startswith(
        f"Fitted on data to 30 Sep 2025, the model expected {round(sbg.predicted_total)} of the "
        f"{sbg.customers} customers with a running contract then to still have one on "
        "30 Sep 2026;"
    )
    assert sbg.bucket_noun == "months paid"
