"""Retention of contracts by tenure, from the shared shifted-beta-geometric fit.

Contract retention rises with tenure: the customers likely to cancel leave first (Fader &
Hardie 2007, "How to project customer retention", J. Interactive Marketing 21(1); domain
brief, section 4). So the rate observed over the last year, on last year's (younger)
base, understates how many of today's customers stay. With the sBG model of the fitted
model set (:mod:`crm_core.clv.fitted`, fitted once per snapshot and date, never here), a
customer who has renewed ``n`` times is still under contract ``j`` periods later with
probability ``S(n + j) / S(n)``. Per segment:

* ``expected_now`` / ``expected_then`` - the model's mean one-year retention of the
  segment's customers active today (at their tenure today) and of those active a year ago
  (at their tenure then);
* the segment's retention next year keeps its own observed level and moves with the
  tenure: its churn is the observed churn times ``(1 - expected_now) / (1 - expected_then)``
  (the model's rate where nothing was observed);
* ``base_curve`` - that retention in year 1, and in later years the model's retention of
  today's customers as they age, ``sum S(n_i + (y+1) p) / sum S(n_i + y p)`` (``p``
  periods a year), its churn scaled by the same factor;
* ``new_curve`` - a new customer, won on average half-way through the year, in year
  ``k >= 1`` after the year of acquisition: ``S(p/2 + k p) / S(p/2 + (k-1) p)``, scaled
  alike (index 0, the year of acquisition, is ``S(p/2)``; the baseline uses the observed
  first-year survival instead).

Tenure is counted in ledger periods since acquisition (a contractual ledger is monthly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_core.clv.fitted import FittedModels
from crm_core.data.ledger import L
from crm_core.whatif.facts import ACTIVE_NOW, ACTIVE_THEN

__all__ = ["CURVE_YEARS", "NOW", "THEN", "TenureRetention", "tenure_retention"]

CURVE_YEARS = 60
"""Years of a retention curve (the last value holds afterwards)."""
NOW, THEN = "_now", "_then"  # the segment columns of the people frame


@dataclass(frozen=True)
class TenureRetention:
    """Contract retention of one segment from the sBG fit (module docstring).

    Attributes
    ----------
    expected_now, expected_then
        The model's mean one-year retention of the segment's customers active today and
        of those active a year ago (fractions; ``expected_then`` is ``None`` when nobody
        was in the segment a year ago).
    model_curve
        The model's retention of today's customers by projection year (year 1 first).
    cohort_curve
        The model's retention of a new cohort by tenure year (index 0: the year of
        acquisition).
    """

    expected_now: float
    expected_then: float | None
    model_curve: tuple[float, ...]
    cohort_curve: tuple[float, ...]

    def retention(self, observed: float | None) -> float:
        """Next year's retention: the observed rate moved by the tenure shift."""
        if observed is None or self.expected_then is None or self.expected_then >= 1.0:
            return self.expected_now
        factor = (1.0 - self.expected_now) / (1.0 - self.expected_then)
        return float(min(max(1.0 - (1.0 - observed) * factor, 0.0), 1.0))

    def curves(self, observed: float | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(today's customers by year, a new cohort by tenure year), scaled so year 1
        equals :meth:`retention`."""
        target, first = self.retention(observed), self.model_curve[0]
        scale = (1.0 - target) / (1.0 - first) if first < 1.0 else 1.0

        def scaled(curve: tuple[float, ...]) -> tuple[float, ...]:
            return tuple(float(min(max(1.0 - (1.0 - r) * scale, 0.0), 1.0)) for r in curve)

        return scaled(self.model_curve), scaled(self.cohort_curve)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.clip(np.divide(top, bottom, out=np.ones_like(top), where=bottom > 0), 0.0, 1.0)


def _tenure_counts(people: pl.LazyFrame, segment: str, active: str, period: int) -> pl.LazyFrame:
    return (
        people.filter(pl.col(active))
        .group_by(pl.col(segment).alias("segment"), (pl.col(L.acquired_period) - period).alias("t"))
        .agg(pl.len().alias("n"))
    )


def tenure_retention(
    models: FittedModels, people: pl.LazyFrame, period: int, year: int, months_per_period: int
) -> dict[str, TenureRetention]:
    """Per segment, the sBG retention of its contracts (module docstring).

    Parameters
    ----------
    models
        The fitted model set (its ``sbg``).
    people
        One row per customer: ``cid``, ``acquired_period``, ``active_now``,
        ``active_then`` and the segments ``_now`` and ``_then``.
    period, year
        The ledger period of the baseline and the periods in a year.
    months_per_period
        Months in a ledger period.
    """
    model = models.sbg
    if model is None or not models.period_months:
        return {}
    unit = months_per_period / models.period_months  # sBG periods per ledger period
    step = 12 / models.period_months  # sBG periods in a year
    now, then = pl.collect_all(
        [
            _tenure_counts(people, NOW, ACTIVE_NOW, period),
            _tenure_counts(people, THEN, ACTIVE_THEN, period + year),
        ]
    )
    years = np.arange(CURVE_YEARS + 1) * step

    def expected(rows: pl.DataFrame) -> np.ndarray:
        """Expected survivors after 0..CURVE_YEARS years, each conditional on today."""
        renewals = np.maximum(rows["t"].to_numpy().astype(float) * unit, 0.0)
        alive = np.asarray(model.survival(renewals[:, None] + years[None, :]), dtype=float)
        return (rows["n"].to_numpy()[:, None] * _ratio(alive, alive[:, :1])).sum(axis=0)

    cohort = np.asarray(model.survival(step / 2 + years), dtype=float)
    cohort_curve = tuple(float(v) for v in (cohort[0], *_ratio(cohort[1:], cohort[:-1])[:-1]))
    before = {str(k[0]): rows for k, rows in then.group_by("segment")}
    out: dict[str, TenureRetention] = {}
    for (segment,), rows in now.group_by("segment"):
        survivors = expected(rows)
        curve = _ratio(survivors[1:], survivors[:-1])
        earlier = before.get(str(segment))
        expected_then = None
        if earlier is not None:
            past = expected(earlier)
            expected_then = float(past[1] / past[0]) if past[0] > 0 else None
        out[str(segment)] = TenureRetention(
            expected_now=float(curve[0]),
            expected_then=expected_then,
            model_curve=tuple(float(v) for v in curve),
            cohort_curve=cohort_curve,
        )
    return out
