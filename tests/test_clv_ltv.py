"""The LTV table (DOMAIN.md section 3): planning version and observed cohorts."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from crm_core.clv.ltv import (
    LTV_COLUMNS,
    cohort_years_observed,
    ltv_table,
    ltv_table_from_cohort,
    payback_year,
)
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.snapshot import Snapshot
from crm_core.errors import NotEnoughData


def test_planning_table_by_hand():
    # 20,000 customers, 40% then 45% retained, spend 150 then 160, costs 50% of revenue,
    # acquisition 100 a customer, 10% discount
    t = ltv_table(
        20_000, [0.40, 0.45, 0.50], [150, 160, 170], 0.5, acquisition_cost=100, discount_rate=0.10
    )
    assert t.columns == list(LTV_COLUMNS)
    assert t["customers"].to_list() == pytest.approx([20_000, 8_000, 3_600])
    assert t["revenue"].to_list() == pytest.approx([3_000_000, 1_280_000, 612_000])
    assert t["total_costs"].to_list() == pytest.approx([1_500_000 + 2_000_000, 640_000, 306_000])
    assert t["gross_profit"].to_list() == pytest.approx([-500_000, 640_000, 306_000])
    assert t["discount_factor"].to_list() == pytest.approx([1.0, 1 / 1.1, 1 / 1.21])
    cum = np.cumsum([-500_000, 640_000 / 1.1, 306_000 / 1.21])
    assert t["cumulative_npv"].to_list() == pytest.approx(list(cum))
    assert t["ltv"].to_list() == pytest.approx(list(cum / 20_000))
    assert t["spend_per_customer"].to_list() == pytest.approx([150, 160, 170])
    # acquisition alone is not profitable: the cohort pays back in year 2
    assert payback_year(t) == 2


def test_scalars_need_years_and_payback_can_be_never():
    t = ltv_table(100, 0.8, 50.0, 0.9, acquisition_cost=500, discount_rate=0.1, years=5)
    assert t.height == 5
    assert t["retention_rate"].to_list() == [0.8] * 5
    assert payback_year(t) is None
    assert payback_year(ltv_table(100, 0.8, 100.0, 0.2, years=3)) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"customers": 100, "retention": 0.8, "spend": 10, "cost_ratio": 0.5}, "years"),
        (
            {"customers": 0, "retention": 0.8, "spend": 10, "cost_ratio": 0.5, "years": 2},
            "positive",
        ),
        (
            {"customers": 10, "retention": 1.2, "spend": 10, "cost_ratio": 0.5, "years": 2},
            r"\[0, 1\]",
        ),
        (
            {"customers": 10, "retention": [0.5, 0.5], "spend": [1, 2, 3], "cost_ratio": 0.5},
            "common length",
        ),
        (
            {"customers": 10, "retention": 0.5, "spend": 10, "cost_ratio": -0.1, "years": 2},
            "cost_ratio",
        ),
        (
            {
                "customers": 10,
                "retention": 0.5,
                "spend": 10,
                "cost_ratio": 0.1,
                "years": 2,
                "discount_rate": -1.0,
            },
            "discount_rate",
        ),
        (
            {
                "customers": 10,
                "retention": float("nan"),
                "spend": 10,
                "cost_ratio": 0.1,
                "years": 2,
            },
            "finite",
        ),
    ],
)
def test_bad_planning_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ltv_table(**kwargs)


def _cohort_snapshot(business_model: str = "non_contractual") -> Snapshot:
    d = date.fromisoformat
    customers = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "acquired_on": [d("2024-01-10"), d("2024-02-20"), d("2024-03-05"), d("2024-07-01")],
            "acquisition_channel": ["web"] * 4,
            "acquisition_cost": [30.0, 20.0, 10.0, 99.0],
            "region": ["N"] * 4,
            "churned_on": [d("2025-05-01"), d("2024-12-01"), None, None],
        }
    )
    if business_model == "non_contractual":
        customers = customers.with_columns(pl.lit(None, dtype=pl.Date).alias("churned_on"))
    rows = [
        ("A", "2024-01-10", 100.0, 60.0),
        ("A", "2024-06-01", 50.0, 30.0),
        ("A", "2025-01-09", 20.0, 10.0),  # still A's year 1 (anniversary is 2025-01-10)
        ("A", "2025-02-01", 80.0, 40.0),
        ("A", "2025-03-01", -10.0, 0.0),  # refund day
        ("B", "2024-02-20", 200.0, 100.0),
        ("B", "2026-03-01", 50.0, 20.0),  # B's year 3: beyond the table
        ("C", "2024-03-05", 40.0, 30.0),
        ("C", "2025-03-05", 60.0, 30.0),  # C's year 2
        ("D", "2024-07-01", 999.0, 1.0),  # not in the cohort
    ]
    transactions = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": [d(r[1]) for r in rows],
            "amount": [r[2] for r in rows],
            "cost": [r[3] for r in rows],
            "channel": ["web"] * len(rows),
        }
    )
    service = pl.DataFrame(
        {
            "customer_id": ["A", "C", "D"],
            "date": [d("2024-05-01"), d("2025-04-01"), d("2024-08-01")],
            "touchpoint": ["call_center"] * 3,
            "cost": [5.0, 7.0, 100.0],
        }
    )
    manifest = {
        "schema_version": 1,
        "as_of": "2026-06-30",
        "company": "Test",
        "business_model": business_model,
        "discount_rate": 0.10,
    }
    return Snapshot.from_frames(
        manifest, customers=customers, transactions=transactions, service_costs=service
    )


def _ledger(business_model: str = "non_contractual") -> Ledger:
    return build_ledger(_cohort_snapshot(business_model))


def test_observed_cohort_by_hand():
    # as of 2026-06-30 the quarters count back: period 9 is Q1 2024 (A, B, C were won then),
    # period 7 Q3 2024 (D). A cohort's year 1 is its acquisition quarter and the three after
    # it (periods 9..6, Q1-Q4 2024), year 2 the next four (Q1-Q4 2025)
    ledger = _ledger()
    assert cohort_years_observed(ledger, 9) == 2
    t = ltv_table_from_cohort(ledger, 9, 9, 2)
    # year 1: revenue 100 + 50 + 200 + 40; direct cost 60 + 30 + 100 + 30 + service 5;
    # acquisition 30 + 20 + 10. Year 2 (2025): A's 20 + 80 - 10 and C's 60; direct cost
    # 10 + 40 + 30, service 7. A and C buy in 2025 (A's refund day is no purchase): 2 of 3
    assert t["customers"].to_list() == [3.0, 2.0]
    assert t["revenue"].to_list() == pytest.approx([390.0, 150.0])
    assert t["acquisition_costs"].to_list() == [60.0, 0.0]
    assert t["total_costs"].to_list() == pytest.approx([285.0, 87.0])
    assert t["cost_ratio"].to_list() == pytest.approx([225 / 390, 87 / 150])
    assert t["gross_profit"].to_list() == pytest.approx([105.0, 63.0])
    assert t["retention_rate"][0] == pytest.approx(2 / 3)
    assert t["retention_rate"][1] is None  # year 3 (2026) is not fully observed
    assert t["ltv"].to_list() == pytest.approx([105 / 3, (105 + 63 / 1.1) / 3])
    assert payback_year(t) == 1
    assert ltv_table_from_cohort(ledger, 9).equals(t)  # default: one period, all its years
    one = ltv_table_from_cohort(ledger, 9, 9, 1, discount_rate=0.0)
    assert one["retention_rate"][0] == pytest.approx(2 / 3)  # year 2 observed: rate known
    # a span of periods: each member's years count from their own acquisition quarter
    wide = ltv_table_from_cohort(ledger, 9, 7, 1)  # A, B, C (Q1 2024) and D (Q3 2024)
    assert wide["customers"].to_list() == [4.0]
    assert wide["revenue"][0] == pytest.approx(390.0 + 999.0)  # D's year 1: Q3 2024-Q2 2025


def test_observed_cohort_totals_are_the_panels(make_snapshot):
    """Every member's money in the observed years is in the table, once."""
    from datetime import timedelta

    from conftest import customer, purchase

    won = date(2025, 1, 15)
    customers = [customer(f"C{i}", won + timedelta(days=7 * i)) for i in range(8)]
    sales = [purchase(f"C{i}", won + timedelta(days=7 * i + 30 * k), 10.0 + i, 4.0)
             for i in range(8) for k in range(12)]  # fmt: skip
    ledger = build_ledger(make_snapshot(customers, sales, as_of=date(2026, 9, 30)))
    # Q1 2025 is period 6 as of 30 Sep 2026; year 1 = Q1 2025 - Q4 2025
    members = [f"C{i}" for i in range(8) if won + timedelta(days=7 * i) <= date(2025, 3, 31)]
    t = ltv_table_from_cohort(ledger, 6, 6, 1)
    inside = [s for s in sales if s["customer_id"] in members and s["date"] <= date(2025, 12, 31)]
    assert t["customers"][0] == len(members)
    assert t["revenue"][0] == pytest.approx(sum(s["amount"] for s in inside))
    assert t["total_costs"][0] == pytest.approx(sum(s["cost"] for s in inside))


