"""Snapshots: a company's customer data as of one date, stored as a folder of Parquet files.

``load_snapshot`` validates a folder against the format in ``crm_core.data.schema`` and returns
lazy frames; ``write_snapshot`` writes one atomically; ``Snapshot.cut`` gives the same data
as of an earlier date. Every data problem raises :class:`~crm_core.errors.SnapshotError`
naming the file, the column, the number of rows and a few example values; no polars or
pyarrow exception reaches the caller, and loading never writes to the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from crm_core.data import writes
from crm_core.data.manifest import Manifest
from crm_core.data.schema import (
    CUSTOMERS,
    MANIFEST_FILE,
    PROSPECTS,
    SERVICE_COSTS,
    TABLES,
    TRANSACTIONS,
    C,
    TableSpec,
)
from crm_core.data.validate import check_churn_dates, check_rows, conform, short
from crm_core.errors import SnapshotError

__all__ = [
    "Manifest",
    "Snapshot",
    "find_snapshots",
    "load_snapshot",
    "write_snapshot",
]

# ----------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class Snapshot:
    """A validated snapshot: the manifest and one lazy frame per table.

    Attributes
    ----------
    manifest
        The parsed manifest.
    customers, transactions, service_costs, prospects
        Lazy frames with at least the columns of ``crm_core.data.schema`` in their declared
        dtypes (extra columns are kept). Absent optional tables are empty frames.
    path
        Folder the snapshot was read from (``None`` for in-memory snapshots).
    """

    manifest: Manifest
    customers: pl.LazyFrame
    transactions: pl.LazyFrame
    service_costs: pl.LazyFrame
    prospects: pl.LazyFrame
    path: Path | None = None

    @property
    def as_of(self) -> date:
        """The date the data describes."""
        return self.manifest.as_of

    @property
    def currency(self) -> str:
        """ISO code of all amounts."""
        return self.manifest.currency

    @classmethod
    def from_frames(
        cls,
        manifest: Manifest | Mapping[str, Any],
        *,
        customers: pl.DataFrame | pl.LazyFrame,
        transactions: pl.DataFrame | pl.LazyFrame,
        service_costs: pl.DataFrame | pl.LazyFrame | None = None,
        prospects: pl.DataFrame | pl.LazyFrame | None = None,
    ) -> Snapshot:
        """Build and validate a snapshot from in-memory frames (tests, the ``build`` command)."""
        man = manifest if isinstance(manifest, Manifest) else Manifest.from_dict(dict(manifest))
        frames = {
            CUSTOMERS.name: customers,
            TRANSACTIONS.name: transactions,
            SERVICE_COSTS.name: service_costs,
            PROSPECTS.name: prospects,
        }
        lazy = {name: (None if f is None else f.lazy()) for name, f in frames.items()}
        return _validated(man, lazy, path=None)

    def cut(self, as_of: date | str) -> Snapshot:
        """The same company as of an earlier date.

        Rows dated after ``as_of`` are dropped, customers acquired after it disappear,
        contracts ending after it are open again (``churned_on`` null), and prospects who
        converted after it are unconverted.

        Raises
        ------
        ValueError
            If ``as_of`` lies after the snapshot's own as-of date.
        """
        cut_date = as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of))
        if cut_date > self.as_of:
            raise ValueError(
                f"cannot cut a snapshot as of {self.as_of} at the later date {cut_date}"
            )
        if cut_date == self.as_of:
            return self
        lit = pl.lit(cut_date)
        customers = self.customers.filter(pl.col(C.acquired_on) <= lit).with_columns(
            pl.when(pl.col(C.churned_on) <= lit)
            .then(pl.col(C.churned_on))
            .otherwise(None)
            .alias(C.churned_on)
        )
        kept_ids = customers.select(pl.col(C.customer_id).alias(C.converted_customer_id))
        prospects = (
            self.prospects.filter(pl.col(C.first_contact) <= lit)
            .join(
                kept_ids.with_columns(pl.lit(True).alias("_kept")),
                on=C.converted_customer_id,
                how="left",
                nulls_equal=False,
            )
            .with_columns(
                pl.when(pl.col("_kept"))
                .then(pl.col(C.converted_customer_id))
                .otherwise(None)
                .alias(C.converted_customer_id)
            )
            .drop("_kept")
        )
        return replace(
            self,
            manifest=replace(self.manifest, as_of=cut_date),
            customers=customers,
            transactions=self.transactions.filter(pl.col(C.date) <= lit),
            service_costs=self.service_costs.filter(pl.col(C.date) <= lit),
            prospects=prospects,
        )


# ----------------------------------------------------------------------------- loading


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read and validate the snapshot folder at ``path``.

    Returns
    -------
    Snapshot
        Lazy frames over the folder's Parquet files (nothing is written to the folder).

    Raises
    ------
    SnapshotError
        For a missing folder or file, an unreadable or truncated file, a missing or mistyped
        column, nulls, NaN or infinite amounts, negative costs, duplicate ids, transactions
        of unknown customers, dates after ``as_of``, or a bad manifest.
    """
    folder = Path(path)
    if not folder.is_dir():
        left = [p.name for p in writes.leftovers(folder)]
        if left and not folder.exists():
            raise SnapshotError(
                str(folder),
                f"snapshot folder not found; an interrupted write left {', '.join(left[:3])} "
                "beside it: the next write to this folder (crm build, crm sample) restores it",
            )
        raise SnapshotError(str(folder), "snapshot folder not found")
    manifest = _read_manifest(folder)
    frames: dict[str, pl.LazyFrame | None] = {}
    for spec in TABLES:
        file = folder / spec.file
        if not file.exists():
            if spec.required:
                raise SnapshotError(str(file), f"required file is missing from {folder}")
            frames[spec.name] = None
            continue
        frames[spec.name] = pl.scan_parquet(file)
    return _validated(manifest, frames, path=folder)


