"""Row and column checks of snapshot tables, in one aggregate pass per table.

Every violation raises :class:`~crm_core.errors.SnapshotError` naming the file, the
column, the number of rows and up to five example values; no polars or pyarrow exception
reaches the caller. The rules come from the table declarations in :mod:`crm_core.data.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.schema import CUSTOMERS, C, TableSpec
from crm_core.data.values import MAX_EXACT_INT
from crm_core.errors import SnapshotError

__all__ = ["DATE_FLOOR", "check_churn_dates", "check_rows", "collect", "conform", "short"]

_EXAMPLES = 5
DATE_FLOOR = date(1900, 1, 1)  # no customer data is older; earlier dates are placeholders
_NUMERIC_SOURCES = (
    pl.Float32,
    pl.Float64,
    pl.Int8,
    pl.Int16,
    pl.Int32,
    pl.Int64,
    pl.UInt8,
    pl.UInt16,
    pl.UInt32,
    pl.UInt64,
)
_STRING_SOURCES = (pl.String, pl.Categorical, pl.Enum)


def conform(spec: TableSpec, lf: pl.LazyFrame, file: str) -> pl.LazyFrame:
    """Check column presence and dtypes; cast safe widenings (ints to float)."""
    try:
        schema = lf.collect_schema()
    except Exception as exc:  # polars/pyarrow raise many types for damaged files
        raise SnapshotError(
            file, f"cannot be read as Parquet (truncated or damaged?): {short(exc)}"
        ) from None
    casts: list[pl.Expr] = []
    widened: list[str] = []
    for name, dtype in spec.columns.items():
        if name not in schema:
            if name in spec.nullable:
                casts.append(pl.lit(None, dtype=dtype).alias(name))
                continue
            found = ", ".join(schema.names()) or "no columns"
            raise SnapshotError(file, f"required column is missing (found: {found})", column=name)
        actual = schema[name]
        if actual == dtype:
            continue
        if actual == pl.Null:
            casts.append(pl.col(name).cast(dtype))
        elif dtype == pl.Float64 and isinstance(actual, _NUMERIC_SOURCES):
            casts.append(pl.col(name).cast(pl.Float64))
            if actual.is_integer():
                widened.append(name)
        elif dtype == pl.String and isinstance(actual, _STRING_SOURCES):
            casts.append(pl.col(name).cast(pl.String))
        else:
            raise SnapshotError(
                file, f"has type {actual}, expected {_type_name(dtype)}", column=name
            )
    _check_exact(lf, widened, file)
    return lf.with_columns(casts) if casts else lf


def _check_exact(lf: pl.LazyFrame, columns: list[str], file: str) -> None:
    """Whole numbers widened to float64 must be exact (at most 2**53 in size)."""
    if not columns:
        return
    largest = collect(lf.select([pl.col(c).abs().max().alias(c) for c in columns]), file).row(0)
    for name, value in zip(columns, largest, strict=True):
        if value is not None and value > MAX_EXACT_INT:
            raise SnapshotError(
                file,
                "has whole numbers too large to be read exactly as amounts (above 2**53)",
                column=name,
                examples=[value],
            )


def _type_name(dtype: pl.DataType) -> str:
    return {pl.String: "text (string)", pl.Date: "date", pl.Float64: "number (float64)"}.get(
        type(dtype), str(dtype)
    )


def short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass(frozen=True)
class _Rule:
    column: str
    problem: str
    bad: pl.Expr  # True on offending rows
    show: pl.Expr  # value shown as an example


def _rules(spec: TableSpec, as_of: date) -> list[_Rule]:
    rules: list[_Rule] = []
    row = pl.format("row {}", pl.col("_row") + 1)
    for name in spec.not_null:
        rules.append(_Rule(name, "has missing (null) values", pl.col(name).is_null(), row))
    for name in spec.finite:
        rules.append(
            _Rule(name, "has NaN or infinite values", ~pl.col(name).is_finite(), pl.col(name))
        )
    for name in spec.non_negative:
        rules.append(_Rule(name, "has negative values", pl.col(name) < 0, pl.col(name)))
    for name, dtype in spec.columns.items():
        if dtype == pl.Date:
            rules.append(
                _Rule(
                    name,
                    f"has dates before {DATE_FLOOR} (placeholders such as 0001-01-01?)",
                    pl.col(name) < pl.lit(DATE_FLOOR),
                    pl.col(name),
                )
            )
    for name in spec.not_after_as_of:
        rules.append(
            _Rule(
                name,
                f"has dates after the snapshot's as_of {as_of}",
                pl.col(name) > pl.lit(as_of),
                pl.col(name),
            )
        )
    if spec.key is not None:
        rules.append(
            _Rule(
                spec.key,
                "has duplicate ids",
                pl.col(spec.key).is_duplicated() & pl.col(spec.key).is_not_null(),
                pl.col(spec.key),
            )
        )
    return rules


def collect(lf: pl.LazyFrame, file: str) -> pl.DataFrame:
    try:
        return lf.collect()
    except Exception as exc:  # damaged pages surface only when the data is read
        raise SnapshotError(file, f"cannot be read (truncated or damaged?): {short(exc)}") from None


def check_rows(
    spec: TableSpec, lf: pl.LazyFrame, file: str, as_of: date, customer_ids: pl.LazyFrame
) -> None:
    """One pass of counts over the table; examples are fetched only for a failing rule."""
    rules = _rules(spec, as_of)
    if rules:
        counts = collect(
            lf.select([r.bad.sum().alias(f"r{i}") for i, r in enumerate(rules)]), file
        ).row(0)
        for i, (rule, n) in enumerate(zip(rules, counts, strict=True)):
            if n:
                examples = collect(
                    lf.with_row_index("_row")
                    .filter(rules[i].bad)
                    .select(rule.show.alias("v"))
                    .unique(maintain_order=True)
                    .head(_EXAMPLES),
                    file,
                )["v"].to_list()
                raise SnapshotError(
                    file, rule.problem, column=rule.column, rows=int(n), examples=examples
                )
    if spec.references_customers is not None:
        col = spec.references_customers
        unknown = lf.filter(pl.col(col).is_not_null()).join(
            customer_ids, left_on=col, right_on=C.customer_id, how="anti"
        )
        n = collect(unknown.select(pl.len()), file).item()
        if n:
            examples = collect(
                unknown.select(pl.col(col).unique(maintain_order=True).head(_EXAMPLES)), file
            )[col].to_list()
            raise SnapshotError(
                file,
                f"refers to customers not in {CUSTOMERS.file}",
                column=col,
                rows=int(n),
                examples=examples,
            )


def check_churn_dates(customers: pl.LazyFrame, file: str) -> None:
    bad = pl.col(C.churned_on) < pl.col(C.acquired_on)
    n = collect(customers.select(bad.sum()), file).item()
    if n:
        examples = collect(customers.filter(bad).select(C.customer_id).head(_EXAMPLES), file)
        raise SnapshotError(
            file,
            "has contracts ending before the customer was acquired",
            column=C.churned_on,
            rows=int(n),
            examples=examples[C.customer_id].to_list(),
        )
