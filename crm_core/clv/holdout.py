"""Does the model predict? Calibration / holdout checks by date.

:func:`holdout_check` fits the snapshot's model on the data up to ``calibration_end`` and
compares its predictions with what happened from then to the snapshot's as-of date:

* **non-contractual** (BG/NBD, as in Fader, Hardie & Lee 2005, figures 3-4): repeat
  purchase days in the holdout per customer, predicted by the conditional expectation
  (FHL eq. 10) against actual, averaged by calibration frequency bucket ``0, 1, ..., 6,
  7+``; and the weekly tracking series of cumulative repeat purchase days of the
  calibration customers, actual against the sum of every customer's unconditional
  expectation ``E[X(t)]`` since their first purchase.
* **contractual** (sBG): customers with a running contract at ``calibration_end``,
  predicted against actual share still running at as-of, by tenure bucket; and the
  tracking series of active customers period by period through the holdout.

Both produce the same :class:`HoldoutCheck` shape, so one chart serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from crm_core.clv._dates import completed_months
from crm_core.clv.bgnbd import BGNBDModel, fit_bgnbd
from crm_core.clv.fitted import PERIODS_PAID, contract_inputs, fit_contract_sbg
from crm_core.clv.sbg import SBGModel
from crm_core.clv.summary import (
    DAYS_PER_UNIT,
    FIRST_PURCHASE,
    FREQUENCY,
    RECENCY,
    T_AGE,
    purchase_days,
    rfm_summary_lazy,
)
from crm_core.data.expressions import add_months, quarter_end
from crm_core.data.ledger import build_ledger
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
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
        Last day of the calibration data and of the holdout (the snapshot's as-of).
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
        repeat purchases by week (BG/NBD) or active customers by period (sBG).
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


def _as_day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def holdout_check(
    snapshot: Snapshot,
    calibration_end: date | str,
    *,
    time_unit: str = "W",
    period_months: int = 1,
) -> HoldoutCheck:
    """Fit on data up to ``calibration_end`` and compare predictions with the holdout
    ``(calibration_end, as_of]`` (see the module docstring).

    Raises
    ------
    ValueError
        If ``calibration_end`` is not strictly before the snapshot's as-of date.
    ModelFitError
        If the calibration data cannot support the model.
    """
    cal = _as_day(calibration_end)
    if cal >= snapshot.as_of:
        raise ValueError(
            f"calibration_end {cal} must lie before the snapshot's as-of date {snapshot.as_of}"
        )
    if snapshot.manifest.contractual:
        return _sbg_check(snapshot, cal, period_months)
    return _bgnbd_check(snapshot, cal, time_unit)


def calibration_choices(snapshot: Snapshot, *, min_history_months: int = 6) -> list[date]:
    """Calibration ends a holdout check can use: quarter ends strictly before as-of and at
    least ``min_history_months`` after the first recorded activity (acquisition or
    purchase), latest first. Empty when the snapshot is too short."""
    first = (
        pl.concat(
            [
                snapshot.customers.select(pl.col(C.acquired_on).min().alias("d")),
                snapshot.transactions.select(pl.col(C.date).min().alias("d")),
            ]
        )
        .select(pl.col("d").min())
        .collect()
        .item()
    )
    if first is None:
        return []
    floor = add_months(first, min_history_months)
    end = quarter_end(snapshot.as_of)
    if end >= snapshot.as_of:
        end = quarter_end(add_months(snapshot.as_of, -3))
    out = []
    while end >= floor:
        out.append(end)
        end = quarter_end(add_months(end, -3))
    return out


def _bucket_expr(column: str) -> pl.Expr:
    return (
        pl.when(pl.col(column) >= _TOP_BUCKET)
        .then(pl.lit(f"{_TOP_BUCKET}+"))
        .otherwise(pl.col(column).cast(pl.String))
        .alias(BUCKET)
    )


def _bgnbd_check(snapshot: Snapshot, cal: date, time_unit: str) -> HoldoutCheck:
    end = snapshot.as_of
    unit = DAYS_PER_UNIT[time_unit]
    summary = (
        rfm_summary_lazy(snapshot.transactions, observation_end=cal, time_unit=time_unit)
        .filter(pl.col(T_AGE) > 0)
        .collect()
    )
    x = summary[FREQUENCY].to_numpy().astype(np.float64)
    model = fit_bgnbd(x, summary[RECENCY], summary[T_AGE], time_unit=time_unit)
    horizon = (end - cal).days / unit
    predicted = np.asarray(
        model.expected_purchases(horizon, x, summary[RECENCY].to_numpy(), summary[T_AGE].to_numpy())
    )
    days = purchase_days(snapshot.transactions).collect()
    holdout = (
        days.filter(pl.col(C.date) > pl.lit(cal))
        .group_by(C.customer_id)
        .agg(pl.len().cast(pl.Float64).alias(ACTUAL))
    )
    per_customer = (
        summary.select(C.customer_id, FREQUENCY, FIRST_PURCHASE)
        .with_columns(pl.Series(PREDICTED, predicted))
        .join(holdout, on=C.customer_id, how="left", maintain_order="left")
        .with_columns(pl.col(ACTUAL).fill_null(0.0))
    )
    by_bucket = (
        per_customer.with_columns(
            _bucket_expr(FREQUENCY),
            pl.min_horizontal(pl.col(FREQUENCY), pl.lit(_TOP_BUCKET)).alias(ORDER),
        )
        .group_by(BUCKET, ORDER)
        .agg(
            pl.len().alias(CUSTOMERS),
            pl.col(ACTUAL).mean(),
            pl.col(PREDICTED).mean(),
        )
        .sort(ORDER)
    )
    # weekly tracking of cumulative repeat purchase days (calibration customers only)
    first = per_customer.select(C.customer_id, FIRST_PURCHASE)
    start = first[FIRST_PURCHASE].min()
    # weeks are aligned so that one ends exactly on the calibration end
    first_end = cal - timedelta(days=7 * ((cal - start).days // 7))
    week_end = []
    day = first_end
    while day < end:
        week_end.append(day)
        day += timedelta(days=7)
    week_end.append(end)
    n_weeks = len(week_end)
    ends_days = np.array([(d - start).days for d in week_end])
    repeats = (
        days.join(first, on=C.customer_id, how="inner")
        .filter(pl.col(C.date) > pl.col(FIRST_PURCHASE))
        .select((pl.col(C.date) - pl.lit(start)).dt.total_days().alias("_day"))
    )
    week_of = np.searchsorted(ends_days, repeats["_day"].to_numpy(), side="left")
    actual_weekly = np.bincount(week_of, minlength=n_weeks)[:n_weeks]
    cohorts = first.group_by(FIRST_PURCHASE).agg(pl.len().alias("_n"))
    offsets = np.array([(d - start).days for d in cohorts[FIRST_PURCHASE].to_list()])
    sizes = cohorts["_n"].to_numpy().astype(np.float64)
    age = np.clip(ends_days[None, :] - offsets[:, None], 0, None).astype(np.float64) / unit
    expected = model._alive_expectation(age, np.zeros_like(age), np.zeros_like(age))
    predicted_cum = sizes @ expected
    tracking = pl.DataFrame(
        {
            STEP: np.arange(1, n_weeks + 1),
            C.date: pl.Series(week_end, dtype=pl.Date),
            ACTUAL: np.cumsum(actual_weekly).astype(np.float64),
            PREDICTED: predicted_cum,
            PERIOD: [CALIBRATION if d <= cal else HOLDOUT for d in week_end],
        }
    )
    return HoldoutCheck(
        calibration_end=cal,
        holdout_end=end,
        model_name="BG/NBD",
        measure="repeat purchases",
        bucket_label="Repeat purchases in calibration",
        by_bucket=by_bucket,
        tracking=tracking,
        actual_total=float(per_customer[ACTUAL].sum()),
        predicted_total=float(per_customer[PREDICTED].sum()),
        customers=per_customer.height,
        bgnbd=model,
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


def _sbg_check(snapshot: Snapshot, cal: date, period_months: int) -> HoldoutCheck:
    end = snapshot.as_of
    calib = snapshot.cut(cal)
    histories = contract_inputs(build_ledger(calib), 0, period_months)
    model = fit_contract_sbg(histories, period_months)
    active = histories.filter(pl.col("active")).select(C.customer_id, PERIODS_PAID)
    info = (
        snapshot.customers.select(C.customer_id, C.acquired_on, C.churned_on)
        .join(active.lazy(), on=C.customer_id, how="inner")
        .collect()
    )
    paid = info[PERIODS_PAID].to_numpy().astype(np.float64)
    base_surv = np.asarray(model.survival(paid - 1))
    step_dates = [cal]
    while step_dates[-1] < end:
        step_dates.append(min(add_months(cal, len(step_dates) * period_months), end))
    rows_actual, rows_pred = [], []
    last_pred = None
    for d in step_dates:
        started = (
            info.select(
                (completed_months(pl.lit(d), pl.col(C.acquired_on)) // period_months + 1).alias("s")
            )["s"]
            .to_numpy()
            .astype(np.float64)
        )
        renewals = np.maximum(started - paid, 0)
        pred = np.asarray(model.survival(paid - 1 + renewals)) / base_surv
        still = info.select(
            (pl.col(C.churned_on).is_null() | (pl.col(C.churned_on) > pl.lit(d))).alias("a")
        )["a"].to_numpy()
        rows_actual.append(float(still.sum()))
        rows_pred.append(float(pred.sum()))
        last_pred, last_still = pred, still
    tracking = pl.DataFrame(
        {
            STEP: np.arange(len(step_dates)),
            C.date: pl.Series(step_dates, dtype=pl.Date),
            ACTUAL: rows_actual,
            PREDICTED: rows_pred,
            PERIOD: [CALIBRATION] + [HOLDOUT] * (len(step_dates) - 1),
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
