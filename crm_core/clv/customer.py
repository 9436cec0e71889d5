"""Per-customer CLV of a snapshot: one entry point for the app, the CLI and other pages.

:func:`customer_clv` values every current customer as the discounted expected margin they
will bring over a horizon (residual value from the snapshot's as-of date; past profit and
acquisition costs are not included):

* **non-contractual** snapshots (retail, cards): BG/NBD (Fader, Hardie & Lee 2005) for the
  number of future purchases and P(alive), Gamma-Gamma for spend per purchase, both fitted
  on :func:`crm_core.summary.rfm_summary` of the whole history. The horizon is cut into
  ``steps_per_year`` equal steps (default 12 steps of 365.25 / 12 days); the purchases
  expected in step ``k`` are discounted from the step's end by ``(1 + d)^-(k /
  steps_per_year)``, ``d`` the yearly discount rate. Model time is in weeks (``"W"``, a
  year = 365.25 / 7 = 52.18 weeks) or days (``"D"``, 365.25 days); no month of "30
  days" is assumed anywhere.
* **contractual** snapshots (subscriptions, ``customers.churned_on`` filled at
  cancellation): the sBG model (Fader & Hardie 2007) fitted on every customer's contract
  history in periods of ``period_months`` calendar months (default 1: monthly billing),
  with cancelled customers as observed churn and active ones as right-censored. An active
  customer who has paid ``m`` periods renews ``t`` more times with probability
  ``S(m - 1 + t) / S(m - 1)``; each renewal brings their average revenue per period so
  far, times the margin, discounted from its calendar date; only renewals within the
  horizon count (the infinite-horizon version is :meth:`SBGModel.derl`).

Margin: future revenue is valued at the snapshot's **contribution margin** ratio, net of
the cost to serve, as on the Segments and What-if pages and in the Overview's simple
formula: ``(revenue - direct cost - service costs) / revenue`` over the trailing twelve
months to as-of (:func:`contribution_margin`; the whole history when those months have no
revenue), unless ``margin`` is given. Acquisition costs are sunk for current customers and
are not deducted. A business whose direct and service costs eat all its revenue has no
positive CLV, and :func:`customer_clv` says so (``SnapshotError``) rather than returning
zeros. The margin used is named in :attr:`ClvResult.method` (``"... margin 31% after
direct and service costs"``).

Who counts: the table holds every customer with at least one purchase day up to as-of
(non-contractual; their CLV is already weighted by P(alive), so customers who have most
likely lapsed add almost nothing) or every customer whose contract is running at as-of
(contractual; cancelled customers are left out). ``customer_equity`` is the sum of CLV over
the table: the value of the current base, without future cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from crm_core.clv._dates import completed_months, shifted
from crm_core.clv.bgnbd import BGNBDModel, fit_bgnbd
from crm_core.clv.errors import ModelFitError
from crm_core.clv.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crm_core.clv.sbg import SBGModel, fit_sbg_censored
from crm_core.clv.summary import (
    DAYS_PER_YEAR,
    FREQUENCY,
    MONETARY_VALUE,
    RECENCY,
    T_AGE,
    rfm_summary,
    units_per_year,
)
from crm_core.data.expressions import between, trailing_window
from crm_core.data.schema import TRANSACTIONS, C
from crm_core.data.snapshot import Snapshot
from crm_core.errors import SnapshotError
from crm_core.formatting import fmt_pct

__all__ = [
    "CLV",
    "EXPECTED_PURCHASES",
    "EXPECTED_SPEND",
    "MODEL",
    "P_ALIVE",
    "ClvResult",
    "ContributionMargin",
    "contribution_margin",
    "customer_clv",
    "parameter_table",
]

CLV = "clv"
P_ALIVE = "p_alive"
EXPECTED_PURCHASES = "expected_purchases"
EXPECTED_SPEND = "expected_spend"
MODEL = "model"
PERIODS_PAID = "periods_paid"
REVENUE_PER_PERIOD = "revenue_per_period"
NEXT_RENEWAL_YEARS = "years_to_next_renewal"

BGNBD_GG = "BG/NBD + Gamma-Gamma"
SBG = "sBG"


@dataclass(frozen=True)
class ClvResult:
    """Per-customer CLV of a snapshot and the models behind it.

    Attributes
    ----------
    table
        One row per customer counted (see the module docstring): ``customer_id, clv
        (currency), p_alive, expected_purchases (count over the horizon, undiscounted),
        expected_spend (currency per purchase or per period), model``, then the model
        inputs (``frequency, recency, T, monetary_value`` or ``periods_paid,
        revenue_per_period, years_to_next_renewal``). Sorted by CLV, highest first.
    method
        Human-readable description, e.g. ``"BG/NBD + Gamma-Gamma (3-year horizon)"``.
    customer_equity
        Sum of CLV over the table (currency).
    average_clv
        Mean CLV per customer in the table (currency).
    horizon_years, discount_rate, margin
        The horizon (years), yearly discount rate and margin ratio used.
    margin_source
        Where the margin comes from: the snapshot's :class:`ContributionMargin`, or
        ``None`` when it was given by the caller.
    currency, as_of, business_model
        From the snapshot.
    time_unit
        BG/NBD time unit (``"W"`` or ``"D"``), or ``None`` for the sBG path.
    steps_per_year
        Discounting steps a year (BG/NBD path).
    period_months
        Length of one sBG period in calendar months (sBG path), else ``None``.
    bgnbd, gamma_gamma, sbg
        The fitted models (``None`` where not used).
    """

    table: pl.DataFrame
    method: str
    customer_equity: float
    average_clv: float
    horizon_years: float
    discount_rate: float
    margin: float
    currency: str
    as_of: date
    business_model: str
    time_unit: str | None = None
    steps_per_year: int = 12
    period_months: int | None = None
    bgnbd: BGNBDModel | None = None
    gamma_gamma: GammaGammaModel | None = None
    sbg: SBGModel | None = None
    margin_source: ContributionMargin | None = None

    @property
    def margin_label(self) -> str:
        """The margin in words: ``"margin 31% after direct and service costs"``."""
        return margin_label(self.margin, self.margin_source)

    @property
    def customers(self) -> int:
        """Number of customers valued."""
        return self.table.height

    @property
    def expected_active(self) -> float:
        """Expected number of customers still active at as-of (sum of P(alive))."""
        return float(self.table[P_ALIVE].sum())

    def top_share(self, fraction: float) -> float | None:
        """Share of customer equity held by the most valuable ``fraction`` of customers
        (at least one customer); ``None`` when there is no equity to share.

        Raises
        ------
        ValueError
            If ``fraction`` is not in (0, 1].
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
        if self.table.is_empty() or self.customer_equity <= 0:
            return None
        top = max(1, round(fraction * self.table.height))
        return float(self.table[CLV].head(top).sum()) / self.customer_equity