def _read_manifest(folder: Path) -> Manifest:
    file = folder / MANIFEST_FILE
    if not file.is_file():
        raise SnapshotError(str(file), "required file is missing (is this a snapshot folder?)")
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(str(file), f"is not valid JSON ({exc})") from None
    return Manifest.from_dict(raw, file=str(file))


def _validated(
    manifest: Manifest, frames: Mapping[str, pl.LazyFrame | None], *, path: Path | None
) -> Snapshot:
    checked: dict[str, pl.LazyFrame] = {}
    label = (lambda spec: str(path / spec.file)) if path is not None else (lambda s: s.file)
    for spec in TABLES:
        lf = frames.get(spec.name)
        checked[spec.name] = spec.empty() if lf is None else conform(spec, lf, label(spec))
    customer_ids = checked[CUSTOMERS.name].select(C.customer_id)
    for spec in TABLES:
        if frames.get(spec.name) is not None:
            check_rows(spec, checked[spec.name], label(spec), manifest.as_of, customer_ids)
    check_churn_dates(checked[CUSTOMERS.name], label(CUSTOMERS))
    return Snapshot(
        manifest=manifest,
        customers=checked[CUSTOMERS.name],
        transactions=checked[TRANSACTIONS.name],
        service_costs=checked[SERVICE_COSTS.name],
        prospects=checked[PROSPECTS.name],
        path=path,
    )


# ----------------------------------------------------------------------------- writing


def write_snapshot(
    path: str | os.PathLike[str],
    *,
    manifest: Manifest | Mapping[str, Any],
    customers: pl.DataFrame | pl.LazyFrame,
    transactions: pl.DataFrame | pl.LazyFrame,
    service_costs: pl.DataFrame | pl.LazyFrame | None = None,
    prospects: pl.DataFrame | pl.LazyFrame | None = None,
    inputs: Collection[str | os.PathLike[str]] = (),
) -> Path:
    """Validate and write a snapshot folder atomically, never replacing anything else.

    ``path`` must be absent, an empty folder or an existing snapshot (a folder holding
    ``manifest.json`` and only snapshot files); anything else is refused before anything
    is written. The data is written to a hidden folder beside ``path``, flushed to disk,
    validated by reading it back, then swapped into place in one atomic step (see
    :mod:`crm_core.data.writes`), so a crash at any instant leaves the old or the new
    snapshot, and an invalid one is never written. Leftovers of interrupted writes to
    ``path`` are recovered or removed first.

    Parameters
    ----------
    inputs
        Files the data is read from (named in the refusal if they lie inside ``path``).

    Returns
    -------
    Path
        The snapshot folder.

    Raises
    ------
    SnapshotError
        If ``path`` holds something other than a snapshot, or the data violates the
        snapshot format (nothing is written then).
    """
    target = Path(os.path.abspath(os.fspath(path)))
    man = manifest if isinstance(manifest, Manifest) else Manifest.from_dict(dict(manifest))

    def check() -> None:
        writes.check_folder_target(
            target, marker=MANIFEST_FILE, owned=SNAPSHOT_FILES, inputs=inputs
        )

    check()
    writes.recover(target, is_complete=_loads)
    tmp = writes.temp_folder(target)
    try:
        _write_tables(
            tmp.path,
            [
                (CUSTOMERS, customers),
                (TRANSACTIONS, transactions),
                (SERVICE_COSTS, service_costs),
                (PROSPECTS, prospects),
            ],
        )
        (tmp.path / MANIFEST_FILE).write_text(
            json.dumps(man.to_dict(), indent=2) + "\n", encoding="utf-8"
        )
        writes.fsync_tree(tmp.path)
        try:
            load_snapshot(tmp.path)  # validate what was written
        except SnapshotError as exc:  # name the table, not the hidden temporary folder
            raise SnapshotError(
                Path(exc.file).name,
                exc.problem,
                column=exc.column,
                rows=exc.rows,
                examples=exc.examples,
            ) from None
        writes.replace_folder(tmp, check)
    except BaseException:
        tmp.close()
        shutil.rmtree(tmp.path, ignore_errors=True)
        raise
    return target


SNAPSHOT_FILES = frozenset({MANIFEST_FILE, *(spec.file for spec in TABLES)})


def _loads(folder: Path) -> bool:
    try:
        load_snapshot(folder)
    except SnapshotError:
        return False
    return True


def _write_tables(folder: Path, tables: Iterable[tuple[TableSpec, Any]]) -> None:
    for spec, frame in tables:
        if frame is None:
            continue
        lf = conform(spec, frame.lazy(), spec.file)
        try:
            lf.sink_parquet(folder / spec.file, compression="zstd", statistics=True)
        except SnapshotError:
            raise
        except Exception as exc:
            raise SnapshotError(spec.file, f"could not be written: {short(exc)}") from None


# ----------------------------------------------------------------------------- discovery


def find_snapshots(*roots: str | os.PathLike[str] | None) -> list[Path]:
    """Snapshot folders (with a ``manifest.json``) that are ``root`` or directly under it.

    Missing roots are skipped; the result is sorted and free of duplicates.
    """
    found: dict[Path, None] = {}
    for root in roots:
        if root is None or str(root) == "":
            continue
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        candidates: Iterable[Path] = [base, *sorted(p for p in base.iterdir() if p.is_dir())]
        for folder in candidates:
            if folder.name.startswith(".") and folder != base:
                continue
            if (folder / MANIFEST_FILE).is_file():
                found[folder.resolve()] = None
    return sorted(found)
