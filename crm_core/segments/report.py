"""Segment profitability from the customer ledger: who earns the profit, who costs it.

:func:`segment_report` is the Segments page's analysis in one call: the customers dealt
with in the profit window (:func:`crm_core.metrics.profit.customer_profit`: a purchase, a
service contact or an acquisition in the window; profit = revenue - direct cost - cost to
serve - acquisition cost), optionally restricted to some regions and acquisition channels,
ranked into ABC tiers (:mod:`~crm_core.segments.tiers`), with the whale curve
(:mod:`~crm_core.segments.whale`), the value matrix (:mod:`~crm_core.segments.matrix`),
cost to serve and sales channels per tier (:mod:`~crm_core.segments.cost_to_serve`) and
the average fitted CLV per tier (the shared valuation, never a separate fit).

With the default controls (twelve months, tier A = the top 10%, acquisition charged in
full, no filter) tier A's share of profit is the registry's ``top_profit_share``, the
Executive overview's headline: the same customers, the same profit, the same top-count
rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import polars as pl

from crm_core.clv.valuation import ClvResult
from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C
from crm_core.metrics.profit import ProfitWindow, customer_profit, profit_window
from crm_core.metrics.registry import TOP_FRACTION
from crm_core.segments.columns import (
    ACQUISITION_COST,
    CID,
    CLV,
    CONTACTS,
    CUSTOMERS,
    DIRECT_COST,
    PROFIT,
    PROFIT_RANK,
    PROFIT_SHARE,
    PURCHASES,
    PURCHASES_PER_YEAR,
    QUADRANT,
    REVENUE,
    SERVICE_COST,
    TIER,
    TOTAL_COST,
    YEARLY_AMOUNT,
)
from crm_core.segments.cost_to_serve import WindowRows, channel_sales, cost_to_serve, window_rows
from crm_core.segments.matrix import (
    QUADRANTS,
    ValueMatrix,
    check_thresholds,
    quadrant_expr,
    quadrant_table,
    thresholds,
    value_columns,
)
from crm_core.segments.selection import FilterOptions, Selection, filter_options
from crm_core.segments.tiers import (
    DEFAULT_CUTOFFS,
    TIERS,
    assign_tiers,
    tier_name,
    tier_table,
    top_share,
    validate_cutoffs,
)
from crm_core.segments.whale import CURVE_POINTS, WhaleStats, thin_curve, whale_curve, whale_stats

__all__ = [
    "CUSTOMER_COLUMNS",
    "DEFAULT_CUTOFFS",
    "QUADRANTS",
    "TIER",
    "TIERS",
    "FilterOptions",
    "SegmentReport",
    "ValueMatrix",
    "WhaleStats",
    "add_costs",
    "assign_tiers",
    "filter_options",
    "segment_report",
    "tier_name",
    "tier_table",
    "top_share",
    "validate_cutoffs",
    "whale_curve",
    "whale_stats",
]

CUSTOMER_COLUMNS = (
    CID,
    C.customer_id,
    TIER,
    PROFIT_RANK,
    C.region,
    C.acquisition_channel,
    C.acquired_on,
    PURCHASES,
    CONTACTS,
    REVENUE,
    DIRECT_COST,
    SERVICE_COST,
    ACQUISITION_COST,
    TOTAL_COST,
    PROFIT,
    PURCHASES_PER_YEAR,
    YEARLY_AMOUNT,
    QUADRANT,
    CLV,
)
"""Columns of :attr:`SegmentReport.customers`, in order."""


@dataclass(frozen=True)
class SegmentReport:
    """Everything the Segments page shows about tiers (see :func:`segment_report`).

    Attributes
    ----------
    window
        Profit window (inclusive dates).
    currency
        ISO code of every amount.
    cutoffs
        Shares of customers in tiers A, B, C.
    amortise_years
        ``None`` (acquisition cost charged in the window of acquisition) or the years over
        which it is spread.
    regions, channels
        Filters applied (empty = all).
    customers
        One row per customer, best first, columns :data:`CUSTOMER_COLUMNS` (``clv`` null
        without a valuation or for customers the model does not value).
    tiers
        The A/B/C table (:func:`~crm_core.segments.tiers.tier_table`).
    whale
        The whale curve thinned to about ``CURVE_POINTS`` points, keeping the origin, the
        end, the peak and the tier boundaries (:mod:`~crm_core.segments.whale`).
    whale_stats
        Its peak and loss tail.
    value_matrix
        Frequency against yearly amount.
    cost_to_serve, channel_sales
        Per tier and touchpoint / sales channel (:mod:`~crm_core.segments.cost_to_serve`);
        ``None`` when the report was made without them (:func:`add_costs` fills them).
    clv_method
        How the CLV was computed (e.g. ``"BG/NBD + Gamma-Gamma (3-year horizon)"``), or
        ``None`` without a valuation.
    active_dealt_with
        How many of the customers are active at the as-of date (the registry's activity
        rule, :mod:`crm_core.data.rules`).
    """

    window: ProfitWindow
    currency: str
    cutoffs: tuple[float, float, float]
    amortise_years: float | None
    regions: tuple[str, ...]
    channels: tuple[str, ...]
    customers: pl.DataFrame
    tiers: pl.DataFrame
    whale: pl.DataFrame
    whale_stats: WhaleStats
    value_matrix: ValueMatrix
    cost_to_serve: pl.DataFrame | None
    channel_sales: pl.DataFrame | None
    clv_method: str | None = None
    active_dealt_with: int | None = None

    @property
    def has_clv(self) -> bool:
        """Whether a valuation was supplied (``tiers.avg_clv`` is filled)."""
        return self.clv_method is not None

    @property
    def is_empty(self) -> bool:
        """No customer was dealt with in the window (after filters)."""
        return self.customers.height == 0

    @property
    def total_profit(self) -> float:
        """Total profit of the customers (currency)."""
        return self.whale_stats.total_profit

    @property
    def top_profit_share(self) -> float | None:
        """Tier A's share of profit (``top_share(customers.profit, cutoffs[0])``)."""
        value = self.tiers.filter(pl.col(TIER) == "A")[PROFIT_SHARE][0]
        return None if value is None else float(value)

    @property
    def months(self) -> int:
        """Length of the profit window in months."""
        return self.window.months

    @property
    def is_overview_default(self) -> bool:
        """Whether tier A is the Executive overview's headline group: twelve months, the
        top 10%, acquisition charged in full, no filter."""
        return (
            self.window.months == 12
            and abs(self.cutoffs[0] - TOP_FRACTION) < 1e-9
            and self.amortise_years is None
            and not self.regions
            and not self.channels
        )

    def tier_customers(self, tier: str | None = None) -> pl.DataFrame:
        """Customers of ``tier`` (``None``: all), best first."""
        if tier is None:
            return self.customers
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}, got {tier!r}")
        return self.customers.filter(pl.col(TIER) == tier)


