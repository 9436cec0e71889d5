"""Features of every customer at a cut, from the ledger and the snapshot only.

One lazy polars pipeline (:func:`feature_frame`, collected once by the caller) builds, for
each cut ``k`` and each customer in its population, with data dated up to the cut's end
only (the ledger is causal and the snapshot rows are read by ledger period):

* **recency and rhythm** (the ledger at ``k``): days since the last activity, the usual gap
  between purchase days, the lapse threshold of the activity rule and the days left before
  it runs out, how many usual gaps the customer is overdue, tenure, purchase days so far;
* **windows** (ledger periods ``k .. k + 4q - 1``, ``q`` periods a quarter): net revenue and
  purchase days over the last quarter, half-year and year, and the half-year before, with
  the change of the last half-year on the one before (a fraction, ``-0.6`` = down 60%);
  service contacts and their cost;
* **snapshot rows** of the last year: refunds (rows with a negative amount) and their
  amount, the share of transactions per channel (the six commonest channels of the
  snapshot), and contacts and cost per touchpoint (the six commonest);
* **the fitted CLV models at the cut** (:mod:`crm_core.churn.model_features`), when given;
* **the customer**: the acquisition channel (a category; the 20 commonest, the rest pooled).

Amounts are in the snapshot's currency, durations in days, counts in rows or purchase days.
The columns (which channels, touchpoints and acquisition channels get one) are chosen from
the whole snapshot, so every cut has the same columns; their values at a cut use rows dated
up to the cut only (a test appends later rows and gets the same features).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from crm_core.churn.columns import (
    TOUCHPOINT_CONTACTS_PREFIX,
    TOUCHPOINT_COST_PREFIX,
    F,
    channel_share,
    touchpoint_contacts,
    touchpoint_cost,
)
from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import PERIOD_START, period_of
from crm_core.data.schema import C
from crm_core.metrics.quarters import quarter_periods

__all__ = ["FeatureSpec", "feature_frame", "feature_spec"]

MAX_CHANNELS = 6
MAX_TOUCHPOINTS = 6
MAX_ACQUISITION_CHANNELS = 20
WINDOW_QUARTERS = 4  # the longest window: a year

_RHYTHM = (F.lapse_days, F.days_to_lapse, F.gap_ratio)  # the activity rule's lapse: retail only
_LEDGER = (
    F.days_since,
    F.usual_gap,
    F.lapse_days,
    F.days_to_lapse,
    F.gap_ratio,
    F.tenure_days,
    F.purchase_days_total,
    F.revenue_q,
    F.revenue_h,
    F.revenue_y,
    F.revenue_prev_h,
    F.spend_change,
    F.purchase_days_q,
    F.purchase_days_h,
    F.purchase_days_y,
    F.purchase_days_prev_h,
    F.frequency_change,
    F.contacts_h,
    F.contacts_y,
    F.service_cost_y,
    F.refunds_y,
    F.refund_amount_y,
    F.transactions_y,
)
_SUMS = (
    F.revenue_q,
    F.revenue_h,
    F.revenue_y,
    F.revenue_prev_h,
    F.purchase_days_q,
    F.purchase_days_h,
    F.purchase_days_y,
    F.purchase_days_prev_h,
    F.contacts_h,
    F.contacts_y,
    F.service_cost_y,
    F.transactions_y,
    F.refunds_y,
    F.refund_amount_y,
)  # zero for a customer without rows in the window
TOUCHPOINT_PREFIXES = (TOUCHPOINT_CONTACTS_PREFIX, TOUCHPOINT_COST_PREFIX)
_BGNBD = (F.p_alive, F.expected_purchases)
_SBG = (F.renewal_probability, F.periods_paid, F.days_to_renewal, F.revenue_per_period)


@dataclass(frozen=True)
class FeatureSpec:
    """The feature columns of one ledger (module docstring).

    Attributes
    ----------
    contractual
        Whether the business is contractual (sBG features instead of BG/NBD ones, no
        lapse-threshold features).
    channels, touchpoints
        The transaction channels and touchpoints with a feature column each.
    acquisition_channels
        Acquisition channels coded ``0, 1, ...`` in this order (others: the next code).
    with_models
        Whether the fitted CLV models' features are included.
    """

    contractual: bool
    channels: tuple[str, ...]
    touchpoints: tuple[str, ...]
    acquisition_channels: tuple[str, ...]
    with_models: bool = True

    @property
    def numeric(self) -> tuple[str, ...]:
        """Numeric features, in the model's column order."""
        ledger = tuple(c for c in _LEDGER if not (self.contractual and c in _RHYTHM))
        models = (_SBG if self.contractual else _BGNBD) if self.with_models else ()
        mix = tuple(channel_share(c) for c in self.channels)
        service = tuple(
            f(t) for t in self.touchpoints for f in (touchpoint_contacts, touchpoint_cost)
        )
        return ledger + mix + service + models

    @property
    def categorical(self) -> tuple[str, ...]:
        """Categorical features (integer codes), after the numeric ones."""
        return (F.acquisition_channel,)

    @property
    def names(self) -> tuple[str, ...]:
        """Every feature, in the model's column order."""
        return self.numeric + self.categorical


