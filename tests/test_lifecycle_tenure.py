"""Profit by tenure year on hand-made customers' ledger, as of 2026-09-30.

Tenure year y = the ledger periods 4y .. 4y + 3 counted from the quarter of acquisition
(contractual: 12 months from the month of acquisition).

* a (acquired 2024-01-01, CAC 100): year 0 (2024) buys 500 (cost 200), service 50; year 1
  (2025) buys 800 (cost 300), service 20; year 2 (2026 Q1-Q3: 3 of 4 quarters, w = 0.75)
  buys 600 (cost 200), service 10;
* b (2025-06-01, CAC 40): year 0 (2025 Q2 .. 2026 Q1) buys 100 (cost 60), service 30; year
  1 (2026 Q2-Q3, half a year) has no purchase: not surviving;
* c (2025-01-01, CAC 10): year 0 buys 50 (cost 20); no purchase in year 1: not surviving;
* d (2026-03-01): year 0 not over (3 quarters): left out.

Year 0: profit (650 - 280 - 80 - 150) / 3; base = (250 + 10 + 30) / 3, acquisition -50.
Year 1 (a): 800 - 300 - 20 = 480 = base 250 + extra 200 + lower cost 30.
Year 2 (a, weight w = 0.75): profit 390 / w = base 250 + extra (400/w - 300) + lower
cost (50 - 10/w).
"""

from __future__ import annotations

from datetime import date

import pytest
from conftest import contact, customer, purchase
from hypothesis import given, settings
from test_lifecycle_properties import snapshots

from crm_core.data.ledger import build_ledger
from crm_core.lifecycle.tenure import PARTS, tenure_profit

D = date
W = 0.75


@pytest.fixture
def snap(make_snapshot):
    def build(cac_a: float = 100, business_model: str = "non_contractual", **kw):
        customers = [
            customer("a", D(2024, 1, 1), cost=cac_a, churned_on=kw.get("a_churn")),
            customer("b", D(2025, 6, 1), cost=40),
            customer("c", D(2025, 1, 1), cost=10),
            customer("d", D(2026, 3, 1), cost=5),
        ]
        tx = [
            purchase("a", D(2024, 5, 1), 500, 200),
            purchase("a", D(2025, 5, 1), 800, 300),
            purchase("a", D(2026, 5, 1), 600, 200),
            purchase("b", D(2025, 6, 1), 100, 60),
            purchase("c", D(2025, 1, 1), 50, 20),
            purchase("d", D(2026, 3, 1), 70, 10),
        ]
        service = [
            contact("a", D(2024, 2, 1), "call_center", 50),
            contact("a", D(2025, 2, 1), "web", 20),
            contact("a", D(2026, 2, 1), "web", 10),
            contact("b", D(2025, 7, 1), "call_center", 30),
        ]
        return build_ledger(make_snapshot(customers, tx, service, business_model=business_model))

    return build


def test_profit_and_parts_by_tenure_year(snap) -> None:
    result = tenure_profit(snap())
    rows = {r["tenure_year"]: r for r in result.table.iter_rows(named=True)}
    assert sorted(rows) == [0, 1, 2]
    y0, y1, y2 = rows[0], rows[1], rows[2]
    assert (y0["customers"], y0["customer_years"], y0["in_progress_share"]) == (3, 3.0, 0.0)
    assert y0["revenue"] == pytest.approx(650 / 3)
    assert y0["service_cost"] == pytest.approx(80 / 3)
    assert y0["acquisition_cost"] == pytest.approx(50)
    assert y0["profit"] == pytest.approx(140 / 3)
    assert y0["base_profit"] == pytest.approx(290 / 3)
    assert y0["acquisition"] == pytest.approx(-50)
    assert (y0["extra_purchases"], y0["lower_cost_to_serve"]) == (0.0, 0.0)
    assert y1["customers"] == 1
    assert (y1["profit"], y1["base_profit"], y1["extra_purchases"]) == (480, 250, 200)
    assert y1["lower_cost_to_serve"] == 30
    assert y2["customer_years"] == pytest.approx(W)
    assert y2["in_progress_share"] == 1.0
    assert y2["revenue"] == pytest.approx(600 / W)
    assert y2["profit"] == pytest.approx(390 / W)
    assert y2["base_profit"] == pytest.approx(250)
    assert y2["extra_purchases"] == pytest.approx(400 / W - 300)
    assert y2["lower_cost_to_serve"] == pytest.approx(50 - 10 / W)
    assert result.breakeven_year == 0


def test_complete_years_only_and_breakeven(snap) -> None:
    complete = tenure_profit(snap(), min_year_fraction=1)
    assert complete.table["tenure_year"].to_list() == [0, 1]
    costly = tenure_profit(snap(cac_a=1000))
    assert costly.table["profit"][0] < 0
    assert costly.breakeven_year == 1
    with pytest.raises(ValueError, match="min_year_fraction"):
        tenure_profit(snap(), min_year_fraction=0)


def test_contractual_survivors_hold_a_contract_at_the_year_start(snap) -> None:
    # c has no purchase in year 1 but an open contract: it counts (at 0 profit); b's year 1
    # (June to September 2026, 4 of 12 months) is less than half observed
    result = tenure_profit(snap(business_model="contractual", a_churn=D(2025, 12, 31)))
    rows = {r["tenure_year"]: r for r in result.table.iter_rows(named=True)}
    assert rows[1]["customers"] == 2  # a (ended in year 1) and c
    assert 2 not in rows  # a's contract ended before its year 2


@settings(max_examples=40, deadline=None)
@given(snap=snapshots())
def test_parts_always_add_up_to_profit(snap) -> None:
    table = tenure_profit(build_ledger(snap), min_year_fraction=0.2).table
    total = sum(table[p] for p in PARTS)
    assert (total - table["profit"]).abs().max() is None or (
        (total - table["profit"]).abs().max() < 1e-6
    )
