"""Build a snapshot from a flat export of transactions (``crm build``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from crm_core.data.manifest import Manifest
from crm_core.data.schema import NON_CONTRACTUAL, C
from crm_core.data.snapshot import Snapshot
from crm_core.errors import SnapshotError

__all__ = ["build_snapshot"]


def _read_export(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise SnapshotError(str(path), "file not found")
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False)  # every column as text, parsed below
    except Exception as exc:  # polars raises many types for unreadable files
        text = " ".join(str(exc).split())[:160]
        raise SnapshotError(str(path), f"cannot be read as CSV or Parquet: {text}") from None


def _parse(
    frame: pl.DataFrame,
    source: str,
    column: str,
    target: pl.DataType,
    *,
    date_format: str | None = None,
) -> pl.Series:
    """Column ``column`` of ``frame`` as ``target``; unparseable values raise SnapshotError."""
    raw = frame[column]
    if raw.dtype == target:
        parsed = raw
    elif target == pl.Date and raw.dtype == pl.String:
        parsed = raw.str.strip_chars().str.to_date(date_format, strict=False)
    elif target == pl.Date and isinstance(raw.dtype, pl.Datetime):
        parsed = raw.dt.date()
    elif target == pl.Float64 and raw.dtype == pl.String:
        parsed = raw.str.strip_chars().str.replace_all(",", "").cast(pl.Float64, strict=False)
    else:
        parsed = raw.cast(target, strict=False)
    bad = parsed.is_null() & raw.is_not_null()
    if bad.any():
        what = "dates" if target == pl.Date else "numbers"
        raise SnapshotError(
            source,
            f"has values that are not {what}",
            column=column,
            rows=int(bad.sum()),
            examples=raw.filter(bad).unique(maintain_order=True).head(5).to_list(),
        )
    return parsed


def build_snapshot(
    transactions: str | Path,
    *,
    as_of: date,
    customer_col: str = C.customer_id,
    date_col: str = C.date,
    amount_col: str = C.amount,
    cost_col: str | None = None,
    channel_col: str | None = None,
    region_col: str | None = None,
    date_format: str | None = None,
    company: str = "My company",
    currency: str = "USD",
    business_model: str = NON_CONTRACTUAL,
    discount_rate: float = 0.10,
) -> tuple[Snapshot, int]:
    """Build a validated snapshot from a flat export of transactions.

    The customers table is derived: each customer is acquired on their first transaction
    date, through the channel of that transaction (when a channel column is given), in the
    region of their first row with one; acquisition cost is unknown and set to 0. Rows
    dated after ``as_of`` are left out.

    Returns
    -------
    tuple[Snapshot, int]
        The snapshot (not yet written) and the number of rows left out for lying after
        ``as_of``.

    Raises
    ------
    SnapshotError
        If the file cannot be read, a named column is missing, or values cannot be parsed.
    """
    source = str(transactions)
    frame = _read_export(Path(transactions))
    wanted = {"customer id": customer_col, "date": date_col, "amount": amount_col}
    for option, name in {"cost": cost_col, "channel": channel_col, "region": region_col}.items():
        if name is not None:
            wanted[option] = name
    for role, name in wanted.items():
        if name not in frame.columns:
            raise SnapshotError(
                source,
                f"has no {role} column named {name!r} (columns: "
                f"{', '.join(frame.columns)}); map it with --{role.replace(' ', '-')}"
                f"-col",
                column=name,
            )
    ids = frame[customer_col].cast(pl.String).str.strip_chars()
    missing = ids.is_null() | (ids == "")
    if missing.any():
        raise SnapshotError(
            source, "has rows without a customer id", column=customer_col, rows=int(missing.sum())
        )
    tx = pl.DataFrame(
        {
            C.customer_id: ids,
            C.date: _parse(frame, source, date_col, pl.Date(), date_format=date_format),
            C.amount: _parse(frame, source, amount_col, pl.Float64()),
            C.cost: _parse(frame, source, cost_col, pl.Float64()) if cost_col else 0.0,
            C.channel: (
                frame[channel_col].cast(pl.String).fill_null("unknown")
                if channel_col
                else "unknown"
            ),
            C.region: frame[region_col].cast(pl.String) if region_col else None,
        }
    )
    for column, name in ((C.date, date_col), (C.amount, amount_col)):
        nulls = tx[column].is_null()
        if nulls.any():
            raise SnapshotError(source, "has empty values", column=name, rows=int(nulls.sum()))
    after = tx[C.date] > as_of
    ignored = int(after.sum())
    tx = tx.filter(~after).sort(C.customer_id, C.date)
    if tx.height == 0:
        raise SnapshotError(source, f"has no transactions on or before {as_of}", column=date_col)
    customers = tx.group_by(C.customer_id, maintain_order=True).agg(
        pl.col(C.date).first().alias(C.acquired_on),
        pl.col(C.channel).first().alias(C.acquisition_channel),
        pl.lit(0.0).alias(C.acquisition_cost),
        pl.col(C.region).drop_nulls().first().fill_null("Unknown").alias(C.region),
    )
    manifest = Manifest(
        as_of=as_of,
        company=company,
        currency=currency,
        business_model=business_model,
        discount_rate=discount_rate,
        extra={"built_from": Path(source).name},
    )
    snap = Snapshot.from_frames(manifest, customers=customers, transactions=tx.drop(C.region))
    return snap, ignored
