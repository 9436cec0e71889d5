"""Segment profitability: ABC tiers, the whale curve, the value matrix and cost to serve.

The domain brief's first table (section 1) splits customers into tiers by profit: in the
seeds' leisure company tier A (the best 10% of customers) earns 75% of net profit, tier B
(the next 20%) 20%, and tier C (the remaining 70%) 5% while causing half of all costs. This
module builds that table from a snapshot, the *whale curve* behind it (cumulative share of
profit against customers ranked by profit; Kaplan & Narayanan, "Measuring and Managing
Customer Profitability", Journal of Cost Management 2001), the activity *value matrix*
(purchase frequency against yearly amount, brief section 6) and the cost to serve by
touchpoint and sales channel per tier (brief section 7).

Definitions (all amounts in the snapshot's currency, over one profit window):

* **Customers** are those of :func:`crm_core.profit.customer_profit_lazy`: everyone with a
  purchase or a service contact in the window, or acquired in it, optionally restricted to
  some regions and acquisition channels. Tiers are ranked *within* that selection.
* **Ranking**: profit, highest first; equal profits are ordered by ``customer_id``
  (ascending), so a tie at a tier boundary is broken the same way on every run.
* **Tier sizes**: with ``n`` customers and cut-offs ``(a, b, c)`` (fractions summing to 1),
  tier A holds the best ``round(a * n)`` customers and tiers A and B together the best
  ``round((a + b) * n)``; rounding is to the nearest whole customer with halves rounded up,
  and tier A holds at least one customer whenever there is one. Tier C holds the rest.
  :func:`top_share` uses the same count, so "the top 10% earn X% of profit" always matches
  tier A's share in the tier table.
* **Share of profit** is a tier's (or a top group's) profit divided by the total profit of
  all customers. It is only defined when the total is positive; when customers lost money in
  total, shares of profit are ``None``/null, and the whale curve is read in currency
  (``cumulative_profit``) instead.
* **Whale curve peak**: cumulative profit is highest after the last profitable customer;
  the peak share (e.g. 1.07 = 107%) is what profitable customers earn, and the *loss tail*
  (customers with negative profit) gives back ``peak share - 1`` of total profit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
from crm_core.segments.profit import (
    ACQUISITION_COST,
    CONTACTS,
    DIRECT_COST,
    PROFIT,
    REVENUE,
    SERVICE_COST,
    TOTAL_COST,
    TRANSACTIONS,
    ProfitWindow,
    channel_sales_lazy,
    customer_profit_lazy,
    touchpoint_costs_lazy,
)

__all__ = [
    "COLUMN_LABELS",
    "CUSTOMER_COLUMNS",
    "DEFAULT_CUTOFFS",
    "PROFIT_RANK",
    "QUADRANTS",
    "TIER",
    "TIERS",
    "VALUE_LABELS",
    "FilterOptions",
    "Quadrant",
    "SegmentReport",
    "ValueMatrix",
    "WhaleStats",
    "assign_tiers",
    "filter_customers",
    "humanise",
    "segment_filter_options",
    "segment_report",
    "tier_name",
    "tier_table",
    "top_count_expr",
    "top_share",
    "validate_cutoffs",
    "whale_curve",
    "whale_stats",
]

TIERS: tuple[str, str, str] = ("A", "B", "C")
TIER_DTYPE = pl.Enum(TIERS)
DEFAULT_CUTOFFS: tuple[float, float, float] = (0.10, 0.20, 0.70)

# Derived column names (declared once, here).
PROFIT_RANK = "profit_rank"
TIER = "tier"
CLV = "clv"
CUSTOMERS = "customers"
CUSTOMER_SHARE = "customer_share"
REVENUE_SHARE = "revenue_share"
COST_SHARE = "cost_share"
PROFIT_SHARE = "profit_share"
PROFIT_PER_CUSTOMER = "profit_per_customer"
REVENUE_PER_CUSTOMER = "revenue_per_customer"
COST_PER_CUSTOMER = "cost_per_customer"
SERVICE_COST_PER_CUSTOMER = "service_cost_per_customer"
MIN_PROFIT = "min_profit"
MAX_PROFIT = "max_profit"
AVG_CLV = "avg_clv"
CUMULATIVE_PROFIT = "cumulative_profit"
PURCHASES_PER_YEAR = "purchases_per_year"
YEARLY_AMOUNT = "yearly_amount"
QUADRANT = "quadrant"
FREQUENT = "frequent"
HIGH_SPEND = "high_spend"
ACTION = "action"
CONTACTS_PER_CUSTOMER = "contacts_per_customer"
COST_PER_CONTACT = "cost_per_contact"
SHARE_OF_TIER_COST = "share_of_tier_cost"
SHARE_OF_TOUCHPOINT_COST = "share_of_touchpoint_cost"
SHARE_OF_TIER_TRANSACTIONS = "share_of_tier_transactions"
GROSS_PROFIT = "gross_profit"

# Words for every column a user may see (charts, tables, CSV downloads).
COLUMN_LABELS: dict[str, str] = {
    C.customer_id: "Customer",
    C.region: "Region",
    C.acquisition_channel: "Acquisition channel",
    C.acquired_on: "Acquired on",
    C.touchpoint: "Touchpoint",
    C.channel: "Sales channel",
    TIER: "Tier",
    PROFIT_RANK: "Profit rank",
    TRANSACTIONS: "Purchases",
    REVENUE: "Revenue",
    DIRECT_COST: "Direct cost",
    SERVICE_COST: "Cost to serve",
    ACQUISITION_COST: "Acquisition cost",
    TOTAL_COST: "Total costs",
    PROFIT: "Net profit",
    CLV: "CLV",
    PURCHASES_PER_YEAR: "Purchases a year",
    YEARLY_AMOUNT: "Spend a year",
    QUADRANT: "Value quadrant",
    CUSTOMERS: "Customers",
    CUSTOMER_SHARE: "Share of customers",
    REVENUE_SHARE: "Share of revenue",
    COST_SHARE: "Share of total costs",
    PROFIT_SHARE: "Share of net profit",
    PROFIT_PER_CUSTOMER: "Net profit per customer",
    REVENUE_PER_CUSTOMER: "Revenue per customer",
    COST_PER_CUSTOMER: "Costs per customer",
    SERVICE_COST_PER_CUSTOMER: "Cost to serve per customer",
    MIN_PROFIT: "Lowest profit",
    MAX_PROFIT: "Highest profit",
    AVG_CLV: "Average CLV",
    CONTACTS: "Contacts",
    C.cost: "Cost",
    CONTACTS_PER_CUSTOMER: "Contacts per customer",
    COST_PER_CONTACT: "Cost per contact",
    SHARE_OF_TIER_COST: "Share of the tier's cost to serve",
    SHARE_OF_TOUCHPOINT_COST: "Share of the touchpoint's cost",
    SHARE_OF_TIER_TRANSACTIONS: "Share of the tier's purchases",
    GROSS_PROFIT: "Gross profit",
    ACTION: "Recommended action",
}

# Words for the codes found in ``service_costs.touchpoint`` and ``transactions.channel``.
VALUE_LABELS: dict[str, str] = {
    "call_center": "Call centre",
    "call_centre": "Call centre",
    "field": "Field visits",
    "outlet": "Outlet",
    "web": "Web",
    "mail": "Mail",
    "app": "App",
    "store": "Store",
    "phone": "Phone",
    "email": "Email",
    "chat": "Chat",
}


def humanise(value: str) -> str:
    """A code as words: ``"call_center" -> "Call centre"``, ``"self_service" -> "Self service"``."""
    if value in VALUE_LABELS:
        return VALUE_LABELS[value]
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def tier_name(tier: str, cutoffs: Sequence[float]) -> str:
    """Tier with its definition: ``"A: top 10%"``, ``"B: next 20%"``, ``"C: other 70%"``."""
    a, b, c = validate_cutoffs(cutoffs)
    text = {"A": f"top {a:.0%}", "B": f"next {b:.0%}", "C": f"other {c:.0%}"}
    return f"{tier}: {text[tier]}"


_ROUND_DIGITS = 6  # shares times counts are rounded first, so 0.1 + 0.2 of 10 is exactly 3


# ----------------------------------------------------------------------------- tiers


def validate_cutoffs(cutoffs: Sequence[float]) -> tuple[float, float, float]:
    """Check tier cut-offs: three fractions (A, B, C), A positive, all >= 0, summing to 1.

    Raises
    ------
    ValueError
        With the offending values.
    """
    values = tuple(cutoffs)
    if len(values) != len(TIERS):
        raise ValueError(f"cutoffs must give three shares (A, B, C), got {values!r}")
    if any(
        isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
        for v in values
    ):
        raise ValueError(f"cutoffs must be finite numbers, got {values!r}")
    a, b, c = (float(v) for v in values)
    if a <= 0 or b < 0 or c < 0:
        raise ValueError(f"cutoffs must be >= 0 with a positive tier A share, got {values!r}")
    if abs(a + b + c - 1.0) > 1e-6:
        raise ValueError(f"cutoffs must sum to 1 (100% of customers), got {a + b + c:.6g}")
    return a, b, c


def _validate_share(share: float) -> float:
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ValueError(f"share must be a fraction in (0, 1], got {share!r}")
    return float(share)


def top_count_expr(share: float) -> pl.Expr:
    """Number of customers making up the top ``share`` of the frame's rows (``pl.len()``).

    ``round(share * n)`` to the nearest whole customer (halves up), at least 1 when the
    frame has rows, 0 when it is empty. The single rule behind tier sizes and
    :func:`top_share`.
    """
    n = pl.len().cast(pl.Int64)
    k = ((n.cast(pl.Float64) * share).round(_ROUND_DIGITS) + 0.5).floor().cast(pl.Int64)
    return pl.when(n > 0).then(pl.max_horizontal(k, pl.lit(1, pl.Int64))).otherwise(0)


def assign_tiers(
    profits: pl.LazyFrame,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    *,
    profit: str = PROFIT,
    key: str = C.customer_id,
) -> pl.LazyFrame:
    """Rank customers by profit and give each a tier (A, B, C).

    Parameters
    ----------
    profits
        One row per customer with at least ``key`` and ``profit`` (e.g.
        :func:`crm_core.profit.customer_profit_lazy`). Extra columns are kept.
    cutoffs
        Shares of customers in tiers A, B and C (fractions summing to 1); default 10/20/70%.
    profit, key
        Names of the profit (currency) and customer-id columns.

    Returns
    -------
    pl.LazyFrame
        The input sorted by profit (highest first, then ``key`` ascending) with
        ``profit_rank`` (1 = most profitable, Int64) and ``tier`` (Enum A < B < C). Tier A
        holds the best ``round(a * n)`` customers (at least one), A and B together the best
        ``round((a + b) * n)``, C the rest (see the module docstring).
    """
    a, b, _ = validate_cutoffs(cutoffs)
    rank = pl.col(PROFIT_RANK)
    tier = (
        pl.when(rank <= top_count_expr(a))
        .then(pl.lit("A"))
        .when(rank <= top_count_expr(min(a + b, 1.0)))
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
        .cast(TIER_DTYPE)
    )
    return (
        profits.sort([profit, key], descending=[True, False], nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(PROFIT_RANK))
        .with_columns(tier.alias(TIER))
    )


def top_share(profits: pl.Series | Iterable[float], share: float = 0.10) -> float | None:
    """Share of total profit earned by the most profitable ``share`` of customers.

    The Executive Overview's headline ("the top 10% of customers earn X% of profit") and
    tier A's ``profit_share`` in :func:`segment_report` both come from this rule, so they
    always agree for the same customers and window.

    Parameters
    ----------
    profits
        Profit per customer (currency), one value per customer, in any order.
    share
        Fraction of customers at the top, in (0, 1]; 0.10 for the top 10%.

    Returns
    -------
    float | None
        Profit of the best ``round(share * n)`` customers (at least one) over the total
        profit, as a fraction (0.78 = 78%; it can exceed 1 when others lose money).
        ``None`` when there are no customers or total profit is not positive.
    """
    s = _validate_share(share)
    series = profits if isinstance(profits, pl.Series) else pl.Series(list(profits))
    frame = series.cast(pl.Float64).rename(PROFIT).to_frame()
    top, total = (
        frame.lazy()
        .select(
            pl.col(PROFIT)
            .sort(descending=True)
            .filter(pl.int_range(1, pl.len() + 1) <= top_count_expr(s))
            .sum()
            .alias("top"),
            pl.col(PROFIT).sum().alias("total"),
        )
        .collect()
        .row(0)
    )
    if frame.height == 0 or total <= 0:
        return None
    return top / total


def share_of_total(column: str, *, positive_total: bool) -> pl.Expr:
    """``column`` over its column total; null when the total is not positive (or is 0)."""
    total = pl.col(column).sum()
    ok = total > 0 if positive_total else total != 0
    return pl.when(ok).then(pl.col(column) / total).otherwise(None)


def per_customer(column: str) -> pl.Expr:
    """``column`` divided by the ``customers`` column; null for groups without customers."""
    return pl.when(pl.col(CUSTOMERS) > 0).then(pl.col(column) / pl.col(CUSTOMERS))


def tier_table(ranked: pl.LazyFrame, *, clv: str | None = None) -> pl.LazyFrame:
    """The seeds' A/B/C table from customers with a ``tier`` (see :func:`assign_tiers`).

    Parameters
    ----------
    ranked
        Per-customer frame with ``tier`` and the columns of
        :func:`crm_core.profit.customer_profit_lazy`.
    clv
        Name of a per-customer CLV column to average per tier, if any.

    Returns
    -------
    pl.LazyFrame
        Always three rows (A, B, C; empty tiers have 0 customers): ``tier, customers,
        customer_share, revenue, revenue_share, direct_cost, service_cost,
        acquisition_cost_charged, total_cost, cost_share, profit, profit_share,
        profit_per_customer, revenue_per_customer, cost_per_customer,
        service_cost_per_customer, min_profit, max_profit, avg_clv``. Shares are fractions
        of the column's total over all tiers: ``profit_share`` and ``revenue_share`` are
        null when that total is not positive, ``cost_share`` when total costs are 0, and
        ``customer_share`` when there are no customers. ``avg_clv`` is null without CLV.
    """
    sums = (REVENUE, DIRECT_COST, SERVICE_COST, ACQUISITION_COST, TOTAL_COST, PROFIT)
    avg_clv = pl.col(clv).mean() if clv is not None else pl.lit(None, pl.Float64)
    agg = ranked.group_by(TIER).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        *(pl.col(c).sum() for c in sums),
        pl.col(PROFIT).min().alias(MIN_PROFIT),
        pl.col(PROFIT).max().alias(MAX_PROFIT),
        avg_clv.cast(pl.Float64).alias(AVG_CLV),
    )
    all_tiers = pl.LazyFrame({TIER: list(TIERS)}, schema={TIER: TIER_DTYPE})
    return (
        all_tiers.join(agg, on=TIER, how="left")
        .with_columns(
            pl.col(CUSTOMERS).fill_null(0),
            *(pl.col(c).fill_null(0.0) for c in sums),
        )
        .with_columns(
            share_of_total(CUSTOMERS, positive_total=True).alias(CUSTOMER_SHARE),
            share_of_total(REVENUE, positive_total=True).alias(REVENUE_SHARE),
            share_of_total(TOTAL_COST, positive_total=False).alias(COST_SHARE),
            share_of_total(PROFIT, positive_total=True).alias(PROFIT_SHARE),
            per_customer(PROFIT).alias(PROFIT_PER_CUSTOMER),
            per_customer(REVENUE).alias(REVENUE_PER_CUSTOMER),
            per_customer(TOTAL_COST).alias(COST_PER_CUSTOMER),
            per_customer(SERVICE_COST).alias(SERVICE_COST_PER_CUSTOMER),
        )
        .select(
            TIER,
            CUSTOMERS,
            CUSTOMER_SHARE,
            REVENUE,
            REVENUE_SHARE,
            DIRECT_COST,
            SERVICE_COST,
            ACQUISITION_COST,
            TOTAL_COST,
            COST_SHARE,
            PROFIT,
            PROFIT_SHARE,
            PROFIT_PER_CUSTOMER,
            REVENUE_PER_CUSTOMER,
            COST_PER_CUSTOMER,
            SERVICE_COST_PER_CUSTOMER,
            MIN_PROFIT,
            MAX_PROFIT,
            AVG_CLV,
        )
        .sort(TIER)
    )


# ----------------------------------------------------------------------------- whale curve


@dataclass(frozen=True)
class WhaleStats:
    """Key points of the whale curve (amounts in currency, shares as fractions).

    Attributes
    ----------
    customers
        Customers on the curve.
    total_profit
        Their total profit (where the curve ends).
    profitable_customers, breakeven_customers, unprofitable_customers
        Customers with profit > 0, = 0 and < 0.
    peak_profit
        Highest cumulative profit: the sum of all positive profits (0 if none).
    loss_tail_profit
        Sum of the negative profits (<= 0): what the loss tail gives back.
    peak_share
        ``peak_profit / total_profit`` (1.07 = the curve peaks at 107% of profit);
        ``None`` when total profit is not positive.
    given_back_share
        ``-loss_tail_profit / total_profit`` (0.07 = the loss tail gives back 7% of total
        profit; ``peak_share - given_back_share == 1``); ``None`` when total profit is not
        positive.
    """

    customers: int
    total_profit: float
    profitable_customers: int
    breakeven_customers: int
    unprofitable_customers: int
    peak_profit: float
    loss_tail_profit: float
    peak_share: float | None
    given_back_share: float | None

    @property
    def meaningful(self) -> bool:
        """Whether shares of profit are defined (customers earned a positive total)."""
        return self.customers > 0 and self.total_profit > 0

    @property
    def peak_customer_share(self) -> float | None:
        """Share of customers up to the peak (the profitable ones); ``None`` if empty."""
        return self.profitable_customers / self.customers if self.customers else None

    @property
    def loss_tail_customer_share(self) -> float | None:
        """Share of customers in the loss tail (profit < 0); ``None`` if empty."""
        return self.unprofitable_customers / self.customers if self.customers else None


def whale_curve(ranked: pl.LazyFrame) -> pl.LazyFrame:
    """Cumulative profit against customers ranked by profit (highest first).

    Parameters
    ----------
    ranked
        Output of :func:`assign_tiers` (sorted, with ``profit_rank`` and ``tier``).

    Returns
    -------
    pl.LazyFrame
        One row per customer plus a leading origin row (rank 0): ``profit_rank,
        customer_id, tier, profit, cumulative_profit, customer_share, profit_share``.
        ``customer_share`` = rank / n; ``profit_share`` = cumulative profit / total profit
        (ends at exactly 1), null when total profit is not positive (then read
        ``cumulative_profit``, in currency).
    """
    total = pl.col(PROFIT).sum()
    body = ranked.select(
        PROFIT_RANK,
        C.customer_id,
        TIER,
        PROFIT,
    )
    origin = pl.LazyFrame(
        {PROFIT_RANK: [0], C.customer_id: [None], TIER: [None], PROFIT: [0.0]},
        schema={
            PROFIT_RANK: pl.Int64,
            C.customer_id: pl.String,
            TIER: TIER_DTYPE,
            PROFIT: pl.Float64,
        },
    )
    n = pl.len() - 1  # customers, without the origin row
    return (
        pl.concat([origin, body])
        .with_columns(pl.col(PROFIT).cum_sum().alias(CUMULATIVE_PROFIT))
        .with_columns(
            pl.when(n > 0)
            .then(pl.col(PROFIT_RANK) / n)
            .otherwise(0.0)
            .cast(pl.Float64)
            .alias(CUSTOMER_SHARE),
            pl.when(total > 0)
            .then(
                # the last row is exactly 1 (no rounding drift in the cumulative sum)
                pl.when(pl.col(PROFIT_RANK) == n)
                .then(1.0)
                .otherwise(pl.col(CUMULATIVE_PROFIT) / total)
            )
            .otherwise(None)
            .alias(PROFIT_SHARE),
        )
    )


def whale_stats(profits: pl.Series) -> WhaleStats:
    """:class:`WhaleStats` of per-customer profits (currency, any order)."""
    p = profits.cast(pl.Float64)
    n = p.len()
    total = float(p.sum()) if n else 0.0
    peak = float(p.filter(p > 0).sum()) if n else 0.0
    tail = float(p.filter(p < 0).sum()) if n else 0.0
    positive = n > 0 and total > 0
    return WhaleStats(
        customers=n,
        total_profit=total,
        profitable_customers=int((p > 0).sum()) if n else 0,
        breakeven_customers=int((p == 0).sum()) if n else 0,
        unprofitable_customers=int((p < 0).sum()) if n else 0,
        peak_profit=peak,
        loss_tail_profit=tail,
        peak_share=peak / total if positive else None,
        given_back_share=-tail / total if positive else None,
    )


# ----------------------------------------------------------------------------- value matrix


@dataclass(frozen=True)
class Quadrant:
    """One cell of the activity value matrix (domain brief, section 6)."""

    name: str
    frequent: bool
    high_spend: bool
    meaning: str
    action: str


QUADRANTS: tuple[Quadrant, ...] = (
    Quadrant(
        "Frequent, high spend",
        True,
        True,
        "Best customers: the buying habit and the capacity to spend.",
        "Reward and protect: loyalty benefits, dedicated service, early access.",
    ),
    Quadrant(
        "Occasional, high spend",
        False,
        True,
        "Capacity without a habit: a few large purchases.",
        "Build the habit: usage incentives and reminders; watch refund and credit risk.",
    ),
    Quadrant(
        "Frequent, low spend",
        True,
        False,
        "A habit with little capacity: many small purchases.",
        "Grow the basket: cross-sell, bundles and trade-up offers; serve through cheap channels.",
    ),
    Quadrant(
        "Occasional, low spend",
        False,
        False,
        "Little activity and little spend.",
        "Serve at low cost: self-service and automated campaigns; limit costly contacts.",
    ),
)
QUADRANT_DTYPE = pl.Enum([q.name for q in QUADRANTS])


@dataclass(frozen=True)
class ValueMatrix:
    """The value matrix: purchase frequency against yearly amount, in four quadrants.

    Attributes
    ----------
    table
        Four rows, one per quadrant in :data:`QUADRANTS` order: ``quadrant, frequent,
        high_spend, customers, customer_share, revenue, profit, profit_share,
        profit_per_customer, action`` (``profit_share`` null when total profit is not
        positive).
    frequency_threshold
        Purchases a year above which a customer counts as frequent (``None`` if empty).
    amount_threshold
        Spend a year (currency) above which a customer counts as high-spend.
    at_medians
        Whether the thresholds are the medians of the customers (the default) rather than
        chosen values.
    """

    table: pl.DataFrame
    frequency_threshold: float | None
    amount_threshold: float | None
    at_medians: bool


def _value_columns(window: ProfitWindow) -> list[pl.Expr]:
    years = window.years
    return [
        (pl.col(TRANSACTIONS) / years).alias(PURCHASES_PER_YEAR),
        (pl.col(REVENUE) / years).alias(YEARLY_AMOUNT),
    ]


def _quadrant_expr(frequency: pl.Expr, amount: pl.Expr) -> pl.Expr:
    """Quadrant of each customer; "high" means strictly above the threshold."""
    freq_high = pl.col(PURCHASES_PER_YEAR) > frequency
    amount_high = pl.col(YEARLY_AMOUNT) > amount

    def cell(q: Quadrant) -> pl.Expr:
        return (freq_high if q.frequent else ~freq_high) & (
            amount_high if q.high_spend else ~amount_high
        )

    first, *rest = QUADRANTS
    expr = pl.when(cell(first)).then(pl.lit(first.name))
    for q in rest:
        expr = expr.when(cell(q)).then(pl.lit(q.name))
    return expr.otherwise(None).cast(QUADRANT_DTYPE)


def _quadrant_table(customers: pl.LazyFrame) -> pl.LazyFrame:
    cells = pl.LazyFrame(
        {
            QUADRANT: [q.name for q in QUADRANTS],
            FREQUENT: [q.frequent for q in QUADRANTS],
            HIGH_SPEND: [q.high_spend for q in QUADRANTS],
            ACTION: [q.action for q in QUADRANTS],
        },
        schema={
            QUADRANT: QUADRANT_DTYPE,
            FREQUENT: pl.Boolean,
            HIGH_SPEND: pl.Boolean,
            ACTION: pl.String,
        },
    )
    agg = customers.group_by(QUADRANT).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        pl.col(REVENUE).sum(),
        pl.col(PROFIT).sum(),
    )
    return (
        cells.join(agg, on=QUADRANT, how="left")
        .with_columns(
            pl.col(CUSTOMERS).fill_null(0),
            pl.col(REVENUE).fill_null(0.0),
            pl.col(PROFIT).fill_null(0.0),
        )
        .with_columns(
            share_of_total(CUSTOMERS, positive_total=True).alias(CUSTOMER_SHARE),
            share_of_total(PROFIT, positive_total=True).alias(PROFIT_SHARE),
            per_customer(PROFIT).alias(PROFIT_PER_CUSTOMER),
        )
        .select(
            QUADRANT,
            FREQUENT,
            HIGH_SPEND,
            CUSTOMERS,
            CUSTOMER_SHARE,
            REVENUE,
            PROFIT,
            PROFIT_SHARE,
            PROFIT_PER_CUSTOMER,
            ACTION,
        )
        .sort(QUADRANT)
    )


# ----------------------------------------------------------------------------- cost to serve


def _cost_to_serve(
    touchpoints: pl.LazyFrame, tiers: pl.LazyFrame, tier_sizes: pl.LazyFrame
) -> pl.LazyFrame:
    """Service cost per tier and touchpoint, every combination present (zeros filled)."""
    used = touchpoints.join(tiers, on=C.customer_id, how="inner")
    agg = used.group_by(TIER, C.touchpoint).agg(pl.col(CONTACTS).sum(), pl.col(C.cost).sum())
    grid = (
        pl.LazyFrame({TIER: list(TIERS)}, schema={TIER: TIER_DTYPE})
        .join(used.select(C.touchpoint).unique(), how="cross")
        .join(agg, on=[TIER, C.touchpoint], how="left")
        .join(tier_sizes, on=TIER, how="left")
        .with_columns(
            pl.col(CONTACTS).fill_null(0),
            pl.col(C.cost).fill_null(0.0),
            pl.col(CUSTOMERS).fill_null(0),
        )
    )
    tier_total = pl.col(C.cost).sum().over(TIER)
    tp_total = pl.col(C.cost).sum().over(C.touchpoint)
    return (
        grid.with_columns(
            per_customer(C.cost).alias(COST_PER_CUSTOMER),
            per_customer(CONTACTS).alias(CONTACTS_PER_CUSTOMER),
            pl.when(pl.col(CONTACTS) > 0)
            .then(pl.col(C.cost) / pl.col(CONTACTS))
            .alias(COST_PER_CONTACT),
            pl.when(tier_total > 0).then(pl.col(C.cost) / tier_total).alias(SHARE_OF_TIER_COST),
            pl.when(tp_total > 0).then(pl.col(C.cost) / tp_total).alias(SHARE_OF_TOUCHPOINT_COST),
        )
        .select(
            TIER,
            C.touchpoint,
            CUSTOMERS,
            CONTACTS,
            C.cost,
            COST_PER_CUSTOMER,
            CONTACTS_PER_CUSTOMER,
            COST_PER_CONTACT,
            SHARE_OF_TIER_COST,
            SHARE_OF_TOUCHPOINT_COST,
        )
        .sort(TIER, C.touchpoint)
    )


def _channel_sales(
    sales: pl.LazyFrame, tiers: pl.LazyFrame, tier_sizes: pl.LazyFrame
) -> pl.LazyFrame:
    """Purchases, revenue and direct cost per tier and sales channel (zeros filled)."""
    used = sales.join(tiers, on=C.customer_id, how="inner")
    agg = used.group_by(TIER, C.channel).agg(
        pl.col(TRANSACTIONS).sum(), pl.col(REVENUE).sum(), pl.col(DIRECT_COST).sum()
    )
    grid = (
        pl.LazyFrame({TIER: list(TIERS)}, schema={TIER: TIER_DTYPE})
        .join(used.select(C.channel).unique(), how="cross")
        .join(agg, on=[TIER, C.channel], how="left")
        .join(tier_sizes, on=TIER, how="left")
        .with_columns(
            pl.col(TRANSACTIONS).fill_null(0),
            pl.col(REVENUE).fill_null(0.0),
            pl.col(DIRECT_COST).fill_null(0.0),
            pl.col(CUSTOMERS).fill_null(0),
        )
    )
    tier_tx = pl.col(TRANSACTIONS).sum().over(TIER)
    return (
        grid.with_columns(
            (pl.col(REVENUE) - pl.col(DIRECT_COST)).alias(GROSS_PROFIT),
            pl.when(tier_tx > 0)
            .then(pl.col(TRANSACTIONS) / tier_tx)
            .alias(SHARE_OF_TIER_TRANSACTIONS),
        )
        .select(
            TIER,
            C.channel,
            CUSTOMERS,
            TRANSACTIONS,
            REVENUE,
            DIRECT_COST,
            GROSS_PROFIT,
            SHARE_OF_TIER_TRANSACTIONS,
        )
        .sort(TIER, C.channel)
    )


# ----------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class FilterOptions:
    """Values a user can filter customers on (sorted), and where the history starts.

    Attributes
    ----------
    regions, channels
        Regions and acquisition channels of the snapshot's customers.
    first_purchase
        Date of the earliest transaction (``None`` without transactions): the earliest
        date worth comparing with (RFM migration).
    """

    regions: tuple[str, ...]
    channels: tuple[str, ...]
    first_purchase: date | None = None


def segment_filter_options(snapshot: Snapshot) -> FilterOptions:
    """Regions and acquisition channels present in the snapshot, and its first purchase."""
    people, first = pl.collect_all(
        [
            snapshot.customers.select(
                pl.col(C.region).unique().sort().implode(),
                pl.col(C.acquisition_channel).unique().sort().implode(),
            ),
            snapshot.transactions.select(pl.col(C.date).min()),
        ]
    )
    return FilterOptions(
        regions=tuple(people[C.region][0].to_list()),
        channels=tuple(people[C.acquisition_channel][0].to_list()),
        first_purchase=first[C.date][0],
    )


def as_names(values: Iterable[str] | None, name: str) -> tuple[str, ...]:
    """Filter values as a sorted tuple of distinct names (``None`` -> empty: no filter)."""
    if values is None:
        return ()
    if isinstance(values, str):
        raise ValueError(f"{name} must be a list of names, not the single text {values!r}")
    out = tuple(values)
    bad = [v for v in out if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{name} must be names (text), got {bad[:5]!r}")
    return tuple(sorted(set(out)))


def filter_customers(
    frame: pl.LazyFrame,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> pl.LazyFrame:
    """Keep customers in ``regions`` and acquired through ``channels``.

    ``None`` or an empty list means no restriction. ``frame`` needs ``region`` and
    ``acquisition_channel`` columns.
    """
    r = as_names(regions, "regions")
    ch = as_names(channels, "channels")
    if r:
        frame = frame.filter(pl.col(C.region).is_in(list(r)))
    if ch:
        frame = frame.filter(pl.col(C.acquisition_channel).is_in(list(ch)))
    return frame


# ----------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class SegmentReport:
    """Everything the Segments page shows, computed in one pass (see :func:`segment_report`).

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
        One row per customer, best first: the columns of
        :func:`crm_core.profit.customer_profit_lazy` plus ``profit_rank, tier,
        purchases_per_year, yearly_amount, quadrant`` and ``clv`` (null without CLV).
    tiers
        The A/B/C table (:func:`tier_table`).
    whale
        The whale curve (:func:`whale_curve`).
    whale_stats
        Its peak and loss tail (:class:`WhaleStats`).
    value_matrix
        Frequency against yearly amount (:class:`ValueMatrix`).
    cost_to_serve
        Per tier and touchpoint: ``tier, touchpoint, customers, contacts, cost,
        cost_per_customer, contacts_per_customer, cost_per_contact, share_of_tier_cost,
        share_of_touchpoint_cost`` (costs over the window).
    channel_sales
        Per tier and sales channel: ``tier, channel, customers, transactions, revenue,
        direct_cost, gross_profit, share_of_tier_transactions``.
    has_clv
        Whether CLV was supplied (``tiers.avg_clv`` is filled).
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
    cost_to_serve: pl.DataFrame
    channel_sales: pl.DataFrame
    has_clv: bool

    @property
    def is_empty(self) -> bool:
        """No customer was active in the window (after filters)."""
        return self.customers.height == 0

    @property
    def total_profit(self) -> float:
        """Total profit of the customers (currency)."""
        return self.whale_stats.total_profit

    @property
    def top_profit_share(self) -> float | None:
        """Tier A's share of profit: equals ``top_share(customers.profit, cutoffs[0])``."""
        value = self.tiers.filter(pl.col(TIER) == "A")[PROFIT_SHARE][0]
        return None if value is None else float(value)

    def tier_customers(self, tier: str | None = None) -> pl.DataFrame:
        """Customers of ``tier`` (``None``: all), best first."""
        if tier is None:
            return self.customers
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}, got {tier!r}")
        return self.customers.filter(pl.col(TIER) == tier)


