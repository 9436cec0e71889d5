"""Lifecycle figures: they show crm_core's numbers, in words, in the stage colours."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest

from crm_core.charts.lifecycle import (
    STAGE_COLORS,
    stage_history_chart,
    stage_value_mix,
    transition_matrix,
    transitions_sankey,
)
from crm_core.charts.lifecycle_progress import (
    cohort_curves,
    cohort_heatmap,
    funnel_chart,
    funnel_conversion_heatmap,
    tenure_profit_chart,
)
from crm_core.copy.lifecycle import STAGE_LABELS
from crm_core.data.snapshot import load_snapshot
from crm_core.lifecycle.cohorts import MEASURES, cohort_retention
from crm_core.lifecycle.funnel import lifecycle_funnel
from crm_core.lifecycle.report import lifecycle_report
from crm_core.lifecycle.stages import CHURNED, PROSPECT
from crm_core.lifecycle.tenure import PARTS, tenure_profit
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import metric_inputs

RAW = {
    "revenue_ttm",
    "share_of_customers",
    "share_of_revenue",
    "share_of_clv",
    "periods_in_stage",
    "buying_share",
    "active_share",
    "revenue_index",
    "customer_id",
    "from_stage",
    "to_stage",
    "tenure_year",
    "base_profit",
    "extra_purchases",
    "lower_cost_to_serve",
    "not_yet",
    "lead_dropped",
}


@pytest.fixture(scope="module", params=["retail", "subscription"])
def results(request, sample_dir: Path, subscription_dir: Path):
    snap = load_snapshot(sample_dir if request.param == "retail" else subscription_dir)
    inputs = snapshot_metrics(snap)
    r = {
        "report": lifecycle_report(inputs),
        "funnel": lifecycle_funnel(inputs.ledger),
        "cohorts": cohort_retention(inputs.ledger),
        "tenure": tenure_profit(inputs.ledger),
    }
    return r | {"figures": figures(r)}


def figures(r) -> dict[str, go.Figure]:
    report = r["report"]
    return {
        "mix": stage_value_mix(report),
        "history": stage_history_chart(report),
        "sankey": transitions_sankey(report.transitions, report.currency),
        "matrix": transition_matrix(report.transitions),
        "funnel": funnel_chart(r["funnel"]),
        "by_channel": funnel_conversion_heatmap(r["funnel"], "channel"),
        "by_cohort": funnel_conversion_heatmap(r["funnel"], "cohort"),
        **{f"heatmap_{m}": cohort_heatmap(r["cohorts"], m) for m in MEASURES},
        **{f"curves_{m}": cohort_curves(r["cohorts"], m) for m in MEASURES},
        "tenure": tenure_profit_chart(r["tenure"]),
    }


def words(fig: go.Figure) -> list[str]:
    """Every text a reader sees: title, axis titles, legend names."""
    texts = [fig.layout.title.text or ""]
    texts += [fig.layout[a].title.text or "" for a in ("xaxis", "yaxis") if a in fig.layout]
    texts += [t.name or "" for t in fig.data]
    return texts


def test_every_figure_states_a_finding_in_words(results) -> None:
    for name, fig in results["figures"].items():
        title = fig.layout.title.text
        assert title and len(title) > 20, name
        for text in words(fig):
            assert not any(raw in text for raw in RAW), (name, text)


def test_stage_colours_are_the_same_in_every_chart(results) -> None:
    figs = results["figures"]
    for fig in (figs["mix"], figs["history"]):
        for trace in fig.data:
            stage = next(s for s, label in STAGE_LABELS.items() if label == trace.name)
            color = trace.marker.color if trace.type == "bar" else trace.line.color
            assert color == STAGE_COLORS[stage]
    sankey = figs["sankey"].data[0]
    labels = [label.split(" (")[0] for label in sankey.node.label]
    for label, color in zip(labels, sankey.node.color, strict=True):
        by_label = {lab: s for s, lab in STAGE_LABELS.items()}
        if label in by_label:
            assert color == STAGE_COLORS[by_label[label]]


def test_figures_show_crm_core_numbers(results) -> None:
    figs = results["figures"]
    report, funnel = results["report"], results["funnel"]
    cohorts, tenure = results["cohorts"], results["tenure"]
    # mix: customers bar = summary shares
    mature = next(t for t in figs["mix"].data if t.name == "Mature")
    assert mature.x[0] == pytest.approx(report.stage_value("mature", "share_of_customers"))
    # sankey: every flow but churned -> churned and open leads -> open leads, with its size
    standing = pl.col("from_stage").is_in([CHURNED, PROSPECT])
    flows = report.transitions.flows.filter(
        ~(standing & (pl.col("from_stage") == pl.col("to_stage")))
    )
    assert list(figs["sankey"].data[0].link.value) == flows["customers"].to_list()
    # funnel: reached per step
    assert list(figs["funnel"].data[0].x) == funnel.steps["reached"].to_list()
    # cohort heat map: the cohort table, cohort by cohort
    z = figs["heatmap_buying_share"].data[0].z
    first = cohorts.table.filter(pl.col("quarter") == 1)["buying_share"].to_list()
    assert [row[1] for row in z if row[1] is not None] == pytest.approx(first)
    # tenure: the parts stack up to the profit marker
    bars = [t for t in figs["tenure"].data if t.type == "bar"]
    marker = next(t for t in figs["tenure"].data if t.type == "scatter")
    stacked = [sum(b.y[i] for b in bars) for i in range(len(marker.y))]
    assert stacked == pytest.approx(list(marker.y))
    assert list(marker.y) == pytest.approx(tenure.table["profit"].to_list())
    assert len(bars) <= len(PARTS)


def test_empty_results_give_a_message_not_an_error(results) -> None:
    cohorts = results["cohorts"]
    empty = replace(cohorts, table=cohorts.table.clear(), average=cohorts.average.clear())
    for fig in (cohort_heatmap(empty), cohort_curves(empty)):
        assert fig.layout.annotations and "history" in fig.layout.annotations[0].text
    tenure = results["tenure"]
    assert tenure_profit_chart(replace(tenure, table=tenure.table.clear())).layout.annotations
    with pytest.raises(ValueError, match="metric"):
        cohort_heatmap(cohorts, "retention")
    with pytest.raises(ValueError, match="by"):
        funnel_conversion_heatmap(results["funnel"], "region")


def test_young_company_titles_do_not_overclaim(sample_dir: Path) -> None:
    from datetime import date

    from crm_core.data.ledger import build_ledger

    ledger = build_ledger(load_snapshot(sample_dir).cut(date(2024, 12, 31)))
    report = lifecycle_report(metric_inputs(ledger), compare_quarters=4)
    # few growing or mature customers a year earlier: the title speaks of the new ones
    assert report.transitions.count("growing", "growing") < 20
    title = transitions_sankey(report.transitions, "USD").layout.title.text
    assert "who were new on 31 Dec 2023" in title
    cohorts = cohort_retention(build_ledger(load_snapshot(sample_dir).cut(date(2024, 9, 30))))
    k = int(cohorts.average["quarter"].max())
    assert 0 < k < 4
    assert f"{k} quarter" in cohort_heatmap(cohorts).layout.title.text
    tenure = tenure_profit(ledger)
    assert tenure.table.height == 1
    assert "first year" in tenure_profit_chart(tenure).layout.title.text
