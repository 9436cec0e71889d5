"""The synthetic company: deterministic, valid, and shaped like a real business."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core import load_snapshot
from crm_core.data.ledger import build_ledger
from crm_core.metrics.profit import PROFIT, customer_profit
from crm_core.sample import generate_sample

TABLES = ("customers", "transactions", "service_costs", "prospects")


def test_same_seed_same_snapshot(sample_dir: Path, tmp_path: Path) -> None:
    again = load_snapshot(generate_sample(tmp_path / "again"))
    first = load_snapshot(sample_dir)
    for name in TABLES:
        assert_frame_equal(getattr(again, name).collect(), getattr(first, name).collect())


def test_other_seed_other_snapshot(tmp_path: Path) -> None:
    a = load_snapshot(generate_sample(tmp_path / "a", customers=300, seed=1))
    b = load_snapshot(generate_sample(tmp_path / "b", customers=300, seed=2))
    assert not a.transactions.collect().equals(b.transactions.collect())


def test_shape_of_the_retail_sample(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    customers = snap.customers.collect()
    tx = snap.transactions.collect()
    assert snap.as_of == date(2026, 9, 30)
    assert customers.height == 2000
    assert customers["churned_on"].null_count() == 2000  # non-contractual
    # about three years of history
    assert customers["acquired_on"].min() >= date(2023, 10, 1)
    assert tx["date"].max() <= snap.as_of
    # every customer's first purchase is on the acquisition day
    first = tx.filter(pl.col("amount") > 0).group_by("customer_id").agg(pl.col("date").min())
    joined = customers.join(first, on="customer_id")
    assert joined.height == 2000
    assert (joined["acquired_on"] == joined["date"]).all()
    # heterogeneous purchasing: about 20 transactions per customer on average, long tail
    per_customer = tx.group_by("customer_id").len()["len"]
    assert 12 < per_customer.mean() < 30
    assert per_customer.max() > 10 * per_customer.median()
    # refunds are negative amounts with no direct cost
    refunds = tx.filter(pl.col("amount") < 0)
    assert 0.02 < refunds.height / tx.height < 0.07
    assert (refunds["cost"] == 0).all()


def test_cohorts_channels_and_costs(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    customers = snap.customers.collect()
    cohorts = customers.group_by(pl.col("acquired_on").dt.truncate("1q")).len().sort("acquired_on")
    assert cohorts.height == 12  # quarterly cohorts over three years
    assert cohorts["len"][-4:].sum() > cohorts["len"][:4].sum()  # the business grows
    cac = customers.group_by("acquisition_channel").agg(pl.col("acquisition_cost").mean())
    assert cac.height == 5
    assert cac["acquisition_cost"].max() > 2.5 * cac["acquisition_cost"].min()
    service = snap.service_costs.collect()
    unit = service.group_by("touchpoint").agg(pl.col("cost").mean()).sort("cost")
    assert unit["touchpoint"].to_list() == ["web", "mail", "call_center", "outlet", "field"]


def test_seasonality_peaks_in_december(sample_dir: Path) -> None:
    tx = load_snapshot(sample_dir).transactions.filter(pl.col("amount") > 0).collect()
    by_month = tx.filter(pl.col("date").dt.year() == 2025).group_by(pl.col("date").dt.month()).len()
    counts = dict(zip(by_month["date"].to_list(), by_month["len"].to_list(), strict=True))
    assert counts[12] > 1.3 * counts[2]


def test_profit_concentration_close_to_the_domain_brief(sample_dir: Path) -> None:
    """The seeds' A/B/C table: 10% of customers earn ~75% of profit, 70% earn ~5%.

    Tolerances are wide on purpose: the generator is stochastic and the brief's table is
    an illustration; what matters is the shape (a small elite, an unprofitable tail).
    """
    ledger = build_ledger(load_snapshot(sample_dir))
    profits = customer_profit(ledger).sort(PROFIT, descending=True).collect()
    p = profits["profit"].to_numpy()  # sorted, highest first
    cost = profits["total_cost"].to_numpy()
    n = len(p)
    a, b = round(0.1 * n), round(0.3 * n)
    total = p.sum()
    assert 0.65 < p[:a].sum() / total < 0.9
    assert 0.1 < p[a:b].sum() / total < 0.35
    assert -0.1 < p[b:].sum() / total < 0.15
    assert cost[b:].sum() / cost.sum() > cost[:a].sum() / cost.sum()  # C costs more than A
    whale = np.cumsum(p) / total
    assert whale.max() > 1.03  # some customers lose money
    assert 0.2 < (p < 0).mean() < 0.5


def test_prospects_convert_partly(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    prospects = snap.prospects.collect()
    converted = prospects["converted_customer_id"].drop_nulls()
    assert converted.n_unique() == converted.len()
    assert 0.3 < converted.len() / prospects.height < 0.6
    joined = prospects.join(
        snap.customers.collect(), left_on="converted_customer_id", right_on="customer_id"
    )
    assert (joined["first_contact"] <= joined["acquired_on"]).all()


def test_subscription_sample(subscription_dir: Path) -> None:
    snap = load_snapshot(subscription_dir)
    assert snap.manifest.business_model == "contractual"
    customers = snap.customers.collect()
    churned = customers.filter(pl.col("churned_on").is_not_null())
    assert 0.3 < churned.height / customers.height < 0.7
    assert (churned["churned_on"] <= snap.as_of).all()
    assert (churned["churned_on"] > churned["acquired_on"]).all()
    # no bill after the contract ended
    bills = snap.transactions.collect().join(churned, on="customer_id")
    assert (bills["date"] <= bills["churned_on"]).all()
    # retention rises with tenure (heterogeneous churn): first-year churn exceeds later churn
    tenure = (pl.col("churned_on") - pl.col("acquired_on")).dt.total_days()
    early = churned.filter(tenure < 365).height
    assert early > churned.height / 2


def test_custom_as_of_and_company(tmp_path: Path) -> None:
    snap = load_snapshot(
        generate_sample(tmp_path / "x", customers=50, as_of="2025-12-31", company="Acme")
    )
    assert snap.as_of == date(2025, 12, 31)
    assert snap.manifest.company == "Acme"
    assert snap.transactions.collect()["date"].max() <= date(2025, 12, 31)


@pytest.mark.parametrize("kwargs", [{"customers": 0}, {"business_model": "saas"}])
def test_bad_arguments(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_sample(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_large_sample_spans_several_chunks(tmp_path: Path) -> None:
    snap = load_snapshot(generate_sample(tmp_path / "big", customers=250_000, seed=3))
    ids = snap.customers.select("customer_id").collect()["customer_id"]
    assert ids.n_unique() == 250_000
    assert ids.to_list()[:2] == ["C000001", "C000002"]
