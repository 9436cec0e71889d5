"""The closed-form CLV models executives are taught (DOMAIN.md, section 2).

Notation (all money in one currency, all rates as fractions per year):

* ``R`` yearly revenue from a loyal customer, ``C`` yearly direct cost to serve;
* ``d`` discount rate (``d > -1``), ``n`` years of loyalty (``n >= 0``);
* ``A`` acquisition cost, ``P`` first-year purchase, ``g`` yearly revenue increase;
* ``m`` yearly margin, ``r`` retention rate (``0 <= r <= 1``).

Every function is vectorised: scalars give a ``float``, numpy arrays an array and polars
Series a Series, with the usual numpy broadcasting. Bad inputs (NaN, infinities,
``d <= -1``, ``n < 0``, ``r`` outside [0, 1]) raise ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crm_core.clv._arrays import ArrayLike, as_float, check_finite, wrap

__all__ = [
    "annuity_factor",
    "clv_contribution",
    "clv_profit",
    "clv_retention",
    "clv_revenue",
]


def _rate(d: Any) -> np.ndarray:
    arr = as_float("d", d)
    check_finite("d (discount rate)", arr)
    if np.any(arr <= -1):
        raise ValueError("the discount rate d must be greater than -1")
    return arr


def _years(n: Any, *, whole: bool = False) -> np.ndarray:
    arr = as_float("n", n)
    check_finite("n (years)", arr)
    if np.any(arr < 0):
        raise ValueError("the number of years n must be >= 0")
    if whole and np.any(arr != np.round(arr)):
        raise ValueError("the number of years n must be a whole number for this model")
    return arr


def _money(name: str, value: Any) -> np.ndarray:
    arr = as_float(name, value)
    check_finite(name, arr)
    return arr


def _annuity(d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``(1 - (1 + d)^-n) / d``, and ``n`` at ``d = 0`` (its limit)."""
    d, n = np.broadcast_arrays(d, n)
    safe_d = np.where(d == 0, 1.0, d)
    value = -np.expm1(-n * np.log1p(d)) / safe_d
    return np.where(d == 0, n, value)


def annuity_factor(d: ArrayLike, n: ArrayLike) -> Any:
    """Present value of 1 a year for ``n`` years, paid at each year's end:
    ``(1 - (1 + d)^-n) / d`` (``n`` when ``d = 0``)."""
    return wrap(_annuity(_rate(d), _years(n)), d, n, name="annuity_factor")


def clv_revenue(R: ArrayLike, d: ArrayLike, n: ArrayLike) -> Any:
    """Model 1, revenue-based: ``CLV = R * (1 - (1 + d)^-n) / d`` (``n * R`` at ``d = 0``).

    Parameters
    ----------
    R
        Yearly revenue from a loyal customer (currency).
    d
        Yearly discount rate (fraction, > -1).
    n
        Years of loyalty (>= 0; fractional years allowed).
    """
    out = _money("R", R) * _annuity(_rate(d), _years(n))
    return wrap(out, R, d, n, name="clv")


def clv_profit(R: ArrayLike, C: ArrayLike, d: ArrayLike, n: ArrayLike) -> Any:
    """Model 2, profit-based: ``CLV = (R - C) * (1 - (1 + d)^-n) / d``.

    ``C`` is the yearly direct cost to serve the customer (currency); see
    :func:`clv_revenue` for the rest.
    """
    out = (_money("R", R) - _money("C", C)) * _annuity(_rate(d), _years(n))
    return wrap(out, R, C, d, n, name="clv")


def clv_contribution(
    A: ArrayLike, P: ArrayLike, g: ArrayLike, C: ArrayLike, d: ArrayLike, n: ArrayLike
) -> Any:
    """Model 3, profit contribution:
    ``CLV = -A + sum_{t=1..n} (P + (t - 1) * g - C) / (1 + d)^t``.

    The first year brings the first purchase ``P``, each later year ``g`` more; every year
    costs ``C`` to serve; the acquisition cost ``A`` is paid up front (undiscounted).

    Parameters
    ----------
    A, P, g, C
        Acquisition cost, first-year purchase, yearly revenue increase, yearly direct cost
        (currency).
    d
        Yearly discount rate (> -1).
    n
        Whole years of loyalty (>= 0).
    """
    a, p, gg, c = (_money(k, v) for k, v in (("A", A), ("P", P), ("g", g), ("C", C)))
    rate = _rate(d)
    years = _years(n, whole=True)
    a, p, gg, c, rate, years = np.broadcast_arrays(a, p, gg, c, rate, years)
    total = -a.astype(np.float64)
    disc = np.ones_like(total)
    v = 1.0 / (1.0 + rate)
    max_n = int(years.max()) if years.size else 0
    # explicit sum (n is a number of years, so at most a few hundred terms)
    for t in range(1, max_n + 1):
        disc = disc * v
        total = total + np.where(t <= years, (p + (t - 1) * gg - c) * disc, 0.0)
    return wrap(total, A, P, g, C, d, n, name="clv")


def clv_retention(
    m: ArrayLike, r: ArrayLike, d: ArrayLike, acquisition_cost: ArrayLike = 0.0
) -> Any:
    """Retention-based CLV over an infinite horizon: ``m * r / (1 + d - r)``.

    The margin ``m`` is earned at the end of each year by customers still active, who stay
    from one year to the next with probability ``r``. With ``acquisition_cost`` ``A`` the
    value at acquisition is ``m * r / (1 + d - r) - A``.

    Parameters
    ----------
    m
        Yearly margin per active customer (currency).
    r
        Yearly retention rate, in [0, 1].
    d
        Yearly discount rate; ``1 + d - r`` must be positive (a customer who never
        leaves, ``r = 1``, has finite value only when ``d > 0``).
    acquisition_cost
        Cost of acquiring the customer, subtracted (currency).
    """
    mm = _money("m", m)
    rr = as_float("r", r)
    check_finite("r (retention rate)", rr)
    if np.any((rr < 0) | (rr > 1)):
        raise ValueError("the retention rate r must lie in [0, 1]")
    dd = _rate(d)
    denom = 1 + dd - rr
    if np.any(denom <= 0):
        raise ValueError("1 + d - r must be positive, otherwise the value is infinite")
    out = mm * rr / denom - _money("acquisition_cost", acquisition_cost)
    return wrap(out, m, r, d, acquisition_cost, name="clv")
