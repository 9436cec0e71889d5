"""Revenue movements, NRR, GRR, quick ratio, MRR and ARR: hand-built ledgers with amounts
worked by hand, a brute-force check on the sample, and the sum rule on both samples at
several dates."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import customer, purchase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core import load_snapshot
from crm_core.data.expressions import add_months
from crm_core.data.ledger import build_ledger
from crm_core.metrics import movements as mv
from crm_core.metrics.quarters import company_quarters
from crm_core.metrics.registry import metric_inputs, metric_value

D = date
AMOUNTS = list(mv.MOVEMENT_COLUMNS.values())


def _row(frame: pl.DataFrame, period: int) -> dict:
    return frame.filter(pl.col("period") == period).row(0, named=True)


def _moves(row: dict) -> dict[str, float]:
    return {m: row[c] for m, c in mv.MOVEMENT_COLUMNS.items()}


# ----------------------------------------------------------------------------- retail by hand


@pytest.fixture
def shop(make_snapshot):
    """Q3 2026 against Q3 2025, worked by hand in the tests."""
    return make_snapshot(
        [
            customer("a", D(2024, 10, 15)),  # 100 -> 150: expansion +50
            customer("b", D(2025, 1, 10)),  # 200 -> 80: contraction -120
            customer("c", D(2025, 2, 1)),  # 60 -> 0: churned -60 (and lapsed by the rule)
            customer("d", D(2025, 3, 1)),  # 40 -> 0: churned -40 (still active by the rule)
            customer("e", D(2024, 11, 1)),  # 0 -> 90: reactivation +90
            customer("f", D(2026, 1, 15)),  # won since: new +120
            customer("g", D(2025, 6, 1)),  # refund -20 -> 0: expansion +20
            customer("h", D(2025, 9, 20)),  # 30 -> 30: no movement
        ],
        [
            purchase("a", D(2024, 10, 15), 10),
            purchase("a", D(2025, 8, 1), 100),
            purchase("a", D(2026, 7, 10), 150),
            purchase("b", D(2025, 9, 1), 200),
            purchase("b", D(2026, 8, 1), 80),
            purchase("c", D(2025, 7, 15), 60),
            purchase("d", D(2025, 8, 20), 40),
            purchase("d", D(2026, 3, 1), 30),
            purchase("e", D(2024, 11, 1), 70),
            purchase("e", D(2026, 9, 15), 90),
            purchase("f", D(2026, 8, 5), 120),
            purchase("g", D(2025, 6, 20), 50),
            purchase("g", D(2025, 7, 5), -20),
            purchase("h", D(2025, 9, 20), 30),
            purchase("h", D(2026, 9, 1), 30),
        ],
    )


def test_retail_movements_by_hand(shop) -> None:
    ledger = build_ledger(shop)
    moves = mv.period_movements(ledger)
    row = _row(moves, 0)
    assert (row["label"], row["compared_label"]) == ("2026 Q3", "2025 Q3")
    assert row["revenue_then"] == 100 + 200 + 60 + 40 - 20 + 30
    assert row["revenue_now"] == 150 + 80 + 90 + 120 + 30
    assert _moves(row) == {
        mv.NEW: 120,
        mv.EXPANSION: 50 + 20,
        mv.REACTIVATION: 90,
        mv.CONTRACTION: -120,
        mv.CHURNED: -60 - 40,
    }
    assert sum(_moves(row).values()) == row["revenue_now"] - row["revenue_then"]
    counts = {m: row[c] for m, c in mv.COUNTS.items()}
    assert counts == {
        mv.NEW: 1,
        mv.EXPANSION: 2,
        mv.REACTIVATION: 1,
        mv.CONTRACTION: 1,
        mv.CHURNED: 2,
    }
    assert row["retention_base"] == 410  # everyone but f was a customer at 2025-09-30
    # periods without a comparison period a year earlier are not shown
    assert moves["period"].max() == ledger.periods - 1 - 4


def test_retail_registry_metrics_by_hand(shop) -> None:
    inputs = metric_inputs(build_ledger(shop))
    assert metric_value(inputs, "nrr") == pytest.approx((410 + 70 - 120 - 100) / 410)
    assert metric_value(inputs, "grr") == pytest.approx((410 - 120 - 100) / 410)
    assert metric_value(inputs, "quick_ratio") == pytest.approx((120 + 70 + 90) / (120 + 100))
    assert metric_value(inputs, "new_revenue") == 120
    assert metric_value(inputs, "expansion_revenue") == 70
    assert metric_value(inputs, "reactivation_revenue") == 90
    assert metric_value(inputs, "contraction_revenue") == 120  # an amount lost: positive
    assert metric_value(inputs, "churned_revenue") == 100
    assert metric_value(inputs, "mrr") is None  # not a subscription business
    assert metric_value(inputs, "arr") is None
    # d stopped buying in the quarter but is active by the activity rule: churned revenue
    # is not the rule's churn
    ledger = inputs.ledger
    d = ledger.customers.filter(pl.col("customer_id") == "d")["cid"][0]
    assert ledger.panel.filter((pl.col("cid") == d) & (pl.col("period") == 0))["active"][0]


def test_drilldown_per_customer_by_hand(shop) -> None:
    ledger = build_ledger(shop)
    rows = ledger.with_customers(mv.customer_movements(ledger, [0])).collect()
    by_id = {r["customer_id"]: r for r in rows.iter_rows(named=True)}
    assert set(by_id) == set("abcdefg")  # h did not change
    assert by_id["d"][mv.MOVEMENT] == mv.CHURNED and by_id["d"]["churned_revenue"] == -40
    assert by_id["g"][mv.MOVEMENT] == mv.EXPANSION and by_id["g"]["revenue_then"] == -20
    assert by_id["f"][mv.MOVEMENT] == mv.NEW
    totals = rows.select(pl.col(AMOUNTS).sum()).row(0, named=True)
    row = _row(mv.period_movements(ledger), 0)
    assert totals == {c: row[c] for c in AMOUNTS}


# ----------------------------------------------------------------------------- subscriptions


def _bills(cid: str, first: date, months: int, amount: float, **changes: float) -> list[dict]:
    """Monthly bills on the anniversary day; ``changes`` maps "m<k>" to another amount."""
    return [
        purchase(cid, add_months(first, k), changes.get(f"m{k}", amount)) for k in range(months)
    ]


@pytest.fixture
def saas(make_snapshot):
    """August -> September 2026 and the third quarter, worked by hand in the tests."""
    return make_snapshot(
        [
            customer("s1", D(2026, 6, 10)),
            customer("s2", D(2026, 7, 5)),
            customer("s3", D(2026, 5, 1), churned_on=D(2026, 9, 1)),
            customer("s4", D(2026, 9, 12)),
            customer("s5", D(2026, 4, 3), churned_on=D(2026, 9, 20)),
            customer("s6", D(2026, 3, 15)),
            customer("s7", D(2025, 9, 10)),
            customer("s8", D(2025, 8, 1), churned_on=D(2026, 2, 1)),
        ],
        [
            *_bills("s1", D(2026, 6, 10), 4, 100),
            *_bills("s2", D(2026, 7, 5), 3, 50),
            purchase("s2", D(2026, 9, 6), 30),  # an add-on counts as MRR
            *_bills("s3", D(2026, 5, 1), 4, 80),  # ended on its anniversary: no September bill
            *_bills("s4", D(2026, 9, 12), 1, 60),
            *_bills("s5", D(2026, 4, 3), 6, 40),  # paid in September, ended on the 20th
            *_bills("s6", D(2026, 3, 15), 7, 90, m6=70),  # downgraded in September
            *_bills("s7", D(2025, 9, 10), 13, 100, m12=120),  # a price rise in September
            *_bills("s8", D(2025, 8, 1), 6, 50),
        ],
        business_model="contractual",
    )


def test_monthly_mrr_movements_by_hand(saas) -> None:
    ledger = build_ledger(saas)
    assert mv.comparison_lag(ledger) == 1
    row = _row(mv.period_movements(ledger), 0)
    assert (row["label"], row["compared_label"]) == ("Sep 2026", "Aug 2026")
    assert row["revenue_then"] == 100 + 50 + 80 + 40 + 90 + 100  # August MRR
    assert row["revenue_now"] == 100 + 80 + 60 + 70 + 120  # s5 paid, but had ended by the 30th
    assert _moves(row) == {
        mv.NEW: 60,
        mv.EXPANSION: 30 + 20,
        mv.REACTIVATION: 0,
        mv.CONTRACTION: -20,
        mv.CHURNED: -80 - 40,
    }


def test_quarter_mrr_nrr_and_arr_by_hand(saas) -> None:
    inputs = metric_inputs(build_ledger(saas))
    # July-September: s2 new in July (+50), s4 in September (+60); June MRR 410, September 430
    assert metric_value(inputs, "new_revenue") == 110
    assert metric_value(inputs, "expansion_revenue") == 50
    assert metric_value(inputs, "contraction_revenue") == 20
    assert metric_value(inputs, "churned_revenue") == 120
    assert metric_value(inputs, "quick_ratio") == pytest.approx((110 + 50) / (20 + 120))
    assert metric_value(inputs, "mrr") == 430
    assert metric_value(inputs, "arr") == 12 * 430
    # a year apart (September 2025 -> 2026): s7 100 -> 120, s8 50 -> 0
    assert metric_value(inputs, "nrr") == pytest.approx((150 + 20 - 50) / 150)
    assert metric_value(inputs, "grr") == pytest.approx((150 - 50) / 150)
    assert metric_value(inputs, "mrr", 1) == 100 + 80 + 40 + 90 + 100  # June: s1 s3 s5 s6 s7


# ----------------------------------------------------------------------------- properties

_DAYS = st.integers(min_value=0, max_value=3 * 365)


@st.composite
def _company(draw):
    n = draw(st.integers(min_value=1, max_value=6))
    customers, rows = [], []
    for i in range(n):
        acquired = D(2023, 10, 1) + (D(2023, 10, 2) - D(2023, 10, 1)) * draw(_DAYS)
        customers.append(customer(f"c{i}", min(acquired, D(2026, 9, 30))))
        for _ in range(draw(st.integers(min_value=0, max_value=8))):
            day = D(2023, 10, 1) + (D(2023, 10, 2) - D(2023, 10, 1)) * draw(_DAYS)
            amount = draw(st.integers(min_value=-40, max_value=200))
            rows.append(purchase(f"c{i}", min(day, D(2026, 9, 30)), amount))
    return customers, rows


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(company=_company(), lag=st.sampled_from([1, 2, 4]))
def test_movements_always_add_up(make_snapshot, company, lag) -> None:
    ledger = build_ledger(make_snapshot(*company))
    moves = mv.period_movements(ledger, lag)
    for row in moves.iter_rows(named=True):  # integer amounts: exact sums
        assert sum(_moves(row).values()) == row["revenue_now"] - row["revenue_then"]
        periods = [row["period"]]
        per = mv.customer_movements(ledger, periods, lag).collect()
        assert per.select(pl.col(AMOUNTS).sum()).row(0) == tuple(row[c] for c in AMOUNTS)


# ----------------------------------------------------------------------------- the samples


def _brute_force_quarter(snap, start: date, end: date, then_start: date, then_end: date):
    """Q vs the same quarter a year earlier from the raw rows, in plain Python."""
    now: dict[str, float] = defaultdict(float)
    then: dict[str, float] = defaultdict(float)
    for cid, day, amount in (
        snap.transactions.select("customer_id", "date", "amount").collect().iter_rows()
    ):
        if start <= day <= end:
            now[cid] += amount
        elif then_start <= day <= then_end:
            then[cid] += amount
    acquired = dict(snap.customers.select("customer_id", "acquired_on").collect().iter_rows())
    out: dict[str, float] = defaultdict(float)
    for cid in set(now) | set(then):
        a, b = then.get(cid, 0.0), now.get(cid, 0.0)
        if acquired[cid] > then_end:
            kind = mv.NEW
        elif a > 0 and b <= 0:
            kind = mv.CHURNED
        elif a <= 0 < b:
            kind = mv.REACTIVATION
        else:
            kind = mv.EXPANSION if b > a else mv.CONTRACTION
        out[kind] += b - a
    return out


def test_sample_quarter_equals_brute_force(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    row = _row(mv.period_movements(build_ledger(snap)), 0)
    expected = _brute_force_quarter(
        snap, D(2026, 7, 1), D(2026, 9, 30), D(2025, 7, 1), D(2025, 9, 30)
    )
    for kind, amount in _moves(row).items():
        assert amount == pytest.approx(expected.get(kind, 0.0), abs=1e-6), kind


@pytest.mark.parametrize("as_of", [None, "2026-06-30", "2026-03-31", "2025-12-31"])
@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_samples_movements_add_up_to_the_revenue_change(which, as_of, request) -> None:
    snap = load_snapshot(request.getfixturevalue(which))
    ledger = build_ledger(snap if as_of is None else snap.cut(as_of))
    moves = mv.period_movements(ledger)
    assert moves.height == ledger.periods - mv.comparison_lag(ledger)
    change = moves["revenue_now"] - moves["revenue_then"]
    total = moves.select(pl.sum_horizontal(AMOUNTS))[:, 0]
    assert (total - change).abs().max() < 1e-6
    quarters = company_quarters(ledger)
    step = 3 if ledger.contractual else 1
    if not ledger.contractual:  # the amount is the quarter's revenue
        for row in moves.iter_rows(named=True):
            q = row["period"]
            assert row["revenue_now"] == pytest.approx(quarters["revenue"][q])
            assert row["revenue_then"] == pytest.approx(quarters["revenue"][q + 4])
    by_quarter = mv.quarter_movements(ledger).drop_nulls("new_revenue")
    for row in by_quarter.iter_rows(named=True):
        assert sum(row[c] for c in AMOUNTS) == pytest.approx(
            row["revenue_now"] - row["revenue_then"], abs=1e-6
        )
        if ledger.contractual:
            assert row["revenue_now"] == pytest.approx(row["mrr"])
    assert by_quarter.height == (ledger.periods - mv.comparison_lag(ledger)) // step


def test_subscription_mrr_matches_a_direct_sum(subscription_dir: Path) -> None:
    snap = load_snapshot(subscription_dir)
    tx = snap.transactions.collect()
    people = snap.customers.collect()
    for end in (D(2026, 9, 30), D(2026, 6, 30), D(2025, 12, 31)):
        start = end.replace(day=1)
        live = people.filter(
            (pl.col("acquired_on") <= end)
            & (pl.col("churned_on").is_null() | (pl.col("churned_on") > end))
        )["customer_id"]
        direct = tx.filter(
            pl.col("date").is_between(start, end) & pl.col("customer_id").is_in(live.implode())
        )["amount"].sum()
        inputs = metric_inputs(build_ledger(snap.cut(end)))
        assert metric_value(inputs, "mrr") == pytest.approx(direct)
        assert metric_value(inputs, "arr") == pytest.approx(12 * direct)


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_earlier_quarters_equal_the_ledger_cut_there(which, request) -> None:
    snap = load_snapshot(request.getfixturevalue(which))
    now = metric_inputs(build_ledger(snap))
    for q in (1, 3):
        end = now.ledger.period_end(q * (3 if now.ledger.contractual else 1))
        then = metric_inputs(build_ledger(snap.cut(end)))
        for key in ("nrr", "grr", "quick_ratio", "churned_revenue", "new_revenue", "mrr"):
            assert metric_value(now, key, q) == pytest.approx(metric_value(then, key)), key


def test_lag_must_be_positive(shop) -> None:
    ledger = build_ledger(shop)
    with pytest.raises(ValueError, match="lag"):
        mv.period_movements(ledger, 0)
    with pytest.raises(ValueError, match="at least one"):
        mv.customer_movements(ledger, [])
