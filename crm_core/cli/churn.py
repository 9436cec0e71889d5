"""``crm churn``: the churn model's out-of-time quality and today's scored customers."""

from __future__ import annotations

import argparse
from pathlib import Path

from crm_core.cli._args import iso_date

ORDER = 45

CALL_LIST_CSV_ROWS = 20_000  # rows of the CSV with reasons (the call list); the rest none


OUT_SUFFIXES = (".csv", ".parquet")


def out_file(text: str) -> Path:
    """``--out``: a path ending in .csv or .parquet (checked before any training)."""
    path = Path(text)
    if path.suffix.lower() not in OUT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"must end in .csv or .parquet, got {path.name!r}")
    return path


def summary(report) -> dict:
    """The JSON object of ``crm churn --json`` (the page shows the same numbers)."""
    v, plan = report.validation, report.plan
    ranked = v.model if report.ranked_by == "model" else v.baseline
    return {
        "as_of": report.as_of.isoformat(),
        "currency": report.currency,
        "contractual": report.contractual,
        "horizon_quarters": plan.horizon_quarters,
        "test_date": plan.ends[plan.test].isoformat(),
        "training_dates": [plan.ends[k].isoformat() for k in plan.train],
        "roc_auc": v.model.roc_auc,
        "baseline_roc_auc": v.baseline.roc_auc,
        "logistic_roc_auc": v.logistic.roc_auc,
        "pr_auc": v.model.pr_auc,
        "baseline_pr_auc": v.baseline.pr_auc,
        "brier": v.model.brier,
        "baseline_brier": v.baseline.brier,
        "top_decile_lift": v.model.top_decile_lift,
        "baseline_top_decile_lift": v.baseline.top_decile_lift,
        "ranked_by": report.ranked_by,
        "ranked_top_decile_capture": ranked.top_decile_capture,
        "test_rows": v.test_rows,
        "test_churners": v.test_churners,
        "training_rows": v.trained.rows,
        "training_rows_available": v.trained.rows_available,
        "deadline_share": v.deadline_share,
        "customers_scored": report.customers_scored,
        "customers_listed": report.listed,
        "expected_churners": report.expected_churners,
        "value_at_risk": report.value_at_risk,
        "model_note": report.model_note,
        "valuation_note": report.valuation_note,
    }


def _write(report, out: Path) -> None:
    import polars as pl

    from crm_core.churn.columns import F, R
    from crm_core.churn.report import call_list_with_reasons
    from crm_core.copy.churn import call_csv, call_rows

    listed = call_list_with_reasons(report, CALL_LIST_CSV_ROWS)
    rest = report.scored.slice(listed.height).with_row_index(R.rank, offset=listed.height + 1)
    rest = rest.with_columns(pl.when(pl.col(R.value_at_risk).is_not_null()).then(pl.col(R.rank)))
    rows = pl.concat([listed, rest], how="diagonal_relaxed")
    suffix = out.suffix.lower()
    if suffix == ".csv":
        out.write_bytes(call_csv(report, rows))
    elif suffix == ".parquet":
        words = call_rows(report, rows)["reasons"]
        rows.select(rest.columns).drop(F.cid).with_columns(words).write_parquet(out)
    else:  # out_file() admits nothing else
        raise ValueError(f"--out must end in .csv or .parquet, got {out.name!r}")


def _cmd_churn(args: argparse.Namespace) -> int:
    import json

    from crm_core.churn.cuts import plan_cuts
    from crm_core.churn.report import churn_report, fit_cuts
    from crm_core.clv.fitted import FittedModels
    from crm_core.clv.valuation import value
    from crm_core.data.ledger import build_ledger
    from crm_core.data.snapshot import load_snapshot
    from crm_core.errors import DataError
    from crm_core.formatting import fmt_count, fmt_money

    snap = load_snapshot(args.snapshot)
    if args.as_of is not None:
        snap = snap.cut(args.as_of)
    ledger = build_ledger(snap)
    plan = plan_cuts(ledger, args.horizon_quarters)
    fits = fit_cuts(ledger, plan.cuts)
    now = fits[0]
    clv, note = None, None
    if isinstance(now, FittedModels):
        try:
            clv = value(now)
        except DataError as exc:
            note = str(exc)
    else:
        note = str(now)
    report = churn_report(
        ledger, fits, clv, horizon_quarters=args.horizon_quarters, valuation_note=note
    )
    if args.out is not None:
        _write(report, args.out)
    data = summary(report)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        v = report.validation
        print(f"Out-of-time ROC AUC: model {v.model.roc_auc:.4f}, recency {v.baseline.roc_auc:.4f}")
        print(f"Top-decile lift: {v.model.top_decile_lift:.2f}x; ranked by {report.ranked_by}")
        print(f"Customers scored: {fmt_count(report.customers_scored, compact=False)}")
        print(f"Value at risk: {fmt_money(report.value_at_risk, report.currency)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``crm`` parser."""
    p = sub.add_parser(
        "churn",
        help="validate the churn model out of time and score today's customers",
        description="Train the churn early-warning model on earlier quarter ends, test it on "
        "a later one, and score every active customer (P(churn), value at risk, reasons).",
    )
    p.add_argument("--snapshot", required=True, type=Path, help="snapshot folder")
    p.add_argument("--as-of", type=iso_date, default=None, help="an earlier date (YYYY-MM-DD)")
    p.add_argument(
        "--horizon-quarters",
        type=int,
        choices=(1, 2, 4),
        default=1,
        help="churn within this many quarters (default 1)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--out", type=out_file, default=None, help="write the scored customers (.csv or .parquet)"
    )
    p.set_defaults(func=_cmd_churn)
