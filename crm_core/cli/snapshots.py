"""``crm sample``, ``crm validate`` and ``crm build``: make, check and build snapshots."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

import polars as pl

from crm_core.cli._args import iso_date, positive_int
from crm_core.data.mapping import TRANSACTION_ROLES
from crm_core.data.schema import BUSINESS_MODELS, NON_CONTRACTUAL, C
from crm_core.data.snapshot import Snapshot, load_snapshot
from crm_core.errors import SnapshotError
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
    if args.engine == "spark":
        from crm_core.cli._spark import run_build

        return run_build(args)
    from crm_core.data.build import check_as_of, import_snapshot
    from crm_core.data.exports import ReadOptions

    check_as_of(args.as_of, "--as-of")
    if args.sql is not None:
        from crm_core.data.sql import SqlSource

        if (args.query is None) == (args.table is None):
            raise SnapshotError("--sql", "needs exactly one of --query or --table")
        source = SqlSource(args.sql, query=args.query, table=args.table)
    else:
        if args.query is not None or args.table is not None:
            raise SnapshotError("--query/--table", "read from a database: pass --sql URL too")
        source = args.transactions
    mapping = {role.key: getattr(args, _dest(role.option)) for role in TRANSACTION_ROLES}
    options = ReadOptions(
        delimiter=args.delimiter,
        decimal=args.decimal,
        date_format=args.date_format,
        encoding=args.encoding,
        sheet=args.sheet,
    )
    bar = ProgressBar(sys.stderr)
    try:
        report = import_snapshot(
            args.out,
            transactions=source,
            as_of=args.as_of,
            mapping={k: c for k, c in mapping.items() if c is not None},
            options=options,
            service_costs=args.service_costs,
            prospects=args.prospects,
            company=args.company or Path(args.out).name,
            currency=args.currency,
            discount_rate=args.discount_rate,
            progress=bar,
        )
    finally:
        bar.close()
    for note in report.notes:
        print(f"Read {note}.")
    if report.ignored:
        rows = "row" if report.ignored == 1 else "rows"
        print(f"Ignored {report.ignored:,} {rows} dated after {args.as_of} (the as-of date).")
    print(_summary(load_snapshot(report.path)))
    return 0


def _dest(option: str) -> str:
    return option.removeprefix("--").replace("-", "_").replace("customer_id_col", "customer_col")


class ProgressBar:
    """A one-line progress bar on a terminal, shown once a step has taken ``delay`` s.

    Called as ``bar(what, done, total)``; nothing is written to a stream that is not a
    terminal, so logs and captured output stay one line per message.
    """

    def __init__(self, stream: TextIO, *, delay: float = 2.0, clock=time.monotonic) -> None:
        self.stream, self.delay, self.clock = stream, delay, clock
        self.start = clock()
        self.width = 0

    def __call__(self, what: str, done: int, total: int | None) -> None:
        elapsed = self.clock() - self.start
        if elapsed < self.delay or not self.stream.isatty():
            return
        if total:
            filled = min(30, round(30 * done / total))
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done / total:4.0%} "
            count = f"{done:,}/{total:,} rows"
        else:
            bar, count = "", f"{done:,} rows" if done else ""
        line = f"{what} {bar}{count} {elapsed:,.0f} s".replace("  ", " ")
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = max(self.width, len(line))

    def close(self) -> None:
        """Clear the bar (the next message starts on a clean line)."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


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
        help="build a snapshot from an export (CSV, TSV, Parquet, Excel) or PostgreSQL",
        description="Build a snapshot from a flat export of transactions (one row per "
        "purchase or refund), read exactly: delimiter, decimal mark, date format and "
        "encoding are detected (or given below); a value that cannot be read exactly is "
        "refused, naming the file, column, rows and the option to pass. The customers table "
        "is derived from it. --out must be absent, empty or an existing snapshot.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--transactions", type=Path, help="CSV, TSV, Parquet or .xlsx file")
    src.add_argument(
        "--sql",
        metavar="URL",
        help="PostgreSQL connection, e.g. postgresql://user@host/db (password from the URL, "
        "PGPASSWORD or ~/.pgpass)",
    )
    p.add_argument("--query", help="SQL query giving one row per transaction (with --sql)")
    p.add_argument("--table", help="table (or schema.table) to read whole (with --sql)")
    p.add_argument("--as-of", required=True, type=iso_date, help="date the snapshot describes")
    p.add_argument("--out", required=True, type=Path, help="snapshot folder to write")
    for role in TRANSACTION_ROLES:
        default = f"{role.key}, or a column with a usual name" if role.required else "none"
        p.add_argument(role.option, dest=_dest(role.option), default=None,
                       help=f"{role.label} column ({default})")  # fmt: skip
    p.add_argument("--service-costs", type=Path, default=None,
                   help="optional export of service contacts (customer_id, date, touchpoint, "
                   "cost)")  # fmt: skip
    p.add_argument("--prospects", type=Path, default=None,
                   help="optional export of prospects (prospect_id, first_contact, channel, "
                   "converted_customer_id)")  # fmt: skip
    p.add_argument("--delimiter", help="field separator: , ; tab | (default: detected)")
    p.add_argument("--decimal", choices=(".", ","), help="decimal mark (default: detected)")
    p.add_argument(
        "--date-format",
        default=None,
        help="strftime format of the dates, e.g. %%d/%%m/%%Y (default: detected)",
    )
    p.add_argument("--encoding", help="text encoding, e.g. cp1252 (default: UTF-8/UTF-16)")
    p.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    p.add_argument("--company", default=None, help="company name (default: folder name)")
    p.add_argument("--currency", default="USD", help="ISO currency code (USD)")
    p.add_argument("--discount-rate", type=float, default=0.10, help="yearly rate (0.10)")
    p.add_argument(
        "--engine",
        choices=("polars", "spark"),
        default="polars",
        help="polars on this machine (default) or Apache Spark (pip install '.[spark]', Java): "
        "the snapshot then carries the precomputed ledger and grouped model inputs, and the "
        "raw rows of a sample of customers only",
    )
    from crm_core.cli._spark import add_arguments as add_spark_arguments

    add_spark_arguments(p)  # --master, --customers, --business-model, --sample-customers
    p.set_defaults(func=_cmd_build)