@dataclass(frozen=True)
class ContributionMargin:
    """The snapshot's contribution margin ratio and the sums behind it.

    Attributes
    ----------
    ratio
        ``(revenue - direct_cost - service_cost) / revenue`` (fraction).
    revenue, direct_cost, service_cost
        Net revenue (refunds included), direct cost of the sales and service costs of all
        touchpoints over the window (currency).
    start, end
        The window, both days inclusive.
    trailing
        ``True`` for the trailing twelve months, ``False`` when the whole history was used
        because those months had no revenue.
    """

    ratio: float
    revenue: float
    direct_cost: float
    service_cost: float
    start: date
    end: date
    trailing: bool

    @property
    def window_label(self) -> str:
        """The window in words: ``"last 12 months"`` or ``"whole history"``."""
        return "last 12 months" if self.trailing else "whole history"


def _window_sums(snapshot: Snapshot, start: date, end: date) -> tuple[float, float, float]:
    sales = (
        snapshot.transactions.filter(between(C.date, start, end))
        .select(pl.col(C.amount).sum().alias("rev"), pl.col(C.cost).sum().alias("cost"))
        .collect()
    )
    service = (
        snapshot.service_costs.filter(between(C.date, start, end))
        .select(pl.col(C.cost).sum().alias("service"))
        .collect()
    )
    return (
        float(sales["rev"][0] or 0.0),
        float(sales["cost"][0] or 0.0),
        float(service["service"][0] or 0.0) if service.height else 0.0,
    )


