"""How well a score ranks and prices churn on the test cut: the numbers of the model card.

* **ROC AUC** - the probability that a random churner scores above a random customer who
  stays (ties count half; Hanley & McNeil 1982); 0.5 is chance, 1 a perfect ranking.
* **PR AUC** - average precision (the area under the precision-recall curve, as
  scikit-learn's ``average_precision_score``): what share of those flagged churn, averaged
  over the churners found; the chance level is the churn rate.
* **Brier score** - mean squared error of the probabilities (Brier 1950): lower is better;
  always predicting the churn rate scores ``rate x (1 - rate)``.
* **Lift by decile** - customers ordered by score (highest first; equal scores in
  customer order) and cut into ten groups of (nearly) equal size, ``floor(10 i / n)``:
  each decile's churn rate over the overall rate, and the share of all churners it holds
  (*capture*). The top decile's lift is ``capture x 10``.
* **Calibration curve** - customers cut into ten equal groups by predicted probability:
  the mean prediction against the observed churn rate of each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

__all__ = [
    "BINS",
    "Scores",
    "calibration_table",
    "decile_of",
    "lift_table",
    "scores",
]

BINS = 10
DECILE, CUSTOMERS, CHURNERS, CHURN_RATE, LIFT, CAPTURE, CUMULATIVE = (
    "decile",
    "customers",
    "churners",
    "churn_rate",
    "lift",
    "capture",
    "cumulative_capture",
)
PREDICTED, OBSERVED = "predicted", "observed"


@dataclass(frozen=True)
class Scores:
    """Quality of one score on the test rows (module docstring).

    Attributes
    ----------
    roc_auc, pr_auc, brier
        The three summary numbers (fractions).
    top_decile_lift
        Churn rate of the top 10% by score over the overall churn rate.
    top_decile_capture
        Share of all churners in the top 10%.
    """

    roc_auc: float
    pr_auc: float
    brier: float
    top_decile_lift: float
    top_decile_capture: float


def decile_of(score: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Decile (0 = highest scores) of each row; equal scores in row order."""
    order = np.argsort(-score, kind="stable")
    decile = np.empty(score.size, dtype=np.int64)
    decile[order] = np.arange(score.size) * bins // max(score.size, 1)
    return decile


def lift_table(churned: np.ndarray, score: np.ndarray, bins: int = BINS) -> pl.DataFrame:
    """``decile`` (1 = highest scores), ``customers, churners, churn_rate, lift, capture,
    cumulative_capture`` (module docstring)."""
    y = churned.astype(np.float64)
    decile = decile_of(score, bins)
    customers = np.bincount(decile, minlength=bins)
    found = np.bincount(decile, weights=y, minlength=bins)
    rate = y.mean() if y.size else np.nan
    total = y.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        group_rate = found / customers
        return pl.DataFrame(
            {
                DECILE: np.arange(1, bins + 1),
                CUSTOMERS: customers,
                CHURNERS: found.astype(np.int64),
                CHURN_RATE: group_rate,
                LIFT: group_rate / rate,
                CAPTURE: found / total,
                CUMULATIVE: np.cumsum(found) / total,
            }
        )


def calibration_table(churned: np.ndarray, p: np.ndarray, bins: int = BINS) -> pl.DataFrame:
    """``decile`` (1 = lowest predictions), ``customers, predicted, observed``: mean
    prediction and churn rate of ten equal groups by predicted probability."""
    group = bins - 1 - decile_of(p, bins)
    customers = np.bincount(group, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pl.DataFrame(
            {
                DECILE: np.arange(1, bins + 1),
                CUSTOMERS: customers,
                PREDICTED: np.bincount(group, weights=p, minlength=bins) / customers,
                OBSERVED: np.bincount(group, weights=churned.astype(np.float64), minlength=bins)
                / customers,
            }
        ).filter(pl.col(CUSTOMERS) > 0)


def scores(churned: np.ndarray, score: np.ndarray, p: np.ndarray | None = None) -> Scores:
    """The summary numbers of ``score`` (a ranking) and ``p`` (its probabilities; default
    ``score``) against the outcome ``churned``."""
    y = churned.astype(bool)
    p = score if p is None else p
    lift = lift_table(y, score)
    return Scores(
        roc_auc=float(roc_auc_score(y, score)),
        pr_auc=float(average_precision_score(y, score)),
        brier=float(brier_score_loss(y, p)),
        top_decile_lift=float(lift[LIFT][0]),
        top_decile_capture=float(lift[CAPTURE][0]),
    )
