"""Forecast against actual over successive quarters: did the CLV model's forecasts come
true?

The CLV model set is fitted at every earlier quarter end a holdout check can calibrate
at (:func:`crm_core.clv.holdout.calibration_choices`: a whole number of quarters back,
six months or more after the first activity), one fit per date (the app reuses its
cached fits, :func:`crm_core.clv.fitted.fit_models` here), and each fit's forecast of
every quarter since is set against what its customers did
(:func:`crm_core.growth.forecast_paths.fit_paths`). Summed up to the as-of date, a fit's
repeat-purchase forecast (retail) or running contracts (subscriptions) is the Customer
value page's holdout check for the same calibration date, so the two pages report the
same error.

The error of a forecast is ``forecast / actual - 1`` (``+5%``: the model expected 5%
more than happened), over the quarters from the fit to the as-of date (purchases and
revenue summed; active customers at the last quarter end forecast).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.clv.fitted import FittedModels, fit_models
from crm_core.clv.holdout import calibration_choices, period_at
from crm_core.data.ledger import Ledger
from crm_core.errors import DataError
from crm_core.growth.forecast_paths import (
    ACTIVE,
    ACTUAL,
    FORECAST,
    MEASURE,
    PERIOD_END,
    PURCHASES,
    REVENUE,
    STEP,
    fit_paths,
)
from crm_core.metrics.quarters import quarter_periods

__all__ = [
    "ERROR",
    "FIT_END",
    "QUARTERS_BACK",
    "ForecastHistory",
    "fit_history",
    "forecast_history",
    "forecast_quarters",
]

FIT_END = "fit_end"
QUARTERS_BACK = "quarters_back"
ERROR = "error"
CUMULATIVE_FORECAST = "forecast_to_date"
CUMULATIVE_ACTUAL = "actual_to_date"

Fit = FittedModels | DataError


@dataclass(frozen=True)
class ForecastHistory:
    """Every earlier fit's forecast against what happened (module docstring).

    Attributes
    ----------
    as_of, currency, model_name
        The ledger's date and currency, and the models (``"BG/NBD + Gamma-Gamma"``...).
    measures
        What is compared, in display order.
    paths
        ``fit_end, quarters_back, quarters_ahead, period_end, measure, forecast, actual,
        forecast_to_date, actual_to_date``: one row per fit, quarter end after it and
        measure (flows summed since the fit; active customers at the quarter end).
    summary
        ``fit_end, quarters_back, measure, quarters_ahead, forecast, actual, error``: per
        fit and measure, the comparison up to the last quarter end forecast (the as-of
        date, or four quarters on for retail active customers), latest fit first.
    skipped
        ``(date, reason)`` of the quarter ends whose model could not be fitted.
    """

    as_of: date
    currency: str
    model_name: str
    measures: tuple[str, ...]
    paths: pl.DataFrame
    summary: pl.DataFrame
    skipped: tuple[tuple[date, str], ...] = ()

    @property
    def fits(self) -> list[date]:
        """Dates of the fits compared, latest first."""
        return self.summary[FIT_END].unique().sort(descending=True).to_list()

    def of(self, fit_end: date) -> pl.DataFrame:
        """The paths of the fit at ``fit_end`` (empty for an unknown date)."""
        return self.paths.filter(pl.col(FIT_END) == fit_end)

    def mean_abs_error(self, measure: str) -> float | None:
        """Mean of the fits' absolute errors for ``measure`` (``None`` without any)."""
        errors = self.summary.filter(pl.col(MEASURE) == measure)[ERROR].drop_nulls()
        return float(errors.abs().mean()) if errors.len() else None  # type: ignore[arg-type]


