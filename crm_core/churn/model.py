"""The churn models: a calibrated gradient-boosting classifier, a logistic regression and
a recency-only baseline, trained on the same rows.

* **Model**: scikit-learn's ``HistGradientBoostingClassifier`` (histogram gradient
  boosting, after LightGBM: Ke et al. 2017, NeurIPS) on every feature, the acquisition
  channel as a category, missing values handled natively; early stopping on 15% of the
  rows. Its probabilities are calibrated by ``CalibratedClassifierCV`` with three folds
  (isotonic regression with at least 1,000 churners among the training rows, else
  Platt's sigmoid: Niculescu-Mizil & Caruana 2005, ICML), so ``P(churn)`` can be
  multiplied by money.
* **Logistic regression**: the same features, amounts and counts on a signed
  ``log(1 + |x|)`` scale, missing values imputed by the median (with a missing flag),
  standardised; the channel one-hot encoded.
* **Recency baseline**: days since the last activity alone, turned into a probability by
  an increasing isotonic regression; its ranking is recency's.

**Training rows** are subsampled to at most :data:`MAX_TRAIN_ROWS` (uniformly, seeded), so
training stays within seconds at any size; at 1,000,000 customers the training cuts hold
about 2 million rows (a 5% subsample). Everything is seeded: the same data gives the same model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from crm_core.churn.columns import F
from crm_core.churn.features import FeatureSpec
from crm_core.errors import NotEnoughData

__all__ = ["MAX_TRAIN_ROWS", "MIN_CHURNERS", "SEED", "Trained", "matrix", "threads", "train"]

MAX_TRAIN_ROWS = 100_000
"""Training rows kept at most (a uniform, seeded subsample of the training cuts' rows)."""
MIN_CHURNERS = 20
"""Churners (and as many non-churners) needed among the training rows."""
ISOTONIC_CHURNERS = 1_000
"""From this many training churners on, calibration is isotonic (else sigmoid)."""
SEED = 0
MIN_VALUES = 30
"""Training rows a feature needs a value on to be used (fewer: treated as a constant)."""
SMALL = 20_000
"""Below this many rows the models run on one thread: on small data the threads' start-up
costs more than they save, and much more on a busy machine."""


def threads(rows: int) -> threadpool_limits:
    """One thread for small work (:data:`SMALL`), all of them otherwise."""
    return threadpool_limits(1 if rows < SMALL else None)


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass(frozen=True)
class Trained:
    """The three fitted models and what they were trained on.

    Attributes
    ----------
    spec
        The feature columns (the order of :func:`matrix`).
    model, logistic, baseline
        The calibrated boosting classifier, the logistic regression and the isotonic
        curve of P(churn) on days since the last activity.
    typical
        Per feature, a typical value among the training rows (median; the commonest code
        of a category): the reference of the reasons (:mod:`crm_core.churn.reasons`).
    rows, rows_available, churners
        Training rows used, rows the cuts held, churners among the rows used.
    calibration
        ``"isotonic"`` or ``"sigmoid"``.
    """

    spec: FeatureSpec
    model: CalibratedClassifierCV
    logistic: Pipeline
    baseline: IsotonicRegression
    typical: np.ndarray
    rows: int
    rows_available: int
    churners: int
    calibration: str

    @property
    def subsampled(self) -> bool:
        """Whether the training rows were a subsample."""
        return self.rows < self.rows_available

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Calibrated P(churn) of the rows of ``x`` (:func:`matrix`)."""
        if not len(x):
            return np.zeros(0)
        with threads(len(x)):
            return self.model.predict_proba(x)[:, 1]

    def predict_logistic(self, x: np.ndarray) -> np.ndarray:
        """P(churn) by the logistic regression."""
        if not len(x):
            return np.zeros(0)
        with threads(len(x)):
            return self.logistic.predict_proba(x)[:, 1]

    def predict_baseline(self, x: np.ndarray) -> np.ndarray:
        """P(churn) by recency alone."""
        return self.baseline.predict(self.recency(x)) if len(x) else np.zeros(0)

    def recency(self, x: np.ndarray) -> np.ndarray:
        """Days since the last activity: the baseline's score."""
        return x[:, self.spec.names.index(F.days_since)]


def _folds(x: np.ndarray, y: np.ndarray, seed: int) -> StratifiedKFold:
    """The calibration's three folds: in row order (sklearn's default), unless a feature
    some rows have would have no value in a training fold (rows come sorted by customer,
    and old customers cluster): then shuffled with ``seed``."""
    plain = StratifiedKFold(3)
    present = ~np.isnan(x)
    anywhere = present.any(axis=0)
    for train_rows, _ in plain.split(x, y):
        if (anywhere & ~present[train_rows].any(axis=0)).any():
            return StratifiedKFold(3, shuffle=True, random_state=seed)
    return plain


def matrix(frame: pl.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """The feature columns of ``frame`` as a float matrix (NaN where missing)."""
    return frame.select(spec.names).to_numpy().astype(np.float64, copy=False)


def _logistic(spec: FeatureSpec) -> Pipeline:
    n = len(spec.numeric)
    numeric = make_pipeline(
        FunctionTransformer(_signed_log),
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    columns = ColumnTransformer(
        [
            ("numeric", numeric, list(range(n))),
            ("category", OneHotEncoder(handle_unknown="ignore"), list(range(n, len(spec.names)))),
        ]
    )
    return make_pipeline(columns, LogisticRegression(max_iter=2_000))


def _boosting(spec: FeatureSpec) -> HistGradientBoostingClassifier:
    mask = [name in spec.categorical for name in spec.names]
    return HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=200,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=mask,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=20,
        random_state=SEED,
    )


def _typical(x: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    out = np.full(x.shape[1], np.nan)
    for j, name in enumerate(spec.names):
        column = x[:, j][~np.isnan(x[:, j])]
        if not column.size:
            continue
        if name in spec.categorical:
            values, counts = np.unique(column, return_counts=True)
            out[j] = values[np.argmax(counts)]
        else:
            out[j] = np.median(column)
    return out


def train(
    frame: pl.DataFrame, spec: FeatureSpec, *, max_rows: int = MAX_TRAIN_ROWS, seed: int = SEED
) -> Trained:
    """Fit the model, the logistic regression and the baseline on ``frame``'s rows.

    Parameters
    ----------
    frame
        Feature rows (:func:`crm_core.churn.features.feature_frame`) with ``churned``.
    spec
        The feature columns.
    max_rows
        Training rows kept at most (module docstring).
    seed
        Seed of the subsample and of the models.

    Raises
    ------
    NotEnoughData
        With fewer than :data:`MIN_CHURNERS` churners or non-churners among the rows.
    """
    y_all = frame[F.churned].to_numpy().astype(bool)
    churners = int(y_all.sum())
    if min(churners, y_all.size - churners) < MIN_CHURNERS:
        raise NotEnoughData(
            f"the churn model needs at least {MIN_CHURNERS} churners and {MIN_CHURNERS} "
            f"customers who stayed at its training dates; they hold {churners:,} churners "
            f"of {y_all.size:,} active customers. Choose a later date or a shorter horizon."
        )
    rows = np.arange(y_all.size)
    if y_all.size > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(y_all.size, max_rows, replace=False))
    x = matrix(frame[rows] if rows.size < y_all.size else frame, spec)
    rare = (~np.isnan(x)).sum(axis=0) < MIN_VALUES
    if rare.any():  # a feature (almost) no training row has: a constant carries as little,
        x[:, rare] = 0.0  # and sklearn's binning fails on a fold where it has no value at all
    y = y_all[rows]
    positives = int(y.sum())
    method = "isotonic" if positives >= ISOTONIC_CHURNERS else "sigmoid"
    with threads(y.size):
        model = CalibratedClassifierCV(_boosting(spec), method=method, cv=_folds(x, y, seed))
        model = model.fit(x, y)
        logistic = _logistic(spec).fit(x, y)
    recency = x[:, spec.names.index(F.days_since)]
    baseline = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(recency, y)
    return Trained(
        spec=spec,
        model=model,
        logistic=logistic,
        baseline=baseline,
        typical=_typical(x, spec),
        rows=int(y.size),
        rows_available=int(y_all.size),
        churners=positives,
        calibration=method,
    )
