"""Customer-equity totals under parameter draws, fast (private; see :mod:`.uncertainty`).

Customers are split into *cells* (one per combination of the segment labels of every
grouping asked for); :func:`cell_totals` returns, for every parameter draw, the total CLV
of each cell, so any segment's total is a sum of cells and every grouping shares the same
draws.

**sBG** (exact): a contract's CLV under any draw is ``margin * revenue_per_period *
F(periods_paid, years_to_next_renewal)``, so contracts are grouped by
``(periods_paid, years_to_next_renewal)`` with their revenue summed per cell; each draw
values the distinct groups only (a few thousand at most).

**BG/NBD + Gamma-Gamma** (sampled, with a ratio estimator): a customer's CLV is
``margin * E[spend] * P(alive) * D(x, T)``, ``D`` the discounted expected purchases of an
alive customer. Within each cell of more than ``sample`` customers, ``sample`` customers
are drawn by systematic sampling with probability proportional to their CLV at the
fitted parameters (customers in CLV order, so the sample is spread over the whole range
of value), and each stands for ``cell equity / (sample * own CLV)`` customers
(Horvitz-Thompson); smaller cells are taken whole. At the fitted parameters the estimate
equals the cell's equity exactly; under a draw it is the cell's equity times the
CLV-weighted mean change of the sampled customers. ``E[spend]`` and ``P(alive)`` are
evaluated exactly per sampled customer and draw; ``D`` is the exact ``D`` at the fitted
parameters times its change under the draw, interpolated (bilinear in ``log(1 + x)`` and
``log(alpha + T)``) from a grid of at most 32 frequencies and 24 ages, exact where the
sample has no more distinct values than that. Accuracy, against the exact computation
(every customer revalued under every draw, same draws): with the default sample of 1,000
per cell the P10, P50 and P90 of every cell total are within about 2% of the band's width
(P90 - P10) on the 2,000-customer sample company and within 1% at 200,000 customers; with
everyone revalued (only the grid approximate) within 0.1%; with 40 per cell within 10%
(seeded tests check these three). Between the parameter draws themselves, 100 draws move a
percentile by about 7% of the width, so the sample adds little. The cost is ``draws x
(cells x sample)``: independent of the number of customers beyond one pass to pick the
sample.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_core.clv._horizon import horizon_steps, purchase_matrices, purchases_by_customer
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.fitted import NEXT_RENEWAL_YEARS, PERIODS_PAID, REVENUE_PER_PERIOD
from crm_core.clv.gamma_gamma import GammaGammaModel
from crm_core.clv.summary import FREQUENCY, MONETARY_VALUE, RECENCY, T_AGE, units_per_year
from crm_core.clv.valuation import CLV, ClvResult, sbg_clv_values

__all__ = ["DEFAULT_SAMPLE", "cell_totals"]

DEFAULT_SAMPLE = 1000
"""Customers sampled per cell for the BG/NBD bands (cells with fewer are taken whole)."""

_GRID_X = 32
_GRID_T = 24
_EXACT_X = 8  # frequencies 0 .. 7 are always grid nodes


def cell_totals(
    result: ClvResult,
    draws: dict[str, np.ndarray],
    cell: np.ndarray,
    cells: int,
    *,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
) -> np.ndarray:
    """``draws x cells`` total CLV (currency) of each cell under each parameter draw.

    Parameters
    ----------
    result
        The valuation at the fitted parameters.
    draws
        Parameter draws by model: ``"sbg"`` (``n x 2``) or ``"bgnbd"`` (``n x 4``) and
        ``"gamma_gamma"`` (``n x 3``).
    cell, cells
        Cell of every row of ``result.table`` (``0 .. cells - 1``) and their number.
    sample, seed
        Customers sampled per cell (BG/NBD) and the seed of the sample.
    """
    if result.sbg is not None:
        return _sbg_totals(result, draws["sbg"], cell, cells)
    if result.bgnbd is None or result.gamma_gamma is None:
        raise ValueError("the result carries no fitted model to draw parameters from")
    return _bgnbd_totals(result, draws["bgnbd"], draws["gamma_gamma"], cell, cells, sample, seed)


def _sbg_totals(result: ClvResult, params: np.ndarray, cell: np.ndarray, cells: int) -> np.ndarray:
    model = result.sbg
    assert model is not None
    groups = (
        result.table.select(PERIODS_PAID, NEXT_RENEWAL_YEARS, REVENUE_PER_PERIOD)
        .with_columns(pl.Series("_cell", cell))
        .group_by(PERIODS_PAID, NEXT_RENEWAL_YEARS, maintain_order=True)
        .agg(pl.col("_cell"), pl.col(REVENUE_PER_PERIOD).clip(lower_bound=0.0))
    )
    paid = groups[PERIODS_PAID].to_numpy()
    nxt = groups[NEXT_RENEWAL_YEARS].to_numpy()
    revenue = np.zeros((groups.height, cells))  # revenue per period, summed by group and cell
    lengths = groups["_cell"].list.len().to_numpy()
    rows = np.repeat(np.arange(groups.height), lengths)
    np.add.at(
        revenue,
        (rows, groups["_cell"].explode().to_numpy()),
        groups[REVENUE_PER_PERIOD].explode().to_numpy(),
    )
    out = np.empty((params.shape[0], cells))
    for i, (al, be) in enumerate(params):
        per_unit = sbg_clv_values(
            model.with_params(al, be), paid, nxt, np.ones(paid.size), margin=result.margin,
            horizon_years=result.horizon_years, discount_rate=result.discount_rate,
            period_months=result.period_months or 1,
        )[CLV]  # fmt: skip
        out[i] = per_unit @ revenue
    return out


def _pps_sample(
    values: np.ndarray, cell: np.ndarray, cells: int, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rows drawn per cell and their weights (module docstring): every row of a cell of at
    most ``size`` rows with weight 1, else a systematic sample proportional to ``values``
    in row order (the table is in CLV order)."""
    rows, weights = [], []
    for c in range(cells):
        idx = np.flatnonzero(cell == c)
        cum = np.cumsum(values[idx])
        total = float(cum[-1]) if idx.size else 0.0
        if idx.size <= size or total <= 0:
            rows.append(idx)
            weights.append(np.ones(idx.size))
            continue
        points = (np.arange(size) + rng.random()) * (total / size)
        picked = np.minimum(np.searchsorted(cum, points, side="right"), idx.size - 1)
        unique, count = np.unique(picked, return_counts=True)
        rows.append(idx[unique])
        weights.append(count * (total / size) / values[idx[unique]])
    return np.concatenate(rows), np.concatenate(weights)