def _clv_frame(clv: ClvResult | pl.DataFrame | None) -> tuple[pl.LazyFrame | None, str | None]:
    """``cid, clv`` of a valuation (or of a frame with ``cid`` or ``customer_id`` and
    ``clv``), and the method's name."""
    if clv is None:
        return None, None
    if isinstance(clv, ClvResult):
        return clv.table.lazy().select(CID, pl.col(CLV).cast(pl.Float64)), clv.method
    names = clv.columns
    key = CID if CID in names else C.customer_id
    if key not in names or CLV not in names:
        raise ValueError("clv must have the columns cid (or customer_id) and clv")
    frame = clv.lazy().select(key, pl.col(CLV).cast(pl.Float64)).unique(key, keep="first")
    return frame, "CLV supplied by the caller"


def _thresholds(
    ranked: pl.DataFrame, chosen: tuple[float, float] | None
) -> tuple[float | None, float | None]:
    """The value matrix's thresholds: the chosen ones, or the medians (``None`` if empty)."""
    if ranked.height == 0:
        return None, None
    if chosen is not None:
        return chosen
    f_med, a_med = thresholds(None)
    return ranked.select(f_med.cast(pl.Float64), a_med.cast(pl.Float64)).row(0)


def segment_report(
    ledger: Ledger,
    *,
    months: int = 12,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    amortise_years: float | None = None,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    clv: ClvResult | pl.DataFrame | None = None,
    value_thresholds: Sequence[float] | None = None,
    profits: pl.DataFrame | None = None,
    rows: WindowRows | None = None,
    costs: bool = True,
    curve_points: int = CURVE_POINTS,
) -> SegmentReport:
    """Segment profitability of the ledger's customers: tiers, whale curve, value matrix,
    cost to serve.

    Parameters
    ----------
    ledger
        The customer ledger (its as-of date ends the window).
    months
        Profit window in months, a multiple of the ledger's period; default twelve.
    cutoffs
        Shares of customers in tiers A, B, C (fractions summing to 1); default 10/20/70%.
    amortise_years
        ``None`` charges acquisition cost in full in the window of acquisition; a number
        of years spreads it evenly (:mod:`crm_core.metrics.profit`).
    regions, channels
        Keep only customers of these regions / acquisition channels (``None`` or empty:
        all). Tiers, medians and shares are computed within the selection.
    clv
        The shared valuation (:class:`~crm_core.clv.valuation.ClvResult`) to average per
        tier; customers it does not value count as 0.
    value_thresholds
        ``(purchases a year, spend a year)`` splitting the value matrix; default the
        medians of the selected customers.
    profits, rows
        ``customer_profit(ledger, months, amortise_years=...)`` collected, and
        :func:`~crm_core.segments.cost_to_serve.window_rows` of the window, when the caller
        keeps them already (they do not depend on tiers or filters).
    costs
        Compute the cost-to-serve and sales-channel tables (``False`` leaves them ``None``
        for :func:`add_costs` to fill when needed: they read the snapshot's raw rows).
    curve_points
        About how many points of the whale curve to keep.

    Returns
    -------
    SegmentReport
        With no customer in the window every frame is empty (the tier and quadrant tables
        keep their rows, with zero customers) and every share is null; when total profit is
        not positive, shares of profit are null and the whale curve is read in currency.

    Raises
    ------
    ValueError
        For bad months, cut-offs, amortisation years, filters, thresholds or CLV frame.
    """
    cuts = validate_cutoffs(cutoffs)
    window = profit_window(ledger, months)
    selection = Selection.of(regions, channels)
    chosen = check_thresholds(value_thresholds)
    clv_lf, method = _clv_frame(clv)

    base = (
        profits.lazy()
        if profits is not None
        else customer_profit(ledger, months, amortise_years=amortise_years)
    )
    if not selection.everyone:
        base = base.filter(selection.expr())
    base = base.with_columns(value_columns(window))
    if clv_lf is not None:
        key = CID if CID in clv_lf.collect_schema().names() else C.customer_id
        base = base.join(clv_lf, on=key, how="left")
    else:
        base = base.with_columns(pl.lit(None, pl.Float64).alias(CLV))
    ranked_frame = assign_tiers(base, cuts, key=CID).collect()
    f_val, a_val = _thresholds(ranked_frame, chosen)
    customers = ranked_frame.with_columns(
        quadrant_expr(pl.lit(f_val), pl.lit(a_val)).alias(QUADRANT)
    ).select(CUSTOMER_COLUMNS)

    stats = whale_stats(customers[PROFIT])
    ranked = customers.lazy()
    tiers = tier_table(ranked, clv=CLV if clv_lf is not None else None)
    a_count = int((customers[TIER] == "A").sum())
    ab_count = a_count + int((customers[TIER] == "B").sum())
    keep = (a_count, ab_count, stats.profitable_customers)
    keep += (stats.profitable_customers + stats.breakeven_customers,)
    active_now = ledger.at(0).filter(pl.col(L.active)).select(CID)
    tier_frame, curve, matrix, active = pl.collect_all(
        [
            tiers,
            thin_curve(whale_curve(ranked), customers.height, keep, curve_points),
            quadrant_table(ranked),
            ranked.join(active_now, on=CID, how="semi").select(pl.len()),
        ]
    )
    report = SegmentReport(
        window=window,
        currency=ledger.currency,
        cutoffs=cuts,
        amortise_years=amortise_years,
        regions=selection.regions,
        channels=selection.channels,
        customers=customers,
        tiers=tier_frame,
        whale=curve,
        whale_stats=stats,
        value_matrix=ValueMatrix(
            table=matrix,
            frequency_threshold=f_val,
            amount_threshold=a_val,
            at_medians=chosen is None,
        ),
        cost_to_serve=None,
        channel_sales=None,
        clv_method=method,
        active_dealt_with=int(active.item()),
    )
    if not costs:
        return report
    return add_costs(report, rows if rows is not None else window_rows(ledger, months))


def add_costs(report: SegmentReport, rows: WindowRows) -> SegmentReport:
    """``report`` with its cost-to-serve and sales-channel tables, from ``rows`` (the
    :func:`~crm_core.segments.cost_to_serve.window_rows` of the report's ledger and
    window)."""
    tier_of = rows.tier_of(report.customers.select(CID, TIER))
    sizes = report.tiers.lazy().select(TIER, CUSTOMERS)
    cost, channel = pl.collect_all(
        [
            cost_to_serve(rows.touchpoints, tier_of, sizes),
            channel_sales(rows.channels, tier_of, sizes),
        ]
    )
    return replace(report, cost_to_serve=cost, channel_sales=channel)
