"""The early-warning list: real CLVs (never under a cent), ranked by value at risk, and a CSV
a spreadsheet reads safely (words for headers, cents, no exponents, no formulas)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import customer, purchase

from crm_core.copy.lifecycle import warning_rows
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import load_snapshot
from crm_core.lifecycle.early_warning import MIN_CLV, early_warning, to_csv
from crm_core.lifecycle.report import lifecycle_report
from crm_core.metrics.compute import snapshot_metrics


def stage_rows(**columns) -> pl.DataFrame:
    n = len(columns["clv"])
    base = {
        "cid": pl.Series(range(n), dtype=pl.UInt32),
        "stage": ["declining"] * n,
        "overdue": [True] * n,
        "spend_drop": [False] * n,
        "low_p_alive": [False] * n,
        "last_purchase": [date(2026, 1, 1)] * n,
        "days_since_activity": [272] * n,
        "usual_gap_days": [None] * n,
        "revenue_ttm": [10.0] * n,
        "p_alive": [0.5] * n,
    }
    return pl.DataFrame(base | columns)


@pytest.fixture
def ledger(make_snapshot):
    """Six customers c0 .. c5 (cid 0 .. 5)."""
    people = [customer(f"c{i}", date(2026, 1, 1), channel="=cmd") for i in range(6)]
    return build_ledger(make_snapshot(people, [purchase("c0", date(2026, 1, 1), 5.0)]))


def test_ranked_by_clv_with_the_left_out_counted(ledger) -> None:
    rows = stage_rows(
        clv=[7.62e-21, 8767.569999999998, None, 0.004, 12.5, 0.01],
        stage=["declining"] * 5 + ["mature"],
    )
    w = early_warning(rows, ledger, with_clv=True)
    assert w.table["customer_id"].to_list() == ["c1", "c4"]
    assert w.table["value_at_risk"].to_list() == [8767.569999999998, 12.5]
    assert (w.declining, w.not_valued, w.below_cent, w.left_out) == (5, 1, 2, 3)
    assert w.table["acquisition_channel"].to_list() == ["=cmd", "=cmd"]
    exactly_a_cent = early_warning(stage_rows(clv=[MIN_CLV]), ledger, with_clv=True)
    assert exactly_a_cent.table.height == 1
    # without a valuation: every declining customer, by 12-month revenue
    plain = early_warning(
        stage_rows(clv=[None, None], revenue_ttm=[5.0, 9.0]), ledger, with_clv=False
    )
    assert plain.table["customer_id"].to_list() == ["c1", "c0"]
    assert plain.table["value_at_risk"].is_null().all()


def test_csv_has_words_cents_and_no_formulas() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["=HYPERLINK(1)", "+1", "-2", "@x", "plain"],
            "clv": [8767.569999999998, 7.62e-21, 1e12, 0.014, 3.0],
            "p_alive": [0.98766, 0.0, 1.0, 0.5, 0.25],
        }
    )
    text = to_csv(
        frame, {"customer_id": "Customer", "clv": "CLV (USD)", "p_alive": "P(alive) (%)"},
        percent=("p_alive",),
    ).decode()  # fmt: skip
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Customer", "CLV (USD)", "P(alive) (%)"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1)", "'+1", "'-2", "'@x", "plain"]
    assert [r[1] for r in rows[1:]] == ["8767.57", "0.00", "1000000000000.00", "0.01", "3.00"]
    assert [r[2] for r in rows[1:]] == ["98.77", "0.00", "100.00", "50.00", "25.00"]


@pytest.mark.parametrize("which", ["retail", "subscription"])
def test_sample_list(which: str, sample_dir: Path, subscription_dir: Path) -> None:
    """The rule-based list (the quarterly review's risk slide; the app's early-warning tab
    shows the churn model's call list, tested in test_app_lifecycle and test_churn_report)."""
    snap = load_snapshot(sample_dir if which == "retail" else subscription_dir)
    report = lifecycle_report(snapshot_metrics(snap))
    w = report.early_warning
    assert w.table.height > 0
    assert (w.table["clv"] >= MIN_CLV).all()
    risk = w.table["value_at_risk"].to_list()
    assert risk == sorted(risk, reverse=True)
    shown = warning_rows(report)
    assert shown.height == min(w.table.height, 500)
    assert shown["customer_id"].to_list() == w.table["customer_id"].head(shown.height).to_list()
    assert "cid" not in shown.columns and "stage" not in shown.columns