def _top(frame: pl.LazyFrame, column: str, n: int) -> pl.LazyFrame:
    """The ``n`` commonest values of ``column`` (ties by value)."""
    return (
        frame.group_by(column)
        .agg(pl.len().alias("_n"))
        .sort(["_n", column], descending=[True, False])
        .head(n)
        .select(column)
    )


def feature_spec(ledger: Ledger, *, with_models: bool = True) -> FeatureSpec:
    """The feature columns of ``ledger``: its commonest channels, touchpoints and
    acquisition channels (one small query over the snapshot)."""
    snap = ledger.snapshot
    channels, touchpoints = pl.collect_all(
        [
            _top(snap.transactions.select(C.channel), C.channel, MAX_CHANNELS),
            _top(snap.service_costs.select(C.touchpoint), C.touchpoint, MAX_TOUCHPOINTS),
        ]
    )
    acquired = (
        ledger.customers[C.acquisition_channel]
        .value_counts(sort=True)
        .sort(["count", C.acquisition_channel], descending=[True, False])
        .head(MAX_ACQUISITION_CHANNELS)
    )
    return FeatureSpec(
        contractual=ledger.contractual,
        channels=tuple(channels[C.channel].to_list()),
        touchpoints=tuple(touchpoints[C.touchpoint].to_list()),
        acquisition_channels=tuple(acquired[C.acquisition_channel].to_list()),
        with_models=with_models,
    )


def _change(recent: str, previous: str) -> pl.Expr:
    """``recent / previous - 1`` where ``previous > 0`` (a fraction), else null."""
    return pl.when(pl.col(previous) > 0).then(pl.col(recent) / pl.col(previous) - 1.0)


def _ledger_part(ledger: Ledger, k: int, q: int, who: pl.LazyFrame) -> pl.LazyFrame:
    """State at ``k`` and window sums over the year to ``k`` of the customers ``who``
    (``cid``)."""
    period = pl.col(L.period)
    back = period - k  # 0: the cut's own period

    def total(column: str, periods: int, start: int = 0) -> pl.Expr:
        inside = (back >= start * q) & (back < (start + periods) * q)
        return pl.col(column).filter(inside).sum()

    windows = (
        ledger.lazy()
        .filter(period.is_between(k, k + WINDOW_QUARTERS * q - 1))
        .join(who, on=L.cid, how="semi")
        .group_by(L.cid)
        .agg(
            total(L.revenue, 1).alias(F.revenue_q),
            total(L.revenue, 2).alias(F.revenue_h),
            total(L.revenue, 4).alias(F.revenue_y),
            total(L.revenue, 2, 2).alias(F.revenue_prev_h),
            total(L.purchase_days, 1).alias(F.purchase_days_q),
            total(L.purchase_days, 2).alias(F.purchase_days_h),
            total(L.purchase_days, 4).alias(F.purchase_days_y),
            total(L.purchase_days, 2, 2).alias(F.purchase_days_prev_h),
            total(L.contacts, 2).alias(F.contacts_h),
            total(L.contacts, 4).alias(F.contacts_y),
            total(L.service_cost, 4).alias(F.service_cost_y),
            total(L.transactions, 4).alias(F.transactions_y),
        )
    )
    gap = pl.col(L.usual_gap_days)
    return (
        ledger.at(k)
        .join(who, on=L.cid, how="semi")
        .select(
            L.cid,
            pl.col(L.days_since_activity).alias(F.days_since),
            gap.alias(F.usual_gap),
            pl.col(L.lapse_after_days).alias(F.lapse_days),
            (pl.col(L.lapse_after_days) - pl.col(L.days_since_activity)).alias(F.days_to_lapse),
            pl.when(gap > 0).then(pl.col(L.days_since_activity) / gap).alias(F.gap_ratio),
            pl.col(L.tenure_days).alias(F.tenure_days),
            pl.col(L.cum_purchase_days).alias(F.purchase_days_total),
        )
        .join(windows, on=L.cid, how="left")
        .with_columns(
            _change(F.revenue_h, F.revenue_prev_h).alias(F.spend_change),
            _change(F.purchase_days_h, F.purchase_days_prev_h).alias(F.frequency_change),
        )
    )