def _clv_frame(clv: pl.DataFrame | pl.LazyFrame | None) -> pl.LazyFrame | None:
    if clv is None:
        return None
    lf = clv.lazy()
    names = lf.collect_schema().names()
    missing = [c for c in (C.customer_id, CLV) if c not in names]
    if missing:
        raise ValueError(
            f"clv must have the columns customer_id and clv; missing {', '.join(missing)}"
        )
    return lf.select(C.customer_id, pl.col(CLV).cast(pl.Float64)).unique(
        C.customer_id, keep="first", maintain_order=True
    )


def _check_thresholds(values: Sequence[float]) -> None:
    if len(values) != 2 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise ValueError(
            "value_thresholds must be two finite numbers (purchases a year, spend a year), "
            f"got {tuple(values)!r}"
        )


CUSTOMER_COLUMNS = (
    C.customer_id,
    TIER,
    PROFIT_RANK,
    C.region,
    C.acquisition_channel,
    C.acquired_on,
    TRANSACTIONS,
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


def segment_report(
    snapshot: Snapshot,
    window: ProfitWindow | None = None,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    amortise_years: float | None = None,
    regions: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    *,
    clv: pl.DataFrame | pl.LazyFrame | None = None,
    value_thresholds: tuple[float, float] | None = None,
) -> SegmentReport:
    """Segment profitability of ``snapshot``: tiers, whale curve, value matrix, cost to serve.

    Parameters
    ----------
    snapshot
        The company's data.
    window
        Profit window (inclusive); default the twelve months ending on ``snapshot.as_of``.
    cutoffs
        Shares of customers in tiers A, B, C (fractions summing to 1); default 10/20/70%.
    amortise_years
        ``None`` charges acquisition cost in full in the window of acquisition; a number
        of years spreads it evenly (see :mod:`crm_core.segments.profit`).
    regions, channels
        Keep only customers of these regions / acquisition channels (``None`` or empty:
        all). Tiers, medians and shares are computed within the selection.
    clv
        Optional per-customer CLV (``customer_id, clv``, currency, e.g. the ``.table`` of
        ``crm_core.clv.customer_clv``) to average per tier.
    value_thresholds
        ``(purchases a year, spend a year)`` splitting the value matrix; default the
        medians of the selected customers.

    Returns
    -------
    SegmentReport
        Collected in one pass. With no customer in the window every frame is empty (the
        tier and quadrant tables keep their rows, with zero customers) and every share is
        null; when total profit is not positive, shares of profit are null and the whale
        curve is read in currency.

    Raises
    ------
    ValueError
        For bad cut-offs, amortisation years, filters, thresholds or CLV frame.
    """
    cuts = validate_cutoffs(cutoffs)
    w = window or ProfitWindow.trailing(snapshot.as_of)
    reg = as_names(regions, "regions")
    chan = as_names(channels, "channels")
    clv_lf = _clv_frame(clv)
    if value_thresholds is not None:
        _check_thresholds(value_thresholds)

    base = filter_customers(
        customer_profit_lazy(snapshot, w, amortise_years=amortise_years), reg, chan
    ).with_columns(_value_columns(w))
    if clv_lf is not None:
        base = base.join(clv_lf, on=C.customer_id, how="left")
    else:
        base = base.with_columns(pl.lit(None, pl.Float64).alias(CLV))
    ranked = assign_tiers(base, cuts)

    if value_thresholds is None:
        f_thr: pl.Expr = pl.col(PURCHASES_PER_YEAR).median()
        a_thr: pl.Expr = pl.col(YEARLY_AMOUNT).median()
    else:
        f_thr, a_thr = pl.lit(float(value_thresholds[0])), pl.lit(float(value_thresholds[1]))
    ranked = ranked.with_columns(_quadrant_expr(f_thr, a_thr).alias(QUADRANT)).select(
        CUSTOMER_COLUMNS
    )
    thresholds = ranked.select(
        f_thr.cast(pl.Float64).alias(PURCHASES_PER_YEAR),
        a_thr.cast(pl.Float64).alias(YEARLY_AMOUNT),
    )
    tier_of = ranked.select(C.customer_id, TIER)
    tiers = tier_table(ranked, clv=CLV if clv_lf is not None else None)
    sizes = tiers.select(TIER, CUSTOMERS)

    (customers, tier_frame, whale, matrix, limits, cost, channel) = pl.collect_all(
        [
            ranked,
            tiers,
            whale_curve(ranked),
            _quadrant_table(ranked),
            thresholds,
            _cost_to_serve(touchpoint_costs_lazy(snapshot, w), tier_of, sizes),
            _channel_sales(channel_sales_lazy(snapshot, w), tier_of, sizes),
        ]
    )
    f_val, a_val = limits.row(0) if limits.height else (None, None)
    if customers.height == 0:
        f_val = a_val = None
    return SegmentReport(
        window=w,
        currency=snapshot.currency,
        cutoffs=cuts,
        amortise_years=amortise_years,
        regions=reg,
        channels=chan,
        customers=customers,
        tiers=tier_frame,
        whale=whale,
        whale_stats=whale_stats(customers[PROFIT]),
        value_matrix=ValueMatrix(
            table=matrix,
            frequency_threshold=f_val,
            amount_threshold=a_val,
            at_medians=value_thresholds is None,
        ),
        cost_to_serve=cost,
        channel_sales=channel,
        has_clv=clv_lf is not None,
    )
