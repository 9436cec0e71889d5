"""The projection core: segments stacked into arrays, projected period by period.

Vectorised over (periods, variants, segments): one call projects a batch of B variants of
the same segments (Monte Carlo draws, lever settings, budget splits). Time-first: per-period
arrays are ``(P, B, S)``, others ``(B, S)``. The timing is documented in
:mod:`crm_core.whatif.engine`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_core.whatif.results import long_frame
from crm_core.whatif.segment import Segment

__all__ = [
    "COLUMNS",
    "Arrays",
    "Flows",
    "period_columns",
    "project",
    "result_frames",
    "stack",
    "to_years",
]

_LN2 = math.log(2.0)
_SCALARS = (
    "customers",
    "margin",
    "revenue",
    "cost_to_serve",
    "first_margin",
    "first_revenue",
    "first_cost_to_serve",
    "acquisition",
    "acquisition_cost",
    "reactivations",
    "spend",
    "extra",
    "cut",
    "half",
)


@dataclass(frozen=True)
class Arrays:
    """Inputs of a batch of projections: B variants x S segments (see :data:`_SCALARS`)."""

    names: tuple[str, ...]
    customers: np.ndarray  # (B, S) active at the start of year 1
    margin: np.ndarray  # (B, S) currency per active customer per year
    revenue: np.ndarray  # (B, S) currency per active customer per year, nan = unknown
    cost_to_serve: np.ndarray  # (B, S)
    first_margin: np.ndarray  # (B, S) margin of a new customer in its first year
    first_revenue: np.ndarray  # (B, S)
    first_cost_to_serve: np.ndarray  # (B, S)
    acquisition: np.ndarray  # (B, S) customers per year
    acquisition_cost: np.ndarray  # (B, S) currency per customer
    reactivations: np.ndarray  # (B, S) lapsed customers back per year
    spend: np.ndarray  # (B, S) today's retention spend per customer per year (cost only)
    extra: np.ndarray  # (B, S) extra retention spend per customer per year
    cut: np.ndarray  # (B, S) share of churn extra spend can remove
    half: np.ndarray  # (B, S) extra spend buying half the gain (inf = none)
    r_new: np.ndarray  # (H, B, S) retention of new cohorts by tenure year (0: first year)
    r_base: np.ndarray  # (H, B, S) retention of today's customers by projection year
    discount: np.ndarray  # (B,)
    fixed_first: np.ndarray  # (S,) True where the first year's survival is given


def _curves(segment: Segment, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Yearly retention by tenure (new cohorts) and by projection year (today's base)."""
    years = np.arange(horizon)
    if segment.retention_curve is None:
        new = np.full(horizon, segment.retention)
    else:
        curve = np.asarray(segment.retention_curve)
        new = curve[np.minimum(years, len(curve) - 1)]
    if segment.base_retention_curve is not None:
        curve = np.asarray(segment.base_retention_curve)
        base = curve[np.minimum(years, len(curve) - 1)]
    elif segment.retention_curve is not None:
        curve = np.asarray(segment.retention_curve)
        base = curve[np.minimum(years + segment.base_tenure_years, len(curve) - 1)]
    else:
        base = new.copy()
    if segment.new_survival is not None:
        new = new.copy()
        new[0] = segment.new_survival
    return new, base


def _row(s: Segment) -> tuple[float, ...]:
    nan = math.nan
    revenue = nan if s.revenue is None else s.revenue
    first_revenue = s.first_year_revenue
    return (
        s.customers,
        s.margin,
        revenue,
        s.cost_to_serve,
        s.first_year_margin,
        nan if first_revenue is None or s.revenue is None else first_revenue,
        s.first_year_cost_to_serve,
        s.acquisition_per_year,
        s.acquisition_cost,
        s.reactivations_per_year,
        s.retention_spend,
        s.extra_retention_spend,
        s.churn_cut,
        s.half_spend,
    )


def stack(variants: Sequence[Sequence[Segment]], horizon: int, discount: Sequence[float]) -> Arrays:
    """Stack B variants of the same segments (same names, same order) into arrays."""
    names = tuple(s.name for s in variants[0])
    scalars = np.array([[_row(s) for s in segs] for segs in variants], dtype=float)  # B,S,K
    curves = np.array([[_curves(s, horizon) for s in segs] for segs in variants])  # B,S,2,H
    r_new = np.ascontiguousarray(np.moveaxis(curves[:, :, 0], -1, 0))
    r_base = np.ascontiguousarray(np.moveaxis(curves[:, :, 1], -1, 0))
    if np.array_equal(r_new, r_base):
        r_base = r_new  # the base follows the new-cohort curve: project computes it once
    fixed = np.array([s.new_survival is not None for s in variants[0]])
    columns = dict(zip(_SCALARS, np.moveaxis(scalars, -1, 0), strict=True))
    return Arrays(
        names=names,
        **columns,
        r_new=r_new,
        r_base=r_base,
        discount=np.asarray(discount, dtype=float),
        fixed_first=fixed,
    )


