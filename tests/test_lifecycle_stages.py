"""Lifecycle stages on small hand-made histories, each worked out by hand.

As of 2026-09-30 the ledger's quarters end on calendar quarter ends; with the default rules
the trend windows are the two quarters 2026-04-01 .. 2026-09-30 (recent, 183 days) and
2025-10-01 .. 2026-03-31 (previous). A customer is new for 90 days after acquisition,
overdue after max(90, 2 x usual gap) days without a purchase, and churned when not active
by the activity rule (no activity within min(max(365, 4 x gap), 730) days).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from conftest import customer, purchase
from polars.testing import assert_frame_equal

from crm_core.data.expressions import add_months
from crm_core.data.ledger import build_ledger
from crm_core.data.rules import DEFAULT_ACTIVITY, StageRules
from crm_core.lifecycle.report import STAGES, assign_stages
from crm_core.lifecycle.stages import (
    CHURNED,
    DECLINING,
    GROWING,
    MATURE,
    NEW,
    PROSPECT,
    evaluate_stages,
    stage_panel,
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
    "A_today": NEW,  # acquired today
    "B_refund_recent": NEW,  # acquired 10 days ago, only a refund: no purchase yet
    "C_refund_200": DECLINING,  # refund-only, acquired 200 days ago: active, overdue
    "D_nothing_400": CHURNED,  # no activity for 400 > 365 days: not active
    "E_steady": MATURE,  # 2 years of monthly 100s
    "F_rising": GROWING,  # 1,200 in the recent window vs 600 before
    "G_falling": DECLINING,  # 120 vs 600: spend drop
    "H_stopped": DECLINING,  # last purchase 107 days ago, usual gap 30 days
    "I_gone": CHURNED,  # weekly buyer silent for more than two years
    "J_slow": MATURE,  # buys every 200 days, last 329 days ago: on rhythm
    "K_young": GROWING,  # steady but acquired 213 days ago: forming
    "L_late_first": MATURE,  # acquired 852 days ago, first purchase 20 days ago
}


DEFAULT = StageRules()


def stages_of(ledger, period: int = 0, rules: StageRules = DEFAULT, **kw) -> dict:
    table = assign_stages(ledger, period, rules, **kw)
    return dict(zip(table["customer_id"], table["stage"].cast(pl.String), strict=True))


def test_each_customer_gets_the_stage_worked_out_by_hand(retail) -> None:
    assert stages_of(build_ledger(retail)) == EXPECTED


def test_signals_and_thresholds_of_hand_made_customers(retail) -> None:
    table = assign_stages(build_ledger(retail))
    row = {r["customer_id"]: r for r in table.iter_rows(named=True)}
    e = row["E_steady"]
    assert e["usual_gap_days"] == pytest.approx(730 / 24)
    assert e["days_since_activity"] == 15
    assert e["recent_revenue"] == 600.0  # 15 Apr .. 15 Sep
    assert e["previous_revenue"] == 600.0  # 15 Oct .. 15 Mar
    assert e["tenure_days"] == (AS_OF - D(2024, 9, 15)).days
    g = row["G_falling"]
    assert (g["recent_revenue"], g["previous_revenue"]) == (120.0, 600.0)
    assert g["spend_drop"] and not g["overdue"]
    h = row["H_stopped"]
    assert h["days_since_activity"] == 107
    assert h["overdue"] and not h["spend_drop"]  # recent 300 = half of 600: not below
    j = row["J_slow"]
    assert j["usual_gap_days"] == 200.0
    assert not j["overdue"] and not j["spend_drop"]  # 329 days < 2 x 200
    c = row["C_refund_200"]
    assert c["days_since_activity"] == 200  # counted from acquisition
    assert c["last_purchase"] is None
    assert row["F_rising"]["spend_rising"]
    assert not any(r["low_p_alive"] for r in row.values())


def test_default_thresholds_reproduce_the_ledgers_stage_column(retail) -> None:
    ledger = build_ledger(retail)
    evaluated = evaluate_stages(ledger, StageRules())
    assert evaluated["stage"].equals(ledger.panel["stage"])
    for column in ("overdue", "spend_drop", "spend_rising", "recent_revenue", "previous_revenue"):
        assert evaluated[column].equals(ledger.panel[column]), column
    # the same rules are read off the ledger without evaluating them again
    assert stage_panel(ledger)["stage"].equals(ledger.panel["stage"])


def test_one_row_per_customer_acquired_by_the_period_end(retail) -> None:
    ledger = build_ledger(retail)
    for k in range(ledger.periods):
        table = assign_stages(ledger, k)
        acquired = ledger.customers.filter(pl.col("acquired_on") <= ledger.period_end(k))
        assert table["customer_id"].to_list() == acquired["customer_id"].to_list()
        assert table["stage"].null_count() == 0
    assert STAGES == (PROSPECT, NEW, GROWING, MATURE, DECLINING, CHURNED)


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
    ledger = build_ledger(make_snapshot(customers, tx, business_model="contractual"))
    assert ledger.period_months == 1
    assert stages_of(ledger) == {
        "M_churned_yesterday": CHURNED,
        "N_open": MATURE,
        "O_ends_later": MATURE,  # contract still running on the as-of date
        "P_new_but_churned": CHURNED,  # churn comes before new
        "Q_never_billed": DECLINING,  # acquired 272 days ago, never paid
        "R_churned_today": CHURNED,
    }
    # at the previous month end M was a steady subscriber
    assert stages_of(ledger, 1)["M_churned_yesterday"] == MATURE
    # P(alive) is a BG/NBD signal: ignored for subscriptions
    assert stages_of(ledger, rules=StageRules(decline_p_alive=0.9)) == stages_of(ledger)


def test_non_contractual_ignores_churned_on(make_snapshot) -> None:
    snap = make_snapshot(
        [customer("a", D(2025, 1, 1), churned_on=D(2026, 1, 1))],
        monthly("a", D(2025, 1, 15), D(2026, 9, 15), 10),
    )
    assert stages_of(build_ledger(snap)) == {"a": MATURE}


def test_thresholds_move_customers_between_stages(retail) -> None:
    ledger = build_ledger(retail)

    def stage_of(cid: str, rules: StageRules) -> str:
        return stages_of(ledger, rules=rules)[cid]

    assert stage_of("H_stopped", StageRules(decline_after_days=120)) == MATURE
    assert stage_of("K_young", StageRules(mature_days=200)) == MATURE
    assert stage_of("E_steady", StageRules(new_days=800)) == NEW
    assert stage_of("G_falling", StageRules(decline_drop=0.9)) == MATURE  # 120 > 60
    assert stage_of("C_refund_200", StageRules(decline_after_days=210)) == GROWING
    # windows of one quarter compare Jul-Sep with Apr-Jun: both at the new level
    one_quarter = stages_of(ledger, rules=StageRules(trend_months=3))
    assert one_quarter["G_falling"] == MATURE  # 60 vs 60
    assert one_quarter["F_rising"] == MATURE  # 600 vs 600
    # churn is the activity rule, never a threshold: no rule revives D
    assert stage_of("D_nothing_400", StageRules(decline_after_days=365)) == CHURNED
    with pytest.raises(ValueError, match="multiple"):
        assign_stages(ledger, rules=StageRules(trend_months=4))


def test_p_alive_signal_uses_the_model_in_its_time_unit(retail) -> None:
    seen: dict[str, np.ndarray] = {}

    def p_alive(x, tx, t):
        seen.update(x=np.asarray(x), tx=np.asarray(tx), t=np.asarray(t))
        return np.where(np.asarray(x) >= 20, 0.2, 0.9)  # E, F, G (24+ repeats) look dead

    model = SimpleNamespace(time_unit="W", p_alive=p_alive)
    ledger = build_ledger(retail)
    rules = StageRules(decline_p_alive=0.5)
    got = stages_of(ledger, rules=rules, p_alive_model=model)
    assert got["E_steady"] == DECLINING and got["F_rising"] == DECLINING
    assert got["K_young"] == GROWING
    table = assign_stages(ledger, 0, rules, model)
    assert table.filter(pl.col("customer_id") == "E_steady")["low_p_alive"][0]
    # frequency = repeat purchase days, times in weeks from the first purchase, for every
    # period end (E, F and G at the as-of date: 24 repeats over 730 days, age 745 days)
    mask = (seen["x"] == 24) & np.isclose(seen["t"], (AS_OF - D(2024, 9, 15)).days / 7)
    assert mask.sum() == 3
    assert seen["tx"][mask] == pytest.approx([730 / 7] * 3)
    with pytest.raises(ValueError, match="no model"):
        stage_panel(ledger, rules)


def test_earlier_period_ends_match_the_cut_snapshot(retail) -> None:
    ledger = build_ledger(retail)
    rules = StageRules(new_days=60, trend_months=3)
    for k in (1, 2, 4):
        day = ledger.period_end(k)
        cut = build_ledger(retail.cut(day))
        for r in (StageRules(), rules):
            mine = assign_stages(ledger, k, r).drop("cid", "period")
            theirs = assign_stages(cut, 0, r).drop("cid", "period")
            assert_frame_equal(mine, theirs)


def test_bad_arguments_are_rejected(retail) -> None:
    ledger = build_ledger(retail)
    with pytest.raises(ValueError, match="period"):
        assign_stages(ledger, ledger.periods)
    with pytest.raises(ValueError, match="new_days"):
        StageRules(new_days=0)
    with pytest.raises(ValueError, match="decline_p_alive"):
        StageRules(decline_p_alive=2.0)


def test_definitions_state_the_thresholds_and_the_activity_rule() -> None:
    from crm_core.copy.lifecycle import stage_definitions

    rules = StageRules(new_days=60, decline_p_alive=0.4)
    retail = stage_definitions(rules, DEFAULT_ACTIVITY, contractual=False)
    assert set(retail) == set(STAGES)
    assert "60 days" in retail[NEW]
    assert DEFAULT_ACTIVITY.definition(contractual=False) in retail[CHURNED]
    assert "P(alive) below 40%" in retail[DECLINING]
    contract = stage_definitions(replace(rules), DEFAULT_ACTIVITY, contractual=True)
    assert "under contract" in contract[CHURNED]
    assert "P(alive)" not in contract[DECLINING]