def contribution_margin(snapshot: Snapshot) -> ContributionMargin:
    """Contribution margin ratio ``(revenue - direct cost - service costs) / revenue``.

    Taken over the twelve months to the snapshot's as-of date (the Overview's trailing
    window, :func:`crm_core.expressions.trailing_window`); when they hold no revenue, over
    the whole history to as-of (``start`` is then the first purchase). Acquisition costs
    are not deducted: they are sunk for the customers being valued.

    Raises
    ------
    SnapshotError
        If net revenue is not positive, or direct and service costs take all of it
        (ratio <= 0): such a business loses money on every sale, so no customer has a
        positive CLV.
    """
    start, end = trailing_window(snapshot.as_of, 12)
    revenue, direct, service = _window_sums(snapshot, start, end)
    trailing = revenue > 0
    if not trailing:
        revenue, direct, service = _window_sums(snapshot, date.min, end)
        first = snapshot.transactions.select(pl.col(C.date).min()).collect().item()
        start = first or snapshot.as_of
    if revenue <= 0:
        raise SnapshotError(TRANSACTIONS.file, "net revenue is not positive, so no margin "
                            "can be computed for CLV", column=C.amount)  # fmt: skip
    ratio = (revenue - direct - service) / revenue
    if ratio <= 0:
        window = f"the 12 months to {end}" if trailing else f"the history to {end}"
        raise SnapshotError(
            TRANSACTIONS.file,
            f"the contribution margin over {window} is {ratio:.1%}: direct costs "
            f"({direct:,.0f}) and service costs ({service:,.0f}) exceed revenue "
            f"({revenue:,.0f}), so the business loses money on every sale and no customer "
            "has a positive lifetime value (pass margin= to value customers at another "
            "margin)",
            column=C.cost,
        )
    return ContributionMargin(ratio=ratio, revenue=revenue, direct_cost=direct,
                              service_cost=service, start=start, end=end,
                              trailing=trailing)  # fmt: skip


def margin_label(margin: float, source: ContributionMargin | None) -> str:
    """``"margin 31% after direct and service costs"`` (or ``"margin 25% as given"``)."""
    if source is None:
        return f"margin {fmt_pct(margin)} as given"
    return f"margin {fmt_pct(margin)} after direct and service costs"


def _check_args(horizon_years: float, discount_rate: float, margin: float | None) -> None:
    if not np.isfinite(horizon_years) or horizon_years <= 0:
        raise ValueError(f"horizon_years must be positive, got {horizon_years!r}")
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        raise ValueError(f"discount_rate must be > -1, got {discount_rate!r}")
    if margin is not None and (not np.isfinite(margin) or not 0 < margin <= 1):
        raise ValueError(f"margin must be a fraction in (0, 1], got {margin!r}")