def forecast_quarters(ledger: Ledger) -> list[int]:
    """Quarters back of the fits compared: the holdout check's calibration dates, latest
    first (empty when the history is too short)."""
    step = quarter_periods(ledger)
    return [period_at(ledger, d) // step for d in calibration_choices(ledger)]


def _cumulate(paths: pl.DataFrame) -> pl.DataFrame:
    flow = pl.col(MEASURE) != ACTIVE
    by = [FIT_END, MEASURE]
    return paths.sort(*by, STEP).with_columns(
        pl.when(flow)
        .then(pl.col(FORECAST).cum_sum().over(by))
        .otherwise(pl.col(FORECAST))
        .alias(CUMULATIVE_FORECAST),
        pl.when(flow)
        .then(pl.col(ACTUAL).cum_sum().over(by))
        .otherwise(pl.col(ACTUAL))
        .alias(CUMULATIVE_ACTUAL),
    )


def forecast_history(ledger: Ledger, fits: Mapping[int, Fit]) -> ForecastHistory:
    """Compare the fits ``fits`` (quarters back -> model set, or the data error that
    prevented it) with what happened in ``ledger`` (module docstring).

    The fits must be keyed on ``ledger`` (:func:`crm_core.clv.fitted.rekey`).
    """
    frames, skipped, name = [], [], None
    step = quarter_periods(ledger)
    for back, fit in sorted(fits.items()):
        end = ledger.period_end(back * step)
        if isinstance(fit, DataError):
            skipped.append((end, str(fit)))
            continue
        name = name or fit.model_name
        frames.append(
            fit_paths(ledger, fit).with_columns(
                pl.lit(end).alias(FIT_END), pl.lit(back, pl.Int32).alias(QUARTERS_BACK)
            )
        )
    measures = (ACTIVE, REVENUE) if ledger.contractual else (PURCHASES, REVENUE, ACTIVE)
    columns = [FIT_END, QUARTERS_BACK, STEP, PERIOD_END, MEASURE, FORECAST, ACTUAL]
    if frames:
        paths = _cumulate(pl.concat(frames).select(columns))
    else:
        empty = {FIT_END: pl.Date, QUARTERS_BACK: pl.Int32, STEP: pl.Int32, PERIOD_END: pl.Date,
                 MEASURE: pl.String, FORECAST: pl.Float64, ACTUAL: pl.Float64,
                 CUMULATIVE_FORECAST: pl.Float64, CUMULATIVE_ACTUAL: pl.Float64}  # fmt: skip
        paths = pl.DataFrame(schema=empty)
    summary = (
        paths.filter(pl.col(FORECAST).is_not_null())
        .sort(STEP)
        .group_by(FIT_END, QUARTERS_BACK, MEASURE, maintain_order=True)
        .last()
        .select(
            FIT_END,
            QUARTERS_BACK,
            MEASURE,
            STEP,
            pl.col(CUMULATIVE_FORECAST).alias(FORECAST),
            pl.col(CUMULATIVE_ACTUAL).alias(ACTUAL),
        )
        .with_columns(
            pl.when(pl.col(ACTUAL) != 0).then(pl.col(FORECAST) / pl.col(ACTUAL) - 1).alias(ERROR)
        )
        .sort(FIT_END, MEASURE, descending=[True, False])
    )
    return ForecastHistory(
        as_of=ledger.as_of,
        currency=ledger.currency,
        model_name=name or "",
        measures=measures,
        paths=paths.sort(FIT_END, MEASURE, STEP, descending=[True, False, False]),
        summary=summary,
        skipped=tuple(skipped),
    )


def fit_history(ledger: Ledger, quarters: list[int] | None = None) -> ForecastHistory:
    """:func:`forecast_history` with a model set fitted at each of ``quarters`` (default
    :func:`forecast_quarters`): the uncached equivalent of the app's loader."""
    step = quarter_periods(ledger)
    fits: dict[int, Fit] = {}
    for back in forecast_quarters(ledger) if quarters is None else quarters:
        try:
            fits[back] = fit_models(ledger, back * step)
        except DataError as exc:
            fits[back] = exc
    return forecast_history(ledger, fits)