@dataclass(frozen=True)
class Flows:
    """A projected batch: stocks per period ``(P, B, S)``, values per variant ``(B, S)``."""

    periods_per_year: int
    r_year1: np.ndarray  # year-1 retention of today's customers after extra spend
    start_base: np.ndarray  # today's customers active at each period start
    end_base: np.ndarray  # ... and at each period end
    start_react: np.ndarray  # reactivated customers active at each period start
    end_react: np.ndarray
    start_new: np.ndarray  # acquired customers active at each period start
    end_new: np.ndarray
    first_new: np.ndarray  # acquired customers in their first year, active at period end
    new: np.ndarray  # customers acquired at each period start
    react: np.ndarray  # customers reactivated at each period end
    df_end: np.ndarray  # (P, B, 1) discount factor at each period end
    df_start: np.ndarray  # (P, B, 1) ... and start
    equity_base: np.ndarray
    equity_react: np.ndarray
    equity_new: np.ndarray
    new_customer_value: np.ndarray

    @property
    def equity(self) -> np.ndarray:
        return self.equity_base + self.equity_react + self.equity_new

    @property
    def start(self) -> np.ndarray:
        """Everybody active at each period start (P, B, S)."""
        return self.start_base + self.start_react + self.start_new

    @property
    def end(self) -> np.ndarray:
        """Everybody active at each period end (P, B, S)."""
        return self.end_base + self.end_react + self.end_new


