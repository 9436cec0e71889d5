"""Property tests: tier shares sum to 100%, the whale curve ends at total profit, and the
tier table, top share and whale statistics agree for any profits and cut-offs."""

from __future__ import annotations

import itertools
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.metrics.profit import PROFIT, top_share
from crm_core.segments.tiers import TIERS, assign_tiers, tier_table
from crm_core.segments.whale import thin_curve, whale_curve, whale_stats

COST_COLUMNS = ("revenue", "direct_cost", "service_cost", "acquisition_cost_charged")

# Profits in cents-like steps with frequent ties and sign changes.
profit_values = st.one_of(
    st.integers(-500, 2000).map(lambda c: c / 4),
    st.sampled_from([0.0, 5.0, -5.0, 100.0]),
)
profit_lists = st.lists(profit_values, min_size=0, max_size=60)


@st.composite
def cutoff_triples(draw: st.DrawFn) -> tuple[float, float, float]:
    a = draw(st.integers(1, 100))
    b = draw(st.integers(0, 100 - a))
    return a / 100, b / 100, (100 - a - b) / 100


def customers(profits: list[float]) -> pl.LazyFrame:
    """Per-customer frame with revenue/costs consistent with the profits."""
    n = len(profits)
    revenue = [max(p, 0.0) + 10.0 for p in profits]
    direct = [r - p for r, p in zip(revenue, profits, strict=True)]  # >= 10 - ... any sign ok
    return pl.LazyFrame(
        {
            "customer_id": [f"k{i:03d}" for i in range(n)],
            "revenue": revenue,
            "direct_cost": direct,
            "service_cost": [0.0] * n,
            "acquisition_cost_charged": [0.0] * n,
            "total_cost": direct,
            PROFIT: profits,
        },
        schema_overrides={c: pl.Float64 for c in (*COST_COLUMNS, "total_cost", PROFIT)},
    )


@settings(max_examples=150, deadline=None)
@given(profits=profit_lists, cutoffs=cutoff_triples())
def test_tier_shares_sum_to_one(profits: list[float], cutoffs) -> None:
    ranked = assign_tiers(customers(profits), cutoffs)
    table = tier_table(ranked).collect()
    assert table["tier"].cast(pl.String).to_list() == list(TIERS)
    assert table["customers"].sum() == len(profits)
    if profits:
        assert table["customer_share"].sum() == pytest.approx(1.0)
        assert table["revenue_share"].sum() == pytest.approx(1.0)
    total = math.fsum(profits)
    if profits and total > 0:
        assert table["profit_share"].sum() == pytest.approx(1.0)
        assert table["profit"].sum() == pytest.approx(total, abs=1e-6)
    else:
        assert table["profit_share"].null_count() == 3


@settings(max_examples=150, deadline=None)
@given(profits=profit_lists, cutoffs=cutoff_triples())
def test_tiers_are_ordered_and_sized(profits: list[float], cutoffs) -> None:
    ranked = assign_tiers(customers(profits), cutoffs).collect()
    n = len(profits)
    assert ranked["profit_rank"].to_list() == list(range(1, n + 1))
    assert ranked[PROFIT].is_sorted(descending=True)
    counts = [int((ranked["tier"] == t).sum()) for t in TIERS]
    if n:
        assert counts[0] >= 1  # tier A is never empty
        # each boundary is the nearest whole customer to the exact share (or the minimum 1)
        top_a, top_ab = counts[0], counts[0] + counts[1]
        assert abs(top_a - cutoffs[0] * n) <= 0.5 + 1e-9 or top_a == 1
        assert abs(top_ab - (cutoffs[0] + cutoffs[1]) * n) <= 0.5 + 1e-9 or top_ab == 1
    # tiers form contiguous blocks A.., B.., C..
    assert ranked["tier"].to_physical().is_sorted()
    # no customer of a lower tier earns more than one of a higher tier
    for upper, lower in (("A", "B"), ("B", "C")):
        up = ranked.filter(pl.col("tier") == upper)[PROFIT]
        low = ranked.filter(pl.col("tier") == lower)[PROFIT]
        if up.len() and low.len():
            assert up.min() >= low.max()


@settings(max_examples=150, deadline=None)
@given(profits=profit_lists)
def test_whale_curve_ends_at_total_profit(profits: list[float]) -> None:
    curve = whale_curve(assign_tiers(customers(profits))).collect()
    total = math.fsum(profits)
    assert curve.height == len(profits) + 1
    assert curve["cumulative_profit"][0] == 0.0
    assert curve["cumulative_profit"][-1] == pytest.approx(total, abs=1e-6)
    assert curve["customer_share"][-1] == (1.0 if profits else 0.0)
    if profits and total > 0:
        assert curve["profit_share"][-1] == 1.0
        stats = whale_stats(pl.Series(profits))
        assert curve["profit_share"].max() == pytest.approx(stats.peak_share)
        assert stats.peak_share - stats.given_back_share == pytest.approx(1.0)
        assert stats.peak_share >= 1.0 - 1e-12
    else:
        assert curve["profit_share"].null_count() == curve.height
    # the curve rises while profits are positive, then never rises again
    cum = curve["cumulative_profit"].to_list()
    steps = [b - a for a, b in itertools.pairwise(cum)]
    first_drop = next((i for i, s in enumerate(steps) if s < 0), len(steps))
    assert all(s <= 1e-9 for s in steps[first_drop:])


@settings(max_examples=150, deadline=None)
@given(profits=profit_lists, cutoffs=cutoff_triples())
def test_top_share_is_tier_a_share(profits: list[float], cutoffs) -> None:
    table = tier_table(assign_tiers(customers(profits), cutoffs)).collect()
    a_share = table["profit_share"][0]
    got = top_share(profits, cutoffs[0])
    if a_share is None:
        assert got is None
    else:
        assert got == pytest.approx(a_share)


@settings(max_examples=100, deadline=None)
@given(profits=profit_lists)
def test_top_share_does_not_depend_on_order(profits: list[float]) -> None:
    forward = top_share(profits, 0.1)
    backward = top_share(list(reversed(profits)), 0.1)
    assert forward == backward or (forward is not None and forward == pytest.approx(backward))


@settings(max_examples=100, deadline=None)
@given(profits=profit_lists, points=st.integers(2, 30))
def test_thinned_curve_keeps_its_ends_and_marks(profits: list[float], points: int) -> None:
    ranked = assign_tiers(customers(profits))
    n = len(profits)
    stats = whale_stats(pl.Series(profits, dtype=pl.Float64))
    keep = (stats.profitable_customers,)
    thin = thin_curve(whale_curve(ranked), n, keep, points).collect()
    ranks = thin["profit_rank"].to_list()
    assert ranks == sorted(ranks)
    assert ranks[0] == 0 and ranks[-1] == n
    assert stats.profitable_customers in ranks
    assert len(ranks) <= max(points, 2) + len(keep) + 2 or len(ranks) == n + 1
