"""Why a customer is at risk: the feature groups that raise their P(churn) most.

For each customer and each group of related features (below), the group's values are
replaced by the typical values of the training rows (medians; the commonest acquisition
channel) and the calibrated model scores the customer again; the group's *effect* is how
much lower P(churn) then is, in probability (0.12 = 12 points). The groups with the largest
positive effects, at least :data:`MIN_EFFECT`, are the customer's reasons, strongest
first (an occlusion attribution: Zeiler & Fergus 2014, ECCV, applied to feature groups).
The words come from :mod:`crm_core.copy.churn`, which reads the customer's own values.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_core.churn.columns import (
    CHANNEL_PREFIX,
    TOUCHPOINT_CONTACTS_PREFIX,
    TOUCHPOINT_COST_PREFIX,
    F,
    R,
)
from crm_core.churn.model import Trained

__all__ = ["GROUPS", "MIN_EFFECT", "REASONS", "baseline_reasons", "groups_of", "reasons"]

MIN_EFFECT = 0.01
"""Effects below one probability point are not reasons."""
REASONS = 3
"""Reasons kept per customer."""

GROUPS: dict[str, tuple[str, ...]] = {
    "silence": (F.days_since, F.usual_gap, F.lapse_days, F.days_to_lapse, F.gap_ratio),
    "spend": (F.revenue_q, F.revenue_h, F.revenue_y, F.revenue_prev_h, F.spend_change),
    "frequency": (
        F.purchase_days_q,
        F.purchase_days_h,
        F.purchase_days_y,
        F.purchase_days_prev_h,
        F.frequency_change,
        F.purchase_days_total,
        F.transactions_y,
    ),
    "service": (F.contacts_h, F.contacts_y, F.service_cost_y),
    "refunds": (F.refunds_y, F.refund_amount_y),
    "model": (F.p_alive, F.expected_purchases, F.renewal_probability),
    "contract": (F.periods_paid, F.days_to_renewal, F.revenue_per_period),
    "tenure": (F.tenure_days,),
    "channels": (),
    "acquisition": (F.acquisition_channel,),
}
"""Feature groups by reason key (touchpoint and channel-mix columns join ``service`` and
``channels`` by their prefixes)."""


def groups_of(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Column indices of each group present among ``names``."""
    out: dict[str, list[int]] = {key: [] for key in GROUPS}
    for j, name in enumerate(names):
        if name.startswith((TOUCHPOINT_CONTACTS_PREFIX, TOUCHPOINT_COST_PREFIX)):
            out["service"].append(j)
        elif name.startswith(CHANNEL_PREFIX):
            out["channels"].append(j)
        else:
            for key, members in GROUPS.items():
                if name in members:
                    out[key].append(j)
    return {key: np.array(idx) for key, idx in out.items() if idx}


def reasons(trained: Trained, x: np.ndarray, *, top: int = REASONS) -> pl.DataFrame:
    """The ``top`` reasons of each row of ``x`` (module docstring).

    Returns
    -------
    pl.DataFrame
        One row per row of ``x``: ``reason_1 .. reason_top`` (group keys, null when fewer
        groups reach :data:`MIN_EFFECT`) and ``effect_1 .. effect_top`` (fractions).
    """
    groups = groups_of(trained.spec.names)
    keys = list(groups)
    base = trained.predict(x)
    effects = np.zeros((x.shape[0], len(keys)))
    for g, key in enumerate(keys):
        idx = groups[key]
        moved = x.copy()
        moved[:, idx] = trained.typical[idx]
        effects[:, g] = base - trained.predict(moved)
    top = min(top, len(keys))
    order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
    best = np.take_along_axis(effects, order, axis=1)
    columns: dict[str, pl.Series] = {}
    for i in range(top):
        ok = best[:, i] >= MIN_EFFECT
        names = [keys[g] if keep else None for g, keep in zip(order[:, i], ok, strict=True)]
        columns[R.reason.format(i + 1)] = pl.Series(names, dtype=pl.String)
        effect = pl.Series(np.where(ok, best[:, i], np.nan)).fill_nan(None)
        columns[R.effect.format(i + 1)] = effect
    return pl.DataFrame(columns)


def baseline_reasons(trained: Trained, x: np.ndarray, *, top: int = REASONS) -> pl.DataFrame:
    """Reasons when the list is ranked by the recency baseline: its one input, recency
    (``silence``), with its effect against the typical recency; the other columns null."""
    typical = np.full((1, x.shape[1]), trained.typical)
    effect = trained.predict_baseline(x) - trained.predict_baseline(typical)[0]
    ok = effect >= MIN_EFFECT
    columns: dict[str, pl.Series] = {}
    for i in range(top):
        keep = ok if i == 0 else np.zeros(x.shape[0], dtype=bool)
        names = ["silence" if k else None for k in keep]
        columns[R.reason.format(i + 1)] = pl.Series(names, dtype=pl.String)
        columns[R.effect.format(i + 1)] = pl.Series(np.where(keep, effect, np.nan)).fill_nan(None)
    return pl.DataFrame(columns)
