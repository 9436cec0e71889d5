"""The customer ledger: values by hand, totals, causality, and the model inputs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from conftest import active_by_brute_force, contact, customer, purchase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crm_core import load_snapshot, rfm_summary
from crm_core.clv.fitted import bgnbd_inputs
from crm_core.data.ledger import L, build_ledger
from crm_core.data.rules import ActivityRule, StageRules

D = date


@pytest.fixture
def tiny(make_snapshot):
    """Amounts are multiples of 1/4, so every sum is exact whatever the order."""
    return make_snapshot(
        [
            customer("a", D(2024, 10, 15), cost=50),
            customer("b", D(2025, 2, 10), cost=30),
            customer("c", D(2026, 8, 20), cost=40),
            customer("d", D(2025, 11, 5), cost=20),
        ],
        [
            purchase("a", D(2024, 10, 15), 100, 40),
            purchase("a", D(2025, 8, 1), 200, 80),
            purchase("a", D(2026, 7, 1), 300, 100),
            purchase("b", D(2025, 2, 10), 50.25, 20),
            purchase("c", D(2026, 8, 20), 80, 30),
            purchase("c", D(2026, 9, 1), -20, 0),
            purchase("d", D(2025, 11, 5), 60, 30),
            purchase("d", D(2025, 11, 5), -10.5, 0),  # netted into the same purchase day
        ],
        [contact("a", D(2026, 5, 1), "call_center", 10), contact("c", D(2026, 9, 10), "web", 1)],
    )


def _rows(ledger, customer_id: str) -> list[dict]:
    cid = ledger.customers.filter(pl.col("customer_id") == customer_id)["cid"][0]
    return ledger.panel.filter(pl.col(L.cid) == cid).to_dicts()


def test_grid_and_rows_by_hand(tiny) -> None:
    ledger = build_ledger(tiny)
    assert ledger.periods == 8  # 2024 Q4 .. 2026 Q3
    assert ledger.grid["label"].to_list()[:2] == ["2026 Q3", "2026 Q2"]
    # one row per customer and quarter from acquisition to as-of: 8 + 7 + 1 + 4
    assert ledger.panel.height == 20
    assert [r[L.period] for r in _rows(ledger, "a")] == list(range(7, -1, -1))


def test_customer_a_by_hand(tiny) -> None:
    rows = {r[L.period]: r for r in _rows(build_ledger(tiny), "a")}
    assert rows[7][L.revenue] == 100 and rows[7][L.direct_cost] == 40
    assert rows[7][L.movement] == "new" and rows[7][L.won]
    assert rows[1][L.service_cost] == 10 and rows[1][L.contacts] == 1
    now = rows[0]
    assert now[L.cum_purchase_days] == 3
    assert now[L.last_purchase] == D(2026, 7, 1)
    assert now[L.usual_gap_days] == pytest.approx((D(2026, 7, 1) - D(2024, 10, 15)).days / 2)
    assert now[L.lapse_after_days] == 730  # 4 x 312 days, capped at two years
    assert now[L.days_since_activity] == 91
    assert now[L.tenure_days] == (D(2026, 9, 30) - D(2024, 10, 15)).days
    # buys about once a year: the six-month windows are not compared, so no trend signal
    assert not now[L.spend_drop] and not now[L.spend_rising] and not now[L.overdue]
    assert now[L.active] and now[L.stage] == "mature"
    assert {r[L.movement] for p, r in rows.items() if p < 7} == {"retained"}


def test_lapse_and_movements_by_hand(tiny) -> None:
    b = {r[L.period]: r for r in _rows(build_ledger(tiny), "b")}
    # one purchase on 2025-02-10: active for 365 days, so lost in 2026 Q1
    assert [b[p][L.movement] for p in range(6, -1, -1)] == [
        "new", "retained", "retained", "retained", "churned", "dormant", "dormant",
    ]  # fmt: skip
    assert b[0][L.stage] == "churned" and not b[0][L.active]
    c = _rows(build_ledger(tiny), "c")[0]
    assert c[L.revenue] == 60 and c[L.transactions] == 2 and c[L.purchases] == 1
    assert c[L.purchase_days] == 1  # the refund day is not a purchase day
    assert c[L.stage] == "new" and c[L.movement] == "new"
    d = _rows(build_ledger(tiny), "d")
    assert d[0][L.revenue] == pytest.approx(49.5) and d[0][L.purchase_days] == 1
    assert d[-1][L.stage] == "declining"  # 329 days without a purchase, no rhythm yet


def test_custom_rules_change_the_columns(tiny) -> None:
    strict = build_ledger(tiny, activity=ActivityRule(min_lapse_days=200, max_lapse_days=400))
    b = {r[L.period]: r for r in _rows(strict, "b")}
    assert b[4][L.movement] == "churned"  # 232 days > 200
    late = build_ledger(tiny, stages=StageRules(new_days=400))
    assert _rows(late, "d")[-1][L.stage] == "new"
    with pytest.raises(ValueError, match="multiple"):
        build_ledger(tiny, stages=StageRules(trend_months=4))


def test_contractual_activity_follows_the_contract(make_snapshot) -> None:
    snap = make_snapshot(
        [
            customer("x", D(2026, 1, 15), churned_on=D(2026, 5, 15)),
            customer("y", D(2026, 3, 1)),
        ],
        [purchase("x", D(2026, 1, 15), 10), purchase("y", D(2026, 3, 1), 20)],
        business_model="contractual",
    )
    ledger = build_ledger(snap)
    assert ledger.period_months == 1 and ledger.periods == 9  # Jan .. Sep 2026
    x = {r[L.period]: r for r in _rows(ledger, "x")}
    assert [x[p][L.active] for p in (8, 5, 4)] == [True, True, False]  # ends 15 May
    assert x[4][L.movement] == "churned" and x[0][L.stage] == "churned"
    assert all(r[L.active] for r in _rows(ledger, "y"))


# ----------------------------------------------------------------------------- the samples


@pytest.fixture(scope="module")
def samples(sample_dir: Path, subscription_dir: Path) -> dict:
    return {"retail": load_snapshot(sample_dir), "subscription": load_snapshot(subscription_dir)}


@pytest.mark.parametrize("name", ["retail", "subscription"])
def test_totals_equal_the_raw_rows(samples, name: str) -> None:
    snap = samples[name]
    ledger = build_ledger(snap)
    raw = snap.transactions.select(pl.col("amount").sum(), pl.col("cost").sum(), pl.len())
    raw = raw.collect().row(0)
    service = snap.service_costs.select(pl.col("cost").sum(), pl.len()).collect().row(0)
    p = ledger.panel
    assert p[L.revenue].sum() == pytest.approx(raw[0], rel=1e-12)
    assert p[L.direct_cost].sum() == pytest.approx(raw[1], rel=1e-12)
    assert p[L.transactions].sum() == raw[2]
    assert p[L.service_cost].sum() == pytest.approx(service[0], rel=1e-12)
    assert p[L.contacts].sum() == service[1]
    # per customer and quarter as well
    per = (
        snap.transactions.group_by("customer_id")
        .agg(pl.col("amount").sum().alias("raw"))
        .collect()
        .join(
            ledger.with_customers(
                ledger.lazy().group_by(L.cid).agg(pl.col(L.revenue).sum())
            ).collect(),
            on="customer_id",
        )
    )
    assert (per["raw"] - per[L.revenue]).abs().max() < 1e-6


def test_exact_totals_on_exact_amounts(tiny) -> None:
    ledger = build_ledger(tiny)
    assert ledger.panel[L.revenue].sum() == 100 + 200 + 300 + 50.25 + 80 - 20 + 60 - 10.5
    assert ledger.panel[L.service_cost].sum() == 11


@pytest.mark.parametrize("name", ["retail", "subscription"])
def test_movements_add_up(samples, name: str) -> None:
    ledger = build_ledger(samples[name])
    counts = (
        ledger.lazy()
        .group_by(L.period)
        .agg(
            pl.col(L.active).sum().alias("active"),
            *((pl.col(L.movement) == m).sum().alias(m) for m in ("new", "reactivated", "churned")),
        )
        .sort(L.period)
        .collect()
    )
    active = dict(zip(counts[L.period], counts["active"], strict=True))
    for row in counts.filter(pl.col(L.period) < ledger.periods - 1).iter_rows(named=True):
        before = active[row[L.period] + 1]
        assert row["active"] == before + row["new"] + row["reactivated"] - row["churned"]


@pytest.mark.parametrize("name", ["retail", "subscription"])
def test_ledger_is_causal(samples, name: str) -> None:
    """The ledger cut at an earlier period end equals this one from that period on."""
    snap = samples[name]
    ledger = build_ledger(snap)
    k = 3
    earlier = build_ledger(snap.cut(ledger.period_end(k)))
    columns = [c for c in ledger.panel.columns if c != L.cid]

    def keyed(led, shift: int) -> pl.DataFrame:
        return (
            led.with_customers(led.lazy().filter(pl.col(L.period) >= shift))
            .with_columns(pl.col(L.period) - shift)
            .select("customer_id", *columns)
            .sort("customer_id", L.period)
            .collect()
        )

    assert_frame_equal(keyed(ledger, k), keyed(earlier, 0))


def test_active_matches_the_rule_in_plain_python(samples) -> None:
    snap = samples["retail"]
    ledger = build_ledger(snap)
    for k in (0, 2, 5):
        shown = ledger.at(k).select(pl.col(L.active).sum()).collect().item()
        assert shown == active_by_brute_force(snap, ledger.period_end(k))


@pytest.mark.parametrize("k", [0, 4])
def test_model_inputs_equal_rfm_summary(samples, k: int) -> None:
    snap = samples["retail"]
    ledger = build_ledger(snap)
    end = ledger.period_end(k)
    expected = rfm_summary(snap.transactions, observation_end=end).filter(pl.col("T") > 0)
    got = bgnbd_inputs(ledger, k).drop(L.cid).sort("customer_id")
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


# ----------------------------------------------------------------------------- property

_START = D(2024, 1, 1)


@st.composite
def companies(draw):
    n = draw(st.integers(1, 6))
    customers, transactions = [], []
    for i in range(n):
        acquired = _START + timedelta(days=draw(st.integers(0, 900)))
        customers.append(customer(f"c{i}", acquired))
        for _ in range(draw(st.integers(0, 6))):
            day = acquired + timedelta(days=draw(st.integers(0, 1000)))
            amount = draw(st.sampled_from([-5.0, 0.0, 10.0, 25.5]))
            transactions.append(purchase(f"c{i}", day, amount))
    return customers, transactions


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(companies())
def test_active_rule_property(make_snapshot, company) -> None:
    customers, transactions = company
    as_of = D(2026, 12, 31)
    snap = make_snapshot(customers, [t for t in transactions if t["date"] <= as_of], as_of=as_of)
    ledger = build_ledger(snap)
    for k in range(0, ledger.periods, 3):
        shown = ledger.at(k).select(pl.col(L.active).sum()).collect().item()
        assert shown == active_by_brute_force(snap, ledger.period_end(k))
    # stages partition the acquired customers; churned exactly when inactive
    now = ledger.at(0).collect()
    assert now.filter(pl.col(L.stage).is_null()).height == 0
    assert (now[L.stage] == "churned").to_list() == (~now[L.active]).to_list()


@pytest.mark.parametrize("name", ["retail", "subscription"])
def test_a_fit_moves_between_ledgers_of_the_snapshot(samples, name: str) -> None:
    """A fit describes a date: made on the later ledger at period 1, re-keyed onto the
    ledger cut at that date, it equals the fit made there (same inputs, same values)."""
    from crm_core.clv import fit_models, value
    from crm_core.clv.fitted import rekey

    snap = samples[name]
    later = build_ledger(snap)
    period = 1 if name == "retail" else 3
    earlier = build_ledger(snap.cut(later.period_end(period)))
    moved = rekey(fit_models(later, period), earlier)
    direct = fit_models(earlier, 0)
    assert moved.period == 0 and moved.ledger_as_of == earlier.as_of
    assert_frame_equal(moved.inputs, direct.inputs, check_exact=False, rel_tol=1e-12)
    a, b = value(moved).table.sort("cid"), value(direct).table.sort("cid")
    assert a["cid"].to_list() == b["cid"].to_list()
    assert a["clv"].to_numpy() == pytest.approx(b["clv"].to_numpy(), rel=1e-6)
    back = rekey(moved, later)
    assert back.period == period
    assert_frame_equal(back.inputs, fit_models(later, period).inputs)
