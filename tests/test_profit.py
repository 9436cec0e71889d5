"""Per-customer profit over a window, on hand-made snapshots with answers worked by hand."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.data.snapshot import Snapshot
from crm_core.segments.profit import (
    ACQUISITION_COST,
    DIRECT_COST,
    PROFIT,
    REVENUE,
    SERVICE_COST,
    TOTAL_COST,
    TRANSACTIONS,
    ProfitWindow,
    channel_sales_lazy,
    customer_profit,
    customer_profit_lazy,
    touchpoint_costs_lazy,
)

AS_OF = date(2026, 9, 30)
D = date.fromisoformat


def make_snapshot() -> Snapshot:
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
    service = pl.DataFrame(
        {
            "customer_id": ["A1", "A1", "B2", "E5"],
            "date": [D("2026-02-01"), D("2025-09-30"), D("2026-09-30"), D("2026-05-05")],
            "touchpoint": ["call_center", "outlet", "web", "field"],
            "cost": [11.0, 16.0, 1.0, 120.0],
        }
    )
    return Snapshot.from_frames(
        {"schema_version": 1, "as_of": AS_OF.isoformat(), "company": "Test"},
        customers=customers,
        transactions=transactions,
        service_costs=service,
    )


def test_trailing_window_is_the_twelve_months_to_as_of() -> None:
    w = ProfitWindow.trailing(AS_OF)
    assert (w.start, w.end) == (D("2025-10-01"), AS_OF)
    assert w.days == 365
    assert w.years == pytest.approx(365 / 365.25)


def test_window_start_after_end_raises() -> None:
    with pytest.raises(ValueError, match="after its end"):
        ProfitWindow(D("2026-02-01"), D("2026-01-31"))


def test_profit_per_customer_by_hand() -> None:
    got = customer_profit(make_snapshot())
    expected = pl.DataFrame(
        {
            "customer_id": ["A1", "B2", "C3", "E5"],
            REVENUE: [80.0, 200.0, 0.0, 0.0],
            DIRECT_COST: [40.0, 150.0, 0.0, 0.0],
            TRANSACTIONS: [1, 1, 0, 0],
            SERVICE_COST: [11.0, 1.0, 0.0, 120.0],
            ACQUISITION_COST: [0.0, 30.0, 10.0, 0.0],
            TOTAL_COST: [51.0, 181.0, 10.0, 120.0],
            PROFIT: [29.0, 19.0, -10.0, -120.0],
        }
    )
    assert_frame_equal(got.select(expected.columns), expected)
    assert got.columns == [
        "customer_id",
        "acquisition_channel",
        "region",
        "acquired_on",
        ACQUISITION_COST,
        REVENUE,
        DIRECT_COST,
        TRANSACTIONS,
        SERVICE_COST,
        TOTAL_COST,
        PROFIT,
    ]


def test_lazy_and_collected_agree() -> None:
    snap = make_snapshot()
    lazy = customer_profit_lazy(snap)
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(
        lazy.collect(), customer_profit(snap), check_row_order=False, check_column_order=True
    )


def test_custom_window_excludes_later_customers_and_rows() -> None:
    # January 2026 only: A1's purchase, refund and nothing else; B2 is acquired later.
    got = customer_profit(make_snapshot(), ProfitWindow(D("2026-01-01"), D("2026-01-31")))
    assert got["customer_id"].to_list() == ["A1"]
    assert got.row(0, named=True)[PROFIT] == 100.0 - 20.0 - 40.0
    assert got.row(0, named=True)[SERVICE_COST] == 0.0


def test_empty_window_gives_an_empty_frame_with_the_schema() -> None:
    snap = make_snapshot()
    got = customer_profit(snap, ProfitWindow(D("2020-01-01"), D("2020-12-31")))
    assert got.height == 0
    assert got.schema == customer_profit(snap).schema


def test_amortised_acquisition_cost_by_hand() -> None:
    got = customer_profit(make_snapshot(), amortise_years=2).sort("customer_id")
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
    got = customer_profit(make_snapshot(), amortise_years=0.5)
    a1 = got.filter(pl.col("customer_id") == "A1").row(0, named=True)
    assert a1[ACQUISITION_COST] == 0.0


@pytest.mark.parametrize("years", [0, -1, math.nan, math.inf, True, "2"])
def test_bad_amortisation_raises(years: object) -> None:
    with pytest.raises(ValueError, match="amortise_years"):
        customer_profit_lazy(make_snapshot(), amortise_years=years)  # type: ignore[arg-type]


def test_sorted_by_profit_then_id_on_ties() -> None:
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
    assert customer_profit(snap)["customer_id"].to_list() == ["m", "a", "z"]


def test_touchpoint_costs_sum_to_service_cost() -> None:
    snap = make_snapshot()
    tp = touchpoint_costs_lazy(snap).collect().sort("customer_id")
    expected = pl.DataFrame(
        {
            "customer_id": ["A1", "B2", "E5"],
            "touchpoint": ["call_center", "web", "field"],
            "contacts": [1, 1, 1],
            "cost": [11.0, 1.0, 120.0],
        }
    )
    assert_frame_equal(tp, expected)
    per_customer = tp.group_by("customer_id").agg(pl.col("cost").sum())
    profit = customer_profit(snap).filter(pl.col(SERVICE_COST) > 0)
    joined = profit.join(per_customer, on="customer_id")
    assert (joined[SERVICE_COST] == joined["cost"]).all()


def test_channel_sales_sum_to_revenue_and_direct_cost() -> None:
    snap = make_snapshot()
    got = channel_sales_lazy(snap).collect().sort("customer_id", "channel")
    expected = pl.DataFrame(
        {
            "customer_id": ["A1", "B2"],
            "channel": ["web", "phone"],
            TRANSACTIONS: [1, 1],
            REVENUE: [80.0, 200.0],
            DIRECT_COST: [40.0, 150.0],
        }
    )
    assert_frame_equal(got, expected)


def test_snapshot_without_service_costs() -> None:
    snap = make_snapshot()
    bare = Snapshot.from_frames(
        snap.manifest, customers=snap.customers, transactions=snap.transactions
    )
    got = customer_profit(bare)
    assert got[SERVICE_COST].sum() == 0.0
    # E5 had only a service contact: without it, they are not in the window
    assert "E5" not in got["customer_id"].to_list()
