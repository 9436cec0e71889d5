"""Results of a projection: :class:`SimulationResult`, Monte Carlo :class:`Uncertainty`
bands (:class:`Band`), and :class:`RetentionUplift` (what +5 points of retention is worth)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "QUANTILES",
    "Band",
    "RetentionUplift",
    "SimulationResult",
    "Uncertainty",
    "long_frame",
]

QUANTILES = (0.1, 0.5, 0.9)
"""The quantiles of the Monte Carlo bands: P10, P50, P90."""


def long_frame(columns: dict, names: Sequence[str], **time: np.ndarray) -> pl.DataFrame:
    """(T, S) arrays -> rows ordered by time, then segment; ``time`` gives T-long keys."""
    n_seg = len(names)
    n_time = next(iter(columns.values())).shape[0]
    time = time or {"year": np.arange(1, n_time + 1)}
    data: dict[str, Any] = {
        k: pl.Series(k, np.repeat(v, n_seg), dtype=pl.Int64) for k, v in time.items()
    }
    data["segment"] = pl.Series("segment", list(names) * n_time, dtype=pl.String)
    for name, x in columns.items():
        data[name] = pl.Series(name, np.ravel(x), nan_to_null=True)
    return pl.DataFrame(data)


@dataclass(frozen=True)
class Band:
    """P10, P50 and P90 of a Monte Carlo output (same unit as the output)."""

    p10: float
    p50: float
    p90: float

    def contains(self, value: float) -> bool:
        """True when ``value`` lies within [P10, P90]."""
        return self.p10 <= value <= self.p90


@dataclass(frozen=True, eq=False)
class Uncertainty:
    """Monte Carlo bands of a projection (P10/P50/P90 over ``draws`` draws).

    Attributes
    ----------
    draws
        Number of draws.
    equity
        Band of total projected equity (currency).
    equity_draws
        Total projected equity of every draw (currency), shape ``(draws,)``.
    totals
        Columns ``year, metric, p10, p50, p90`` for all segments together; metrics
        ``customers`` (active at year end), ``profit`` and ``discounted_profit``
        (currency), ordered by metric then year.
    by_segment
        Columns ``segment, metric, p10, p50, p90``; metrics ``equity``, ``clv`` and
        ``new_customer_value`` (as in :attr:`SimulationResult.by_segment`).
    segment_names
        Segment names in input order.
    year_draws
        Metric -> array ``(years, draws, segments)`` of every draw, the source of
        :attr:`by_year`.
    """

    draws: int
    equity: Band
    equity_draws: np.ndarray = field(repr=False)
    totals: pl.DataFrame = field(repr=False)
    by_segment: pl.DataFrame = field(repr=False)
    segment_names: tuple[str, ...] = field(repr=False)
    year_draws: Mapping[str, np.ndarray] = field(repr=False)

    @cached_property
    def by_year(self) -> pl.DataFrame:
        """Columns ``year, segment, metric, p10, p50, p90`` per segment (computed on use)."""
        frames = []
        for metric, x in self.year_draws.items():
            q = np.quantile(x, QUANTILES, axis=1)  # (3, H, S)
            frame = long_frame({"p10": q[0], "p50": q[1], "p90": q[2]}, self.segment_names)
            frames.append(frame.insert_column(2, pl.lit(metric).alias("metric")))
        return pl.concat(frames)


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Deterministic projection (plus Monte Carlo bands when asked).

    Attributes
    ----------
    customer_equity
        Projected equity: discounted profit of today's customers, of the lapsed ones
        expected back, and of every customer acquired in the horizon, net of acquisition
        and retention spend (currency). (The name is the engine's; the page calls it
        "projected equity with new customers" to tell it from the fitted-model customer
        equity of :mod:`crm_core.metrics`.)
    by_year
        One row per (year, segment), years ascending, segments in input order. Columns:
        ``year`` (1..H), ``segment``, ``customers`` (active at year end, earning that
        year's margin), ``customers_start`` (active at year start, including the customers
        acquired then; quarterly: at the first quarter's start), ``new_customers``,
        ``reactivated`` (lapsed customers back in the year), ``revenue`` and ``costs``
        (direct cost plus cost to serve; null when the segment's revenue is unknown),
        ``service_costs``, ``margin`` (contribution), ``acquisition_spend``,
        ``retention_spend``, ``profit`` (margin minus both spends), ``discounted_profit``
        (currency; flows of the year).
    totals
        One row per year summed over segments, same columns without ``segment`` plus
        ``cumulative_discounted_profit``.
    by_segment
        One row per segment: ``segment``, ``customers`` (today), ``retention`` (year-1
        retention of current customers after extra spend), ``margin``, ``clv`` (discounted
        profit per current customer over the horizon), ``new_customer_value`` (value of
        one customer acquired at the start of year 1, net of its acquisition cost),
        ``equity_current`` (from today's active customers), ``equity_reactivated`` (from
        lapsed customers coming back), ``equity_new`` (from acquisitions, net of their
        cost) and ``equity``.
    by_quarter
        With ``periods_per_year=4``: ``year, quarter, segment`` and the ``by_year`` columns
        per quarter; otherwise ``None``.
    uncertainty
        Monte Carlo bands when ``draws > 0``; otherwise ``None``.
    """

    customer_equity: float
    by_year: pl.DataFrame = field(repr=False)
    totals: pl.DataFrame = field(repr=False)
    by_segment: pl.DataFrame = field(repr=False)
    horizon_years: int
    discount_rate: float
    periods_per_year: int
    by_quarter: pl.DataFrame | None = field(default=None, repr=False)
    uncertainty: Uncertainty | None = field(default=None, repr=False)

    @property
    def segments(self) -> list[str]:
        """Segment names in input order."""
        return self.by_segment["segment"].to_list()

    @property
    def equity_today(self) -> float:
        """Projected value of today's customers: active ones and the lapsed ones expected
        back (currency)."""
        frame = self.by_segment
        return float(frame["equity_current"].sum() + frame["equity_reactivated"].sum())

    def segment_equity(self) -> dict[str, float]:
        """Projected equity per segment (currency)."""
        return dict(zip(self.segments, self.by_segment["equity"].to_list(), strict=True))


@dataclass(frozen=True)
class RetentionUplift:
    """What keeping ``points`` more customers in every 100 each year is worth.

    Attributes
    ----------
    points
        Retention change in percentage points, in every segment.
    equity_before, equity_after
        Projected equity without and with the change (currency).
    """

    points: float
    equity_before: float
    equity_after: float

    @property
    def change(self) -> float:
        """Equity gained (currency)."""
        return self.equity_after - self.equity_before

    @property
    def change_share(self) -> float | None:
        """Equity gained as a fraction of the equity before (None when that is <= 0)."""
        if self.equity_before <= 0:
            return None
        return self.change / self.equity_before
