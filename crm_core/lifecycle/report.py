"""Customer lifecycle: which stage every customer is in, how long they stay, where they go.

The domain brief (section 5) describes the relationship as exploration, formation,
stability and decline, or in six stages potential, acquisition, growth, maturity, decline
and termination, with one management aim: shorten exploration, speed up formation,
lengthen stability, avoid decline. The product's stages:

==========  ===========  ===================================================================
stage       brief        rule (:class:`~crm_core.data.rules.StageRules`)
==========  ===========  ===================================================================
prospect    potential    a lead of the prospects table, open on the date (not a customer)
new         exploration  active, acquired less than ``new_days`` ago
growing     formation    active, spend rising or acquired less than ``mature_days`` ago
mature      stability    active, the rest
declining   decline      active but overdue, spend fallen, or (optionally) P(alive) low
churned     termination  not active by the product's one activity rule
==========  ===========  ===================================================================

Every customer stage comes from the customer ledger at the ledger's period ends (quarters;
months for contractual businesses): its ``stage`` column under the default thresholds, the
same rules re-evaluated on its columns under others (:mod:`crm_core.lifecycle.stages`).
"Churned" is never a threshold of this page: it is the activity rule of every page, so the
active customers here are the Overview's.

:func:`lifecycle_report` is the page's entry point: stages at the as-of date and at a
comparison period end, the share of customers, twelve-month revenue and CLV (the shared
valuation) in each stage, time in stage, the stage mix at every period end, transitions
with the value that moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.valuation import ClvResult
from crm_core.data.ledger import CHURNED, CUSTOMER_STAGES, DECLINING, L
from crm_core.data.rules import DEFAULT_STAGES, StageRules
from crm_core.errors import NotEnoughData
from crm_core.lifecycle.history import (
    CUSTOMERS,
    PERIODS_IN_STAGE,
    stage_mix,
    with_time_in_stage,
)
from crm_core.lifecycle.prospects import leads, open_at
from crm_core.lifecycle.stages import (
    LOW_P_ALIVE,
    PROSPECT,
    SIGNALS,
    STAGE,
    STAGES,
    assign_stages,
    stage_panel,
    uses_ledger_stages,
)
from crm_core.lifecycle.transitions import MovedValue, Transitions, stage_transitions, transitions
from crm_core.lifecycle.values import CLV, P_ALIVE, REVENUE_TTM, with_values
from crm_core.metrics.quarters import quarter_periods
from crm_core.metrics.registry import METRICS, Kpi, MetricInputs, metric_value

__all__ = [
    "CARD_KEYS",
    "STAGES",
    "LifecycleReport",
    "MovedValue",
    "StageRules",
    "Transitions",
    "assign_stages",
    "lifecycle_report",
    "stage_key",
    "stage_transitions",
]

SHARE_OF_CUSTOMERS = "share_of_customers"
SHARE_OF_REVENUE = "share_of_revenue"
SHARE_OF_CLV = "share_of_clv"
SIGNAL = "signal"


def stage_key(stage: str) -> str:
    """Registry key of a stage count (``"stage_new"``)."""
    return f"stage_{stage}"


CARD_KEYS: tuple[str, ...] = (
    "active_customers",
    *(stage_key(s) for s in CUSTOMER_STAGES),
)
"""The registry metrics the page shows as cards: active customers and the stage counts."""

HISTORY_QUARTERS = 8
_KEPT = (
    L.cid,
    STAGE,
    L.overdue,
    L.spend_drop,
    L.spend_rising,
    LOW_P_ALIVE,
    PERIODS_IN_STAGE,
    REVENUE_TTM,
    CLV,
    P_ALIVE,
)
"""Columns of :attr:`LifecycleReport.stages` (a report is cached per set of thresholds: at
a million customers every column kept costs megabytes)."""


@dataclass(frozen=True)
class LifecycleReport:
    """Everything the Lifecycle page shows about stages.

    Attributes
    ----------
    as_of, compare_to
        The date described and the earlier period end it is compared with.
    compare_quarters
        Quarters between them.
    currency, business_model, contractual, period_months
        From the ledger (periods of 3 months, or 1 for contractual businesses).
    rules, default_rules
        The stage thresholds used, and whether they are the product's (then every stage
        count equals the registry's ``stage_*`` metric).
    stages
        One row per customer at ``as_of``, in ``cid`` order (gather customer columns with
        ``Ledger.with_customers``): ``cid, stage, overdue, spend_drop, spend_rising,
        low_p_alive, periods_in_stage, revenue_ttm`` and (null where not valued) ``clv,
        p_alive`` (currency and fraction).
    previous_stages
        ``cid, stage, revenue_ttm, clv`` at ``compare_to``.
    summary, previous_summary
        One row per stage in lifecycle order: ``stage, customers`` (open leads for the
        prospect stage), ``share_of_customers`` (of every customer acquired; null for
        prospects), ``revenue_ttm, share_of_revenue, clv, share_of_clv`` (currency and
        fractions; CLV null without a valuation), ``periods_in_stage`` (mean, periods).
    cards
        Active customers and the five stage counts, with the value at ``compare_to`` as
        ``previous`` and the last quarter ends as history; registry labels.
    transitions
        Stage transitions from ``compare_to`` to ``as_of``, valued at ``compare_to``.
    mix
        :func:`~crm_core.lifecycle.history.stage_mix`: every period end.
    decline_signals
        ``signal, customers``: declining customers showing each signal at ``as_of``.
    clv_method
        How CLV was computed, or why it is missing.
    """

    as_of: date
    compare_to: date
    compare_quarters: int
    currency: str
    business_model: str
    contractual: bool
    period_months: int
    rules: StageRules
    default_rules: bool
    stages: pl.DataFrame
    previous_stages: pl.DataFrame
    summary: pl.DataFrame
    previous_summary: pl.DataFrame
    cards: tuple[Kpi, ...]
    transitions: Transitions
    mix: pl.DataFrame
    decline_signals: pl.DataFrame
    clv_method: str

    def card(self, key: str) -> Kpi:
        """The card of registry metric ``key`` (``KeyError`` if not shown)."""
        for k in self.cards:
            if k.key == key:
                return k
        raise KeyError(key)

    def stage_value(self, stage: str, column: str, *, previous: bool = False) -> object:
        """One cell of :attr:`summary` (or :attr:`previous_summary`)."""
        table = self.previous_summary if previous else self.summary
        return table.filter(pl.col(STAGE) == stage)[column][0]


def _summary(table: pl.DataFrame, prospects: int, with_clv: bool) -> pl.DataFrame:
    totals = table.select(
        pl.len().cast(pl.Float64).alias(CUSTOMERS),
        pl.col(REVENUE_TTM).sum(),
        pl.col(CLV).fill_null(0.0).sum(),
    ).row(0, named=True)
    per_stage = table.group_by(pl.col(STAGE).cast(pl.String)).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        pl.col(REVENUE_TTM).sum(),
        pl.col(CLV).fill_null(0.0).sum(),
        pl.col(PERIODS_IN_STAGE).mean(),
    )
    base = pl.DataFrame({STAGE: list(STAGES)})

    def share(column: str, name: str) -> pl.Expr:
        whole = totals[column]
        if not whole or whole <= 0 or (column == CLV and not with_clv):
            return pl.lit(None, dtype=pl.Float64).alias(name)
        return pl.when(pl.col(STAGE) != PROSPECT).then(pl.col(column) / whole).alias(name)

    return (
        base.join(per_stage, on=STAGE, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col(STAGE) == PROSPECT)
            .then(pl.lit(prospects, pl.Int64))
            .otherwise(pl.col(CUSTOMERS).fill_null(0))
            .alias(CUSTOMERS),
            pl.when(pl.col(STAGE) != PROSPECT).then(pl.col(REVENUE_TTM).fill_null(0.0)),
            pl.when((pl.col(STAGE) != PROSPECT) & pl.lit(with_clv)).then(
                pl.col(CLV).fill_null(0.0)
            ),
        )
        .with_columns(
            share(CUSTOMERS, SHARE_OF_CUSTOMERS),
            share(REVENUE_TTM, SHARE_OF_REVENUE),
            share(CLV, SHARE_OF_CLV),
        )
        .select(
            STAGE,
            CUSTOMERS,
            SHARE_OF_CUSTOMERS,
            REVENUE_TTM,
            SHARE_OF_REVENUE,
            CLV,
            SHARE_OF_CLV,
            PERIODS_IN_STAGE,
        )
    )


def _cards(
    inputs: MetricInputs, mix: pl.DataFrame, compare_quarters: int, default_rules: bool
) -> tuple[Kpi, ...]:
    """Active customers and stage counts; the registry's values under the default rules."""
    ledger = inputs.ledger
    step = quarter_periods(ledger)
    quarters = [q for q in range(HISTORY_QUARTERS - 1, -1, -1) if q * step < ledger.periods]

    def counted(stage: str, q: int) -> float:
        rows = mix.filter((pl.col(L.period) == q * step) & (pl.col(STAGE) == stage))
        return float(rows[CUSTOMERS].sum())

    def value(key: str, q: int) -> float | None:
        if default_rules or key in ("active_customers", stage_key(CHURNED)):
            return metric_value(inputs, key, q)
        return counted(key.removeprefix("stage_"), q)

    cards = []
    for key in CARD_KEYS:
        metric = METRICS[key]
        history = tuple(value(key, q) for q in quarters)
        cards.append(
            Kpi(
                key=key,
                label=metric.label,
                value=history[-1],
                previous=value(key, compare_quarters),
                kind=metric.kind,
                help=metric.definition,
                higher_is_better=metric.higher_is_better,
                history=history,
            )
        )
    return tuple(cards)


