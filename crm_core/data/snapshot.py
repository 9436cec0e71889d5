"""Snapshots: a company's customer data as of one date, stored as a folder of Parquet files.

``load_snapshot`` validates a folder against the format in ``crm_core.data.schema`` and returns
lazy frames; ``write_snapshot`` writes one atomically; ``Snapshot.cut`` gives the same data
as of an earlier date. Every data problem raises :class:`~crm_core.errors.SnapshotError`
naming the file, the column, the number of rows and a few example values; no polars or
pyarrow exception reaches the caller, and loading never writes to the folder.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from crm_core.data.schema import (
    BUSINESS_MODELS,
    CUSTOMERS,
    MANIFEST_FILE,
    NON_CONTRACTUAL,
    PROSPECTS,
    SCHEMA_VERSION,
    SERVICE_COSTS,
    TABLES,
    TRANSACTIONS,
    C,
    TableSpec,
)
from crm_core.errors import SnapshotError

__all__ = [
    "Manifest",
    "Snapshot",
    "find_snapshots",
    "load_snapshot",
    "write_snapshot",
]

_EXAMPLES = 5
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


# ----------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Manifest:
    """The snapshot's ``manifest.json``.

    Attributes
    ----------
    as_of
        Date the data describes (every row is dated on or before it).
    company
        Company name shown in the app.
    currency
        ISO 4217 code of every amount in the snapshot.
    business_model
        ``"non_contractual"`` (retail, cards: churn is unobserved) or ``"contractual"``
        (subscriptions: ``customers.churned_on`` records the end of the contract).
    discount_rate
        Yearly discount rate used for CLV and equity (0.10 = 10% a year).
    schema_version
        Snapshot format version (1).
    extra
        Any other keys found in the manifest, kept as they were.
    """

    as_of: date
    company: str
    currency: str = "USD"
    business_model: str = NON_CONTRACTUAL
    discount_rate: float = 0.10
    schema_version: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: object, *, file: str = MANIFEST_FILE) -> Manifest:
        """Validate a parsed manifest, raising :class:`SnapshotError` naming the bad key."""
        if not isinstance(raw, dict):
            raise SnapshotError(file, f"must be a JSON object, found {type(raw).__name__}")
        missing = [k for k in ("schema_version", "as_of", "company") if k not in raw]
        if missing:
            raise SnapshotError(file, f"is missing the key(s) {', '.join(missing)}")

        version = raw["schema_version"]
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise SnapshotError(
                file,
                f"key 'schema_version' is {version!r}; this version reads schema_version "
                f"{SCHEMA_VERSION}",
            )
        try:
            as_of = date.fromisoformat(str(raw["as_of"]))
        except ValueError:
            raise SnapshotError(
                file, f"key 'as_of' must be a date YYYY-MM-DD, found {raw['as_of']!r}"
            ) from None
        company = raw["company"]
        if not isinstance(company, str) or not company.strip():
            raise SnapshotError(file, f"key 'company' must be a non-empty text, found {company!r}")
        currency = raw.get("currency", "USD")
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
            raise SnapshotError(
                file, f"key 'currency' must be a 3-letter ISO code, found {currency!r}"
            )
        model = raw.get("business_model", NON_CONTRACTUAL)
        if model not in BUSINESS_MODELS:
            raise SnapshotError(
                file,
                f"key 'business_model' must be one of {', '.join(BUSINESS_MODELS)}, "
                f"found {model!r}",
            )
        rate = raw.get("discount_rate", 0.10)
        if (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not math.isfinite(rate)
            or not 0 <= rate < 1
        ):
            raise SnapshotError(
                file, f"key 'discount_rate' must be a number in [0, 1), found {rate!r}"
            )
        known = {
            "schema_version",
            "as_of",
            "company",
            "currency",
            "business_model",
            "discount_rate",
        }
        return cls(
            as_of=as_of,
            company=company.strip(),
            currency=currency.upper(),
            business_model=model,
            discount_rate=float(rate),
            schema_version=SCHEMA_VERSION,
            extra={k: v for k, v in raw.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``manifest.json``."""
        return {
            "schema_version": self.schema_version,
            "as_of": self.as_of.isoformat(),
            "company": self.company,
            "currency": self.currency,
            "business_model": self.business_model,
            "discount_rate": self.discount_rate,
            **dict(self.extra),
        }

    @property
    def contractual(self) -> bool:
        """Whether churn is observed (``churned_on`` is meaningful)."""
        return self.business_model != NON_CONTRACTUAL


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
        checked[spec.name] = spec.empty() if lf is None else _conform(spec, lf, label(spec))
    customer_ids = checked[CUSTOMERS.name].select(C.customer_id)
    for spec in TABLES:
        if frames.get(spec.name) is not None:
            _check_rows(spec, checked[spec.name], label(spec), manifest.as_of, customer_ids)
    _check_churn_dates(checked[CUSTOMERS.name], label(CUSTOMERS))
    return Snapshot(
        manifest=manifest,
        customers=checked[CUSTOMERS.name],
        transactions=checked[TRANSACTIONS.name],
        service_costs=checked[SERVICE_COSTS.name],
        prospects=checked[PROSPECTS.name],
        path=path,
    )


