"""On the two sample companies the stages, funnel, cohort table, transitions and tenure
profit agree with each other and with the raw data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.data.expressions import add_months
from crm_core.data.snapshot import Snapshot, load_snapshot
from crm_core.lifecycle.cohorts import cohort_retention
from crm_core.lifecycle.funnel import lifecycle_funnel
from crm_core.lifecycle.report import (
    CHURNED,
    CUSTOMER_STAGES,
    DECLINING,
    LEAD_DROPPED,
    NOT_YET,
    PROSPECT,
    STAGES,
    lifecycle_report,
)
from crm_core.lifecycle.tenure import PARTS, tenure_profit


@pytest.fixture(scope="module", params=["retail", "subscription"])
def company(request, sample_dir: Path, subscription_dir: Path):
    snap = load_snapshot(sample_dir if request.param == "retail" else subscription_dir)
    return snap, lifecycle_report(snap)


def customers_of(snap: Snapshot) -> pl.DataFrame:
    return snap.customers.collect()


def test_every_customer_has_exactly_one_stage(company) -> None:
    snap, report = company
    stages = report.stages.filter(pl.col("customer_id").is_not_null())
    assert stages["customer_id"].n_unique() == stages.height == customers_of(snap).height
    assert stages["stage"].is_in(list(CUSTOMER_STAGES)).all()
    counts = report.summary.filter(pl.col("stage") != PROSPECT)["customers"].sum()
    assert counts == customers_of(snap).height
    assert report.summary["stage"].to_list() == list(STAGES)
    # every stage is populated in a company of 2,000 customers, except perhaps declining
    # subscribers (their spend rarely drops while the contract runs)
    populated = report.summary.filter(pl.col("customers") > 0)["stage"].to_list()
    assert set(STAGES) - set(populated) <= {DECLINING}


def test_transitions_conserve_customers_between_the_two_dates(company) -> None:
    _, report = company
    flows = report.transitions.flows
    out = dict(
        flows.filter(pl.col("from_stage") != NOT_YET)
        .group_by("from_stage")
        .agg(pl.col("customers").sum())
        .iter_rows()
    )
    into = dict(
        flows.filter(pl.col("to_stage") != LEAD_DROPPED)
        .group_by("to_stage")
        .agg(pl.col("customers").sum())
        .iter_rows()
    )
    before = dict(report.previous_summary.select("stage", "customers").iter_rows())
    after = dict(report.summary.select("stage", "customers").iter_rows())
    assert out == {k: v for k, v in before.items() if v}
    assert into == {k: v for k, v in after.items() if v}
    # the value moved into churn is the earlier revenue of exactly those customers
    # (customers acquired since the earlier date count, with no earlier revenue)
    prev = report.previous_stages.select("customer_id", "stage", "revenue_ttm")
    now = report.stages.filter(pl.col("customer_id").is_not_null()).select(
        "customer_id", pl.col("stage").alias("now")
    )
    moved = now.join(prev, on="customer_id", how="left").filter(
        (pl.col("now") == CHURNED) & (pl.col("stage").is_null() | (pl.col("stage") != CHURNED))
    )
    assert report.transitions.into_churned.customers == moved.height
    assert report.transitions.into_churned.revenue_ttm == pytest.approx(moved["revenue_ttm"].sum())
    assert report.transitions.into_churned.clv is not None


def test_earlier_stages_agree_with_the_report_of_the_cut_snapshot(company) -> None:
    snap, report = company
    earlier = lifecycle_report(snap.cut(report.compare_to))
    assert_frame_equal(report.previous_summary, earlier.summary)


def test_cohort_sizes_match_acquisition_counts(company) -> None:
    snap, _ = company
    cohorts = cohort_retention(snap)
    acquired = (
        customers_of(snap)
        .group_by(pl.col("acquired_on").dt.truncate("1q").alias("cohort"))
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .sort("cohort")
    )
    assert_frame_equal(cohorts.cohorts.select("cohort", "customers"), acquired)
    first = cohorts.table.filter(pl.col("quarter") == 0).select("cohort", "customers")
    assert_frame_equal(first, acquired.join(first.select("cohort"), on="cohort"))
    assert (cohorts.table["active"] <= cohorts.table["customers"]).all()
    if not snap.manifest.contractual:
        # in the sample every customer buys on the acquisition day
        assert (cohorts.table.filter(pl.col("quarter") == 0)["retention"] == 1.0).all()


def test_funnel_agrees_with_cohorts_and_stages(company) -> None:
    snap, report = company
    funnel = lifecycle_funnel(snap)
    cohorts = cohort_retention(snap)
    by_year = (
        cohorts.cohorts.group_by(pl.col("cohort").dt.year().alias("cohort"))
        .agg(pl.col("customers").sum())
        .sort("cohort")
    )
    first = funnel.by_cohort.filter(pl.col("step") == "first_purchase").sort("cohort")
    open_leads = snap.prospects.filter(pl.col("converted_customer_id").is_null()).collect().height
    top = funnel.step("prospects")["reached"]
    assert top == customers_of(snap).height + open_leads
    # every sample customer buys: funnel customers per cohort year = cohort sizes
    assert dict(first.select("cohort", "reached").iter_rows()) == dict(by_year.iter_rows())
    reached = funnel.steps["reached"].to_list()
    assert reached == sorted(reached, reverse=True)
    assert (funnel.steps["eligible"] >= funnel.steps["reached"]).all()
    for frame in (funnel.by_channel, funnel.by_cohort):
        total = frame.group_by("step_index").agg(pl.col("reached").sum()).sort("step_index")
        assert total["reached"].to_list() == reached
    # open leads in the stage table are the funnel's leads of the last 365 days
    last_year = snap.prospects.filter(
        pl.col("converted_customer_id").is_null()
        & ((pl.lit(snap.as_of) - pl.col("first_contact")).dt.total_days() < 365)
    )
    assert report.stage_value(PROSPECT, "customers") == last_year.collect().height


def test_tenure_parts_add_up_and_year_zero_counts_a_full_year(company) -> None:
    snap, _ = company
    table = tenure_profit(snap).table
    total = sum(table[p] for p in PARTS)
    assert (total - table["profit"]).abs().max() < 1e-6
    year0 = table.filter(pl.col("tenure_year") == 0).row(0, named=True)
    # the first year [acquired_on, acquired_on + 12 months) has ended by as-of
    last = add_months(snap.as_of, -12) + timedelta(days=1)
    old_enough = customers_of(snap).filter(pl.col("acquired_on") <= last).height
    assert year0["customers"] == old_enough
    assert year0["in_progress_share"] == 0.0
