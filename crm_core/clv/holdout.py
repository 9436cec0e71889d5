"""Does the model predict? Calibration / holdout checks on the customer ledger.

:func:`holdout_check` takes the model set fitted at the end of an earlier ledger period
``k`` (the calibration end; :func:`crm_core.clv.fitted.fit_models` with ``period=k``, the
same fit the app caches for that date) and compares its predictions with what the same
ledger records from then to its as-of date (the holdout, periods ``k - 1 .. 0``):

* **non-contractual** (BG/NBD, as in Fader, Hardie & Lee 2005, figures 3-4): repeat
  purchase days in the holdout per customer, predicted by the conditional expectation
  (FHL eq. 10) against actual, averaged by calibration frequency bucket ``0, 1, ..., 6,
  7+``; and the tracking series, period end by period end, of cumulative repeat purchase
  days of the calibration customers, actual against the sum of every customer's
  unconditional expectation ``E[X(t)]`` since their first purchase.
* **contractual** (sBG): customers with a running contract at the calibration end,
  predicted against actual share still running at as-of, by tenure bucket; and the
  tracking series of those customers still under contract at each period end of the
  holdout.

Both produce the same :class:`HoldoutCheck` shape, so one chart serves both. The
calibration ends offered (:func:`calibration_choices`) are the ledger's period ends a whole
number of quarters back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from crm_core.clv._dates import completed_months
from crm_core.clv._horizon import purchases_by_customer
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.fitted import ACTIVE_CONTRACT, PERIODS_PAID, FittedModels, fit_models
from crm_core.clv.sbg import SBGModel
from crm_core.clv.summary import DAYS_PER_UNIT, FREQUENCY, RECENCY, T_AGE
from crm_core.data.expressions import add_months
from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import PERIOD_END
from crm_core.data.schema import C
from crm_core.errors import NotEnoughData
from crm_core.formatting import fmt_count, fmt_pct

__all__ = ["BUCKET", "HoldoutCheck", "calibration_choices", "holdout_check"]

BUCKET = "bucket"
ORDER = "order"
CUSTOMERS = "customers"
ACTUAL = "actual"
PREDICTED = "predicted"
STEP = "step"
PERIOD = "period"
CALIBRATION = "calibration"
HOLDOUT = "holdout"
_TOP_BUCKET = 7


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted against actual behaviour after a calibration date.

    Attributes
    ----------
    calibration_end, holdout_end
        Last day of the calibration data and of the holdout (the ledger's as-of date).
    model_name
        ``"BG/NBD"`` or ``"sBG"``.
    measure
        What is compared, in words (``"repeat purchases"`` or ``"customers still active"``).
    bucket_label
        What the buckets are (``"Repeat purchases in calibration"``...).
    bucket_noun
        What a bucket counts, after its number: ``"repeat purchases"``, ``"months paid"``.
    by_bucket
        ``bucket (text), order, customers, actual, predicted``: mean holdout repeat
        purchases per customer (BG/NBD) or share still active (sBG).
    tracking
        ``step, date, actual, predicted, period ("calibration" | "holdout")``: cumulative
        repeat purchases (BG/NBD) or customers still under contract (sBG) at every ledger
        period end (quarters, or months for subscriptions).
    actual_total, predicted_total
        Holdout repeat purchases (or customers still active at the end), actual and
        predicted.
    customers
        Customers in the check.
    bgnbd, sbg
        The model fitted on the calibration data.
    """

    calibration_end: date
    holdout_end: date
    model_name: str
    measure: str
    bucket_label: str
    by_bucket: pl.DataFrame
    tracking: pl.DataFrame
    actual_total: float
    predicted_total: float
    customers: int
    bgnbd: BGNBDModel | None = None
    sbg: SBGModel | None = None
    bucket_noun: str = "repeat purchases"

    @property
    def error(self) -> float:
        """Relative error of the holdout total, ``predicted / actual - 1``."""
        return self.predicted_total / self.actual_total - 1 if self.actual_total else np.nan

    @property
    def headline(self) -> str:
        """The verdict in a few words: ``"The model forecast repeat purchases to within
        5%"`` (errors up to 10%) or ``"The model over-forecast repeat purchases by 31%"``."""
        if not self.actual_total:
            return f"No {self.measure} in the holdout to compare with"
        size = fmt_pct(abs(self.error))
        if abs(self.error) <= 0.10:
            return f"The model forecast {self.measure} to within {size}"
        direction = "over" if self.error > 0 else "under"
        return f"The model {direction}-forecast {self.measure} by {size}"

    @property
    def summary(self) -> str:
        """The check in one sentence, e.g. ``"Fitted on data to 30 Sep 2025, the model
        predicted 9,534 repeat purchases from 1 Oct 2025 to 30 Sep 2026 by the 1,186
        customers it knew; 9,107 happened (+5%)."``"""
        start = self.calibration_end + timedelta(days=1)
        period = f"from {_day(start)} to {_day(self.holdout_end)}"
        predicted = fmt_count(round(self.predicted_total), compact=False)
        actual = fmt_count(round(self.actual_total), compact=False)
        error = f" ({fmt_pct(self.error, signed=True)})" if self.actual_total else ""
        if self.model_name == "sBG":
            return (
                f"Fitted on data to {_day(self.calibration_end)}, the model expected {predicted} "
                f"of the {fmt_count(self.customers, compact=False)} customers with a running "
                f"contract then to still have one on {_day(self.holdout_end)}; {actual} "
                f"did{error}."
            )
        return (
            f"Fitted on data to {_day(self.calibration_end)}, the model predicted {predicted} "
            f"repeat purchases {period} by the {fmt_count(self.customers, compact=False)} "
            f"customers it knew; {actual} happened{error}."
        )


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def period_at(ledger: Ledger, day: date | str | int) -> int:
    """The ledger period ending on ``day`` (an ``int`` is taken as the period itself).

    Raises
    ------
    ValueError
        If ``day`` is not a period end of the ledger.
    """
    if isinstance(day, int):
        if not 0 <= day < ledger.periods:
            raise ValueError(f"the ledger has periods 0 .. {ledger.periods - 1}, got {day}")
        return day
    end = day if isinstance(day, date) else date.fromisoformat(str(day))
    hit = ledger.grid.filter(pl.col(PERIOD_END) == end)
    if hit.is_empty():
        raise ValueError(f"{end} is not a period end of the ledger (as of {ledger.as_of})")
    return int(hit["period"][0])