def _conform(spec: TableSpec, lf: pl.LazyFrame, file: str) -> pl.LazyFrame:
    """Check column presence and dtypes; cast safe widenings (ints to float)."""
    try:
        schema = lf.collect_schema()
    except Exception as exc:  # polars/pyarrow raise many types for damaged files
        raise SnapshotError(
            file, f"cannot be read as Parquet (truncated or damaged?): {_short(exc)}"
        ) from None
    casts: list[pl.Expr] = []
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
        elif dtype == pl.String and isinstance(actual, _STRING_SOURCES):
            casts.append(pl.col(name).cast(pl.String))
        else:
            raise SnapshotError(
                file, f"has type {actual}, expected {_type_name(dtype)}", column=name
            )
    return lf.with_columns(casts) if casts else lf


def _type_name(dtype: pl.DataType) -> str:
    return {pl.String: "text (string)", pl.Date: "date", pl.Float64: "number (float64)"}.get(
        type(dtype), str(dtype)
    )


def _short(exc: BaseException) -> str:
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


def _collect(lf: pl.LazyFrame, file: str) -> pl.DataFrame:
    try:
        return lf.collect()
    except Exception as exc:  # damaged pages surface only when the data is read
        raise SnapshotError(
            file, f"cannot be read (truncated or damaged?): {_short(exc)}"
        ) from None


def _check_rows(
    spec: TableSpec, lf: pl.LazyFrame, file: str, as_of: date, customer_ids: pl.LazyFrame
) -> None:
    """One pass of counts over the table; examples are fetched only for a failing rule."""
    rules = _rules(spec, as_of)
    if rules:
        counts = _collect(
            lf.select([r.bad.sum().alias(f"r{i}") for i, r in enumerate(rules)]), file
        ).row(0)
        for i, (rule, n) in enumerate(zip(rules, counts, strict=True)):
            if n:
                examples = _collect(
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
        n = _collect(unknown.select(pl.len()), file).item()
        if n:
            examples = _collect(
                unknown.select(pl.col(col).unique(maintain_order=True).head(_EXAMPLES)), file
            )[col].to_list()
            raise SnapshotError(
                file,
                f"refers to customers not in {CUSTOMERS.file}",
                column=col,
                rows=int(n),
                examples=examples,
            )


def _check_churn_dates(customers: pl.LazyFrame, file: str) -> None:
    bad = pl.col(C.churned_on) < pl.col(C.acquired_on)
    n = _collect(customers.select(bad.sum()), file).item()
    if n:
        examples = _collect(customers.filter(bad).select(C.customer_id).head(_EXAMPLES), file)
        raise SnapshotError(
            file,
            "has contracts ending before the customer was acquired",
            column=C.churned_on,
            rows=int(n),
            examples=examples[C.customer_id].to_list(),
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
) -> Path:
    """Validate and write a snapshot folder atomically.

    The data is written to a temporary folder beside ``path``, validated by reading it
    back, then renamed into place (replacing an existing snapshot), so a crash never leaves
    half a snapshot and an invalid one is never written.

    Returns
    -------
    Path
        The snapshot folder.

    Raises
    ------
    SnapshotError
        If the data violates the snapshot format (nothing is written then).
    """
    target = Path(path)
    man = manifest if isinstance(manifest, Manifest) else Manifest.from_dict(dict(manifest))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _write_tables(
            tmp,
            [
                (CUSTOMERS, customers),
                (TRANSACTIONS, transactions),
                (SERVICE_COSTS, service_costs),
                (PROSPECTS, prospects),
            ],
        )
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(man.to_dict(), indent=2) + "\n", encoding="utf-8"
        )
        load_snapshot(tmp)  # validate what was written
        _replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_tables(folder: Path, tables: Iterable[tuple[TableSpec, Any]]) -> None:
    for spec, frame in tables:
        if frame is None:
            continue
        lf = _conform(spec, frame.lazy(), spec.file)
        try:
            lf.sink_parquet(folder / spec.file, compression="zstd", statistics=True)
        except Exception as exc:
            raise SnapshotError(spec.file, f"could not be written: {_short(exc)}") from None


def _replace_folder(tmp: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        try:
            tmp.rename(target)
        except BaseException:
            old.rename(target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(target)
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
