"""ABC tiers, top share, whale curve, value matrix and cost to serve on hand-made frames,
from the customer ledger."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core.clv.fitted import fit_models
from crm_core.clv.valuation import value
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import Snapshot, load_snapshot
from crm_core.metrics.compute import ledger_metrics
from crm_core.metrics.profit import PROFIT, ProfitWindow, customer_profit
from crm_core.metrics.registry import metric_value
from crm_core.segments.cost_to_serve import window_rows
from crm_core.segments.report import (
    QUADRANTS,
    TIERS,
    SegmentReport,
    add_costs,
    assign_tiers,
    filter_options,
    tier_table,
    top_share,
    validate_cutoffs,
    whale_curve,
    whale_stats,
)
from crm_core.segments.report import segment_report as ledger_report
from crm_core.segments.whale import thin_curve

AS_OF = date(2026, 9, 30)
IN_WINDOW = date(2026, 6, 1)
BEFORE = date(2020, 1, 1)


def segment_report(snap: Snapshot, **kw) -> SegmentReport:
    """The report of the snapshot's ledger at its as-of date."""
    return ledger_report(build_ledger(snap), **kw)


def profits_frame(profits: list[float], ids: list[str] | None = None) -> pl.LazyFrame:
    ids = ids or [f"c{i:03d}" for i in range(len(profits))]
    return pl.LazyFrame(
        {"customer_id": ids, PROFIT: profits}, schema_overrides={PROFIT: pl.Float64}
    )


def tiers_of(profits: list[float], cutoffs=(0.1, 0.2, 0.7), ids=None) -> dict[str, str]:
    out = assign_tiers(profits_frame(profits, ids), cutoffs).collect()
    return dict(zip(out["customer_id"], out["tier"].cast(pl.String), strict=True))


def counts(profits: list[float], cutoffs=(0.1, 0.2, 0.7)) -> tuple[int, int, int]:
    tiers = list(tiers_of(profits, cutoffs).values())
    return tuple(tiers.count(t) for t in TIERS)  # type: ignore[return-value]


def snapshot_of(
    rows: list[tuple[str, float, float, float, str, str]],
    service: list[tuple[str, str, float]] = (),
    *,
    as_of: date = AS_OF,
) -> Snapshot:
    """Customers acquired long before the window with one purchase and contacts in it.

    ``rows``: (id, amount, direct cost, acquisition cost, region, channel); a zero amount
    means no purchase. ``service``: (id, touchpoint, cost).
    """
    customers = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "acquired_on": [BEFORE] * len(rows),
            "acquisition_channel": [r[5] for r in rows],
            "acquisition_cost": [r[3] for r in rows],
            "region": [r[4] for r in rows],
        }
    )
    bought = [r for r in rows if r[1] != 0]
    tx = pl.DataFrame(
        {
            "customer_id": [r[0] for r in bought],
            "date": [IN_WINDOW] * len(bought),
            "amount": [r[1] for r in bought],
            "cost": [r[2] for r in bought],
            "channel": ["web"] * len(bought),
        },
        schema={
            "customer_id": pl.String,
            "date": pl.Date,
            "amount": pl.Float64,
            "cost": pl.Float64,
            "channel": pl.String,
        },
    )
    sc = pl.DataFrame(
        {
            "customer_id": [s[0] for s in service],
            "date": [IN_WINDOW] * len(service),
            "touchpoint": [s[1] for s in service],
            "cost": [s[2] for s in service],
        },
        schema={
            "customer_id": pl.String,
            "date": pl.Date,
            "touchpoint": pl.String,
            "cost": pl.Float64,
        },
    )
    return Snapshot.from_frames(
        {"schema_version": 1, "as_of": as_of.isoformat(), "company": "Test", "currency": "EUR"},
        customers=customers,
        transactions=tx,
        service_costs=sc,
    )


# ----------------------------------------------------------------------------- cut-offs


def test_default_cutoffs_are_the_seeds() -> None:
    assert validate_cutoffs((0.1, 0.2, 0.7)) == (0.1, 0.2, 0.7)


