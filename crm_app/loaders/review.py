"""Loader of the Quarterly review page: the deck from the shared caches, and its files
made off the script thread.

:func:`deck` builds the review from the caches every page shares
(:mod:`crm_app.loaders.base`: ledger, model sets, valuations, metric inputs) and the
What-if page's own cached baseline and projections (:mod:`crm_app.loaders.whatif`), so
the slides show the pages' numbers without refitting anything. The value-at-risk slides
read the Churn risk page's report (its loader's ``churn_or_error``, one cache for both
pages), or the data problem that prevented it. Training the churn model takes minutes at
hundreds of thousands of customers, so a worker thread scores it (:class:`ChurnJobs`)
and the review shows :class:`~crm_core.report.inputs.Pending` in its place until then;
for small snapshots (under :data:`WAIT_BELOW` customers) the page waits for it.

Files (PowerPoint, PDF, web page) are made by a worker thread of the server
(:class:`Exports`, one per process): drawing the charts with Chromium takes seconds, and
no session's script thread, nobody else's page, waits for it. Each file is kept per
(snapshot, fingerprint, as-of date, scenario, format): asking again gives the same bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import streamlit as st

from crm_app import whatif_state
from crm_app.loaders import base
from crm_app.loaders import whatif as whatif_load
from crm_app.loaders.churn import churn_or_error
from crm_app.loaders.overview import with_year_ago
from crm_core.churn.report import ChurnReport
from crm_core.errors import DataError
from crm_core.report.export import export
from crm_core.report.inputs import CHURN_HORIZON_QUARTERS, Pending, review_inputs
from crm_core.report.sections import build_deck
from crm_core.report.slides import Deck
from crm_core.whatif.levers import Scenario
from crm_core.whatif.scenarios import list_scenarios, load_scenario

__all__ = [
    "ChurnJobs",
    "ExportKey",
    "ExportState",
    "Exports",
    "churn_pending",
    "deck",
    "exports",
    "scenario_folder",
]

ExportKey = tuple[str, str, date, str | None, str]
"""``(path, stamp, as_of, scenario name, format)``: one file."""
KEPT = 12
"""Files kept per server process (the oldest finished ones go first)."""
WAIT_BELOW = 20_000
"""Customers below which the review waits for the churn report (seconds to train)."""
CHURN_KEPT = 4
PENDING = Pending("churn risk")


def scenario_folder(path: str) -> Path:
    """Where the What-if page saves scenarios for the snapshot at ``path``."""
    return Path(path).parent / whatif_state.SCENARIO_FOLDER


def saved_scenarios(path: str) -> list[str]:
    """Names of the scenarios saved beside the snapshot."""
    return list_scenarios(scenario_folder(path))


def churn(path: str, stamp: str, as_of: date) -> ChurnReport | DataError:
    """The Churn risk page's report at its default horizon (its cache), or why there is
    none."""
    return churn_or_error(path, stamp, as_of, CHURN_HORIZON_QUARTERS)


class ChurnJobs:
    """The churn report of each (snapshot, fingerprint, as-of date), scored once by a worker
    thread of the server so no page's script waits minutes for it."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-churn")
        self._lock = threading.Lock()
        self._jobs: OrderedDict[tuple[str, str, date], Future] = OrderedDict()

    def future(self, path: str, stamp: str, as_of: date) -> Future:
        """The job of that report (started now if nobody asked for it yet)."""
        key = (path, stamp, as_of)
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = self._pool.submit(churn, path, stamp, as_of)
                while len(self._jobs) > CHURN_KEPT:
                    self._jobs.popitem(last=False)
            return job


@st.cache_resource(show_spinner=False)
def churn_jobs() -> ChurnJobs:
    """The server's one :class:`ChurnJobs`."""
    return ChurnJobs()


def _churn_now(path: str, stamp: str, as_of: date) -> ChurnReport | DataError | Pending:
    job = churn_jobs().future(path, stamp, as_of)
    if not job.done() and base.ledger(path, stamp, as_of).customers.height < WAIT_BELOW:
        job.result()  # seconds: the review is shown whole
    return job.result() if job.done() else PENDING  # a bug in the worker is raised here


