"""App-wide state: which snapshot and as-of date the user is looking at.

``app.py`` calls :func:`sidebar` once per run; pages call :func:`require_selection` to get
the current :class:`Selection` (or show guidance and stop) and :func:`snapshot` inside
their ``st.cache_data`` functions. Validation of a snapshot folder is cached with
``st.cache_resource`` keyed on its path and file modification times, so editing or
regenerating a snapshot is picked up without restarting the app.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from crm_app import auth
from crm_core.data.expressions import add_months, quarter_end
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot, find_snapshots, load_snapshot
from crm_core.errors import DataError, SnapshotError

__all__ = [
    "DATA_DIR",
    "ENV_DATA_DIR",
    "Selection",
    "escape_markdown",
    "guard",
    "require_selection",
    "routed",
    "sidebar",
    "snapshot",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ENV_DATA_DIR = "CRM_DATA_DIR"
_SELECTION = "_crm_selection"
_ERROR = "_crm_snapshot_error"
_REROUTES = "_crm_reroutes"


@dataclass(frozen=True)
class Selection:
    """The snapshot and date the user chose.

    Attributes
    ----------
    path
        Snapshot folder.
    stamp
        Fingerprint of the folder's files (changes when the data changes); part of every
        cache key.
    as_of
        Date the pages describe (the snapshot's own date or an earlier quarter end).
    company, currency, business_model, discount_rate
        From the manifest.
    snapshot_as_of
        The snapshot's own as-of date.
    """

    path: str
    stamp: str
    as_of: date
    company: str
    currency: str
    business_model: str
    discount_rate: float
    snapshot_as_of: date

    @property
    def key(self) -> tuple[str, str, date]:
        """``(path, stamp, as_of)``: pass it to cached page functions."""
        return (self.path, self.stamp, self.as_of)

    @property
    def contractual(self) -> bool:
        """Whether the business is contractual (subscriptions)."""
        return self.business_model == "contractual"


def data_roots() -> list[Path]:
    """Folders searched for snapshots: ``data/`` and ``$CRM_DATA_DIR`` if set."""
    roots = [DATA_DIR]
    extra = os.environ.get(ENV_DATA_DIR, "").strip()
    if extra:
        roots.append(Path(extra).expanduser())
    return roots


def _stamp(path: str) -> str:
    folder = Path(path)
    parts = []
    for file in sorted(folder.glob("*")):
        if file.is_file():
            stat = file.stat()
            parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


@st.cache_resource(show_spinner="Checking the snapshot…", max_entries=8)
def _load(path: str, stamp: str) -> tuple[Snapshot, date]:
    """Validated snapshot and the date of its first recorded activity."""
    del stamp  # part of the cache key only
    snap = load_snapshot(path)
    first = (
        pl.concat(
            [
                snap.customers.select(pl.col(C.acquired_on).min().alias("d")),
                snap.transactions.select(pl.col(C.date).min().alias("d")),
            ]
        )
        .select(pl.col("d").min())
        .collect()
        .item()
    )
    return snap, first or snap.as_of


def snapshot(path: str, stamp: str, as_of: date) -> Snapshot:
    """The validated snapshot at ``path``, cut at ``as_of`` (cached across reruns)."""
    snap, _ = _load(path, stamp)
    return snap.cut(as_of)


def as_of_choices(snapshot_as_of: date, first: date) -> list[date]:
    """The snapshot's date, then earlier quarter ends back to one year after ``first``."""
    choices = [snapshot_as_of]
    end = quarter_end(snapshot_as_of)
    if end >= snapshot_as_of:
        end = add_months(end, -3)
    floor = add_months(first, 12)
    while end >= floor:
        choices.append(end)
        end = add_months(end, -3)
    return choices


def sidebar() -> None:
    """Render the snapshot picker and as-of date; store the selection for the pages."""
    st.session_state[_SELECTION] = None
    st.session_state[_ERROR] = None
    folders = find_snapshots(*data_roots())
    with st.sidebar:
        if not folders:
            st.warning(
                "No snapshot found. Run `make run` (it generates the sample company) or "
                f"`crm sample --out data/sample`, or point {ENV_DATA_DIR} at a folder of "
                "snapshots."
            )
            return
        ids = _short_ids(folders)
        choice = st.selectbox(
            "Snapshot",
            options=list(ids),  # short folder ids: the URL carries the option text
            key="snapshot",
            bind="query-params",
            help="A snapshot is a folder of Parquet files describing one company as of one "
            "date. Folders under data/ and under $CRM_DATA_DIR are listed.",
        )
        path = str(ids[choice])
        stamp = _stamp(path)
        try:
            snap, first = _load(path, stamp)
        except SnapshotError as exc:
            st.session_state[_ERROR] = (path, str(exc))
            st.error("This snapshot is invalid; see the page for details.", icon="⚠️")
            return
        choices = as_of_choices(snap.as_of, first)
        as_of = st.selectbox(
            "As of",
            options=[d.isoformat() for d in choices],
            key="as_of",
            bind="query-params",
            help="The first date is the snapshot's own. Earlier quarter ends show the company "
            "as it was then: every page uses only the data recorded up to that date.",
        )
        man = snap.manifest
        st.session_state[_SELECTION] = Selection(
            path=path,
            stamp=stamp,
            as_of=date.fromisoformat(as_of),
            company=man.company,
            currency=man.currency,
            business_model=man.business_model,
            discount_rate=man.discount_rate,
            snapshot_as_of=snap.as_of,
        )
        model = "subscriptions (contractual)" if man.contractual else "retail (non-contractual)"
        st.caption(
            f"**{escape_markdown(man.company)}** · {model} · amounts in "
            f"{escape_markdown(man.currency)} · "
            f"discount rate {man.discount_rate:.0%}"
        )


def _short_ids(folders: list[Path]) -> dict[str, Path]:
    """URL-friendly ids for snapshot folders: the folder name, disambiguated if needed."""
    ids: dict[str, Path] = {}
    for folder in folders:
        name = folder.name
        if name in ids:
            name = f"{folder.parent.name}/{folder.name}"
        ids[name] = folder
    return ids


_ROUTED: ContextVar[bool] = ContextVar("crm_routed", default=False)


@contextmanager
def routed() -> Iterator[None]:
    """Mark the page as run by ``app.py``'s router (see :func:`_ensure_router`).

    A context variable, not session state: it must be reset even when the page ends
    with ``st.stop()``, and it is private to the session's script thread.
    """
    token = _ROUTED.set(True)
    try:
        yield
    finally:
        _ROUTED.reset(token)


def _ensure_router() -> None:
    """Re-run through ``app.py`` when Streamlit ran a page file on its own.

    Streamlit treats a ``pages/`` folder as a legacy multipage app until ``st.navigation``
    has been called in the process (and ``AppTest`` resets that on every run), so a page
    can be executed without the router and the sidebar: the first request of a fresh
    server for a deep link (``/segments``), or any AppTest rerun. The page then switches
    Streamlit to ``st.navigation`` mode and reruns; the URL, and with it the requested
    page and its query parameters, is kept.
    """
    if _ROUTED.get():
        st.session_state.pop(_REROUTES, None)
        return
    from streamlit.runtime.pages_manager import PagesManager

    # Sessions opened at the same instant on a fresh server all start in legacy mode; the
    # first one switches it off, the others must rerun too (they would otherwise run the
    # page without the sidebar and say "No snapshot is selected"). Bounded, in case.
    PagesManager.uses_pages_directory = False
    reroutes = st.session_state.get(_REROUTES, 0)
    if reroutes < 3:
        st.session_state[_REROUTES] = reroutes + 1
        st.rerun()


def require_selection() -> Selection:
    """The current selection; otherwise explain what to do and stop the page."""
    _ensure_router()
    auth.gate()  # a page run without the router shows nothing before sign-in either
    error = st.session_state.get(_ERROR)
    if error is not None:
        path, message = error
        st.error(
            f"**This snapshot cannot be used.** {escape_markdown(message)}\n\n"
            f"Fix the file (check it with `crm validate {escape_markdown(path)}`) or choose "
            "another snapshot "
            "in the sidebar.",
            icon="⚠️",
        )
        st.stop()
    sel = st.session_state.get(_SELECTION)
    if sel is None:
        st.info(
            "No snapshot is selected. Generate the sample company with `make run` or "
            "`crm sample --out data/sample`, or build one from your own export with "
            "`crm build --transactions export.csv --as-of 2026-09-30 --out data/mine`.",
            icon="ℹ️",
        )
        st.stop()
    return sel


@contextmanager
def guard(what: str = "this page") -> Iterator[None]:
    """Show data problems met while computing ``what`` as an error box and stop the page.

    Only problems the user can fix (:class:`crm_core.errors.DataError`: a bad snapshot, a
    model that cannot be fitted to the data, too little history) are caught; any other
    exception is a bug and surfaces as such, never as "could not compute".
    """
    try:
        yield
    except DataError as exc:
        st.error(f"**Could not compute {what}.** {escape_markdown(str(exc))}", icon="⚠️")
        st.stop()


_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>:~$=")


_WORD_JOINER = "\u2060"  # invisible, no line break: ends a would-be link, shows nothing
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")


def escape_markdown(text: str) -> str:
    """``text`` with every Markdown and Streamlit directive character escaped, so data
    (customer, channel or region names, error messages quoting values) shows as typed:
    no links, images, colours or emphasis.

    Streamlit also turns bare addresses into links after the Markdown is parsed
    (``http://…``, ``www.…``, ``name@host``), whatever is escaped; an invisible word
    joiner inside ``://``, ``www.`` and before ``@`` keeps them text (it is copied with
    the text but not seen)."""
    text = _AUTOLINK.sub(lambda m: _joined(m.group(0)), str(text))
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in text)


def _joined(match: str) -> str:
    if match == "@":
        return _WORD_JOINER + "@"
    return (
        match[:-2] + _WORD_JOINER + match[-2:] if match == "://" else match[:3] + _WORD_JOINER + "."
    )