def test_observed_contractual_cohort_counts_running_contracts():
    # monthly periods: Jan-Mar 2024 are periods 29..27 as of 2026-06-30; B cancelled in its
    # first year, A's contract still ran at the end of its first year (Dec 2024)
    t = ltv_table_from_cohort(_ledger("contractual"), 29, 27, 2)
    assert t["customers"].to_list() == [3.0, 2.0]


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((8, 9, 1), ValueError, "youngest"),
        ((9, 9, 3), NotEnoughData, "observed for 2"),
        ((12, 12, 1), NotEnoughData, "nobody was acquired"),
        ((9, 9, 0), ValueError, "whole number"),
        ((5, 5, 1), NotEnoughData, "nobody was acquired"),
    ],
)
def test_bad_cohort_arguments(args, error, match):
    with pytest.raises(error, match=match):
        ltv_table_from_cohort(_ledger(), *args)


def test_cohort_choices_are_yearly_spans_of_acquisition_periods():
    from crm_core.clv.ltv import Cohort, cohort_choices

    # as of 2026-06-30: A, B, C (Q1 2024, period 9) and D (Q3 2024, period 7) were won in the
    # four quarters to 2024-06-30 (periods 8-11; 2 years observed) or to 2025-06-30 (4-7)
    snap = _cohort_snapshot()
    assert cohort_choices(build_ledger(snap)) == [
        Cohort(date(2024, 1, 10), date(2024, 6, 30), 2, 3, 11, 8),  # from the first acquisition
        Cohort(date(2024, 7, 1), date(2025, 6, 30), 1, 1, 7, 4),
    ]
    assert cohort_choices(build_ledger(snap))[0].label == "acquired Jan 2024 – Jun 2024"
    assert cohort_choices(build_ledger(snap.cut("2025-03-31"))) == [
        Cohort(date(2024, 1, 10), date(2024, 3, 31), 1, 3, 7, 4)
    ]
    assert cohort_choices(build_ledger(snap.cut("2024-12-31"))) == []  # no whole year yet


