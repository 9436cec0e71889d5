"""Loaders of the Customer value page: valuation at the chosen horizon, its P10-P90 bands,
the holdout check, the cohort LTV table, and the customer list for download.

Everything reads the shared ledger, fitted model sets and valuations of
:mod:`crm_app.loaders.base`: changing the horizon values the cached fit again (no refit),
the holdout check uses the fit cached for the calibration quarter end (the same one the
Overview's previous-quarter deltas and the sidebar's earlier dates use), and the default
horizon's valuation is the one behind the Overview's customer equity. Results, figures
included, are cached with ``st.cache_resource`` so a rerun only draws them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_app.loaders import base
from crm_core.charts import clv as charts
from crm_core.clv.customer import customer_table, parameter_table
from crm_core.clv.holdout import HoldoutCheck, calibration_choices, holdout_check, period_at
from crm_core.clv.ltv import Cohort, cohort_choices, ltv_table_from_cohort
from crm_core.clv.summary import FREQUENCY, T_AGE
from crm_core.clv.uncertainty import SEGMENT, ClvBands, clv_bands_by
from crm_core.clv.valuation import DEFAULT_HORIZON_YEARS, ClvResult
from crm_core.copy import customer_value as copy
from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C
from crm_core.errors import DataError
from crm_core.metrics.profit import customer_profit
from crm_core.metrics.quarters import quarter_periods
from crm_core.metrics.registry import metric_value
from crm_core.segments.report import DEFAULT_CUTOFFS, TIER, TIERS, assign_tiers, tier_name

__all__ = [
    "BAND_DRAWS",
    "CustomersView",
    "calibration_ends",
    "cohort_table",
    "cohorts",
    "customers",
    "customers_csv",
    "groupings",
    "holdout",
    "parameters",
]

BAND_DRAWS = 100
"""Parameter draws behind the P10-P90 ranges (seeded, seed 0)."""
TOP_ROWS = max(copy.TOP_SIZES)


@dataclass(frozen=True)
class CustomersView:
    """What the "Your customers" tab shows.

    Attributes
    ----------
    result
        The valuation at the chosen horizon (at the default horizon: the Overview's).
    active, overview_equity
        The registry's active customers and customer equity (default horizon) at the date.
    bands
        P10-P90 bands by grouping (:data:`crm_core.copy.customer_value.GROUPINGS`).
    top
        The :data:`TOP_ROWS` most valuable customers (:func:`customer_table`).
    figures
        ``"distribution"``, ``"model"`` (P(alive) or retention) and ``"bands:<grouping>"``.
    """

    result: ClvResult
    active: float | None
    overview_equity: float | None
    bands: Mapping[str, ClvBands]
    top: pl.DataFrame
    figures: Mapping[str, go.Figure]


@st.cache_resource(show_spinner=False, max_entries=16)
def _groupings(path: str, stamp: str, as_of: date) -> dict[str, pl.DataFrame]:
    """:func:`groupings` of the shared ledger (one per date, whatever the horizon)."""
    return groupings(base.ledger(path, stamp, as_of))


def groupings(ledger: Ledger) -> dict[str, pl.DataFrame]:
    """``cid, segment`` frames for the bands: the Segments page's ABC profit tiers over the
    last 12 months (customers without activity then get their own label) and the
    acquisition channel."""
    names = {t: "Tier {} ({})".format(*tier_name(t, DEFAULT_CUTOFFS).split(": ")) for t in TIERS}
    tiers = assign_tiers(customer_profit(ledger, 12), key=C.customer_id).select(
        L.cid, pl.col(TIER).cast(pl.String).replace_strict(names).alias(SEGMENT)
    )
    customers = ledger.customers.lazy().select(L.cid)
    tier = customers.join(tiers, on=L.cid, how="left").with_columns(
        pl.col(SEGMENT).fill_null(copy.NOT_ACTIVE)
    )
    channel = ledger.customers.lazy().select(L.cid, pl.col(C.acquisition_channel).alias(SEGMENT))
    return {"tier": tier.collect(), "channel": channel.collect()}


def _valuation(path: str, stamp: str, as_of: date, horizon: float) -> ClvResult:
    out = base.valuation(path, stamp, as_of, horizon)  # shared with the Overview at 3 years
    if isinstance(out, DataError):
        raise out
    return out


def _model_figure(result: ClvResult) -> go.Figure:
    if result.sbg is not None:
        periods = max(24, round(result.horizon_years * 12 / (result.period_months or 1)))
        return charts.sbg_retention_figure(result.sbg, periods=periods)
    assert result.bgnbd is not None
    t = result.table
    top = int(min(30, max(5, t[FREQUENCY].quantile(0.95) or 5)))
    return charts.p_alive_heatmap_figure(
        result.bgnbd, T=round(float(t[T_AGE].median() or 1.0)), max_frequency=top
    )


@st.cache_resource(show_spinner="Valuing customers…", max_entries=32)
def customers(path: str, stamp: str, as_of: date, horizon: float) -> CustomersView:
    """The valuation at ``horizon`` years, its bands, the top customers and the figures.

    Raises
    ------
    DataError
        When the models cannot be fitted to the data (shown as an error box).
    """
    result = _valuation(path, stamp, as_of, float(horizon))
    ledger = base.ledger(path, stamp, as_of)
    inputs = base.metrics(path, stamp, as_of)
    bands = clv_bands_by(result, _groupings(path, stamp, as_of), draws=BAND_DRAWS, seed=0)
    cur = result.currency
    figures = {
        "distribution": charts.clv_distribution_figure(result),
        "model": _model_figure(result),
    }
    for by, label in copy.GROUPINGS.items():
        figures[f"bands:{by}"] = charts.clv_bands_figure(bands[by], currency=cur, label=label)
    return CustomersView(
        result=result,
        active=metric_value(inputs, "active_customers"),
        overview_equity=metric_value(inputs, "customer_equity"),
        bands=bands,
        top=customer_table(result, ledger, limit=TOP_ROWS),
        figures=figures,
    )


def customers_csv(path: str, stamp: str, as_of: date, horizon: float) -> bytes:
    """Every valued customer as CSV (made when the user clicks the download button)."""
    result = _valuation(path, stamp, as_of, float(horizon))
    return copy.customers_csv(result, base.ledger(path, stamp, as_of))


@st.cache_resource(show_spinner=False, max_entries=32)
def calibration_ends(path: str, stamp: str, as_of: date) -> list[date]:
    """Quarter ends of the ledger a holdout check can calibrate at, latest first."""
    return calibration_choices(base.ledger(path, stamp, as_of))


@st.cache_resource(show_spinner="Checking the model on a holdout period…", max_entries=32)
def holdout(
    path: str, stamp: str, as_of: date, calibration_end: date
) -> tuple[HoldoutCheck, go.Figure, go.Figure]:
    """The holdout check from the fit cached for ``calibration_end``, and its figures.

    Raises
    ------
    DataError
        When the calibration data cannot support the model.
    """
    ledger = base.ledger(path, stamp, as_of)
    k = period_at(ledger, calibration_end)
    fit = base.models(path, stamp, as_of, k // quarter_periods(ledger))
    if isinstance(fit, DataError):
        raise fit
    check = holdout_check(ledger, k, models=fit)
    return check, charts.holdout_tracking_figure(check), charts.holdout_buckets_figure(check)


@st.cache_resource(show_spinner=False, max_entries=32)
def parameters(path: str, stamp: str, as_of: date) -> tuple[date, pl.DataFrame]:
    """The fit's date and its parameters in words (:func:`parameter_table`)."""
    result = _valuation(path, stamp, as_of, DEFAULT_HORIZON_YEARS)
    return result.as_of, copy.parameter_rows(parameter_table(result))


@st.cache_resource(show_spinner=False, max_entries=32)
def cohorts(path: str, stamp: str, as_of: date) -> list[Cohort]:
    """Yearly acquisition cohorts with a whole year observed, most observed first."""
    return cohort_choices(base.ledger(path, stamp, as_of))


@st.cache_resource(show_spinner="Following the cohort year by year…", max_entries=32)
def cohort_table(path: str, stamp: str, as_of: date, cohort: Cohort) -> pl.DataFrame:
    """The observed LTV table of ``cohort`` from the ledger panel."""
    ledger = base.ledger(path, stamp, as_of)
    return ltv_table_from_cohort(ledger, cohort.oldest, cohort.youngest, cohort.years)