class _DiscountedChange:
    """``D(x, T; draw) / D(x, T; fit)`` for the sampled customers, from a grid."""

    def __init__(self, bg: BGNBDModel, result: ClvResult, x: np.ndarray, age: np.ndarray):
        years, disc = horizon_steps(
            result.horizon_years, result.steps_per_year, result.discount_rate
        )
        self.times, self.disc = years * units_per_year(bg.time_unit), disc
        alpha = bg.alpha
        ux, ut = np.unique(x), np.unique(age)
        if ux.size > _GRID_X:
            top = np.geomspace(_EXACT_X, ux[-1], _GRID_X - _EXACT_X)
            ux = np.unique(np.concatenate([np.arange(_EXACT_X), np.round(top)]))
        if ut.size > _GRID_T:
            ut = np.exp(np.linspace(np.log(alpha + ut[0]), np.log(alpha + ut[-1]), _GRID_T))
            ut = np.clip(ut - alpha, age.min(), age.max())
        self.grid = (ux, ut)
        self.x = _bracket(np.log1p(ux), np.log1p(x))
        self.t = _bracket(np.log(alpha + ut), np.log(alpha + age))
        self.base = purchase_matrices(bg.params, ux, ut, self.times, self.disc)[0]

    def __call__(self, params: tuple[float, float, float, float]) -> np.ndarray:
        change = purchase_matrices(params, *self.grid, self.times, self.disc)[0] / self.base
        (x0, x1, wx), (t0, t1, wt) = self.x, self.t
        return (1 - wx) * ((1 - wt) * change[x0, t0] + wt * change[x0, t1]) + wx * (
            (1 - wt) * change[x1, t0] + wt * change[x1, t1]
        )


def _bracket(nodes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbouring node indices and the linear weight of the upper one."""
    if nodes.size == 1:
        zero = np.zeros(values.size, dtype=np.int64)
        return zero, zero, np.zeros(values.size)
    hi = np.clip(np.searchsorted(nodes, values, side="right"), 1, nodes.size - 1)
    lo = hi - 1
    weight = np.clip((values - nodes[lo]) / (nodes[hi] - nodes[lo]), 0.0, 1.0)
    return lo, hi, weight


def _bgnbd_totals(
    result: ClvResult,
    bg_params: np.ndarray,
    gg_params: np.ndarray,
    cell: np.ndarray,
    cells: int,
    sample: int,
    seed: int,
) -> np.ndarray:
    bg, gg = result.bgnbd, result.gamma_gamma
    assert bg is not None and gg is not None
    t = result.table
    rng = np.random.default_rng([int(seed), 0x5EED])
    rows, weights = _pps_sample(t[CLV].to_numpy(), cell, cells, int(sample), rng)
    x = t[FREQUENCY].to_numpy()[rows].astype(np.float64)
    recency, age = t[RECENCY].to_numpy()[rows], t[T_AGE].to_numpy()[rows]
    spent = np.maximum(t[MONETARY_VALUE].to_numpy()[rows], 0.0)
    change = _DiscountedChange(bg, result, x, age)
    fitted = purchases_by_customer(bg.params, x, age, change.times, change.disc)[0]
    groups = cell[rows]
    out = np.empty((bg_params.shape[0], cells))
    for i in range(bg_params.shape[0]):
        model = bg.with_params(*bg_params[i])
        spend = np.asarray(GammaGammaModel.with_params(gg, *gg_params[i]).expected_spend(x, spent))
        value = result.margin * spend * model._p_alive(x, recency, age) * fitted
        value *= change(model.params)
        out[i] = np.bincount(groups, weights=weights * np.maximum(value, 0.0), minlength=cells)
    if not np.all(np.isfinite(out)):
        raise ValueError("the parameter draws give non-finite customer values")
    return out
