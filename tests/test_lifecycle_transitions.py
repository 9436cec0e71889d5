"""Transitions between two quarter ends, time in stage and the lifecycle report, by hand.

Between 2026-06-30 (start, ledger period 1) and 2026-09-30 (end, period 0):

* E buys 100 on the 15th of every month since 2024-09-15: mature at both dates;
* H did the same until 2026-06-15: mature at the start, overdue (107 days) at the end;
  its net revenue over the 12 months to the start is 12 x 100 = 1,200;
* X bought 50 monthly from 2025-01-15 to 2025-08-15: declining at the start (319 days
  silent, still active), churned at the end (411 > 365); revenue then 2 x 50 = 100;
* I bought weekly in early 2024: churned at both dates;
* A (acquired today) came through a lead first contacted after the start: from nowhere;
* R (acquired 2026-08-01) came through lead P6, open at the start;
* leads: P1 (contacted after the start), P7 (open at the start, older than 365 days at the
  end: dropped), P8 (open at both).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from conftest import customer, purchase
from test_lifecycle_stages import lead, monthly

from crm_core.data.ledger import build_ledger
from crm_core.data.rules import StageRules
from crm_core.errors import NotEnoughData
from crm_core.lifecycle.report import MovedValue, lifecycle_report, stage_transitions
from crm_core.lifecycle.stages import CHURNED, DECLINING, GROWING, MATURE, NEW, PROSPECT
from crm_core.lifecycle.transitions import LEAD_DROPPED, NOT_YET
from crm_core.metrics.registry import metric_inputs, metric_value

AS_OF = date(2026, 9, 30)
START = date(2026, 6, 30)
D = date


@pytest.fixture
def snap(make_snapshot):
    customers = [
        customer("E", D(2024, 9, 15)),
        customer("H", D(2024, 9, 15)),
        customer("X", D(2025, 1, 15)),
        customer("I", D(2024, 1, 1)),
        customer("A", AS_OF),
        customer("R", D(2026, 8, 1)),
    ]
    tx = [
        *monthly("E", D(2024, 9, 15), D(2026, 9, 15), 100),
        *monthly("H", D(2024, 9, 15), D(2026, 6, 15), 100),
        *monthly("X", D(2025, 1, 15), D(2025, 8, 15), 50),
        *(purchase("I", D(2024, 1, 1) + timedelta(weeks=w), 30) for w in range(20)),
        purchase("A", AS_OF, 50),
        purchase("R", D(2026, 8, 1), 70),
    ]
    prospects = [
        lead("P1", D(2026, 9, 1)),
        lead("P3", D(2026, 9, 20), "A"),
        lead("P6", D(2026, 5, 1), "R"),
        lead("P7", D(2025, 8, 1)),
        lead("P8", D(2026, 1, 1)),
    ]
    return make_snapshot(customers, tx, prospects=prospects)


@pytest.fixture
def inputs(snap):
    return metric_inputs(build_ledger(snap))


def as_dict(flows: pl.DataFrame) -> dict[tuple[str, str], int]:
    return {(r["from_stage"], r["to_stage"]): r["customers"] for r in flows.iter_rows(named=True)}


def test_every_customer_and_lead_moves_along_one_worked_out_path(snap) -> None:
    t = stage_transitions(build_ledger(snap), 1)
    assert (t.start, t.end) == (START, AS_OF)
    assert as_dict(t.flows) == {
        (NOT_YET, PROSPECT): 1,  # P1
        (NOT_YET, NEW): 1,  # A
        (PROSPECT, PROSPECT): 1,  # P8
        (PROSPECT, NEW): 1,  # R via P6
        (PROSPECT, LEAD_DROPPED): 1,  # P7
        (MATURE, MATURE): 1,  # E
        (MATURE, DECLINING): 1,  # H
        (DECLINING, CHURNED): 1,  # X
        (CHURNED, CHURNED): 1,  # I
    }
    assert t.into_declining == MovedValue(customers=1, revenue_ttm=1200.0, clv=None)
    assert t.into_churned == MovedValue(customers=1, revenue_ttm=100.0, clv=None)
    assert t.share(MATURE, DECLINING) == 0.5
    assert t.share(GROWING, DECLINING) is None
    assert t.count(PROSPECT, NEW) == 1
    assert t.flows["clv"].is_null().all()
    # rows in node order: newcomers first, lead drop-outs last
    assert t.flows["from_stage"].to_list()[0] == NOT_YET
    assert t.flows["to_stage"].to_list()[-1] == CHURNED
    with pytest.raises(ValueError, match="start_period"):
        stage_transitions(build_ledger(snap), 0)


def test_report_counts_shares_and_values_by_stage(inputs) -> None:
    report = lifecycle_report(inputs)
    assert report.compare_to == START
    s = {r["stage"]: r for r in report.summary.iter_rows(named=True)}
    assert {k: v["customers"] for k, v in s.items()} == {
        PROSPECT: 2,
        NEW: 2,
        GROWING: 0,
        MATURE: 1,
        DECLINING: 1,
        CHURNED: 2,
    }
    assert s[NEW]["share_of_customers"] == pytest.approx(2 / 6)
    assert s[PROSPECT]["share_of_customers"] is None
    # 12-month revenue: E 1,200, H 900 (Oct..Jun), A 50, R 70
    assert s[MATURE]["revenue_ttm"] == 1200.0
    assert s[DECLINING]["revenue_ttm"] == 900.0
    assert s[NEW]["share_of_revenue"] == pytest.approx(120 / 2220)
    assert s[MATURE]["clv"] is None and report.clv_method == "CLV not computed"
    shares = report.summary.filter(pl.col("stage") != PROSPECT)
    assert shares["share_of_customers"].sum() == pytest.approx(1.0)
    assert shares["share_of_revenue"].sum() == pytest.approx(1.0)
    # the cards are the registry's metrics, the previous value at the comparison date
    card = report.card("stage_declining")
    assert (card.label, card.value, card.previous) == ("Declining", 1, 1)  # H now, X then
    assert not card.higher_is_better
    for key in ("active_customers", "stage_new", "stage_churned"):
        assert report.card(key).value == metric_value(inputs, key)
        assert report.card(key).previous == metric_value(inputs, key, 1)
    assert report.card("active_customers").value == 4  # E, H, A, R
    assert report.transitions.into_declining.revenue_ttm == 1200.0


def test_time_in_stage_from_the_quarterly_history(inputs) -> None:
    report = lifecycle_report(inputs)
    named = inputs.ledger.with_customers(report.stages.lazy()).collect()
    row = {r["customer_id"]: r for r in named.iter_rows(named=True)}
    # H was mature at 30 Jun: entered decline during the last quarter
    assert row["H"]["periods_in_stage"] == 0.5
    # E mature from 30 Sep 2025 (380 days, steady windows) to now: 5 quarter ends
    assert row["E"]["periods_in_stage"] == 4.5
    # I churned after 13 May 2025 (365 days after its last purchase): 6 quarter ends
    assert row["I"]["periods_in_stage"] == 5.5
    assert row["A"]["periods_in_stage"] == 0.5
    mature = report.summary.filter(pl.col("stage") == MATURE)["periods_in_stage"][0]
    assert mature == 4.5
    before = report.previous_summary.filter(pl.col("stage") == MATURE)
    assert before["periods_in_stage"][0] == 3.5  # E and H at 30 Jun, since 30 Sep 2025


def test_mix_and_signals(inputs) -> None:
    report = lifecycle_report(inputs)
    assert report.mix["period"].n_unique() == inputs.ledger.periods
    now = report.mix.filter(pl.col("period") == 0)
    counts = dict(zip(now["stage"].cast(pl.String), now["customers"], strict=True))
    assert counts == {NEW: 2, GROWING: 0, MATURE: 1, DECLINING: 1, CHURNED: 2}
    # revenue booked in the quarter by the stage at its end: E 300, A 50 + R 70
    revenue = dict(zip(now["stage"].cast(pl.String), now["revenue"], strict=True))
    assert (revenue[MATURE], revenue[NEW], revenue[DECLINING]) == (300.0, 120.0, 0.0)
    signals = dict(report.decline_signals.iter_rows())
    assert signals == {"overdue": 1, "spend_drop": 0, "low_p_alive": 0}


def test_custom_rules_and_arguments(inputs) -> None:
    custom = lifecycle_report(inputs, StageRules(decline_after_days=120))
    assert not custom.default_rules
    assert custom.stage_value(DECLINING, "customers") == 0  # H's 107 days are not overdue
    assert custom.card("stage_mature").value == 2
    assert custom.card("active_customers").value == 4  # never depends on the thresholds
    with pytest.raises(ValueError, match="P\\(alive\\)"):
        lifecycle_report(inputs, StageRules(decline_p_alive=0.5))
    with pytest.raises(ValueError, match="compare_quarters"):
        lifecycle_report(inputs, compare_quarters=0)
    with pytest.raises(NotEnoughData, match="does not reach"):
        lifecycle_report(inputs, compare_quarters=inputs.ledger.periods)
    year = lifecycle_report(inputs, compare_quarters=4)
    assert year.compare_to == D(2025, 9, 30)
    assert year.transitions.count(DECLINING, CHURNED) == 0  # X was still growing then


def test_second_lead_of_a_customer_drops_out_when_it_converts(make_snapshot) -> None:
    # W makes the ledger reach back before the start (leads are not customers: the ledger's
    # periods start at the first customer activity)
    snap = make_snapshot(
        [customer("Z", D(2026, 8, 1)), customer("W", D(2026, 1, 1))],
        [purchase("Z", D(2026, 8, 1), 40), purchase("W", D(2026, 1, 1), 40)],
        prospects=[lead("first", D(2026, 5, 1), "Z"), lead("second", D(2026, 6, 1), "Z")],
    )
    t = stage_transitions(build_ledger(snap), 1)
    assert as_dict(t.flows) == {
        (PROSPECT, NEW): 1,
        (PROSPECT, LEAD_DROPPED): 1,
        (DECLINING, DECLINING): 1,  # W: one purchase, 180 and 272 days ago
    }
