"""RFM quintile scores, named segments and migration from the customer ledger, on
hand-made histories."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import Snapshot, load_snapshot
from crm_core.segments.rfm import (
    NEW_CUSTOMER,
    SEGMENT_NAMES,
    comparable_periods,
    quintile_score,
    rfm_migration,
    segment_of,
)
from crm_core.segments.rfm import rfm_report as ledger_rfm_report
from crm_core.segments.rfm_scores import scores_at

AS_OF = date(2026, 9, 30)
D = date.fromisoformat


def rfm_report(snap: Snapshot, **kw):
    return ledger_rfm_report(build_ledger(snap), **kw)


def scores(values: list[float], *, higher_is_better: bool = True) -> list[int]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Float64})
    return frame.select(quintile_score("v", higher_is_better=higher_is_better))["v"].to_list()


def test_quintiles_of_distinct_values() -> None:
    assert scores([float(v) for v in range(1, 11)]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores([5.0, 1.0, 3.0, 2.0, 4.0]) == [5, 1, 3, 2, 4]


def test_equal_values_share_the_score_where_their_group_starts() -> None:
    # half the customers bought once: all score 1; the next value starts at rank 6 -> 3
    assert scores([1, 1, 1, 1, 1, 2, 2, 3, 4, 5]) == [1, 1, 1, 1, 1, 3, 3, 4, 5, 5]
    assert scores([7.0] * 4) == [1, 1, 1, 1]


def test_recency_scores_fewer_days_higher() -> None:
    assert scores([0, 10, 20, 30, 40], higher_is_better=False) == [5, 4, 3, 2, 1]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=80))
def test_scores_are_one_to_five_and_monotone(values: list[int]) -> None:
    got = scores([float(v) for v in values])
    assert all(1 <= s <= 5 for s in got)
    pairs = sorted(zip(values, got, strict=True))
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(pairs))
    # equal values, equal scores
    by_value: dict[int, set[int]] = {}
    for v, s in zip(values, got, strict=True):
        by_value.setdefault(v, set()).add(s)
    assert all(len(s) == 1 for s in by_value.values())
    # the lowest value always scores 1
    assert got[values.index(min(values))] == 1


def test_segment_grid() -> None:
    assert segment_of(5, 5) == "Champions"
    assert segment_of(5, 1) == "New customers"
    assert segment_of(4, 4) == "Loyal"
    assert segment_of(3, 3) == "Need attention"
    assert segment_of(1, 5) == "Can't lose them"
    assert segment_of(2, 3) == "At risk"
    assert segment_of(1, 1) == "Hibernating"
    assert {segment_of(r, fm) for r in range(1, 6) for fm in range(1, 6)} == set(SEGMENT_NAMES)
    with pytest.raises(ValueError, match="scores"):
        segment_of(0, 3)


def _days(last: date, n: int, step: int = 20) -> list[date]:
    return [last - timedelta(days=step * i) for i in range(n)]


def history() -> Snapshot:
    """Five scored customers with distinct R, F and M ranks, and one with only a refund.

    ==== =========== ========= ====== ===== ===== ============ ================
    id   last buy    days ago  freq   money R F M  FM  segment
    ==== =========== ========= ====== ===== ===== ============ ================
    p4   2026-09-30  0         1      50    5 1 1  1   New customers
    p1   2026-09-25  5         5      800   4 4 4  4   Loyal
    p2   2026-09-20  10        4      300   3 3 3  3   Need attention
    p3   2026-06-22  100       3      180   2 2 2  2   Hibernating
    p5   2025-08-26  400       6      1000  1 5 5  5   Can't lose them
    ==== =========== ========= ====== ===== ===== ============ ================
    """
    rows: list[tuple[str, date, float]] = []
    rows += [("p1", d, 160.0) for d in [D("2026-09-25"), *_days(D("2026-09-01"), 4, 30)]]
    rows += [("p2", D("2026-09-20"), 50.0), ("p2", D("2026-09-20"), 25.0)]  # same day: once
    rows += [("p2", d, 75.0) for d in [D("2026-08-20"), D("2026-07-20"), D("2026-06-20")]]
    rows += [("p3", D("2026-06-22"), 100.0), ("p3", D("2026-05-01"), 50.0)]
    rows += [("p3", D("2026-04-01"), 50.0), ("p3", D("2026-09-29"), -20.0)]  # a late refund
    rows += [("p4", D("2026-09-30"), 50.0)]
    rows += [("p5", d, 1000.0 / 6) for d in _days(D("2025-08-26"), 6, 15)]
    rows += [("p6", D("2026-09-01"), -10.0)]  # only a refund: not scored
    tx = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": [r[1] for r in rows],
            "amount": [r[2] for r in rows],
            "cost": [max(r[2], 0.0) / 2 for r in rows],
            "channel": ["web"] * len(rows),
        }
    )
    ids = ["p1", "p2", "p3", "p4", "p5", "p6"]
    customers = pl.DataFrame(
        {
            "customer_id": ids,
            "acquired_on": [D("2024-01-01")] * 3 + [D("2026-09-30")] + [D("2024-01-01")] * 2,
            "acquisition_channel": ["Referral", "Paid search"] * 3,
            "acquisition_cost": [0.0, 0.0, 0.0, 20.0, 0.0, 0.0],
            "region": ["North", "North", "South", "South", "North", "North"],
        }
    )
    return Snapshot.from_frames(
        {"schema_version": 1, "as_of": AS_OF.isoformat(), "company": "T"},
        customers=customers,
        transactions=tx,
    )


def test_rfm_scores_by_hand() -> None:
    got = (
        scores_at(build_ledger(history()), 0)
        .collect()
        .sort("customer_id")
        .select(
            "customer_id",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "fm_score",
            "rfm_code",
            "segment",
        )
    )
    expected = pl.DataFrame(
        {
            "customer_id": ["p1", "p2", "p3", "p4", "p5"],
            "recency_days": [5, 10, 100, 0, 400],
            "frequency": [5, 4, 3, 1, 6],
            "monetary": [800.0, 300.0, 180.0, 50.0, 1000.0],
            "r_score": [4, 3, 2, 5, 1],
            "f_score": [4, 3, 2, 1, 5],
            "m_score": [4, 3, 2, 1, 5],
            "fm_score": [4, 3, 2, 1, 5],
            "rfm_code": [444, 333, 222, 511, 155],
            "segment": [
                "Loyal",
                "Need attention",
                "Hibernating",
                "New customers",
                "Can't lose them",
            ],
        },
        schema_overrides={
            **{c: pl.Int8 for c in ("r_score", "f_score", "m_score", "fm_score")},
            "rfm_code": pl.Int16,
        },
    )
    assert_frame_equal(
        got.with_columns(pl.col("segment").cast(pl.String)), expected, check_exact=False
    )


def test_rfm_report_by_hand() -> None:
    report = rfm_report(history())
    assert not report.is_empty
    seg = {r["segment"]: r for r in report.segments.iter_rows(named=True)}
    assert report.segments.height == len(SEGMENT_NAMES)
    assert seg["Loyal"]["customers"] == 1
    assert seg["Champions"]["customers"] == 0
    assert seg["Champions"]["profit_per_customer"] is None
    # trailing-12-month profit: p1 800 - 400; p2 300 - 150; p3 180 - 100; p4 50 - 25 - 20;
    # p5 bought only before the window: 0
    assert seg["Loyal"]["profit"] == pytest.approx(400)
    assert seg["Need attention"]["profit"] == pytest.approx(150)
    assert seg["Hibernating"]["profit"] == pytest.approx(80)
    assert seg["New customers"]["profit"] == pytest.approx(5)
    assert seg["Can't lose them"]["profit"] == 0.0
    assert seg["Can't lose them"]["median_recency_days"] == 400
    assert seg["Loyal"]["profit_share"] == pytest.approx(400 / 635)
    assert report.segments["customer_share"].sum() == pytest.approx(1.0)
    assert report.grid.height == 25
    assert report.grid["customers"].sum() == 5
    assert "p6" not in report.customers["customer_id"].to_list()


def test_rfm_report_filters_rescore_within_the_selection() -> None:
    report = rfm_report(history(), regions=["South"])
    assert sorted(report.customers["customer_id"].to_list()) == ["p3", "p4"]
    # two customers: the better scores 1 + 5 * 1 // 2 = 3, the worse 1
    assert sorted(report.customers["r_score"].to_list()) == [1, 3]


def test_rfm_report_empty() -> None:
    snap = history()
    empty = Snapshot.from_frames(
        snap.manifest,
        customers=snap.customers,
        transactions=snap.transactions.filter(pl.col("amount") < 0),
    )
    report = rfm_report(empty)
    assert report.is_empty
    assert report.segments["customers"].sum() == 0
    assert report.segments["customer_share"].null_count() == len(SEGMENT_NAMES)


def test_migration_by_hand() -> None:
    led = build_ledger(history())
    mig = rfm_migration(led, 1)  # one quarter back
    assert mig.from_as_of == D("2026-06-30")
    assert mig.to_as_of == AS_OF
    flows = {
        (r["from_segment"], r["to_segment"]): r["customers"]
        for r in mig.flows.iter_rows(named=True)
    }
    # as of 2026-06-30 (see the docstring of history): p1 R2 FM2, p2 R3 FM1, p3 R4 FM3,
    # p5 R1 FM4; p4 was not yet a customer
    assert flows == {
        ("Hibernating", "Loyal"): 1,
        ("About to sleep", "Need attention"): 1,
        ("Potential loyalists", "Hibernating"): 1,
        ("At risk", "Can't lose them"): 1,
        (NEW_CUSTOMER, "New customers"): 1,
    }
    assert mig.flows["share_of_from"].to_list() == [1.0] * 5
    assert mig.stayed("Hibernating") == 0.0
    assert mig.stayed("Champions") is None
    # the scores now can come from the report the page already has
    again = rfm_migration(led, 1, now=ledger_rfm_report(led))
    assert again.flows.equals(mig.flows)


def test_migration_periods_must_be_in_the_history() -> None:
    led = build_ledger(history())
    for bad in (0, -1, led.periods, 1.5, True):
        with pytest.raises(ValueError, match="periods_back"):
            rfm_migration(led, bad)  # type: ignore[arg-type]


def test_comparable_periods() -> None:
    led = build_ledger(history())  # purchases since 2025-06-12, quarters to 2026-09-30
    got = comparable_periods(led, (3, 4, 6, 12, 24))
    assert [(c.months, c.periods_back, c.on) for c in got] == [
        (3, 1, D("2026-06-30")),
        (6, 2, D("2026-03-31")),
        (12, 4, D("2025-09-30")),
    ]


def test_scores_at_an_earlier_period_are_those_of_the_cut_snapshot(sample_dir) -> None:
    """The ledger is causal: scores at a past quarter end equal scoring the data cut there."""
    snap = load_snapshot(sample_dir)
    led = build_ledger(snap)
    then = led.period_end(4)
    past = scores_at(led, 4).collect().sort("customer_id")
    cut = scores_at(build_ledger(snap.cut(then)), 0).collect().sort("customer_id")
    columns = ["customer_id", "recency_days", "frequency", "monetary", "rfm_code", "segment"]
    assert past.height > 100
    assert_frame_equal(past.select(columns), cut.select(columns))  # money to float precision
