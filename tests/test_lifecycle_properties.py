"""Property tests of the lifecycle stages on random small histories.

* stages are mutually exclusive and exhaustive: every customer acquired by the date has
  exactly one customer stage, every other row is an open lead;
* a date's stages use only the data up to it (same as the cut snapshot);
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

from crm_core.data.snapshot import Snapshot
from crm_core.lifecycle.report import (
    CUSTOMER_STAGES,
    LEAD_DROPPED,
    NOT_YET,
    PROSPECT,
    STAGES,
    StageRules,
    assign_stages,
    stage_transitions,
)

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
    trend_months=st.integers(1, 9),
    growth_rise=st.floats(0, 2),
    decline_drop=st.floats(0, 1),
    decline_gap_multiple=st.floats(0, 5),
    decline_after_days=st.integers(0, 200),
    churn_gap_multiple=st.floats(0, 6),
    churn_after_days=st.integers(1, 400),
    churn_max_days=st.none(),
    prospect_days=st.one_of(st.none(), st.integers(1, 500)),
)
earlier = st.integers(1, SPAN).map(lambda d: AS_OF - timedelta(days=d))


@settings(max_examples=60, deadline=None)
@given(snap=snapshots(), rules=rules, day=st.one_of(st.just(AS_OF), earlier))
def test_stages_are_exclusive_and_exhaustive(snap: Snapshot, rules: StageRules, day) -> None:
    table = assign_stages(snap, day, rules)
    acquired = snap.customers.filter(pl.col("acquired_on") <= day).collect()
    customers = table.filter(pl.col("customer_id").is_not_null())
    assert sorted(customers["customer_id"]) == sorted(acquired["customer_id"])
    assert customers["stage"].is_in(list(CUSTOMER_STAGES)).all()
    leads = table.filter(pl.col("customer_id").is_null())
    assert (leads["stage"] == PROSPECT).all()
    assert leads["prospect_id"].n_unique() == leads.height
    assert set(table["stage"]) <= set(STAGES)
    # a customer is never also an open lead
    open_ids = set(leads["prospect_id"])
    assert not open_ids & set(customers["prospect_id"].drop_nulls())


@settings(max_examples=40, deadline=None)
@given(snap=snapshots(), rules=rules, day=earlier)
def test_earlier_dates_use_only_earlier_data(snap: Snapshot, rules: StageRules, day) -> None:
    assert_frame_equal(assign_stages(snap, day, rules), assign_stages(snap.cut(day), None, rules))


@settings(max_examples=60, deadline=None)
@given(snap=snapshots(), rules=rules, days=st.lists(earlier, min_size=1, max_size=2, unique=True))
def test_transitions_conserve_customers_and_leads(snap: Snapshot, rules: StageRules, days):
    start, end = min(days), (max(days) if len(days) == 2 else AS_OF)
    t = stage_transitions(snap, start, end, rules)
    before = assign_stages(snap, start, rules)["stage"].value_counts()
    after = assign_stages(snap, end, rules)["stage"].value_counts()
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
    assert dict(out.iter_rows()) == dict(before.iter_rows())
    assert dict(into.iter_rows()) == dict(after.iter_rows())
    assert NOT_YET not in t.flows["to_stage"].to_list()
    assert LEAD_DROPPED not in t.flows["from_stage"].to_list()
    # only leads can drop out; customers never leave the base
    dropped = t.flows.filter(pl.col("to_stage") == LEAD_DROPPED)
    assert (dropped["from_stage"] == PROSPECT).all()
