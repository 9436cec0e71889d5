"""Read one table of an export exactly: plan how each column is read, then read it in
batches into Parquet parts (bounded memory), then check every row.

The same code serves files and SQL queries: :func:`plan_table` decides, from the export's
detection frame (the whole file, or a query's first batch), the decimal mark and each date
column's format, and refuses column types that cannot be read exactly; :func:`stage` reads
the batches, parses them and writes them to a work folder with a flag per unreadable
value; :func:`check_staged` turns the flags into :class:`~crm_core.data.problems.Problem`
s naming the column, the rows and the option to pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crm_core.data import values as v
from crm_core.data.exports import ROW_INDEX, Export
from crm_core.data.mapping import DATE, ID, NUMBER, Role
from crm_core.data.plan import Plan
from crm_core.data.problems import Fix, Problem
from crm_core.data.validate import DATE_FLOOR
from crm_core.data.xlsx import ROW

__all__ = ["NUMBER_COL", "Progress", "Staged", "check_staged", "parse_batch", "stage"]

NUMBER_COL = "__n"  # the row number shown in messages
LISTED = 1000  # rows listed per problem (the count covers all)
Progress = Callable[[str, int, int | None], None]  # (what, rows done, rows in all)
_FLOOR = pl.lit(DATE_FLOOR)


def _bad(key: str) -> str:
    return f"__bad_{key}"


def _raw(key: str) -> str:
    return f"__raw_{key}"


_NONE = pl.lit(None, pl.String)


def _id(col: pl.Expr, dtype: pl.DataType, fmt: str | None, plan: Plan) -> tuple[pl.Expr, pl.Expr]:
    if dtype.is_float():  # whole numbers from a spreadsheet; others are refused per row
        ok = col.is_null() | ((col % 1 == 0) & (col.abs() <= v.MAX_EXACT_INT))
        text = pl.when(ok).then(col.cast(pl.Int64, strict=False).cast(pl.String))
        return text, pl.when(~ok).then(col.cast(pl.String))
    return _text(col, dtype, fmt, plan)


def _date(col: pl.Expr, dtype: pl.DataType, fmt: str | None, plan: Plan) -> tuple[pl.Expr, pl.Expr]:
    if dtype == pl.Date:
        return col, _NONE
    if isinstance(dtype, pl.Datetime):
        return col.dt.date(), _NONE
    cleaned = v.clean_date(col.cast(pl.String), fmt)
    parsed = v.parse_date(cleaned, fmt) if fmt else pl.lit(None, pl.Date)
    return parsed, pl.when(cleaned.is_not_null() & parsed.is_null()).then(cleaned)


def _number(
    col: pl.Expr, dtype: pl.DataType, fmt: str | None, plan: Plan
) -> tuple[pl.Expr, pl.Expr]:
    if dtype == pl.String:
        cleaned = v.clean_number(col)
        parsed = v.parse_number(cleaned, plan.decimal)
        return parsed, pl.when(cleaned.is_not_null() & parsed.is_null()).then(cleaned)
    if dtype.is_integer():
        ok = col.is_null() | (col.abs() <= v.MAX_EXACT_INT)
        return pl.when(ok).then(col.cast(pl.Float64)), pl.when(~ok).then(col.cast(pl.String))
    return col.cast(pl.Float64), _NONE


def _text(col: pl.Expr, dtype: pl.DataType, fmt: str | None, plan: Plan) -> tuple[pl.Expr, pl.Expr]:
    text = col.cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text), _NONE


_READERS = {ID: _id, DATE: _date, NUMBER: _number}


def _plain(
    values: pl.Series, role: Role, fmt: str | None, plan: Plan
) -> tuple[pl.Expr, pl.Expr] | None:
    """The reader of a text column whose every value in this batch is written plainly
    (``1234.5``, ``2024-01-31``: most exports), or ``None``. It reads the very values the
    general reader would (the cleaning it skips changes nothing in such text) in a fraction
    of the time."""
    if values.dtype != pl.String:
        return None
    col = pl.col(values.name)
    if role.kind == NUMBER:
        pattern, value = v.PLAIN_NUMBER[plan.decimal], v.plain_number(col, plan.decimal)
    elif role.kind == DATE and fmt in v.KNOWN_DATE_FORMATS and not v.has_time_fields(fmt):
        pattern, value = v.KNOWN_DATE_FORMATS[fmt].pattern, col.str.to_date(fmt, strict=False)
    else:
        return None
    if not (values.is_null() | values.str.contains(pattern)).all():
        return None
    return value, pl.when(col.is_not_null() & value.is_null()).then(col)


def parse_batch(batch: pl.DataFrame, plan: Plan, export: Export) -> pl.DataFrame:
    """One batch of raw rows as read under ``plan`` (role keys as column names)."""
    number = pl.col(ROW) if ROW in batch.columns else pl.col(ROW_INDEX) + export.number(0)
    exprs = [pl.col(ROW_INDEX).cast(pl.Int64), number.cast(pl.Int64).alias(NUMBER_COL)]
    for role, column in plan.columns:
        fmt = plan.date_formats.get(role.key)
        read = _plain(batch.get_column(column), role, fmt, plan)
        if read is None:
            read = _READERS.get(role.kind, _text)(pl.col(column), batch.schema[column], fmt, plan)
        value, raw = read
        exprs.append(value.alias(role.key))
        exprs.append(raw.cast(pl.String).alias(_raw(role.key)))
    return batch.select(exprs)


@dataclass(frozen=True)
class Staged:
    """A table read into Parquet parts.

    Attributes
    ----------
    frame
        Lazy frame over the parts: one column per mapped role (named by its key), the
        raw text of unreadable values (``__raw_<key>``), ``__row`` and the shown number.
    rows
        Rows read.
    """

    frame: pl.LazyFrame
    rows: int


def stage(
    export: Export,
    plan: Plan,
    folder: Path,
    *,
    progress: Progress | None = None,
) -> Staged:
    """Read every batch of ``export`` under ``plan`` into Parquet parts in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    done = 0
    parts = 0
    for batch in export.batches([c for _, c in plan.columns]):
        if batch.height == 0:
            continue
        parsed = parse_batch(batch, plan, export)
        parsed.write_parquet(folder / f"part-{parts:06d}.parquet", compression="lz4")
        parts += 1
        done += batch.height
        if progress is not None:
            progress(f"Reading {export.label}", done, export.rows)
    if parts == 0:  # header-only query results
        schema = parse_batch(
            export.frame.head(0).collect(), plan, export
        ).schema  # same columns, no rows
        pl.DataFrame(schema=schema).write_parquet(folder / "part-000000.parquet")
    return Staged(pl.scan_parquet(folder / "part-*.parquet"), done)