def holdout_check(
    ledger: Ledger,
    calibration_end: date | str | int,
    *,
    models: FittedModels | None = None,
    time_unit: str = "W",
    period_months: int = 1,
) -> HoldoutCheck:
    """Compare the model fitted at ``calibration_end`` with the holdout ``(calibration_end,
    as_of]`` of the same ledger (see the module docstring).

    Parameters
    ----------
    ledger
        The customer ledger (its as-of date ends the holdout).
    calibration_end
        A period end of the ledger before its as-of date, or the period's number.
    models
        The model set fitted at that period end (the app passes its cached fit); fitted
        here with ``time_unit`` / ``period_months`` when not given.

    Raises
    ------
    ValueError
        If ``calibration_end`` is not a period end before the as-of date, or ``models``
        describes another date.
    ModelFitError
        If the calibration data cannot support the model.
    """
    k = period_at(ledger, calibration_end)
    if k == 0:
        raise ValueError(
            f"calibration_end {ledger.period_end(0)} must lie before the ledger's as-of date"
        )
    if models is None:
        models = fit_models(ledger, k, time_unit=time_unit, period_months=period_months)
    elif models.period != k or models.as_of != ledger.period_end(k):
        raise ValueError(f"models were fitted at {models.as_of}, not at {ledger.period_end(k)}")
    if models.sbg is not None:
        return _sbg_check(ledger, k, models)
    return _bgnbd_check(ledger, k, models)


