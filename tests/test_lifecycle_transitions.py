"""Transitions between two dates, time in stage and the lifecycle report, worked by hand.

Between 2026-06-30 (start) and 2026-09-30 (end):

* E buys 100 on the 15th of every month since 2024-09-15: mature at both dates;
* H did the same until 2026-06-15: mature at the start, overdue (107 days) at the end;
  its trailing-12-month revenue at the start is 12 x 100 = 1,200;
* X bought 50 monthly from 2025-01-15 to 2025-08-15: declining at the start (319 days
  silent), churned at the end (411 > 365); revenue at the start 2 x 50 = 100;
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

from crm_core.lifecycle.report import (
    CHURNED,
    DECLINING,
    LEAD_DROPPED,
    MATURE,
    NEW,
    NOT_YET,
    PROSPECT,
    MovedValue,
    StageRules,
    lifecycle_report,
    stage_transitions,
)

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


def as_dict(flows: pl.DataFrame) -> dict[tuple[str, str], int]:
    return {(r["from_stage"], r["to_stage"]): r["customers"] for r in flows.iter_rows(named=True)}


def test_every_customer_and_lead_moves_along_one_worked_out_path(snap) -> None:
    t = stage_transitions(snap, START)
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
    assert t.share("growing", DECLINING) is None
    assert t.count(PROSPECT, NEW) == 1
    assert t.flows["clv"].is_null().all()
    # rows in node order: newcomers first, lead drop-outs last
    assert t.flows["from_stage"].to_list()[0] == NOT_YET
    with pytest.raises(ValueError, match="before the later date"):
        stage_transitions(snap, AS_OF)


def test_report_counts_shares_and_values_by_stage(snap) -> None:
    report = lifecycle_report(snap, with_clv=False)
    assert report.compare_to == START
    s = {r["stage"]: r for r in report.summary.iter_rows(named=True)}
    assert {k: v["customers"] for k, v in s.items()} == {
        PROSPECT: 2,
        NEW: 2,
        "growing": 0,
        MATURE: 1,
        DECLINING: 1,
        CHURNED: 2,
    }
    assert s[NEW]["share_of_customers"] == pytest.approx(2 / 6)
    assert s[PROSPECT]["share_of_customers"] is None
    # trailing-12-month revenue: E 1,200, H 900 (Oct..Jun), A 50, R 70
    assert s[MATURE]["revenue_ttm"] == 1200.0
    assert s[DECLINING]["revenue_ttm"] == 900.0
    assert s[NEW]["share_of_revenue"] == pytest.approx(120 / 2220)
    assert s[MATURE]["clv"] is None and report.clv_method == "CLV not computed"
    shares = report.summary.filter(pl.col("stage") != PROSPECT)
    assert shares["share_of_customers"].sum() == pytest.approx(1.0)
    assert shares["share_of_revenue"].sum() == pytest.approx(1.0)
    kpi = report.kpi("customers_declining")
    assert kpi.value == pytest.approx(1 / 6)
    assert kpi.previous == pytest.approx(1 / 4)  # X of E, H, X, I
    assert not kpi.higher_is_better
    assert report.transitions.into_declining.revenue_ttm == 1200.0


def test_time_in_stage_from_the_monthly_history(snap) -> None:
    report = lifecycle_report(snap, with_clv=False)
    row = {r["customer_id"]: r for r in report.stages.iter_rows(named=True) if r["customer_id"]}
    # H was mature at 31 Aug: entered decline during the last month
    assert row["H"]["months_in_stage"] == 0.5
    # E mature since its 1st anniversary: mature at 30 Sep 2025 .. 30 Sep 2026 (13 month
    # ends), growing at 31 Aug 2025
    assert row["E"]["months_in_stage"] == 12.5
    # I churned 365 days after 13 May 2024: churned at month ends 31 May 2025 .. now (17)
    assert row["I"]["months_in_stage"] == 16.5
    assert row["A"]["months_in_stage"] == 0.5
    assert not row["E"]["in_stage_whole_history"]
    months = report.kpi("months_mature")
    assert months.value == 12.5
    assert months.previous == 9.5  # E and H at 30 Jun: mature since 30 Sep 2025
    short = lifecycle_report(snap, with_clv=False, history_months=6)
    e = short.stages.filter(pl.col("customer_id") == "E").row(0, named=True)
    assert e["months_in_stage"] == 6.0 and e["in_stage_whole_history"]
    assert short.summary.filter(pl.col("stage") == MATURE)["whole_history_share"][0] == 1.0


def test_mix_and_decline_signals(snap) -> None:
    report = lifecycle_report(snap, with_clv=False, history_months=3)
    assert report.mix["as_of"].unique().len() == 4
    now = report.mix.filter(pl.col("as_of") == AS_OF)
    assert dict(zip(now["stage"], now["customers"], strict=True)) == {
        PROSPECT: 2,
        NEW: 2,
        MATURE: 1,
        DECLINING: 1,
        CHURNED: 2,
    }
    signals = dict(report.decline_signals.iter_rows())
    assert list(signals.values()) == [1]
    assert next(iter(signals)).startswith("Overdue")


def test_report_without_a_fittable_clv_model_still_works(snap) -> None:
    report = lifecycle_report(snap)  # a handful of customers: the CLV models cannot fit
    assert report.clv_method.startswith("CLV not available")
    assert report.summary["clv"].is_null().all()
    assert report.transitions.into_churned.clv is None
    with pytest.raises(ValueError, match="P\\(alive\\)"):
        lifecycle_report(snap, rules=StageRules(decline_p_alive=0.5))


def test_report_arguments_are_checked(snap) -> None:
    with pytest.raises(ValueError, match="compare_to"):
        lifecycle_report(snap, compare_to=AS_OF, with_clv=False)
    with pytest.raises(ValueError, match="history_months"):
        lifecycle_report(snap, history_months=0, with_clv=False)
    custom = lifecycle_report(snap, compare_to=D(2026, 8, 15), with_clv=False)
    assert custom.transitions.start == D(2026, 8, 15)


def test_second_lead_of_a_customer_drops_out_when_it_converts(make_snapshot) -> None:
    snap = make_snapshot(
        [customer("Z", D(2026, 8, 1))],
        [purchase("Z", D(2026, 8, 1), 40)],
        prospects=[lead("first", D(2026, 5, 1), "Z"), lead("second", D(2026, 6, 1), "Z")],
    )
    t = stage_transitions(snap, START)
    assert as_dict(t.flows) == {(PROSPECT, NEW): 1, (PROSPECT, LEAD_DROPPED): 1}
