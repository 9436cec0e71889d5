"""``crm build --engine spark``: its Spark-only options and the function that runs it.

:func:`add_arguments` adds the Spark-only options to the ``crm build`` parser (which has
``--transactions``, ``--sql``, ``--as-of``, ``--out``, ``--service-costs``, ``--prospects``,
``--company``, ``--currency``, ``--discount-rate``); :func:`run_build` runs the build from
the parsed arguments. A module of :mod:`crm_core.cli` without commands of its own (its
name starts with ``_``): PySpark is imported only when a build runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crm_core.cli._args import whole_number
from crm_core.data.schema import BUSINESS_MODELS, NON_CONTRACTUAL
from crm_core.errors import DataError

__all__ = ["add_arguments", "run_build"]


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
    p.add_argument("--sample-customers", type=whole_number, default=DEFAULT_SAMPLE,
                   help=f"with --engine spark: customers whose raw rows the snapshot keeps "
                   f"for drill-downs ({DEFAULT_SAMPLE:,})")  # fmt: skip


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
