"""The BG/NBD likelihood on grouped customers, with its gradient and Hessian.

Internals of :func:`crm_core.clv.bgnbd.fit_bgnbd` (Fader, Hardie & Lee 2005, eq. 6):
identical customers are grouped on integer codes, logs are taken once per distinct time,
and the analytic derivatives let Newton's method finish in a few steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, digamma, gammaln, polygamma

from crm_core.clv._arrays import codes, group_codes, wsum


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
