"""customer_clv: per-customer CLV of snapshots, both business models, and its bands."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from conftest import contact, customer, purchase

from crm_core.clv import ModelFitError
from crm_core.clv.customer import customer_clv
from crm_core.clv.margin import contribution_margin
from crm_core.clv.uncertainty import clv_bands
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import Snapshot, load_snapshot
from crm_core.errors import SnapshotError

AS_OF = date(2025, 12, 31)
START = date(2024, 1, 1)


def _manifest(model: str) -> dict:
    return {
        "schema_version": 1,
        "as_of": AS_OF.isoformat(),
        "company": "Test",
        "business_model": model,
        "discount_rate": 0.10,
    }


def _customers(n: int, acquired: np.ndarray, churned: list[date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "acquired_on": [START + timedelta(days=int(a)) for a in acquired],
            "acquisition_channel": ["web"] * n,
            "acquisition_cost": [25.0] * n,
            "region": ["N"] * n,
            "churned_on": pl.Series(churned, dtype=pl.Date),
        }
    )


def _tx(owner: list[int], days: list[int], amount: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in owner],
            "date": [START + timedelta(days=int(d)) for d in days],
            "amount": amount,
            "cost": [round(a * 0.6, 2) if a > 0 else 0.0 for a in amount],
            "channel": ["web"] * len(owner),
        }
    )


def retail_snapshot(n: int = 400, seed: int = 1) -> Snapshot:
    """Customers buying at a Gamma-distributed weekly rate who drop out after a purchase
    with a Beta-distributed probability, with a few refunds (a small BG/NBD world)."""
    rng = np.random.default_rng(seed)
    horizon = (AS_OF - START).days
    acquired = np.sort(rng.integers(0, horizon - 30, size=n))
    rate = rng.gamma(0.8, 1 / 4.0, size=n) / 7  # purchases per day
    drop = rng.beta(1.0, 4.0, size=n)
    spend = rng.gamma(4.0, 10.0, size=n)
    owner, days, amount = [], [], []
    for i in range(n):
        day = int(acquired[i])
        owner.append(i), days.append(day), amount.append(round(spend[i], 2))
        while True:
            day += int(np.ceil(rng.exponential(1 / rate[i])))
            if day > horizon:
                break
            owner.append(i), days.append(day), amount.append(round(rng.gamma(4, spend[i] / 4), 2))
            if rng.random() < 0.03:  # a refund a week later
                owner.append(i), days.append(min(day + 7, horizon)), amount.append(-5.0)
            if rng.random() < drop[i]:
                break
    return Snapshot.from_frames(
        _manifest("non_contractual"),
        customers=_customers(n, acquired, [None] * n),
        transactions=_tx(owner, days, amount),
    )


@pytest.fixture(scope="module")
def retail() -> Snapshot:
    return retail_snapshot()


def test_retail_clv_is_sane(retail):
    res = customer_clv(retail, horizon_years=3)
    t = res.table
    assert res.method == (
        "BG/NBD + Gamma-Gamma (3-year horizon, margin 40% after direct and service costs)"
    )
    assert {
        "customer_id",
        "clv",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "model",
    } <= set(t.columns)
    assert t.height == 400 and t["customer_id"].n_unique() == 400
    assert t["clv"].is_finite().all() and t["clv"].min() >= 0
    assert t["p_alive"].min() >= 0 and t["p_alive"].max() <= 1
    assert res.customer_equity == pytest.approx(t["clv"].sum())
    assert res.average_clv == pytest.approx(t["clv"].mean())
    # no service costs here: the contribution margin is the gross margin of the last year
    tx = retail.transactions.filter(pl.col("date") > date(2024, 12, 31)).collect()
    assert res.margin == pytest.approx(1 - tx["cost"].sum() / tx["amount"].sum(), rel=1e-12)
    assert 0.35 < res.margin < 0.45  # cost is 60% of purchases, refunds cost nothing
    assert res.margin_source is not None and res.margin_source.trailing
    assert t["clv"].to_list() == sorted(t["clv"].to_list(), reverse=True)
    # a customer who bought often and recently outranks one who bought once long ago
    frequent = (
        t.filter(pl.col("frequency") >= 5).sort("recency", descending=True).row(0, named=True)
    )
    lapsed = t.filter((pl.col("frequency") == 0) & (pl.col("T") > 80)).row(0, named=True)
    assert frequent["clv"] > lapsed["clv"]


def test_retail_clv_matches_an_independent_sum(retail):
    # CLV = margin * E[spend] * sum_k (E[Y(t_k)] - E[Y(t_{k-1})]) / 1.1^(k/12), monthly
    # steps of 365.25/12 days over two years, through the models' public methods
    res = customer_clv(retail, horizon_years=2, discount_rate=0.10)
    row = res.table.filter(pl.col("frequency") == 3).row(0, named=True)
    weeks = np.arange(1, 25) * 365.25 / 12 / 7
    cum = res.bgnbd.expected_purchases(
        np.r_[0.0, weeks], row["frequency"], row["recency"], row["T"]
    )
    value = np.sum(np.diff(cum) * 1.1 ** -(np.arange(1, 25) / 12))
    spend = res.gamma_gamma.expected_spend(row["frequency"], row["monetary_value"])
    assert row["clv"] == pytest.approx(res.margin * spend * value, rel=1e-9)
    assert row["expected_purchases"] == pytest.approx(cum[-1], rel=1e-9)
    # without discounting the CLV is margin * spend * expected purchases
    flat = customer_clv(retail, horizon_years=2, discount_rate=0.0).table
    flat = flat.with_columns((pl.col("clv") / pl.col("expected_spend")).alias("ratio"))
    np.testing.assert_allclose(flat["ratio"], res.margin * flat["expected_purchases"], rtol=1e-9)


def test_time_unit_does_not_change_clv(retail):
    weeks = customer_clv(retail, time_unit="W")
    days = customer_clv(retail, time_unit="D")
    assert days.bgnbd.alpha == pytest.approx(weeks.bgnbd.alpha * 7, rel=1e-5)
    joined = weeks.table.join(days.table, on="customer_id", suffix="_d")
    np.testing.assert_allclose(joined["clv"], joined["clv_d"], rtol=1e-5, atol=1e-9)
    assert days.customer_equity == pytest.approx(weeks.customer_equity, rel=1e-6)


def test_longer_horizon_and_lower_rate_are_worth_more(retail):
    base = customer_clv(retail, horizon_years=3).customer_equity
    assert customer_clv(retail, horizon_years=5).customer_equity > base
    assert customer_clv(retail, horizon_years=3, discount_rate=0.02).customer_equity > base
    assert customer_clv(retail, margin=0.2).customer_equity < base


def _margin_snapshot(make_snapshot, *, recent: bool = True, service: float = 30.0):
    # as of 2026-09-30; the trailing twelve months are 2025-10-01 .. 2026-09-30
    old, new = date(2025, 9, 30), date(2026, 3, 1) if recent else date(2025, 6, 1)
    return make_snapshot(
        [customer("A", date(2024, 1, 5)), customer("B", date(2025, 2, 1))],
        [
            purchase("A", date(2024, 1, 5), 1000.0, 100.0),  # before the window
            purchase("A", old, 500.0, 450.0),  # the window's day before: outside
            purchase("A", new, 100.0, 50.0),
            purchase("B", new, 200.0, 80.0),
            purchase("B", new.replace(day=20), -20.0, 0.0),  # a refund
        ],
        [
            contact("A", date(2024, 6, 1), "call_center", 1000.0),  # before the window
            contact("B", new, "call_center", service),
        ],
    )


def test_contribution_margin_by_hand(make_snapshot):
    # window: revenue 100 + 200 - 20 = 280, direct cost 50 + 80 = 130, service 30
    m = contribution_margin(build_ledger(_margin_snapshot(make_snapshot)))
    assert m.ratio == pytest.approx((280 - 130 - 30) / 280)  # 3/7 = 42.9%
    assert (m.revenue, m.direct_cost, m.service_cost) == pytest.approx((280, 130, 30))
    assert (m.start, m.end, m.trailing) == (date(2025, 10, 1), date(2026, 9, 30), True)
    # no revenue in the last twelve months: the whole history, from the first purchase
    old = contribution_margin(build_ledger(_margin_snapshot(make_snapshot, recent=False)))
    revenue, direct, service = 1000 + 500 + 280, 100 + 450 + 130, 1000 + 30
    assert old.ratio == pytest.approx((revenue - direct - service) / revenue)  # 4.5%
    assert (old.start, old.trailing) == (date(2024, 1, 5), False)
    # service costs take the rest of the margin: no positive CLV, said in words
    with pytest.raises(SnapshotError, match="loses money on every sale"):
        contribution_margin(build_ledger(_margin_snapshot(make_snapshot, service=150.0)))


def test_default_margin_is_net_of_service_costs(retail):
    # the same customers, now with a service contact costing 10% of the last year's revenue
    tx = retail.transactions.collect()
    last_year = tx.filter(pl.col("date") > date(2024, 12, 31))
    revenue, direct = last_year["amount"].sum(), last_year["cost"].sum()
    served = Snapshot.from_frames(
        _manifest("non_contractual"),
        customers=retail.customers.collect(),
        transactions=tx,
        service_costs=pl.DataFrame(
            {
                "customer_id": ["C0000", "C0001"],
                "date": [date(2025, 6, 1), date(2024, 6, 1)],  # the second is outside
                "touchpoint": ["call_center", "call_center"],
                "cost": [0.1 * revenue, 1e6],
            }
        ),
    )
    res = customer_clv(served)
    assert res.margin == pytest.approx((revenue - direct - 0.1 * revenue) / revenue)
    assert res.method.endswith(f"margin {round(res.margin * 100)}% after direct and service costs)")
    assert res.margin_label == f"margin {round(res.margin * 100)}% after direct and service costs"
    # CLV is proportional to the margin: the same fit valued at the gross margin is larger
    gross = customer_clv(served, margin=1 - direct / revenue)
    assert gross.method.endswith("margin 40% as given)") and gross.margin_source is None
    np.testing.assert_allclose(
        res.table["clv"], gross.table["clv"] * res.margin / gross.margin, rtol=1e-6
    )


def test_bands_bracket_the_point_estimate(retail):
    res = customer_clv(retail)
    labels = res.table.select(
        "customer_id",
        pl.when(pl.col("frequency") > 2)
        .then(pl.lit("repeat"))
        .otherwise(pl.lit("occasional"))
        .alias("segment"),
    )
    bands = clv_bands(res, segments=labels, draws=40, seed=3)
    assert bands.equity_p10 < res.customer_equity < bands.equity_p90
    assert bands.equity_p10 < bands.equity_p50 < bands.equity_p90
    t = bands.table
    assert t["segment"].to_list() == ["All customers", "occasional", "repeat"]
    assert t["customers"].to_list()[0] == res.customers
    assert t["customers"][1] + t["customers"][2] == res.customers
    assert (t["average_p10"] <= t["average_p90"]).all()
    again = clv_bands(res, segments=labels, draws=40, seed=3)
    assert again.equity_p50 == bands.equity_p50  # seeded
    with pytest.raises(ValueError, match="labels"):
        clv_bands(res, segments=["a", "b"], draws=20)


def test_bad_arguments_and_degenerate_snapshots(retail):
    with pytest.raises(ValueError, match="horizon_years"):
        customer_clv(retail, horizon_years=0)
    with pytest.raises(ValueError, match="margin"):
        customer_clv(retail, margin=1.5)
    with pytest.raises(ValueError, match="discount_rate"):
        customer_clv(retail, discount_rate=-1)
    one_purchase = Snapshot.from_frames(
        _manifest("non_contractual"),
        customers=_customers(3, np.array([0, 10, 20]), [None] * 3),
        transactions=_tx([0, 1, 2], [0, 10, 20], [10.0, 20.0, 30.0]),
    )
    with pytest.raises(ModelFitError, match="repeat purchase"):
        customer_clv(one_purchase)
    losing = Snapshot.from_frames(
        _manifest("non_contractual"),
        customers=_customers(1, np.array([0]), [None]),
        transactions=_tx([0], [0], [10.0]).with_columns(pl.lit(12.0).alias("cost")),
    )
    losing_margin = r"contribution margin over the history to 2025-12-31 is -20\.0%"
    with pytest.raises(SnapshotError, match=losing_margin):
        customer_clv(losing)


def subscription_snapshot(n: int = 500, seed: int = 2) -> Snapshot:
    """Monthly plans from acquisition until cancellation; cancellation probability per
    month ~ Beta(0.8, 6) (an sBG world in months)."""
    rng = np.random.default_rng(seed)
    horizon = (AS_OF - START).days
    acquired = np.sort(rng.integers(0, horizon, size=n))
    months_paid = rng.geometric(rng.beta(0.8, 6.0, size=n))
    fee = rng.choice([20.0, 50.0, 100.0], size=n)
    churned, owner, days, amount = [], [], [], []
    acq_dates = [START + timedelta(days=int(a)) for a in acquired]
    for i, a in enumerate(acq_dates):
        bills = pl.select(
            pl.lit(a).dt.offset_by(f"{k}mo").alias(str(k)) for k in range(months_paid[i] + 1)
        )
        bill_dates = list(bills.row(0))
        end = bill_dates[-1]
        churned.append(end if end <= AS_OF else None)
        for b in bill_dates[:-1]:
            if b <= AS_OF:
                owner.append(i), days.append((b - START).days), amount.append(float(fee[i]))
    return Snapshot.from_frames(
        _manifest("contractual"),
        customers=_customers(n, acquired, churned),
        transactions=_tx(owner, days, amount),
    )


def test_contractual_clv_by_hand():
    snap = subscription_snapshot()
    res = customer_clv(snap, horizon_years=2, discount_rate=0.10)
    t = res.table
    assert res.method == (
        "sBG retention, monthly renewals (2-year horizon, margin 40% after direct and service "
        "costs)"
    )
    assert res.sbg is not None and res.bgnbd is None
    active = snap.customers.filter(pl.col("churned_on").is_null()).collect()
    assert sorted(t["customer_id"].to_list()) == sorted(active["customer_id"].to_list())
    # the simulated Beta(0.8, 6) is recovered within 4 standard errors
    assert abs(res.sbg.alpha - 0.8) < 4 * res.sbg.alpha_se
    assert abs(res.sbg.beta - 6.0) < 4 * res.sbg.beta_se
    # one customer by hand: renewals on monthly anniversaries after as-of, each kept with
    # probability S(m - 1 + k) / S(m - 1), discounted from its date, within 2 years
    row = t.sort("periods_paid").row(t.height // 2, named=True)
    acquired = active.filter(pl.col("customer_id") == row["customer_id"])["acquired_on"][0]
    m = row["periods_paid"]
    value = 0.0
    for k in range(1, 40):
        when = pl.select(pl.lit(acquired).dt.offset_by(f"{m + k - 1}mo")).item()
        years = (when - AS_OF).days / 365.25
        if years > 2:
            break
        if k == 1:
            assert years == pytest.approx(row["years_to_next_renewal"])
            assert years > 0
        value += res.sbg.survival(m - 1 + k) / res.sbg.survival(m - 1) * 1.1**-years
    assert row["clv"] == pytest.approx(res.margin * row["revenue_per_period"] * value, rel=1e-3)
    bands = clv_bands(res, draws=30, seed=1)
    assert bands.equity_p10 < res.customer_equity < bands.equity_p90


@pytest.fixture(scope="module", params=["non_contractual", "contractual"])
def sample(request, tmp_path_factory) -> Snapshot:
    from crm_core.sample import generate_sample

    path = generate_sample(
        tmp_path_factory.mktemp(request.param) / "snap",
        customers=2000,
        seed=7,
        business_model=request.param,
    )
    return load_snapshot(path)


def test_sample_company_clv(sample):
    res = customer_clv(sample)
    t = res.table
    assert t.height > 500
    assert t["clv"].is_finite().all() and t["clv"].min() >= 0
    assert res.customer_equity > 0
    # a few customers hold much of the equity, but not all of it
    top = t.head(t.height // 10)["clv"].sum() / res.customer_equity
    assert 0.2 < top < 0.9
    if sample.manifest.contractual:
        assert res.sbg is not None
        # the generator draws monthly churn from Beta(0.8, 7.5) scaled by channel
        assert 0.4 < res.sbg.alpha < 1.5 and 3 < res.sbg.beta < 15
    else:
        assert res.bgnbd is not None and res.gamma_gamma is not None
        assert 0 < res.expected_active <= t.height


def test_sample_company_clv_one_and_two_quarters_earlier(sample):
    # the Overview fits at the as-of date and one quarter before it
    from crm_core.data.expressions import add_months

    now = customer_clv(sample)
    for months in (3, 6):
        day = add_months(sample.as_of, -months)
        earlier = customer_clv(sample.cut(day))
        assert earlier.as_of == day and earlier.margin_source.end == day
        assert 0 < earlier.customers <= now.customers
        assert earlier.customer_equity > 0 and earlier.table["clv"].is_finite().all()
        if sample.manifest.contractual:  # running contracts at that date
            running = sample.customers.filter(
                (pl.col("acquired_on") <= day)
                & (pl.col("churned_on").is_null() | (pl.col("churned_on") > day))
            )
            assert earlier.customers == running.collect().height


def test_bands_refuse_a_spend_model_without_a_finite_mean(retail):
    from dataclasses import replace

    res = customer_clv(retail)
    shaky = replace(res, gamma_gamma=replace(res.gamma_gamma, q=0.5, covariance=np.eye(3) * 0.01))
    with pytest.raises(ValueError, match="infinite mean"):
        clv_bands(shaky, draws=20)


def test_top_share_and_parameter_table(retail):
    from crm_core.clv.customer import parameter_table

    res = customer_clv(retail)
    clv = res.table["clv"].to_numpy()  # sorted, highest first
    assert res.top_share(0.1) == pytest.approx(clv[:40].sum() / clv.sum())
    assert res.top_share(1.0) == pytest.approx(1.0)
    assert res.top_share(1e-9) == pytest.approx(clv[0] / clv.sum())  # at least one customer
    with pytest.raises(ValueError, match="fraction"):
        res.top_share(0)
    params = parameter_table(res)
    assert params.columns == ["model", "parameter", "meaning", "estimate", "standard_error"]
    assert params["parameter"].to_list() == ["r", "alpha", "a", "b", "p", "q", "gamma"]
    bg, gg = res.bgnbd, res.gamma_gamma
    assert params["estimate"].to_list() == [bg.r, bg.alpha, bg.a, bg.b, gg.p, gg.q, gg.gamma]
    assert params["standard_error"].to_list() == [
        bg.r_se, bg.alpha_se, bg.a_se, bg.b_se, gg.p_se, gg.q_se, gg.gamma_se
    ]  # fmt: skip
    assert f"{bg.r / bg.alpha:.2f} purchases a week" in params["meaning"][1]
    subs = parameter_table(customer_clv(subscription_snapshot()))
    assert subs["model"].to_list() == ["sBG", "sBG"]
    assert "cancel after their first month" in subs["meaning"][1]


def test_bands_by_several_groupings_share_the_draws(retail):
    from crm_core.clv.uncertainty import clv_bands_by

    res = customer_clv(retail)
    halves = pl.Series(["first" if i % 2 else "second" for i in range(res.customers)])
    by = clv_bands_by(res, {"all": None, "halves": halves}, draws=30, seed=5)
    alone = clv_bands(res, segments=halves, draws=30, seed=5)
    assert by["halves"].table.equals(alone.table)
    assert by["all"].equity_p50 == by["halves"].equity_p50 == alone.equity_p50
    assert by["all"].table["segment"].to_list() == ["All customers"]
    with pytest.raises(ValueError, match="draws"):
        clv_bands_by(res, {"all": None}, draws=5)
