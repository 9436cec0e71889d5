"""Retention budget optimiser, break-even and sensitivity (crm_core.whatif.optimize)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from crm_core.whatif.engine import Levers, Segment, apply_scenario, equity_by_segment, simulate
from crm_core.whatif.optimize import (
    ALL_SEGMENTS,
    break_even,
    break_even_table,
    grid_allocation,
    optimize_retention_budget,
    sensitivity,
    spend_per_customer,
)

H, D = 10, 0.1


def portfolio() -> list[Segment]:
    return [
        Segment("Gold", 1000, 0.80, 200.0, 100, 150.0),
        Segment("Silver", 2000, 0.60, 50.0, 100, 30.0, cost_to_serve=10.0),
        Segment("Bronze", 300, 0.90, 500.0),
    ]


def equity(segments) -> float:
    return simulate(segments, horizon_years=H, discount_rate=D).customer_equity


def with_budget(segments, budgets) -> list[Segment]:
    return [
        replace(s, extra_retention_spend=s.extra_retention_spend + spend_per_customer(s, b))
        for s, b in zip(segments, budgets, strict=True)
    ]


# ----------------------------------------------------------------------------- optimiser


@pytest.mark.parametrize("budget", [5_000.0, 20_000.0, 200_000.0])
def test_optimiser_beats_equal_split_and_respects_budget(budget):
    segs = portfolio()
    result = optimize_retention_budget(segs, budget, horizon_years=H, discount_rate=D)
    frame = result.allocation
    assert (frame["budget"] >= 0).all()
    assert result.spent == pytest.approx(frame["budget"].sum())
    assert result.spent <= budget * (1 + 1e-9)
    assert result.equity >= result.equal_split_equity
    assert result.equity > result.baseline_equity
    equal = equity(with_budget(segs, [budget / 3] * 3))
    assert result.equal_split_equity == pytest.approx(equal)
    assert result.equity == pytest.approx(equity(with_budget(segs, frame["budget"].to_list())))


def test_optimiser_strictly_beats_equal_split_when_segments_differ():
    result = optimize_retention_budget(portfolio(), 10_000.0, horizon_years=H, discount_rate=D)
    assert result.gain_over_equal_split > 0.01 * result.gain


def test_optimiser_matches_brute_force_on_two_segments():
    segs = portfolio()[:2]
    budget = 10_000.0
    result = optimize_retention_budget(segs, budget, horizon_years=H, discount_rate=D)
    splits = [
        with_budget(segs, [first, total - first])
        for total in np.linspace(0, budget, 21)
        for first in np.linspace(0, total, 101)
    ]
    best = equity_by_segment(splits, horizon_years=H, discount_rate=D).sum(axis=1).max()
    assert result.equity >= best - 1e-9 * abs(best)


def test_zero_budget_gives_baseline():
    segs = portfolio()
    result = optimize_retention_budget(segs, 0.0, horizon_years=H, discount_rate=D)
    assert result.spent == 0.0
    assert result.equity == pytest.approx(equity(segs))
    assert result.baseline_equity == pytest.approx(equity(segs))
    assert (result.allocation["budget"] == 0).all()
    assert result.gain == pytest.approx(0.0)
    # The first dollar's return is still reported, to say where money would go first.
    assert (result.allocation["first_dollar_equity"] > 0).all()


def test_binding_budget_equalises_marginal_equity():
    result = optimize_retention_budget(portfolio(), 10_000.0, horizon_years=H, discount_rate=D)
    frame = result.allocation
    funded = frame.filter(pl.col("budget") > 1.0)
    assert funded.height >= 2
    assert result.spent == pytest.approx(10_000.0)
    marginal = funded["marginal_equity"].to_numpy()
    assert marginal.max() - marginal.min() < 0.02 * marginal.mean()
    unfunded = frame.filter(pl.col("budget") <= 1.0)["marginal_equity"]
    assert (unfunded <= marginal.max() + 1e-6).all()


def test_large_budget_stops_where_spend_stops_paying():
    result = optimize_retention_budget(portfolio(), 1e7, horizon_years=H, discount_rate=D)
    assert result.spent < 1e7
    assert (result.allocation["marginal_equity"].abs() < 0.05).all()


def test_segments_nobody_to_spend_on_get_nothing():
    segs = [*portfolio(), Segment("Empty", 0, 0.5, 100.0)]
    result = optimize_retention_budget(segs, 10_000.0, horizon_years=H, discount_rate=D)
    row = result.allocation.filter(pl.col("segment") == "Empty")
    assert row["budget"][0] == 0.0
    assert row["marginal_equity"][0] == 0.0


def test_grid_programme_handles_non_concave_gains():
    # Segment 0 pays only with all 4 units; greedy would take segment 1's first unit.
    gains = np.array([[0, 0], [0, 3], [0, 4], [0, 5], [10, 5.5]], dtype=float)
    assert grid_allocation(gains).tolist() == [4, 0]
    assert grid_allocation(np.zeros((5, 2))).tolist() == [0, 0]


def test_optimiser_rejects_bad_arguments():
    with pytest.raises(ValueError, match="budget"):
        optimize_retention_budget(portfolio(), -1.0, horizon_years=H, discount_rate=D)
    with pytest.raises(ValueError, match="grid_steps"):
        optimize_retention_budget(portfolio(), 1.0, horizon_years=H, discount_rate=D, grid_steps=5)


# ----------------------------------------------------------------------------- break-even


def test_break_even_required_points_leave_equity_unchanged():
    segment = portfolio()[0]
    result = break_even(segment, 20_000.0, horizon_years=H, discount_rate=D)
    per_customer = 20_000.0 / 1100  # current customers plus year-1 acquisitions
    assert result.spend_per_customer == pytest.approx(per_customer)
    assert result.required_points is not None and result.required_points > 0
    paid = apply_scenario(
        [Segment("Gold", 1000, 0.80, 200.0, 100, 150.0, retention_spend=per_customer)],
        Levers(retention_points=result.required_points),
    )
    assert equity(paid) == pytest.approx(equity([segment]), rel=1e-7)
    assert result.pays_off == (result.retention_equity_gain > 0)


def test_break_even_acquisition_alternative_by_hand():
    segment = Segment("A", 1000, 0.8, 100.0, 0, 200.0)
    result = break_even(segment, 10_000.0, horizon_years=60, discount_rate=0.1)
    assert result.customers_bought_per_year == pytest.approx(50.0)
    assert result.new_customer_value == pytest.approx(100 * 0.8 / 0.3 - 200, rel=1e-4)
    bought = simulate(
        [Segment("A", 1000, 0.8, 100.0, 50, 200.0)], horizon_years=60, discount_rate=0.1
    ).customer_equity
    base = simulate([segment], horizon_years=60, discount_rate=0.1).customer_equity
    assert result.acquisition_equity_gain == pytest.approx(bought - base)
    assert bought > base
    annuity = sum(1.1**-t for t in range(60))  # paid at the start of every year
    assert result.acquisition_pv_spend == pytest.approx(10_000 * annuity)


def test_break_even_pv_of_retention_spend_by_hand():
    segment = Segment("A", 100, 0.5, 10.0, spend_half=1e12)  # spend buys nothing
    result = break_even(segment, 100.0, horizon_years=2, discount_rate=0.1)
    assert result.bought_points == pytest.approx(0.0, abs=1e-9)
    assert result.retention_pv_spend == pytest.approx(100 + 50 / 1.1)
    assert result.retention_equity_gain == pytest.approx(-(100 + 50 / 1.1))
    assert not result.pays_off
    assert result.customers_bought_per_year is None  # free acquisition
    assert result.better_use == "retention"


def test_break_even_impossible_when_margin_is_zero():
    result = break_even(Segment("A", 100, 0.5, 0.0), 100.0, horizon_years=5, discount_rate=0.1)
    assert result.required_points is None
    assert not result.pays_off


def test_break_even_table_has_one_row_per_segment():
    table = break_even_table(portfolio(), 20_000.0, horizon_years=H, discount_rate=D)
    assert table["segment"].to_list() == ["Gold", "Silver", "Bronze"]
    assert {"required_points", "bought_points", "pays_off", "better_use"} <= set(table.columns)
    assert table.filter(pl.col("segment") == "Bronze")["acquisition_equity_gain"][0] is None


# ----------------------------------------------------------------------------- sensitivity


def test_sensitivity_signs_are_right():
    frame = sensitivity(portfolio(), horizon_years=H, discount_rate=D)
    rows = {r["lever"]: r for r in frame.to_dicts()}
    up_is_good = ["retention_points", "margin_pct", "acquisition_volume_pct", "horizon_years"]
    up_is_bad = ["acquisition_cost_pct", "cost_to_serve_pct", "discount_rate"]
    assert set(rows) == set(up_is_good + up_is_bad)
    for lever in up_is_good:
        assert rows[lever]["delta_high"] > 0 > rows[lever]["delta_low"], lever
    for lever in up_is_bad:
        assert rows[lever]["delta_high"] < 0 < rows[lever]["delta_low"], lever
    assert frame["impact"].to_list() == sorted(frame["impact"].to_list(), reverse=True)
    assert set(frame["segment"]) == {ALL_SEGMENTS}


def test_sensitivity_values_by_hand():
    segs = portfolio()
    frame = sensitivity(segs, horizon_years=H, discount_rate=D)
    row = frame.filter(pl.col("lever") == "retention_points").row(0, named=True)
    base = equity(segs)
    assert row["baseline_equity"] == pytest.approx(base)
    assert row["equity_high"] == pytest.approx(
        equity(apply_scenario(segs, Levers(retention_points=1)))
    )
    assert (row["low_change"], row["high_change"], row["unit"]) == (-1.0, 1.0, "points")
    horizon = frame.filter(pl.col("lever") == "horizon_years").row(0, named=True)
    assert (horizon["low_change"], horizon["high_change"]) == (-1.0, 1.0)
    assert horizon["equity_high"] == pytest.approx(
        simulate(segs, horizon_years=H + 1, discount_rate=D).customer_equity
    )


def test_sensitivity_per_segment_and_inapplicable_levers():
    segs = [Segment("A", 100, 0.8, 10.0), Segment("B", 100, 0.6, 20.0)]
    frame = sensitivity(segs, horizon_years=5, discount_rate=0.1, per_segment=True)
    levers = set(frame["lever"])
    assert "acquisition_cost_pct" not in levers  # nobody is acquired
    assert "cost_to_serve_pct" not in levers
    retention = frame.filter(pl.col("lever") == "retention_points")
    assert set(retention["segment"]) == {"A", "B"}
    assert (retention["delta_high"] > 0).all()


def test_sensitivity_rejects_bad_sizes():
    with pytest.raises(ValueError, match="retention_points"):
        sensitivity(portfolio(), horizon_years=H, discount_rate=D, retention_points=0)
