"""The churn report on the samples: its numbers agree with the ledger, the registry, the
shared valuation and the What-if page; ``crm churn``; and the issue's targets on fresh
samples of several seeds."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.charts import churn as charts
from crm_core.churn.columns import F, R
from crm_core.churn.cuts import plan_cuts
from crm_core.churn.report import churn_report, fit_cuts
from crm_core.churn.value import best_contacts, savings_curve, tiers_now
from crm_core.cli import main
from crm_core.cli.churn import summary
from crm_core.clv.fitted import FittedModels
from crm_core.clv.valuation import value
from crm_core.copy import churn as copy_churn
from crm_core.copy.churn import whatif_query
from crm_core.data.ledger import L, build_ledger
from crm_core.data.snapshot import load_snapshot, write_snapshot
from crm_core.errors import NotEnoughData
from crm_core.formatting import fmt_money, fmt_pct
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import metric_value
from crm_core.sample import generate_sample
from crm_core.whatif.baseline import baseline_segments
from crm_core.whatif.controls import retention_value
from crm_core.whatif.labels import segment_labels

JSON_KEYS = {"roc_auc", "baseline_roc_auc", "pr_auc", "brier", "top_decile_lift",
             "customers_scored"}  # fmt: skip


def build(path: Path, horizon: int = 1):
    ledger = build_ledger(load_snapshot(path))
    fits = fit_cuts(ledger, plan_cuts(ledger, horizon).cuts)
    clv = value(fits[0]) if isinstance(fits[0], FittedModels) else None
    return ledger, churn_report(ledger, fits, clv, horizon_quarters=horizon)


@pytest.fixture(scope="module", params=["retail", "subscription"])
def built(request, sample_dir: Path, subscription_dir: Path):
    path = sample_dir if request.param == "retail" else subscription_dir
    return (path, *build(path))


def test_report_agrees_with_the_ledger_registry_and_valuation(built) -> None:
    path, ledger, report = built
    scored = report.scored
    active = metric_value(snapshot_metrics(load_snapshot(path)), "active_customers")
    assert report.customers_scored == active  # every active customer is scored
    clv = value(fit_cuts(ledger, (0,))[0]).table.select(C := "customer_id", "clv")
    joined = scored.join(clv, on=C, how="left", suffix="_shared")
    assert_frame_equal(joined.select(pl.col("clv_shared").alias(R.clv)), scored.select(R.clv))
    np.testing.assert_allclose(
        scored[R.value_at_risk].drop_nulls(), (scored[R.p_churn] * scored[R.clv]).drop_nulls()
    )
    chosen = R.p_model if report.ranked_by == "model" else R.p_baseline
    assert scored[R.p_churn].to_list() == scored[chosen].to_list()
    risk = scored[R.value_at_risk].drop_nulls().to_list()
    assert risk == sorted(risk, reverse=True) and report.listed == len(risk)
    assert report.call_list[R.rank].to_list() == list(range(1, report.call_list.height + 1))
    assert (
        report.call_list[R.customer_id].to_list()
        == scored[R.customer_id].head(report.call_list.height).to_list()
    )
    assert report.by_tier[R.value_at_risk].sum() == pytest.approx(report.value_at_risk)
    assert report.by_stage["customers"].sum() == report.customers_scored
    assert report.expected_churners == pytest.approx(scored[R.p_churn].sum())
    # the test's churners: active at the test date, not active by the rule at the as-of date
    h = report.plan.test
    at = ledger.panel.filter(pl.col(L.period).is_in([h, 0])).pivot(
        on=L.period, index=L.cid, values=L.active
    )
    lost = at.filter(pl.col(str(h)) & ~pl.col("0")).height
    assert report.validation.test_churners == lost
    assert report.validation.test_rows == at.filter(pl.col(str(h))).height
    assert 0 < report.validation.churn_rate < 0.5
    # the training rows: every customer active at the training cuts (no subsample here)
    active = ledger.panel.filter(pl.col(L.active))
    trained = report.validation.trained
    assert trained.rows_available == active.filter(pl.col(L.period).is_in(report.plan.train)).height
    assert (
        report.scorer.rows_available
        == active.filter(pl.col(L.period).is_in(report.plan.refit)).height
    )


def test_training_rows_are_a_subsample_when_capped(sample_dir: Path) -> None:
    ledger = build_ledger(load_snapshot(sample_dir))
    fits = fit_cuts(ledger, plan_cuts(ledger).cuts)
    report = churn_report(ledger, fits, value(fits[0]), max_train_rows=600)
    trained = report.validation.trained
    active = ledger.panel.filter(pl.col(L.active), pl.col(L.period).is_in(report.plan.train))
    assert trained.rows == 600 and trained.rows_available == active.height
    assert trained.subsampled and report.scorer.rows == 600


def test_same_data_same_numbers(sample_dir: Path) -> None:
    _, one = build(sample_dir)
    _, two = build(sample_dir)
    assert one.validation.model == two.validation.model
    assert one.validation.baseline == two.validation.baseline
    assert_frame_equal(one.scored, two.scored)


def test_tiers_are_the_whatif_pages(built) -> None:
    _, ledger, report = built
    theirs, _, _ = segment_labels(ledger, "tier", 0)
    theirs = dict(theirs.collect().iter_rows())
    mine = dict(tiers_now(ledger).collect().iter_rows())
    for cid, tier in report.scored.select(F.cid, R.tier).iter_rows():
        assert tier == theirs.get(cid, "C: other 70%").split(":")[0]
        assert mine.get(cid, "C") == tier


def test_whatif_link_moves_each_tiers_retention(built) -> None:
    _, ledger, _ = built
    baseline = baseline_segments(ledger)
    saved = {"A": 3.0, "B": 0.0, "C": 40.0}
    query, targets = whatif_query(baseline, saved, {"snapshot": "s", "as_of": "2026-09-30"})
    assert query["seg"] == "Profit tiers" and query["snapshot"] == "s"
    for segment in baseline.segments:
        code = baseline.codes[segment.name]
        new = min(segment.retention + saved[code] / segment.customers, 1.0)
        assert targets[code] == pytest.approx(new)
        assert float(query[f"r_{code}"]) == retention_value(new)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_and_scored_list(sample_dir: Path, tmp_path: Path, capsys) -> None:
    out_csv = tmp_path / "scored.csv"
    code, out, err = run(capsys, "churn", "--snapshot", str(sample_dir), "--json", "--out",
                         str(out_csv))  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= JSON_KEYS
    _, report = build(sample_dir)
    expected = json.loads(json.dumps(summary(report)))
    assert data.keys() == expected.keys()
    for key, want in expected.items():  # the CLV fit's optimiser ends ~1e-8 apart run to run
        assert data[key] == (pytest.approx(want, rel=1e-6) if isinstance(want, float) else want)
    rows = list(csv.reader(io.StringIO(out_csv.read_text())))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["Rank", "Customer", "Value at risk (USD)", "P(churn) (%)", "CLV (USD)"]
    assert len(body) == report.customers_scored
    money = re.compile(r"^-?\d+\.\d{2}$")
    assert all(money.match(r[2]) for r in body[: report.listed])
    assert body[0][1] == report.call_list[R.customer_id][0] and body[0][5]  # a reason
    out_pq = tmp_path / "scored.parquet"
    code, _, err = run(capsys, "churn", "--snapshot", str(sample_dir), "--out", str(out_pq))
    assert code == 0, err
    table = pl.read_parquet(out_pq)
    assert table.height == report.customers_scored
    assert {R.p_churn, R.value_at_risk, "reasons"} <= set(table.columns)
    code, _, err = run(capsys, "churn", "--snapshot", str(sample_dir), "--out", "x.txt")
    assert code == 2 and err.count("\n") == 1 and ".csv or .parquet" in err


def recent_only(source: Path, target: Path, since: str) -> Path:
    """A snapshot of ``source``'s customers acquired on or after ``since`` only: a short
    history (the sample always spans three years)."""
    snap = load_snapshot(source)
    day = date.fromisoformat(since)
    customers = snap.customers.filter(pl.col("acquired_on") >= day).collect()
    ids = customers["customer_id"].implode()
    keep = pl.col("customer_id").is_in(ids)
    return write_snapshot(
        target,
        manifest=snap.manifest,
        customers=customers,
        transactions=snap.transactions.filter(keep),
        service_costs=None if snap.service_costs is None else snap.service_costs.filter(keep),
    )


def test_cli_too_little_history_is_one_line(sample_dir: Path, tmp_path: Path, capsys) -> None:
    short = recent_only(sample_dir, tmp_path / "short", "2026-04-01")
    code, out, err = run(capsys, "churn", "--snapshot", str(short))
    assert code == 2 and not out and err.count("\n") == 1
    assert "history of more than 6 months" in err or "churners" in err
    tiny = generate_sample(tmp_path / "tiny", customers=40, seed=5)
    with pytest.raises(NotEnoughData, match="churners"):
        build(tiny)
    code, _, err = run(capsys, "churn", "--snapshot", str(tiny), "--horizon-quarters", "3")
    assert code == 2 and "invalid choice" in err


def test_a_feature_almost_no_training_row_has_is_no_crash(subscription_dir: Path) -> None:
    """The subscription sample at its end of 2024: a feature with values on (almost) no
    training row made sklearn's binning fail inside a calibration fold; it is a constant
    now, and the report is built."""
    snap = load_snapshot(subscription_dir).cut(date(2024, 12, 31))
    ledger = build_ledger(snap)
    fits = fit_cuts(ledger, plan_cuts(ledger, 1).cuts)
    report = churn_report(ledger, fits, None, horizon_quarters=1)
    assert report.customers_scored > 0
    assert 0.0 <= report.validation.model.roc_auc <= 1.0


# ----------------------------------------------------------------------------- the targets


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 23, 31])
def test_targets_on_fresh_retail_samples(seed: int, tmp_path: Path) -> None:
    """The issue's targets, next-quarter horizon: out-of-time ROC AUC >= 0.75 and top-decile
    lift >= 2. "Beats recency" cannot be met here: on the sample, next quarter's churners
    are exactly the customers whose one-year lapse runs out (``deadline_share`` = 1), so
    recency alone ranks them (almost) perfectly; the model matches it. Over a year, where
    recency is not perfect, the model does beat it."""
    path = generate_sample(tmp_path / "s", customers=2_000, seed=seed)
    _, report = build(path)
    v = report.validation
    assert v.model.roc_auc >= 0.75
    assert v.model.top_decile_lift >= 2
    assert v.model.roc_auc >= v.baseline.roc_auc - 0.001
    assert v.deadline_share == pytest.approx(1.0, abs=0.01)
    _, year = build(path, horizon=4)
    assert year.validation.model.roc_auc > year.validation.baseline.roc_auc
    assert year.ranked_by == "model"


@pytest.mark.slow
def test_targets_at_twenty_thousand_customers(tmp_path: Path) -> None:
    path = generate_sample(tmp_path / "s", customers=20_000, seed=5)
    _, report = build(path)
    v = report.validation
    assert v.model.roc_auc >= 0.75 and v.model.top_decile_lift >= 2
    assert v.model.roc_auc >= v.baseline.roc_auc - 0.001


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 23, 31])
def test_subscriptions_beat_recency_but_stay_weak(seed: int, tmp_path: Path) -> None:
    """Subscribers cancel at a rate drawn once per customer (sBG): only tenure and the
    acquisition channel reveal it, so no model reaches 0.75 (the best ranking by those two
    is about 0.63, a simulation in the churn docs); recency says nothing."""
    path = generate_sample(tmp_path / "s", customers=2_000, seed=seed, business_model="contractual")
    _, report = build(path)
    v = report.validation
    assert v.model.roc_auc > v.baseline.roc_auc
    assert 0.55 < v.model.roc_auc < 0.75


# ----------------------------------------------------------------------------- the figures


def test_figures_state_the_reports_numbers(built) -> None:
    _, _, report = built
    v = report.validation
    ranked = v.lift if report.ranked_by == "model" else v.baseline_lift
    lift = charts.lift_chart(report)
    assert lift.data[0].y == tuple(ranked["lift"].fill_nan(None).to_list())
    assert fmt_pct(float(ranked["capture"][0])) in lift.layout.title.text
    cal = charts.calibration_chart(report)
    gap = float((v.calibration["predicted"] - v.calibration["observed"]).abs().max())
    words = "a point" if gap * 100 < 1.5 else f"{gap * 100:.0f} points"
    assert f" {words} in " in cal.layout.title.text
    assert cal.layout.xaxis.range[1] >= float(v.calibration["predicted"].max())
    tiers = charts.value_at_risk_chart(report, R.tier, copy_churn.TIER_NAMES)
    assert sum(x or 0.0 for x in tiers.data[0].x) == pytest.approx(report.value_at_risk)
    ranked_list = report.scored.head(report.listed)
    best = best_contacts(ranked_list, 0.2, 5.0)
    curve = savings_curve(ranked_list, 0.2, 5.0)
    fig = charts.savings_chart(curve, 100, best, report.currency)
    net = dict(zip(curve["contacted"].to_list(), curve["net"].to_list(), strict=True))
    if best > 0:
        assert fmt_money(net[best], report.currency) in fig.layout.title.text
        assert net[best] == max(net.values())
    assert fig.layout.yaxis.tickprefix is None  # the net can be negative: no "$-1k" ticks
