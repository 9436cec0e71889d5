"""The review's value-at-risk slides read the churn model (the Churn risk page's report),
checked against the churn report built here directly; a snapshot whose history is too
short for the model gets one slide saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.churn.columns import R
from crm_core.churn.cuts import plan_cuts
from crm_core.churn.report import ChurnReport, churn_report, fit_cuts
from crm_core.clv.valuation import value
from crm_core.copy import review_risk as words
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import load_snapshot
from crm_core.formatting import fmt_money, fmt_pct
from crm_core.report.inputs import snapshot_review_inputs
from crm_core.report.sections import build_deck
from crm_core.report.slides import Deck


def _direct(folder: Path) -> ChurnReport:
    """The churn report as ``crm churn`` builds it: one fit per cut, the as-of valuation."""
    ledger = build_ledger(load_snapshot(folder))
    fits = fit_cuts(ledger, plan_cuts(ledger, 1).cuts)
    return churn_report(ledger, fits, value(fits[0]), horizon_quarters=1)


@pytest.fixture(scope="module", params=["retail", "subscription"])
def case(request, sample_dir: Path, subscription_dir: Path) -> tuple[Deck, ChurnReport]:
    folder = sample_dir if request.param == "retail" else subscription_dir
    return build_deck(snapshot_review_inputs(load_snapshot(folder))), _direct(folder)


@pytest.mark.slow
def test_risk_slides_show_the_churn_reports_numbers(case) -> None:
    deck, report = case
    overview, calls = deck.section_slides("risk")
    cur = report.currency
    assert report.listed > words.RISK_ROWS
    assert fmt_money(report.value_at_risk, cur) in overview.title
    top = report.call_list.head(words.RISK_ROWS)
    # the 10% of customers with a value at risk who have the most of it, by brute force
    values = sorted(report.scored[R.value_at_risk].drop_nulls().to_list(), reverse=True)
    riskiest = -(-len(values) // 10)
    share = sum(values[:riskiest]) / sum(values)
    assert overview.title.endswith(f"most at risk hold {fmt_pct(share)}")
    assert overview.title.startswith(f"{fmt_money(report.value_at_risk, cur)} of CLV is at risk")
    # the tier table: one row per tier, values summing to the total, shares to 100%
    tiers = report.by_tier
    assert [r[1] for r in overview.table.rows] == [f"{n:,}" for n in tiers["customers"]]
    assert [r[3] for r in overview.table.rows] == [
        fmt_money(round(v), cur) for v in tiers[R.value_at_risk]
    ]
    assert abs(float(tiers[R.value_at_risk].sum()) - report.value_at_risk) < 1e-6
    assert len(overview.figures) == 1
    # the call list: the report's first customers, in its order, with its values
    assert [r[1] for r in calls.table.rows] == top[R.customer_id].to_list()
    assert [r[7] for r in calls.table.rows] == [fmt_money(v, cur) for v in top[R.value_at_risk]]
    assert [r[5] for r in calls.table.rows] == [fmt_pct(p) for p in top[R.p_churn]]
    assert fmt_money(float(top[R.value_at_risk].sum()), cur) in calls.title
    assert all(r[-1] for r in calls.table.rows)  # every customer has a reason in words


@pytest.mark.slow
def test_too_short_a_history_gets_a_slide_saying_why(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir).cut("2024-12-31")
    inputs = snapshot_review_inputs(snap)
    assert not isinstance(inputs.churn, ChurnReport)
    (slide,) = build_deck(inputs).section_slides("risk")
    assert slide.title == words.RISK_MISSING_TITLE
    assert slide.subtitle == str(inputs.churn) and "churners" in slide.subtitle
    assert slide.bullets == (words.RISK_MISSING_HINT,) and not slide.figures
