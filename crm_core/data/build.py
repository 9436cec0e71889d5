"""Build a snapshot from exports (``crm build`` and the "Your data" page share this code).

:func:`import_snapshot` reads a transactions export (a file, or a PostgreSQL query through
:mod:`crm_core.data.sql`) and optional service-cost and prospect exports exactly (see
:mod:`crm_core.data.values`), in batches into a hidden work folder beside the target (so
memory stays bounded), derives the customers table, and writes the snapshot with
:func:`~crm_core.data.snapshot.write_snapshot` (absent, empty or snapshot targets only;
atomic). Every problem is collected with its rows; with ``dry_run`` they are returned for
the page's validation report, otherwise the first is raised (:class:`ProblemsFound`).

The customers table: each customer is acquired on their first transaction (on or before
the as-of date), through the channel of that transaction (when a channel is mapped), in
the region of their first row with one, at the acquisition cost given on their rows
(it must not differ between rows of one customer; 0 when none is given).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from crm_core.data import writes
from crm_core.data.derive import (
    Table,
    column_of,
    customers_and_transactions,
    duplicates,
    linked,
    read_table,
)
from crm_core.data.exports import ReadOptions
from crm_core.data.manifest import AS_OF_RANGE, Manifest
from crm_core.data.mapping import (
    PROSPECT_ROLES,
    SERVICE_ROLES,
    TRANSACTION_ROLES,
    Role,
    propose,
)
from crm_core.data.plan import plan_table
from crm_core.data.problems import Problem, ProblemsFound
from crm_core.data.schema import MANIFEST_FILE, NON_CONTRACTUAL, C
from crm_core.data.snapshot import SNAPSHOT_FILES, Snapshot, write_snapshot
from crm_core.data.sources import FileSource, Source, source_of
from crm_core.data.staging import Progress, parse_batch
from crm_core.errors import SnapshotError

__all__ = [
    "BuildReport",
    "FileSource",
    "Inspection",
    "Source",
    "build_snapshot",
    "check_as_of",
    "import_snapshot",
    "inspect_source",
]


@dataclass(frozen=True)
class BuildReport:
    """What a build read, found and wrote.

    Attributes
    ----------
    path
        The snapshot written (``None`` for a dry run or when problems were found).
    problems
        Every problem found, with its rows (empty when the build succeeded).
    notes
        How the exports were read (detected delimiter, decimal mark, date formats, ...).
    rows
        Rows read per table (``transactions``, ``service_costs``, ``prospects``).
    ignored
        Rows left out for lying after the as-of date.
    customers, transactions
        Counts in the snapshot.
    first, last
        Dates of the first and last transaction kept.
    """

    path: Path | None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    rows: Mapping[str, int] = field(default_factory=dict)
    ignored: int = 0
    customers: int = 0
    transactions: int = 0
    first: date | None = None
    last: date | None = None


def import_snapshot(
    out: str | os.PathLike[str] | None,
    *,
    transactions: str | os.PathLike[str] | Source,
    as_of: date,
    mapping: Mapping[str, str | None] | None = None,
    options: ReadOptions | None = None,
    service_costs: str | os.PathLike[str] | Source | None = None,
    prospects: str | os.PathLike[str] | Source | None = None,
    company: str = "My company",
    currency: str = "USD",
    discount_rate: float = 0.10,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Read the exports, check every row and (unless ``dry_run``) write the snapshot.

    Parameters
    ----------
    out
        Snapshot folder to write (absent, empty, or an existing snapshot); may be ``None``
        for a dry run.
    transactions
        One row per purchase or refund: a file path or a :class:`Source`.
    as_of
        The date the snapshot describes; later rows are left out and counted.
    mapping
        Role key -> column of the transactions export; roles not given are proposed from
        the column names (required ones always, optional ones only without a mapping).
    options
        How to read text values (decimal mark, date format, ...); ``None`` detects.
    service_costs, prospects
        Optional exports with the snapshot's columns (or common names for them).
    company, currency, discount_rate
        Written to the manifest.
    dry_run
        Check only: return the problems instead of raising, write nothing.
    progress
        Called as ``progress(what, rows done, rows in all or None)`` while reading.

    Raises
    ------
    ProblemsFound
        (a :class:`~crm_core.errors.SnapshotError`) with every problem, unless ``dry_run``.
    SnapshotError
        If ``out`` is neither absent, empty nor a snapshot, or a file cannot be opened.
    """
    check_as_of(as_of)
    options = options or ReadOptions()
    man = Manifest(as_of=as_of, company=company, currency=currency,
                   business_model=NON_CONTRACTUAL, discount_rate=discount_rate)  # fmt: skip
    sources = [source_of(s) for s in (transactions, service_costs, prospects) if s is not None]
    inputs = [s.path for s in sources if isinstance(s, FileSource)]
    target = None if out is None else Path(os.path.abspath(os.fspath(out)))
    if target is not None:
        writes.check_folder_target(target, marker=MANIFEST_FILE, owned=SNAPSHOT_FILES,
                                   inputs=inputs)  # fmt: skip
        writes.recover(target)
    problems: list[Problem] = []
    with contextlib.ExitStack() as stack:
        work = _workdir(target, stack)
        tx = read_table("transactions", source_of(transactions), TRANSACTION_ROLES, mapping,
                        options, work, stack, progress, problems)  # fmt: skip
        extra = {}
        for name, src, roles in (("service_costs", service_costs, SERVICE_ROLES),
                                 ("prospects", prospects, PROSPECT_ROLES)):  # fmt: skip
            if src is not None:
                extra[name] = read_table(name, source_of(src), roles, None, options, work, stack,
                                    progress, problems)  # fmt: skip
        if tx is None or problems:
            return _finish(problems, dry_run, tx, extra)
        customers, kept = customers_and_transactions(tx, as_of, problems)
        everyone = tx.staged.frame.select(C.customer_id).unique()  # type: ignore[union-attr]
        service = linked(extra.get("service_costs"), C.date, C.customer_id, customers,
                          everyone, as_of, problems)  # fmt: skip
        duplicates(extra.get("prospects"), C.prospect_id, problems)
        leads = linked(extra.get("prospects"), C.first_contact, C.converted_customer_id,
                        customers, everyone, as_of, problems)  # fmt: skip
        stats = (
            kept.select(
                pl.len().alias("n"),
                pl.col(C.date).min().alias("first"),
                pl.col(C.date).max().alias("last"),
            )
            .collect()
            .row(0, named=True)
        )
        if not stats["n"] and not problems:
            column = column_of(tx, C.date)
            problems.append(Problem(tx.export.source, column,
                                    f"has no transactions on or before {as_of}"))  # fmt: skip
        if problems or dry_run:
            return _finish(problems, dry_run, tx, extra, stats, as_of)
        if progress is not None:
            progress("Writing the snapshot", 0, None)
        path = write_snapshot(
            target,  # type: ignore[arg-type]
            manifest=_manifest(man, tx, extra),
            customers=customers,
            transactions=kept,
            service_costs=None if service is None else service.select(
                C.customer_id, C.date, C.touchpoint, C.cost),
            prospects=None if leads is None else leads.select(
                C.prospect_id, C.first_contact, C.channel, C.converted_customer_id),
            inputs=inputs,
        )  # fmt: skip
        report = _finish([], True, tx, extra, stats, as_of)
        n_customers = customers.select(pl.len()).collect().item()
    return BuildReport(path, (), report.notes, report.rows, report.ignored, n_customers,
                       report.transactions, report.first, report.last)  # fmt: skip


