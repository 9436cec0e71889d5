"""``crm clv``: per-customer CLV to Parquet or CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from crm_core.cli._args import positive_float
from crm_core.data.schema import C
from crm_core.data.snapshot import load_snapshot
from crm_core.formatting import fmt_money, formula_safe

ORDER = 20


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
        if suffix == ".csv":  # text cells a spreadsheet would run as formulas are quoted
            table.with_columns(
                formula_safe(C.customer_id), formula_safe(MODEL), formula_safe("method")
            ).write_csv(tmp)
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``crm`` parser."""
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
        type=positive_float,
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
