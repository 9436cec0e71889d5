"""The tables read from exports, and the snapshot tables derived from them.

:func:`read_table` opens a source, plans (:mod:`crm_core.data.plan`), stages and checks
(:mod:`crm_core.data.staging`) one table; :func:`customers_and_transactions` derives the
customers table from the staged transactions; :func:`linked` keeps the service contacts and
prospects up to the as-of date and checks that they refer to known customers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from crm_core.data.exports import ROW_INDEX, Export, ReadOptions
from crm_core.data.mapping import Role, propose
from crm_core.data.plan import Plan, plan_table
from crm_core.data.problems import Problem
from crm_core.data.schema import C
from crm_core.data.sources import Source
from crm_core.data.staging import Progress, Staged, check_staged, stage
from crm_core.errors import SnapshotError

__all__ = [
    "Table",
    "column_of",
    "customers_and_transactions",
    "duplicates",
    "linked",
    "read_table",
]


@dataclass
class Table:
    """One table of an export: how it was read and its staged rows."""

    name: str
    roles: tuple[Role, ...]
    export: Export
    plan: Plan
    staged: Staged | None = None


def read_table(
    name: str,
    source: Source,
    roles: Sequence[Role],
    mapping: Mapping[str, str | None] | None,
    options: ReadOptions,
    workdir: Path,
    stack: contextlib.ExitStack,
    progress: Progress | None,
    problems: list[Problem],
) -> Table | None:
    export = source.open(options, workdir, stack)
    chosen = dict(mapping or {})
    if mapping is None or any(r.key not in chosen for r in roles):
        free = [c for c in export.columns if c not in chosen.values()]
        proposal = propose(free, roles)
        for role in roles:
            if role.key not in chosen and (role.required or mapping is None):
                chosen[role.key] = proposal[role.key]
    try:
        plan, found = plan_table(export, roles, chosen, options)
        problems += found
        if found:
            return None
        table = Table(name, tuple(roles), export, plan)
        table.staged = stage(export, plan, workdir / name, progress=progress)
        problems += check_staged(table.staged, plan, export)
    except SnapshotError:
        raise
    except Exception as exc:  # polars / driver errors met while reading the data
        raise export.failed(exc) from None
    return table


_DEFAULTS: dict[str, tuple[object, pl.DataType]] = {
    C.cost: (0.0, pl.Float64()),
    C.channel: ("unknown", pl.String()),
    C.region: (None, pl.String()),
    C.acquisition_cost: (None, pl.Float64()),
}


def column_of(table: Table, key: str) -> str | None:
    """The export column mapped to role ``key`` (``None`` if not mapped)."""
    return next((c for r, c in table.plan.columns if r.key == key), None)


def customers_and_transactions(
    tx: Table, as_of: date, problems: list[Problem]
) -> tuple[pl.LazyFrame, ...]:
    """The customers and the transactions kept (on or before ``as_of``)."""
    lf = tx.staged.frame  # type: ignore[union-attr]
    keys = {r.key for r, _ in tx.plan.columns}
    lf = lf.with_columns(
        [pl.lit(value, dtype).alias(k) for k, (value, dtype) in _DEFAULTS.items() if k not in keys]
    ).with_columns(pl.col(C.channel).fill_null("unknown"))
    if C.acquisition_cost in keys:
        conflicts = (
            lf.group_by(C.customer_id)
            .agg(pl.col(C.acquisition_cost).drop_nulls().n_unique().alias("n"))
            .filter(pl.col("n") > 1)
            .select(C.customer_id)
            .sort(C.customer_id)
        )
        clash = conflicts.head(5).collect()[C.customer_id].to_list()
        if clash:
            problems.append(
                Problem(tx.export.source, column_of(tx, C.acquisition_cost),
                        "has different acquisition costs for one customer (give one per "
                        "customer)", rows=int(conflicts.select(pl.len()).collect().item()),
                        examples=tuple(clash))
            )  # fmt: skip
    kept = lf.filter(pl.col(C.date) <= as_of).sort(C.customer_id, C.date, ROW_INDEX)
    transactions = kept.select(C.customer_id, C.date, C.amount, C.cost, C.channel)
    customers = kept.group_by(C.customer_id, maintain_order=True).agg(
        pl.col(C.date).first().alias(C.acquired_on),
        pl.col(C.channel).first().alias(C.acquisition_channel),
        pl.col(C.acquisition_cost).drop_nulls().first().fill_null(0.0).alias(C.acquisition_cost),
        pl.col(C.region).drop_nulls().first().fill_null("Unknown").alias(C.region),
    )
    return customers, transactions


def linked(
    table: Table | None,
    date_key: str,
    id_key: str,
    known: pl.LazyFrame,
    everyone: pl.LazyFrame,
    as_of: date,
    problems: list[Problem],
) -> pl.LazyFrame | None:
    """Rows of an optional table up to ``as_of``, checked against the customers."""
    if table is None or table.staged is None:
        return None
    lf = table.staged.frame.filter(pl.col(date_key) <= as_of)
    column = column_of(table, id_key)
    if column is None:
        return lf.with_columns(pl.lit(None, pl.String).alias(id_key))
    ids = lf.filter(pl.col(id_key).is_not_null())
    strangers = ids.join(everyone, left_on=id_key, right_on=C.customer_id, how="anti")
    n = strangers.select(pl.len()).collect().item()
    if n:
        rows = strangers.select("__n", id_key).head(5).collect()
        problems.append(
            Problem(table.export.source, column,
                    "refers to customers who are not in the transactions export",
                    rows=int(n), where=tuple(rows["__n"].to_list()), unit=table.export.unit,
                    examples=tuple(rows[id_key].unique(maintain_order=True).to_list()))
        )  # fmt: skip
    ids_known = known.select(pl.col(C.customer_id).alias(id_key))
    if table.name == "prospects":  # converted after the as-of date: not yet a customer
        flag = ids_known.with_columns(pl.lit(True).alias("_k"))
        return (
            lf.join(flag, on=id_key, how="left", nulls_equal=False)
            .with_columns(pl.when(pl.col("_k")).then(pl.col(id_key)).alias(id_key))
            .drop("_k")
        )
    # contacts of customers first acquired after the as-of date are left out with them
    return lf.join(ids_known, on=id_key, how="semi")


def duplicates(table: Table | None, key: str, problems: list[Problem]) -> None:
    """Add a problem if the table's ``key`` column has duplicate ids."""
    if table is None or table.staged is None:
        return
    lf = table.staged.frame.filter(pl.col(key).is_duplicated())
    rows = lf.select("__n", key).head(5).collect()
    if rows.height:
        column = column_of(table, key)
        problems.append(
            Problem(table.export.source, column, "has duplicate ids",
                    rows=int(lf.select(pl.len()).collect().item()),
                    where=tuple(rows["__n"].to_list()), unit=table.export.unit,
                    examples=tuple(rows[key].unique(maintain_order=True).to_list()))
        )  # fmt: skip
