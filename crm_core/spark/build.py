"""``crm build --engine spark``: a snapshot whose ledger and model inputs Spark computed.

:func:`build_snapshot_spark` reads the transactions (a path or glob of Parquet or CSV
files, or a database table through JDBC) and optionally the customers, service contacts
and prospects, checks them (:mod:`crm_core.spark.read`), builds the customer ledger
(:mod:`crm_core.spark.panel`) and the grouped model inputs (:mod:`crm_core.spark.inputs`)
on Spark, and writes a snapshot folder holding:

* ``customers.parquet`` (every customer) and ``prospects.parquet`` (when given);
* ``transactions.parquet`` and ``service_costs.parquet`` of a bounded, deterministic sample
  of customers only (``sample_customers``, by hash of the id), for drill-downs;
* the ledger (:data:`crm_core.data.ledger.LEDGER_FILES`), which
  :func:`crm_core.data.ledger.build_ledger` reads instead of rebuilding it;
* the model inputs grouped by distinct values with counts
  (:data:`crm_core.spark.store.GROUPED_FILES`), for
  :func:`crm_core.clv.fitted.fit_grouped`;
* ``manifest.json`` with the key :data:`crm_core.data.ledger.STORED_LEDGER` (the ledger's
  date, customer counts and rules).

The folder is written beside the target and swapped in atomically
(:mod:`crm_core.data.writes`), like every snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from crm_core.data import writes
from crm_core.data.ledger import LEDGER_FILES, STORED_LEDGER, rules_record
from crm_core.data.ledger_schema import MOVEMENT_DTYPE, PERIOD_MONTHS, STAGE_DTYPE, L
from crm_core.data.manifest import Manifest
from crm_core.data.periods import period_grid, periods_back_to
from crm_core.data.rules import DEFAULT_ACTIVITY, DEFAULT_STAGES
from crm_core.data.schema import (
    CUSTOMERS,
    MANIFEST_FILE,
    NON_CONTRACTUAL,
    PROSPECTS,
    SERVICE_COSTS,
    TRANSACTIONS,
    C,
)
from crm_core.data.snapshot import SNAPSHOT_FILES, load_snapshot
from crm_core.spark.inputs import bgnbd_groups, contract_groups
from crm_core.spark.jdbc import JdbcTable
from crm_core.spark.panel import customer_frame, first_day, panel
from crm_core.spark.read import read_inputs
from crm_core.spark.session import spark_session
from crm_core.spark.store import DEFAULT_SAMPLE, GROUPED_FILES

__all__ = ["DEFAULT_SAMPLE", "SparkBuild", "build_snapshot_spark"]

OWNED = frozenset({*SNAPSHOT_FILES, *LEDGER_FILES.values(), *GROUPED_FILES.values()})

_I32, _F64, _BOOL = pl.Int32(), pl.Float64(), pl.Boolean()
_PANEL_TYPES: dict[str, pl.DataType] = {
    L.cid: pl.UInt32(), L.period: _I32, L.revenue: _F64, L.direct_cost: _F64,
    L.purchases: _I32, L.transactions: _I32, L.purchase_days: _I32,
    L.purchase_day_revenue: _F64, L.service_cost: _F64, L.contacts: _I32,
    L.cum_purchase_days: _I32, L.acquired: _BOOL, L.won: _BOOL, L.tenure_days: _I32,
    L.recent_revenue: _F64, L.days_since_activity: _I32, L.usual_gap_days: _F64,
    L.previous_revenue: _F64, L.last_purchase: pl.Date(), L.lapse_after_days: _F64,
    L.overdue: _BOOL, L.active: _BOOL, L.spend_drop: _BOOL, L.spend_rising: _BOOL,
    L.movement: MOVEMENT_DTYPE, L.stage: STAGE_DTYPE,
}  # fmt: skip
_CUSTOMER_TYPES: dict[str, pl.DataType] = {
    L.cid: pl.UInt32(), **CUSTOMERS.columns, L.acquired_period: _I32,
    L.first_purchase: pl.Date(), L.first_purchase_amount: _F64,
}  # fmt: skip


@dataclass(frozen=True)
class SparkBuild:
    """What a Spark build wrote.

    Attributes
    ----------
    path
        The snapshot folder.
    customers, sampled_customers, panel_rows
        Customers in the snapshot, those whose raw rows it keeps, ledger rows.
    ignored
        Rows left out per table because they are dated after the as-of date.
    master
        The Spark master used.
    """

    path: Path
    customers: int
    sampled_customers: int
    panel_rows: int
    master: str
    ignored: dict[str, int] = field(default_factory=dict)


def _single_file(folder: Path, target: Path, types: dict[str, pl.DataType], *sort: str) -> int:
    """Spark's part files in ``folder`` as one Parquet file with the polars types."""
    parts = sorted(folder.glob("*.parquet"))
    schema = {n: t for n, t in types.items()}
    lf = (
        pl.scan_parquet(parts).select(pl.col(n).cast(t) for n, t in schema.items())
        if parts
        else pl.LazyFrame(schema=schema)
    )
    if sort:
        lf = lf.sort(list(sort), descending=[s == L.period for s in sort], maintain_order=True)
    frame = lf.collect()
    frame.write_parquet(target, compression="zstd", statistics=True)
    return frame.height