def test_ltv_table_in_words_and_its_finding():
    from crm_core.clv.ltv import LTV_LABELS, ltv_table_text, payback_finding

    t = ltv_table(
        20_000, [0.40, 0.45, 0.50], [150, 160, 170], 0.5, acquisition_cost=100, discount_rate=0.10
    )
    text = ltv_table_text(t, "EUR")
    assert text.columns == ["Measure", "Year 1", "Year 2", "Year 3"]
    assert text["Measure"].to_list() == [LTV_LABELS[c] for c in LTV_COLUMNS[1:]]
    cell = {m: dict(zip(text.columns[1:], row, strict=True))
            for m, *row in text.iter_rows()}  # fmt: skip
    assert cell["Customers"] == {"Year 1": "20,000", "Year 2": "8,000", "Year 3": "3,600"}
    assert cell["Profit"]["Year 1"] == "-€500.0k"
    assert cell["Retention to next year"]["Year 2"] == "45.0%"
    assert cell["Discount factor"]["Year 3"] == "0.826"
    assert cell["LTV per customer won"]["Year 3"] == "€16.74"  # (-500k + 640k/1.1 + 306k/1.21)/20k
    assert (
        payback_finding(t, "EUR")
        == "turned profitable in year 2: LTV €16.74 per customer after 3 years"
    )
    observed = ltv_table_from_cohort(_ledger(), 9, 9, 2)
    assert ltv_table_text(observed)["Year 2"][1] == "n/a"  # year 3 not observed
    assert payback_finding(observed) == (
        "paid back in their first year: LTV $54.09 per customer after 2 years"  # (105+63/1.1)/3
    )
    renamed = ltv_table_text(observed, labels={"customers": "Customers who bought"})
    assert renamed["Measure"][0] == "Customers who bought"
    never = ltv_table(100, 0.8, 50.0, 0.9, acquisition_cost=500, discount_rate=0.1, years=1)
    assert payback_finding(never) == "have not paid back after 1 year: -$495 per customer"
