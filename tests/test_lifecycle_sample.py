"""On the two sample companies the stages, funnel, cohorts, transitions, tenure profit and
early warning agree with each other, with the metric registry and with the raw data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.data.snapshot import load_snapshot
from crm_core.lifecycle.cohorts import cohort_retention
from crm_core.lifecycle.funnel import lifecycle_funnel
from crm_core.lifecycle.report import CARD_KEYS, STAGES, lifecycle_report
from crm_core.lifecycle.stages import CUSTOMER_STAGES, PROSPECT
from crm_core.lifecycle.tenure import PARTS, tenure_profit
from crm_core.lifecycle.transitions import LEAD_DROPPED, NOT_YET
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import metric_value


@pytest.fixture(scope="module", params=["retail", "subscription"])
def company(request, sample_dir: Path, subscription_dir: Path):
    snap = load_snapshot(sample_dir if request.param == "retail" else subscription_dir)
    inputs = snapshot_metrics(snap)
    return snap, inputs, lifecycle_report(inputs)


def test_stage_counts_are_the_registry_metrics(company) -> None:
    _, inputs, report = company
    for key in CARD_KEYS:
        card = report.card(key)
        assert card.value == metric_value(inputs, key), key
        assert card.previous == metric_value(inputs, key, 1), key
    active = sum(report.stage_value(s, "customers") for s in CUSTOMER_STAGES[:-1])
    assert active == metric_value(inputs, "active_customers")


def test_every_customer_has_exactly_one_stage(company) -> None:
    snap, _, report = company
    customers = snap.customers.collect().height
    assert report.stages["cid"].n_unique() == report.stages.height == customers
    counts = report.summary.filter(pl.col("stage") != PROSPECT)["customers"].sum()
    assert counts == customers
    assert report.summary["stage"].to_list() == list(STAGES)
    populated = report.summary.filter(pl.col("customers") > 0)["stage"].to_list()
    assert set(STAGES) == set(populated)


def test_transitions_conserve_customers_between_the_two_dates(company) -> None:
    _, _, report = company
    flows = report.transitions.flows

    def total(column: str, skip: str) -> dict[str, int]:
        rows = flows.filter(pl.col(column) != skip).group_by(column).agg(pl.col("customers").sum())
        return dict(rows.iter_rows())

    before = dict(report.previous_summary.select("stage", "customers").iter_rows())
    after = dict(report.summary.select("stage", "customers").iter_rows())
    assert total("from_stage", NOT_YET) == {k: v for k, v in before.items() if v}
    assert total("to_stage", LEAD_DROPPED) == {k: v for k, v in after.items() if v}
    # the value moved into churn is the earlier value of exactly those customers
    prev = report.previous_stages.select("cid", "stage", "revenue_ttm", "clv")
    now = report.stages.select("cid", pl.col("stage").alias("now"))
    moved = now.join(prev, on="cid", how="left").filter(
        (pl.col("now") == "churned") & (pl.col("stage").is_null() | (pl.col("stage") != "churned"))
    )
    churned = report.transitions.into_churned
    assert churned.customers == moved.height
    assert churned.revenue_ttm == pytest.approx(moved["revenue_ttm"].sum())
    assert churned.clv == pytest.approx(moved["clv"].fill_null(0.0).sum())


def test_earlier_stages_agree_with_the_report_of_the_cut_snapshot(company) -> None:
    snap, _, report = company
    earlier = lifecycle_report(snapshot_metrics(snap.cut(report.compare_to)))
    assert_frame_equal(report.previous_summary, earlier.summary)


def test_cohort_sizes_match_acquisition_counts(company) -> None:
    snap, inputs, _ = company
    cohorts = cohort_retention(inputs.ledger)
    acquired = (
        inputs.ledger.customers.group_by(
            pl.col("acquired_period") // (3 // inputs.ledger.period_months)
        )
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .sort("acquired_period", descending=True)
    )
    assert cohorts.cohorts["customers"].to_list() == acquired["customers"].to_list()
    assert cohorts.cohorts["customers"].sum() == snap.customers.collect().height
    assert (cohorts.table["active"] <= cohorts.table["customers"]).all()
    assert (cohorts.table["buying"] <= cohorts.table["customers"]).all()
    if not snap.manifest.contractual:
        # in the sample every customer buys on the acquisition day
        assert (cohorts.table.filter(pl.col("quarter") == 0)["buying_share"] == 1.0).all()


def test_funnel_agrees_with_cohorts_and_stages(company) -> None:
    snap, inputs, report = company
    funnel = lifecycle_funnel(inputs.ledger)
    customers = snap.customers.collect()
    open_leads = snap.prospects.filter(pl.col("converted_customer_id").is_null()).collect()
    assert funnel.step("prospects")["reached"] == customers.height + open_leads.height
    by_year = customers.group_by(pl.col("acquired_on").dt.year().alias("cohort")).len()
    first = funnel.by_cohort.filter(pl.col("step") == "first_purchase")
    # every sample customer buys: funnel customers per cohort year = acquisitions
    assert dict(first.select("cohort", "reached").iter_rows()) == dict(by_year.iter_rows())
    reached = funnel.steps["reached"].to_list()
    assert reached == sorted(reached, reverse=True)
    assert (funnel.steps["eligible"] >= funnel.steps["reached"]).all()
    for frame in (funnel.by_channel, funnel.by_cohort):
        total = frame.group_by("step_index").agg(pl.col("reached").sum()).sort("step_index")
        assert total["reached"].to_list() == reached
    # open leads in the stage table are the unconverted leads of the last 365 days
    last_year = open_leads.filter(
        (pl.lit(snap.as_of) - pl.col("first_contact")).dt.total_days() < 365
    )
    assert report.stage_value(PROSPECT, "customers") == last_year.height


def test_tenure_parts_add_up_and_year_zero_counts_a_full_year(company) -> None:
    _, inputs, _ = company
    ledger = inputs.ledger
    table = tenure_profit(ledger).table
    total = sum(table[p] for p in PARTS)
    assert (total - table["profit"]).abs().max() < 1e-6
    year0 = table.filter(pl.col("tenure_year") == 0).row(0, named=True)
    old_enough = ledger.customers.filter(pl.col("acquired_period") >= ledger.periods_per_year - 1)
    assert year0["customers"] == old_enough.height
    assert year0["in_progress_share"] == 0.0