def _snapshot_rows(ledger: Ledger, spec: FeatureSpec, first: int) -> tuple[pl.LazyFrame, ...]:
    """Per customer and ledger period from ``first`` on: transactions by channel and
    refunds; contacts and cost by touchpoint."""
    snap, grid = ledger.snapshot, ledger.grid
    start = grid[PERIOD_START][min(first, ledger.periods - 1)]
    ids = ledger.customers.lazy().select(C.customer_id, L.cid)

    def rows(frame: pl.LazyFrame) -> pl.LazyFrame:
        return (
            frame.filter(pl.col(C.date) >= pl.lit(start))
            .join(ids, on=C.customer_id, how="inner")
            .with_columns(period_of(C.date, grid).alias(L.period))
        )

    amount = pl.col(C.amount)
    sales = (
        rows(snap.transactions.select(C.customer_id, C.date, C.amount, C.channel))
        .group_by(L.cid, L.period)
        .agg(
            pl.len().cast(pl.Int32).alias("_rows"),
            (amount < 0).sum().cast(pl.Int32).alias(F.refunds_y),
            (-amount.filter(amount < 0)).sum().alias(F.refund_amount_y),
            *(
                (pl.col(C.channel) == c).sum().cast(pl.Int32).alias(channel_share(c))
                for c in spec.channels
            ),
        )
    )
    touch = pl.col(C.touchpoint)
    service = (
        rows(snap.service_costs.select(C.customer_id, C.date, C.touchpoint, C.cost))
        .group_by(L.cid, L.period)
        .agg(
            *(
                (touch == t).sum().cast(pl.Int32).alias(touchpoint_contacts(t))
                for t in spec.touchpoints
            ),
            *(
                pl.col(C.cost).filter(touch == t).sum().alias(touchpoint_cost(t))
                for t in spec.touchpoints
            ),
        )
    )
    return sales.cache(), service.cache()  # read once, shared by every cut


def _snapshot_part(
    sales: pl.LazyFrame, service: pl.LazyFrame, spec: FeatureSpec, k: int, q: int
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    year = pl.col(L.period).is_between(k, k + WINDOW_QUARTERS * q - 1)
    mix = [channel_share(c) for c in spec.channels]
    by_channel = (
        sales.filter(year)
        .group_by(L.cid)
        .agg(pl.col("_rows", F.refunds_y, F.refund_amount_y, *mix).sum())
        .with_columns((pl.col(m) / pl.col("_rows")).alias(m) for m in mix)
        .drop("_rows")
    )
    names = [f(t) for t in spec.touchpoints for f in (touchpoint_contacts, touchpoint_cost)]
    by_touchpoint = service.filter(year).group_by(L.cid).agg(pl.col(names).sum())
    return by_channel, by_touchpoint


def feature_frame(
    ledger: Ledger,
    spec: FeatureSpec,
    rows: pl.LazyFrame,
    cuts: Sequence[int],
    models: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Features of ``rows`` (``cut, cid`` and any other columns, e.g. the label), one row
    each, in ``(cut, cid)`` order (module docstring).

    Parameters
    ----------
    ledger
        The customer ledger.
    spec
        The feature columns (:func:`feature_spec`).
    rows
        Customers and cuts to describe; every cut must be in ``cuts``.
    cuts
        The cuts (ledger periods) of ``rows``.
    models
        ``cut, cid`` and the model features of ``spec``
        (:func:`crm_core.churn.model_features.model_features`), and optionally
        ``next_purchase_days``; required when ``spec.with_models``.

    Returns
    -------
    pl.LazyFrame
        ``rows``' columns, then every feature of ``spec`` as Float64 (null where not
        defined, e.g. the usual gap of a customer with one purchase day; a window without
        activity counts zero), then ``next_purchase_days`` when ``models`` has it.
    """
    if spec.with_models and models is None:
        raise ValueError("the feature spec includes model features but no models were given")
    q = quarter_periods(ledger)
    sales, service = _snapshot_rows(ledger, spec, max(cuts) + WINDOW_QUARTERS * q - 1)
    parts = []
    for k in sorted(set(cuts)):
        by_channel, by_touchpoint = _snapshot_part(sales, service, spec, k, q)
        mine = rows.filter(pl.col(F.cut) == k)
        who = mine.select(pl.col(F.cid).alias(L.cid))
        parts.append(
            mine.join(_ledger_part(ledger, k, q, who), left_on=F.cid, right_on=L.cid, how="inner")
            .join(by_channel, left_on=F.cid, right_on=L.cid, how="left")
            .join(by_touchpoint, left_on=F.cid, right_on=L.cid, how="left")
        )
    codes = {c: i for i, c in enumerate(spec.acquisition_channels)}
    channel = ledger.customers.lazy().select(
        pl.col(L.cid).alias(F.cid),
        pl.col(C.acquisition_channel)
        .replace_strict(codes, default=len(codes), return_dtype=pl.Int32)
        .alias(F.acquisition_channel),
    )
    frame = pl.concat(parts, how="vertical_relaxed").join(channel, on=F.cid, how="left")
    extra: list[str] = []
    if models is not None:
        frame = frame.join(models, on=[F.cut, F.cid], how="left")
        if F.next_purchase_days in models.collect_schema().names():
            extra = [F.next_purchase_days]
    sums = _SUMS + tuple(c for c in spec.numeric if c.startswith(TOUCHPOINT_PREFIXES))
    keep = [c for c in rows.collect_schema().names() if c not in spec.names]
    return (
        frame.with_columns(pl.col(sums).fill_null(0))
        .select(*keep, *(pl.col(c).cast(pl.Float64) for c in spec.names), *extra)
        .sort(F.cut, F.cid)
    )