def check_as_of(as_of: date, name: str = "as-of date") -> None:
    """Refuse an as-of date the pages cannot count quarters and horizons from (before any
    row is read; ``name`` is how the caller calls it, e.g. ``--as-of``)."""
    low, high = AS_OF_RANGE
    if not low <= as_of <= high:
        raise SnapshotError(name, f"must lie between {low} and {high}, found {as_of}")


def _workdir(target: Path | None, stack: contextlib.ExitStack) -> Path:
    """A locked hidden folder beside the target (cleaned if a run is killed), or a
    temporary folder for dry runs."""
    if target is None:
        return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-build-")))
    try:
        tmp = writes.temp_folder(target)
    except OSError as exc:
        why = exc.strerror or str(exc)
        blocking = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            why = f"{blocking} is a file, not a folder"
        raise SnapshotError(str(target), f"cannot be written: {why}") from None

    def cleanup() -> None:
        tmp.close()
        shutil.rmtree(tmp.path, ignore_errors=True)

    stack.callback(cleanup)
    return tmp.path


def _finish(
    problems: list[Problem],
    dry_run: bool,
    tx: Table | None,
    extra: Mapping[str, Table | None],
    stats: Mapping[str, Any] | None = None,
    as_of: date | None = None,
) -> BuildReport:
    if problems and not dry_run:
        raise ProblemsFound(problems)
    tables = [t for t in (tx, *extra.values()) if t is not None]
    notes = []
    for t in tables:
        said = [*t.export.notes, *t.plan.notes]
        if said:
            notes.append(f"{t.export.label}: {', '.join(said)}")
    rows = {t.name: t.staged.rows for t in tables if t.staged is not None}
    ignored = 0
    if tx is not None and tx.staged is not None and as_of is not None:
        ignored = tx.staged.frame.filter(pl.col(C.date) > as_of).select(pl.len()).collect().item()
    stats = stats or {}
    return BuildReport(None, tuple(problems), tuple(notes), rows, ignored, 0,
                       int(stats.get("n") or 0), stats.get("first"), stats.get("last"))  # fmt: skip


