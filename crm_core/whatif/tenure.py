"""Retention of contracts by tenure, from the shared shifted-beta-geometric fit.

Contract retention rises with tenure: the customers likely to cancel leave first (Fader &
Hardie 2007, "How to project customer retention", J. Interactive Marketing 21(1); domain
brief, section 4). So a flat rate measured on last year's base, which was younger,
understates how many of today's customers stay. With the sBG model of the fitted model
set (:mod:`crm_core.clv.fitted`, fitted once per snapshot and date, never here), a
customer who has renewed ``n - 1`` times is still under contract after ``j`` more periods
with probability ``S(n - 1 + j) / S(n - 1)``. Per segment, summed over its running
contracts:

* ``retention`` - the expected share still under contract in a year,
  ``sum S(n_i - 1 + 12/m) / sum S(n_i - 1)`` (``m`` months per sBG period);
* ``base_curve`` - the same for every projection year ``y``: ``sum S(n_i - 1 + (y+1)
  12/m) / sum S(n_i - 1 + y 12/m)``;
* ``new_curve`` - a new customer, won on average half-way through the year, after the
  year of acquisition: year ``k >= 1`` retains ``S(6/m + 12k/m) / S(6/m + 12(k-1)/m)``
  (index 0, the year of acquisition, is ``S(6/m)``; the baseline uses the observed
  first-year survival instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_core.clv.fitted import ACTIVE_CONTRACT, PERIODS_PAID, FittedModels
from crm_core.data.ledger import L
from crm_core.whatif.labels import SEGMENT

__all__ = ["CURVE_YEARS", "TenureRetention", "tenure_retention"]

CURVE_YEARS = 60
"""Years of a retention curve (the last value holds afterwards)."""


@dataclass(frozen=True)
class TenureRetention:
    """Contract retention of one segment from the sBG fit (module docstring).

    Attributes
    ----------
    retention
        Expected share of today's running contracts still running in a year (fraction).
    base_curve
        Retention of today's contracts by projection year (fractions, year 1 first).
    new_curve
        Retention of a new cohort by tenure year (index 0: the year of acquisition).
    """

    retention: float
    base_curve: tuple[float, ...]
    new_curve: tuple[float, ...]


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.clip(np.divide(top, bottom, out=np.ones_like(top), where=bottom > 0), 0.0, 1.0)


def tenure_retention(models: FittedModels, labels: pl.LazyFrame) -> dict[str, TenureRetention]:
    """Per segment of ``labels`` (``cid, segment``), the sBG retention of its running
    contracts (module docstring); segments without one are absent."""
    model = models.sbg
    if model is None or models.period_months is None:
        return {}
    per_year = 12 / models.period_months
    running = (
        models.inputs.lazy()
        .filter(pl.col(ACTIVE_CONTRACT))
        .select(L.cid, (pl.col(PERIODS_PAID) - 1).alias("renewals"))
        .join(labels, on=L.cid, how="left")
        .group_by(SEGMENT, "renewals")
        .agg(pl.len().alias("n"))
        .collect()
    )
    steps = np.arange(CURVE_YEARS + 1) * per_year
    half = per_year / 2
    cohort = np.asarray(model.survival(half + steps), dtype=float)
    new_curve = np.concatenate([cohort[:1], _ratio(cohort[1:], cohort[:-1])[:-1]])
    out: dict[str, TenureRetention] = {}
    for (segment,), rows in running.group_by(SEGMENT, maintain_order=True):
        renewals = rows["renewals"].to_numpy().astype(float)
        weights = rows["n"].to_numpy().astype(float)
        alive = np.asarray(model.survival(renewals[:, None] + steps[None, :]), dtype=float)
        alive = _ratio(alive, alive[:, :1])  # conditional on having renewed so far
        expected = (weights[:, None] * alive).sum(axis=0)  # (years + 1,)
        curve = _ratio(expected[1:], expected[:-1])
        out[str(segment)] = TenureRetention(
            retention=float(curve[0]),
            base_curve=tuple(float(v) for v in curve),
            new_curve=tuple(float(v) for v in new_curve),
        )
    return out