@pytest.mark.parametrize(
    "bad",
    [
        (0.1, 0.2),
        (0.1, 0.2, 0.6),
        (0.0, 0.3, 0.7),
        (-0.1, 0.4, 0.7),
        (0.1, float("nan"), 0.7),
        (True, 0.2, 0.7),
        ("0.1", 0.2, 0.7),
    ],
)
def test_bad_cutoffs_raise(bad) -> None:
    with pytest.raises(ValueError, match="cutoffs"):
        validate_cutoffs(bad)


# ----------------------------------------------------------------------------- tier assignment


def test_ten_customers_split_one_two_seven() -> None:
    tiers = tiers_of([float(p) for p in range(10, 0, -1)])
    assert list(tiers.values()) == ["A"] + ["B"] * 2 + ["C"] * 7
    assert list(tiers) == [f"c{i:03d}" for i in range(10)]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, (1, 0, 0)),  # a single customer is the top customer
        (2, (1, 0, 1)),  # round(0.2)=0 -> at least 1 in A; round(0.6)=1 -> B empty
        (3, (1, 0, 2)),  # round(0.3)=0 -> 1; round(0.9)=1
        (4, (1, 0, 3)),  # round(0.4)=0 -> 1; round(1.2)=1
        (5, (1, 1, 3)),  # round(0.5)=1 (halves up); round(1.5)=2
        (15, (2, 3, 10)),  # round(1.5)=2; round(4.5)=5
        (20, (2, 4, 14)),
        (1194, (119, 239, 836)),  # round(119.4)=119; round(358.2)=358
    ],
)
def test_tier_sizes_round_to_the_nearest_customer(n: int, expected: tuple[int, int, int]) -> None:
    assert counts([float(n - i) for i in range(n)]) == expected


def test_float_cutoffs_do_not_drift() -> None:
    # 0.1 + 0.2 = 0.30000000000000004; of 10 customers that must still be 3, not 4
    assert counts([float(i) for i in range(10)]) == (1, 2, 7)
    assert counts([float(i) for i in range(100)], (0.3, 0.3, 0.4)) == (30, 30, 40)


def test_custom_cutoffs() -> None:
    assert counts([float(i) for i in range(10)], (0.2, 0.3, 0.5)) == (2, 3, 5)
    assert counts([float(i) for i in range(10)], (0.5, 0.5, 0.0)) == (5, 5, 0)
    assert counts([float(i) for i in range(10)], (1.0, 0.0, 0.0)) == (10, 0, 0)