def check_staged(staged: Staged, plan: Plan, export: Export) -> list[Problem]:
    """Every problem of the staged rows, in the order of the roles (one per rule)."""
    lf = staged.frame
    schema = export.frame.collect_schema()
    rules: list[tuple[Role, str, str, pl.Expr, pl.Expr, Fix | None]] = []
    for role, column in plan.columns:
        raw, value = pl.col(_raw(role.key)), pl.col(role.key)
        rules.append((role, column, _unreadable(role, plan, schema[column]), raw.is_not_null(),
                      raw, _fix(role, plan)))  # fmt: skip
        if role.required:
            rules.append((role, column, _empty(role), value.is_null() & raw.is_null(),
                          pl.lit(""), _fill(role)))  # fmt: skip
        if role.kind == DATE:
            rules.append((role, column,
                          f"has dates before {DATE_FLOOR} (placeholders such as 0001-01-01?)",
                          value < _FLOOR, value.cast(pl.String), None))  # fmt: skip
        if role.kind == NUMBER:
            rules.append((role, column, "has NaN or infinite values", ~value.is_finite(),
                          value.cast(pl.String), None))  # fmt: skip
    if not rules:
        return []
    counts = lf.select([r[3].sum().alias(str(i)) for i, r in enumerate(rules)]).collect().row(0)
    problems = []
    for (_, column, text, bad, show, hint), n in zip(rules, counts, strict=True):
        if not n:
            continue
        rows = lf.filter(bad).select(NUMBER_COL, show.alias("v")).head(LISTED).collect()
        examples = [x for x in rows["v"].unique(maintain_order=True).to_list() if x != ""]
        fix = hint
        if hint is not None and hint.option == "decimal" and not _other_mark(examples, plan):
            fix = Fix(None, (), "correct them")
        problems.append(
            Problem(
                export.source,
                column,
                text,
                rows=int(n),
                where=tuple(rows[NUMBER_COL].to_list()),
                values=tuple(rows["v"].to_list()),
                unit=export.unit,
                examples=tuple(examples[:5]),
                fix=fix,
            )
        )
    return problems


def _unreadable(role: Role, plan: Plan, dtype: pl.DataType) -> str:
    if dtype.is_integer() and role.kind != DATE:
        return f"has whole numbers too large to be read exactly (above 2**53, {dtype})"
    if role.kind == DATE:
        fmt = plan.date_formats.get(role.key)
        return f"has values that are not dates in the format {fmt}" if fmt else "has bad dates"
    if role.kind == NUMBER:
        mark = "a decimal point" if plan.decimal == "." else "a decimal comma"
        return f"has values that are not numbers (read with {mark})"
    if role.kind == ID:
        return "has ids that are not whole numbers or too large to be read exactly"
    return "has unreadable values"


def _fix(role: Role, plan: Plan) -> Fix | None:
    if role.kind == DATE:
        return Fix("date_format", (), "with the format of these dates, or correct them")
    if role.kind == NUMBER:
        other = "," if plan.decimal == "." else "."
        return Fix("decimal", (other,), "if that is the decimal mark, or correct them")
    return None


def _other_mark(examples: list[object], plan: Plan) -> bool:
    """Whether some unreadable values read as numbers with the other decimal mark."""
    other = "," if plan.decimal == "." else "."
    values = pl.Series([str(x) for x in examples], dtype=pl.String)
    return bool(values.str.contains(v.number_pattern(other)).any())


def _empty(role: Role) -> str:
    return {
        ID: f"has rows without a {role.label}",
        DATE: "has empty dates",
        NUMBER: "has empty values",
    }.get(role.kind, "has empty values")


def _fill(role: Role) -> Fix | None:
    if role.kind == NUMBER:
        return Fix(None, (), "fill them in (0 where there is no amount)")
    return None
