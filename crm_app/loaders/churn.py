"""Loader of the Churn risk page (and of the Lifecycle page's early-warning tab).

The churn report is trained once per snapshot, date and horizon from the shared caches of
:mod:`crm_app.loaders.base`: the ledger, the model sets fitted at the cut dates
(``base.models``, one fit per date, shared with every page) and the valuation at the as-of
date. Nothing here rebuilds a ledger or refits a CLV model. The What-if baseline for the
link comes from the What-if page's own cache.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from crm_app.loaders import base
from crm_app.loaders import whatif as whatif_loader
from crm_core.churn.cuts import plan_cuts
from crm_core.churn.report import ChurnReport, call_list_with_reasons, churn_report
from crm_core.churn.value import best_contacts, saved_by_tier, savings, savings_curve
from crm_core.clv.valuation import ClvResult
from crm_core.copy import churn as copy
from crm_core.errors import DataError
from crm_core.metrics.registry import metric_value
from crm_core.whatif.baseline import Baseline

__all__ = [
    "active_customers",
    "call_csv",
    "churn_or_error",
    "churn_page",
    "contact_plan",
    "saved",
    "whatif_baseline",
]

_REPORTS = 4  # a report holds today's scored customers (about 60 MB at a million)


@st.cache_resource(show_spinner="Training the churn model…", max_entries=_REPORTS)
def _report(path: str, stamp: str, as_of: date, horizon_quarters: int) -> ChurnReport | DataError:
    try:
        ledger = base.ledger(path, stamp, as_of)
        plan = plan_cuts(ledger, horizon_quarters)
        fits = {k: base.models(path, stamp, as_of, k // plan.quarter) for k in plan.cuts}
        valued = base.valuation(path, stamp, as_of)
        clv = valued if isinstance(valued, ClvResult) else None
        note = None if clv is not None else str(valued)
        return churn_report(
            ledger, fits, clv, horizon_quarters=horizon_quarters, valuation_note=note
        )
    except DataError as exc:
        return exc


def churn_or_error(
    path: str, stamp: str, as_of: date, horizon_quarters: int = 1
) -> ChurnReport | DataError:
    """The churn report, or the data problem that prevented it (the Lifecycle page)."""
    return _report(path, stamp, as_of, int(horizon_quarters))


def churn_page(path: str, stamp: str, as_of: date, horizon_quarters: int = 1) -> ChurnReport:
    """The churn report for the selection and horizon.

    Raises
    ------
    DataError
        When the snapshot is too short or has too few churners to train on (shown by
        ``crm_app.state.guard`` as an error box).
    """
    report = _report(path, stamp, as_of, int(horizon_quarters))
    if isinstance(report, DataError):
        raise report
    return report


def contact_plan(report: ChurnReport, contacts: int, success_rate: float, cost: float):
    """The savings of contacting the top ``contacts``, the best number, and the curve over
    the slider's range (or up to the best number when that is further down the list); linear
    in the list's length: milliseconds at a million customers, so not cached."""
    ranked = report.scored.head(report.listed)
    best = best_contacts(ranked, success_rate, cost)
    shown = ranked.head(max(min(report.listed, len(report.call_list)), best))  # the slider's
    return (
        savings(ranked, contacts, success_rate, cost),
        best,
        savings_curve(shown, success_rate, cost),
    )


def call_csv(report: ChurnReport, contacts: int) -> bytes:
    """The CSV of the first ``contacts`` customers of the call list, with their reasons."""
    return copy.call_csv(report, call_list_with_reasons(report, contacts))


def whatif_baseline(path: str, stamp: str, as_of: date) -> Baseline | DataError:
    """The What-if page's profit-tier baseline (its cache), or why there is none."""
    try:
        return whatif_loader.start(path, stamp, as_of, "tier", False).baseline
    except DataError as exc:
        return exc


def saved(report: ChurnReport, contacts: int, success_rate: float) -> dict[str, float]:
    """Customers kept per tier by contacting the top ``contacts``."""
    return saved_by_tier(report.scored.head(report.listed), contacts, success_rate)


def active_customers(path: str, stamp: str, as_of: date) -> float | None:
    """The registry's active customers (every one of them is scored)."""
    return metric_value(base.metrics(path, stamp, as_of), "active_customers")