def churn_pending(path: str, stamp: str, as_of: date) -> bool:
    """Whether the churn report of the selection is still being scored."""
    return isinstance(_churn_now(path, stamp, as_of), Pending)


def deck(
    path: str, stamp: str, as_of: date, scenario: str | None, scored: bool | None = None
) -> Deck:
    """The review of the snapshot at ``as_of`` with the saved scenario ``scenario`` (or
    the default +5 points of retention); its value-at-risk section is
    :class:`~crm_core.report.inputs.Pending` while the churn report is being scored
    (``scored``: whether it was, as :func:`churn_pending` told the caller; asked here
    when ``None``).

    Raises
    ------
    DataError
        When the saved scenario cannot be read or does not fit this snapshot.
    """
    if scored is None:
        scored = not churn_pending(path, stamp, as_of)
    return _deck(path, stamp, as_of, scenario, scored)


@st.cache_resource(show_spinner="Preparing the quarterly review…", max_entries=8)
def _deck(path: str, stamp: str, as_of: date, scenario: str | None, scored: bool) -> Deck:
    inputs = with_year_ago(base.metrics(path, stamp, as_of), path, stamp, as_of)
    saved: Scenario | None = None
    if scenario is not None:
        try:
            saved = load_scenario(scenario_folder(path), scenario)
        except ValueError as exc:
            raise DataError(str(exc)) from exc

    def baseline_of(by: str):
        return whatif_load.start(path, stamp, as_of, by, False)

    def project(by: str, s: Scenario | None, horizon: int, rate: float, draws: int):
        return whatif_load.projection((path, stamp, as_of, by, False), s, horizon, rate, draws)

    try:
        review = review_inputs(
            inputs,
            scenario=saved,
            baseline_of=baseline_of,
            project=project,
            churn=_churn_now(path, stamp, as_of) if scored else PENDING,
        )
    except ValueError as exc:  # a saved scenario naming segments this snapshot lacks
        if isinstance(exc, DataError):
            raise
        raise DataError(str(exc)) from exc
    return build_deck(review)


@dataclass
class ExportState:
    """Where one file is: ``status`` is ``"running"``, ``"done"`` or ``"failed"``."""

    status: str = "running"
    step: str = "Waiting for the worker"
    done: float = 0.0
    data: bytes | None = field(default=None, repr=False)
    error: str | None = None


class Exports:
    """The server's files of the review, made one at a time by a worker thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-review")
        self._lock = threading.Lock()
        self._states: OrderedDict[ExportKey, ExportState] = OrderedDict()
        self._futures: dict[ExportKey, Future] = {}

    def state(self, key: ExportKey) -> ExportState | None:
        """The state of file ``key``, or ``None`` if nobody asked for it."""
        with self._lock:
            return self._states.get(key)

    def start(self, key: ExportKey, review: Deck) -> ExportState:
        """Make file ``key`` of ``review`` (once: a file asked for again is not remade)."""
        with self._lock:
            known = self._states.get(key)
            if known is not None and known.status != "failed":
                return known
            state = ExportState()
            self._states[key] = state
            self._trim()
            self._futures[key] = self._pool.submit(self._run, state, review, key[-1])
            return state

    def _trim(self) -> None:
        finished = [k for k, s in self._states.items() if s.status != "running"]
        while len(self._states) > KEPT and finished:
            old = finished.pop(0)
            self._states.pop(old, None)
            self._futures.pop(old, None)

    @staticmethod
    def _run(state: ExportState, review: Deck, fmt: str) -> None:
        def progress(step: str, done: float) -> None:
            state.step, state.done = step, done

        try:
            state.data = export(review, fmt, progress)
            state.status = "done"
        except DataError as exc:
            state.error, state.status = str(exc), "failed"
        except Exception as exc:  # a bug: shown, and logged by the server
            state.error, state.status = f"{type(exc).__name__}: {exc}", "failed"
            raise


@st.cache_resource(show_spinner=False)
def exports() -> Exports:
    """The server's one :class:`Exports`."""
    return Exports()
