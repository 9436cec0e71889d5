"""Column names, dtypes and rules of the snapshot format (schema_version 1).

This module is the single place where the snapshot's tables are declared. Every other
module refers to columns through the constants below, never by position or by a
string literal repeated elsewhere.

See ``ARCHITECTURE.md`` ("Snapshot format") for the prose version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

__all__ = [
    "BUSINESS_MODELS",
    "CONTRACTUAL",
    "CUSTOMERS",
    "MANIFEST_FILE",
    "NON_CONTRACTUAL",
    "PROSPECTS",
    "SCHEMA_VERSION",
    "SERVICE_COSTS",
    "TABLES",
    "TRANSACTIONS",
    "C",
    "TableSpec",
]

SCHEMA_VERSION = 1
MANIFEST_FILE = "manifest.json"
NON_CONTRACTUAL = "non_contractual"
CONTRACTUAL = "contractual"
BUSINESS_MODELS = (NON_CONTRACTUAL, CONTRACTUAL)


class C:
    """Column names used across the snapshot tables and derived frames."""

    # snapshot tables
    customer_id = "customer_id"
    acquired_on = "acquired_on"
    acquisition_channel = "acquisition_channel"
    acquisition_cost = "acquisition_cost"
    region = "region"
    churned_on = "churned_on"
    date = "date"
    amount = "amount"
    cost = "cost"
    channel = "channel"
    touchpoint = "touchpoint"
    prospect_id = "prospect_id"
    first_contact = "first_contact"
    converted_customer_id = "converted_customer_id"


@dataclass(frozen=True)
class TableSpec:
    """Declaration of one snapshot table.

    Attributes
    ----------
    name
        Logical table name (``"customers"``).
    file
        File name inside the snapshot folder.
    columns
        Required columns and their dtypes, in canonical order.
    required
        Whether the file must exist.
    key
        Column that must be unique and not null, if any.
    not_null
        Columns that must not contain nulls.
    finite
        Float columns that must not contain NaN or infinities.
    non_negative
        Numeric columns that must be >= 0.
    not_after_as_of
        Date columns whose values must not lie after the snapshot's as-of date.
    references_customers
        Column whose non-null values must exist in ``customers.customer_id``.
    """

    name: str
    file: str
    columns: dict[str, pl.DataType]
    required: bool = True
    key: str | None = None
    not_null: tuple[str, ...] = ()
    finite: tuple[str, ...] = ()
    non_negative: tuple[str, ...] = ()
    not_after_as_of: tuple[str, ...] = ()
    references_customers: str | None = None
    nullable: tuple[str, ...] = field(default=())

    @property
    def schema(self) -> pl.Schema:
        """The polars schema of the declared columns."""
        return pl.Schema(self.columns)

    def empty(self) -> pl.LazyFrame:
        """An empty frame with the declared columns (used for absent optional tables)."""
        return pl.LazyFrame(schema=self.schema)


CUSTOMERS = TableSpec(
    name="customers",
    file="customers.parquet",
    columns={
        C.customer_id: pl.String(),
        C.acquired_on: pl.Date(),
        C.acquisition_channel: pl.String(),
        C.acquisition_cost: pl.Float64(),
        C.region: pl.String(),
        C.churned_on: pl.Date(),
    },
    key=C.customer_id,
    not_null=(C.customer_id, C.acquired_on, C.acquisition_channel, C.acquisition_cost, C.region),
    finite=(C.acquisition_cost,),
    non_negative=(C.acquisition_cost,),
    not_after_as_of=(C.acquired_on,),
    nullable=(C.churned_on,),
)

TRANSACTIONS = TableSpec(
    name="transactions",
    file="transactions.parquet",
    columns={
        C.customer_id: pl.String(),
        C.date: pl.Date(),
        C.amount: pl.Float64(),
        C.cost: pl.Float64(),
        C.channel: pl.String(),
    },
    not_null=(C.customer_id, C.date, C.amount, C.cost, C.channel),
    finite=(C.amount, C.cost),
    non_negative=(C.cost,),
    not_after_as_of=(C.date,),
    references_customers=C.customer_id,
)

SERVICE_COSTS = TableSpec(
    name="service_costs",
    file="service_costs.parquet",
    columns={
        C.customer_id: pl.String(),
        C.date: pl.Date(),
        C.touchpoint: pl.String(),
        C.cost: pl.Float64(),
    },
    required=False,
    not_null=(C.customer_id, C.date, C.touchpoint, C.cost),
    finite=(C.cost,),
    non_negative=(C.cost,),
    not_after_as_of=(C.date,),
    references_customers=C.customer_id,
)

PROSPECTS = TableSpec(
    name="prospects",
    file="prospects.parquet",
    columns={
        C.prospect_id: pl.String(),
        C.first_contact: pl.Date(),
        C.channel: pl.String(),
        C.converted_customer_id: pl.String(),
    },
    required=False,
    key=C.prospect_id,
    not_null=(C.prospect_id, C.first_contact, C.channel),
    not_after_as_of=(C.first_contact,),
    references_customers=C.converted_customer_id,
    nullable=(C.converted_customer_id,),
)

TABLES: tuple[TableSpec, ...] = (CUSTOMERS, TRANSACTIONS, SERVICE_COSTS, PROSPECTS)
