"""Loaders of the What-if page.

:func:`start` builds, once per snapshot, date and segmentation, the baseline, its backtest
and the registry figures from the shared metric inputs and model sets
(:mod:`crm_app.loaders.base`: nothing here rebuilds the ledger or refits a model).
:func:`workbench` is what one position of the sliders shows, :func:`result_figures` and
:func:`analysis_figures` its charts, and :func:`projection` one projection (the saved
scenarios compared). All are ``st.cache_resource``: a warm rerun
returns the same objects, never copies.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import streamlit as st

from crm_app.loaders import base
from crm_core.charts.whatif import equity_waterfall_figure, projection_figure
from crm_core.charts.whatif_spend import allocation_figure, tornado_figure
from crm_core.clv.fitted import FittedModels
from crm_core.whatif.levers import Scenario
from crm_core.whatif.report import BaselineReport, baseline_report
from crm_core.whatif.results import SimulationResult
from crm_core.whatif.workbench import Workbench, project_scenario
from crm_core.whatif.workbench import workbench as build_workbench

__all__ = ["Key", "analysis_figures", "projection", "result_figures", "start", "workbench"]

Key = tuple[str, str, date, str, bool]
"""``(path, stamp, as_of, segmentation, tenure curve)``: one baseline."""

_YEAR_AGO = 4  # quarters back: the backtest's start


def _fit(path: str, stamp: str, as_of: date, quarters_back: int) -> FittedModels | None:
    fit = base.models(path, stamp, as_of, quarters_back)
    return fit if isinstance(fit, FittedModels) else None


@st.cache_resource(show_spinner="Measuring today's segments…", max_entries=32)
def start(path: str, stamp: str, as_of: date, by: str, curve: bool) -> BaselineReport:
    """The baseline, its backtest and the registry figures the page shows next to it."""
    inputs = base.metrics(path, stamp, as_of)
    now = then = None
    if inputs.ledger.contractual:  # the sBG fit gives retention by tenure
        now = _fit(path, stamp, as_of, 0)
        then = _fit(path, stamp, as_of, _YEAR_AGO)
    return baseline_report(
        inputs,
        by=by,
        retention_curve=curve and inputs.ledger.contractual,
        models_now=now,
        models_then=then,
    )


@st.cache_resource(show_spinner=False, max_entries=64)
def projection(
    key: Key, scenario: Scenario | None, horizon: int, rate: float, draws: int
) -> SimulationResult:
    """The baseline's projection (``scenario=None``) or a scenario's."""
    return project_scenario(start(*key).baseline, scenario, horizon, rate, draws)


@st.cache_resource(show_spinner=False, max_entries=64)
def workbench(
    key: Key,
    scenario: Scenario,
    horizon: int,
    rate: float,
    draws: int,
    budget: float,
    per_segment: bool,
) -> Workbench:
    """Everything one position of the sliders shows."""
    return build_workbench(
        start(*key).baseline,
        scenario,
        horizon=horizon,
        rate=rate,
        draws=draws,
        budget=budget,
        per_segment=per_segment,
        reference=projection(key, None, horizon, rate, draws),
    )


@st.cache_resource(show_spinner=False, max_entries=64)
def result_figures(
    key: Key,
    scenario: Scenario,
    horizon: int,
    rate: float,
    draws: int,
    budget: float,
    per_segment: bool,
    metric: str,
    segment: str | None,
) -> tuple[go.Figure, go.Figure | None]:
    """The projection chart and (when a lever moved) the equity waterfall of one slider
    position: built once per server for every session showing that position."""
    wb = workbench(key, scenario, horizon, rate, draws, budget, per_segment)
    currency = start(*key).baseline.currency
    projection = projection_figure(wb.reference, wb.result if wb.changed else None,
                                   metric=metric, currency=currency, segment=segment)  # fmt: skip
    waterfall = (
        equity_waterfall_figure(wb.reference, wb.result, currency=currency) if wb.changed else None
    )
    return projection, waterfall


@st.cache_resource(show_spinner=False, max_entries=64)
def analysis_figures(
    key: Key,
    scenario: Scenario,
    horizon: int,
    rate: float,
    draws: int,
    budget: float,
    per_segment: bool,
) -> tuple[go.Figure, go.Figure]:
    """The tornado and the budget split of one slider position (built once, shared)."""
    wb = workbench(key, scenario, horizon, rate, draws, budget, per_segment)
    currency = start(*key).baseline.currency
    tornado = tornado_figure(wb.tornado, currency=currency, top=10,
                             reference_name="the sliders' values")  # fmt: skip
    return tornado, allocation_figure(wb.allocation, currency=currency)
