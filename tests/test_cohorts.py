"""Cohort retention on hand-made customers, as of 2026-09-30.

Relationship quarters start on the acquisition day: a (acquired 2026-01-31) has quarter 0
= 31 Jan .. 29 Apr, quarter 1 = 30 Apr .. 30 Jul, quarter 2 ends 30 Oct (not over);
b (2026-02-15): quarter 0 = 15 Feb .. 14 May, quarter 1 = 15 May .. 14 Aug. So cohort
2026 Q1 has quarters 0 and 1.

* a buys 100 on 31 Jan, 50 on 15 May and refunds 20 on 20 May (quarter 1), buys 30 on
  1 Aug (quarter 2, not reported);
* b buys 200 on 15 Feb, nothing after;
* d (cohort 2026 Q2, 10 Apr) only refunds 10: quarter 0 (to 9 Jul) with no purchase;
* c (cohort 2026 Q3, 1 Aug) has no complete quarter yet.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from conftest import customer, purchase
from polars.testing import assert_frame_equal

from crm_core.lifecycle.cohorts import cohort_retention

D = date


def people(**churn) -> list[dict]:
    return [
        customer("a", D(2026, 1, 31), churned_on=churn.get("a")),
        customer("b", D(2026, 2, 15), churned_on=churn.get("b")),
        customer("c", D(2026, 8, 1), churned_on=churn.get("c")),
        customer("d", D(2026, 4, 10), churned_on=churn.get("d")),
    ]


TX = [
    purchase("a", D(2026, 1, 31), 100),
    purchase("a", D(2026, 5, 15), 50),
    purchase("a", D(2026, 5, 20), -20),
    purchase("a", D(2026, 8, 1), 30),
    purchase("b", D(2026, 2, 15), 200),
    purchase("c", D(2026, 8, 1), 40),
    purchase("d", D(2026, 4, 20), -10),
]


def test_retention_and_nrr_worked_out_by_hand(make_snapshot) -> None:
    report = cohort_retention(make_snapshot(people(), TX))
    want = pl.DataFrame(
        {
            "cohort": [D(2026, 1, 1), D(2026, 1, 1), D(2026, 4, 1)],
            "cohort_label": ["2026 Q1", "2026 Q1", "2026 Q2"],
            "quarter": [0, 1, 0],
            "customers": [2, 2, 1],
            "active": [2, 1, 0],
            "retention": [1.0, 0.5, 0.0],
            "revenue": [300.0, 30.0, -10.0],
            "revenue_retention": [1.0, 0.1, None],
        },
        schema_overrides={"quarter": pl.Int64},
    )
    assert_frame_equal(report.table, want)
    assert report.cohorts["cohort_label"].to_list() == ["2026 Q1", "2026 Q2", "2026 Q3"]
    assert report.cohorts["customers"].to_list() == [2, 1, 1]
    assert report.cohorts["revenue"].to_list() == [300.0, -10.0, None]
    avg = report.average
    assert avg["quarter"].to_list() == [0, 1]
    assert avg["cohorts"].to_list() == [2, 1]
    assert avg["retention"].to_list() == pytest.approx([2 / 3, 0.5])
    assert avg["revenue_retention"].to_list() == pytest.approx([1.0, 0.1])


def test_contractual_retention_is_the_running_contract(make_snapshot) -> None:
    # a's contract ends on the first day of its quarter 1 (30 Apr): not retained there
    snap = make_snapshot(people(a=D(2026, 4, 30)), TX, business_model="contractual")
    table = cohort_retention(snap).table
    assert table["active"].to_list() == [2, 1, 1]  # d has no payment but a contract
    # ending one day later keeps a in quarter 1
    later = cohort_retention(
        make_snapshot(people(a=D(2026, 5, 1)), TX, business_model="contractual")
    )
    assert later.table["active"].to_list() == [2, 2, 1]


def test_cut_snapshot_drops_quarters_not_yet_over(make_snapshot) -> None:
    snap = make_snapshot(people(), TX)
    early = cohort_retention(snap.cut(D(2026, 7, 30)))
    # a's quarter 1 ends 30 Jul but b's ends 14 Aug: only quarter 0 is reported for Q1
    assert early.table.select("cohort_label", "quarter").rows() == [
        ("2026 Q1", 0),
        ("2026 Q2", 0),
    ]
    assert cohort_retention(snap.cut(D(2026, 3, 1))).table.is_empty()
