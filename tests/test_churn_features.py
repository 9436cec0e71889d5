"""Churn features and labels: hand-computed values on a tiny company, no future row leaking
into a cut's features, and the label equal to the activity rule applied by brute force."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import contact, customer, purchase
from polars.testing import assert_frame_equal

from crm_core.churn.columns import F, channel_share, touchpoint_contacts, touchpoint_cost
from crm_core.churn.cuts import labels, plan_cuts, population
from crm_core.churn.features import feature_frame, feature_spec
from crm_core.churn.model_features import model_features
from crm_core.clv.fitted import fit_models
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import load_snapshot
from crm_core.errors import NotEnoughData

CUT = date(2026, 6, 30)  # period 1 of a ledger as of 30 Sep 2026


def sale(cid: str, day: date, amount: float, channel: str = "web") -> dict:
    return purchase(cid, day, amount) | {"channel": channel}


def tiny_rows() -> tuple[list, list, list]:
    people = [
        customer("A", date(2025, 1, 10)),
        customer("B", date(2026, 5, 1)),
        customer("C", date(2024, 1, 5)),
    ]
    sales = [
        sale("A", date(2025, 1, 10), 100),
        sale("A", date(2025, 4, 10), 50),
        sale("A", date(2025, 10, 10), 80),
        sale("A", date(2026, 1, 20), 60),
        sale("A", date(2026, 2, 1), -20, "store"),
        sale("B", date(2026, 5, 1), 30),
        sale("C", date(2024, 1, 5), 10),
    ]
    service = [
        contact("A", date(2026, 3, 1), "call_center", 11.0),
        contact("A", date(2026, 5, 1), "web", 1.0),
    ]
    return people, sales, service


def features_at(ledger, cut: int, *, models: bool = False, spec=None) -> pl.DataFrame:
    spec = spec or feature_spec(ledger, with_models=models)
    fit = model_features(fit_models(ledger, cut), cut, 92.0).lazy() if models else None
    frame = feature_frame(ledger, spec, population(ledger, (cut,)), (cut,), fit).collect()
    return ledger.with_customers(frame.lazy().rename({F.cid: "cid"}), "customer_id").collect()


def test_tiny_company_features_by_hand(make_snapshot) -> None:
    people, sales, service = tiny_rows()
    ledger = build_ledger(make_snapshot(people, sales, service))
    rows = {r["customer_id"]: r for r in features_at(ledger, 1).iter_rows(named=True)}
    assert set(rows) == {"A", "B"}  # C lapsed in 2025; nobody acquired after the cut
    a = rows["A"]
    # purchase days 10 Jan 25, 10 Apr 25, 10 Oct 25, 20 Jan 26 (the refund day nets < 0)
    assert a[F.days_since] == (CUT - date(2026, 1, 20)).days == 161
    assert a[F.usual_gap] == pytest.approx(375 / 3)
    assert a[F.lapse_days] == 500.0  # 4 x 125 days, above the one-year floor
    assert a[F.days_to_lapse] == 500 - 161
    assert a[F.gap_ratio] == pytest.approx(161 / 125)
    assert a[F.tenure_days] == (CUT - date(2025, 1, 10)).days
    assert a[F.purchase_days_total] == 4
    # quarter Apr-Jun 26: nothing; half-year Jan-Jun 26: 60 - 20; year Jul 25-Jun 26: + 80
    assert (a[F.revenue_q], a[F.revenue_h], a[F.revenue_y], a[F.revenue_prev_h]) == (
        0.0, 40.0, 120.0, 80.0,
    )  # fmt: skip
    assert a[F.spend_change] == pytest.approx(-0.5)
    assert (a[F.purchase_days_h], a[F.purchase_days_prev_h], a[F.frequency_change]) == (1, 1, 0)
    assert (a[F.contacts_h], a[F.contacts_y], a[F.service_cost_y]) == (2, 2, 12.0)
    assert (a[F.refunds_y], a[F.refund_amount_y], a[F.transactions_y]) == (1, 20.0, 3)
    assert a[channel_share("web")] == pytest.approx(2 / 3)
    assert a[channel_share("store")] == pytest.approx(1 / 3)
    assert a[touchpoint_contacts("call_center")] == 1 and a[touchpoint_cost("call_center")] == 11
    b = rows["B"]
    assert b[F.days_since] == 60 and b[F.usual_gap] is None and b[F.gap_ratio] is None
    assert b[F.lapse_days] == 365.0 and b[F.spend_change] is None
    assert b[F.revenue_y] == 30.0 and b[F.refunds_y] == 0 and b[F.contacts_y] == 0
    assert b[touchpoint_contacts("web")] == 0
    assert b[channel_share("store")] == 0.0


def test_rows_after_the_cut_change_nothing(make_snapshot) -> None:
    """The columns (commonest channels and touchpoints) are chosen from the whole snapshot;
    given them, rows dated after the cut change no value."""
    people, sales, service = tiny_rows()
    later = (
        [customer("D", date(2026, 7, 15))],
        [sale("A", date(2026, 7, 5), 500, "phone"), sale("A", date(2026, 8, 1), -40),
         sale("D", date(2026, 7, 15), 90), sale("B", date(2026, 7, 1), 25)],
        [contact("B", date(2026, 7, 2), "field", 120.0)],
    )  # fmt: skip
    extended = build_ledger(make_snapshot(people + later[0], sales + later[1], service + later[2]))
    spec = feature_spec(extended, with_models=False)
    assert channel_share("phone") in spec.names  # a channel first used after the cut
    before = features_at(build_ledger(make_snapshot(people, sales, service)), 1, spec=spec)
    assert_frame_equal(before, features_at(extended, 1, spec=spec))


@pytest.mark.parametrize("which", ["retail", "subscription"])
def test_no_future_row_leaks_into_the_features(
    which: str, sample_dir: Path, subscription_dir: Path
) -> None:
    """Features at 30 Jun 2026 (fitted models included) from the snapshot cut there equal
    those from the full snapshot, whose rows run on to 30 Sep 2026 (later purchases,
    contacts, refunds, new customers and, for contracts, cancellations after the cut)."""
    snap = load_snapshot(sample_dir if which == "retail" else subscription_dir)
    full = build_ledger(snap)
    short = build_ledger(snap.cut(CUT))
    cut_full = full.grid["period_end"].to_list().index(CUT)
    spec = feature_spec(full)
    a = features_at(short, 0, models=True, spec=spec).drop(F.cut, F.cid)
    b = features_at(full, cut_full, models=True, spec=spec).drop(F.cut, F.cid)
    assert a.height > 500
    assert_frame_equal(a, b, check_exact=False, rel_tol=1e-9)
    if which == "subscription":  # the full snapshot does hold later cancellations
        later = snap.customers.filter(pl.col("churned_on") > CUT).collect()
        assert later.height > 0


def _active_by_rule(days: list[date], acquired: date, t: date) -> bool:
    """The activity rule in plain Python (as tests/conftest.py's brute force)."""
    bought = sorted(d for d in days if d <= t)
    if acquired > t:
        return False
    last = max([acquired, *bought[-1:]])
    gap = (bought[-1] - bought[0]).days / (len(bought) - 1) if len(bought) >= 2 else None
    lapse = 365.0 if gap is None else min(max(365.0, 4 * gap), 730.0)
    return (t - last).days <= lapse


def test_label_is_the_activity_rule_a_quarter_later(sample_dir: Path) -> None:
    snap = load_snapshot(sample_dir)
    ledger = build_ledger(snap)
    cut, later = ledger.period_end(2), ledger.period_end(1)
    got = ledger.with_customers(labels(ledger, (2,), 1).rename({F.cid: "cid"}), "customer_id")
    got = dict(got.select("customer_id", F.churned).collect().iter_rows())
    net: dict[tuple[str, date], float] = defaultdict(float)
    for cid, day, amount in (
        snap.transactions.select("customer_id", "date", "amount").collect().iter_rows()
    ):
        net[(cid, day)] += amount
    days: dict[str, list[date]] = defaultdict(list)
    for (cid, day), amount in net.items():
        if amount >= 0:
            days[cid].append(day)
    acquired = dict(snap.customers.select("customer_id", "acquired_on").collect().iter_rows())
    expected = {
        cid: not _active_by_rule(days[cid], when, later)
        for cid, when in acquired.items()
        if _active_by_rule(days[cid], when, cut)
    }
    assert got == expected
    assert 0 < sum(expected.values()) < len(expected)


def test_contract_label_is_churned_on_within_the_horizon(subscription_dir: Path) -> None:
    snap = load_snapshot(subscription_dir)
    ledger = build_ledger(snap)
    plan = plan_cuts(ledger, 1)
    assert plan.quarter == 3 and plan.test == 3  # monthly periods, a quarter = 3
    start, end = ledger.period_end(6), ledger.period_end(3)
    got = ledger.with_customers(labels(ledger, (6,), 3).rename({F.cid: "cid"}), "customer_id")
    got = dict(got.select("customer_id", F.churned).collect().iter_rows())
    raw = snap.customers.filter(pl.col("acquired_on") <= start).collect()
    running = raw.filter(pl.col("churned_on").is_null() | (pl.col("churned_on") > start))
    expected = {
        cid: churned is not None and churned <= end
        for cid, churned in running.select("customer_id", "churned_on").iter_rows()
    }
    assert got == expected


def test_model_features_are_the_fits_own(sample_dir: Path) -> None:
    ledger = build_ledger(load_snapshot(sample_dir))
    fit = fit_models(ledger, 1)
    rows = model_features(fit, 1, 92.0)
    x = fit.inputs["frequency"].to_numpy().astype(float)
    tx, age = fit.inputs["recency"].to_numpy(), fit.inputs["T"].to_numpy()
    np.testing.assert_allclose(rows[F.p_alive].to_numpy(), fit.bgnbd.p_alive(x, tx, age))
    expected = fit.bgnbd.expected_purchases(92.0 / 7.0, x, tx, age)
    np.testing.assert_allclose(rows[F.expected_purchases].to_numpy(), expected)
    assert rows[F.cut].unique().to_list() == [1]


def test_cut_plan_and_a_history_too_short(sample_dir: Path, make_snapshot) -> None:
    ledger = build_ledger(load_snapshot(sample_dir))
    plan = plan_cuts(ledger, 1)
    assert (plan.test, plan.train, plan.refit) == (1, (2, 3, 4, 5), (1, 2, 3, 4))
    year = plan_cuts(ledger, 4, training_cuts=2)
    assert (year.test, year.train, year.refit) == (4, (8, 9), (4, 5))
    assert plan.ends[1] == CUT and plan.cuts == (0, 1, 2, 3, 4, 5)
    short = build_ledger(
        make_snapshot([customer("A", date(2026, 5, 1))], [purchase("A", date(2026, 5, 1), 5.0)])
    )
    with pytest.raises(NotEnoughData, match="history of more than 6 months"):
        plan_cuts(short, 1)
    with pytest.raises(ValueError, match="at least 1"):
        plan_cuts(ledger, 0)
