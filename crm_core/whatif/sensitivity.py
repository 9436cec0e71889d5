"""The sensitivity tornado: projected equity when each lever moves down and up."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_core.whatif.checks import (
    MAX_HORIZON_YEARS,
    check_discount,
    check_horizon,
    check_periods,
    number,
)
from crm_core.whatif.engine import equity_by_segment
from crm_core.whatif.levers import Levers, Scenario, apply_scenario
from crm_core.whatif.segment import Segment, check_segments

__all__ = ["ALL_SEGMENTS", "sensitivity"]

ALL_SEGMENTS = "All segments"

_TORNADO_LEVERS = (
    # key, words, unit, applies when any segment has ...
    ("retention_points", "Retention", "points", None),
    ("margin_pct", "Margin per customer", "percent", "margin"),
    ("cost_to_serve_pct", "Cost to serve", "percent", "cost_to_serve"),
    ("acquisition_volume_pct", "Customers acquired per year", "percent", "acquisition_per_year"),
    ("acquisition_cost_pct", "Acquisition cost", "percent", "acquisition_cost"),
)


def sensitivity(
    segments: Sequence[Segment],
    *,
    horizon_years: int,
    discount_rate: float,
    retention_points: float = 1.0,
    change_pct: float = 10.0,
    per_segment: bool = False,
    periods_per_year: int = 1,
) -> pl.DataFrame:
    """Tornado of customer equity: each lever moved down and up, the rest held.

    Retention moves by ``retention_points`` points; margin, cost to serve, acquisition
    volume and cost, the discount rate and the horizon by ``change_pct`` percent (the
    horizon by at least one year). Levers that change nothing (e.g. acquisition cost when
    nobody is acquired) are left out.

    Parameters
    ----------
    segments
        The baseline segments.
    horizon_years, discount_rate, periods_per_year
        As in :func:`crm_core.whatif.simulate`.
    retention_points
        Retention move (percentage points, > 0).
    change_pct
        Move of the other levers (percent, > 0).
    per_segment
        Move each lever in one segment at a time (one row per lever and segment) instead
        of in every segment at once (``segment`` = "All segments").

    Returns
    -------
    pl.DataFrame
        Columns ``lever`` (key), ``lever_label`` (words), ``segment``, ``unit``
        (``points``, ``percent`` or ``years``), ``low_change``, ``high_change`` (the
        moves, in ``unit``), ``equity_low``, ``equity_high``, ``delta_low``,
        ``delta_high`` (equity and its change from ``baseline_equity``, currency),
        ``impact`` (the larger absolute change) and ``baseline_equity``; sorted by
        ``impact``, largest first.
    """
    check_segments(segments)
    horizon = check_horizon(horizon_years)
    rate = check_discount(discount_rate)
    periods = check_periods(periods_per_year)
    points = number("sensitivity", "retention_points", retention_points)
    pct = number("sensitivity", "change_pct", change_pct)
    if not 0 < points <= 100 or not 0 < pct <= 100:
        raise ValueError("retention_points and change_pct must be in (0, 100]")
    targets = [s.name for s in segments] if per_segment else [ALL_SEGMENTS]
    variants: list[Sequence[Segment]] = [segments]
    rates = [rate]
    rows: list[dict] = []
    for key, words, unit, needs in _TORNADO_LEVERS:
        size = points if key == "retention_points" else pct
        for target in targets:
            chosen = (
                segments if target == ALL_SEGMENTS else [s for s in segments if s.name == target]
            )
            if needs and not any(getattr(s, needs) for s in chosen):
                continue
            pair = []
            for sign in (-1.0, 1.0):
                levers = Levers(**{key: sign * size})
                if target == ALL_SEGMENTS:
                    variants.append(apply_scenario(segments, levers))
                else:
                    scenario = Scenario(name="sensitivity", segment_levers={target: levers})
                    variants.append(apply_scenario(segments, scenario))
                rates.append(rate)
                pair.append(len(variants) - 1)
            rows.append(
                {"lever": key, "lever_label": words, "segment": target, "unit": unit,
                 "low_change": -size, "high_change": size, "rows": pair}
            )  # fmt: skip
    if rate > 0:
        low, high = rate * (1 - pct / 100), rate * (1 + pct / 100)
        variants += [segments, segments]
        rates += [low, min(high, 1.0)]
        rows.append(
            {"lever": "discount_rate", "lever_label": "Discount rate", "segment": ALL_SEGMENTS,
             "unit": "percent", "low_change": -pct, "high_change": pct,
             "rows": [len(variants) - 2, len(variants) - 1]}
        )  # fmt: skip
    equity = equity_by_segment(
        variants, horizon_years=horizon, discount_rate=rates, periods_per_year=periods
    ).sum(axis=1)
    baseline = float(equity[0])
    values = {id(r): (float(equity[r["rows"][0]]), float(equity[r["rows"][1]])) for r in rows}
    years = max(1, round(horizon * pct / 100))
    short, long_ = max(1, horizon - years), min(MAX_HORIZON_YEARS, horizon + years)
    horizon_row = {
        "lever": "horizon_years",
        "lever_label": "Horizon",
        "segment": ALL_SEGMENTS,
        "unit": "years",
        "low_change": float(short - horizon),
        "high_change": float(long_ - horizon),
    }
    rows.append(horizon_row)
    values[id(horizon_row)] = tuple(
        float(
            equity_by_segment(
                [segments], horizon_years=h, discount_rate=rate, periods_per_year=periods
            ).sum()
        )
        for h in (short, long_)
    )
    records = []
    for r in rows:
        low_equity, high_equity = values[id(r)]
        delta_low, delta_high = low_equity - baseline, high_equity - baseline
        impact = max(abs(delta_low), abs(delta_high))
        if impact <= 1e-9 * max(1.0, abs(baseline)):
            continue
        record = {k: v for k, v in r.items() if k != "rows"}
        record |= {
            "equity_low": low_equity,
            "equity_high": high_equity,
            "delta_low": delta_low,
            "delta_high": delta_high,
            "impact": impact,
            "baseline_equity": baseline,
        }
        records.append(record)
    schema = {
        "lever": pl.String,
        "lever_label": pl.String,
        "segment": pl.String,
        "unit": pl.String,
        "low_change": pl.Float64,
        "high_change": pl.Float64,
        "equity_low": pl.Float64,
        "equity_high": pl.Float64,
        "delta_low": pl.Float64,
        "delta_high": pl.Float64,
        "impact": pl.Float64,
        "baseline_equity": pl.Float64,
    }
    frame = pl.DataFrame(records, schema=schema)
    return frame.sort("impact", descending=True, maintain_order=True)
