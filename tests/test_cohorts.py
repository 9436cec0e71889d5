"""Acquisition cohorts on hand-made customers, as of 2026-09-30 (ledger quarters = calendar
quarters).

* a (acquired 2026-01-31, cohort 2026 Q1) buys 100 on 31 Jan; 50 on 15 May and refunds 20
  on 20 May (quarter 1: one purchase day, net 30); buys 30 on 1 Aug (quarter 2);
* b (2026-02-15, cohort 2026 Q1) buys 200 on 15 Feb, nothing after;
* d (2026-04-10, cohort 2026 Q2) only refunds 10 on 20 Apr: no purchase day; active
  nonetheless (acquired within a year);
* c (2026-08-01, cohort 2026 Q3) buys 40 on 1 Aug.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from conftest import customer, purchase
from polars.testing import assert_frame_equal

from crm_core.data.ledger import build_ledger
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


def test_cohort_cells_worked_out_by_hand(make_snapshot) -> None:
    report = cohort_retention(build_ledger(make_snapshot(people(), TX)))
    q1, q2, q3 = D(2026, 3, 31), D(2026, 6, 30), D(2026, 9, 30)
    want = pl.DataFrame(
        {
            "cohort": [q1, q1, q1, q2, q2, q3],
            "cohort_label": ["2026 Q1"] * 3 + ["2026 Q2"] * 2 + ["2026 Q3"],
            "quarter": [0, 1, 2, 0, 1, 0],
            "customers": [2, 2, 2, 1, 1, 1],
            "buying": [2, 1, 1, 0, 0, 1],
            "buying_share": [1.0, 0.5, 0.5, 0.0, 0.0, 1.0],
            "active": [2, 2, 2, 1, 1, 1],
            "active_share": [1.0] * 6,
            "revenue": [300.0, 30.0, 30.0, -10.0, 0.0, 40.0],
            "revenue_index": [1.0, 0.1, 0.1, None, None, 1.0],
        },
        schema_overrides={"quarter": pl.Int64},
    )
    assert_frame_equal(report.table, want)
    assert report.cohorts["cohort_label"].to_list() == ["2026 Q1", "2026 Q2", "2026 Q3"]
    assert report.cohorts["customers"].to_list() == [2, 1, 1]
    assert report.cohorts["revenue"].to_list() == [300.0, -10.0, 40.0]
    avg = report.average
    assert avg["quarter"].to_list() == [0, 1, 2]
    assert avg["cohorts"].to_list() == [3, 2, 1]
    assert avg["buying_share"].to_list() == pytest.approx([3 / 4, 1 / 3, 1 / 2])
    assert avg["active_share"].to_list() == pytest.approx([1.0, 1.0, 1.0])
    # pooled revenue: sum(revenue(k)) / sum(revenue(0)) over the cohorts with the cell
    assert avg["revenue_index"].to_list() == pytest.approx([1.0, 30 / 290, 30 / 300])


def test_contractual_active_is_the_running_contract(make_snapshot) -> None:
    # a's contract ends on 30 Apr: not active at the end of its quarter 1 (30 Jun)
    snap = make_snapshot(people(a=D(2026, 4, 30)), TX, business_model="contractual")
    report = cohort_retention(build_ledger(snap))
    assert build_ledger(snap).period_months == 1  # months summed to quarters
    table = report.table
    assert table["active"].to_list() == [2, 1, 1, 1, 1, 1]
    assert table["buying"].to_list() == [2, 1, 1, 0, 0, 1]
    assert table["revenue"].to_list() == [300.0, 30.0, 30.0, -10.0, 0.0, 40.0]


def test_a_cut_ledger_has_the_quarters_ended_by_then(make_snapshot) -> None:
    snap = make_snapshot(people(), TX)
    early = cohort_retention(build_ledger(snap.cut(D(2026, 6, 30))))
    assert early.table.select("cohort_label", "quarter").rows() == [
        ("2026 Q1", 0),
        ("2026 Q1", 1),
        ("2026 Q2", 0),
    ]
    # the ledger is causal: the same cells of the full ledger hold the same numbers
    full = cohort_retention(build_ledger(snap)).table
    ended = full.join(early.table.select("cohort", "quarter"), on=["cohort", "quarter"], how="semi")
    assert_frame_equal(ended, early.table)