def test_ties_at_a_boundary_are_broken_by_customer_id() -> None:
    # ten customers; the 1st and 2nd places tie at 50: "a" (smaller id) takes tier A
    ids = ["b", "a", "c", "d", "e", "f", "g", "h", "i", "j"]
    profits = [50.0, 50.0, 40.0, 40.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    tiers = tiers_of(profits, ids=ids)
    assert tiers["a"] == "A"
    assert tiers["b"] == "B"
    # 3rd place also ties with the 4th at 40: "c" stays in B, "d" goes to C
    assert tiers["c"] == "B"
    assert tiers["d"] == "C"
    ranked = assign_tiers(profits_frame(profits, ids)).collect()
    assert ranked["customer_id"].to_list()[:4] == ["a", "b", "c", "d"]
    assert ranked["profit_rank"].to_list() == list(range(1, 11))


def test_tie_order_does_not_depend_on_input_order() -> None:
    ids = [f"x{i}" for i in range(20)]
    profits = [5.0] * 20
    forward = tiers_of(profits, ids=ids)
    backward = tiers_of(profits[::-1], ids=ids[::-1])
    assert forward == backward
    assert [k for k, v in forward.items() if v == "A"] == ["x0", "x1"]


def test_assign_tiers_keeps_extra_columns_and_is_lazy() -> None:
    lf = profits_frame([3.0, 1.0, 2.0]).with_columns(pl.lit("r").alias("region"))
    out = assign_tiers(lf)
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().columns == ["customer_id", PROFIT, "region", "profit_rank", "tier"]


# ----------------------------------------------------------------------------- top share


def test_top_share_by_hand() -> None:
    profits = [50.0, 30.0, 10.0, 5.0, 5.0, 0.0, 0.0, -5.0, 3.0, 2.0]  # total 100
    assert top_share(profits, 0.10) == pytest.approx(0.50)
    assert top_share(profits, 0.20) == pytest.approx(0.80)
    assert top_share(pl.Series(profits), 1.0) == pytest.approx(1.0)
    assert top_share(profits, 0.05) == pytest.approx(0.50)  # at least one customer


def test_top_share_matches_tier_a_share() -> None:
    profits = [float(p) for p in [90, 7, 3, 3, 1, 1, -2, 0, 0, 4, 8, 2, 6]]
    lf = assign_tiers(profits_frame(profits), (0.25, 0.25, 0.5))
    table = tier_table(
        lf.with_columns(
            pl.lit(0.0).alias(c)
            for c in (
                "revenue",
                "direct_cost",
                "service_cost",
                "acquisition_cost_charged",
                "total_cost",
            )
        )
    ).collect()
    a_share = table.filter(pl.col("tier") == "A")["profit_share"][0]
    assert top_share(profits, 0.25) == pytest.approx(a_share)


def test_top_share_undefined_without_positive_total() -> None:
    assert top_share([-5.0, -1.0], 0.1) is None
    assert top_share([5.0, -5.0], 0.1) is None
    assert top_share([], 0.1) is None


@pytest.mark.parametrize("share", [0, -0.1, 1.5, True])
def test_top_share_rejects_bad_shares(share) -> None:
    with pytest.raises(ValueError, match="share"):
        top_share([1.0], share)


# ----------------------------------------------------------------------------- whale curve


def test_whale_curve_by_hand() -> None:
    ranked = assign_tiers(profits_frame([-10.0, 60.0, 0.0, 40.0, 10.0]))
    curve = whale_curve(ranked).collect()
    assert curve["profit_rank"].to_list() == [0, 1, 2, 3, 4, 5]
    assert curve["cumulative_profit"].to_list() == [0.0, 60.0, 100.0, 110.0, 110.0, 100.0]
    assert curve["customer_share"].to_list() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert curve["profit_share"].to_list() == pytest.approx([0, 0.6, 1.0, 1.1, 1.1, 1.0])
    stats = whale_stats(pl.Series([-10.0, 60.0, 0.0, 40.0, 10.0]))
    assert stats.total_profit == 100.0
    assert stats.peak_profit == 110.0
    assert stats.peak_share == pytest.approx(1.10)
    assert stats.given_back_share == pytest.approx(0.10)
    assert (
        stats.profitable_customers,
        stats.breakeven_customers,
        stats.unprofitable_customers,
    ) == (3, 1, 1)
    assert stats.peak_customer_share == pytest.approx(0.6)
    assert stats.loss_tail_customer_share == pytest.approx(0.2)
    assert stats.meaningful


def test_whale_curve_when_everyone_loses_money() -> None:
    ranked = assign_tiers(profits_frame([-1.0, -4.0, -5.0]))
    curve = whale_curve(ranked).collect()
    assert curve["cumulative_profit"].to_list() == [0.0, -1.0, -5.0, -10.0]
    assert curve["profit_share"].null_count() == 4  # shares of a loss are not defined
    stats = whale_stats(pl.Series([-1.0, -4.0, -5.0]))
    assert not stats.meaningful
    assert stats.peak_share is None and stats.given_back_share is None
    assert stats.peak_profit == 0.0 and stats.loss_tail_profit == -10.0


def test_whale_curve_single_customer_and_empty() -> None:
    one = whale_curve(assign_tiers(profits_frame([7.0]))).collect()
    assert one["profit_share"].to_list() == [0.0, 1.0]
    assert one["customer_share"].to_list() == [0.0, 1.0]
    empty = whale_curve(assign_tiers(profits_frame([]))).collect()
    assert empty.height == 1  # the origin only
    stats = whale_stats(pl.Series([], dtype=pl.Float64))
    assert stats.customers == 0 and not stats.meaningful
    assert stats.peak_customer_share is None


# ----------------------------------------------------------------------------- segment report


def ten_customers() -> Snapshot:
    # profits: amount - direct cost - service cost (acquired long ago: no acquisition cost)
    rows = [
        ("c01", 1000.0, 400.0, 0.0, "North", "Referral"),  # 600 - 10 = 590
        ("c02", 300.0, 100.0, 0.0, "North", "Paid search"),  # 200
        ("c03", 200.0, 100.0, 0.0, "South", "Referral"),  # 100 - 11 = 89
        ("c04", 100.0, 50.0, 0.0, "South", "Paid search"),  # 50
        ("c05", 80.0, 50.0, 0.0, "North", "Paid search"),  # 30
        ("c06", 60.0, 40.0, 0.0, "South", "Paid search"),  # 20 - 16 = 4
        ("c07", 50.0, 40.0, 0.0, "North", "Referral"),  # 10
        ("c08", 40.0, 35.0, 0.0, "South", "Paid search"),  # 5 - 11 = -6
        ("c09", 30.0, 28.0, 0.0, "North", "Paid search"),  # 2 - 16 = -14
        ("c10", 0.0, 0.0, 0.0, "South", "Referral"),  # no purchase, call: -20
    ]
    service = [
        ("c01", "web", 10.0),
        ("c03", "call_center", 11.0),
        ("c06", "outlet", 16.0),
        ("c08", "call_center", 11.0),
        ("c09", "outlet", 16.0),
        ("c10", "call_center", 20.0),
    ]
    return snapshot_of(rows, service)


def test_segment_report_tier_table_by_hand() -> None:
    report = segment_report(ten_customers())
    assert report.currency == "EUR"
    order = ["c01", "c02", "c03", "c04", "c05", "c07", "c06", "c08", "c09", "c10"]
    assert report.customers["customer_id"].to_list() == order
    assert report.customers["profit"].to_list() == [590, 200, 89, 50, 30, 10, 4, -6, -14, -20]
    # total profit 590+200+89+50+30+10+4-6-14-20 = 933
    expected = pl.DataFrame(
        {
            "tier": ["A", "B", "C"],
            "customers": [1, 2, 7],
            "customer_share": [0.1, 0.2, 0.7],
            "revenue": [1000.0, 500.0, 360.0],
            "total_cost": [410.0, 211.0, 306.0],
            "profit": [590.0, 289.0, 54.0],
            "min_profit": [590.0, 89.0, -20.0],
            "max_profit": [590.0, 200.0, 50.0],
        },
        schema_overrides={"tier": pl.Enum(TIERS)},
    )
    assert_frame_equal(report.tiers.select(expected.columns), expected)
    shares = report.tiers["profit_share"].to_list()
    assert shares == pytest.approx([590 / 933, 289 / 933, 54 / 933])
    assert report.tiers["cost_share"].to_list() == pytest.approx([410 / 927, 211 / 927, 306 / 927])
    assert report.tiers["revenue_share"].to_list() == pytest.approx(
        [1000 / 1860, 500 / 1860, 360 / 1860]
    )
    assert report.tiers["profit_per_customer"].to_list() == pytest.approx([590, 144.5, 54 / 7])
    assert report.top_profit_share == pytest.approx(top_share(report.customers["profit"], 0.1))
    assert report.tiers["avg_clv"].null_count() == 3 and not report.has_clv


def test_segment_report_whale_stats_by_hand() -> None:
    stats = segment_report(ten_customers()).whale_stats
    assert stats.total_profit == pytest.approx(933)
    assert stats.peak_profit == pytest.approx(973)
    assert stats.peak_share == pytest.approx(973 / 933)
    assert stats.given_back_share == pytest.approx(40 / 933)
    assert stats.unprofitable_customers == 3


def test_value_matrix_at_medians_by_hand() -> None:
    report = segment_report(ten_customers())
    vm = report.value_matrix
    years = ProfitWindow.trailing(AS_OF).years
    # purchases: nine customers bought once, c10 never -> median 1 a window
    assert vm.frequency_threshold == pytest.approx(1 / years)
    # amounts 1000,300,200,100,80,60,50,40,30,0 -> median (80 + 60) / 2 = 70
    assert vm.amount_threshold == pytest.approx(70 / years)
    assert vm.at_medians
    # nobody buys more than the median frequency: everyone is occasional
    table = vm.table
    assert table["quadrant"].cast(pl.String).to_list() == [q.name for q in QUADRANTS]
    assert table["customers"].to_list() == [0, 5, 0, 5]
    assert table["profit"].to_list() == pytest.approx([0, 959, 0, -26])
    assert table["customer_share"].sum() == pytest.approx(1.0)


def test_value_matrix_at_chosen_thresholds() -> None:
    years = ProfitWindow.trailing(AS_OF).years
    report = segment_report(ten_customers(), value_thresholds=(0.5, 100.0))
    vm = report.value_matrix
    assert not vm.at_medians
    assert (vm.frequency_threshold, vm.amount_threshold) == (0.5, 100.0)
    by_name = {r["quadrant"]: r for r in vm.table.iter_rows(named=True)}
    # frequent = bought once (1/years > 0.5); high spend = more than 100 a year
    # 100 / years is just above 100, so c04 (100 in the window) is high spend too
    assert 100 / years > 100
    assert by_name["Frequent, high spend"]["customers"] == 4  # c01..c04
    assert by_name["Frequent, low spend"]["customers"] == 5  # c05..c09
    assert by_name["Occasional, high spend"]["customers"] == 0
    assert by_name["Occasional, low spend"]["customers"] == 1  # c10


def test_cost_to_serve_by_hand() -> None:
    report = segment_report(ten_customers())
    cts = report.cost_to_serve
    assert cts.height == 3 * 3  # tiers x touchpoints used (call_center, outlet, web)
    c = {(r["tier"], r["touchpoint"]): r for r in cts.iter_rows(named=True)}
    # tier C: c04..c10 -> call centre c08 11 + c10 20; outlet c06 16 + c09 16
    assert c[("C", "call_center")]["cost"] == 31.0
    assert c[("C", "call_center")]["contacts"] == 2
    assert c[("C", "call_center")]["cost_per_customer"] == pytest.approx(31 / 7)
    assert c[("C", "outlet")]["cost"] == 32.0
    assert c[("C", "web")]["cost"] == 0.0
    assert c[("A", "web")]["cost"] == 10.0
    assert c[("A", "web")]["share_of_tier_cost"] == 1.0
    assert c[("B", "call_center")]["cost"] == 11.0  # c03
    assert c[("C", "call_center")]["share_of_touchpoint_cost"] == pytest.approx(31 / 42)
    assert c[("A", "call_center")]["cost_per_contact"] is None
    # service costs per tier agree with the tier table
    per_tier = cts.group_by("tier").agg(pl.col("cost").sum()).sort("tier")
    assert per_tier["cost"].to_list() == report.tiers["service_cost"].to_list()


def test_channel_sales_per_tier() -> None:
    report = segment_report(ten_customers())
    ch = report.channel_sales
    assert ch["channel"].unique().to_list() == ["web"]
    assert ch.sort("tier")["revenue"].to_list() == report.tiers["revenue"].to_list()
    assert ch["share_of_tier_purchases"].to_list() == [1.0, 1.0, 1.0]
    assert ch.sort("tier")["purchases"].to_list() == [1, 2, 6]  # c10 never bought


def test_costs_can_be_added_later() -> None:
    led = build_ledger(ten_customers())
    plain = ledger_report(led, costs=False)
    assert plain.cost_to_serve is None and plain.channel_sales is None
    full = add_costs(plain, window_rows(led))
    assert_frame_equal(full.cost_to_serve, ledger_report(led).cost_to_serve)
    assert_frame_equal(full.tiers, plain.tiers)


def test_filters_rank_within_the_selection() -> None:
    report = segment_report(ten_customers(), regions=["South"])
    assert set(report.customers["region"]) == {"South"}
    assert report.customers["customer_id"].to_list() == ["c03", "c04", "c06", "c08", "c10"]
    # five customers: A = round(0.5) = 1, A+B = round(1.5) = 2
    assert report.customers["tier"].cast(pl.String).to_list() == ["A", "B", "C", "C", "C"]
    both = segment_report(ten_customers(), regions=["South"], channels=["Referral"])
    assert both.customers["customer_id"].to_list() == ["c03", "c10"]
    assert segment_report(ten_customers(), regions=[]).customers.height == 10


def test_filters_must_be_lists_of_names() -> None:
    with pytest.raises(ValueError, match="regions"):
        segment_report(ten_customers(), regions="South")
    with pytest.raises(ValueError, match="channels"):
        segment_report(ten_customers(), channels=[1])


def test_filter_options() -> None:
    options = filter_options(build_ledger(ten_customers()))
    assert options.regions == ("North", "South")
    assert options.channels == ("Paid search", "Referral")
    assert options.first_purchase == IN_WINDOW


def test_clv_is_averaged_per_tier() -> None:
    clv = pl.DataFrame(
        {"customer_id": ["c01", "c02", "c03", "c09"], "clv": [900.0, 300.0, 100.0, 5.0]}
    )
    report = segment_report(ten_customers(), clv=clv)
    assert report.has_clv
    # customers the model does not value count as 0: tier C is c04..c10, only c09 valued
    assert report.tiers["avg_clv"].to_list() == pytest.approx([900.0, 200.0, 5.0 / 7])
    assert report.customers.filter(pl.col("customer_id") == "c05")["clv"][0] is None
    with pytest.raises(ValueError, match="clv"):
        segment_report(ten_customers(), clv=pl.DataFrame({"customer_id": ["c01"]}))


def test_clv_of_the_shared_valuation_joins_on_the_ledger_key(sample: Path) -> None:
    led = build_ledger(load_snapshot(sample))
    result = value(fit_models(led))
    report = ledger_report(led, clv=result)
    assert report.clv_method == result.method
    table = result.table.select("customer_id", "clv")
    joined = report.customers.select("customer_id", pl.col("clv").alias("shown")).join(
        table, on="customer_id", how="left"
    )
    assert joined["shown"].to_list() == joined["clv"].to_list()
    tier_a = report.tiers["avg_clv"][0]
    a_ids = report.tier_customers("A")["customer_id"]
    expected = table.filter(pl.col("customer_id").is_in(a_ids.implode()))["clv"].sum()
    assert tier_a == pytest.approx(expected / a_ids.len())


def test_tier_customers_drill_down() -> None:
    report = segment_report(ten_customers())
    assert report.tier_customers("B")["customer_id"].to_list() == ["c02", "c03"]
    assert report.tier_customers().height == 10
    with pytest.raises(ValueError, match="tier"):
        report.tier_customers("D")


def test_all_customers_unprofitable() -> None:
    rows = [
        ("u1", 10.0, 8.0, 0.0, "North", "Referral"),  # 2 - 11 = -9
        ("u2", 0.0, 0.0, 0.0, "North", "Referral"),  # -16
        ("u3", 5.0, 5.0, 0.0, "South", "Referral"),  # 0 - 1 = -1
    ]
    service = [("u1", "call_center", 11.0), ("u2", "outlet", 16.0), ("u3", "web", 1.0)]
    report = segment_report(snapshot_of(rows, service))
    assert report.total_profit == pytest.approx(-26)
    assert report.customers["customer_id"].to_list() == ["u3", "u1", "u2"]
    assert report.top_profit_share is None
    assert report.tiers["profit_share"].null_count() == 3
    assert report.tiers["customer_share"].sum() == pytest.approx(1.0)
    assert not report.whale_stats.meaningful
    assert report.whale["profit_share"].null_count() == report.whale.height
    assert report.whale["cumulative_profit"][-1] == pytest.approx(-26)
    assert report.value_matrix.table["profit_share"].null_count() == 4


def test_single_customer() -> None:
    report = segment_report(snapshot_of([("solo", 50.0, 20.0, 0.0, "North", "Referral")]))
    assert report.tiers["customers"].to_list() == [1, 0, 0]
    assert report.top_profit_share == 1.0
    assert report.tiers["profit_share"].to_list() == [1.0, 0.0, 0.0]
    assert report.tiers["profit_per_customer"].to_list() == [30.0, None, None]
    assert report.whale_stats.peak_share == 1.0
    assert report.whale["profit_share"].to_list() == [0.0, 1.0]


def test_empty_window() -> None:
    snap = ten_customers()
    # nothing happened in the twelve months to 2028-09-30
    later = Snapshot.from_frames(
        {**snap.manifest.to_dict(), "as_of": "2028-09-30"},
        customers=snap.customers,
        transactions=snap.transactions,
        service_costs=snap.service_costs,
    )
    report = segment_report(later)
    assert isinstance(report, SegmentReport)
    assert report.is_empty
    assert report.tiers["customers"].to_list() == [0, 0, 0]
    assert report.tiers["customer_share"].null_count() == 3
    assert report.whale.height == 1
    assert report.whale_stats.customers == 0
    assert report.value_matrix.frequency_threshold is None
    assert report.value_matrix.table["customers"].to_list() == [0, 0, 0, 0]
    assert report.cost_to_serve.height == 0
    assert report.top_profit_share is None
    assert report.active_dealt_with == 0
    # a filter matching nobody is an empty selection, not an error
    assert segment_report(snap, regions=["Atlantis"]).is_empty


def test_empty_snapshot() -> None:
    report = segment_report(snapshot_of([]))
    assert report.is_empty
    assert report.customers.columns[:4] == ["cid", "customer_id", "tier", "profit_rank"]


def test_amortised_report_keeps_the_same_customers() -> None:
    snap = ten_customers()
    plain = segment_report(snap)
    amortised = segment_report(snap, amortise_years=3)
    assert plain.customers.height == amortised.customers.height
    assert not amortised.is_overview_default


def test_the_default_controls_are_the_overviews_headline_group() -> None:
    snap = ten_customers()
    assert segment_report(snap).is_overview_default
    for kw in (
        {"months": 6},
        {"cutoffs": (0.2, 0.3, 0.5)},
        {"regions": ["North"]},
        {"channels": ["Referral"]},
        {"amortise_years": 2.0},
    ):
        assert not segment_report(snap, **kw).is_overview_default, kw


def test_active_customers_among_those_dealt_with() -> None:
    # everyone was acquired in 2020 and bought (or called) on 2026-06-01: the nine buyers
    # are active (bought within 365 days); c10 never bought and was acquired long ago
    report = segment_report(ten_customers())
    assert report.active_dealt_with == 9


def test_the_whale_curve_is_thinned_keeping_its_marks() -> None:
    n = 5000
    profits = [float(n // 2 - i) for i in range(n)]  # 2,499 profitable, one at 0, the rest lose
    ranked = assign_tiers(profits_frame(profits))
    full = whale_curve(ranked).collect()
    keep = (500, 1500, 2499, 2500)
    thin = thin_curve(whale_curve(ranked), n, keep, 1000).collect()
    assert 1000 <= thin.height <= 1000 + len(keep) + 2
    assert {0, n, *keep} <= set(thin["profit_rank"].to_list())
    assert thin["profit_share"][-1] == 1.0
    # the kept points are the full curve's points
    assert_frame_equal(
        full.filter(pl.col("profit_rank").is_in(thin["profit_rank"].implode())), thin
    )
    short = thin_curve(whale_curve(ranked.head(10)), 10, (), 1000).collect()
    assert short.height == 11


# ----------------------------------------------------------------------------- the sample company


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> Path:
    return sample_dir


def test_sample_company_matches_its_calibration(sample: Path) -> None:
    led = build_ledger(load_snapshot(sample))
    report = ledger_report(led)
    profits = customer_profit(led).collect()[PROFIT]
    # the generator is calibrated to ~78% for the top 10% and a peak of ~106%
    assert 0.70 <= report.top_profit_share <= 0.85
    assert report.top_profit_share == pytest.approx(top_share(profits, 0.10))
    assert 1.02 <= report.whale_stats.peak_share <= 1.15
    assert report.whale["profit_share"][-1] == 1.0
    # low-value customers cost more to serve, through the expensive touchpoints
    per_customer = report.tiers["service_cost_per_customer"].to_list()
    assert per_customer[2] > per_customer[0]
    cts = report.cost_to_serve.filter(pl.col("touchpoint") == "call_center")
    assert cts.filter(pl.col("tier") == "C")["share_of_touchpoint_cost"][0] > 0.5
    # the thinned curve is short and still ends on the total
    assert report.whale.height <= 1100


@pytest.mark.parametrize("contractual", [False, True])
def test_tier_a_share_is_the_registry_metric(
    sample: Path, subscription_dir: Path, contractual: bool
) -> None:
    led = build_ledger(load_snapshot(subscription_dir if contractual else sample))
    report = ledger_report(led)
    assert report.is_overview_default
    registry = metric_value(ledger_metrics(led), "top_profit_share")
    assert report.top_profit_share == pytest.approx(registry, rel=1e-12)
    # every customer dealt with is counted once; the raw rows add up to the ledger's sums
    assert report.tiers["customers"].sum() == report.customers.height
    assert report.cost_to_serve["cost"].sum() == pytest.approx(report.tiers["service_cost"].sum())
    assert report.channel_sales["revenue"].sum() == pytest.approx(report.tiers["revenue"].sum())


def test_sample_window_shifts_with_the_as_of_date(sample: Path) -> None:
    snap = load_snapshot(sample)
    earlier = snap.cut(snap.as_of - timedelta(days=365))
    report = segment_report(earlier)
    assert report.window.end == earlier.as_of
    assert not report.is_empty


# ----------------------------------------------------------------------------- drill-down


def test_tier_list_is_formatted_and_formula_safe() -> None:
    from crm_core.segments.drilldown import csv_bytes, tier_list

    members = pl.DataFrame(
        {
            "customer_id": ["=HYPERLINK(1)", "+1", "-2", "@x", "plain", "\tTab"],
            "region": pl.Series(["North", "South", "=cmd", "North", "South", "North"]).cast(
                pl.Categorical
            ),
            "profit": [8767.569999999998, 7.6e-21, -0.004, 12.3456, -3.0, 1e12 / 3],
            "purchases": [1, 2, 3, 4, 5, 6],
        }
    )
    shown = tier_list(members, ["customer_id", "region", "profit", "purchases"], limit=4)
    assert shown.height == 4
    assert shown["customer_id"].to_list() == ["'=HYPERLINK(1)", "'+1", "'-2", "'@x"]
    assert shown["region"].to_list() == ["North", "South", "'=cmd", "North"]
    assert shown["profit"].to_list() == [8767.57, 0.0, 0.0, 12.35]
    text = csv_bytes(
        tier_list(members, ["customer_id", "profit", "purchases"]),
        {"customer_id": "Customer", "profit": "Net profit (EUR)", "purchases": "Purchases"},
    ).decode()
    lines = text.splitlines()
    assert lines[0] == "Customer,Net profit (EUR),Purchases"
    assert lines[1] == "'=HYPERLINK(1),8767.57,1"
    assert lines[2] == "'+1,0.00,2"
    assert lines[3] == "'-2,0.00,3"  # no "-0.00"
    assert "333333333333.33" in text and "e-" not in text and "e+" not in text
    assert "'\tTab" in text
