"""The ``crm`` command: make, check and build snapshots, and export model results.

Every user error (bad data, bad arguments) ends with exit status 2 and one line on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

import polars as pl

from crm_core.data.build import build_snapshot
from crm_core.data.schema import BUSINESS_MODELS, NON_CONTRACTUAL, C
from crm_core.data.snapshot import Snapshot, load_snapshot, write_snapshot
from crm_core.errors import SnapshotError
from crm_core.formatting import fmt_kind, fmt_money

__all__ = ["build_snapshot", "main"]  # build_snapshot: crm_core.data.build

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# ----------------------------------------------------------------------------- commands


def _cmd_sample(args: argparse.Namespace) -> int:
    from crm_core.sample import generate_sample

    path = generate_sample(
        args.out,
        customers=args.customers,
        seed=args.seed,
        as_of=args.as_of,
        business_model=args.business_model,
        company=args.company,
    )
    print(_summary(load_snapshot(path)))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    print(_summary(load_snapshot(args.snapshot)))
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    snap, ignored = build_snapshot(
        args.transactions,
        as_of=args.as_of,
        customer_col=args.customer_col,
        date_col=args.date_col,
        amount_col=args.amount_col,
        cost_col=args.cost_col,
        channel_col=args.channel_col,
        region_col=args.region_col,
        date_format=args.date_format,
        company=args.company or Path(args.out).name,
        currency=args.currency,
        business_model=NON_CONTRACTUAL,
        discount_rate=args.discount_rate,
    )
    path = write_snapshot(
        args.out,
        manifest=snap.manifest,
        customers=snap.customers,
        transactions=snap.transactions,
    )
    if ignored:
        rows = "row" if ignored == 1 else "rows"
        print(f"Ignored {ignored:,} {rows} dated after {args.as_of} (the as-of date).")
    print(_summary(load_snapshot(path)))
    return 0


def _cmd_clv(args: argparse.Namespace) -> int:
    from crm_core.clv import customer_clv
    from crm_core.clv.valuation import (
        CLV,
        EXPECTED_PURCHASES,
        EXPECTED_SPEND,
        MODEL,
        P_ALIVE,
    )

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in {".parquet", ".csv"}:
        raise ValueError(f"--out must end in .parquet or .csv, got {out.name!r}")
    snap = load_snapshot(args.snapshot)
    result = customer_clv(snap, horizon_years=args.horizon_years, discount_rate=args.discount_rate)
    table = result.table.select(
        C.customer_id, CLV, P_ALIVE, EXPECTED_PURCHASES, EXPECTED_SPEND, MODEL
    ).with_columns(pl.lit(result.method).alias("method"))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if suffix == ".csv":
            table.write_csv(tmp)
        else:
            table.write_parquet(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    currency = snap.manifest.currency
    print(
        f"Wrote the CLV of {table.height:,} customers to {out} ({result.method}); "
        f"customer equity {fmt_money(result.customer_equity, currency)}, "
        f"average {fmt_money(result.average_clv, currency)}."
    )
    return 0


def _cmd_metrics(args: argparse.Namespace) -> int:
    import json

    from crm_core.metrics.compute import snapshot_metrics
    from crm_core.metrics.registry import METRICS, kpis

    snap = load_snapshot(args.snapshot)
    if args.as_of is not None:
        snap = snap.cut(args.as_of)
    inputs = snapshot_metrics(snap)
    cards = kpis(inputs, tuple(METRICS), history=2)
    result = inputs.clv.get(0)
    report = {
        "company": snap.manifest.company,
        "as_of": snap.as_of.isoformat(),
        "currency": snap.currency,
        "business_model": snap.manifest.business_model,
        "clv_method": result.method if result is not None else None,
        "clv_note": inputs.clv_note,
        "metrics": [
            {
                "key": k.key,
                "label": k.label,
                "unit": k.kind,
                "definition": METRICS[k.key].definition,
                "value": k.value,
                "previous_quarter": k.previous,
                "year_ago": k.year_ago,
            }
            for k in cards
        ],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for k in cards:
            print(f"{k.label}: {fmt_kind(k.value, k.kind, snap.currency)}")
    return 0


def _summary(snap: Snapshot) -> str:
    """A few lines describing a valid snapshot."""
    counts = {
        name: getattr(snap, name).select(pl.len()).collect().item()
        for name in ("customers", "transactions", "service_costs", "prospects")
    }
    tx = snap.transactions.select(
        pl.col(C.date).min().alias("first"),
        pl.col(C.date).max().alias("last"),
        pl.col(C.amount).sum().alias("revenue"),
    ).collect()
    first, last, revenue = tx.row(0)
    man = snap.manifest
    where = f" at {snap.path}" if snap.path else ""
    lines = [
        f"Valid snapshot{where}: {man.company}, as of {man.as_of}, "
        f"{man.business_model.replace('_', '-')}, amounts in {man.currency}.",
        f"  customers {counts['customers']:,} · transactions {counts['transactions']:,} · "
        f"service contacts {counts['service_costs']:,} · prospects {counts['prospects']:,}",
    ]
    if first is not None:
        lines.append(
            f"  transactions from {first} to {last}, net revenue "
            f"{fmt_money(revenue, man.currency, compact=False)}"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- parser


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crm",
        description="Customer lifetime value and CRM economics: snapshots and models.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "sample",
        help="write the snapshot of a synthetic company",
        description="Write a deterministic synthetic company (about three "
        "years of history) as a snapshot folder.",
    )
    p.add_argument("--out", required=True, type=Path, help="snapshot folder to write")
    p.add_argument("--customers", type=_positive_int, default=2000, help="customers (2000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (7)")
    p.add_argument("--as-of", type=_date, default=None, help="last day of history (2026-09-30)")
    p.add_argument(
        "--business-model",
        choices=BUSINESS_MODELS,
        default=NON_CONTRACTUAL,
        help="retail (non_contractual, default) or subscriptions (contractual)",
    )
    p.add_argument("--company", default=None, help="company name")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "validate",
        help="check a snapshot folder and summarise it",
        description="Check every rule of the snapshot format; print a summary "
        "or the first problem found.",
    )
    p.add_argument("snapshot", type=Path, help="snapshot folder")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "build",
        help="build a snapshot from a CSV or Parquet export",
        description="Build a snapshot from a flat export of transactions "
        "(one row per purchase or refund). The customers table is derived "
        "from it.",
    )
    p.add_argument("--transactions", required=True, type=Path, help="CSV or Parquet file")
    p.add_argument("--as-of", required=True, type=_date, help="date the snapshot describes")
    p.add_argument("--out", required=True, type=Path, help="snapshot folder to write")
    p.add_argument(
        "--customer-id-col",
        dest="customer_col",
        default=C.customer_id,
        help="customer id column (customer_id)",
    )
    p.add_argument("--date-col", default=C.date, help="date column (date)")
    p.add_argument("--amount-col", default=C.amount, help="amount column (amount)")
    p.add_argument("--cost-col", default=None, help="direct cost column (none: cost 0)")
    p.add_argument("--channel-col", default=None, help="sales channel column (optional)")
    p.add_argument("--region-col", default=None, help="region column (optional)")
    p.add_argument(
        "--date-format",
        default=None,
        help="strftime format of the dates, e.g. %%d/%%m/%%Y (default: ISO)",
    )
    p.add_argument("--company", default=None, help="company name (default: folder name)")
    p.add_argument("--currency", default="USD", help="ISO currency code (USD)")
    p.add_argument("--discount-rate", type=float, default=0.10, help="yearly rate (0.10)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser(
        "clv",
        help="export per-customer CLV to Parquet or CSV",
        description="Fit the CLV model of the snapshot (BG/NBD + Gamma-Gamma for retail, sBG "
        "for subscriptions) and write each customer's CLV, P(alive), expected purchases and "
        "expected spend.",
    )
    p.add_argument("--snapshot", required=True, type=Path, help="snapshot folder")
    p.add_argument("--out", required=True, type=Path, help="output file (.parquet or .csv)")
    p.add_argument(
        "--horizon-years",
        type=_positive_float,
        default=3.0,
        help="years of future purchases that count (3)",
    )
    p.add_argument(
        "--discount-rate",
        type=float,
        default=None,
        help="yearly discount rate (default: the snapshot's manifest)",
    )
    p.set_defaults(func=_cmd_clv)

    p = sub.add_parser(
        "metrics",
        help="print every company metric (the numbers the pages show)",
        description="Every metric of the dashboard at the snapshot's date (or an earlier "
        "one), with the previous quarter's and a year ago's value and its definition.",
    )
    p.add_argument("--snapshot", required=True, type=Path, help="snapshot folder")
    p.add_argument("--as-of", type=_date, default=None, help="an earlier date (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_metrics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``crm`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SnapshotError, ValueError, OSError) as exc:
        print(f"crm {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"crm {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
