"""CLV model fits at scale: BG/NBD and Gamma-Gamma against lifetimes, on the same rows.

The input is the sample company's RFM summary (``rfm_summary`` of its transactions, in
weeks), without the customers first seen on the as-of date (``T = 0``), as the app fits
it. In the same run, the calls interleaved:

* ``fit_bgnbd(frequency, recency, T)`` against lifetimes 0.11.3
  ``BetaGeoFitter(penalizer_coef=0.0).fit(frequency, recency, T)`` on a pandas frame of
  the same rows (the way lifetimes' documentation shows it);
* ``fit_gamma_gamma(frequency, monetary_value)`` against
  ``GammaGammaFitter(penalizer_coef=0.0).fit(...)`` on the repeat customers with a positive
  mean spend.

The parameters are compared: ``bgnbd_max_rel_param_diff`` is the largest relative
difference of r, alpha, a, b (``gg_max_rel_param_diff`` of p, q, gamma). The time counts
everything a fit does (input checks, grouping identical customers, the optimiser,
standard errors), not building the frames.

Run on its own: ``.venv/bin/python benchmarks/run.py clv``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import polars as pl
from _common import Context, Result, fmt_s, measure_side_by_side, rfm_of

from crm_core.clv import fit_bgnbd, fit_gamma_gamma


def _rel_diff(ours: tuple[float, ...], theirs: list[float]) -> float:
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _lifetimes_bg(frame: Any) -> list[float]:
    from lifetimes import BetaGeoFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = BetaGeoFitter(penalizer_coef=0.0).fit(
            frame["frequency"], frame["recency"], frame["T"]
        )
    return [float(fitted.params_[k]) for k in ("r", "alpha", "a", "b")]


def _lifetimes_gg(frame: Any) -> list[float]:
    from lifetimes import GammaGammaFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = GammaGammaFitter(penalizer_coef=0.0).fit(
            frame["frequency"], frame["monetary_value"]
        )
    return [float(fitted.params_[k]) for k in ("p", "q", "v")]


def run(ctx: Context) -> Result:
    summary = rfm_of(ctx).filter(pl.col("T") > 0)
    spenders = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    frame = summary.select("frequency", "recency", "T").to_pandas()
    spend_frame = spenders.select("frequency", "monetary_value").to_pandas()
    x, tx, t = summary["frequency"], summary["recency"], summary["T"]
    sx, sm = spenders["frequency"], spenders["monetary_value"]

    got = measure_side_by_side(
        {
            "bg": lambda: fit_bgnbd(x, tx, t),
            "bg_lt": lambda: _lifetimes_bg(frame),
            "gg": lambda: fit_gamma_gamma(sx, sm),
            "gg_lt": lambda: _lifetimes_gg(spend_frame),
        },
        ctx.runs,
    )
    (bg, bg_model), (bg_lt, bg_lt_params) = got["bg"], got["bg_lt"]
    (gg, gg_model), (gg_lt, gg_lt_params) = got["gg"], got["gg_lt"]

    distinct = summary.select(pl.struct("frequency", "recency", "T").n_unique()).item()
    bg_diff = _rel_diff(bg_model.params, bg_lt_params)
    gg_diff = _rel_diff(gg_model.params, gg_lt_params)
    values = {
        "clv_customers": summary.height,
        "bgnbd_distinct_rows": int(distinct),
        "gg_customers": spenders.height,
        "bgnbd_s": bg.as_dict(),
        "bgnbd_lifetimes_s": bg_lt.as_dict(),
        "bgnbd_speedup_vs_lifetimes": bg_lt.median / bg.median,
        "bgnbd_max_rel_param_diff": bg_diff,
        "bgnbd_params": dict(zip(("r", "alpha", "a", "b"), bg_model.params, strict=True)),
        "bgnbd_lifetimes_params": dict(zip(("r", "alpha", "a", "b"), bg_lt_params, strict=True)),
        "gg_s": gg.as_dict(),
        "gg_lifetimes_s": gg_lt.as_dict(),
        "gg_speedup_vs_lifetimes": gg_lt.median / gg.median,
        "gg_max_rel_param_diff": gg_diff,
        "gg_params": dict(zip(("p", "q", "gamma"), gg_model.params, strict=True)),
        "gg_lifetimes_params": dict(zip(("p", "q", "gamma"), gg_lt_params, strict=True)),
    }
    rows = [
        (
            f"fit_bgnbd ({summary.height:,} customers, {distinct:,} distinct rows)",
            fmt_s(bg, digits=3),
            f"lifetimes {fmt_s(bg_lt)}",
            f"{values['bgnbd_speedup_vs_lifetimes']:.1f}x faster, params within {bg_diff:.1g}",
        ),
        (
            f"fit_gamma_gamma ({spenders.height:,} repeat customers)",
            fmt_s(gg, digits=3),
            f"lifetimes {fmt_s(gg_lt)}",
            f"{values['gg_speedup_vs_lifetimes']:.1f}x faster, params within {gg_diff:.1g}",
        ),
    ]
    return Result(values, rows)
