"""Per-customer profit over a window of the ledger, and the window's raw drill-down rows, on
hand-made snapshots with answers worked by hand."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.snapshot import Snapshot
from crm_core.metrics.profit import (
    ACQUISITION_COST,
    DIRECT_COST,
    PROFIT,
    PURCHASES,
    REVENUE,
    SERVICE_COST,
    TOTAL_COST,
    ProfitWindow,
    customer_profit,
)
from crm_core.segments.cost_to_serve import window_rows
from crm_core.segments.tiers import assign_tiers

AS_OF = date(2026, 9, 30)
D = date.fromisoformat


def make_snapshot(as_of: date = AS_OF, *, service: bool = True) -> Snapshot:
    """Five customers around the trailing-12-month window 2025-10-01 .. 2026-09-30.

    * A1 acquired 2024-01-01 (CAC 50): buys 100 (cost 40) and refunds 20 in the window, a
      500 purchase the day before the window; one call-centre contact (11) in the window,
      an outlet contact (16) the day before it. Profit 100 - 20 - 40 - 11 = 29.
    * B2 acquired 2026-03-01 (CAC 30): buys 200 (cost 150) by phone, a web contact (1)
      on the window's last day. Profit 200 - 150 - 1 - 30 = 19.
    * C3 acquired on the window's first day (CAC 10), nothing else. Profit -10.
    * D4 acquired 2023-05-01, last purchase 2024: not in the window.
    * E5 acquired 2024-06-01: only a field visit (120) in the window. Profit -120.
    """
    customers = pl.DataFrame(
        {
            "customer_id": ["A1", "B2", "C3", "D4", "E5"],
            "acquired_on": [
                D("2024-01-01"),
                D("2026-03-01"),
                D("2025-10-01"),
                D("2023-05-01"),
                D("2024-06-01"),
            ],
            "acquisition_channel": [
                "Referral",
                "Paid search",
                "Paid search",
                "Referral",
                "Retail store",
            ],
            "acquisition_cost": [50.0, 30.0, 10.0, 40.0, 20.0],
            "region": ["North", "South", "North", "South", "North"],
        }
    )
    transactions = pl.DataFrame(
        {
            "customer_id": ["A1", "A1", "A1", "B2", "D4"],
            "date": [
                D("2026-01-10"),
                D("2026-01-20"),
                D("2025-09-30"),
                D("2026-03-01"),
                D("2024-02-02"),
            ],
            "amount": [100.0, -20.0, 500.0, 200.0, 80.0],
            "cost": [40.0, 0.0, 300.0, 150.0, 50.0],
            "channel": ["web", "web", "store", "phone", "web"],
        }
    )
    contacts = pl.DataFrame(
        {
            "customer_id": ["A1", "A1", "B2", "E5"],
            "date": [D("2026-02-01"), D("2025-09-30"), D("2026-09-30"), D("2026-05-05")],
            "touchpoint": ["call_center", "outlet", "web", "field"],
            "cost": [11.0, 16.0, 1.0, 120.0],
        }
    )
    return Snapshot.from_frames(
        {"schema_version": 1, "as_of": as_of.isoformat(), "company": "Test"},
        customers=customers,
        transactions=transactions,
        service_costs=contacts if service else None,
    )


def ledger(**kw) -> Ledger:
    return build_ledger(make_snapshot(**kw))


def profits(led: Ledger, months: int = 12, **kw) -> pl.DataFrame:
    return customer_profit(led, months, **kw).collect().sort("customer_id")


def test_trailing_window_is_the_twelve_months_to_as_of() -> None:
    w = ProfitWindow.trailing(AS_OF)
    assert (w.start, w.end, w.months) == (D("2025-10-01"), AS_OF, 12)
    assert w.days == 365
    assert w.years == pytest.approx(365 / 365.25)
    assert w.label == "1 Oct 2025 – 30 Sep 2026"


def test_profit_per_customer_by_hand() -> None:
    got = profits(ledger())
    expected = pl.DataFrame(
        {
            "customer_id": ["A1", "B2", "C3", "E5"],
            REVENUE: [80.0, 200.0, 0.0, 0.0],
            DIRECT_COST: [40.0, 150.0, 0.0, 0.0],
            PURCHASES: [1, 1, 0, 0],
            SERVICE_COST: [11.0, 1.0, 0.0, 120.0],
            ACQUISITION_COST: [0.0, 30.0, 10.0, 0.0],
            TOTAL_COST: [51.0, 181.0, 10.0, 120.0],
            PROFIT: [29.0, 19.0, -10.0, -120.0],
        }
    )
    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False)


def test_shorter_windows_keep_only_their_customers_and_rows() -> None:
    led = ledger()
    # July-September 2026: only B2's web contact on the last day
    three = profits(led, 3)
    assert three["customer_id"].to_list() == ["B2"]
    assert three[PROFIT].to_list() == [-1.0]
    # April-September 2026: B2's contact and E5's field visit (B2 was won in March)
    six = profits(led, 6)
    assert six["customer_id"].to_list() == ["B2", "E5"]
    assert six[PROFIT].to_list() == [-1.0, -120.0]


@pytest.mark.parametrize("months", [0, 4, -3])
def test_window_must_fit_the_ledger_periods(months: int) -> None:
    with pytest.raises(ValueError, match="multiple"):
        customer_profit(ledger(), months)


def test_empty_window_gives_an_empty_frame_with_the_schema() -> None:
    later = ledger(as_of=D("2030-09-30"))
    got = profits(later)
    assert got.height == 0
    assert got.schema == profits(ledger()).schema


def test_amortised_acquisition_cost_by_hand() -> None:
    got = profits(ledger(), amortise_years=2)
    span = 2 * 365.25
    charged = dict(zip(got["customer_id"], got[ACQUISITION_COST], strict=True))
    # B2 acquired 2026-03-01: 214 days of the two years fall in the window.
    assert charged["B2"] == pytest.approx(30.0 * 214 / span)
    # A1 acquired 2024-01-01, 639 days before the window: 730.5 - 639 = 91.5 days remain.
    assert charged["A1"] == pytest.approx(50.0 * 91.5 / span)
    # C3 acquired on the window's first day: the whole window (365 days) is charged.
    assert charged["C3"] == pytest.approx(10.0 * 365 / span)
    # E5 acquired 2024-06-01, 487 days before: 243.5 days remain.
    assert charged["E5"] == pytest.approx(20.0 * 243.5 / span)
    # amortisation does not change who is in the window
    assert got["customer_id"].to_list() == ["A1", "B2", "C3", "E5"]


def test_amortisation_fully_elapsed_before_window_charges_nothing() -> None:
    got = profits(ledger(), amortise_years=0.5)
    a1 = got.filter(pl.col("customer_id") == "A1").row(0, named=True)
    assert a1[ACQUISITION_COST] == 0.0


@pytest.mark.parametrize("years", [0, -1, math.nan, math.inf, True, "2"])
def test_bad_amortisation_raises(years: object) -> None:
    with pytest.raises(ValueError, match="amortise_years"):
        customer_profit(ledger(), 12, amortise_years=years)  # type: ignore[arg-type]


def test_ranked_by_profit_then_id_on_ties() -> None:
    customers = pl.DataFrame(
        {
            "customer_id": ["z", "a", "m"],
            "acquired_on": [D("2020-01-01")] * 3,
            "acquisition_channel": ["x"] * 3,
            "acquisition_cost": [0.0] * 3,
            "region": ["r"] * 3,
        }
    )
    tx = pl.DataFrame(
        {
            "customer_id": ["z", "a", "m"],
            "date": [D("2026-06-01")] * 3,
            "amount": [10.0, 10.0, 30.0],
            "cost": [0.0] * 3,
            "channel": ["web"] * 3,
        }
    )
    snap = Snapshot.from_frames(
        {"schema_version": 1, "as_of": "2026-09-30", "company": "T"},
        customers=customers,
        transactions=tx,
    )
    # the ledger's cid follows customer_id order, so ranking on it breaks ties by id
    ranked = assign_tiers(customer_profit(build_ledger(snap)), key="cid").collect()
    assert ranked["customer_id"].to_list() == ["m", "a", "z"]


def test_touchpoint_rows_sum_to_service_cost() -> None:
    led = ledger()
    rows = window_rows(led)
    ids = led.customers.select("cid", "customer_id")
    tp = rows.touchpoints.join(ids, on="cid").drop("cid").sort("customer_id")
    expected = pl.DataFrame(
        {
            "touchpoint": ["call_center", "web", "field"],
            "contacts": [1, 1, 1],
            "cost": [11.0, 1.0, 120.0],
            "customer_id": ["A1", "B2", "E5"],
        }
    )
    assert_frame_equal(tp, expected)
    per_customer = tp.group_by("customer_id").agg(pl.col("cost").sum())
    joined = profits(led).join(per_customer, on="customer_id")
    assert (joined[SERVICE_COST] == joined["cost"]).all()


def test_channel_rows_sum_to_revenue_and_direct_cost() -> None:
    led = ledger()
    ids = led.customers.select("cid", "customer_id")
    got = window_rows(led).channels.join(ids, on="cid").drop("cid").sort("customer_id")
    expected = pl.DataFrame(
        {
            "channel": ["web", "phone"],
            PURCHASES: [1, 1],
            REVENUE: [80.0, 200.0],
            DIRECT_COST: [40.0, 150.0],
            "customer_id": ["A1", "B2"],
        }
    )
    assert_frame_equal(got, expected)


def test_snapshot_without_service_costs() -> None:
    got = profits(ledger(service=False))
    assert got[SERVICE_COST].sum() == 0.0
    # E5 had only a service contact: without it, they are not in the window
    assert "E5" not in got["customer_id"].to_list()
