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
from crm_core.data.snapshot import Snapshot


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


def test_observed_cohort_by_hand():
    snap = _cohort_snapshot()
    assert cohort_years_observed(snap, "2024-03-31") == 2
    t = ltv_table_from_cohort(snap, "2024-01-01", "2024-03-31", 2)
    # year 1: revenue 100 + 50 + 20 + 200 + 40; direct cost 230 + service 5; acquisition 60
    # year 2: A buys (the refund day is no purchase) and C buys: 2 of 3 remain
    assert t["customers"].to_list() == [3.0, 2.0]
    assert t["revenue"].to_list() == pytest.approx([410.0, 130.0])
    assert t["acquisition_costs"].to_list() == [60.0, 0.0]
    assert t["total_costs"].to_list() == pytest.approx([295.0, 77.0])
    assert t["cost_ratio"].to_list() == pytest.approx([235 / 410, 77 / 130])
    assert t["gross_profit"].to_list() == pytest.approx([115.0, 53.0])
    assert t["retention_rate"][0] == pytest.approx(2 / 3)
    assert t["retention_rate"][1] is None  # year 3 is not fully observed
    assert t["ltv"].to_list() == pytest.approx([115 / 3, (115 + 53 / 1.1) / 3])
    assert payback_year(t) == 1
    one = ltv_table_from_cohort(snap, date(2024, 1, 1), date(2024, 3, 31), 1, discount_rate=0.0)
    assert one["retention_rate"][0] == pytest.approx(2 / 3)  # year 2 observed: rate known


def test_observed_contractual_cohort_counts_running_contracts():
    t = ltv_table_from_cohort(_cohort_snapshot("contractual"), "2024-01-01", "2024-03-31", 2)
    # B cancelled in its first year; A's contract still ran at the start of its year 2
    assert t["customers"].to_list() == [3.0, 2.0]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("2024-04-01", "2024-03-31", 1), "after"),
        (("2024-01-01", "2024-03-31", 3), "observed for 2"),
        (("2023-01-01", "2023-12-31", 1), "no customers"),
        (("2024-01-01", "2024-03-31", 0), "whole number"),
    ],
)
def test_bad_cohort_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        ltv_table_from_cohort(_cohort_snapshot(), *args)


def test_cohort_choices_are_yearly_spans_ending_whole_years_before_as_of():
    from crm_core.clv.ltv import Cohort, cohort_choices

    # as of 2026-06-30: A, B, C (Jan-Mar 2024) and D (Jul 2024) were won in the twelve
    # months to 2024-06-30 (A, B, C; 2 years observed) or to 2025-06-30 (D; 1 year)
    snap = _cohort_snapshot()
    assert cohort_choices(snap) == [
        Cohort(date(2024, 1, 10), date(2024, 6, 30), 2, 3),  # starts at the first acquisition
        Cohort(date(2024, 7, 1), date(2025, 6, 30), 1, 1),
    ]
    assert cohort_choices(snap)[0].label == "acquired Jan 2024 – Jun 2024"
    assert cohort_choices(snap.cut("2025-03-31")) == [
        Cohort(date(2024, 1, 10), date(2024, 3, 31), 1, 3)
    ]
    assert cohort_choices(snap.cut("2024-12-31")) == []  # nobody observed a whole year


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
    observed = ltv_table_from_cohort(_cohort_snapshot(), "2024-01-01", "2024-03-31", 2)
    assert ltv_table_text(observed)["Year 2"][1] == "n/a"  # year 3 not observed
    assert payback_finding(observed) == (
        "paid back in their first year: LTV $54.39 per customer after 2 years"  # (115+53/1.1)/3
    )
    never = ltv_table(100, 0.8, 50.0, 0.9, acquisition_cost=500, discount_rate=0.1, years=1)
    assert payback_finding(never) == "have not paid back after 1 year: -$495 per customer"
