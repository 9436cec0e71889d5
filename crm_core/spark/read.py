"""Read and check the input tables on Spark with the rules of the snapshot format.

Each table is read from a path or glob (Parquet, or CSV/TSV with a header line), its
columns conformed to :mod:`crm_core.data.schema` (text, dates ``YYYY-MM-DD``, numbers) and
checked with the rules the polars path applies (:mod:`crm_core.data.validate`): missing
values, NaN or infinite amounts, negative costs, placeholder dates before 1900, duplicate
ids, rows of unknown customers. Every rule is counted in one aggregate pass per table;
a failing rule raises :class:`~crm_core.errors.SnapshotError` naming the file, the column,
the number of bad rows and up to five examples. Rows dated after the as-of date are left
out and counted, as ``crm build`` does.

When no customers table is given it is derived from the transactions as the polars build
derives it (:func:`crm_core.data.derive.customers_and_transactions`): acquired on the first
transaction, through its channel, in the region of the first row with one, at the
acquisition cost given on the rows (one per customer; 0 when none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from crm_core.data.schema import CUSTOMERS, SERVICE_COSTS, TRANSACTIONS, C, TableSpec
from crm_core.data.validate import DATE_FLOOR
from crm_core.errors import SnapshotError
from crm_core.spark.jdbc import JdbcTable, read_jdbc

__all__ = ["Inputs", "conform_table", "read_inputs"]

_EXAMPLES = 5
_ORDER = "_order"  # read order of a row (ties on one date keep the file's order)
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")

# optional transaction columns, with the value the polars build gives when one is absent
_TX_DEFAULTS: Mapping[str, float | str] = {C.cost: 0.0, C.channel: "unknown"}
_TX_EXTRA = {C.region: T.StringType(), C.acquisition_cost: T.DoubleType()}


@dataclass(frozen=True)
class Inputs:
    """The checked tables of a build, cut at the as-of date (Spark DataFrames).

    Attributes
    ----------
    customers, transactions, service_costs
        Conformed to the snapshot schema (``service_costs`` may be empty).
    ignored
        Rows left out because they are dated after the as-of date, per table.
    """

    customers: DataFrame
    transactions: DataFrame
    service_costs: DataFrame
    ignored: Mapping[str, int]


def _open(spark: SparkSession, path: str | JdbcTable) -> DataFrame:
    if isinstance(path, JdbcTable):
        return read_jdbc(spark, path).withColumn(_ORDER, F.monotonically_increasing_id())
    lower = path.lower()
    try:
        if lower.endswith(_TEXT_SUFFIXES):
            sep = "\t" if ".tsv" in lower else ","
            frame = spark.read.option("header", True).option("sep", sep).csv(path)
        else:
            frame = spark.read.parquet(path)
        frame.schema  # noqa: B018 - resolves the files now, so a bad path fails here
    except Exception as exc:
        text = " ".join(str(exc).split())
        if "PATH_NOT_FOUND" in text or "does not exist" in text:
            raise SnapshotError(path, "not found (no file matches this path or glob)") from None
        raise SnapshotError(path, f"cannot be read: {text[:160]}") from None
    return frame.withColumn(_ORDER, F.monotonically_increasing_id())


_SPARK_TYPES = {pl.String: T.StringType(), pl.Date: T.DateType(), pl.Float64: T.DoubleType()}
_WORDS = {pl.String: "text", pl.Date: "dates (YYYY-MM-DD)", pl.Float64: "numbers"}


def _conform(
    frame: DataFrame,
    columns: Mapping[str, pl.DataType],
    file: str,
    *,
    nullable: tuple[str, ...] = (),
    defaults: Mapping[str, float | str] | None = None,
) -> DataFrame:
    """The declared columns in their types; a value that does not convert is refused."""
    defaults = defaults or {}
    have = set(frame.columns)
    out: list[Column] = []
    unreadable: list[tuple[str, Column, str]] = []
    for name, dtype in columns.items():
        target = _SPARK_TYPES[type(dtype)]
        if name not in have:
            if name in defaults:
                out.append(F.lit(defaults[name]).cast(target).alias(name))
                continue
            if name in nullable:
                out.append(F.lit(None).cast(target).alias(name))
                continue
            found = ", ".join(c for c in frame.columns if c != _ORDER) or "no columns"
            raise SnapshotError(file, f"required column is missing (found: {found})", column=name)
        source = frame.schema[name].dataType
        col = F.col(name)
        if isinstance(target, T.DateType) and isinstance(source, T.TimestampType):
            converted = F.to_date(col)
        elif source == target:
            converted = col
        elif isinstance(target, T.StringType) and not isinstance(source, T.StringType):
            raise SnapshotError(
                file, f"has type {source.simpleString()}, expected text", column=name
            )
        else:
            converted = col.try_cast(target)
            unreadable.append((name, col.isNotNull() & converted.isNull(), _WORDS[type(dtype)]))
        out.append(converted.alias(name))
    if defaults.get(C.channel) is not None and C.channel in have:
        out = [c if n != C.channel else F.coalesce(c, F.lit("unknown")).alias(C.channel)
               for n, c in zip(columns, out, strict=True)]  # fmt: skip
    for name, bad, words in unreadable:
        _fail_if(frame, file, name, f"has values that are not {words}", bad, F.col(name))
    return frame.select(*out, _ORDER)


def _fail_if(
    frame: DataFrame, file: str, column: str, problem: str, bad: Column, show: Column
) -> None:
    n = frame.filter(bad).count()
    if n:
        examples = [
            r[0] for r in frame.filter(bad).select(show).distinct().limit(_EXAMPLES).collect()
        ]
        raise SnapshotError(
            file, problem, column=column, rows=n, examples=sorted(examples, key=str)
        )


def _check(frame: DataFrame, spec: TableSpec, file: str, as_of: date) -> None:
    """The rules of ``spec`` (one counting pass; examples only for a failing rule)."""
    rules: list[tuple[str, str, Column, Column]] = []
    row = F.concat_ws(", ", *(F.col(c).cast("string") for c in spec.columns))
    for name in spec.not_null:
        rules.append((name, "has missing (null) values", F.col(name).isNull(), row))
    for name in spec.finite:
        inf = F.lit(float("inf"))
        rules.append((name, "has NaN or infinite values",
                      F.isnan(name) | (F.abs(F.col(name)) == inf), F.col(name)))  # fmt: skip
    for name in spec.non_negative:
        rules.append((name, "has negative values", F.col(name) < 0, F.col(name)))
    for name, dtype in spec.columns.items():
        if dtype == pl.Date:
            problem = f"has dates before {DATE_FLOOR} (placeholders such as 0001-01-01?)"
            rules.append((name, problem, F.col(name) < F.lit(DATE_FLOOR), F.col(name)))
    del as_of  # rows after the as-of date are cut (and counted), not refused
    counts = frame.select(
        *(
            F.sum(F.when(bad, 1).otherwise(0)).alias(f"r{i}")
            for i, (_, _, bad, _) in enumerate(rules)
        )
    ).first()
    for i, (name, problem, bad, show) in enumerate(rules):
        if counts is not None and counts[f"r{i}"]:
            _fail_if(frame, file, name, problem, bad, show)
    if spec.key is not None:
        dupes = frame.groupBy(spec.key).count().filter(F.col("count") > 1)
        _fail_if(dupes, file, spec.key, "has duplicate ids", F.lit(True), F.col(spec.key))


def _references(frame: DataFrame, customers: DataFrame, file: str) -> None:
    unknown = frame.join(customers.select(C.customer_id), on=C.customer_id, how="left_anti")
    _fail_if(unknown, file, C.customer_id, f"refers to customers not in {CUSTOMERS.file}",
             F.lit(True), F.col(C.customer_id))  # fmt: skip


def _derive_customers(tx: DataFrame, file: str) -> DataFrame:
    """The customers table of a transactions export (module docstring)."""
    conflicts = (
        tx.filter(F.col(C.acquisition_cost).isNotNull())
        .groupBy(C.customer_id)
        .agg(F.countDistinct(C.acquisition_cost).alias("n"))
        .filter(F.col("n") > 1)
    )
    _fail_if(conflicts, file, C.acquisition_cost, "has different acquisition costs for one "
             "customer (give one per customer)", F.lit(True), F.col(C.customer_id))  # fmt: skip
    first = Window.partitionBy(C.customer_id).orderBy(C.date, _ORDER)
    ordered = tx.withColumn("_rank", F.row_number().over(first))
    firsts = ordered.filter(F.col("_rank") == 1).select(
        C.customer_id,
        F.col(C.date).alias(C.acquired_on),
        F.col(C.channel).alias(C.acquisition_channel),
    )
    region = (
        ordered.filter(F.col(C.region).isNotNull())
        .groupBy(C.customer_id)
        .agg(F.min_by(C.region, F.struct(C.date, _ORDER)).alias(C.region))
    )
    cost = (
        tx.filter(F.col(C.acquisition_cost).isNotNull())
        .groupBy(C.customer_id)
        .agg(F.first(C.acquisition_cost).alias(C.acquisition_cost))
    )
    return (
        firsts.join(region, on=C.customer_id, how="left")
        .join(cost, on=C.customer_id, how="left")
        .select(
            C.customer_id,
            C.acquired_on,
            C.acquisition_channel,
            F.coalesce(C.acquisition_cost, F.lit(0.0)).alias(C.acquisition_cost),
            F.coalesce(C.region, F.lit("Unknown")).alias(C.region),
            F.lit(None).cast(T.DateType()).alias(C.churned_on),
            F.lit(0).cast("long").alias(_ORDER),
        )
    )


def read_inputs(
    spark: SparkSession,
    transactions: str | JdbcTable,
    as_of: date,
    *,
    customers: str | None = None,
    service_costs: str | None = None,
) -> Inputs:
    """Read, conform and check the tables of a build, cut at ``as_of`` (module docstring).

    Raises
    ------
    SnapshotError
        For a missing file or column, a value that does not convert, or a broken rule.
    """
    tx_cols = dict(TRANSACTIONS.columns)
    if customers is None:
        tx_cols |= {C.region: pl.String(), C.acquisition_cost: pl.Float64()}
    label = transactions.name if isinstance(transactions, JdbcTable) else transactions
    tx = _conform(
        _open(spark, transactions),
        tx_cols,
        label,
        nullable=tuple(_TX_EXTRA) if customers is None else (),
        defaults=_TX_DEFAULTS,
    )
    _check(tx, TRANSACTIONS, label, as_of)
    ignored = {TRANSACTIONS.name: tx.filter(F.col(C.date) > F.lit(as_of)).count()}
    tx = tx.filter(F.col(C.date) <= F.lit(as_of))
    if customers is None:
        cust = _derive_customers(tx, label)
        tx = tx.drop(C.region, C.acquisition_cost)
    else:
        cust = _conform(_open(spark, customers), CUSTOMERS.columns, customers,
                        nullable=CUSTOMERS.nullable)  # fmt: skip
        _check(cust, CUSTOMERS, customers, as_of)
        _references(tx, cust, label)
        late = F.col(C.acquired_on) > F.lit(as_of)
        ignored[CUSTOMERS.name] = cust.filter(late).count()
        cust = cust.filter(~late).withColumn(
            C.churned_on,
            F.when(F.col(C.churned_on) <= F.lit(as_of), F.col(C.churned_on)),
        )
        bad = F.col(C.churned_on) < F.col(C.acquired_on)
        _fail_if(cust, customers, C.churned_on, "has contracts ending before the customer was "
                 "acquired", bad, F.col(C.customer_id))  # fmt: skip
    if service_costs is None:
        service = spark.createDataFrame([], _schema(SERVICE_COSTS.columns))
    else:
        service = _conform(_open(spark, service_costs), SERVICE_COSTS.columns, service_costs)
        _check(service, SERVICE_COSTS, service_costs, as_of)
        _references(service, cust if customers is None else _every(spark, customers), service_costs)
        ignored[SERVICE_COSTS.name] = service.filter(F.col(C.date) > F.lit(as_of)).count()
        service = service.filter(F.col(C.date) <= F.lit(as_of)).drop(_ORDER)
    # rows of customers acquired after the as-of date are not the company's yet
    known = cust.select(C.customer_id)
    return Inputs(
        customers=cust.drop(_ORDER),
        transactions=tx.drop(_ORDER).join(known, on=C.customer_id, how="left_semi"),
        service_costs=service.join(known, on=C.customer_id, how="left_semi"),
        ignored=ignored,
    )


def conform_table(spark: SparkSession, path: str, spec: TableSpec) -> DataFrame:
    """One more snapshot table read, conformed and checked (e.g. the prospects)."""
    frame = _conform(_open(spark, path), spec.columns, path, nullable=spec.nullable)
    _check(frame, spec, path, date.max)
    return frame.drop(_ORDER)


def _every(spark: SparkSession, customers: str) -> DataFrame:
    """Every customer id of the customers table (also those acquired after the as-of)."""
    return _open(spark, customers).select(F.col(C.customer_id).cast("string"))


def _schema(columns: Mapping[str, pl.DataType]) -> T.StructType:
    return T.StructType([T.StructField(n, _SPARK_TYPES[type(d)], True) for n, d in columns.items()])
