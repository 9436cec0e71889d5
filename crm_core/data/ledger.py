"""The customer ledger: one row per customer per period, built once per snapshot and date.

Every number the product shows is an aggregation of this panel (or, for drill-downs, of the
snapshot's own rows). :func:`build_ledger` reads a snapshot (already cut at its as-of date)
in one lazy polars pipeline and returns a :class:`Ledger`:

* ``grid`` - the periods (:mod:`crm_core.data.periods`): quarters, or months for
  contractual businesses, ending on the as-of date and reaching back to the first activity;
* ``customers`` - one row per customer acquired by the as-of date, with a dense integer key
  ``cid`` (0, 1, ... in ``customer_id`` order), the snapshot's customer columns, the period
  of acquisition and the first purchase day and its net amount;
* ``panel`` - one row per customer and period, from the earlier of the acquisition period
  and the first activity, to period 0, in ``(cid, period descending)`` order (each
  customer's periods oldest first). Columns (amounts in the snapshot's currency, days as
  whole days):

  ============================  ================================================================
  ``revenue``                   net amount of the period's transactions (refunds included)
  ``direct_cost``               direct cost of those transactions
  ``service_cost``, ``contacts`` cost and number of service contacts
  ``transactions``              transaction rows; ``purchases`` those with a positive amount
  ``purchase_days``             purchase days (days netting to >= 0), ``purchase_day_revenue``
                                their net amount
  ``cum_purchase_days``         purchase days up to the period end
  ``last_purchase``             last purchase day up to the period end (null before any)
  ``acquired``, ``won``         acquired by the period end; acquired in the period
  ``tenure_days``               days from acquisition to the period end
  ``days_since_activity``       days from the last activity (last purchase or acquisition)
  ``usual_gap_days``            mean days between purchase days so far (null below two)
  ``lapse_after_days``          the customer's lapse threshold (:class:`ActivityRule`)
  ``active``                    the one activity rule (:mod:`crm_core.data.rules`)
  ``movement``                  new, retained, reactivated, churned (lost in the period) or
                                dormant (inactive at both ends); null before acquisition
  ``recent_revenue``            net revenue of the trend window up to the period end, and
  ``previous_revenue``          of the window before it (:class:`StageRules`)
  ``overdue``, ``spend_drop``,  the stage signals
  ``spend_rising``
  ``stage``                     new, growing, mature, declining or churned (null before
                                acquisition)
  ============================  ================================================================

The panel is causal: a row uses only data dated up to its period end, so the ledger of the
snapshot cut at an earlier period end equals this one restricted to the periods from there
on (renumbered). Its revenue, cost and service cost totals equal the snapshot's, except for
rows of customers not yet acquired at the as-of date (a snapshot cut before their
acquisition), which it leaves out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import polars as pl

from crm_core.data.ledger_build import build_panel, first_day
from crm_core.data.ledger_schema import (
    CHURNED,
    CUSTOMER_STAGES,
    DECLINING,
    DORMANT,
    GROWING,
    MATURE,
    MOVEMENTS,
    NEW,
    PERIOD_MONTHS,
    REACTIVATED,
    RETAINED,
    L,
)
from crm_core.data.manifest import Manifest
from crm_core.data.periods import PERIOD_END, period_grid, periods_back_to
from crm_core.data.rules import DEFAULT_ACTIVITY, DEFAULT_STAGES, ActivityRule, StageRules
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
from crm_core.errors import SnapshotError

__all__ = [
    "CHURNED",
    "CUSTOMER_STAGES",
    "DECLINING",
    "DORMANT",
    "GROWING",
    "LEDGER_FILES",
    "MATURE",
    "MOVEMENTS",
    "NEW",
    "REACTIVATED",
    "RETAINED",
    "STORED_LEDGER",
    "L",
    "Ledger",
    "build_ledger",
    "rules_record",
    "sampled_customers",
]

STORED_LEDGER = "ledger"
"""Manifest key of a snapshot that carries its ledger precomputed (``crm build --engine
spark``): ``{"as_of", "customers", "sampled_customers", "activity", "stages"}``."""
LEDGER_FILES = {
    "panel": "ledger_panel.parquet",
    "customers": "ledger_customers.parquet",
    "grid": "ledger_grid.parquet",
}
"""Files of a stored ledger inside the snapshot folder (same columns as :class:`Ledger`)."""


@dataclass(frozen=True)
class Ledger:
    """The customer-period panel of one snapshot at one date (see the module docstring).

    Attributes
    ----------
    snapshot
        The snapshot (cut at ``as_of``) the ledger was built from, for drill-downs.
    grid
        ``period, period_start, period_end, label``, latest first.
    customers
        One row per customer acquired by ``as_of``: ``cid, customer_id, acquired_on,
        acquisition_channel, acquisition_cost, region, churned_on, acquired_period,
        first_purchase, first_purchase_amount``, in ``cid`` order.
    panel
        One row per customer and period (module docstring).
    activity, stages
        The rules applied.
    """

    snapshot: Snapshot
    grid: pl.DataFrame
    customers: pl.DataFrame
    panel: pl.DataFrame
    activity: ActivityRule = field(default=DEFAULT_ACTIVITY)
    stages: StageRules = field(default=DEFAULT_STAGES)

    @property
    def as_of(self) -> date:
        """The date the ledger describes (end of period 0)."""
        return self.snapshot.as_of

    @property
    def contractual(self) -> bool:
        """Whether churn is observed (subscriptions)."""
        return self.snapshot.manifest.contractual

    @property
    def currency(self) -> str:
        """ISO code of every amount."""
        return self.snapshot.currency

    @property
    def sampled_customers(self) -> int | None:
        """Customers whose raw rows the snapshot keeps, when it keeps a sample only (a
        Spark build, :data:`STORED_LEDGER`); ``None`` when every raw row is there."""
        return sampled_customers(self.snapshot.manifest)

    @property
    def period_months(self) -> int:
        """Length of a period in months (3, or 1 for contractual businesses)."""
        return PERIOD_MONTHS[self.contractual]

    @property
    def periods_per_year(self) -> int:
        """Periods in a year (4 or 12)."""
        return 12 // self.period_months

    @property
    def periods(self) -> int:
        """Number of periods in the grid."""
        return self.grid.height

    def period_end(self, k: int) -> date:
        """Last day of period ``k``."""
        return self.grid[PERIOD_END][k]

    def lazy(self) -> pl.LazyFrame:
        """The panel as a LazyFrame."""
        return self.panel.lazy()

    def at(self, k: int = 0) -> pl.LazyFrame:
        """Panel rows of period ``k`` (one per customer with a row then)."""
        return self.panel.lazy().filter(pl.col(L.period) == k)

    def window(self, k: int, periods: int, *, sums: tuple[str, ...] | None = None) -> pl.LazyFrame:
        """Per customer, sums over the ``periods`` periods ``k .. k + periods - 1``.

        ``sums`` defaults to revenue, direct cost, service cost, contacts, purchases and
        purchase days; customers with no row in the window are absent.
        """
        names = sums or (
            L.revenue,
            L.direct_cost,
            L.service_cost,
            L.contacts,
            L.purchases,
            L.purchase_days,
        )
        return (
            self.panel.lazy()
            .filter(pl.col(L.period).is_between(k, k + periods - 1))
            .group_by(L.cid)
            .agg(pl.col(n).sum() for n in names)
        )

    def with_customers(self, frame: pl.LazyFrame, *columns: str) -> pl.LazyFrame:
        """Add customer columns (default ``customer_id``) to a frame keyed on ``cid``."""
        wanted = columns or (C.customer_id,)
        return frame.with_columns(
            pl.lit(self.customers[c]).gather(pl.col(L.cid)).alias(c) for c in wanted
        )


def build_ledger(
    snapshot: Snapshot,
    *,
    activity: ActivityRule = DEFAULT_ACTIVITY,
    stages: StageRules = DEFAULT_STAGES,
) -> Ledger:
    """Build the customer ledger of ``snapshot`` at its as-of date (module docstring).

    Parameters
    ----------
    snapshot
        The company's data, cut at the date to describe (``snapshot.cut(as_of)``).
    activity, stages
        The activity rule and the lifecycle stage thresholds (the product's defaults).

    Returns
    -------
    Ledger
        Read from the snapshot folder when the snapshot carries its ledger precomputed
        (:data:`STORED_LEDGER`; its raw rows are then a sample): at the stored date, or at
        one of its earlier period ends (the ledger is causal).

    Raises
    ------
    SnapshotError
        For a stored ledger asked at a date that is not one of its period ends, or with
        rules other than those it was built with.
    """
    if STORED_LEDGER in snapshot.manifest.extra and snapshot.path is not None:
        return _stored_ledger(snapshot, activity, stages)
    contractual = snapshot.manifest.contractual
    months = PERIOD_MONTHS[contractual]
    stages.trend_periods(months)  # validate before the heavy work
    grid = period_grid(
        snapshot.as_of, periods_back_to(snapshot.as_of, first_day(snapshot), months), months
    )
    customers, panel = build_panel(
        snapshot, grid, activity, stages, contractual=contractual, period_months=months
    )
    return Ledger(snapshot, grid, customers, panel, activity, stages)


def sampled_customers(manifest: Manifest) -> int | None:
    """Customers whose raw rows a snapshot with a stored ledger keeps (``None``: all)."""
    meta = manifest.extra.get(STORED_LEDGER)
    return None if meta is None else int(meta["sampled_customers"])


def rules_record(activity: ActivityRule, stages: StageRules) -> dict[str, dict[str, object]]:
    """The rules as stored beside a precomputed ledger."""
    return {"activity": asdict(activity), "stages": asdict(stages)}


def _stored_ledger(snapshot: Snapshot, activity: ActivityRule, stages: StageRules) -> Ledger:
    """The precomputed ledger, restricted to the periods up to ``snapshot.as_of`` (the
    ledger of the snapshot cut there: customers acquired later leave, ``cid`` is renumbered,
    contracts ending later are open)."""
    meta = snapshot.manifest.extra[STORED_LEDGER]
    folder = snapshot.path
    assert folder is not None
    if {k: meta.get(k) for k in ("activity", "stages")} != rules_record(activity, stages):
        raise SnapshotError(str(folder), "carries a ledger built with other activity or stage "
                            "rules: rebuild it with these rules")  # fmt: skip
    grid = pl.read_parquet(folder / LEDGER_FILES["grid"])
    ends = grid[PERIOD_END].to_list()
    if snapshot.as_of not in ends:
        shown = ", ".join(str(d) for d in ends[:4])
        raise SnapshotError(str(folder), f"carries its ledger at period ends only ({shown}, ...), "
                            f"not at {snapshot.as_of}; the raw rows are a sample")  # fmt: skip
    k = ends.index(snapshot.as_of)
    customers = pl.read_parquet(folder / LEDGER_FILES["customers"])
    panel = pl.scan_parquet(folder / LEDGER_FILES["panel"])
    if k:
        cut = pl.lit(snapshot.as_of)
        kept = customers.filter(pl.col(C.acquired_on) <= cut)
        renumber = kept.select(L.cid, pl.int_range(pl.len(), dtype=pl.UInt32).alias("_new"))
        bought = pl.col(L.first_purchase) <= cut
        customers = kept.with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(L.cid),  # kept in cid order
            pl.when(pl.col(C.churned_on) <= cut).then(pl.col(C.churned_on)).alias(C.churned_on),
            (pl.col(L.acquired_period) - k).cast(pl.Int32),
            pl.when(bought).then(pl.col(L.first_purchase)).alias(L.first_purchase),
            pl.when(bought).then(pl.col(L.first_purchase_amount)).alias(L.first_purchase_amount),
        )
        panel = (
            panel.filter(pl.col(L.period) >= k)
            .join(renumber.lazy(), on=L.cid, how="inner", maintain_order="left")
            .with_columns(pl.col("_new").alias(L.cid), (pl.col(L.period) - k).cast(pl.Int32))
            .drop("_new")
        )
        grid = grid.filter(pl.col(L.period) >= k).with_columns(
            (pl.col(L.period) - k).cast(pl.Int32)
        )
    return Ledger(snapshot, grid, customers, panel.collect().rechunk(), activity, stages)
