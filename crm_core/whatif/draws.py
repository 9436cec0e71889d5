"""Monte Carlo bands of a projection: draws of retention and margin, and their quantiles.

For a segment with observed counts (``observed_retained`` of ``observed_at_risk``
customers stayed a year), retention is drawn from the Beta posterior
``Beta(a0 + retained, b0 + lost)`` and re-centred on the segment's ``retention``:
``r_draw = retention + (p - median(posterior))``, clipped to [0, 1]. So the band has the
posterior's width and skew, the deterministic projection sits at its median, and a
scenario that moves retention moves the whole band. The shift applies to every year of
the base's and the new cohorts' retention, except a given first-year survival of new
customers (``new_survival``, measured on its own). Segments without counts have no
retention uncertainty. The mean margin (and the first-year margin) moves by a draw of
``Normal(0, margin_std)``. The same seed gives the same draws for every scenario of the
same segments (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import polars as pl

from crm_core.whatif.projection import Arrays, Flows, per_customer, period_columns, to_years
from crm_core.whatif.results import QUANTILES, Band, Uncertainty
from crm_core.whatif.segment import Segment

__all__ = ["BAND_METRICS", "draw_arrays", "uncertainty"]

BAND_METRICS = ("customers", "profit", "discounted_profit")
"""The yearly outputs that get P10/P50/P90 bands."""


def draw_arrays(
    segments: Sequence[Segment],
    arrays: Arrays,
    draws: int,
    rng: np.random.Generator,
    prior: tuple[float, float],
) -> Arrays:
    """Monte Carlo variants of a single-variant batch (draws x segments)."""
    from scipy.special import betaincinv

    n = len(segments)
    has_counts = np.array([s.observed_at_risk is not None for s in segments])
    retained = np.array([s.observed_retained or 0 for s in segments], dtype=float)
    at_risk = np.array([s.observed_at_risk or 0 for s in segments], dtype=float)
    a = prior[0] + retained
    b = prior[1] + at_risk - retained
    p = rng.beta(a, b, size=(draws, n))
    shift = np.where(has_counts, p - betaincinv(a, b, 0.5), 0.0)
    z = rng.standard_normal((draws, n))
    noise = np.array([s.margin_std for s in segments]) * z
    shape = (draws, n)
    new_shift = np.broadcast_to(shift, (arrays.r_new.shape[0], *shape)).copy()
    new_shift[0] = np.where(arrays.fixed_first, 0.0, shift)
    r_new = np.clip(arrays.r_new + new_shift, 0.0, 1.0)
    same = arrays.r_base is arrays.r_new
    r_base = r_new if same else np.clip(arrays.r_base + shift, 0.0, 1.0)
    wide = {
        name: np.broadcast_to(getattr(arrays, name), shape)
        for name in (
            "customers",
            "revenue",
            "cost_to_serve",
            "first_revenue",
            "first_cost_to_serve",
            "reactivations",
        )
    }
    return replace(
        arrays,
        **wide,
        margin=arrays.margin + noise,
        first_margin=arrays.first_margin + noise,
        r_new=r_new,
        r_base=r_base,
        discount=np.broadcast_to(arrays.discount, (draws,)),
    )


def uncertainty(flows: Flows, a: Arrays, horizon: int, draws: int) -> Uncertainty:
    """Quantiles of the headline outputs over the draws, in one pass."""
    n_seg = len(a.names)
    periods = period_columns(flows, a, BAND_METRICS)
    years = to_years(periods, flows.periods_per_year)  # metric -> (H, D, S)
    seg_metrics = {
        "equity": flows.equity,
        "clv": per_customer(flows.equity_base, a.customers),
        "new_customer_value": flows.new_customer_value,
    }
    equity_draws = flows.equity.sum(axis=1)
    blocks = [equity_draws[:, None], *seg_metrics.values()]
    blocks += [years[m].sum(axis=2).T for m in BAND_METRICS]
    q = np.quantile(np.concatenate(blocks, axis=1), QUANTILES, axis=0)  # (3, K)
    cut = 1 + n_seg * len(seg_metrics)
    segment = pl.Series("segment", list(a.names) * len(seg_metrics), dtype=pl.String)
    by_segment = pl.DataFrame(
        [
            segment,
            pl.Series("metric", [m for m in seg_metrics for _ in range(n_seg)]),
            *(pl.Series(f"p{round(p * 100)}", q[i, 1:cut], nan_to_null=True)
              for i, p in enumerate(QUANTILES)),
        ]
    )  # fmt: skip
    totals = pl.DataFrame(
        [
            pl.Series("year", np.tile(np.arange(1, horizon + 1), len(BAND_METRICS))),
            pl.Series("metric", [m for m in BAND_METRICS for _ in range(horizon)]),
            *(pl.Series(f"p{round(p * 100)}", q[i, cut:]) for i, p in enumerate(QUANTILES)),
        ]
    )
    return Uncertainty(
        draws=draws,
        equity=Band(float(q[0, 0]), float(q[1, 0]), float(q[2, 0])),
        equity_draws=equity_draws,
        totals=totals,
        by_segment=by_segment,
        segment_names=a.names,
        year_draws=years,
    )
