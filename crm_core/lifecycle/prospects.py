"""Prospects: the leads of the snapshot's prospects table, which are not customers.

A lead (``prospects.parquet``) is an **open prospect** on a day when it was first contacted
on or before that day, its customer (if it converted) was not yet acquired, and it was first
contacted less than ``prospect_days`` ago (:class:`~crm_core.data.rules.StageRules`;
``None``: no age limit). A customer with several converted leads is linked to the earliest
(ties: the lowest ``prospect_id``); before the customer is acquired each lead is an open
prospect of its own, and the others drop out when the customer is acquired.

The prospects table is read as the snapshot's own rows (a drill-down): leads are not in
the customer ledger, whose rows are customers.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C

__all__ = ["LINKED", "leads", "open_at"]

LINKED = "linked"
"""Whether the lead is the one its converted customer is linked to."""


def leads(ledger: Ledger) -> pl.DataFrame:
    """Every lead of the ledger's snapshot (already cut at its as-of date).

    Returns
    -------
    pl.DataFrame
        ``prospect_id, first_contact, channel`` (the lead's), ``cid`` and ``acquired_on``
        of the customer it converted into (null when not converted), ``linked``.
    """
    customers = ledger.customers.lazy().select(
        pl.col(C.customer_id).alias(C.converted_customer_id), L.cid, C.acquired_on
    )
    rows = ledger.snapshot.prospects.select(
        C.prospect_id, C.first_contact, C.channel, C.converted_customer_id
    ).collect()
    has_customer = pl.col(C.converted_customer_id).is_not_null()
    # only converted leads are looked up among the customers (a join on text ids)
    converted = (
        rows.lazy()
        .filter(has_customer)
        .join(customers, on=C.converted_customer_id, how="left")
        .sort(L.cid, C.first_contact, C.prospect_id, nulls_last=True)
        .with_columns(
            (pl.col(L.cid).is_first_distinct() & pl.col(L.cid).is_not_null()).alias(LINKED)
        )
    )
    waiting = (
        rows.lazy()
        .filter(~has_customer)
        .with_columns(
            pl.lit(None, dtype=pl.UInt32).alias(L.cid),
            pl.lit(None, dtype=pl.Date).alias(C.acquired_on),
            pl.lit(False).alias(LINKED),
        )
    )
    columns = (C.prospect_id, C.first_contact, C.channel, L.cid, C.acquired_on, LINKED)
    return pl.concat([converted.select(columns), waiting.select(columns)]).collect()


def open_at(day: date, prospect_days: int | None) -> pl.Expr:
    """True for the leads that are open prospects on ``day`` (module docstring)."""
    known = pl.col(C.first_contact) <= pl.lit(day)
    waiting = pl.col(C.acquired_on).is_null() | (pl.col(C.acquired_on) > pl.lit(day))
    if prospect_days is None:
        return known & waiting
    recent = pl.col(C.first_contact) > pl.lit(day - timedelta(days=prospect_days))
    return known & waiting & recent
