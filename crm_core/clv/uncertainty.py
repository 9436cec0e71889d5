"""How sure are we? P10 / P50 / P90 bands for customer equity and CLV per segment.

The fitted parameters are uncertain; their asymptotic distribution is normal in the
log-parameters with the inverse-Hessian covariance stored on each model. :func:`clv_bands`
draws ``draws`` parameter sets from it (BG/NBD and Gamma-Gamma independently, as they are
fitted separately, keeping only draws with a finite mean spend ``q > 1``; or the sBG's
two), recomputes every customer's CLV with each set, and
reports percentiles of customer equity and of each segment's total and average CLV. This
is the parametric approximation to a bootstrap (Wald-type, as in Fader & Hardie's
spreadsheets' standard errors); it captures parameter uncertainty, not the randomness of
which customers actually buy. Seeded: the same seed gives the same bands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_core.clv.fitted import NEXT_RENEWAL_YEARS, PERIODS_PAID, REVENUE_PER_PERIOD
from crm_core.clv.gamma_gamma import GammaGammaModel
from crm_core.clv.summary import FREQUENCY, MONETARY_VALUE, RECENCY, T_AGE
from crm_core.clv.valuation import CLV, ClvResult, bgnbd_clv_values, sbg_clv_values
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = ["ALL_CUSTOMERS", "GROUPINGS", "ClvBands", "clv_bands", "clv_bands_by", "group_labels"]

Segments = pl.DataFrame | pl.Series | Sequence[str] | None

ALL_CUSTOMERS = "All customers"
UNASSIGNED = "Unassigned"
SEGMENT = "segment"


@dataclass(frozen=True)
class ClvBands:
    """Percentile bands of CLV under parameter uncertainty.

    Attributes
    ----------
    table
        One row per segment plus ``"All customers"``: ``segment, customers,
        equity_p10, equity_p50, equity_p90`` (segment total CLV, currency) and
        ``average_p10, average_p50, average_p90`` (CLV per customer, currency).
    equity_p10, equity_p50, equity_p90
        Percentiles of customer equity (currency).
    point_equity
        Customer equity at the fitted parameters (currency).
    draws, seed
        Number of parameter draws and the seed used.
    """

    table: pl.DataFrame
    equity_p10: float
    equity_p50: float
    equity_p90: float
    point_equity: float
    draws: int
    seed: int


def _labels(result: ClvResult, segments: object) -> np.ndarray:
    n = result.table.height
    if segments is None:
        return np.full(n, ALL_CUSTOMERS, dtype=object)
    if isinstance(segments, pl.DataFrame):
        if C.customer_id not in segments.columns or SEGMENT not in segments.columns:
            raise ValueError(f"segments must have the columns {C.customer_id} and {SEGMENT}")
        joined = result.table.select(C.customer_id).join(
            segments.select(C.customer_id, pl.col(SEGMENT).cast(pl.String)),
            on=C.customer_id,
            how="left",
            maintain_order="left",
        )
        return joined[SEGMENT].fill_null(UNASSIGNED).to_numpy().astype(object)
    labels = np.asarray(
        segments.to_list() if isinstance(segments, pl.Series) else list(segments),  # type: ignore[call-overload]
        dtype=object,
    )
    if labels.size != n:
        raise ValueError(f"segments has {labels.size} labels for {n} customers in the result")
    return np.array([UNASSIGNED if v is None else str(v) for v in labels], dtype=object)


def _finite_mean_draws(model: GammaGammaModel, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Gamma-Gamma parameter draws conditioned on ``q > 1`` (a finite mean spend), by
    rejection; raises when most of the distribution has no finite mean."""
    kept = np.empty((0, 3))
    for _ in range(10):
        batch = model.sample_params(2 * draws, rng)
        kept = np.vstack([kept, batch[batch[:, 1] > 1]])
        if kept.shape[0] >= draws:
            return kept[:draws]
    raise ValueError(
        "the Gamma-Gamma fit is too uncertain: most parameter draws give an infinite mean "
        "spend (q <= 1)"
    )


