"""The lifecycle funnel on a hand-made company's ledger, as of 2026-09-30 (N = 2 years).

* a (Web, lead La 2023-12-20, a later duplicate lead La2): buys on the 10th of every
  month 2024-01-10 .. 2026-05-10 - first, repeat, stable, still active after 2 years;
* b (Web, walk-in): buys 2024-03-01 and 2025-04-01 - stable (396 days), eligible for the
  2-year step (2026-03-01) but silent after it;
* c (Store, walk-in): 2025-02-01 and 2025-03-01 - repeat, eligible for stable, not stable;
* d (Store, lead Ld 2026-05-20): 2026-06-01 and 2026-07-01 - repeat, too young for stable;
* e (Store, walk-in): one purchase 2026-08-01;
* f (Web, walk-in): only a refund;
* leads not converted: L1 (Web, 2025-06-01), L2 (Events, 2026-09-01).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from conftest import customer, purchase
from polars.testing import assert_frame_equal
from test_lifecycle_stages import lead, monthly

from crm_core.data.ledger import build_ledger
from crm_core.data.rules import StageRules
from crm_core.lifecycle.funnel import lifecycle_funnel

D = date


@pytest.fixture
def snap(make_snapshot):
    customers = [
        customer("a", D(2024, 1, 10), channel="Web"),
        customer("b", D(2024, 3, 1), channel="Web"),
        customer("c", D(2025, 2, 1), channel="Store"),
        customer("d", D(2026, 6, 1), channel="Store"),
        customer("e", D(2026, 8, 1), channel="Store"),
        customer("f", D(2025, 5, 1), channel="Web"),
    ]
    tx = [
        *monthly("a", D(2024, 1, 10), D(2026, 5, 10), 20, day=10),
        purchase("b", D(2024, 3, 1), 80),
        purchase("b", D(2025, 4, 1), 80),
        purchase("c", D(2025, 2, 1), 10),
        purchase("c", D(2025, 3, 1), 10),
        purchase("d", D(2026, 6, 1), 10),
        purchase("d", D(2026, 7, 1), 10),
        purchase("e", D(2026, 8, 1), 10),
        purchase("f", D(2025, 5, 3), -15),
    ]
    leads = [
        {**lead("La", D(2023, 12, 20), "a"), "channel": "Web"},
        {**lead("La2", D(2024, 1, 5), "a"), "channel": "Web"},
        {**lead("Ld", D(2026, 5, 20), "d"), "channel": "Store"},
        {**lead("L1", D(2025, 6, 1)), "channel": "Web"},
        {**lead("L2", D(2026, 9, 1)), "channel": "Events"},
    ]
    return build_ledger(make_snapshot(customers, tx, prospects=leads))


def expected(rows: list[tuple]) -> pl.DataFrame:
    steps = ["prospects", "first_purchase", "repeat", "stable", "active_after_years"]
    names = [
        "Prospects",
        "First purchase",
        "Repeat purchase",
        "Stable (365+ days buying)",
        "Still active after 2 years",
    ]
    return pl.DataFrame(
        {
            "step_index": list(range(5)),
            "step": steps,
            "label": names,
            "reached": [r[0] for r in rows],
            "eligible": [r[1] for r in rows],
            "conversion": [None, *(r[0] / r[1] if r[1] else None for r in rows[1:])],
            "share_of_top": [r[0] / rows[0][0] for r in rows],
        },
        schema={
            "step_index": pl.Int32,
            "step": pl.String,
            "label": pl.String,
            "reached": pl.Int64,
            "eligible": pl.Int64,
            "conversion": pl.Float64,
            "share_of_top": pl.Float64,
        },
    )


def test_overall_funnel_worked_out_by_hand(snap) -> None:
    report = lifecycle_funnel(snap)
    assert_frame_equal(report.steps, expected([(8, 8), (5, 8), (4, 5), (2, 3), (1, 2)]))
    assert report.walk_in_customers == 4  # b, c, e, f
    assert report.median_days_to_first_purchase == 16.5  # a 21 days, d 12 days
    # usual gaps of the repeat customers: c 28, d 30, a 851 / 28, b 396
    assert report.median_usual_gap_days == pytest.approx((30 + 851 / 28) / 2)
    assert report.step("stable")["conversion"] == pytest.approx(2 / 3)


def test_funnel_by_channel_and_cohort(snap) -> None:
    report = lifecycle_funnel(snap)
    web = report.by_channel.filter(pl.col("channel") == "Web").drop("channel")
    assert_frame_equal(web, expected([(4, 4), (2, 4), (2, 2), (2, 2), (1, 2)]))
    store = report.by_channel.filter(pl.col("channel") == "Store").drop("channel")
    assert store["reached"].to_list() == [3, 3, 2, 0, 0]
    assert store["eligible"].to_list() == [3, 3, 3, 1, 0]
    assert store["conversion"].to_list()[-1] is None  # nobody eligible
    events = report.by_channel.filter(pl.col("channel") == "Events")
    assert events["reached"].to_list() == [1, 0, 0, 0, 0]
    top = report.by_cohort.filter(pl.col("step") == "prospects")
    # cohorts: year of acquisition (customers) or first contact (open leads)
    assert dict(zip(top["cohort"], top["reached"], strict=True)) == {2024: 2, 2025: 3, 2026: 3}
    first = report.by_cohort.filter(pl.col("step") == "first_purchase")
    assert dict(zip(first["cohort"], first["reached"], strict=True)) == {2024: 2, 2025: 1, 2026: 2}


def test_stable_and_years_follow_the_parameters(snap) -> None:
    one_year = lifecycle_funnel(snap, years=1)
    assert one_year.step("active_after_years")["label"] == "Still active after 1 year"
    # a (2025-01-10) and b (2025-03-01) are eligible; a still buys after, b bought 2025-04-01
    last = one_year.step("active_after_years")
    assert (last["reached"], last["eligible"]) == (2, 2)
    short = lifecycle_funnel(snap, rules=StageRules(mature_days=25))
    assert short.step("stable")["reached"] == 4  # c (28 days) and d (30 days) now count
    assert short.step("stable")["label"] == "Stable (25+ days buying)"
    with pytest.raises(ValueError, match="years"):
        lifecycle_funnel(snap, years=0)


def test_contractual_stable_and_active_use_the_contract(make_snapshot) -> None:
    snap = make_snapshot(
        [
            customer("s", D(2024, 1, 1), churned_on=D(2026, 8, 1)),
            customer("t", D(2024, 1, 1), churned_on=D(2025, 6, 1)),
            customer("u", D(2024, 1, 1)),
        ],
        [
            *monthly("s", D(2024, 1, 1), D(2026, 7, 1), 30, day=1),
            *monthly("t", D(2024, 1, 1), D(2025, 5, 1), 30, day=1),
            *monthly("u", D(2024, 1, 1), D(2024, 3, 1), 30, day=1),  # open, stopped paying
        ],
        business_model="contractual",
    )
    report = lifecycle_funnel(build_ledger(snap))
    # all stable (contract ran 365+ days); s and u still under contract on 2026-01-01
    assert report.steps["reached"].to_list() == [3, 3, 3, 3, 2]
    assert report.steps["eligible"].to_list() == [3, 3, 3, 3, 3]
