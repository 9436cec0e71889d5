"""Loader of the "Your data" page: uploads kept as files, the cached look at and check of an
export, the build (the very ``import_snapshot`` that ``crm build`` runs) and the size of
the selected snapshot.

Uploads are written to a private temporary folder (``crm-uploads``, newest dozen kept) so
the same reader serves them as files of any size. Results are cached per source and
settings with ``st.cache_resource``; a problem that stops reading is returned as a value,
so the page shows it as an error box and keeps working.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from crm_app import state
from crm_core.copy import sampled_rows_note
from crm_core.copy import your_data as copy
from crm_core.data.build import (
    BuildReport,
    Inspection,
    Source,
    import_snapshot,
    inspect_source,
)
from crm_core.data.exports import ReadOptions
from crm_core.data.ledger import sampled_customers
from crm_core.data.mapping import TRANSACTION_ROLES
from crm_core.data.problems import ProblemsFound
from crm_core.data.snapshot import find_snapshots
from crm_core.data.sql import SqlSource
from crm_core.errors import SnapshotError

__all__ = [
    "Contents",
    "Look",
    "build",
    "build_clicked",
    "check",
    "contents",
    "keep_upload",
    "look",
    "select",
    "source_key",
    "target_root",
    "upload_limit_mb",
]

UPLOADS = Path(tempfile.gettempdir()) / "crm-uploads"
_KEPT = 12
Mapping = tuple[tuple[str, str | None], ...]


def upload_limit_mb() -> int:
    """The largest upload the server accepts, in MB (``server.maxUploadSize``)."""
    return int(st.get_option("server.maxUploadSize"))


def keep_upload(uploaded) -> Path:
    """The uploaded file written once to a private temporary folder; its path."""
    token = re.sub(r"[^A-Za-z0-9_-]", "", str(uploaded.file_id))[:64] or "upload"
    folder = UPLOADS / token
    name = re.sub(r"[^\w.\- ]", "_", Path(uploaded.name).name).lstrip(".") or "export"
    path = folder / name
    if not path.exists():
        UPLOADS.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        part = path.with_name(f".{name}.part")
        with part.open("wb") as out:
            uploaded.seek(0)
            shutil.copyfileobj(uploaded, out, length=16 * 1024 * 1024)
        part.replace(path)
        _prune()
    return path


def _prune() -> None:
    folders = sorted(
        (p for p in UPLOADS.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in folders[_KEPT:]:
        shutil.rmtree(old, ignore_errors=True)


def source_key(source: Path | SqlSource) -> str:
    """Cache key of a source (a digest for database sources: no credentials in keys)."""
    if isinstance(source, SqlSource):
        text = f"{source.url}\0{source.query}\0{source.table}"
        return "sql:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    stat = Path(source).stat()
    return f"file:{source}:{stat.st_size}:{stat.st_mtime_ns}"


@dataclass(frozen=True)
class Look:
    """A first look at an export (:class:`crm_core.data.build.Inspection`), or the problem
    that stopped reading it (``failure``)."""

    seen: Inspection | None = None
    failure: str | None = None


@st.cache_resource(show_spinner="Reading the export…", max_entries=8)
def look(key: str, _source: Path | Source, options: ReadOptions, mapping: Mapping | None) -> Look:
    """Columns, proposed mapping, the first rows as read, notes and problems."""
    del key  # the cache key of _source
    try:
        seen = inspect_source(
            _source, TRANSACTION_ROLES, None if mapping is None else dict(mapping), options
        )
    except SnapshotError as exc:
        return Look(failure=copy.failure(exc))
    return Look(seen)


@st.cache_resource(show_spinner="Checking every row…", max_entries=8)
def check(
    key: str,
    _source: Path | Source,
    options: ReadOptions,
    mapping: Mapping,
    extras: tuple[str | None, str | None],
    as_of: date,
) -> BuildReport | str:
    """Every problem of every row (a dry run of the build), or the error that stopped it."""
    del key
    try:
        return import_snapshot(
            None, transactions=_source, as_of=as_of, mapping=dict(mapping), options=options,
            service_costs=extras[0], prospects=extras[1], dry_run=True,
        )  # fmt: skip
    except SnapshotError as exc:
        return copy.failure(exc)


def target_root() -> Path:
    """Where new snapshots go: ``$CRM_DATA_DIR`` if set, else the app's ``data/``."""
    return state.data_roots()[-1]


def build(
    folder: str,
    source: Path | Source,
    options: ReadOptions,
    mapping: Mapping,
    extras: tuple[str | None, str | None],
    *,
    as_of: date,
    company: str,
    currency: str,
    discount_rate: float,
) -> BuildReport | str:
    """Build and write the snapshot (``crm build``'s code); the error text if it fails."""
    try:
        return import_snapshot(
            target_root() / folder, transactions=source, as_of=as_of, mapping=dict(mapping),
            options=options, service_costs=extras[0], prospects=extras[1], company=company,
            currency=currency, discount_rate=discount_rate,
        )  # fmt: skip
    except ProblemsFound as exc:
        return f"{copy.failure(exc)} ({len(exc.problems)} problems in all: see the report above)"
    except SnapshotError as exc:
        return copy.failure(exc)
    except OSError as exc:
        return str(exc)


FLASH, FAILED = "_yd_flash", "_yd_failed"


def build_clicked(folder: str, *args, **kwargs) -> None:
    """The build button's callback: build, then select the new snapshot in the sidebar
    (a callback runs before the next run draws the sidebar) or keep the error to show."""
    from crm_core.formatting import fmt_count

    done = build(folder, *args, **kwargs)
    if isinstance(done, str):
        st.session_state[FAILED] = done
        return
    select(done.path, kwargs["as_of"])
    st.session_state[FLASH] = (
        f"Built {folder}: {fmt_count(done.customers, compact=False)} customers, "
        f"{fmt_count(done.transactions, compact=False)} transactions. It is selected in the "
        "sidebar."
    )


def select(path: Path, as_of: date) -> None:
    """Pick the snapshot at ``path`` in the sidebar on the next run, at its own date (not
    the date chosen for the snapshot shown before)."""
    ids = state._short_ids(find_snapshots(*state.data_roots()))
    wanted = Path(os.path.abspath(path)).resolve()
    for name, folder in ids.items():
        if folder == wanted:
            st.session_state["snapshot"] = name
            st.session_state["as_of"] = as_of.isoformat()
            return


@dataclass(frozen=True)
class Contents:
    """Size of a snapshot: customers, transactions, first and last transaction date, and
    the note when it keeps the raw rows of a sample of customers only (a Spark build)."""

    customers: int
    transactions: int
    first: date | None
    last: date | None
    sampled_note: str | None = None


@st.cache_resource(show_spinner=False, max_entries=16)
def contents(path: str, stamp: str, as_of: date) -> Contents:
    """What the selected snapshot holds up to ``as_of`` (the sidebar's validated snapshot,
    loaded once for every page; counts and dates from one pass over two columns)."""
    snap = state.snapshot(path, stamp, as_of)
    tx = snap.transactions.select(
        pl.len().alias("n"), pl.col("date").min().alias("a"), pl.col("date").max().alias("b")
    ).collect()
    n, first, last = tx.row(0)
    customers = snap.customers.select(pl.len()).collect().item()
    note = sampled_rows_note(sampled_customers(snap.manifest))
    return Contents(customers, n, first, last, note)