def _write(frame: DataFrame, folder: Path) -> Path:
    frame.write.mode("overwrite").parquet(str(folder))
    return folder


def build_snapshot_spark(
    transactions: str | os.PathLike[str] | JdbcTable,
    as_of: date,
    out: str | os.PathLike[str],
    *,
    customers: str | os.PathLike[str] | None = None,
    service_costs: str | os.PathLike[str] | None = None,
    prospects: str | os.PathLike[str] | None = None,
    master: str | None = None,
    company: str | None = None,
    currency: str = "USD",
    business_model: str = NON_CONTRACTUAL,
    discount_rate: float = 0.10,
    sample_customers: int = DEFAULT_SAMPLE,
    spark: Any = None,
) -> SparkBuild:
    """Build a snapshot on Spark (module docstring).

    Parameters
    ----------
    transactions
        Path or glob of Parquet or CSV files, or a database table or query
        (:class:`~crm_core.spark.jdbc.JdbcTable`): ``customer_id, date, amount`` and
        optionally ``cost`` (0), ``channel`` ("unknown"), and without ``customers`` also
        ``region`` and ``acquisition_cost``.
    as_of
        The date the snapshot describes; later rows are left out (and counted).
    out
        Snapshot folder to write (absent, empty, or an earlier snapshot).
    customers, service_costs, prospects
        Optional paths or globs of those tables (snapshot columns); without ``customers``
        the customers are derived from the transactions as ``crm build`` derives them.
    master
        Spark master URL (default ``$SPARK_MASTER``, else ``local[2]``); ignored when
        ``spark`` (a running session) is given.
    company, currency, business_model, discount_rate
        The manifest (company defaults to the folder name).
    sample_customers
        Customers whose raw transactions and contacts are kept (``>= 0``).

    Raises
    ------
    SnapshotError
        For unreadable inputs, a broken rule (file, column, rows and examples), or a
        target folder holding something other than a snapshot.
    DataError
        If PySpark or Java is missing.
    """
    if sample_customers < 0:
        raise ValueError(f"sample_customers must be >= 0, got {sample_customers}")
    target = Path(os.path.abspath(os.fspath(out)))
    man = Manifest.from_dict(
        {
            "schema_version": 1,
            "as_of": as_of.isoformat(),
            "company": company or target.name,
            "currency": currency,
            "business_model": business_model,
            "discount_rate": discount_rate,
        }
    )

    def check() -> None:
        writes.check_folder_target(target, marker=MANIFEST_FILE, owned=OWNED)

    check()
    session = spark if spark is not None else spark_session(master)
    paths = {k: None if v is None else os.fspath(v) for k, v in
             {"customers": customers, "service_costs": service_costs}.items()}  # fmt: skip
    source = transactions if isinstance(transactions, JdbcTable) else os.fspath(transactions)
    inputs = read_inputs(session, source, as_of, **paths)
    months = PERIOD_MONTHS[man.contractual]
    first = first_day(inputs.customers, inputs.transactions, inputs.service_costs) or as_of
    grid = period_grid(as_of, periods_back_to(as_of, first, months), months)
    cust = customer_frame(inputs.customers, grid)
    ledger_customers, ledger_panel = panel(
        cust, inputs.transactions, inputs.service_costs, grid, DEFAULT_ACTIVITY,
        DEFAULT_STAGES, contractual=man.contractual, period_months=months,
    )  # fmt: skip
    writes.recover(target)
    tmp = writes.temp_folder(target)
    work = tmp.path / "_spark"
    try:
        counts = _write_all(session, work, tmp.path, inputs, cust, ledger_customers,
                            ledger_panel, grid, as_of, man.contractual, sample_customers,
                            None if prospects is None else os.fspath(prospects))  # fmt: skip
        shutil.rmtree(work)
        meta = {
            "as_of": as_of.isoformat(),
            "customers": counts["customers"],
            "sampled_customers": counts["sampled"],
            "engine": "spark",
            **rules_record(DEFAULT_ACTIVITY, DEFAULT_STAGES),
        }
        manifest = {**man.to_dict(), STORED_LEDGER: meta}
        (tmp.path / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        writes.fsync_tree(tmp.path)
        load_snapshot(tmp.path)  # the tables obey the snapshot format
        writes.replace_folder(tmp, check)
    except BaseException:
        tmp.close()
        shutil.rmtree(tmp.path, ignore_errors=True)
        raise
    finally:
        cust.unpersist()
    return SparkBuild(
        path=target,
        customers=counts["customers"],
        sampled_customers=counts["sampled"],
        panel_rows=counts["panel"],
        master=session.sparkContext.master,
        ignored=dict(inputs.ignored),
    )


def _write_all(
    session: Any,
    work: Path,
    folder: Path,
    inputs: Any,
    cust: DataFrame,
    ledger_customers: DataFrame,
    ledger_panel: DataFrame,
    grid: pl.DataFrame,
    as_of: date,
    contractual: bool,
    sample_customers: int,
    prospects: str | None,
) -> dict[str, int]:
    """Run the Spark jobs, then gather each result into one Parquet file of ``folder``."""
    counts: dict[str, int] = {}
    # no global sort on Spark: the driver sorts while gathering the part files
    lp = _write(ledger_panel, work / "panel")
    counts["panel"] = _single_file(lp, folder / LEDGER_FILES["panel"], _PANEL_TYPES, L.cid,
                                   L.period)  # fmt: skip
    lc = _write(ledger_customers, work / "ledger_customers")
    counts["customers"] = _single_file(lc, folder / LEDGER_FILES["customers"], _CUSTOMER_TYPES,
                                       L.cid)  # fmt: skip
    grid.write_parquet(folder / LEDGER_FILES["grid"])
    stored = pl.scan_parquet(folder / LEDGER_FILES["customers"])
    stored.select(*CUSTOMERS.columns).sink_parquet(folder / CUSTOMERS.file, compression="zstd")
    # grouped model inputs at the as-of date, from the panel just written
    spark_customers = session.read.parquet(str(lc))
    spark_panel = session.read.parquet(str(lp))
    if contractual:
        groups = {"contracts": contract_groups(inputs.customers, as_of)}
    else:
        bg, spend = bgnbd_groups(spark_customers, spark_panel, as_of)
        groups = {"bgnbd": bg, "spend": spend}
    for name, frame in groups.items():
        part = _write(frame, work / name)
        pl.read_parquet(sorted(part.glob("*.parquet"))).write_parquet(folder / GROUPED_FILES[name])
    # the raw rows of a bounded sample of customers, for drill-downs
    sample = (
        cust.select(C.customer_id)
        .orderBy(F.xxhash64(C.customer_id), C.customer_id)
        .limit(sample_customers)
    )
    for spec, frame in ((TRANSACTIONS, inputs.transactions), (SERVICE_COSTS, inputs.service_costs)):
        rows = _write(
            frame.join(sample, on=C.customer_id, how="left_semi"),
            work / spec.name,
        )
        _single_file(rows, folder / spec.file, dict(spec.columns), C.customer_id, C.date)
    counts["sampled"] = min(sample_customers, counts["customers"])
    if prospects is not None:
        _prospects(session, prospects, as_of, folder, work)
    return counts


def _prospects(session: Any, path: str, as_of: date, folder: Path, work: Path) -> None:
    """Prospects first contacted by ``as_of``; conversions to unknown customers refused by
    the snapshot check when the folder is read back."""
    from crm_core.spark.read import conform_table

    frame = conform_table(session, path, PROSPECTS)
    known = session.read.parquet(str(work / "ledger_customers")).select(
        F.col(C.customer_id).alias(C.converted_customer_id), F.lit(True).alias("_known")
    )
    kept = (
        frame.filter(F.col(C.first_contact) <= F.lit(as_of))
        .join(known, on=C.converted_customer_id, how="left")
        .withColumn(  # converted after the as-of date: not yet converted (as Snapshot.cut)
            C.converted_customer_id,
            F.when(F.col("_known"), F.col(C.converted_customer_id)),
        )
        .drop("_known")
    )
    part = _write(kept, work / "prospects")
    _single_file(part, folder / PROSPECTS.file, dict(PROSPECTS.columns))
