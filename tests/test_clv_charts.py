"""CLV figure builders: titles state the finding, axes carry units, data are the model's."""

from __future__ import annotations

from datetime import date

import numpy as np
import plotly.graph_objects as go
import polars as pl
import pytest

from crm_core.charts.clv import (
    clv_bands_figure,
    clv_distribution_figure,
    holdout_buckets_figure,
    holdout_tracking_figure,
    ltv_payback_figure,
    p_alive_heatmap_figure,
    sbg_retention_figure,
)
from crm_core.clv import fit_sbg
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.customer import customer_clv
from crm_core.clv.holdout import holdout_check
from crm_core.clv.ltv import ltv_table
from crm_core.clv.uncertainty import clv_bands
from crm_core.data.ledger import build_ledger
from crm_core.data.snapshot import load_snapshot
from crm_core.sample import generate_sample

CDNOW = BGNBDModel(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    return load_snapshot(generate_sample(tmp_path_factory.mktemp("c") / "s", customers=800))


def _title(fig: go.Figure) -> str:
    """The bold title line (apply_layout adds the subtitle below it)."""
    return fig.layout.title.text.split("</b>")[0].removeprefix("<b>")


def test_distribution_titles_the_top_decile_share(retail):
    res = customer_clv(retail)
    fig = clv_distribution_figure(res, bins=40)
    values = np.sort(res.table["clv"].to_numpy())[::-1]
    share = values[: round(values.size / 10)].sum() / values.sum()
    assert f"top 10% of customers hold {round(share * 100)}%" in _title(fig)
    assert "USD" in fig.layout.xaxis.title.text
    assert fig.layout.xaxis.tickprefix == "$"
    # counted here, not in the browser: at most 40 bars, one per non-empty bin
    counts, edges = np.histogram(values, bins=40, range=(0.0, values.max()))
    bars = fig.data[0]
    assert bars.type == "bar" and len(bars.x) == int((counts > 0).sum()) <= 40
    assert list(bars.y) == counts[counts > 0].tolist() and sum(bars.y) == res.customers
    np.testing.assert_allclose(bars.x, ((edges[:-1] + edges[1:]) / 2)[counts > 0])


def test_p_alive_heatmap_states_when_a_customer_is_gone():
    fig = p_alive_heatmap_figure(CDNOW, T=39, max_frequency=10, bins=40)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (40, 11)
    assert np.nanmin(z) >= 0 and np.nanmax(z) <= 1
    # no repeat purchase: the only possible cell is "last purchase T ago", alive for sure
    assert np.isnan(z[:-1, 0]).all() and z[-1, 0] == 1.0
    # more time since the last purchase: less likely alive (for repeat buyers)
    assert np.all(np.diff(z[:, 5]) <= 0)
    assert "5 repeat purchases is probably gone after" in _title(fig)
    assert "weeks" in fig.layout.yaxis.title.text
    with pytest.raises(ValueError, match="T must be positive"):
        p_alive_heatmap_figure(CDNOW, T=0)


def test_ltv_payback_annotates_the_profitable_year():
    table = ltv_table(1000, 0.6, 200, 0.5, acquisition_cost=150, discount_rate=0.1, years=5)
    fig = ltv_payback_figure(table, currency="EUR")
    assert _title(fig) == "The cohort turns profitable in year 2"
    assert fig.layout.annotations[0].x == 2
    # money ticks in words of crm_core.formatting: "-€50k", not plotly's "€-50k"
    assert list(fig.layout.yaxis.ticktext) == ["-€50k", "-€25k", "€0", "€25k", "€50k", "€75k"]
    assert list(fig.layout.yaxis.tickvals) == [-50000, -25000, 0, 25000, 50000, 75000]
    assert fig.data[0].customdata[0] == "-€50.0k"  # year 1: 1000 * (200 * 0.5 - 150)
    never = ltv_payback_figure(ltv_table(10, 0.1, 10, 0.9, acquisition_cost=100, years=3))
    assert _title(never) == "The cohort has not paid back within 3 years"


def test_sbg_retention_against_a_flat_rate():
    alive = [1000, 631, 468, 382, 326, 289, 262, 241]
    model = fit_sbg(alive, period="year")
    fig = sbg_retention_figure(model, periods=12, alive=np.array(alive))
    assert len(fig.data) == 3
    assert "flat retention rate understates survivors after 12 years" in _title(fig)
    assert fig.data[0].y[-1] > fig.data[1].y[-1]


def test_holdout_figures_name_the_forecast_error(retail):
    check = holdout_check(build_ledger(retail), "2025-09-30")
    bars = holdout_buckets_figure(check)
    # the bucket of at least 5% of the customers where the forecast misses most, relatively
    b = check.by_bucket.filter(pl.col("customers") >= 0.05 * check.customers)
    worst = b.row(int(((b["predicted"] - b["actual"]).abs() / b["actual"]).arg_max()), named=True)
    assert _title(bars) == (
        f"The largest miss is for customers with {worst['bucket']} repeat purchases: "
        f"{worst['predicted']:.1f} forecast, {worst['actual']:.1f} actual"
    )
    assert "from 1 Oct 2025 to 30 Sep 2026" in bars.layout.title.text
    assert list(bars.data[0].x) == check.by_bucket["bucket"].to_list()
    lines = holdout_tracking_figure(check)
    assert [d.name for d in lines.data] == ["Actual", "Predicted"]
    assert lines.layout.yaxis.title.text == "Cumulative repeat purchases"
    # the tracking title counts the holdout along the curve: increments since calibration
    t = check.tracking
    at_cal = t.filter(pl.col("date") == date(2025, 9, 30)).row(0, named=True)
    actual = t["actual"][-1] - at_cal["actual"]
    assert actual == check.actual_total
    expected = t["predicted"][-1] - at_cal["predicted"]
    assert f"{round(expected):,} repeat purchases in the holdout; {round(actual):,} happened" in (
        _title(lines)
    )


def test_money_ticks_are_round_and_cover_the_values():
    from crm_core.charts.clv import _money_labels, _money_ticks

    ticks = _money_ticks([-75_000, 49_000, 41_500, 0.0])
    assert ticks == [-75_000, -50_000, -25_000, 0, 25_000, 50_000]
    assert _money_labels(ticks, "USD") == ["-$75k", "-$50k", "-$25k", "$0", "$25k", "$50k"]
    small = _money_ticks([0.0, 3_600.0])
    assert small == [0, 1_000, 2_000, 3_000, 4_000]
    assert _money_labels([0, 2_500, 5_000], "GBP") == ["£0", "£2.5k", "£5.0k"]  # one format
    assert _money_ticks([7.0, 7.0]) == [7.0]


def test_bands_figure_names_the_best_segment(retail):
    res = customer_clv(retail)
    labels = retail.customers.select(
        "customer_id", pl.col("acquisition_channel").alias("segment")
    ).collect()
    bands = clv_bands(res, segments=labels, draws=20, seed=0)
    fig = clv_bands_figure(bands)
    best = bands.table.filter(pl.col("segment") != "All customers").sort("average_p50")[-1]
    assert _title(fig).startswith(f"{best['segment'][0]} customers are worth the most")