def customer_clv(
    snapshot: Snapshot,
    *,
    horizon_years: float = 3.0,
    discount_rate: float | None = None,
    margin: float | None = None,
    time_unit: str = "W",
    steps_per_year: int = 12,
    period_months: int = 1,
) -> ClvResult:
    """CLV of every current customer of ``snapshot`` over ``horizon_years``.

    Parameters
    ----------
    snapshot
        The company's data; ``manifest.business_model`` picks the model.
    horizon_years
        Years ahead from as-of that count (years of 365.25 days).
    discount_rate
        Yearly discount rate; default the manifest's.
    margin
        Share of revenue kept as margin (fraction in (0, 1]); default the snapshot's
        contribution margin after direct and service costs, :func:`contribution_margin`.
    time_unit
        BG/NBD time unit, ``"W"`` or ``"D"`` (results agree up to optimiser tolerance).
    steps_per_year
        Discounting steps a year for the BG/NBD path.
    period_months
        Length of one sBG period in calendar months for the contractual path.

    Returns
    -------
    ClvResult

    Raises
    ------
    ModelFitError
        If a model cannot be fitted (e.g. no repeat purchases, no churn yet).
    SnapshotError
        If the snapshot's contribution margin is not positive (costs exceed revenue).
    ValueError
        On bad arguments.
    """
    d = snapshot.manifest.discount_rate if discount_rate is None else float(discount_rate)
    _check_args(horizon_years, d, margin)
    if int(steps_per_year) != steps_per_year or steps_per_year < 1:
        raise ValueError(f"steps_per_year must be a whole number >= 1, got {steps_per_year!r}")
    if int(period_months) != period_months or period_months < 1:
        raise ValueError(f"period_months must be a whole number >= 1, got {period_months!r}")
    source = contribution_margin(snapshot) if margin is None else None
    m = source.ratio if source is not None else float(margin)  # type: ignore[arg-type]
    if snapshot.manifest.contractual:
        return _contractual(snapshot, horizon_years, d, m, source, int(period_months))
    return _non_contractual(snapshot, horizon_years, d, m, source, time_unit,
                            int(steps_per_year))  # fmt: skip


def _horizon_label(horizon_years: float) -> str:
    years = f"{horizon_years:g}"
    return f"{years}-year horizon"


