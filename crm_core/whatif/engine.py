"""What-if engine: project customer segments forward and value them as projected equity.

A :class:`Segment` (:mod:`crm_core.whatif.segment`) describes a group of customers today
(how many, how many stay each year, what an active customer earns, how many are won or
come back each year and at what cost). :func:`simulate` projects every segment year by
year and discounts the profit into equity (Blattberg & Deighton 1996, "Manage marketing by
the customer equity test", HBR; Gupta & Lehmann 2003, "Customers as assets", J.
Interactive Marketing). :class:`Levers` and :class:`Scenario`
(:mod:`crm_core.whatif.levers`) describe changes relative to a baseline.

Timing (one year is one period; ``periods_per_year=4`` gives quarters, see below)
---------------------------------------------------------------------------------
* ``customers`` are the active customers at the start of year 1 (time 0). Each year a
  share ``retention`` of the customers active at the start of the year is still active at
  its end, so with no acquisition ``N0 * r**t`` customers are active at the end of year t.
* The margin ``m`` is earned at the end of each year by the customers still active then,
  discounted by ``(1 + d) ** -t``. A current customer is therefore worth
  ``m * q * (1 - q**H) / (1 - q)`` with ``q = r / (1 + d)`` over ``H`` years, which tends
  to the closed form ``m * r / (1 + d - r)`` (domain brief, section 2) as ``H`` grows.
* ``acquisition_per_year`` new customers are won in each year 1..H, paying
  ``acquisition_cost`` each at the year's start (discount ``(1 + d) ** -(t - 1)``). A
  share ``new_survival`` of them is still active at the end of that year (by default
  ``retention``), earning the first-year margin ``new_margin`` (default ``m``); from then
  on they behave like the base (retention, or ``retention_curve`` by tenure, and ``m``).
  With the defaults a new customer is worth ``m * r / (1 + d - r) - acquisition_cost``
  at acquisition when the horizon is long. Year t's row counts them in
  ``new_customers`` and ``customers_start``.
* ``reactivations_per_year`` lapsed customers become active again at each year end,
  earning ``m`` then, and afterwards stay and leave like the base.
* Retention spend (``retention_spend + extra_retention_spend`` per customer per year) is
  paid at the start of each year for every customer active then (including that year's
  new customers), so it is discounted by ``(1 + d) ** -(t - 1)``.
* Quarterly projection (``periods_per_year=4``): quarterly retention ``r ** (1/4)`` (the
  first four quarters of a new cohort at ``new_survival ** (1/4)``), margin ``m / 4`` at
  each quarter end, a quarter of the yearly acquisitions at each quarter start and of the
  reactivations at each quarter end, discount ``(1 + d) ** -(q / 4)``.

Margin, revenue and costs
-------------------------
``margin`` is the yearly *contribution* of an active customer: revenue minus the direct
cost of what they buy minus the cost to serve them, before acquisition and retention
spend (the ``m`` of ``m * r / (1 + d - r)``). ``revenue`` and ``cost_to_serve`` are an
optional breakdown used to show revenue and cost lines and to let levers act on them.

Response of retention to extra spend and uncertainty: :func:`retention_response`
(:mod:`crm_core.whatif.segment`) and :mod:`crm_core.whatif.draws`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_core.whatif.checks import (
    MAX_HORIZON_YEARS,
    check_discount,
    check_horizon,
    check_periods,
    number,
)
from crm_core.whatif.draws import draw_arrays, uncertainty
from crm_core.whatif.levers import Levers, Scenario, apply_scenario
from crm_core.whatif.projection import project, result_frames, stack
from crm_core.whatif.results import Band, RetentionUplift, SimulationResult, Uncertainty
from crm_core.whatif.segment import (
    DEFAULT_CHURN_CUT,
    DEFAULT_HALF_SPEND_SHARE,
    Segment,
    check_segments,
    retention_response,
)

__all__ = [
    "DEFAULT_CHURN_CUT",
    "DEFAULT_HALF_SPEND_SHARE",
    "MAX_HORIZON_YEARS",
    "Band",
    "CardValue",
    "Levers",
    "RetentionUplift",
    "Scenario",
    "Segment",
    "SimulationResult",
    "Uncertainty",
    "apply_scenario",
    "equity_by_segment",
    "retention_response",
    "retention_uplift",
    "run_scenario",
    "scenario_kpis",
    "scenario_table",
    "simulate",
]

MAX_DRAWS = 100_000


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def simulate(
    segments: Sequence[Segment],
    *,
    horizon_years: int,
    discount_rate: float,
    draws: int = 0,
    seed: int | np.random.Generator | None = 0,
    periods_per_year: int = 1,
    retention_prior: tuple[float, float] = (1.0, 1.0),
) -> SimulationResult:
    """Project segments year by year and value them (module docstring for the timing).

    Parameters
    ----------
    segments
        The segments (unique names).
    horizon_years
        Years projected (1..100).
    discount_rate
        Yearly discount rate (fraction, 0.10 = 10%).
    draws
        Monte Carlo draws for P10/P50/P90 bands (0 = deterministic only).
    seed
        Seed or ``np.random.Generator`` of the draws (the same seed gives the same draws).
    periods_per_year
        1 for a yearly projection, 4 for quarters (also returned in ``by_quarter``).
    retention_prior
        ``(a0, b0)`` of the Beta prior of retention (default uniform ``(1, 1)``).

    Returns
    -------
    SimulationResult
        Projected equity (currency), frames by year, by segment and in total, and the
        Monte Carlo bands when ``draws > 0``.

    Raises
    ------
    ValueError
        Bad segments list or arguments (segment fields are checked by :class:`Segment`).
    """
    check_segments(segments)
    horizon = check_horizon(horizon_years)
    rate = check_discount(discount_rate)
    periods = check_periods(periods_per_year)
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)):
        raise ValueError(f"draws must be a whole number, got {draws!r}")
    if not 0 <= draws <= MAX_DRAWS:
        raise ValueError(f"draws must be in 0..{MAX_DRAWS}, got {draws}")
    a0 = number("simulate", "retention_prior[0]", retention_prior[0])
    b0 = number("simulate", "retention_prior[1]", retention_prior[1])
    if a0 <= 0 or b0 <= 0:
        raise ValueError(f"retention_prior must be two numbers > 0, got {retention_prior!r}")
    arrays = stack([segments], horizon, [rate])
    flows = project(arrays, periods)
    by_year, totals, by_segment, by_quarter = result_frames(flows, arrays, horizon)
    bands = None
    if draws:
        mc = draw_arrays(segments, arrays, int(draws), _rng(seed), (a0, b0))
        bands = uncertainty(project(mc, periods), mc, horizon, int(draws))
    return SimulationResult(
        customer_equity=float(flows.equity.sum()),
        by_year=by_year,
        totals=totals,
        by_segment=by_segment,
        horizon_years=horizon,
        discount_rate=rate,
        periods_per_year=periods,
        by_quarter=by_quarter,
        uncertainty=bands,
    )


def run_scenario(
    baseline: Sequence[Segment],
    scenario: Scenario,
    *,
    horizon_years: int,
    discount_rate: float,
    draws: int = 0,
    seed: int | np.random.Generator | None = 0,
    periods_per_year: int = 1,
    strict: bool = True,
) -> SimulationResult:
    """:func:`simulate` the baseline with ``scenario`` applied (and its overrides).

    ``horizon_years`` and ``discount_rate`` are used unless the scenario overrides them.
    """
    return simulate(
        apply_scenario(baseline, scenario, strict=strict),
        horizon_years=scenario.horizon_years or horizon_years,
        discount_rate=(discount_rate if scenario.discount_rate is None else scenario.discount_rate),
        draws=draws,
        seed=seed,
        periods_per_year=periods_per_year,
    )


def equity_by_segment(
    variants: Sequence[Sequence[Segment]],
    *,
    horizon_years: int,
    discount_rate: float | Sequence[float],
    periods_per_year: int = 1,
) -> np.ndarray:
    """Projected equity per segment of many variants of the same segments, in one pass.

    Parameters
    ----------
    variants
        B lists of segments with the same names in the same order.
    horizon_years, periods_per_year
        As in :func:`simulate`.
    discount_rate
        One yearly rate for all variants or one per variant (fraction).

    Returns
    -------
    np.ndarray
        Shape ``(B, S)``: equity of each segment in each variant (currency).
    """
    if not variants:
        raise ValueError("variants must not be empty")
    names = None
    for segs in variants:
        check_segments(segs)
        current = [s.name for s in segs]
        if names is not None and current != names:
            raise ValueError("every variant must have the same segments in the same order")
        names = current
    horizon = check_horizon(horizon_years)
    rates = np.broadcast_to(
        np.array([check_discount(r) for r in np.atleast_1d(discount_rate)]), (len(variants),)
    )
    return project(stack(variants, horizon, rates), check_periods(periods_per_year)).equity


def retention_uplift(
    segments: Sequence[Segment],
    *,
    points: float = 5.0,
    horizon_years: int,
    discount_rate: float,
    periods_per_year: int = 1,
) -> RetentionUplift:
    """Projected equity when every segment keeps ``points`` more customers in 100 a year.

    The executive question behind Reichheld & Sasser (1990): what is +5 points of
    retention worth here? Retention is clipped at 100%.
    """
    after = apply_scenario(segments, Levers(retention_points=points))
    equity = equity_by_segment(
        [segments, after],
        horizon_years=horizon_years,
        discount_rate=discount_rate,
        periods_per_year=periods_per_year,
    ).sum(axis=1)
    return RetentionUplift(float(points), float(equity[0]), float(equity[1]))


# ----------------------------------------------------------------------------- cards


@dataclass(frozen=True)
class CardValue:
    """The numbers of one What-if card: a scenario's value against its baseline.

    Words (labels, help) are added by :mod:`crm_core.copy.whatif`.

    Attributes
    ----------
    key
        ``equity`` (projected equity with new customers), ``equity_today`` (projected
        value of today's customers), ``profit`` (undiscounted, over the horizon),
        ``customers_end`` (active at the horizon, whole customers) or ``clv:<segment>``
        (projected value per customer of today's segment).
    value, previous
        The scenario's and the baseline's value.
    kind
        ``"money"`` or ``"count"``.
    history
        The scenario's yearly path where one exists (cumulative discounted profit,
        profit, customers).
    segment
        The segment of a ``clv:`` card.
    """

    key: str
    value: float | None
    previous: float | None
    kind: str
    history: tuple[float, ...] = ()
    segment: str | None = None


def scenario_kpis(baseline: SimulationResult, scenario: SimulationResult) -> tuple[CardValue, ...]:
    """The What-if page's card values: a scenario against its baseline, in page order
    (``equity``, ``equity_today``, ``profit``, ``customers_end``, then ``clv:<segment>``)."""
    if baseline.segments != scenario.segments:
        raise ValueError("baseline and scenario must have the same segments")
    base_t, scen_t = baseline.totals, scenario.totals

    def path(column: str) -> tuple[float, ...]:
        return tuple(float(v) for v in scen_t[column])

    cards = [
        CardValue(
            "equity",
            scenario.customer_equity,
            baseline.customer_equity,
            "money",
            path("cumulative_discounted_profit"),
        ),
        CardValue("equity_today", scenario.equity_today, baseline.equity_today, "money"),
        CardValue(
            "profit",
            float(scen_t["profit"].sum()),
            float(base_t["profit"].sum()),
            "money",
            path("profit"),
        ),
        CardValue(
            "customers_end",
            float(round(scen_t["customers"][-1])),
            float(round(base_t["customers"][-1])),
            "count",
            path("customers"),
        ),
    ]
    rows = zip(
        scenario.by_segment.iter_rows(named=True),
        baseline.by_segment.iter_rows(named=True),
        strict=True,
    )
    for row, before in rows:
        name = row["segment"]
        cards.append(CardValue(f"clv:{name}", row["clv"], before["clv"], "money", segment=name))
    return tuple(cards)


def scenario_table(results: Mapping[str, SimulationResult]) -> pl.DataFrame:
    """One row per result (the reference first): ``scenario``, ``customer_equity``
    (projected equity with new customers), ``equity_today`` (today's customers),
    ``profit`` (undiscounted, over the horizon), ``customers_end``,
    ``equity_p10``/``equity_p90`` (null without draws) and ``equity_change`` (against the
    first row; currency)."""
    if not results:
        raise ValueError("results must not be empty")
    rows = []
    for name, r in results.items():
        band = r.uncertainty.equity if r.uncertainty is not None else None
        rows.append(
            {
                "scenario": name,
                "customer_equity": r.customer_equity,
                "equity_today": r.equity_today,
                "profit": float(r.totals["profit"].sum()),
                "customers_end": float(r.totals["customers"][-1]),
                "equity_p10": None if band is None else band.p10,
                "equity_p90": None if band is None else band.p90,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "customer_equity": pl.Float64,
            "equity_today": pl.Float64,
            "profit": pl.Float64,
            "customers_end": pl.Float64,
            "equity_p10": pl.Float64,
            "equity_p90": pl.Float64,
        },
    )
    return frame.with_columns(
        (pl.col("customer_equity") - pl.col("customer_equity").first()).alias("equity_change")
    )
