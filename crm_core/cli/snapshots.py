"""``crm sample``, ``crm validate`` and ``crm build``: make, check and build snapshots."""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from crm_core.cli._args import iso_date, positive_int
from crm_core.data.build import build_snapshot
from crm_core.data.schema import BUSINESS_MODELS, NON_CONTRACTUAL, C
from crm_core.data.snapshot import Snapshot, load_snapshot, write_snapshot
from crm_core.formatting import fmt_money

ORDER = 10


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
        inputs=[args.transactions],
    )
    if ignored:
        rows = "row" if ignored == 1 else "rows"
        print(f"Ignored {ignored:,} {rows} dated after {args.as_of} (the as-of date).")
    print(_summary(load_snapshot(path)))
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``crm`` parser."""
    p = sub.add_parser(
        "sample",
        help="write the snapshot of a synthetic company",
        description="Write a deterministic synthetic company (about three "
        "years of history) as a snapshot folder.",
    )
    p.add_argument("--out", required=True, type=Path, help="snapshot folder to write")
    p.add_argument("--customers", type=positive_int, default=2000, help="customers (2000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (7)")
    p.add_argument("--as-of", type=iso_date, default=None, help="last day of history (2026-09-30)")
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
    p.add_argument("--as-of", required=True, type=iso_date, help="date the snapshot describes")
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
