"""The acquisition budget optimiser (crm_core.whatif.acquisition): the engine's equity of
the spend, a closed form at constant CAC, brute force, equal marginal returns; on the
sample, the channels' CACs are the Growth page's unit economics and the next dollar goes
where value to CAC is highest."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from crm_core.charts.whatif_spend import acquisition_figure
from crm_core.copy.whatif_tables import acquisition_table
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import load_snapshot
from crm_core.growth.economics import CAC, GROUP, unit_economics
from crm_core.metrics.compute import ledger_metrics
from crm_core.whatif.acquisition import optimize_acquisition_budget
from crm_core.whatif.engine import Segment, simulate
from crm_core.whatif.levers import Levers, Scenario
from crm_core.whatif.report import baseline_report
from crm_core.whatif.workbench import workbench

H, D = 5, 0.1


def channels() -> list[Segment]:
    return [
        Segment("Referral", 500, 0.8, 120.0, 100, 50.0),  # cheap and loyal
        Segment("Paid", 800, 0.6, 90.0, 300, 150.0),
        Segment("Nobody won", 200, 0.7, 80.0, 0, 0.0),
    ]


def spent(segment: Segment, extra: float, e: float) -> Segment:
    """The segment with ``extra`` more acquisition spend a year, by the module's formula."""
    today = segment.acquisition_per_year * segment.acquisition_cost
    won = segment.acquisition_per_year * (1 + extra / today) ** e
    return replace(segment, acquisition_per_year=won, acquisition_cost=(today + extra) / won)


def equity(segments) -> float:
    return simulate(segments, horizon_years=H, discount_rate=D).customer_equity


@pytest.mark.parametrize("e", [0.5, 0.7, 1.0])
def test_equity_is_the_engines_for_the_split(e) -> None:
    segs = channels()
    result = optimize_acquisition_budget(segs, 30_000.0, horizon_years=H, discount_rate=D,
                                         elasticity=e)  # fmt: skip
    budgets = result.allocation["budget"].to_list()
    assert result.spent == pytest.approx(sum(budgets)) and result.spent <= 30_000 * (1 + 1e-9)
    moved = [spent(s, b, e) if b > 0 else s for s, b in zip(segs, budgets, strict=True)]
    assert result.equity == pytest.approx(equity(moved))
    assert result.baseline_equity == pytest.approx(equity(segs))
    assert budgets[2] == 0.0  # no response curve without spend today
    assert result.allocation["first_dollar_equity"][2] is None


def test_constant_cac_puts_everything_in_the_best_channel_by_hand() -> None:
    """With elasticity 1 a dollar buys 1/CAC customers, each worth its value before CAC:
    equity is linear in the budget and the best channel takes all of it."""
    segs = channels()[:2]
    budget = 10_000.0
    result = optimize_acquisition_budget(segs, budget, horizon_years=H, discount_rate=D,
                                         elasticity=1.0)  # fmt: skip
    # value of one more customer a year, before CAC, and the discounted years of spend
    years = sum((1 + D) ** -t for t in range(H))
    per_customer = [
        (equity([replace(s, acquisition_per_year=s.acquisition_per_year + 1)]) - equity([s]))
        + s.acquisition_cost * years
        for s in segs
    ]
    per_dollar = [v / s.acquisition_cost - years for v, s in zip(per_customer, segs, strict=True)]
    best = int(np.argmax(per_dollar))
    assert result.allocation["budget"].to_list()[best] == pytest.approx(budget)
    assert result.gain == pytest.approx(per_dollar[best] * budget, rel=1e-6)
    first = result.allocation["first_dollar_equity"].to_list()
    assert first == pytest.approx(per_dollar, rel=1e-3)


def test_matches_brute_force_and_equalises_marginal_returns() -> None:
    segs = channels()[:2]
    budget = 60_000.0
    result = optimize_acquisition_budget(segs, budget, horizon_years=H, discount_rate=D,
                                         elasticity=0.5, grid_steps=400)  # fmt: skip
    splits = np.linspace(0, budget, 601)
    brute = max(equity([spent(segs[0], x, 0.5), spent(segs[1], budget - x, 0.5)]) for x in splits)
    assert result.equity >= brute - 1e-6 * abs(brute)
    frame = result.allocation
    if (frame["budget"] > 0).all():  # both get money: equal returns at the margin
        m = frame["marginal_equity"].to_list()
        assert m[0] == pytest.approx(m[1], rel=0.02, abs=0.02)


def test_spend_stops_where_the_next_dollar_stops_paying() -> None:
    loss = Segment("Costly", 500, 0.5, 10.0, 100, 400.0)  # a customer never pays back
    result = optimize_acquisition_budget([loss], 50_000.0, horizon_years=H, discount_rate=D)
    assert result.spent == 0.0 and result.gain == 0.0
    assert result.allocation["first_dollar_equity"][0] < 0


def test_rejects_bad_arguments() -> None:
    for kw in ({"elasticity": 0.0}, {"elasticity": 1.5}, {"grid_steps": 5}):
        with pytest.raises(ValueError):
            optimize_acquisition_budget(channels(), 1_000.0, horizon_years=H, discount_rate=D,
                                        **kw)  # fmt: skip
    with pytest.raises(ValueError, match="budget"):
        optimize_acquisition_budget(channels(), -1.0, horizon_years=H, discount_rate=D)


@pytest.mark.slow
def test_on_the_sample_the_channels_are_the_growth_pages_unit_economics(sample_dir) -> None:
    """The What-if baseline by channel has the Growth page's CAC of customers won in the last
    12 months; the first dollar goes to the channel whose value per dollar is highest, the
    page's workbench offers the split and its figure and table say so in words."""
    ledger = build_ledger(load_snapshot(sample_dir))
    metrics = ledger_metrics(ledger)
    base = baseline_report(metrics, by="channel").baseline
    economics = unit_economics(ledger, metrics.clv.get(0), "channel", won_months=12)
    cac = dict(zip(economics.table[GROUP], economics.table[CAC], strict=True))
    for s in base.segments:
        assert s.acquisition_cost == pytest.approx(cac[s.name])
    result = optimize_acquisition_budget(base.segments, 0.0, horizon_years=H, discount_rate=D)
    frame = result.allocation
    ratio = [v / c for v, c in zip(frame["new_customer_value"], frame["cac"], strict=True)]
    best = result.next_dollar()
    assert best is not None and best["segment"] == frame["segment"][int(np.argmax(ratio))]
    bench = workbench(base, _no_change(), horizon=H, rate=D, draws=0, budget=20_000.0)
    assert bench.acquisition is not None and bench.acquisition.spent > 0
    title = acquisition_figure(bench.acquisition).layout.title.text
    assert "a year on acquisition adds" in title
    table = acquisition_table(bench.acquisition, "USD")
    assert table["Channel"].to_list() == list(base.names)
    tiers = baseline_report(metrics, by="tier").baseline
    by_tier = workbench(tiers, _no_change(), horizon=H, rate=D, draws=0, budget=1.0)
    assert by_tier.acquisition is None


def _no_change() -> Scenario:
    return Scenario(name="Baseline", levers=Levers())
