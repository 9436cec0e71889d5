"""BG/NBD: how many purchases a customer will make, and whether they are still active.

The beta-geometric / negative binomial distribution model of Fader, Hardie & Lee (2005),
"'Counting your customers' the easy way: an alternative to the Pareto/NBD model",
*Marketing Science* 24(2), 275-284. While active, a customer buys at a Poisson rate
``lambda ~ Gamma(r, alpha)`` (rate ``alpha``, so ``E[lambda] = r / alpha`` purchases per
time unit); after each repeat purchase they drop out for good with probability
``p ~ Beta(a, b)``. A customer is summarised by ``frequency`` x (repeat purchases),
``recency`` t_x (time of the last purchase since the first) and ``T`` (time since the first
purchase), all in one time unit (weeks by default, see :func:`crm_core.summary.rfm_summary`).

:func:`fit_bgnbd` maximises the likelihood (FHL 2005, eq. 6) with identical customers
grouped, so a million customers fit in seconds. Times are rescaled internally so that
``alpha`` is of order one whatever the time unit; the reported ``alpha`` and likelihood are
in the caller's unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, polygamma

from crm_core.clv._arrays import (
    ArrayLike,
    as_float,
    check_weights,
    codes,
    group_codes,
    wrap,
    wsum,
)
from crm_core.clv._fit import draw_log_params, maximise, standard_errors
from crm_core.clv.errors import ModelFitError

__all__ = ["BGNBDModel", "fit_bgnbd"]

_NAMES = ("r", "alpha", "a", "b")
_NEAR_ONE = 1e-3  # the expectation formulas divide by (a - 1); see _alive_expectation
_START_SAMPLE = 20_000


@dataclass(frozen=True)
class BGNBDModel:
    """A fitted BG/NBD model (Fader, Hardie & Lee 2005).

    Attributes
    ----------
    r, alpha
        Shape and rate of the Gamma distribution of purchase rates while active
        (``alpha`` in the time unit ``time_unit``; mean rate ``r / alpha`` per unit).
    a, b
        Beta distribution of the dropout probability after each repeat purchase
        (mean ``a / (a + b)``).
    log_likelihood
        Maximised log-likelihood (natural log, all constants included; comparable with
        FHL 2005's -9582.4 on CDNOW).
    n_customers
        Number of customers fitted (sum of weights).
    time_unit
        ``"W"`` (weeks) or ``"D"`` (days): the unit of recency, T and every ``t``.
    r_se, alpha_se, a_se, b_se
        Asymptotic standard errors (inverse Hessian of the log-likelihood in
        log-parameters, delta method).
    covariance
        Asymptotic covariance of ``log(r), log(alpha), log(a), log(b)``.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    time_unit: str = "W"
    r_se: float = float("nan")
    alpha_se: float = float("nan")
    a_se: float = float("nan")
    b_se: float = float("nan")
    covariance: np.ndarray = field(default_factory=lambda: np.full((4, 4), np.nan),
                                   repr=False, compare=False)  # fmt: skip

    @property
    def params(self) -> tuple[float, float, float, float]:
        """``(r, alpha, a, b)``."""
        return (self.r, self.alpha, self.a, self.b)

    @property
    def log_params(self) -> np.ndarray:
        """Logarithms of ``(r, alpha, a, b)``."""
        return np.log(np.array(self.params))

    def with_params(self, r: float, alpha: float, a: float, b: float) -> BGNBDModel:
        """The same model with other parameter values (used for uncertainty draws)."""
        return replace(self, r=float(r), alpha=float(alpha), a=float(a), b=float(b))

    def sample_params(self, draws: int, rng: np.random.Generator) -> np.ndarray:
        """``draws x 4`` parameter sets from the asymptotic normal of the log-parameters."""
        return np.exp(draw_log_params(self.log_params, self.covariance, draws, rng))

    # ------------------------------------------------------------------ predictions

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any:
        """Probability that a customer is still active at ``T`` (FHL 2005, eq. 11).

        ``1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))``:
        a customer without repeat purchases is active by assumption (dropout can only
        follow a repeat purchase).
        """
        x, tx, t = _as_xtT(frequency, recency, T)
        return wrap(self._p_alive(x, tx, t), frequency, recency, T, name="p_alive")

    def _p_alive(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.params
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
            )
        return np.where(x > 0, expit(-log_odds), 1.0)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Any:
        """Expected purchases in the next ``t`` time units of a customer with history
        ``(frequency, recency, T)`` (FHL 2005, eq. 10).

        ``E[Y(t) | x, t_x, T] = P(alive) * (a + b + x - 1) / (a - 1)
        * [1 - ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1;
        t / (alpha + T + t))]``.
        """
        tt = as_float("t", t)
        if np.any(~np.isfinite(tt)) or np.any(tt < 0):
            raise ValueError("t must be finite and non-negative")
        x, tx, big_t = _as_xtT(frequency, recency, T)
        out = self._p_alive(x, tx, big_t) * self._alive_expectation(tt, x, big_t)
        return wrap(out, t, frequency, recency, T, name="expected_purchases")

    def expected_purchases_new(self, t: ArrayLike) -> Any:
        """Expected repeat purchases of a new customer in their first ``t`` time units:
        ``E[X(t)] = (a + b - 1) / (a - 1) * [1 - (alpha / (alpha + t))^r
        2F1(r, b; a + b - 1; t / (alpha + t))]`` (FHL 2005, eq. 9)."""
        tt = as_float("t", t)
        if np.any(~np.isfinite(tt)) or np.any(tt < 0):
            raise ValueError("t must be finite and non-negative")
        out = self._alive_expectation(tt, np.zeros_like(tt), np.zeros_like(tt))
        return wrap(out, t, name="expected_purchases_new")

    def _alive_expectation(self, t: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """Expected purchases in ``(T, T + t]`` of a customer active at ``T`` with ``x``
        repeat purchases. The formula has a removable singularity at ``a = 1``; near it
        the value is interpolated linearly between ``a = 1 -+ 1e-3`` (error below ``1e-6``)."""
        r, alpha, a, b = self.params
        if abs(a - 1) < _NEAR_ONE / 2:
            lo = replace(self, a=1 - _NEAR_ONE)._alive_expectation(t, x, big_t)
            hi = replace(self, a=1 + _NEAR_ONE)._alive_expectation(t, x, big_t)
            weight = (a - (1 - _NEAR_ONE)) / (2 * _NEAR_ONE)
            return lo + weight * (hi - lo)
        base = alpha + big_t
        z = t / (base + t)
        c = a + b + x - 1
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            power = np.exp((r + x) * (np.log(base) - np.log(base + t)))
            bracket = 1 - power * hyp2f1(r + x, b + x, c, z)
            out = c / (a - 1) * bracket
        return np.where(t == 0, 0.0, out)


def _as_xtT(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, ...]:
    x, tx, t = (as_float(n, v) for n, v in
                (("frequency", frequency), ("recency", recency), ("T", T)))  # fmt: skip
    for name, arr in (("frequency", x), ("recency", tx), ("T", t)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    if np.any(x < 0) or np.any(tx < 0) or np.any(tx > t + 1e-9):
        raise ValueError("need frequency >= 0 and 0 <= recency <= T")
    return x, tx, t


# ---------------------------------------------------------------------- likelihood


class _Data:
    """Grouped customers: distinct ``(x, t_x, T)`` rows as codes into the sorted distinct
    frequencies ``ux``, recencies ``utx`` and ages ``ut`` (times divided by the fit's
    scale), with weights ``w``.

    The likelihood's logarithms of ``alpha + t`` are then taken once per distinct time, not
    once per row; customers without repeat purchases depend on ``T`` only, so they are
    summed per distinct ``T``.
    """

    def __init__(
        self,
        ux: np.ndarray,
        utx: np.ndarray,
        ut: np.ndarray,
        ix: np.ndarray,
        itx: np.ndarray,
        it: np.ndarray,
        w: np.ndarray,
    ) -> None:
        self.ux, self.utx, self.ut = ux, utx, ut
        self.all_rows = (ix, itx, it, w)
        self.total = float(w.sum())
        self.wx = np.bincount(ix, weights=w, minlength=ux.size)  # weight per distinct x
        self.sum_wx = float(wsum(self.wx, ux))  # total repeat purchases
        self.rep = ux > 0
        self.wt = np.bincount(it, weights=w, minlength=ut.size)  # weight per distinct T
        rep = self.rep[ix]
        self.ix, self.itx, self.it, self.w = ix[rep], itx[rep], it[rep], w[rep]
        self.x = ux[self.ix]  # frequency of each repeat row
        # rows are sorted by frequency when they come from group_codes: per-frequency sums
        # are then sums over contiguous segments (np.add.reduceat), else a bincount
        self.sorted_x = bool(np.all(self.ix[1:] >= self.ix[:-1]))
        if self.sorted_x and self.ix.size:
            new = np.empty(self.ix.size, dtype=bool)
            new[0] = True
            np.not_equal(self.ix[1:], self.ix[:-1], out=new[1:])
            self.seg = np.flatnonzero(new)
            self.seg_x = self.ix[self.seg]
        self.wxt = np.bincount(self.it, weights=self.w * self.x, minlength=ut.size)

    def per_x(self, values: np.ndarray) -> np.ndarray:
        """Sums of a per-repeat-row array over the rows of each distinct frequency."""
        if not self.sorted_x:
            return np.bincount(self.ix, weights=values, minlength=self.ux.size)
        out = np.zeros(self.ux.size)
        if self.ix.size:
            out[self.seg_x] = np.add.reduceat(values, self.seg)
        return out

    @property
    def rows(self) -> int:
        """Number of distinct ``(x, t_x, T)`` rows."""
        return int(self.all_rows[0].size)


def _neg_ll(theta: np.ndarray, d: _Data, hess: bool = False) -> Any:
    """Negative BG/NBD log-likelihood (FHL 2005 eq. 6), its gradient in log-parameters
    and, with ``hess``, its Hessian in log-parameters (analytic).

    A customer's likelihood is ``exp(g1) * (exp(A2) + exp(A3))`` with
    ``g1 = lnG(r + x) - lnG(r) + r ln(alpha)``, ``A2 = lnB(a, b + x) - lnB(a, b)
    - (r + x) ln(alpha + T)`` and, for ``x > 0``, ``A3 = lnB(a + 1, b + x - 1) - lnB(a, b)
    - (r + x) ln(alpha + t_x)``. With ``D = A3 - A2`` the log of the bracket is
    ``A2 + softplus(D)``, and ``w3 = expit(D)`` is the share of "dropped out after the
    last purchase".
    """
    r, alpha, a, b = np.exp(theta)
    ux, rep = d.ux, d.rep
    x, w = d.x, d.w
    # per distinct frequency
    g1 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    b2 = betaln(a, b + ux) - betaln(a, b)
    bx1 = np.where(rep, b + ux - 1, 1.0)  # b + x - 1 (1 where x = 0: unused)
    inv_bx1 = np.where(rep, 1.0 / bx1, 0.0)
    db = np.where(rep, np.log(a) - np.log(bx1), 0.0)  # B3 - B2 = ln(a / (b + x - 1))
    # per distinct time
    lt, ltx = np.log(alpha + d.ut), np.log(alpha + d.utx)
    it_, itx_ = 1.0 / (alpha + d.ut), 1.0 / (alpha + d.utx)
    # per repeat row
    log_at, log_atx = lt[d.it], ltx[d.itx]
    dl = log_at - log_atx
    rx = r + x
    big_d = db[d.ix] + rx * dl
    e = np.exp(-np.minimum(np.abs(big_d), 600.0))  # no subnormals (they are ~100x slower)
    inv1e = 1.0 / (1.0 + e)
    w3 = np.where(big_d > 0, inv1e, e * inv1e)
    softplus = np.maximum(big_d, 0.0) + np.log1p(e)
    ww3 = w * w3
    inv_at, inv_atx = it_[d.it], itx_[d.itx]
    di = inv_at - inv_atx
    s3x = d.per_x(ww3)
    sum_ww3 = float(ww3.sum())
    ll = wsum(d.wx, g1 + b2) - r * wsum(d.wt, lt) - wsum(d.wxt, lt) + wsum(w, softplus)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + ux)
    g_r = wsum(d.wx, digamma(r + ux) - digamma(r) + np.log(alpha)) - wsum(d.wt, lt)
    g_r += wsum(ww3, dl)
    rxdi = rx * di
    g_alpha = d.total * r / alpha - r * wsum(d.wt, it_) - wsum(d.wxt, it_) + wsum(ww3, rxdi)
    g_a = wsum(d.wx, psi_ab - psi_abx) + sum_ww3 / a
    g_b = wsum(d.wx, digamma(b + ux) - digamma(b) + psi_ab - psi_abx) - wsum(s3x, inv_bx1)
    grad = np.array([g_r, g_alpha, g_a, g_b])
    theta_e = np.array([r, alpha, a, b])
    g_log = grad * theta_e
    if not hess:
        return -float(ll), -g_log
    wq = ww3 * (1.0 - w3)  # w * w3 * (1 - w3): weight of the mixture's curvature
    q_l = wq * dl
    q_i = wq * rxdi
    qx = d.per_x(wq)
    qlx = d.per_x(q_l)
    qix = d.per_x(q_i)
    t1_ab, t1_abx = polygamma(1, a + b), polygamma(1, a + b + ux)
    t1_b, t1_bx = polygamma(1, b), polygamma(1, b + ux)
    h = np.empty((4, 4))
    h[0, 0] = wsum(d.wx, polygamma(1, r + ux) - polygamma(1, r)) + wsum(q_l, dl)
    h[0, 1] = d.total / alpha - wsum(d.wt, it_) + wsum(ww3, di) + wsum(q_l, rxdi)
    h[1, 1] = (
        -d.total * r / alpha**2
        + r * wsum(d.wt, it_**2)
        + wsum(d.wxt, it_**2)
        - wsum(ww3 * rx, di * (inv_at + inv_atx))  # iX^2 - iT^2 = -(iT - iX)(iT + iX)
        + wsum(q_i, rxdi)
    )
    h[0, 2] = float(q_l.sum()) / a
    h[0, 3] = -wsum(qlx, inv_bx1)
    h[1, 2] = float(q_i.sum()) / a
    h[1, 3] = -wsum(qix, inv_bx1)
    h[2, 2] = wsum(d.wx, t1_ab - t1_abx) + (float(wq.sum()) - sum_ww3) / a**2
    h[2, 3] = wsum(d.wx, t1_ab - t1_abx) - wsum(qx, inv_bx1) / a
    h[3, 3] = wsum(d.wx, t1_bx - t1_b + t1_ab - t1_abx) + wsum(s3x + qx, inv_bx1**2)
    h = np.triu(h) + np.triu(h, 1).T
    h_log = h * np.outer(theta_e, theta_e) + np.diag(g_log)
    return -float(ll), -g_log, -h_log


def _starts(d: _Data) -> list[np.ndarray]:
    """A small grid around the observed purchase rate (time already scaled to mean T 1)."""
    rate = max(d.sum_wx / float(wsum(d.wt, d.ut)), 1e-3)
    out = []
    for r in (0.25, 1.0, 4.0):
        for k in (0.5, 2.0):
            for a in (0.3, 1.0, 3.0):
                for b in (0.5, 2.0, 8.0):
                    out.append(np.log([r, r / (rate * k), a, b]))
    return out


def _subsample(d: _Data, size: int, seed: int = 0) -> _Data:
    """A random sample of ``size`` customers (rows drawn with replacement in proportion to
    their weights, so the sample mirrors the data), or ``d`` itself when it has no more
    distinct rows."""
    if d.rows <= size:
        return d
    ix, itx, it, w = d.all_rows
    counts = np.random.default_rng(seed).multinomial(size, w / w.sum()).astype(np.float64)
    keep = counts > 0
    return _Data(d.ux, d.utx, d.ut, ix[keep], itx[keep], it[keep], counts[keep])


def _group(
    x: np.ndarray, tx: np.ndarray, t: np.ndarray, w: np.ndarray | None, scale: float
) -> _Data:
    """Identical customers grouped into weighted distinct rows (times divided by ``scale``)."""
    ux, ix = codes(x, steps=(1.0,))
    utx, itx = codes(tx)
    ut, it = codes(t)
    (gx, gtx, gt), gw = group_codes((ix, itx, it), (ux.size, utx.size, ut.size), w)
    return _Data(ux, utx / scale, ut / scale, gx, gtx, gt, gw)


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    time_unit: str = "W",
) -> BGNBDModel:
    """Fit the BG/NBD model by maximum likelihood (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    frequency
        Repeat purchases per customer (whole numbers >= 0).
    recency
        Time from the first to the last purchase (0 when frequency is 0).
    T
        Time from the first purchase to the end of observation (> 0).
    weights
        Optional number of customers each row stands for.
    time_unit
        Label of the unit of ``recency`` and ``T`` (``"W"`` weeks, ``"D"`` days); kept
        on the model so predictions and CLV convert horizons correctly.

    Returns
    -------
    BGNBDModel
        Parameters, log-likelihood and standard errors.

    Raises
    ------
    ModelFitError
        On missing, NaN, negative or inconsistent values, when nobody made a repeat
        purchase, or when the likelihood has no proper maximum.
    """
    x, tx, t = _fit_inputs(frequency, recency, T)
    w = check_weights(weights, x.size, ModelFitError)
    n_total = float(x.size if w is None else w.sum())
    wx = np.ones_like(x) if w is None else w
    if wsum(wx, x > 0) == 0:
        raise ModelFitError(
            "BG/NBD: nobody made a repeat purchase, so the purchase and dropout processes "
            "cannot be told apart"
        )
    scale = float(wsum(wx, t) / wx.sum())
    data = _group(x, tx, t, w, scale)
    sub = _subsample(data, _START_SAMPLE)
    coarse = None if sub is data else (lambda th: _neg_ll(th, sub, hess=True), sub.total)
    opt = maximise(
        lambda th: _neg_ll(th, data),
        _starts(data),
        names=_NAMES,
        model="BG/NBD",
        total_weight=n_total,
        start_objective=lambda th: _neg_ll(th, sub),
        coarse=coarse,
        newton=lambda th: _neg_ll(th, data, hess=True),
    )
    r, alpha_s, a, b = np.exp(opt.log_params)
    alpha = alpha_s * scale
    params = np.array([r, alpha, a, b])
    se = standard_errors(params, opt.covariance)
    # LL in the caller's time unit: each customer's density picks up scale^-x
    ll = opt.log_likelihood - data.sum_wx * np.log(scale)
    return BGNBDModel(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=float(ll),
        n_customers=round(n_total),
        time_unit=time_unit,
        r_se=float(se[0]),
        alpha_se=float(se[1]),
        a_se=float(se[2]),
        b_se=float(se[3]),
        covariance=opt.covariance,
    )


def _fit_inputs(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, ...]:
    try:
        arrays = [as_float(n, v).reshape(-1) for n, v in
                  (("frequency", frequency), ("recency", recency), ("T", T))]  # fmt: skip
    except ValueError as exc:
        raise ModelFitError(f"BG/NBD: {exc}") from None
    x, tx, t = arrays
    if not (x.size == tx.size == t.size):
        raise ModelFitError(
            f"BG/NBD: frequency, recency and T differ in length ({x.size}, {tx.size}, {t.size})"
        )
    if x.size == 0:
        raise ModelFitError("BG/NBD: no customers to fit")
    for name, arr in (("frequency", x), ("recency", tx), ("T", t)):
        if not np.all(np.isfinite(arr)):
            raise ModelFitError(f"BG/NBD: {name} has NaN or infinite values")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ModelFitError("BG/NBD: frequency must be whole numbers >= 0")
    if np.any(t <= 0):
        raise ModelFitError("BG/NBD: T must be positive (time since the first purchase)")
    if np.any(tx < 0) or np.any(tx > t * (1 + 1e-9)):
        raise ModelFitError("BG/NBD: recency must lie between 0 and T")
    if np.any((x == 0) & (tx > 0)):
        raise ModelFitError("BG/NBD: recency must be 0 for customers without repeat purchases")
    return x, np.minimum(tx, t), t
