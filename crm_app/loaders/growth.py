"""Loader of the Growth page: revenue movements, unit economics, forecast against actual.

Everything comes from the shared caches of :mod:`crm_app.loaders.base`: the ledger, the
metric inputs (the registry's growth metrics), the shared 3-year valuation and the model
sets fitted at earlier quarter ends (one fit per date, shared with the Customer value
page's holdout check and the Overview). Nothing here rebuilds a ledger or refits a model
another page has fitted. Each part is cached on what it depends on, so moving one control
recomputes only its own tab.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_app.loaders import base
from crm_core.charts import growth as charts
from crm_core.clv.valuation import ClvResult
from crm_core.copy import growth as copy
from crm_core.errors import DataError
from crm_core.growth.economics import UnitEconomics, unit_economics
from crm_core.growth.forecast import ForecastHistory, forecast_history, forecast_quarters
from crm_core.growth.movements import MovementView, movement_view, movers, top_movers
from crm_core.metrics.quarters import QUARTER
from crm_core.metrics.registry import Kpi, kpis, metric_value

__all__ = [
    "EconomicsView",
    "MovementsView",
    "cards",
    "economics",
    "forecast_figures",
    "forecasts",
    "headline",
    "movements",
    "mover_rows",
    "movers_csv",
]

_ENTRIES = 32
_HISTORY = 8  # quarters of the KPI sparklines and the retention trend


@st.cache_resource(show_spinner="Computing the growth metrics…", max_entries=_ENTRIES)
def cards(path: str, stamp: str, as_of: date) -> tuple[Kpi, ...]:
    """The registry's growth metrics as cards (value, previous quarter, history)."""
    inputs = base.metrics(path, stamp, as_of)
    return kpis(inputs, copy.card_keys(inputs.ledger.contractual), history=_HISTORY)


@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def headline(path: str, stamp: str, as_of: date) -> str:
    """The page's finding: the latest quarter's revenue (or MRR) movements in words."""
    view = _view(path, stamp, as_of, "quarter")
    if not view.keys:
        return "Revenue movements need a comparison period: the history is too short"
    currency = base.ledger(path, stamp, as_of).currency
    nrr = metric_value(base.metrics(path, stamp, as_of), "nrr")
    return copy.page_headline(view.row(view.keys[0]), view.recurring, currency, nrr)


@dataclass(frozen=True)
class MovementsView:
    """The movements tab: the view and its figures."""

    view: MovementView
    waterfall: go.Figure
    trend: go.Figure
    retention: go.Figure


@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def _view(path: str, stamp: str, as_of: date, granularity: str) -> MovementView:
    return movement_view(base.ledger(path, stamp, as_of), granularity)


@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def _retention_figure(path: str, stamp: str, as_of: date) -> go.Figure:
    inputs = base.metrics(path, stamp, as_of)
    quarters = inputs.quarters.sort(QUARTER, descending=True).tail(_HISTORY)
    back = quarters[QUARTER].to_list()
    return charts.retention_trend(
        quarters["label"].to_list(),
        [metric_value(inputs, "nrr", q) for q in back],
        [metric_value(inputs, "grr", q) for q in back],
    )


@st.cache_resource(show_spinner="Adding up the revenue movements…", max_entries=_ENTRIES)
def movements(path: str, stamp: str, as_of: date, granularity: str, key: int) -> MovementsView:
    """The movements of every period at ``granularity``, the waterfall of period ``key``,
    the trend and the NRR / GRR by quarter."""
    view = _view(path, stamp, as_of, granularity)
    if not view.keys:
        raise DataError(
            "the history is too short for revenue movements: they compare each period with "
            + ("the previous month" if view.lag == 1 else "the same quarter a year earlier")
        )
    currency = base.ledger(path, stamp, as_of).currency
    periods = 12 if granularity == "month" else 8
    return MovementsView(
        view=view,
        waterfall=charts.movement_waterfall(
            view, key if key in view.keys else view.keys[0], currency
        ),
        trend=charts.movement_trend(view, currency, periods),
        retention=_retention_figure(path, stamp, as_of),
    )


@st.cache_resource(show_spinner="Finding the customers behind the movements…",
                   max_entries=_ENTRIES)  # fmt: skip
def _movers(
    path: str, stamp: str, as_of: date, granularity: str, key: int
) -> tuple[pl.DataFrame, dict[str, int]]:
    led = base.ledger(path, stamp, as_of)
    return top_movers(led, _view(path, stamp, as_of, granularity), key, copy.TOP_MOVERS)


def mover_rows(
    path: str, stamp: str, as_of: date, granularity: str, key: int, movement: str
) -> tuple[pl.DataFrame, int]:
    """The top movers of ``movement`` in period ``key`` (words for the movement) and how
    many customers it has."""
    top, counts = _movers(path, stamp, as_of, granularity, key)
    return copy.with_words(top.filter(pl.col("revenue_movement") == movement)), counts[movement]


def movers_csv(path: str, stamp: str, as_of: date, granularity: str, key: int) -> bytes:
    """Every customer with a movement in period ``key``, as CSV (built when downloaded,
    never kept: a million customers' rows)."""
    led = base.ledger(path, stamp, as_of)
    rows = movers(led, _view(path, stamp, as_of, granularity), key).collect()
    return copy.movers_csv(rows, led.currency)


@dataclass(frozen=True)
class EconomicsView:
    """The unit economics tab: the table, its scatter and the registry's LTV : CAC."""

    result: UnitEconomics
    scatter: go.Figure
    registry_ltv_cac: float | None
    clv_note: str | None


@st.cache_resource(show_spinner="Working out the unit economics…", max_entries=_ENTRIES)
def economics(path: str, stamp: str, as_of: date, by: str, won_months: int | None) -> EconomicsView:
    """Unit economics by channel or cohort, valued with the shared 3-year valuation."""
    clv = base.valuation(path, stamp, as_of)
    valued = clv if isinstance(clv, ClvResult) else None
    result = unit_economics(base.ledger(path, stamp, as_of), valued, by, won_months=won_months)
    return EconomicsView(
        result=result,
        scatter=charts.economics_scatter(result),
        registry_ltv_cac=metric_value(base.metrics(path, stamp, as_of), "ltv_cac"),
        clv_note=None if valued is not None else str(clv),
    )


@st.cache_resource(show_spinner="Comparing every earlier forecast with what happened…",
                   max_entries=_ENTRIES)  # fmt: skip
def forecasts(path: str, stamp: str, as_of: date) -> ForecastHistory:
    """Every fit at an earlier quarter end (the shared cache: one fit per date) against
    what happened up to ``as_of``."""
    led = base.ledger(path, stamp, as_of)
    fits = {q: base.models(path, stamp, as_of, quarters_back=q) for q in forecast_quarters(led)}
    return forecast_history(led, fits)


@st.cache_resource(show_spinner=False, max_entries=4 * _ENTRIES)
def forecast_figures(
    path: str, stamp: str, as_of: date, fit_end: date, measure: str
) -> tuple[go.Figure, go.Figure]:
    """The chosen fit's path and every fit's error, for one measure."""
    history = forecasts(path, stamp, as_of)
    return charts.forecast_path(history, fit_end, measure), charts.forecast_errors(history, measure)
