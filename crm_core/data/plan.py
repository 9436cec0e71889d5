"""How each mapped column of an export is read: types accepted, decimal mark, date formats.

:func:`plan_table` refuses what cannot be read exactly before any row is read: a missing
column, a type that does not hold the role's values (booleans as amounts, floating-point
ids, dates stored as numbers), numbers whose decimal mark cannot be told (``1,234``) or is
mixed, dates whose format cannot be told (``01/02/2024``). Detection looks at the distinct
values of the export's detection frame (the whole file; a query's first batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from crm_core.data import values as v
from crm_core.data.exports import Export, ReadOptions
from crm_core.data.mapping import DATE, ID, NUMBER, Role
from crm_core.data.problems import Fix, Problem

__all__ = ["Plan", "plan_table"]

_STRINGS = (pl.String, pl.Categorical, pl.Enum)


@dataclass(frozen=True)
class Plan:
    """How to read one table.

    Attributes
    ----------
    columns
        ``(role, export column)`` of every mapped role.
    decimal
        Decimal mark of numbers written as text.
    decimal_detected
        Whether it was detected (not given).
    date_formats
        Per date role key: the format of text dates (``None`` for typed dates).
    notes
        What was detected, in words.
    """

    columns: tuple[tuple[Role, str], ...]
    decimal: str = "."
    decimal_detected: bool = False
    date_formats: Mapping[str, str | None] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _id_type(
    export: Export, role: Role, dtype: pl.DataType, options: ReadOptions
) -> tuple[str, Fix | None] | None:
    if isinstance(dtype, _STRINGS) or dtype.is_integer():
        return None
    if dtype.is_float():
        if export.kind == "excel":
            return None  # spreadsheet numbers: whole ones are read, others refused per row
        return (
            f"{role.label}s are stored as floating-point numbers ({dtype}); 1.0 may have been "
            "'001' or an id too large to store exactly",
            Fix(None, (), "re-export the column as text or whole numbers"),
        )
    return f"{role.label}s are stored as {dtype}, not as text or whole numbers", None


def _date_type(
    export: Export, role: Role, dtype: pl.DataType, options: ReadOptions
) -> tuple[str, Fix | None] | None:
    if dtype == pl.Date or isinstance(dtype, (pl.Datetime, *_STRINGS)):
        return None
    if dtype.is_integer() and options.date_format:
        return None  # digits read under the given format (%Y%m%d)
    if dtype.is_integer():
        return (
            f"dates are stored as whole numbers ({dtype}), which could be 20240131, Excel "
            "serial days or days since 1970",
            Fix("date_format", ("%Y%m%d",), "if they are written like 20240131, or export "
                "real dates"),
        )  # fmt: skip
    serial = " (Excel serial days?): format the column as dates" if dtype.is_float() else ""
    return f"dates are stored as {dtype}{serial}", None


def _number_type(
    export: Export, role: Role, dtype: pl.DataType, options: ReadOptions
) -> tuple[str, Fix | None] | None:
    if dtype.is_numeric() or isinstance(dtype, pl.Decimal) or dtype == pl.String:
        return None
    if dtype == pl.Boolean:
        return (
            f"{role.label}s are stored as true/false (booleans), not as amounts",
            Fix(None, (), f"map the {role.label} to a column of numbers"),
        )
    return f"is of type {dtype}, not a number", None


def _text_type(
    export: Export, role: Role, dtype: pl.DataType, options: ReadOptions
) -> tuple[str, Fix | None] | None:
    if isinstance(dtype, _STRINGS) or dtype.is_integer():
        return None
    return f"is of type {dtype}, not text", None


_TYPES = {ID: _id_type, DATE: _date_type, NUMBER: _number_type}


def _type_problem(
    export: Export, role: Role, column: str, dtype: pl.DataType, options: ReadOptions
) -> Problem | None:
    """A problem if ``column``'s type cannot hold ``role``'s values exactly."""
    found = _TYPES.get(role.kind, _text_type)(export, role, dtype, options)
    if found is None:
        return None
    text, fix = found
    return Problem(export.source, column, text, fix=fix)


def _decimal(
    export: Export, columns: Sequence[str], given: str | None
) -> tuple[str, bool, list[Problem]]:
    if given is not None or not columns:
        return given or ".", False, []
    uniques = pl.collect_all(
        [
            export.frame.select(v.clean_number(pl.col(c).unique()).unique().alias("v"))
            for c in columns
        ]  # distinct values first: cleaning is per value
    )
    values = pl.concat(uniques).drop_nulls().unique()
    classes = v.decimal_evidence(pl.col("v"))
    found = {k: values.filter(e).get_column("v").head(3).to_list() for k, e in classes.items()}
    if found["."] and found[","]:
        return ".", True, [
            _decimal_problem(export, columns, [*found["."][:1], *found[","][:1]],
                             "mixes a decimal point and a decimal comma", ("." , ","))
        ]  # fmt: skip
    if found["."] or found[","]:
        mark = "." if found["."] else ","
        return mark, True, []
    if found["ambiguous"]:
        ex = found["ambiguous"][0]
        point, comma = ex.replace(",", ""), ex.replace(".", "").replace(",", ".")
        text = f"numbers like {ex!r} could mean {point} or {comma}"
        return ".", True, [_decimal_problem(export, columns, found["ambiguous"], text, (".", ","))]
    return ".", True, []


def _decimal_problem(
    export: Export, columns: Sequence[str], examples: list[str], text: str, marks: tuple
) -> Problem:
    hit = pl.any_horizontal([v.clean_number(pl.col(c)).is_in(examples) for c in columns])
    rows = export.frame.filter(hit).select("__row").head(5).collect()["__row"].to_list()
    return Problem(
        export.source,
        ", ".join(columns),
        text,
        where=tuple(export.number(r) for r in rows),
        unit=export.unit,
        examples=tuple(examples),
        fix=Fix("decimal", marks, "to say which mark separates the decimals"),
    )


def _date_format(  # noqa: PLR0911 - one return per outcome of the detection
    export: Export, role: Role, column: str, given: str | None
) -> tuple[str | None, list[str], list[Problem]]:
    if given is not None:
        return given, [], []
    values = (
        export.frame.select(
            v.clean_date(pl.col(column).cast(pl.String).unique()).unique().alias("v")
        )
        .collect()["v"]
        .drop_nulls()
    )
    if values.is_empty():
        return "%Y-%m-%d", [], []
    counts = v.date_candidates(values)
    full = [f for f, n in counts.items() if n == values.len()]
    if len(full) == 1:
        note = [] if full[0] == "%Y-%m-%d" else [f"{role.label}s read as {full[0]}"]
        return full[0], note, []
    if len(full) > 1:
        both = pl.DataFrame({"v": values}).filter(
            pl.all_horizontal([v.parse_date(pl.col("v"), f).is_not_null() for f in full])
        )
        ex = both["v"][0]
        return None, [], [
            Problem(
                export.source, column,
                f"dates look like {ex} (day and month could be either way on every row)",
                fix=Fix("date_format", tuple(full)),
            )
        ]  # fmt: skip
    two = values.filter(values.str.contains(v.TWO_DIGIT_YEAR))
    if not two.is_empty():
        sep = two[0].strip("0123456789")[:1]
        options = (f"%d{sep}%m{sep}%y", f"%m{sep}%d{sep}%y")
        return None, [], [
            Problem(export.source, column, f"dates have two-digit years (e.g. {two[0]!r})",
                    fix=Fix("date_format", options, "(or export four-digit years)"))
        ]  # fmt: skip
    best = max(counts, key=lambda f: counts[f])
    if counts[best]:
        return best, [], []  # the rows it cannot read are reported with their numbers
    ex = values[0]
    text = f"dates are not in a format this reader knows (e.g. {ex!r})"
    if ex.isdigit():
        text = f"dates look like plain numbers (e.g. {ex!r}: Excel serial days?)"
    return None, [], [
        Problem(export.source, column, text,
                fix=Fix("date_format", (), "with their strftime format (e.g. %d %B %Y)"))
    ]  # fmt: skip


def plan_table(
    export: Export, roles: Sequence[Role], mapping: Mapping[str, str | None], options: ReadOptions
) -> tuple[Plan, list[Problem]]:
    """The plan for reading ``roles`` from ``export`` and every problem found before reading.

    Parameters
    ----------
    mapping
        Role key -> export column (``None`` or absent: not mapped).
    """
    schema = export.frame.collect_schema()
    columns = export.columns
    problems: list[Problem] = []
    chosen: list[tuple[Role, str]] = []
    for role in roles:
        name = mapping.get(role.key)
        if name is None or name not in columns:
            if name is None and not role.required:
                continue
            what = f" named {name!r}" if name else ""
            how = f"map it with {role.option}" if role.option else f"name it {role.key}"
            problems.append(
                Problem(
                    export.source,
                    name,
                    f"has no {role.label} column{what} (columns: {', '.join(columns)})",
                    fix=Fix(
                        None,
                        (),
                        how,
                        elsewhere=f"choose the {role.label} column" * bool(role.option),
                    ),
                )
            )
            continue
        if (p := _type_problem(export, role, name, schema[name], options)) is not None:
            problems.append(p)
        else:
            chosen.append((role, name))
    text_numbers = [c for r, c in chosen if r.kind == NUMBER and schema[c] == pl.String]
    decimal, detected, found = _decimal(export, text_numbers, options.decimal)
    problems += found
    notes: list[str] = []
    if detected and decimal == "," and text_numbers:
        notes.append("numbers read with a decimal comma")
    formats: dict[str, str | None] = {}
    for role, column in chosen:
        dtype = schema[column]
        if role.kind != DATE or dtype == pl.Date or isinstance(dtype, pl.Datetime):
            formats[role.key] = None
            continue
        fmt, said, found = _date_format(export, role, column, options.date_format)
        formats[role.key] = fmt
        notes += said
        problems += found
    return Plan(tuple(chosen), decimal, detected, formats, tuple(notes)), problems