def _finish(
    table: pl.DataFrame,
    model: str,
    *,
    horizon_years: float,
    margin: float,
    margin_source: ContributionMargin | None,
    **kwargs: object,
) -> ClvResult:
    """The sorted result; ``method`` reads ``"<model> (<horizon>, <margin>)"``."""
    table = table.sort([CLV, C.customer_id], descending=[True, False])
    equity = float(table[CLV].sum()) if table.height else 0.0
    return ClvResult(
        table=table,
        method=f"{model} ({_horizon_label(horizon_years)}, {margin_label(margin, margin_source)})",
        customer_equity=equity,
        average_clv=equity / table.height if table.height else 0.0,
        horizon_years=float(horizon_years),
        margin=margin,
        margin_source=margin_source,
        **kwargs,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ non-contractual


def bgnbd_clv_values(
    bg: BGNBDModel,
    gg: GammaGammaModel,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    monetary: np.ndarray,
    *,
    margin: float,
    horizon_years: float,
    discount_rate: float,
    steps_per_year: int = 12,
) -> dict[str, np.ndarray]:
    """CLV arrays for BG/NBD + Gamma-Gamma customers (see the module docstring).

    Returns ``clv, p_alive, expected_purchases, expected_spend`` (numpy arrays aligned
    with the inputs). Shared by :func:`customer_clv` and the uncertainty bands.
    """
    per_year = units_per_year(bg.time_unit)
    steps = int(np.ceil(horizon_years * steps_per_year - 1e-9))
    years_at = np.minimum(np.arange(1, steps + 1) / steps_per_year, horizon_years)
    times = years_at * per_year
    disc = (1.0 + discount_rate) ** -years_at
    # the alive-expectation depends on (x, T) only; P(alive) carries the recency
    pairs = pl.DataFrame({"x": frequency, "T": age}).unique(maintain_order=False)
    px, pt = pairs["x"].to_numpy(), pairs["T"].to_numpy()
    cum = bg._alive_expectation(times[None, :], px[:, None], pt[:, None])
    increments = np.diff(cum, axis=1, prepend=0.0)
    disc_pairs = np.einsum("ij,j->i", increments, disc)  # no BLAS threads, see wsum
    key = pl.DataFrame({"x": px, "T": pt, "_dep": disc_pairs, "_ep": cum[:, -1]})
    joined = pl.DataFrame({"x": frequency, "T": age}).join(
        key, on=["x", "T"], how="left", maintain_order="left"
    )
    alive = bg._p_alive(frequency, recency, age)
    spend = np.asarray(gg.expected_spend(frequency, np.maximum(monetary, 0.0)))
    dep = alive * joined["_dep"].to_numpy()
    clv = margin * spend * dep
    if not np.all(np.isfinite(clv)):
        raise ModelFitError("CLV: the fitted models give non-finite values for some customers")
    return {
        CLV: np.maximum(clv, 0.0),
        P_ALIVE: alive,
        EXPECTED_PURCHASES: alive * joined["_ep"].to_numpy(),
        EXPECTED_SPEND: spend,
    }


def _non_contractual(
    snapshot: Snapshot,
    horizon_years: float,
    d: float,
    margin: float,
    source: ContributionMargin | None,
    time_unit: str,
    steps_per_year: int,
) -> ClvResult:
    summary = rfm_summary(snapshot.transactions, observation_end=snapshot.as_of,
                          time_unit=time_unit)  # fmt: skip
    # customers whose first purchase is on the as-of day have T = 0: not yet observable
    summary = summary.filter(pl.col(T_AGE) > 0)
    if summary.is_empty():
        raise ModelFitError("CLV: no customer has a purchase before the as-of date")
    x = summary[FREQUENCY].to_numpy().astype(np.float64)
    tx = summary[RECENCY].to_numpy()
    t = summary[T_AGE].to_numpy()
    mv = summary[MONETARY_VALUE].to_numpy()
    bg = fit_bgnbd(x, tx, t, time_unit=time_unit)
    spenders = (x > 0) & (mv > 0)
    gg = fit_gamma_gamma(x[spenders], mv[spenders])
    values = bgnbd_clv_values(bg, gg, x, tx, t, mv, margin=margin, horizon_years=horizon_years,
                              discount_rate=d, steps_per_year=steps_per_year)  # fmt: skip
    table = pl.DataFrame(
        {
            C.customer_id: summary[C.customer_id],
            **values,
            MODEL: pl.Series([BGNBD_GG] * summary.height, dtype=pl.String),
            FREQUENCY: summary[FREQUENCY],
            RECENCY: summary[RECENCY],
            T_AGE: summary[T_AGE],
            MONETARY_VALUE: summary[MONETARY_VALUE],
        }
    )
    return _finish(
        table,
        BGNBD_GG,
        horizon_years=horizon_years,
        margin=margin,
        margin_source=source,
        discount_rate=d,
        currency=snapshot.currency,
        as_of=snapshot.as_of,
        business_model=snapshot.manifest.business_model,
        time_unit=time_unit,
        steps_per_year=steps_per_year,
        bgnbd=bg,
        gamma_gamma=gg,
    )


# ------------------------------------------------------------------ contractual


_ADJECTIVE = {1: "monthly", 3: "quarterly", 6: "half-yearly", 12: "yearly"}


def _period_name(period_months: int) -> str:
    return {1: "month", 3: "quarter", 6: "half-year", 12: "year"}.get(
        period_months, f"{period_months}-month period"
    )


def contract_histories(snapshot: Snapshot, period_months: int = 1) -> pl.DataFrame:
    """Per customer: periods paid (period starts before cancellation or up to as-of),
    whether the contract is still running, revenue per period paid, and the years from
    as-of to the next renewal (active customers).

    Period ``j`` (``j = 1, 2, ...``) starts ``(j - 1) * period_months`` calendar months after
    acquisition; a customer who cancels on a period start did not pay that period.
    """
    as_of = pl.lit(snapshot.as_of)
    acq = pl.col(C.acquired_on)
    churned = pl.col(C.churned_on).is_not_null() & (pl.col(C.churned_on) <= as_of)
    end = pl.when(churned).then(pl.col(C.churned_on)).otherwise(as_of)
    months = completed_months(end, acq)
    last_start = (months // period_months) * period_months
    on_start = shifted(acq, last_start) == end
    paid = (months // period_months + 1) - (churned & on_start).cast(pl.Int64)
    revenue = snapshot.transactions.group_by(C.customer_id).agg(
        pl.col(C.amount).sum().alias("_revenue")
    )
    frame = (
        snapshot.customers.select(C.customer_id, C.acquired_on, C.churned_on)
        .with_columns(
            pl.max_horizontal(paid, pl.lit(1)).alias(PERIODS_PAID),
            (~churned).alias("active"),
        )
        .with_columns(
            shifted(acq, pl.col(PERIODS_PAID) * period_months).alias("_next"),
        )
        .with_columns(
            ((pl.col("_next") - as_of).dt.total_days() / DAYS_PER_YEAR).alias(NEXT_RENEWAL_YEARS)
        )
        .join(revenue, on=C.customer_id, how="left")
        .with_columns(
            (pl.col("_revenue").fill_null(0.0) / pl.col(PERIODS_PAID)).alias(REVENUE_PER_PERIOD)
        )
        .select(C.customer_id, PERIODS_PAID, "active", REVENUE_PER_PERIOD, NEXT_RENEWAL_YEARS)
        .sort(C.customer_id)
    )
    return frame.collect()


def fit_contract_sbg(histories: pl.DataFrame, period_months: int = 1) -> SBGModel:
    """Fit the sBG model to :func:`contract_histories`: cancelled customers are lost in their
    last paid period, active ones survived ``periods_paid - 1`` renewals (censored)."""
    n = int(histories[PERIODS_PAID].max() or 1)
    lost = np.zeros(n)
    censored = np.zeros(n)
    paid = histories[PERIODS_PAID].to_numpy()
    active = histories["active"].to_numpy()
    np.add.at(lost, paid[~active] - 1, 1.0)
    survived = paid[active] - 1
    np.add.at(censored, survived[survived > 0] - 1, 1.0)
    return fit_sbg_censored(lost, censored, period=_period_name(period_months))


def sbg_clv_values(
    model: SBGModel,
    periods_paid: np.ndarray,
    years_to_next: np.ndarray,
    revenue_per_period: np.ndarray,
    *,
    margin: float,
    horizon_years: float,
    discount_rate: float,
    period_months: int = 1,
) -> dict[str, np.ndarray]:
    """CLV arrays for active contractual customers (see the module docstring)."""
    period_years = period_months / 12
    v_period = (1.0 + discount_rate) ** -period_years
    count = np.where(
        years_to_next <= horizon_years,
        np.floor((horizon_years - years_to_next) / period_years + 1e-9) + 1,
        0,
    ).astype(np.int64)
    renewals = periods_paid.astype(np.float64) - 1
    discounted = np.zeros(periods_paid.size)
    expected = np.zeros(periods_paid.size)
    for h in np.unique(count):
        sel = count == h
        if h == 0:
            continue
        discounted[sel] = model._future_payments(renewals[sel], int(h), v_period)
        expected[sel] = model._future_payments(renewals[sel], int(h), 1.0)
    discounted *= (1.0 + discount_rate) ** -years_to_next
    spend = np.maximum(revenue_per_period, 0.0)
    clv = margin * spend * discounted
    if not np.all(np.isfinite(clv)):
        raise ModelFitError("CLV: the sBG model gives non-finite values for some customers")
    return {
        CLV: clv,
        P_ALIVE: np.ones(periods_paid.size),
        EXPECTED_PURCHASES: expected,
        EXPECTED_SPEND: spend,
    }


def _contractual(
    snapshot: Snapshot,
    horizon_years: float,
    d: float,
    margin: float,
    source: ContributionMargin | None,
    period_months: int,
) -> ClvResult:
    histories = contract_histories(snapshot, period_months)
    if histories.is_empty():
        raise ModelFitError("CLV: the snapshot has no customers")
    model = fit_contract_sbg(histories, period_months)
    active = histories.filter(pl.col("active"))
    values = sbg_clv_values(
        model,
        active[PERIODS_PAID].to_numpy(),
        active[NEXT_RENEWAL_YEARS].to_numpy(),
        active[REVENUE_PER_PERIOD].to_numpy(),
        margin=margin,
        horizon_years=horizon_years,
        discount_rate=d,
        period_months=period_months,
    )
    table = pl.DataFrame(
        {
            C.customer_id: active[C.customer_id],
            **values,
            MODEL: pl.Series([SBG] * active.height, dtype=pl.String),
            PERIODS_PAID: active[PERIODS_PAID],
            REVENUE_PER_PERIOD: active[REVENUE_PER_PERIOD],
            NEXT_RENEWAL_YEARS: active[NEXT_RENEWAL_YEARS],
        }
    )
    return _finish(
        table,
        f"sBG retention, {_ADJECTIVE.get(period_months, f'{period_months}-monthly')} renewals",
        horizon_years=horizon_years,
        margin=margin,
        margin_source=source,
        discount_rate=d,
        currency=snapshot.currency,
        as_of=snapshot.as_of,
        business_model=snapshot.manifest.business_model,
        period_months=period_months,
        sbg=model,
    )


# ------------------------------------------------------------------ parameters

PARAMETER_COLUMNS = ("model", "parameter", "meaning", "estimate", "standard_error")
"""Columns of :func:`parameter_table`."""


def parameter_table(result: ClvResult) -> pl.DataFrame:
    """The fitted parameters of ``result``'s models with their standard errors, in words.

    Returns
    -------
    pl.DataFrame
        ``model, parameter, meaning, estimate, standard_error`` (asymptotic standard errors
        from the inverse Hessian; NaN where the fit could not estimate one). Rates are in
        the model's time unit (BG/NBD) or per period (sBG); Gamma-Gamma's ``gamma`` is in
        the snapshot's currency.
    """
    rows: list[tuple[str, str, str, float, float]] = []
    if result.bgnbd is not None:
        bg = result.bgnbd
        unit = {"W": "week", "D": "day"}.get(bg.time_unit, bg.time_unit)
        rows += [
            ("BG/NBD", "r", "Purchase rate, shape: how much customers differ in how often "
             "they buy", bg.r, bg.r_se),
            ("BG/NBD", "alpha", f"Purchase rate, scale in {unit}s (mean rate r / alpha = "
             f"{bg.r / bg.alpha:.2f} purchases a {unit})", bg.alpha, bg.alpha_se),
            ("BG/NBD", "a", "Drop-out after a purchase, first Beta shape", bg.a, bg.a_se),
            ("BG/NBD", "b", "Drop-out after a purchase, second Beta shape (mean chance "
             f"a / (a + b) = {bg.a / (bg.a + bg.b):.1%} per repeat purchase)", bg.b, bg.b_se),
        ]  # fmt: skip
    if result.gamma_gamma is not None:
        gg = result.gamma_gamma
        rows += [
            ("Gamma-Gamma", "p", "Spend per purchase, shape: how much one customer's "
             "purchases vary", gg.p, gg.p_se),
            ("Gamma-Gamma", "q", "Average spend across customers, shape", gg.q, gg.q_se),
            ("Gamma-Gamma", "gamma", f"Average spend across customers, scale ({result.currency})",
             gg.gamma, gg.gamma_se),
        ]  # fmt: skip
    if result.sbg is not None:
        sb = result.sbg
        mean = sb.alpha / (sb.alpha + sb.beta)
        rows += [
            ("sBG", "alpha", f"Cancellation chance per {sb.period}, first Beta shape",
             sb.alpha, sb.alpha_se),
            ("sBG", "beta", f"Cancellation chance per {sb.period}, second Beta shape (mean "
             f"alpha / (alpha + beta) = {mean:.1%} cancel after their first {sb.period})",
             sb.beta, sb.beta_se),
        ]  # fmt: skip
    return pl.DataFrame(
        rows,
        schema={
            "model": pl.String,
            "parameter": pl.String,
            "meaning": pl.String,
            "estimate": pl.Float64,
            "standard_error": pl.Float64,
        },
        orient="row",
    )
