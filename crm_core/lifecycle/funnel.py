"""The lifecycle funnel: prospects -> first purchase -> repeat -> stable -> still active.

Each step is a subset of the one before, counted over everyone the company has met up to
the as-of date, from the customer ledger at its as-of date (and the snapshot's prospects
table for the leads, which are not customers):

1. **Prospects**: every lead of the prospects table not converted, plus every customer. A
   customer with a recorded lead is counted once (linked to the earliest lead,
   :mod:`crm_core.lifecycle.prospects`); a customer without one (a walk-in) enters the
   funnel as a prospect who converted at once.
2. **First purchase**: customers with at least one purchase day (a day whose net amount is
   >= 0; refunds are not purchases): the ledger's ``cum_purchase_days``.
3. **Repeat**: customers with two or more purchase days.
4. **Stable**: repeat customers who kept buying for at least ``rules.mature_days`` after
   their first purchase: last purchase day (contractual: end of the contract, or the as-of
   date while it runs) at least that many days after the first purchase day.
5. **Still active after N years**: stable customers still buying ``years`` years after
   their first purchase: a purchase day on or after that anniversary (contractual: the
   contract still running on it).

Steps 4 and 5 need time to happen, so their conversion rates count only customers who
have had it: the **eligible** customers of step 4 are the repeat customers whose first
purchase lies at least ``mature_days`` before as-of; of step 5, the stable customers whose
first purchase lies at least ``years`` years (calendar) before as-of. For steps 2 and 3
the eligible customers are all those of the step before. ``conversion = reached /
eligible``; ``share_of_top = reached / prospects``.

Groups: the **channel** is the customer's acquisition channel, or a lead's own channel
for leads not converted; the **cohort** is the calendar year of acquisition, or of first
contact for leads not converted.

Every count is one pass over one row per customer (and per lead): the cost grows with the
data, never faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.rules import DEFAULT_STAGES, StageRules
from crm_core.data.schema import C
from crm_core.lifecycle.prospects import LINKED, leads

__all__ = [
    "ACTIVE_AFTER",
    "CONVERSION",
    "ELIGIBLE",
    "FIRST_PURCHASE",
    "FUNNEL_STEPS",
    "PROSPECTS",
    "REACHED",
    "REPEAT",
    "SHARE_OF_TOP",
    "STABLE",
    "FunnelReport",
    "lifecycle_funnel",
]

PROSPECTS = "prospects"
FIRST_PURCHASE = "first_purchase"
REPEAT = "repeat"
STABLE = "stable"
ACTIVE_AFTER = "active_after_years"
FUNNEL_STEPS: tuple[str, ...] = (PROSPECTS, FIRST_PURCHASE, REPEAT, STABLE, ACTIVE_AFTER)

STEP = "step"
STEP_INDEX = "step_index"
LABEL = "label"
REACHED = "reached"
ELIGIBLE = "eligible"
CONVERSION = "conversion"
SHARE_OF_TOP = "share_of_top"
CHANNEL = "channel"
COHORT = "cohort"


@dataclass(frozen=True)
class FunnelReport:
    """The lifecycle funnel overall, by acquisition channel and by cohort year.

    Attributes
    ----------
    as_of
        The date described.
    years
        N of the last step ("still active after N years").
    mature_days
        Days of buying that make a repeat customer stable.
    business_model
        From the manifest.
    steps
        ``step_index, step, label, reached, eligible, conversion, share_of_top``: one row
        per step (counts of prospects and customers; conversion and share as fractions,
        null for the first step's conversion or without eligible customers).
    by_channel, by_cohort
        The same with a leading ``channel`` (text) or ``cohort`` (calendar year) column.
    walk_in_customers
        Customers without a recorded lead (they enter the funnel at the top).
    median_days_to_first_purchase
        Median days from a converted lead's first contact to the first purchase.
    median_usual_gap_days
        Median of the repeat customers' usual gap between purchase days (days; the
        ledger's ``usual_gap_days``): how quickly customers come back.
    """

    as_of: date
    years: int
    mature_days: int
    business_model: str
    steps: pl.DataFrame
    by_channel: pl.DataFrame
    by_cohort: pl.DataFrame
    walk_in_customers: int
    median_days_to_first_purchase: float | None
    median_usual_gap_days: float | None

    def step(self, step: str) -> dict[str, object]:
        """The overall row of ``step`` as a dict."""
        return self.steps.filter(pl.col(STEP) == step).row(0, named=True)


def _labels(years: int, mature_days: int) -> dict[str, str]:
    return {
        PROSPECTS: "Prospects",
        FIRST_PURCHASE: "First purchase",
        REPEAT: "Repeat purchase",
        STABLE: f"Stable ({mature_days}+ days buying)",
        ACTIVE_AFTER: f"Still active after {years} year{'s' if years != 1 else ''}",
    }


def _entrants(
    ledger: Ledger, lead_rows: pl.DataFrame, years: int, mature_days: int
) -> pl.LazyFrame:
    """One row per funnel entrant with a boolean per step reached and per step eligible."""
    as_of = ledger.as_of
    state = ledger.at(0).select(L.cid, L.cum_purchase_days, L.last_purchase)
    state = ledger.with_customers(
        state, C.acquisition_channel, C.acquired_on, C.churned_on, L.first_purchase
    )
    first = pl.col(L.first_purchase)
    if ledger.contractual:
        last_activity = pl.coalesce(pl.col(C.churned_on), pl.lit(as_of))
        active_after = pl.col(C.churned_on).is_null() | (pl.col(C.churned_on) > pl.col("_nth"))
    else:
        last_activity = pl.col(L.last_purchase)
        active_after = pl.col(L.last_purchase) >= pl.col("_nth")
    n = pl.col(L.cum_purchase_days)
    stable_span = (last_activity - first).dt.total_days() >= mature_days
    customers = (
        state.with_columns(
            pl.col(C.acquisition_channel).alias(CHANNEL),
            pl.col(C.acquired_on).dt.year().alias(COHORT),
            first.dt.offset_by(f"{12 * years}mo").alias("_nth"),
        )
        .with_columns(
            (n >= 1).alias(FIRST_PURCHASE),
            (n >= 2).alias(REPEAT),
            ((n >= 2) & stable_span.fill_null(False)).alias(STABLE),
            (first <= pl.lit(as_of - timedelta(days=mature_days)))
            .fill_null(False)
            .alias("_old_enough_stable"),
            (pl.col("_nth") <= pl.lit(as_of)).fill_null(False).alias("_old_enough_years"),
        )
        .with_columns(
            (pl.col(STABLE) & pl.col("_old_enough_years") & active_after.fill_null(False)).alias(
                ACTIVE_AFTER
            ),
            (pl.col(REPEAT) & pl.col("_old_enough_stable")).alias(f"_eligible_{STABLE}"),
            (pl.col(STABLE) & pl.col("_old_enough_years")).alias(f"_eligible_{ACTIVE_AFTER}"),
        )
    )
    open_leads = (
        lead_rows.lazy()
        .filter(pl.col(L.cid).is_null())
        .select(
            pl.col(C.channel).alias(CHANNEL),
            pl.col(C.first_contact).dt.year().alias(COHORT),
        )
    )
    flags = [FIRST_PURCHASE, REPEAT, STABLE, ACTIVE_AFTER]
    eligible = [f"_eligible_{STABLE}", f"_eligible_{ACTIVE_AFTER}"]
    return pl.concat(
        [
            customers.select(CHANNEL, COHORT, *flags, *eligible),
            open_leads.with_columns(pl.lit(False).alias(c) for c in (*flags, *eligible)),
        ],
        how="vertical_relaxed",
    )


def _steps(entrants: pl.LazyFrame, groups: list[str], labels: dict[str, str]) -> pl.LazyFrame:
    """Reached / eligible per step, per group, in long form."""
    counts = entrants.group_by(groups or pl.lit(0).alias("_all")).agg(
        pl.len().cast(pl.Int64).alias(f"_r_{PROSPECTS}"),
        *(pl.col(s).sum().cast(pl.Int64).alias(f"_r_{s}") for s in FUNNEL_STEPS[1:]),
        *(
            pl.col(f"_eligible_{s}").sum().cast(pl.Int64).alias(f"_e_{s}")
            for s in (STABLE, ACTIVE_AFTER)
        ),
    )
    eligible_of = {
        PROSPECTS: None,
        FIRST_PURCHASE: f"_r_{PROSPECTS}",
        REPEAT: f"_r_{FIRST_PURCHASE}",
        STABLE: f"_e_{STABLE}",
        ACTIVE_AFTER: f"_e_{ACTIVE_AFTER}",
    }
    parts = []
    for i, step in enumerate(FUNNEL_STEPS):
        source = eligible_of[step]
        eligible = pl.col(source) if source else pl.col(f"_r_{PROSPECTS}")
        reached = pl.col(f"_r_{step}")
        parts.append(
            counts.select(
                *groups,
                pl.lit(i, dtype=pl.Int32).alias(STEP_INDEX),
                pl.lit(step).alias(STEP),
                pl.lit(labels[step]).alias(LABEL),
                reached.alias(REACHED),
                eligible.alias(ELIGIBLE),
                (
                    pl.lit(None, dtype=pl.Float64)
                    if source is None
                    else pl.when(eligible > 0).then(reached / eligible).otherwise(None)
                ).alias(CONVERSION),
                pl.when(pl.col(f"_r_{PROSPECTS}") > 0)
                .then(reached / pl.col(f"_r_{PROSPECTS}"))
                .otherwise(None)
                .alias(SHARE_OF_TOP),
            )
        )
    return pl.concat(parts).sort(*groups, STEP_INDEX)


def _medians(ledger: Ledger, lead_rows: pl.DataFrame) -> pl.LazyFrame:
    """One row: median days lead -> first purchase (``convert``) and median usual gap
    between purchase days of repeat customers (``gap``)."""
    first = pl.lit(ledger.customers[L.first_purchase]).gather(pl.col(L.cid))
    convert = (
        lead_rows.lazy()
        .filter(pl.col(LINKED))
        .select(((first - pl.col(C.first_contact)).dt.total_days()).alias("v"))
        .drop_nulls()
    )
    gap = ledger.at(0).filter(pl.col(L.cum_purchase_days) >= 2).select(L.usual_gap_days)
    return pl.concat(
        [
            convert.select(pl.col("v").median().cast(pl.Float64).alias("convert")),
            gap.select(pl.col(L.usual_gap_days).median().cast(pl.Float64).alias("gap")),
        ],
        how="horizontal",
    )


def lifecycle_funnel(
    ledger: Ledger,
    *,
    years: int = 2,
    rules: StageRules = DEFAULT_STAGES,
    lead_rows: pl.DataFrame | None = None,
) -> FunnelReport:
    """The lifecycle funnel of ``ledger`` at its as-of date (module docstring).

    Parameters
    ----------
    ledger
        The customer ledger.
    years
        N of the last step, "still active after N years" (whole years >= 1).
    rules
        Stage thresholds; ``rules.mature_days`` defines the stable step.
    lead_rows
        :func:`crm_core.lifecycle.prospects.leads` of the ledger, when already at hand.

    Raises
    ------
    ValueError
        If ``years`` is not a whole number >= 1.
    """
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise ValueError(f"years must be a whole number >= 1, got {years!r}")
    labels = _labels(years, rules.mature_days)
    lead_rows = leads(ledger) if lead_rows is None else lead_rows
    entrants = _entrants(ledger, lead_rows, years, rules.mature_days).collect().lazy()
    linked = lead_rows.filter(pl.col(LINKED)).height
    overall, channel, cohort, medians = pl.collect_all(
        [
            _steps(entrants, [], labels),
            _steps(entrants, [CHANNEL], labels),
            _steps(entrants, [COHORT], labels),
            _medians(ledger, lead_rows),
        ]
    )
    return FunnelReport(
        as_of=ledger.as_of,
        years=years,
        mature_days=rules.mature_days,
        business_model=ledger.snapshot.manifest.business_model,
        steps=overall,
        by_channel=channel,
        by_cohort=cohort,
        walk_in_customers=ledger.customers.height - linked,
        median_days_to_first_purchase=medians["convert"][0],
        median_usual_gap_days=medians["gap"][0],
    )
