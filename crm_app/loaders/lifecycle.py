"""Loader of the Lifecycle page: stages, transitions, funnel, cohorts and tenure profit.

Everything is computed from the shared caches of :mod:`crm_app.loaders.base` (the ledger,
the fitted model set and its valuations, the metric inputs): nothing here rebuilds a
ledger or refits a model. Each part is cached with ``st.cache_resource`` on the parameters
it depends on, so moving one control recomputes only what it changes, and a rerun with the
same controls returns the same objects (no copy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import streamlit as st

from crm_app.loaders import base
from crm_app.loaders.churn import churn_or_error
from crm_core.churn.report import ChurnReport
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.valuation import ClvResult
from crm_core.data.rules import StageRules
from crm_core.errors import DataError
from crm_core.lifecycle.cohorts import CohortReport, cohort_retention
from crm_core.lifecycle.funnel import FunnelReport, lifecycle_funnel
from crm_core.lifecycle.prospects import leads
from crm_core.lifecycle.report import LifecycleReport, lifecycle_report
from crm_core.lifecycle.tenure import TenureProfit, tenure_profit
from crm_core.metrics.registry import metric_value

__all__ = ["LifecyclePage", "early_warning", "lifecycle_page"]

_ENTRIES = 32
_REPORTS = 8  # a report holds per-customer tables (about 90 MB at a million customers)


@dataclass(frozen=True)
class LifecyclePage:
    """Everything the Lifecycle page shows.

    Attributes
    ----------
    report
        Stages, transitions and early warning.
    funnel, cohorts, tenure
        The funnel, acquisition cohorts and profit by tenure year.
    retention
        The registry's annual retention (the Overview's), for the cohort line.
    activity_rule
        The activity rule in one sentence (churned = not active by it).
    """

    report: LifecycleReport
    funnel: FunnelReport
    cohorts: CohortReport
    tenure: TenureProfit
    retention: float | None
    activity_rule: str


@st.cache_resource(show_spinner="Reading the prospects…", max_entries=_ENTRIES)
def _leads(path: str, stamp: str, as_of: date) -> pl.DataFrame:
    return leads(base.ledger(path, stamp, as_of))


def _p_alive_model(path: str, stamp: str, as_of: date, rules: StageRules) -> BGNBDModel | None:
    if rules.decline_p_alive is None:
        return None
    fit = base.models(path, stamp, as_of)
    if isinstance(fit, DataError) or fit.bgnbd is None:
        reason = str(fit) if isinstance(fit, DataError) else "the business is contractual"
        raise DataError(f"P(alive) needs the BG/NBD model, which is not available: {reason}")
    return fit.bgnbd


@st.cache_resource(
    show_spinner="Placing every customer in a lifecycle stage…", max_entries=_REPORTS
)
def _report(
    path: str, stamp: str, as_of: date, rules: StageRules, compare_quarters: int
) -> LifecycleReport:
    inputs = base.metrics(path, stamp, as_of)
    before = inputs.clv.get(compare_quarters)
    if before is None:
        valued = base.valuation(path, stamp, as_of, quarters_back=compare_quarters)
        before = valued if isinstance(valued, ClvResult) else None
    return lifecycle_report(
        inputs,
        rules,
        compare_quarters,
        clv_before=before,
        p_alive_model=_p_alive_model(path, stamp, as_of, rules),
        lead_rows=_leads(path, stamp, as_of),
    )


@st.cache_resource(show_spinner="Counting the funnel…", max_entries=_ENTRIES)
def _funnel(path: str, stamp: str, as_of: date, years: int, mature_days: int) -> FunnelReport:
    rules = StageRules(mature_days=mature_days)
    led = base.ledger(path, stamp, as_of)
    return lifecycle_funnel(led, years=years, rules=rules, lead_rows=_leads(path, stamp, as_of))


@st.cache_resource(show_spinner="Following the acquisition cohorts…", max_entries=_ENTRIES)
def _cohorts(path: str, stamp: str, as_of: date) -> CohortReport:
    return cohort_retention(base.ledger(path, stamp, as_of))


@st.cache_resource(show_spinner="Adding up profit by tenure year…", max_entries=_ENTRIES)
def _tenure(path: str, stamp: str, as_of: date, min_year_fraction: float) -> TenureProfit:
    return tenure_profit(base.ledger(path, stamp, as_of), min_year_fraction=min_year_fraction)


@st.cache_resource(show_spinner=False, max_entries=_REPORTS)  # holds a report each
def lifecycle_page(
    path: str,
    stamp: str,
    as_of: date,
    rules: StageRules,
    compare_quarters: int,
    years: int,
    complete_years: bool,
) -> LifecyclePage:
    """Everything the Lifecycle page shows, for its controls.

    Parameters
    ----------
    path, stamp, as_of
        The selection (:attr:`crm_app.state.Selection.key`).
    rules
        Stage thresholds from the page's controls.
    compare_quarters
        Quarters back to the comparison date.
    years
        The funnel's "still active after N years".
    complete_years
        Profit by tenure year from complete years only (else years half observed count).
    """
    led = base.ledger(path, stamp, as_of)
    inputs = base.metrics(path, stamp, as_of)
    return LifecyclePage(
        report=_report(path, stamp, as_of, rules, compare_quarters),
        funnel=_funnel(path, stamp, as_of, years, rules.mature_days),
        cohorts=_cohorts(path, stamp, as_of),
        tenure=_tenure(path, stamp, as_of, 1.0 if complete_years else 0.5),
        retention=metric_value(inputs, "retention"),
        activity_rule=led.activity.definition(contractual=led.contractual),
    )


def early_warning(path: str, stamp: str, as_of: date) -> ChurnReport | DataError:
    """The early-warning tab's list: the Churn risk page's report (next quarter), from its
    cache, or the data problem that prevented it. The stage rules rank nobody."""
    return churn_or_error(path, stamp, as_of, 1)
