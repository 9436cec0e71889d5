"""Lifecycle stages on small hand-made histories, each worked out by hand.

As of 2026-09-30 with the default rules the trend windows are 2026-04-01 .. 2026-09-30
(recent, 183 days) and 2025-10-01 .. 2026-03-31 (previous); a customer is overdue after
max(90, 2 x own gap) days without a purchase and churned after min(max(365, 4 x gap), 730).
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from conftest import customer, purchase
from polars.testing import assert_frame_equal

from crm_core.data.expressions import add_months
from crm_core.lifecycle.report import (
    CHURNED,
    DECLINING,
    GROWING,
    MATURE,
    NEW,
    PROSPECT,
    STAGES,
    StageRules,
    assign_stages,
    stage_history,
)

AS_OF = date(2026, 9, 30)
D = date


def monthly(cid: str, first: date, last: date, amount: float, day: int = 15) -> list[dict]:
    """A purchase on ``day`` of every month from ``first`` to ``last`` (inclusive)."""
    rows, d = [], first
    while d <= last:
        rows.append(purchase(cid, d, amount))
        d = add_months(d, 1).replace(day=day)
    return rows


def lead(pid: str, first_contact: date, converted: str | None = None) -> dict:
    return {
        "prospect_id": pid,
        "first_contact": first_contact,
        "channel": "Events",
        "converted_customer_id": converted,
    }


@pytest.fixture
def retail(make_snapshot):
    """Twelve retail customers, one per rule and edge case, and five leads."""
    customers = [
        customer("A_today", AS_OF),
        customer("B_refund_recent", D(2026, 9, 20)),
        customer("C_refund_200", D(2026, 3, 14)),
        customer("D_nothing_400", D(2025, 8, 26)),
        customer("E_steady", D(2024, 9, 15)),
        customer("F_rising", D(2024, 9, 15)),
        customer("G_falling", D(2024, 9, 15)),
        customer("H_stopped", D(2024, 9, 15)),
        customer("I_gone", D(2024, 1, 1)),
        customer("J_slow", D(2024, 10, 1)),
        customer("K_young", D(2026, 3, 1)),
        customer("L_late_first", D(2024, 6, 1)),
    ]
    tx = [
        purchase("A_today", AS_OF, 50),
        purchase("B_refund_recent", D(2026, 9, 25), -20),
        purchase("C_refund_200", D(2026, 4, 1), -35),
        *monthly("E_steady", D(2024, 9, 15), D(2026, 9, 15), 100),
        *monthly("F_rising", D(2024, 9, 15), D(2026, 3, 15), 100),
        *monthly("F_rising", D(2026, 4, 15), D(2026, 9, 15), 200),
        *monthly("G_falling", D(2024, 9, 15), D(2026, 3, 15), 100),
        *monthly("G_falling", D(2026, 4, 15), D(2026, 9, 15), 20),
        *monthly("H_stopped", D(2024, 9, 15), D(2026, 6, 15), 100),
        *(purchase("I_gone", D(2024, 1, 1) + timedelta(weeks=w), 30) for w in range(20)),
        purchase("J_slow", D(2024, 10, 1), 80),
        purchase("J_slow", D(2025, 4, 19), 80),
        purchase("J_slow", D(2025, 11, 5), 80),
        *monthly("K_young", D(2026, 3, 1), D(2026, 9, 1), 40, day=1),
        purchase("L_late_first", D(2026, 9, 10), 60),
    ]
    prospects = [
        lead("P1", D(2026, 9, 1)),
        lead("P2", D(2025, 6, 1)),
        lead("P3", D(2026, 9, 20), "A_today"),
        lead("P4", D(2024, 9, 1), "E_steady"),
        lead("P5", D(2024, 9, 10), "E_steady"),
    ]
    return make_snapshot(customers, tx, prospects=prospects)


EXPECTED = {
    "A_today": NEW,  # a single purchase today
    "B_refund_recent": NEW,  # acquired 10 days ago, only a refund: no purchase yet
    "C_refund_200": DECLINING,  # refund-only, acquired 200 days ago: acquired, not buying
    "D_nothing_400": CHURNED,  # no purchase in 400 > 365 days
    "E_steady": MATURE,  # 2 years of monthly 100s
    "F_rising": GROWING,  # 1,200 in the recent window vs 600 before
    "G_falling": DECLINING,  # 120 vs 600: spend drop
    "H_stopped": DECLINING,  # last purchase 107 days ago, usual gap 30 days
    "I_gone": CHURNED,  # weekly buyer silent for more than two years
    "J_slow": MATURE,  # buys every 200 days, last 329 days ago: on rhythm
    "K_young": GROWING,  # steady but 213 days since the first purchase: forming
    "L_late_first": NEW,  # acquired 2024 but first purchase 20 days ago
}


def test_each_customer_gets_the_stage_worked_out_by_hand(retail) -> None:
    table = assign_stages(retail)
    customers = table.filter(pl.col("customer_id").is_not_null())
    got = dict(zip(customers["customer_id"], customers["stage"], strict=True))
    assert got == EXPECTED


def test_signals_and_thresholds_of_hand_made_customers(retail) -> None:
    table = assign_stages(retail).filter(pl.col("customer_id").is_not_null())
    row = {r["customer_id"]: r for r in table.iter_rows(named=True)}
    e = row["E_steady"]
    assert e["purchase_days"] == 25
    assert e["mean_gap_days"] == pytest.approx(730 / 24)
    assert e["days_since_activity"] == 15
    assert e["recent_revenue"] == 600.0  # 15 Apr .. 15 Sep
    assert e["previous_revenue"] == 600.0  # 15 Oct .. 15 Mar
    assert e["revenue_ttm"] == 1200.0
    assert e["tenure_days"] == (AS_OF - D(2024, 9, 15)).days
    assert e["prospect_id"] == "P4"  # the earliest of its two leads
    assert e["decline_after_days"] == 90.0
    assert e["churn_after_days"] == 365.0
    g = row["G_falling"]
    assert (g["recent_revenue"], g["previous_revenue"]) == (120.0, 600.0)
    assert g["spend_drop"] and not g["overdue"]
    h = row["H_stopped"]
    assert h["days_since_activity"] == 107
    assert h["overdue"] and not h["spend_drop"]  # recent 300 = half of 600: not below
    j = row["J_slow"]
    assert j["mean_gap_days"] == 200.0
    assert j["decline_after_days"] == 400.0
    assert j["churn_after_days"] == 730.0  # 4 x 200 = 800 capped at 730
    assert not j["overdue"] and not j["spend_drop"]
    c = row["C_refund_200"]
    assert c["purchase_days"] == 0 and c["first_purchase"] is None
    assert c["days_since_activity"] == 200  # counted from acquisition
    assert c["revenue_ttm"] == -35.0
    assert row["F_rising"]["spend_rising"]


def test_leads_open_recent_and_unconverted_are_prospects(retail) -> None:
    leads = assign_stages(retail).filter(pl.col("customer_id").is_null())
    # P2 is older than 365 days, P3 converted today, P4/P5 converted long ago
    assert leads["prospect_id"].to_list() == ["P1"]
    assert leads["stage"].to_list() == [PROSPECT]
    assert leads["channel"].to_list() == ["Events"]
    # the day before A was acquired, its lead was an open prospect and A did not exist
    before = assign_stages(retail, D(2026, 9, 29))
    assert "A_today" not in before["customer_id"].to_list()
    assert before.filter(pl.col("stage") == PROSPECT)["prospect_id"].to_list() == ["P1", "P3"]
    everyone = assign_stages(retail, rules=StageRules(prospect_days=None))
    assert sorted(everyone.filter(pl.col("stage") == PROSPECT)["prospect_id"]) == ["P1", "P2"]


def test_rows_are_sorted_by_stage_in_lifecycle_order(retail) -> None:
    stages = assign_stages(retail)["stage"].to_list()
    assert stages == sorted(stages, key=STAGES.index)


def test_contractual_churn_is_the_contract_end(make_snapshot) -> None:
    customers = [
        customer("M_churned_yesterday", D(2025, 1, 1), churned_on=D(2026, 9, 29)),
        customer("N_open", D(2025, 1, 1)),
        customer("O_ends_later", D(2025, 1, 1), churned_on=D(2026, 10, 15)),
        customer("P_new_but_churned", D(2026, 9, 1), churned_on=D(2026, 9, 20)),
        customer("Q_never_billed", D(2026, 1, 1)),
        customer("R_churned_today", D(2025, 1, 1), churned_on=AS_OF),
    ]
    tx = [
        *monthly("M_churned_yesterday", D(2025, 1, 1), D(2026, 9, 1), 50, day=1),
        *monthly("N_open", D(2025, 1, 1), D(2026, 9, 1), 50, day=1),
        *monthly("O_ends_later", D(2025, 1, 1), D(2026, 9, 1), 50, day=1),
        purchase("P_new_but_churned", D(2026, 9, 1), 50),
        *monthly("R_churned_today", D(2025, 1, 1), D(2026, 9, 1), 50, day=1),
    ]
    snap = make_snapshot(customers, tx, business_model="contractual")
    table = assign_stages(snap)
    got = dict(zip(table["customer_id"], table["stage"], strict=True))
    assert got == {
        "M_churned_yesterday": CHURNED,
        "N_open": MATURE,
        "O_ends_later": MATURE,  # contract still running on the as-of date
        "P_new_but_churned": CHURNED,  # churn comes before new
        "Q_never_billed": DECLINING,  # acquired 272 days ago, never paid
        "R_churned_today": CHURNED,
    }
    assert table["churn_after_days"].is_null().all()
    # a day before M churned it was a steady subscriber
    earlier = assign_stages(snap, D(2026, 9, 28))
    assert earlier.filter(pl.col("customer_id") == "M_churned_yesterday")["stage"][0] == MATURE


def test_non_contractual_ignores_churned_on(make_snapshot) -> None:
    snap = make_snapshot(
        [customer("a", D(2025, 1, 1), churned_on=D(2026, 1, 1))],
        monthly("a", D(2025, 1, 15), D(2026, 9, 15), 10),
    )
    assert assign_stages(snap)["stage"].to_list() == [MATURE]


def test_thresholds_move_customers_between_stages(retail) -> None:
    def stage_of(cid: str, rules: StageRules) -> str:
        table = assign_stages(retail, rules=rules)
        return table.filter(pl.col("customer_id") == cid)["stage"][0]

    assert stage_of("H_stopped", StageRules(decline_after_days=120)) == MATURE
    assert stage_of("K_young", StageRules(mature_days=200)) == MATURE
    assert stage_of("E_steady", StageRules(new_days=800)) == NEW
    assert stage_of("D_nothing_400", StageRules(churn_after_days=500, churn_max_days=None)) == (
        DECLINING
    )
    assert stage_of("J_slow", StageRules(churn_max_days=365)) == MATURE  # 329 < 365
    assert stage_of("J_slow", StageRules(churn_max_days=300, churn_after_days=300)) == CHURNED
    assert stage_of("G_falling", StageRules(decline_drop=0.9)) == MATURE  # 120 > 60


def test_p_alive_signal_uses_the_model_in_its_time_unit(retail) -> None:
    seen: dict[str, np.ndarray] = {}

    def p_alive(x, tx, t):
        seen.update(x=x, tx=tx, t=t)
        return np.where(x >= 20, 0.2, 0.9)  # E, F, G (24+ repeats) look dead

    model = SimpleNamespace(time_unit="W", p_alive=p_alive)
    rules = StageRules(decline_p_alive=0.5)
    table = assign_stages(retail, rules=rules, p_alive_model=model)
    got = dict(zip(table["customer_id"], table["stage"], strict=True))
    assert got["E_steady"] == DECLINING and got["F_rising"] == DECLINING
    assert got["K_young"] == GROWING
    e = table.filter(pl.col("customer_id") == "E_steady").row(0, named=True)
    assert e["p_alive"] == 0.2 and e["low_p_alive"]
    # frequency = repeat purchase days, times in weeks from the first purchase
    i = int(np.flatnonzero(seen["x"] == 24)[0])
    assert seen["tx"][i] == pytest.approx(730 / 7)
    assert seen["t"][i] == pytest.approx((AS_OF - D(2024, 9, 15)).days / 7)
    # without the rule the model is not used
    plain = assign_stages(retail, p_alive_model=model)
    assert plain["p_alive"].is_null().all()


def test_earlier_dates_match_the_cut_snapshot(retail) -> None:
    for day in (D(2025, 6, 30), D(2026, 3, 31), D(2026, 9, 29)):
        assert_frame_equal(assign_stages(retail, day), assign_stages(retail.cut(day)))


def test_history_stacks_one_table_per_date(retail) -> None:
    days = [D(2026, 6, 30), AS_OF]
    history = stage_history(retail, days)
    assert history["as_of"].unique().sort().to_list() == days
    assert_frame_equal(
        history.filter(pl.col("as_of") == AS_OF), assign_stages(retail), check_row_order=True
    )


def test_bad_rules_and_dates_are_rejected(retail) -> None:
    with pytest.raises(ValueError, match="new_days"):
        StageRules(new_days=0)
    with pytest.raises(ValueError, match="decline_drop"):
        StageRules(decline_drop=1.5)
    with pytest.raises(ValueError, match="churn_max_days"):
        StageRules(churn_after_days=400, churn_max_days=300)
    with pytest.raises(ValueError, match="decline_p_alive"):
        StageRules(decline_p_alive=2.0)
    with pytest.raises(ValueError, match="after the snapshot"):
        assign_stages(retail, D(2026, 10, 1))
    with pytest.raises(ValueError, match="at least one date"):
        stage_history(retail, [])


def test_definitions_state_the_thresholds() -> None:
    rules = StageRules(new_days=60, churn_after_days=400, decline_p_alive=0.4)
    retail = rules.definitions(contractual=False)
    assert set(retail) == set(STAGES)
    assert "60 days" in retail[NEW]
    assert "400 days" in retail[CHURNED]
    assert "P(alive) below 40%" in retail[DECLINING]
    contract = rules.definitions(contractual=True)
    assert "contract has ended" in contract[CHURNED]
    assert "P(alive)" not in contract[DECLINING]
