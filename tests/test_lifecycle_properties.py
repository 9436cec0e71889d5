"""Property tests of the lifecycle stages on random small histories.

* stages are mutually exclusive and exhaustive: every customer acquired by a period end
  has exactly one customer stage, and the default thresholds reproduce the ledger's stage;
* a period end's stages use only the data up to it (same as the cut snapshot's ledger);
* transitions conserve customers and leads: every one at the earlier date goes to exactly
  one node, every one at the later date comes from exactly one.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from conftest import SCHEMAS
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crm_core.data.ledger import build_ledger
from crm_core.data.rules import StageRules
from crm_core.data.snapshot import Snapshot
from crm_core.lifecycle.prospects import leads, open_at
from crm_core.lifecycle.report import assign_stages, stage_transitions
from crm_core.lifecycle.stages import CUSTOMER_STAGES, PROSPECT, evaluate_stages
from crm_core.lifecycle.transitions import LEAD_DROPPED, NOT_YET

AS_OF = date(2026, 9, 30)
SPAN = 900  # days of history


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    contractual = draw(st.booleans())
    n = draw(st.integers(1, 7))
    customers, tx, leads = [], [], []
    for i in range(n):
        cid = f"c{i}"
        acquired = AS_OF - timedelta(days=draw(st.integers(0, SPAN)))
        churned = None
        if contractual and draw(st.booleans()):
            churned = acquired + timedelta(days=draw(st.integers(0, SPAN)))
        customers.append(
            {
                "customer_id": cid,
                "acquired_on": acquired,
                "acquisition_channel": draw(st.sampled_from(["Web", "Store"])),
                "acquisition_cost": 10.0,
                "region": "North",
                "churned_on": churned,
            }
        )
        span = (AS_OF - acquired).days
        for offset in draw(st.lists(st.integers(0, span), max_size=12)):
            tx.append(
                {
                    "customer_id": cid,
                    "date": acquired + timedelta(days=offset),
                    "amount": float(draw(st.sampled_from([-40, -5, 0, 10, 60, 250]))),
                    "cost": 1.0,
                    "channel": "web",
                }
            )
    ids = [c["customer_id"] for c in customers]
    for j in range(draw(st.integers(0, 5))):
        converted = draw(st.one_of(st.none(), st.sampled_from(ids)))
        leads.append(
            {
                "prospect_id": f"p{j}",
                "first_contact": AS_OF - timedelta(days=draw(st.integers(0, SPAN))),
                "channel": "Events",
                "converted_customer_id": converted,
            }
        )
    return Snapshot.from_frames(
        {
            "schema_version": 1,
            "as_of": AS_OF.isoformat(),
            "company": "Random Co",
            "business_model": "contractual" if contractual else "non_contractual",
        },
        customers=pl.DataFrame(customers, schema=SCHEMAS["customers"]),
        transactions=pl.DataFrame(tx, schema=SCHEMAS["transactions"]),
        prospects=pl.DataFrame(leads, schema=SCHEMAS["prospects"]),
    )


rules = st.builds(
    StageRules,
    new_days=st.integers(1, 200),
    mature_days=st.integers(1, 500),
    trend_months=st.sampled_from([3, 6, 9, 12]),
    growth_rise=st.floats(0, 2),
    decline_drop=st.floats(0, 1),
    decline_gap_multiple=st.floats(0, 5),
    decline_after_days=st.integers(0, 200),
    prospect_days=st.one_of(st.none(), st.integers(1, 500)),
)
periods = st.integers(0, 12)


def fit(period: int, ledger) -> int:
    return min(period, ledger.periods - 1)


@settings(max_examples=60, deadline=None)
@given(snap=snapshots(), rules=rules, period=periods)
def test_stages_are_exclusive_and_exhaustive(snap: Snapshot, rules: StageRules, period) -> None:
    ledger = build_ledger(snap)
    k = fit(period, ledger)
    rules = rules if not ledger.contractual else StageRules(new_days=rules.new_days)
    table = assign_stages(ledger, k, rules)
    acquired = ledger.customers.filter(pl.col("acquired_on") <= ledger.period_end(k))
    assert table["customer_id"].to_list() == acquired["customer_id"].to_list()
    assert table["stage"].cast(pl.String).is_in(list(CUSTOMER_STAGES)).all()
    # churned is the activity rule, whatever the thresholds
    active = ledger.at(k).filter(pl.col("acquired")).collect()
    churned = table.filter(pl.col("stage") == "churned")["cid"].sort()
    assert churned.to_list() == active.filter(~pl.col("active"))["cid"].sort().to_list()
    # the default thresholds evaluated on the ledger's columns give its stage column
    assert evaluate_stages(ledger, StageRules())["stage"].equals(ledger.panel["stage"])


@settings(max_examples=40, deadline=None)
@given(snap=snapshots(), rules=rules, period=st.integers(1, 12))
def test_earlier_period_ends_use_only_earlier_data(snap: Snapshot, rules: StageRules, period):
    ledger = build_ledger(snap)
    if ledger.contractual:
        rules = StageRules(trend_months=rules.trend_months, new_days=rules.new_days)
    k = fit(period, ledger)
    cut = build_ledger(snap.cut(ledger.period_end(k)))
    mine = assign_stages(ledger, k, rules).drop("cid", "period")
    assert_frame_equal(mine, assign_stages(cut, 0, rules).drop("cid", "period"))


@settings(max_examples=60, deadline=None)
@given(snap=snapshots(), rules=rules, days=st.lists(periods, min_size=2, max_size=2, unique=True))
def test_transitions_conserve_customers_and_leads(snap: Snapshot, rules: StageRules, days):
    ledger = build_ledger(snap)
    end, start = (fit(d, ledger) for d in sorted(days))
    if start == end:
        return
    t = stage_transitions(ledger, start, end, rules)
    lead_rows = leads(ledger)

    def counts(k: int) -> dict[str, int]:
        stages = assign_stages(ledger, k, rules)["stage"].cast(pl.String).value_counts()
        out = dict(stages.iter_rows())
        opened = lead_rows.filter(open_at(ledger.period_end(k), rules.prospect_days)).height
        return out | ({PROSPECT: opened} if opened else {})

    out = (
        t.flows.filter(pl.col("from_stage") != NOT_YET)
        .group_by("from_stage")
        .agg(pl.col("customers").sum())
    )
    into = (
        t.flows.filter(pl.col("to_stage") != LEAD_DROPPED)
        .group_by("to_stage")
        .agg(pl.col("customers").sum())
    )
    assert dict(out.iter_rows()) == counts(start)
    assert dict(into.iter_rows()) == counts(end)
    assert NOT_YET not in t.flows["to_stage"].to_list()
    assert LEAD_DROPPED not in t.flows["from_stage"].to_list()
    # only leads can drop out; customers never leave the base
    dropped = t.flows.filter(pl.col("to_stage") == LEAD_DROPPED)
    assert (dropped["from_stage"] == PROSPECT).all()