def _accumulate(x: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Running product/sum along axis 0 (a short loop beats ``np.cumprod`` here)."""
    out = np.empty_like(x)
    out[0] = x[0]
    for k in range(1, len(x)):
        op(out[k - 1], x[k], out=out[k])
    return out


def _returning(r_base: np.ndarray, react: np.ndarray) -> np.ndarray:
    """Reactivated customers active at each period end: back at a period end, then
    leaving like the base."""
    out = np.zeros(r_base.shape)
    if not np.any(react):
        return out
    out[0] = react
    for k in range(1, len(r_base)):
        out[k] = out[k - 1] * r_base[k] + react
    return out


def _first_year(cum: np.ndarray, f: int) -> np.ndarray:
    """Per period end: survival summed over the cohorts still in their first year (ages
    0 .. f - 1), ``cum[min(p, f - 1)]``."""
    return cum[np.minimum(np.arange(len(cum)), f - 1)]


def project(a: Arrays, periods_per_year: int = 1) -> Flows:
    """Project a batch of segment variants (timing: :mod:`crm_core.whatif.engine`)."""
    f = periods_per_year
    same = a.r_base is a.r_new
    lift = a.cut * -np.expm1(-_LN2 * a.extra / a.half)
    r_new = a.r_new + lift * (1.0 - a.r_new)
    r_base = r_new if same else a.r_base + lift * (1.0 - a.r_base)
    r_year1 = r_base[0]
    if f > 1:
        r_new = np.repeat(r_new, f, axis=0) ** (1.0 / f)
        r_base = r_new if same else np.repeat(r_base, f, axis=0) ** (1.0 / f)
    surv_new = _accumulate(r_new, np.multiply)  # survival after 1..P periods
    surv_base = surv_new if same else _accumulate(r_base, np.multiply)
    cum_new = _accumulate(surv_new, np.add)
    new = a.acquisition / f
    react = a.reactivations / f
    end_base = a.customers * surv_base
    start_base = np.concatenate(
        [np.broadcast_to(a.customers, end_base.shape[1:])[None], end_base[:-1]]
    )
    end_react = _returning(r_base, react)
    start_react = np.concatenate([np.zeros_like(end_react[:1]), end_react[:-1]])
    end_new = new * cum_new
    start_new = new * (1.0 + cum_new - surv_new)
    first_new = new * _first_year(cum_new, f)
    t_end = np.arange(1, len(r_new) + 1) / f
    log_df = -np.log1p(a.discount)
    df_end = np.exp(np.outer(t_end, log_df))[..., None]
    df_start = np.exp(np.outer(t_end - 1.0 / f, log_df))[..., None]
    margin, extra_first = a.margin / f, (a.first_margin - a.margin) / f
    spend = (a.spend + a.extra) / f
    earn = df_end * margin  # value of one active customer at a period end
    cost = df_start * spend  # cost of one customer active at a period start
    bonus = (df_end[:f] * extra_first * surv_new[:f]).sum(axis=0)  # first-year margin gap
    value_new = (
        (earn * surv_new).sum(axis=0) + bonus - cost[0] - (cost[1:] * surv_new[:-1]).sum(axis=0)
    )
    equity_base = (earn * end_base).sum(axis=0) - (cost * start_base).sum(axis=0)
    equity_react = (earn * end_react).sum(axis=0) - (cost * start_react).sum(axis=0)
    equity_new = (
        (earn * end_new).sum(axis=0)
        + (df_end * extra_first * first_new).sum(axis=0)
        - (cost * start_new).sum(axis=0)
        - new * a.acquisition_cost * df_start.sum(axis=0)
    )
    return Flows(
        periods_per_year=f,
        r_year1=r_year1,
        start_base=start_base,
        end_base=end_base,
        start_react=start_react,
        end_react=end_react,
        start_new=start_new,
        end_new=end_new,
        first_new=first_new,
        new=new,
        react=react,
        df_end=df_end,
        df_start=df_start,
        equity_base=equity_base,
        equity_react=equity_react,
        equity_new=equity_new,
        new_customer_value=value_new - a.acquisition_cost,
    )


COLUMNS = (
    "customers",
    "customers_start",
    "new_customers",
    "reactivated",
    "revenue",
    "costs",
    "service_costs",
    "margin",
    "acquisition_spend",
    "retention_spend",
    "profit",
    "discounted_profit",
)
"""Columns of :attr:`SimulationResult.by_year` after ``year`` and ``segment``."""
_STOCKS = {"customers": -1, "customers_start": 0}  # the period of a year a stock is read at


def period_columns(flows: Flows, a: Arrays, only: Sequence[str] = COLUMNS) -> dict:
    """Period columns of a batch, each (P, B, S) (currency or customers)."""
    f = flows.periods_per_year
    end, start, first = flows.end, flows.start, flows.first_new
    margin = (a.margin / f) * end + ((a.first_margin - a.margin) / f) * first
    spend = ((a.spend + a.extra) / f) * start
    acq = np.broadcast_to(flows.new * a.acquisition_cost, end.shape)
    cols = {"customers": end, "customers_start": start, "margin": margin}
    cols["profit"] = margin - spend - acq
    if "discounted_profit" in only:
        cols["discounted_profit"] = margin * flows.df_end - (spend + acq) * flows.df_start
    if "revenue" in only:
        revenue = (a.revenue / f) * end + ((a.first_revenue - a.revenue) / f) * first
        serve = (a.cost_to_serve / f) * end
        serve = serve + ((a.first_cost_to_serve - a.cost_to_serve) / f) * first
        cols |= {
            "new_customers": np.broadcast_to(flows.new, end.shape),
            "reactivated": np.broadcast_to(flows.react, end.shape),
            "revenue": revenue,
            "costs": revenue - margin,
            "service_costs": serve,
            "acquisition_spend": acq,
            "retention_spend": spend,
        }
    return {k: cols[k] for k in only}


def to_years(columns: dict, periods_per_year: int) -> dict:
    """Aggregate period columns to years: stocks at the year's end/start, flows summed."""
    f = periods_per_year
    if f == 1:
        return columns
    out = {}
    for name, x in columns.items():
        shaped = x.reshape((-1, f, *x.shape[1:]))
        out[name] = shaped[:, _STOCKS[name]] if name in _STOCKS else shaped.sum(axis=1)
    return out


def per_customer(total: np.ndarray, customers: np.ndarray) -> np.ndarray:
    """``total / customers`` where there are customers, NaN elsewhere."""
    return np.divide(total, customers, out=np.full(np.shape(total), np.nan), where=customers > 0)


def result_frames(
    flows: Flows, a: Arrays, horizon: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """Frames of a single-variant batch: by year, totals, by segment, by quarter."""
    f = flows.periods_per_year
    periods = {k: v[:, 0] for k, v in period_columns(flows, a).items()}  # (P, S)
    years = to_years(periods, f)
    by_year = long_frame(years, a.names)
    year_index = pl.Series("year", np.arange(1, horizon + 1), dtype=pl.Int64)
    totals = pl.DataFrame(
        [year_index] + [pl.Series(k, v.sum(axis=1), nan_to_null=True) for k, v in years.items()]
    ).with_columns(pl.col("discounted_profit").cum_sum().alias("cumulative_discounted_profit"))
    by_quarter = None
    if f > 1:
        year_no = np.arange(1, horizon + 1)
        by_quarter = long_frame(
            periods,
            a.names,
            year=np.repeat(year_no, f),
            quarter=np.tile(np.arange(1, f + 1), horizon),
        )
    clv = per_customer(flows.equity_base[0], a.customers[0])
    by_segment = pl.DataFrame(
        [
            pl.Series("segment", list(a.names), dtype=pl.String),
            pl.Series("customers", a.customers[0]),
            pl.Series("retention", flows.r_year1[0]),
            pl.Series("margin", a.margin[0]),
            pl.Series("clv", clv, nan_to_null=True),
            pl.Series("new_customer_value", flows.new_customer_value[0]),
            pl.Series("equity_current", flows.equity_base[0]),
            pl.Series("equity_reactivated", flows.equity_react[0]),
            pl.Series("equity_new", flows.equity_new[0]),
            pl.Series("equity", flows.equity[0]),
        ]
    )
    return by_year, totals, by_segment, by_quarter
