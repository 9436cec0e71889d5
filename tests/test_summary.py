"""rfm_summary: hand-computed summaries, refunds, units, and the published CDNOW summary."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.clv.summary import purchase_days, rfm_summary, units_per_year

DATA = Path(__file__).parent / "data"


def _tx(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": [date.fromisoformat(r[1]) for r in rows],
            "amount": [r[2] for r in rows],
        }
    )


def _expected(rows: list[tuple[str, int, float, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "frequency": [r[1] for r in rows],
            "recency": [r[2] for r in rows],
            "T": [r[3] for r in rows],
            "monetary_value": [r[4] for r in rows],
        },
        schema={
            "customer_id": pl.String,
            "frequency": pl.Int64,
            "recency": pl.Float64,
            "T": pl.Float64,
            "monetary_value": pl.Float64,
        },
    )


def test_hand_computed_summary_in_weeks_and_days():
    tx = _tx(
        [
            ("a", "2024-01-01", 10.0),
            ("a", "2024-01-01", 5.0),  # same day: one purchase of 15
            ("a", "2024-01-15", 20.0),
            ("a", "2024-01-29", 30.0),
            ("b", "2024-01-08", 50.0),
            ("c", "2024-02-05", 7.0),
            ("c", "2024-03-01", 9.0),  # after observation_end: ignored
        ]
    )
    got = rfm_summary(tx, observation_end=date(2024, 2, 26))
    # a: first 01-01, repeats 01-15 and 01-29 -> frequency 2, recency 28 d = 4 w,
    #    T = 56 d = 8 w, monetary = (20 + 30) / 2
    want = _expected([("a", 2, 4.0, 8.0, 25.0), ("b", 0, 0.0, 7.0, 0.0), ("c", 0, 0.0, 3.0, 0.0)])
    assert_frame_equal(got, want)
    days = rfm_summary(tx.lazy(), observation_end="2024-02-26", time_unit="D")
    assert days["recency"].to_list() == [28.0, 0.0, 0.0]
    assert days["T"].to_list() == [56.0, 49.0, 21.0]


def test_refund_days_are_not_purchases_and_net_within_the_day():
    tx = _tx(
        [
            ("a", "2024-01-01", 100.0),
            ("a", "2024-01-10", -40.0),  # refund on a later day: not a purchase
            ("a", "2024-01-15", 60.0),
            ("a", "2024-01-15", -20.0),  # same-day partial refund: nets to 40
            ("b", "2024-01-03", -10.0),  # only a refund: b never purchased
            ("c", "2024-01-02", 0.0),  # a free item counts as a purchase day (CDNOW has some)
            ("d", "2024-01-01", 30.0),
            ("d", "2024-01-08", 30.0),
            ("d", "2024-01-08", -45.0),  # net -15 on that day: a refund day
        ]
    )
    got = rfm_summary(tx, observation_end=date(2024, 1, 29), time_unit="D")
    want = _expected(
        [("a", 1, 14.0, 28.0, 40.0), ("c", 0, 0.0, 27.0, 0.0), ("d", 0, 0.0, 28.0, 0.0)]
    )
    assert_frame_equal(got, want)
    days = purchase_days(tx).collect()
    assert days.filter(pl.col("customer_id") == "a")["amount"].sort().to_list() == [40.0, 100.0]


def test_datetime_dates_and_other_columns_are_accepted():
    tx = pl.DataFrame(
        {
            "customer_id": ["x", "x"],
            "date": [datetime(2024, 1, 1, 9), datetime(2024, 1, 8, 18)],
            "amount": [1.0, 2.0],
            "channel": ["web", "store"],
        }
    )
    got = rfm_summary(tx, observation_end=date(2024, 1, 15))
    assert got.row(0) == ("x", 1, 1.0, 2.0, 2.0)


def test_bad_inputs_raise_value_error():
    tx = _tx([("a", "2024-01-01", 1.0)])
    with pytest.raises(ValueError, match="time_unit"):
        rfm_summary(tx, observation_end=date(2024, 2, 1), time_unit="M")
    with pytest.raises(ValueError, match="amount"):
        rfm_summary(tx.drop("amount"), observation_end=date(2024, 2, 1))
    with pytest.raises(ValueError, match="observation_end"):
        rfm_summary(tx, observation_end="next tuesday")
    with pytest.raises(ValueError, match="numeric"):
        rfm_summary(
            tx.with_columns(pl.col("amount").cast(pl.String)), observation_end=date(2024, 2, 1)
        )


def test_units_per_year():
    assert units_per_year("W") == pytest.approx(365.25 / 7)
    assert units_per_year("D") == 365.25


def load_cdnow_transactions() -> pl.DataFrame:
    """CDNOW sample (Fader & Hardie): master id, sample id, yyyymmdd, CDs, dollars."""
    rows = [line.split() for line in (DATA / "CDNOW_sample.txt").read_text().splitlines()]
    return pl.DataFrame(
        {
            "customer_id": [int(r[1]) for r in rows],
            "date": [r[2] for r in rows],
            "amount": [float(r[4]) for r in rows],
        }
    ).with_columns(pl.col("date").str.strptime(pl.Date, "%Y%m%d"))


def test_cdnow_sample_reproduces_the_published_summary():
    """FHL 2005 calibration period: 39 weeks to 1997-09-30; the published files round
    recency, T and mean spend to cents / hundredths of a week."""
    got = rfm_summary(load_cdnow_transactions(), observation_end=date(1997, 9, 30))
    published = pl.read_csv(DATA / "cdnow_customers_summary.csv")
    money = pl.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    assert got.height == published.height == 2357
    joined = got.join(published, left_on="customer_id", right_on="ID", suffix="_pub").join(
        money, left_on="customer_id", right_on="ID"
    )
    assert joined.height == 2357
    assert (joined["frequency"] == joined["frequency_pub"]).all()
    assert (joined["frequency"] == joined["x"]).all()
    half_cent = 0.005 + 1e-9  # published values are rounded to two decimals
    assert (joined["recency"] - joined["recency_pub"]).abs().max() <= half_cent
    assert (joined["T"] - joined["T_pub"]).abs().max() <= half_cent
    assert (joined["monetary_value"] - joined["zbar"]).abs().max() <= half_cent
    assert int((joined["frequency"] > 0).sum()) == 946  # FHL 2005: 946 repeat buyers