def _decline_signals(stages: pl.DataFrame) -> pl.DataFrame:
    declining = stages.filter(pl.col(STAGE) == DECLINING)
    return pl.DataFrame(
        {SIGNAL: list(SIGNALS), CUSTOMERS: [int(declining[s].sum()) for s in SIGNALS]},
        schema={SIGNAL: pl.String, CUSTOMERS: pl.Int64},
    )


def lifecycle_report(
    inputs: MetricInputs,
    rules: StageRules = DEFAULT_STAGES,
    compare_quarters: int = 1,
    *,
    clv_before: ClvResult | None = None,
    p_alive_model: BGNBDModel | None = None,
    lead_rows: pl.DataFrame | None = None,
) -> LifecycleReport:
    """Stages, time in stage, value by stage and transitions.

    Parameters
    ----------
    inputs
        The metric inputs of the ledger (:func:`crm_core.metrics.registry.metric_inputs`),
        with the shared valuation at the as-of date as ``inputs.clv[0]`` when fitted.
    rules
        Stage thresholds (default: the product's, those of the ledger and the registry).
    compare_quarters
        Quarters back to the comparison date (1: the previous quarter end).
    clv_before
        The shared valuation at the comparison date, to value transitions (default
        ``inputs.clv[compare_quarters]`` when present).
    p_alive_model
        The shared BG/NBD fit, needed when ``rules.decline_p_alive`` is set.
    lead_rows
        :func:`crm_core.lifecycle.prospects.leads` of the ledger, when already at hand.

    Raises
    ------
    NotEnoughData
        If the ledger does not reach back to the comparison date.
    ValueError
        If ``compare_quarters`` < 1 or the trend window is not a whole number of periods.
    """
    ledger = inputs.ledger
    if isinstance(compare_quarters, bool) or not isinstance(compare_quarters, int):
        raise ValueError(f"compare_quarters must be a whole number, got {compare_quarters!r}")
    if compare_quarters < 1:
        raise ValueError(f"compare_quarters must be at least 1, got {compare_quarters}")
    before = compare_quarters * quarter_periods(ledger)
    if before >= ledger.periods:
        raise NotEnoughData(
            f"the history starts {ledger.grid['period_start'][-1]:%d %b %Y}: it does not reach "
            f"back {compare_quarters} quarter(s) before {ledger.as_of:%d %b %Y}"
        )
    now_clv = inputs.clv.get(0)
    clv_before = clv_before if clv_before is not None else inputs.clv.get(compare_quarters)
    panel = with_time_in_stage(stage_panel(ledger, rules, p_alive_model))
    now = assign_stages(ledger, 0, stages=panel, customer_columns=False)
    now = with_values(now, ledger, now_clv)
    earlier = assign_stages(ledger, before, stages=panel, customer_columns=False, facts=())
    earlier = with_values(
        earlier.select(L.cid, STAGE, PERIODS_IN_STAGE, REVENUE_TTM), ledger, clv_before
    )
    lead_rows = leads(ledger) if lead_rows is None else lead_rows
    start, end = ledger.period_end(before), ledger.as_of

    def open_leads(day: date) -> int:
        return int(lead_rows.select(open_at(day, rules.prospect_days).sum()).item())

    mix = stage_mix(panel, ledger)
    with_clv = now_clv is not None
    default_rules = uses_ledger_stages(ledger, rules)
    return LifecycleReport(
        as_of=end,
        compare_to=start,
        compare_quarters=compare_quarters,
        currency=ledger.currency,
        business_model=ledger.snapshot.manifest.business_model,
        contractual=ledger.contractual,
        period_months=ledger.period_months,
        rules=rules,
        default_rules=default_rules,
        stages=now.select(_KEPT),
        previous_stages=earlier.select(L.cid, STAGE, REVENUE_TTM, CLV),
        summary=_summary(now, open_leads(end), with_clv),
        previous_summary=_summary(earlier, open_leads(start), clv_before is not None),
        cards=_cards(inputs, mix, compare_quarters, default_rules),
        transitions=transitions(
            earlier,
            now,
            lead_rows,
            start,
            end,
            rules.prospect_days,
            with_clv=clv_before is not None,
        ),
        mix=mix,
        decline_signals=_decline_signals(now),
        clv_method=now_clv.method if with_clv else (inputs.clv_note or "CLV not computed"),
    )
