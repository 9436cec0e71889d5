"""The executive summary: which moves are reported, in what order, and in which words."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.copy.review import change_text, finding_sentence, judgement, quarter_name
from crm_core.metrics.registry import METRICS, Kpi
from crm_core.report.summary import LEAST, MATERIAL, MOST, findings, move_score, rank


def card(key: str, value, previous=None, year_ago=None) -> Kpi:
    m = METRICS[key]
    return Kpi(key, m.label, value, previous, m.kind, m.definition, m.higher_is_better,
               history=(year_ago, None, None, previous, value), year_ago=year_ago)  # fmt: skip


def test_move_score_is_the_relative_change() -> None:
    assert move_score(110.0, 100.0) == pytest.approx(0.10)
    assert move_score(0.57, 0.60) == pytest.approx(0.05)  # 3 points of 60%
    assert move_score(5.0, 0.0) is None and move_score(None, 1.0) is None


def test_rank_orders_by_the_larger_move_and_keeps_one_of_retention_and_churn() -> None:
    cards = [
        card("revenue_ttm", 120.0, 100.0, 110.0),  # +20% on the quarter
        card("active_customers", 1000.0, 990.0, 800.0),  # +25% on the year
        card("retention", 0.50, 0.60, 0.60),  # -16.7%
        card("churn", 0.50, 0.45, 0.40),  # +25% on the year: the same fact as retention
        card("acquisition_cost", 10.0, None, None),  # nothing to compare with
        card("stage_declining", 4.0, 3.0, 1.0),  # +300%, but four customers: noise
    ]
    ranked = rank(cards, "USD")
    assert [f.kpi.key for f in ranked] == ["active_customers", "churn", "revenue_ttm"]
    assert [f.against for f in ranked] == ["year", "year", "quarter"]
    assert [f.good for f in ranked] == [True, False, True]  # more churn is bad news


def test_sentences_say_the_move_and_the_other_comparison() -> None:
    revenue = card("revenue_ttm", 120_000.0, 100_000.0, 110_000.0)
    assert finding_sentence(revenue, "quarter", "USD") == (
        "Revenue (12 months) up 20.0% on last quarter, to $120.0k (up 9.1% on a year ago)"
    )
    retention = card("retention", 0.55, 0.60, None)
    assert finding_sentence(retention, "quarter", "EUR") == (
        "Annual retention down 5.0 points on last quarter, to 55.0%"
    )
    declining = card("stage_declining", 120.0, 100.0, None)
    assert finding_sentence(declining, "quarter", "USD").startswith("Declining customers up")
    assert judgement(declining, 100.0) == "worse"


@pytest.mark.parametrize(
    ("key", "value", "then", "text"),
    [
        ("revenue_ttm", 110.0, 100.0, "+10.0%"),
        ("retention", 0.58, 0.60, "-2.0 pts"),
        ("ltv_cac", 3.5, 3.0, "+0.5x"),
        ("payback_months", 1.81, 1.84, "0.0 months"),  # rounds to nothing: no sign
        ("revenue_ttm", 110.0, None, "n/a"),
    ],
)
def test_change_text(key, value, then, text) -> None:
    assert change_text(card(key, value), then, "USD") == text


def test_quarter_names() -> None:
    assert quarter_name(date(2026, 9, 30)) == "Q3 2026"
    assert quarter_name(date(2026, 12, 31)) == "Q4 2026"
    assert quarter_name(date(2026, 8, 15)) == "Q3 2026 to date"
    assert quarter_name(date(2026, 3, 31)) == "Q1 2026"


values = st.one_of(st.none(), st.floats(0.01, 1e6, allow_nan=False))


@given(st.lists(st.tuples(st.sampled_from(sorted(METRICS)), values, values, values), max_size=12))
def test_rank_is_sorted_and_has_one_per_family(rows) -> None:
    cards = [card(k, v if v is not None else 1.0, p, y) for k, v, p, y in rows]
    ranked = rank(cards, "USD")
    scores = [f.score for f in ranked]
    assert scores == sorted(scores, reverse=True)
    keys = [f.kpi.key for f in ranked]
    assert not ({"retention", "churn"} <= set(keys))
    for f in ranked:
        then = f.kpi.previous if f.against == "quarter" else f.kpi.year_ago
        assert f.score == pytest.approx(move_score(f.kpi.value, then))


def test_findings_of_the_sample_are_three_to_five_material_moves(sample_dir) -> None:
    from crm_core.data.snapshot import load_snapshot
    from crm_core.metrics.compute import snapshot_metrics
    from crm_core.metrics.registry import metric_value

    inputs = snapshot_metrics(load_snapshot(sample_dir))
    found = findings(inputs, "USD")
    assert LEAST <= len(found) <= MOST
    assert all(f.score >= MATERIAL for f in found)
    for f in found:  # the registry's own values, compared by hand
        now = metric_value(inputs, f.kpi.key, 0)
        then = metric_value(inputs, f.kpi.key, 1 if f.against == "quarter" else 4)
        assert f.kpi.value == now and f.score == pytest.approx(abs(now / then - 1))