def calibration_choices(
    ledger: Ledger, *, min_history_months: int = 6, step_periods: int | None = None
) -> list[date]:
    """Calibration ends a holdout check can use: the ledger's period ends a whole number of
    quarters (``step_periods`` periods) before its as-of date and at least
    ``min_history_months`` after the first recorded activity (acquisition or purchase),
    latest first. Empty when the ledger is too short."""
    step = step_periods or max(1, 3 // ledger.period_months)
    customers = ledger.customers
    if customers.is_empty():
        return []
    first = min(d for d in (customers[C.acquired_on].min(), customers[L.first_purchase].min())
                if d is not None)  # fmt: skip
    floor = add_months(first, min_history_months)  # type: ignore[arg-type]
    return [
        ledger.period_end(k) for k in range(step, ledger.periods, step)
        if ledger.period_end(k) >= floor
    ]  # fmt: skip


def _bucket_expr(column: str) -> pl.Expr:
    return (
        pl.when(pl.col(column) >= _TOP_BUCKET)
        .then(pl.lit(f"{_TOP_BUCKET}+"))
        .otherwise(pl.col(column).cast(pl.String))
        .alias(BUCKET)
    )


def _bgnbd_check(ledger: Ledger, k: int, models: FittedModels) -> HoldoutCheck:
    model, summary = models.bgnbd, models.inputs
    if model is None or summary.is_empty():
        raise NotEnoughData("no customer had a purchase before the calibration end")
    cal, end = ledger.period_end(k), ledger.as_of
    unit = DAYS_PER_UNIT[models.time_unit or "W"]
    x = summary[FREQUENCY].to_numpy().astype(np.float64)
    horizon = (end - cal).days / unit
    age = summary[T_AGE].to_numpy()
    # FHL eq. 10, P(alive) * E[purchases of an alive customer], the latter as valuation
    # computes it (crm_core.clv._horizon: one matrix over distinct x and T)
    alive_purchases = purchases_by_customer(model.params, x, age, np.array([horizon]), np.ones(1))
    predicted = model._p_alive(x, summary[RECENCY].to_numpy(), age) * alive_purchases[1]
    cids = summary[L.cid].to_numpy()
    after = ledger.panel.filter(pl.col(L.period) < k)  # the holdout periods, every customer
    days = np.bincount(
        after[L.cid].to_numpy(),
        weights=after[L.purchase_days].to_numpy(),
        minlength=ledger.customers.height,
    )
    per_customer = summary.select(L.cid, FREQUENCY).with_columns(
        pl.Series(PREDICTED, predicted), pl.Series(ACTUAL, days[cids])
    )
    by_bucket = (
        per_customer.with_columns(
            _bucket_expr(FREQUENCY),
            pl.min_horizontal(pl.col(FREQUENCY), pl.lit(_TOP_BUCKET)).alias(ORDER),
        )
        .group_by(BUCKET, ORDER)
        .agg(pl.len().alias(CUSTOMERS), pl.col(ACTUAL).mean(), pl.col(PREDICTED).mean())
        .sort(ORDER)
    )
    return HoldoutCheck(
        calibration_end=cal,
        holdout_end=end,
        model_name="BG/NBD",
        measure="repeat purchases",
        bucket_label="Repeat purchases in calibration",
        by_bucket=by_bucket,
        tracking=_bgnbd_tracking(ledger, k, model, cids, unit),
        actual_total=float(per_customer[ACTUAL].sum()),
        predicted_total=float(per_customer[PREDICTED].sum()),
        customers=per_customer.height,
        bgnbd=model,
    )


def _bgnbd_tracking(
    ledger: Ledger, k: int, model: BGNBDModel, cids: np.ndarray, unit: float
) -> pl.DataFrame:
    """Cumulative repeat purchase days of the calibration customers ``cids`` at every period
    end from their first purchases on, and the model's unconditional expectation."""
    known = np.zeros(ledger.customers.height, dtype=bool)
    known[cids] = True
    panel = ledger.panel
    member = known[panel[L.cid].to_numpy()]
    repeats = np.maximum(panel[L.cum_purchase_days].to_numpy().astype(np.int64) - 1, 0)
    per_period = np.bincount(
        panel[L.period].to_numpy()[member], weights=repeats[member], minlength=ledger.periods
    )
    repeats = pl.LazyFrame({L.period: np.arange(ledger.periods, dtype=np.int32),
                            ACTUAL: per_period})  # fmt: skip
    known_frame = pl.LazyFrame({L.cid: cids})
    first = ledger.with_customers(known_frame, L.first_purchase).group_by(L.first_purchase).len()
    cohorts = first.collect()
    start = cohorts[L.first_purchase].min()
    grid = (
        ledger.grid.lazy()
        .filter(pl.col(PERIOD_END) >= pl.lit(start))
        .select(pl.col("period").alias(L.period), pl.col(PERIOD_END).alias(C.date))
        .join(repeats, on=L.period, how="left")
        .with_columns(pl.col(ACTUAL).fill_null(0).cast(pl.Float64))
        .sort(L.period, descending=True)
        .collect()
    )
    age = (
        (grid[C.date].to_numpy()[None, :] - cohorts[L.first_purchase].to_numpy()[:, None])
        .astype("timedelta64[D]")
        .astype(np.float64)
    )
    expected = np.asarray(model.expected_purchases_new(np.clip(age, 0.0, None) / unit))
    predicted = cohorts["len"].to_numpy().astype(np.float64) @ expected
    return grid.select(
        pl.int_range(1, pl.len() + 1).alias(STEP),
        C.date,
        ACTUAL,
        pl.Series(PREDICTED, predicted),
        pl.when(pl.col(L.period) >= k)
        .then(pl.lit(CALIBRATION))
        .otherwise(pl.lit(HOLDOUT))
        .alias(PERIOD),
    )


_TENURE_BUCKETS = (
    (1, 1, "1"),
    (2, 2, "2"),
    (3, 3, "3"),
    (4, 6, "4-6"),
    (7, 12, "7-12"),
    (13, 24, "13-24"),
    (25, 10**9, "25+"),
)


def _sbg_check(ledger: Ledger, k: int, models: FittedModels) -> HoldoutCheck:
    model = models.sbg
    assert model is not None
    period_months = models.period_months or 1
    cal, end = ledger.period_end(k), ledger.as_of
    running = models.inputs.lazy().filter(pl.col(ACTIVE_CONTRACT)).select(L.cid, PERIODS_PAID)
    info = ledger.with_customers(running, C.acquired_on).collect()
    if info.is_empty():
        raise NotEnoughData(f"no contract was running on {cal}")
    paid = info[PERIODS_PAID].to_numpy().astype(np.float64)
    base_surv = np.asarray(model.survival(paid - 1))
    # customers still under contract at each period end of the holdout (the ledger's rule)
    still = (
        ledger.lazy()
        .filter(pl.col(L.period) <= k)
        .join(running, on=L.cid, how="semi")
        .group_by(L.period)
        .agg(pl.col(L.active).sum().cast(pl.Float64).alias(ACTUAL))
        .sort(L.period, descending=True)
        .collect()
    )
    periods = still[L.period].to_list()
    dates = [ledger.period_end(p) for p in periods]
    predictions = []
    for d in dates:
        started = (
            info.select(
                (completed_months(pl.lit(d), pl.col(C.acquired_on)) // period_months + 1).alias("s")
            )["s"]
            .to_numpy()
            .astype(np.float64)
        )
        renewals = np.maximum(started - paid, 0)
        predictions.append(np.asarray(model.survival(paid - 1 + renewals)) / base_surv)
    last_pred = predictions[-1]
    last_still = (
        info.select(L.cid)
        .join(
            ledger.at(0).select(L.cid, L.active).collect(),
            on=L.cid,
            how="left",
            maintain_order="left",
        )[L.active]
        .fill_null(False)
        .to_numpy()
    )
    rows_actual = still[ACTUAL].to_list()
    rows_pred = [float(p.sum()) for p in predictions]
    tracking = pl.DataFrame(
        {
            STEP: np.arange(len(dates)),
            C.date: pl.Series(dates, dtype=pl.Date),
            ACTUAL: rows_actual,
            PREDICTED: rows_pred,
            PERIOD: [CALIBRATION] + [HOLDOUT] * (len(dates) - 1),
        }
    )
    order = np.zeros(paid.size, dtype=np.int64)
    labels = np.empty(paid.size, dtype=object)
    for i, (lo, hi, name) in enumerate(_TENURE_BUCKETS):
        sel = (paid >= lo) & (paid <= hi)
        order[sel] = i
        labels[sel] = name
    by_bucket = (
        pl.DataFrame(
            {
                BUCKET: labels.astype(str),
                ORDER: order,
                ACTUAL: last_still.astype(np.float64),
                PREDICTED: last_pred,
            }
        )
        .group_by(BUCKET, ORDER)
        .agg(pl.len().alias(CUSTOMERS), pl.col(ACTUAL).mean(), pl.col(PREDICTED).mean())
        .sort(ORDER)
        .select(BUCKET, ORDER, CUSTOMERS, ACTUAL, PREDICTED)
    )
    return HoldoutCheck(
        calibration_end=cal,
        holdout_end=end,
        model_name="sBG",
        measure="customers still active",
        bucket_label=f"Tenure at calibration end ({model.period}s paid)",
        bucket_noun=f"{model.period}s paid",
        by_bucket=by_bucket,
        tracking=tracking,
        actual_total=rows_actual[-1],
        predicted_total=rows_pred[-1],
        customers=info.height,
        sbg=model,
    )