def _manifest(man: Manifest, tx: Table, extra: Mapping[str, Table | None]) -> Manifest:
    built = {"transactions": tx.export.label}
    for name, table in extra.items():
        if table is not None:
            built[name] = table.export.label
    read = {"columns": {r.key: c for r, c in tx.plan.columns}, "decimal": tx.plan.decimal}
    if tx.export.delimiter:
        read["delimiter"] = tx.export.delimiter
    if tx.export.encoding:
        read["encoding"] = tx.export.encoding
    formats = {k: f for k, f in tx.plan.date_formats.items() if f}
    if formats:
        read["date_formats"] = formats
    return Manifest(as_of=man.as_of, company=man.company, currency=man.currency,
                    business_model=man.business_model, discount_rate=man.discount_rate,
                    extra={"built_from": built["transactions"], "import": read,
                           **({"sources": built} if len(built) > 1 else {})})  # fmt: skip


@dataclass(frozen=True)
class Inspection:
    """A first look at an export, before every row is read.

    Attributes
    ----------
    columns
        The export's columns.
    proposal
        Role key -> proposed column (``None``: no column matches).
    preview
        The first rows as they will be read (role keys as columns, ``__n`` the row number);
        ``None`` while the plan has problems.
    notes
        How the export is read, in words.
    problems
        Problems found before reading every row (types, decimal mark, date format, ...).
    unit
        How rows are numbered: ``"line"`` (text files) or ``"row"``.
    """

    columns: tuple[str, ...]
    proposal: Mapping[str, str | None]
    preview: pl.DataFrame | None
    notes: tuple[str, ...]
    problems: tuple[Problem, ...]
    unit: str


def inspect_source(
    source: str | os.PathLike[str] | Source,
    roles: Sequence[Role],
    mapping: Mapping[str, str | None] | None,
    options: ReadOptions,
    *,
    rows: int = 20,
) -> Inspection:
    """Open ``source``, propose a mapping, plan the reading under ``mapping`` (the proposal
    if ``None``) and read the first ``rows`` rows as they will be read."""
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-look-")))
        export = source_of(source).open(options, work, stack)
        proposal = propose(export.columns, roles)
        chosen = dict(proposal if mapping is None else mapping)
        try:
            plan, problems = plan_table(export, roles, chosen, options)
            preview = None
            if not problems:
                preview = parse_batch(export.frame.head(rows).collect(), plan, export)
        except SnapshotError:
            raise
        except Exception as exc:
            raise export.failed(exc) from None
        return Inspection(tuple(export.columns), proposal, preview,
                          (*export.notes, *plan.notes), tuple(problems), export.unit)  # fmt: skip


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
    """Build a validated in-memory snapshot from a flat export of transactions.

    The same reading as :func:`import_snapshot` (exact values, detection), for exports
    that fit in memory; see there for how customers are derived.

    Returns
    -------
    tuple[Snapshot, int]
        The snapshot (not written) and the number of rows left out for lying after
        ``as_of``.
    """
    del business_model  # customers' contract ends cannot be derived from transactions
    check_as_of(as_of)
    mapping = {C.customer_id: customer_col, C.date: date_col, C.amount: amount_col,
               C.cost: cost_col, C.channel: channel_col, C.region: region_col}  # fmt: skip
    problems: list[Problem] = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-build-")))
        tx = read_table("transactions", source_of(transactions), TRANSACTION_ROLES, mapping,
                   ReadOptions(date_format=date_format), work, stack, None, problems)  # fmt: skip
        if tx is None or problems:
            raise ProblemsFound(problems)
        customers, kept = customers_and_transactions(tx, as_of, problems)
        frames = pl.collect_all([customers, kept])
        ignored = _finish([], True, tx, {}, None, as_of).ignored
        if problems:
            raise ProblemsFound(problems)
        if frames[1].height == 0:
            column = column_of(tx, C.date)
            raise ProblemsFound(
                [Problem(str(transactions), column, f"has no transactions on or before {as_of}")]
            )
        man = _manifest(Manifest(as_of=as_of, company=company, currency=currency,
                                 discount_rate=discount_rate), tx, {})  # fmt: skip
    return Snapshot.from_frames(man, customers=frames[0], transactions=frames[1]), ignored
