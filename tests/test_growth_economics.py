"""Unit economics by channel and cohort: a hand-made company worked by hand, and the sample
against the Lifecycle cohorts, the shared valuation and the profit rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import contact, customer, purchase

from crm_core import load_snapshot
from crm_core.clv import fit_models, value
from crm_core.data.ledger import build_ledger
from crm_core.growth import economics as ue
from crm_core.lifecycle.cohorts import cohort_retention
from crm_core.metrics.profit import customer_profit

D = date
MONTH = 365.25 / 12


@pytest.fixture
def shop(make_snapshot):
    return make_snapshot(
        [
            customer("w1", D(2025, 1, 15), channel="Web", cost=30),
            customer("w2", D(2025, 6, 10), channel="Web", cost=50),
            customer("s1", D(2026, 5, 1), channel="Store", cost=20),
        ],
        [
            purchase("w1", D(2025, 1, 15), 100, 40),
            purchase("w1", D(2026, 2, 1), 60, 20),
            purchase("w2", D(2025, 6, 10), 80, 30),
            purchase("s1", D(2026, 5, 1), 40, 10),
            purchase("s1", D(2026, 9, 1), 20, 5),
        ],
        [contact("w1", D(2025, 3, 1), "call_center", 10)],
    )


def _rows(table: pl.DataFrame) -> dict[str, dict]:
    return {r[ue.GROUP]: r for r in table.iter_rows(named=True)}


def test_channels_by_hand(shop) -> None:
    result = ue.unit_economics(build_ledger(shop), None, ue.BY_CHANNEL)
    web, store = _rows(result.table)["Web"], _rows(result.table)["Store"]
    assert (web["customers"], web["acquisition_spend"], web["cac"]) == (2, 80, 40)
    # margin since acquisition: w1 160 - 60 - 10 = 90, w2 80 - 30 = 50
    assert web["margin_to_date"] == pytest.approx(70)
    months = (623 + 477) / MONTH  # days from acquisition to 30 Sep 2026
    assert web["payback_months"] == pytest.approx(40 / (140 / months))
    # w1 (2025 Q1) is active at the end of 2026 Q1 (bought Feb 2026); w2 (2025 Q2) has not
    # bought for 385 days on 30 Jun 2026: lapsed
    assert (web["retention_12m"], web["retention_eligible"]) == (0.5, 2)
    assert store["retention_12m"] is None and store["retention_eligible"] == 0
    assert store["payback_months"] == pytest.approx(20 / (45 / (152 / MONTH)))
    # last 12 months' profit: w1 60 - 20 = 40; s1 60 - 15 - 20 (won in the window) = 25
    assert web["profit_share"] == pytest.approx(40 / 65)
    assert store["profit_share"] == pytest.approx(25 / 65)
    # no valuation given: no CLV, no value, no ratio (never a stand-in)
    assert web["clv"] is None and web["value"] is None and web["value_to_cac"] is None
    total = result.total.row(0, named=True)
    assert (total["customers"], total["cac"]) == (3, pytest.approx(100 / 3))
    assert result.best_and_worst() is None  # fewer than two groups of 20 customers


def test_cohorts_and_window_by_hand(shop) -> None:
    ledger = build_ledger(shop)
    cohorts = _rows(ue.unit_economics(ledger, None, ue.BY_COHORT).table)
    assert list(cohorts) == ["2025 Q1", "2025 Q2", "2026 Q2"]  # oldest first
    assert cohorts["2025 Q1"]["retention_12m"] == 1.0
    assert cohorts["2025 Q2"]["retention_12m"] == 0.0
    recent = ue.unit_economics(ledger, None, ue.BY_CHANNEL, won_months=12)
    assert recent.won_since == D(2025, 10, 1)
    assert _rows(recent.table).keys() == {"Store"}
    assert _rows(recent.table)["Store"]["profit_share"] == pytest.approx(25 / 65)  # of all profit


def test_bad_arguments(shop) -> None:
    ledger = build_ledger(shop)
    with pytest.raises(ValueError, match="by must be"):
        ue.unit_economics(ledger, None, "region")
    with pytest.raises(ValueError, match="won_months"):
        ue.unit_economics(ledger, None, won_months=0)


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_sample_agrees_with_valuation_cohorts_and_profit(which: str, request) -> None:
    ledger = build_ledger(load_snapshot(request.getfixturevalue(which)))
    clv = value(fit_models(ledger))
    channels = ue.unit_economics(ledger, clv, ue.BY_CHANNEL)
    assert channels.table["customers"].sum() == ledger.customers.height
    assert channels.table["profit_share"].sum() == pytest.approx(1.0)
    # CLV per customer: the shared valuation averaged over the channel (0 where not valued)
    direct = (
        ledger.customers.join(clv.table.select("cid", "clv"), on="cid", how="left")
        .group_by("acquisition_channel")
        .agg(pl.col("clv").fill_null(0.0).mean(), pl.col("acquisition_cost").mean().alias("cac"))
    )
    for row in direct.iter_rows(named=True):
        got = _rows(channels.table)[row["acquisition_channel"]]
        assert got["clv"] == pytest.approx(row["clv"])
        assert got["value_to_cac"] == pytest.approx(
            (got["margin_to_date"] + row["clv"]) / row["cac"]
        )
    best, worst = channels.best_and_worst()
    assert best["value_to_cac"] >= worst["value_to_cac"]
    # 12-month retention: the Lifecycle cohorts' active share four quarters on
    cohorts = ue.unit_economics(ledger, clv, ue.BY_COHORT)
    lifecycle = cohort_retention(ledger)
    at_four = lifecycle.table.filter(pl.col("quarter") == 4)
    assert at_four.height > 3
    for row in at_four.iter_rows(named=True):
        got = _rows(cohorts.table)[row["cohort_label"]]
        assert got["retention_12m"] == pytest.approx(row["active_share"])
        assert got["customers"] == row["customers"]
    profit = customer_profit(ledger, 12).select(pl.col("profit").sum()).collect().item()
    assert cohorts.total["profit_share"][0] == pytest.approx(1.0)
    assert profit > 0


def test_subscription_value_counts_only_running_contracts(subscription_dir: Path) -> None:
    ledger = build_ledger(load_snapshot(subscription_dir))
    clv = value(fit_models(ledger))
    total = ue.unit_economics(ledger, clv).total.row(0, named=True)
    assert total["clv"] == pytest.approx(clv.customer_equity / ledger.customers.height)
