"""The churn early-warning report: validate out of time, score today's customers, rank
them by value at risk.

:func:`churn_report` runs, on one ledger and the model sets fitted at its cuts:

1. the cut plan and labels (:mod:`crm_core.churn.cuts`): training cuts before the test
   cut, whose labels were known by it;
2. the features of the training, test and scoring rows (:mod:`crm_core.churn.features`,
   one pipeline); the training rows of each model and the test rows are uniform seeded
   subsamples of at most :data:`~crm_core.churn.model.MAX_TRAIN_ROWS` and
   :data:`MAX_TEST_ROWS` rows, so the work stays bounded at any size;
3. the validation: the three models (:mod:`crm_core.churn.model`) trained on the training
   cuts, evaluated on the test cut (:mod:`crm_core.churn.evaluate`);
4. the same recipe refitted on the latest labelled cuts (the test cut and the ones just
   before it), scoring every customer active at the as-of date; when the model's test ROC
   AUC does not exceed the recency baseline's, the baseline's P(churn) is used instead;
5. value at risk, the call list and the tier and stage totals (:mod:`crm_core.churn.value`),
   and the reasons of the call list's first rows (:mod:`crm_core.churn.reasons`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import polars as pl

from crm_core.churn.columns import F, R
from crm_core.churn.cuts import CutPlan, labels, plan_cuts, population
from crm_core.churn.evaluate import Scores, calibration_table, lift_table, scores
from crm_core.churn.features import FeatureSpec, feature_frame, feature_spec
from crm_core.churn.model import MAX_TRAIN_ROWS, SEED, Trained, matrix, train
from crm_core.churn.model_features import model_features
from crm_core.churn.reasons import baseline_reasons, reasons
from crm_core.churn.value import by_group, tiers_now
from crm_core.clv.fitted import FittedModels, fit_models
from crm_core.clv.valuation import CLV, ClvResult
from crm_core.data.ledger import CUSTOMER_STAGES, L, Ledger
from crm_core.data.schema import C
from crm_core.errors import DataError, NotEnoughData
from crm_core.metrics.tiers import TIERS

__all__ = [
    "CALL_LIST_ROWS",
    "MAX_TEST_ROWS",
    "MIN_TEST_CHURNERS",
    "REASON_ROWS",
    "ChurnReport",
    "Validation",
    "call_list_with_reasons",
    "churn_report",
    "fit_cuts",
]

MAX_TEST_ROWS = 100_000
"""Test rows kept at most (a uniform, seeded subsample of the test cut's customers)."""
MIN_TEST_CHURNERS = 10
"""Churners (and customers who stay) needed at the test cut."""
CALL_LIST_ROWS = 20_000
"""Rows of the call list kept with their features (the reasons can be read for them)."""
REASON_ROWS = 500
"""Rows of the call list whose reasons the report computes."""


@dataclass(frozen=True)
class Validation:
    """The out-of-time test (the model card).

    Attributes
    ----------
    model, logistic, baseline
        Scores of the calibrated model, the logistic regression and recency alone.
    lift, baseline_lift
        Lift by decile of the model and of the baseline
        (:func:`crm_core.churn.evaluate.lift_table`).
    calibration
        Calibration curve of the model (:func:`~crm_core.churn.evaluate.calibration_table`).
    trained
        The validated models (trained on the training cuts).
    test_rows, test_churners, test_customers
        Rows scored at the test cut (a subsample of ``test_customers`` when larger than
        :data:`MAX_TEST_ROWS`) and the churners among them.
    deadline_share
        Non-contractual: share of the test churners whose lapse threshold was due to run
        out within the horizon anyway (``days_to_lapse`` below the horizon's days), i.e.
        who had already gone most of a year without a purchase; ``None`` for contracts.
    """

    model: Scores
    logistic: Scores
    baseline: Scores
    lift: pl.DataFrame
    baseline_lift: pl.DataFrame
    calibration: pl.DataFrame
    trained: Trained
    test_rows: int
    test_churners: int
    test_customers: int
    deadline_share: float | None

    @property
    def beats_baseline(self) -> bool:
        """Whether the model's test ROC AUC exceeds the recency baseline's."""
        return self.model.roc_auc > self.baseline.roc_auc

    @property
    def churn_rate(self) -> float:
        """Churn rate of the test rows."""
        return self.test_churners / self.test_rows


@dataclass(frozen=True)
class ChurnReport:
    """Everything the Churn risk page and ``crm churn`` show (module docstring).

    Attributes
    ----------
    as_of, currency, contractual
        The ledger's date, currency and business model.
    plan
        The cuts (:class:`~crm_core.churn.cuts.CutPlan`).
    horizon_days
        Days from the test cut to the as-of date (the horizon's length in days).
    spec
        The features.
    validation
        The out-of-time test.
    scorer
        The models refitted on the latest labelled cuts, which scored ``scored``.
    scored
        One row per customer active at the as-of date, highest value at risk first (those
        without one last, then by ``cid``): ``cid, customer_id,
        acquisition_channel, p_churn, p_model, p_baseline, clv, value_at_risk, tier,
        stage, last_purchase, next_purchase`` (``clv`` and ``value_at_risk`` null when the
        valuation does not cover the customer; ``next_purchase``: the BG/NBD median date
        of the next purchase if still active, or the next renewal date).
    call_list
        The first :data:`CALL_LIST_ROWS` customers by value at risk: ``rank`` and the
        ``scored`` columns, the features, and the reasons of the first
        :data:`REASON_ROWS` (``reason_1 ..``, ``effect_1 ..``; null after them).
    listed
        Customers with a value at risk (the whole call list's length).
    by_tier, by_stage
        Value at risk by ABC tier and by lifecycle stage (:func:`~crm_core.churn.value.by_group`).
    valuation_note
        Why no customer has a value at risk (``None`` when the valuation was given).
    model_note
        Why the fitted CLV models' features are left out (``None`` when used).
    """

    as_of: date
    currency: str
    contractual: bool
    plan: CutPlan
    horizon_days: int
    spec: FeatureSpec
    validation: Validation
    scorer: Trained
    scored: pl.DataFrame
    call_list: pl.DataFrame
    listed: int
    by_tier: pl.DataFrame
    by_stage: pl.DataFrame
    valuation_note: str | None = None
    model_note: str | None = None

    @property
    def ranked_by(self) -> str:
        """``"model"`` or ``"baseline"``: whose P(churn) the list uses."""
        return "model" if self.validation.beats_baseline else "baseline"

    @property
    def customers_scored(self) -> int:
        return self.scored.height

    @property
    def expected_churners(self) -> float:
        """Sum of P(churn) over the scored customers."""
        return float(self.scored[R.p_churn].sum())

    @property
    def value_at_risk(self) -> float:
        """Value at risk summed over the scored customers (currency)."""
        return float(self.scored[R.value_at_risk].sum())

    def features_of(self, rows: pl.DataFrame) -> np.ndarray:
        """The feature matrix of call-list rows (for :func:`crm_core.churn.reasons.reasons`)."""
        return matrix(rows, self.spec)


def fit_cuts(ledger: Ledger, cuts: tuple[int, ...]) -> dict[int, FittedModels | DataError]:
    """The CLV model set fitted once at each cut (or the data problem that prevented it),
    for callers without the app's shared fits (the CLI, tests)."""
    out: dict[int, FittedModels | DataError] = {}
    for k in cuts:
        try:
            out[k] = fit_models(ledger, k)
        except DataError as exc:
            out[k] = exc
    return out


def _sample(frame: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    if frame.height <= n:
        return frame
    rows = np.sort(np.random.default_rng(seed).choice(frame.height, n, replace=False))
    return frame[rows]


def _usable_plan(
    plan: CutPlan, fits: Mapping[int, FittedModels | DataError]
) -> tuple[CutPlan, str | None]:
    """Training cuts whose model set could not be fitted are dropped; without a fit at the
    as-of or test date the model features are left out altogether (the note says why)."""
    failed = {k: f for k, f in fits.items() if not isinstance(f, FittedModels)}
    for k in (plan.score, plan.test):
        if k in failed or k not in fits:
            reason = failed.get(k, "no model set was given for that date")
            return plan, f"the CLV models could not be fitted at {plan.ends[k]:%d %b %Y}: {reason}"
    train = tuple(k for k in plan.train if k in fits and k not in failed)
    refit = tuple(k for k in plan.refit if k in fits and k not in failed)
    if not train or not refit:
        return plan, "the CLV models could not be fitted at the training dates"
    return replace(plan, train=train, refit=refit), None


def _test_checks(frame: pl.DataFrame, plan: CutPlan) -> None:
    churners = int(frame[F.churned].sum())
    if min(churners, frame.height - churners) < MIN_TEST_CHURNERS:
        raise NotEnoughData(
            f"the out-of-time test needs at least {MIN_TEST_CHURNERS} churners and "
            f"{MIN_TEST_CHURNERS} customers who stayed after {plan.ends[plan.test]:%d %b %Y}; "
            f"there are {churners:,} churners of {frame.height:,} active customers"
        )


def _validate(train_rows, test_rows, spec, plan, horizon_days, test_customers, max_rows, seed):
    trained = train(train_rows, spec, max_rows=max_rows, seed=seed)
    x = matrix(test_rows, spec)
    y = test_rows[F.churned].to_numpy().astype(bool)
    p = trained.predict(x)
    recency = trained.recency(x)
    deadline = None
    if not spec.contractual:
        due = test_rows[F.days_to_lapse].to_numpy()[y] < horizon_days
        deadline = float(due.mean())
    return Validation(
        model=scores(y, p),
        logistic=scores(y, trained.predict_logistic(x)),
        baseline=scores(y, recency, trained.predict_baseline(x)),
        lift=lift_table(y, p),
        baseline_lift=lift_table(y, recency),
        calibration=calibration_table(y, p),
        trained=trained,
        test_rows=int(y.size),
        test_churners=int(y.sum()),
        test_customers=test_customers,
        deadline_share=deadline,
    )


def _scored(ledger, score_rows, scorer, beats, clv) -> pl.DataFrame:
    x = matrix(score_rows, scorer.spec)
    p_model, p_base = scorer.predict(x), scorer.predict_baseline(x)
    p = p_model if beats else p_base
    frame = score_rows.select(F.cid).with_columns(
        pl.Series(R.p_churn, p), pl.Series(R.p_model, p_model), pl.Series(R.p_baseline, p_base)
    )
    if clv is not None:
        values = clv.table.select(pl.col(L.cid).alias(F.cid), pl.col(CLV).alias(R.clv))
        frame = frame.join(values, on=F.cid, how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias(R.clv))
    as_of = ledger.as_of
    wait = (
        score_rows[F.next_purchase_days]
        if F.next_purchase_days in score_rows.columns
        else pl.Series([None] * score_rows.height, dtype=pl.Float64)
    )
    now = ledger.at(0).select(
        pl.col(L.cid).alias(F.cid),
        pl.col(L.stage).cast(pl.String).alias(R.stage),
        pl.col(L.last_purchase).alias(R.last_purchase),
    )
    lazy = (
        frame.lazy()
        .with_columns(
            (pl.col(R.p_churn) * pl.col(R.clv)).alias(R.value_at_risk),
            (pl.lit(as_of) + pl.duration(days=pl.Series(wait).ceil().cast(pl.Int64))).alias(
                R.next_purchase
            ),
        )
        .join(tiers_now(ledger), on=F.cid, how="left")
        .with_columns(pl.col(R.tier).fill_null(TIERS[-1]))
        .join(now, on=F.cid, how="left")
    )
    named = ledger.with_customers(lazy.rename({F.cid: L.cid}), C.customer_id, C.acquisition_channel)
    return named.rename({L.cid: F.cid}).collect()


def _with_reasons(top: pl.DataFrame, scorer: Trained, n: int, *, model: bool) -> pl.DataFrame:
    """``top`` with the reasons of its first ``n`` rows (null after them): the model's, or
    recency's when the list is ranked by the baseline."""
    top = top.drop([c for c in top.columns if c.startswith(("reason_", "effect_"))])
    explain = reasons if model else baseline_reasons
    why = explain(scorer, matrix(top.head(n), scorer.spec))
    rest = top.height - why.height
    filler = pl.DataFrame({c: pl.Series([None] * rest, dtype=t) for c, t in why.schema.items()})
    return pl.concat([top, pl.concat([why, filler])], how="horizontal")


def call_list_with_reasons(report: ChurnReport, rows: int) -> pl.DataFrame:
    """The first ``rows`` of the call list (at most :data:`CALL_LIST_ROWS`), every one with
    its reasons (those beyond :data:`REASON_ROWS` are computed now)."""
    top = report.call_list.head(rows)
    if rows <= REASON_ROWS:
        return top
    return _with_reasons(top, report.scorer, top.height, model=report.ranked_by == "model")


def churn_report(
    ledger: Ledger,
    fits: Mapping[int, FittedModels | DataError],
    clv: ClvResult | None,
    *,
    horizon_quarters: int = 1,
    training_cuts: int = 4,
    max_train_rows: int = MAX_TRAIN_ROWS,
    seed: int = SEED,
    valuation_note: str | None = None,
) -> ChurnReport:
    """Validate, score and rank (module docstring).

    Parameters
    ----------
    ledger
        The customer ledger at the as-of date.
    fits
        The CLV model set fitted at each cut (``{period: fit}``, keyed on this ledger's
        customers: the app's shared fits, or :func:`fit_cuts`), or the data error of a fit.
        Cuts missing a fit lose its features (``model_note`` says so).
    clv
        The shared valuation at the as-of date (:func:`crm_core.clv.valuation.value` of
        ``fits[0]``), or ``None`` when there is none (no value at risk then).
    horizon_quarters, training_cuts
        The horizon and the number of training cuts (:func:`~crm_core.churn.cuts.plan_cuts`).
    max_train_rows, seed
        Training rows per model at most, and the seed of every subsample and model.
    valuation_note
        Why ``clv`` is missing, for the page.

    Raises
    ------
    NotEnoughData
        When the history is too short, or too few customers churned (or stayed) at the
        training or test dates to train and test on.
    """
    plan, model_note = _usable_plan(plan_cuts(ledger, horizon_quarters, training_cuts), fits)
    spec = feature_spec(ledger, with_models=model_note is None)
    horizon_days = (plan.ends[0] - plan.ends[plan.test]).days
    # sorted: a join's row order may differ from run to run, and the seeded subsamples and
    # the models' folds are taken by row position (same data, same model)
    cuts = tuple(sorted({*plan.train, *plan.refit}))
    labelled = labels(ledger, cuts, plan.horizon).sort(F.cut, F.cid).collect()
    test_all = labelled.filter(pl.col(F.cut) == plan.test)
    _test_checks(test_all, plan)
    whole = [labelled.filter(pl.col(F.cut).is_in(list(cuts))) for cuts in (plan.train, plan.refit)]
    parts = [_sample(rows, max_train_rows, seed + i) for i, rows in enumerate(whole)]
    test = _sample(test_all, MAX_TEST_ROWS, seed + 2)
    scoring = population(ledger, (0,)).with_columns(pl.lit(None, pl.Boolean).alias(F.churned))
    rows = pl.concat([*parts, test]).unique(maintain_order=True).lazy()
    rows = pl.concat([rows, scoring], how="vertical_relaxed")
    models = None
    if model_note is None:
        models = pl.concat(
            [model_features(fits[k], k, horizon_days) for k in plan.cuts if k in fits]
        ).lazy()
    frame = feature_frame(ledger, spec, rows, plan.cuts, models).sort(F.cut, F.cid).collect()

    def pick(part: pl.DataFrame) -> pl.DataFrame:
        keys = part.select(F.cut, F.cid)
        return frame.join(keys, on=[F.cut, F.cid], how="semi", maintain_order="left")

    validation = _validate(
        pick(parts[0]), pick(test), spec, plan, horizon_days, test_all.height, max_train_rows, seed
    )
    # the rows the cuts held before the subsample (the model card says how many)
    validation = replace(
        validation, trained=replace(validation.trained, rows_available=whole[0].height)
    )
    scorer = train(pick(parts[1]), spec, max_rows=max_train_rows, seed=seed)
    scorer = replace(scorer, rows_available=whole[1].height)
    score_rows = frame.filter(pl.col(F.cut) == 0)
    scored = _scored(ledger, score_rows, scorer, validation.beats_baseline, clv).sort(
        [R.value_at_risk, F.cid], descending=[True, False], nulls_last=True
    )
    listed = int(scored[R.value_at_risk].is_not_null().sum())
    top = scored.head(min(listed, CALL_LIST_ROWS)).with_row_index(R.rank, offset=1)
    top = top.join(score_rows.drop(F.cut, F.churned), on=F.cid, how="left", maintain_order="left")
    call_list = _with_reasons(top, scorer, REASON_ROWS, model=validation.beats_baseline)
    return ChurnReport(
        as_of=ledger.as_of,
        currency=ledger.currency,
        contractual=ledger.contractual,
        plan=plan,
        horizon_days=horizon_days,
        spec=spec,
        validation=validation,
        scorer=scorer,
        scored=scored,
        call_list=call_list,
        listed=listed,
        by_tier=by_group(scored, R.tier, TIERS),
        by_stage=by_group(scored, R.stage, CUSTOMER_STAGES),
        valuation_note=None if clv is not None else (valuation_note or "no valuation"),
        model_note=model_note,
    )
