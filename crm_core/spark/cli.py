"""The options of ``crm build --engine spark`` and the function that runs it.

:func:`add_arguments` adds the Spark-only options to a parser that already has the
``crm build`` ones (``--transactions``, ``--as-of``, ``--out``, ``--service-costs``,
``--prospects``, ``--company``, ``--currency``, ``--discount-rate``); :func:`run_build`
runs the build from the parsed arguments. ``python -m crm_core.spark build ...`` offers
the same command on its own (:func:`main`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from crm_core.data.schema import BUSINESS_MODELS, NON_CONTRACTUAL
from crm_core.errors import DataError

__all__ = ["add_arguments", "add_build_arguments", "main", "run_build"]

EXIT_USAGE = 2


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The Spark-only options of ``crm build`` (``--engine`` itself is the caller's)."""
    from crm_core.spark.store import DEFAULT_SAMPLE

    p.add_argument("--master", default=None, metavar="URL",
                   help="Spark master with --engine spark (default: $SPARK_MASTER, else "
                   "local[2])")  # fmt: skip
    p.add_argument("--customers", type=Path, default=None,
                   help="customers table (Parquet/CSV, snapshot columns) with --engine spark; "
                   "default: derived from the transactions")  # fmt: skip
    p.add_argument("--business-model", choices=BUSINESS_MODELS, default=NON_CONTRACTUAL,
                   help="with --engine spark: non_contractual (default) or contractual "
                   "(customers.churned_on ends contracts)")  # fmt: skip
    p.add_argument("--sample-customers", type=_count, default=DEFAULT_SAMPLE,
                   help=f"with --engine spark: customers whose raw rows the snapshot keeps "
                   f"for drill-downs ({DEFAULT_SAMPLE:,})")  # fmt: skip


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    """Every option of the stand-alone ``python -m crm_core.spark build``."""
    src = p.add_mutually_exclusive_group(required=True)
    what = "path or glob of Parquet or CSV files, one row per transaction"
    src.add_argument("--transactions", help=what)
    src.add_argument("--sql", metavar="URL", help="database, postgresql://user@host/db (JDBC)")
    p.add_argument("--table", help="table to read whole (with --sql)")
    p.add_argument("--query", help="query with the snapshot's column names (with --sql)")
    p.add_argument("--as-of", required=True, type=_iso_date, help="date the snapshot describes")
    p.add_argument("--out", required=True, type=Path, help="snapshot folder to write")
    p.add_argument("--service-costs", default=None, help="service contacts (optional)")
    p.add_argument("--prospects", default=None, help="prospects (optional)")
    p.add_argument("--company", default=None, help="company name (default: folder name)")
    p.add_argument("--currency", default="USD", help="ISO currency code (USD)")
    p.add_argument("--discount-rate", type=float, default=0.10, help="yearly rate (0.10)")
    add_arguments(p)


def run_build(args: argparse.Namespace) -> int:
    """Run ``crm build --engine spark`` from parsed arguments; prints a summary."""
    from crm_core.spark.build import build_snapshot_spark
    from crm_core.spark.jdbc import JdbcTable

    sql = getattr(args, "sql", None)
    if sql is not None:
        source: str | JdbcTable = JdbcTable(
            sql, table=getattr(args, "table", None), query=getattr(args, "query", None)
        )
    elif args.transactions is None:
        raise DataError("--engine spark needs --transactions PATH_OR_GLOB or --sql URL")
    else:
        source = str(args.transactions)
    report = build_snapshot_spark(
        source,
        args.as_of,
        args.out,
        customers=args.customers,
        service_costs=args.service_costs,
        prospects=args.prospects,
        master=args.master,
        company=args.company,
        currency=args.currency,
        business_model=args.business_model,
        discount_rate=args.discount_rate,
        sample_customers=args.sample_customers,
    )
    for table, n in report.ignored.items():
        if n:
            print(f"Ignored {n:,} {table} rows dated after {args.as_of} (the as-of date).")
    print(
        f"Built on Spark ({report.master}): {report.path}, {report.customers:,} customers, "
        f"{report.panel_rows:,} ledger rows; raw rows kept for {report.sampled_customers:,} "
        "sampled customers (drill-downs)."
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m crm_core.spark build ...``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m crm_core.spark",
                                     description="Build a snapshot on Apache Spark.")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    add_build_arguments(sub.add_parser("build", help="build a snapshot on Spark"))
    args = parser.parse_args(argv)
    try:
        return run_build(args)
    except (DataError, OSError) as exc:
        print(f"crm build: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
