"""Shared cached computations: ledger, fitted models, valuations, metric inputs.

Every function is keyed on ``(path, stamp, as_of, ...)`` (a :class:`crm_app.state.Selection`
key plus parameters) and cached with ``st.cache_resource``: one copy per server process,
shared by every session, never copied on a rerun (the objects are immutable). A fitted
model set is keyed on the date it describes, so the previous quarter's fit made for the
Overview's deltas is the one the sidebar's earlier as-of date reuses.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from crm_app import state
from crm_core import copy
from crm_core.clv.fitted import FittedModels, fit_models, rekey
from crm_core.clv.valuation import DEFAULT_HORIZON_YEARS, ClvResult, value
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.errors import DataError
from crm_core.metrics.quarters import quarter_periods
from crm_core.metrics.registry import MetricInputs, metric_inputs

__all__ = ["Fit", "ledger", "metrics", "models", "sampled_rows_note", "valuation"]

Fit = FittedModels | DataError
"""A fitted model set, or the data problem that prevented the fit."""

_ENTRIES = 16


@st.cache_resource(show_spinner="Building the customer ledger…", max_entries=_ENTRIES)
def ledger(path: str, stamp: str, as_of: date) -> Ledger:
    """The customer ledger of the snapshot at ``path`` as of ``as_of``."""
    return build_ledger(state.snapshot(path, stamp, as_of))


@st.cache_resource(show_spinner="Fitting the CLV models…", max_entries=_ENTRIES)
def _fit(path: str, stamp: str, fit_date: date, _ledger: Ledger, _period: int) -> Fit:
    """Keyed on the fit's date only: any ledger reaching it gives the same fit (the ledger
    is causal), so a date is fitted once, whichever page or as-of date asked first."""
    try:
        return fit_models(_ledger, _period)
    except DataError as exc:
        return exc


@st.cache_resource(max_entries=_ENTRIES)
def _rekeyed(
    path: str, stamp: str, as_of: date, fit_date: date, _models: FittedModels
) -> FittedModels:
    """A fit made on another as-of date's ledger, keyed on this ledger's customers."""
    return rekey(_models, ledger(path, stamp, as_of))


def models(path: str, stamp: str, as_of: date, quarters_back: int = 0) -> Fit:
    """The model set fitted at the quarter end ``quarters_back`` quarters before ``as_of``
    (or the :class:`DataError` that prevented it)."""
    led = ledger(path, stamp, as_of)
    period = quarters_back * quarter_periods(led)
    if period >= led.periods:
        return DataError("the history does not reach back to that quarter end")
    fit = _fit(path, stamp, led.period_end(period), led, period)
    if isinstance(fit, DataError) or fit.ledger_as_of == as_of:
        return fit
    return _rekeyed(path, stamp, as_of, fit.as_of, fit)


def valuation(
    path: str,
    stamp: str,
    as_of: date,
    horizon_years: float = DEFAULT_HORIZON_YEARS,
    quarters_back: int = 0,
) -> ClvResult | DataError:
    """CLV of every customer from :func:`models` at ``horizon_years``.

    The arguments are normalised before the cache looks them up (Streamlit keys a cache on
    how arguments are passed), so every caller asking for the same valuation shares it.
    """
    return _valuation(path, stamp, as_of, float(horizon_years), int(quarters_back))


@st.cache_resource(show_spinner="Valuing customers (CLV)…", max_entries=4 * _ENTRIES)
def _valuation(
    path: str, stamp: str, as_of: date, horizon_years: float, quarters_back: int
) -> ClvResult | DataError:
    fit = models(path, stamp, as_of, quarters_back)
    if isinstance(fit, DataError):
        return fit
    try:
        return value(fit, horizon_years=horizon_years)
    except DataError as exc:
        return exc


@st.cache_resource(show_spinner="Computing the metrics…", max_entries=_ENTRIES)
def metrics(path: str, stamp: str, as_of: date) -> MetricInputs:
    """The metric inputs: ledger, quarterly totals and the CLV now and a quarter ago."""
    results = {q: valuation(path, stamp, as_of, quarters_back=q) for q in (0, 1)}
    clv = {q: r for q, r in results.items() if isinstance(r, ClvResult)}
    note = None if isinstance(results[0], ClvResult) else str(results[0])
    return metric_inputs(ledger(path, stamp, as_of), clv, note)


def sampled_rows_note(path: str, stamp: str, as_of: date) -> str | None:
    """The page note for a snapshot that keeps the raw rows of a sample of customers only
    (:func:`crm_core.copy.sampled_rows_note`), from the cached ledger."""
    return copy.sampled_rows_note(ledger(path, stamp, as_of).sampled_customers)