def _draw_values(result: ClvResult, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws x customers`` CLV under parameter draws."""
    t = result.table
    out = np.empty((draws, t.height))
    if result.sbg is not None:
        params = result.sbg.sample_params(draws, rng)
        paid = t[PERIODS_PAID].to_numpy()
        nxt = t[NEXT_RENEWAL_YEARS].to_numpy()
        rev = t[REVENUE_PER_PERIOD].to_numpy()
        for i, (al, be) in enumerate(params):
            out[i] = sbg_clv_values(
                result.sbg.with_params(al, be), paid, nxt, rev, margin=result.margin,
                horizon_years=result.horizon_years, discount_rate=result.discount_rate,
                period_months=result.period_months or 1,
            )[CLV]  # fmt: skip
        return out
    if result.bgnbd is None or result.gamma_gamma is None:
        raise ValueError("the result carries no fitted model to draw parameters from")
    bg_params = result.bgnbd.sample_params(draws, rng)
    gg_params = _finite_mean_draws(result.gamma_gamma, draws, rng)
    x = t[FREQUENCY].to_numpy().astype(np.float64)
    tx, age, mv = (t[c].to_numpy() for c in (RECENCY, T_AGE, MONETARY_VALUE))
    for i in range(draws):
        gg = result.gamma_gamma.with_params(*gg_params[i])
        out[i] = bgnbd_clv_values(
            result.bgnbd.with_params(*bg_params[i]), gg, x, tx, age, mv, margin=result.margin,
            horizon_years=result.horizon_years, discount_rate=result.discount_rate,
            steps_per_year=result.steps_per_year,
        )[CLV]  # fmt: skip
    return out


def clv_bands(
    result: ClvResult,
    *,
    segments: Segments = None,
    draws: int = 200,
    seed: int = 0,
) -> ClvBands:
    """P10 / P50 / P90 of customer equity and per-segment CLV under parameter uncertainty.

    Parameters
    ----------
    result
        Output of :func:`crm_core.clv.customer.customer_clv`.
    segments
        Segment label per customer: a frame with ``customer_id`` and ``segment`` (customers
        without a label go to ``"Unassigned"``), or labels aligned with ``result.table``.
    draws
        Parameter draws (>= 10; 200 gives percentiles to about +-2% of the spread).
    seed
        Seed of ``numpy.random.default_rng``.

    Raises
    ------
    ValueError
        On too few draws, misaligned labels or a result without models.
    """
    return clv_bands_by(result, {"": segments}, draws=draws, seed=seed)[""]


def clv_bands_by(
    result: ClvResult,
    groupings: Mapping[str, Segments],
    *,
    draws: int = 200,
    seed: int = 0,
) -> dict[str, ClvBands]:
    """:func:`clv_bands` for several segmentations at once, from the same parameter draws
    (the expensive part), so each grouping's equity bands are identical.

    ``groupings`` maps a name to the ``segments`` argument of :func:`clv_bands`; the result
    maps the same names to their bands.
    """
    if int(draws) != draws or draws < 10:
        raise ValueError(f"draws must be a whole number >= 10, got {draws!r}")
    labelled = {name: (segments, _labels(result, segments)) for name, segments in groupings.items()}
    rng = np.random.default_rng(seed)
    values = _draw_values(result, int(draws), rng)
    equity = values.sum(axis=1)
    q10, q50, q90 = np.percentile(equity, [10, 50, 90])
    out = {}
    for name, (segments, labels) in labelled.items():
        out[name] = ClvBands(
            table=_band_table(values, labels, split=segments is not None),
            equity_p10=float(q10),
            equity_p50=float(q50),
            equity_p90=float(q90),
            point_equity=result.customer_equity,
            draws=int(draws),
            seed=int(seed),
        )
    return out


def _band_table(values: np.ndarray, labels: np.ndarray, *, split: bool) -> pl.DataFrame:
    rows = []
    groups = [(ALL_CUSTOMERS, np.ones(labels.size, dtype=bool))]
    if split:
        groups += [(str(s), labels == s) for s in sorted(set(labels.tolist()))]
    for name, sel in groups:
        count = int(sel.sum())
        totals = values[:, sel].sum(axis=1)
        p10, p50, p90 = np.percentile(totals, [10, 50, 90])
        rows.append(
            {
                SEGMENT: name,
                "customers": count,
                "equity_p10": p10,
                "equity_p50": p50,
                "equity_p90": p90,
                "average_p10": p10 / count if count else 0.0,
                "average_p50": p50 / count if count else 0.0,
                "average_p90": p90 / count if count else 0.0,
            }
        )
    return pl.DataFrame(rows)


# ------------------------------------------------------------------ groupings

GROUPINGS = {
    "tier": "Profit tier (last 12 months)",
    "channel": "Acquisition channel",
}
"""Ways :func:`group_labels` can group customers, with their names in words."""

NOT_ACTIVE = "No activity in the last 12 months"


def group_labels(snapshot: Snapshot, by: str) -> pl.DataFrame:
    """A ``customer_id, segment`` frame to split CLV bands by (see :data:`GROUPINGS`).

    * ``"tier"``: the Segments page's ABC profit tiers over the trailing twelve months
      (:func:`crm_core.segments.assign_tiers` on
      :func:`crm_core.profit.customer_profit_lazy`), labelled ``"Tier A (top 10%)"`` ...;
      customers with no activity in those months are ``"No activity in the last 12
      months"``.
    * ``"channel"``: the acquisition channel.

    Raises
    ------
    ValueError
        For another ``by``.
    """
    customers = snapshot.customers.select(C.customer_id, C.acquisition_channel)
    if by == "channel":
        return customers.select(
            C.customer_id, pl.col(C.acquisition_channel).alias(SEGMENT)
        ).collect()
    if by != "tier":
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    # imported here: the segments module may come to use CLV, and must not form a cycle
    from crm_core.segments.profit import customer_profit_lazy
    from crm_core.segments.report import DEFAULT_CUTOFFS, TIER, TIERS, assign_tiers, tier_name

    # "A: top 10%" -> "Tier A (top 10%)": reads as a noun in "Tier A (top 10%) customers"
    names = {t: "Tier {} ({})".format(*tier_name(t, DEFAULT_CUTOFFS).split(": ")) for t in TIERS}
    tiers = assign_tiers(customer_profit_lazy(snapshot)).select(
        C.customer_id, pl.col(TIER).cast(pl.String).replace_strict(names).alias(SEGMENT)
    )
    return (
        customers.select(C.customer_id)
        .join(tiers, on=C.customer_id, how="left")
        .with_columns(pl.col(SEGMENT).fill_null(NOT_ACTIVE))
        .collect()
    )
