"""The Growth page's view of the movements: periods, the registry's quarterly figures, the
movers and their CSV."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import customer, purchase

from crm_core import load_snapshot
from crm_core.copy import growth as copy
from crm_core.data.ledger import build_ledger
from crm_core.growth import movements as gm
from crm_core.metrics import movements as mv
from crm_core.metrics.registry import metric_inputs, metric_value

AMOUNTS = list(mv.MOVEMENT_COLUMNS.values())


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_quarters_are_the_registrys(which: str, request) -> None:
    ledger = build_ledger(load_snapshot(request.getfixturevalue(which)))
    view = gm.movement_view(ledger, gm.QUARTERS)
    inputs = metric_inputs(ledger)
    for key in view.keys[:4]:
        row = view.row(key)
        assert row[mv.MOVEMENT_COLUMNS[mv.NEW]] == pytest.approx(
            metric_value(inputs, "new_revenue", key)
        )
        assert -row[mv.MOVEMENT_COLUMNS[mv.CHURNED]] == pytest.approx(
            metric_value(inputs, "churned_revenue", key)
        )
        assert sum(row[c] for c in AMOUNTS) == pytest.approx(row[gm.CHANGE], abs=1e-6)
    if ledger.contractual:
        row = view.row(0)
        assert (row["label"], row["compared_label"], row[gm.NOW_LABEL]) == (
            "2026 Q3",
            "Jun 2026",
            "Sep 2026",
        )
        assert row[mv.AMOUNT_NOW] == pytest.approx(metric_value(inputs, "mrr"))
        months = gm.movement_view(ledger, gm.MONTHS)
        assert months.row(0)["label"] == "Sep 2026" and months.lag == 1
        # a quarter's movements are its three months' movements
        three = months.frame.filter(pl.col(gm.KEY) < 3).select(pl.col(AMOUNTS).sum()).row(0)
        assert three == pytest.approx(tuple(row[c] for c in AMOUNTS))
    else:
        with pytest.raises(ValueError, match="no monthly"):
            gm.movement_view(ledger, gm.MONTHS)


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_top_movers_are_the_largest_of_each_movement(which: str, request) -> None:
    ledger = build_ledger(load_snapshot(request.getfixturevalue(which)))
    view = gm.movement_view(ledger)
    every = gm.movers(ledger, view, 0).collect()
    top, counts = gm.top_movers(ledger, view, 0, 5)
    assert sum(counts.values()) == every.height
    for movement in mv.MOVEMENTS:
        mine = every.filter(pl.col(mv.MOVEMENT) == movement)
        shown = top.filter(pl.col(mv.MOVEMENT) == movement)
        assert shown["customer_id"].to_list() == mine.head(5)["customer_id"].to_list()
        assert counts[movement] == mine.height
    # every customer's amounts add up to the period's movements
    assert every.select(pl.col(AMOUNTS).sum()).row(0) == pytest.approx(
        tuple(view.row(0)[c] for c in AMOUNTS)
    )


def test_movers_csv_has_words_cents_and_no_formulas(make_snapshot) -> None:
    snap = make_snapshot(
        [customer("=HYPERLINK(1)", date(2024, 10, 1)), customer("b", date(2024, 10, 1))],
        [
            purchase("=HYPERLINK(1)", date(2025, 8, 1), 10.126),
            purchase("b", date(2025, 8, 1), 5),
            purchase("b", date(2026, 8, 1), 7.5),
        ],
    )
    ledger = build_ledger(snap)
    view = gm.movement_view(ledger)
    rows = gm.movers(ledger, view, 0).collect()
    text = copy.movers_csv(rows, "USD").decode()
    table = pl.read_csv(io.StringIO(text))
    assert "Customer" in table.columns and "Change (USD)" in table.columns
    assert table["Customer"].to_list() == ["'=HYPERLINK(1)", "b"]
    assert table["Change (USD)"].to_list() == [-10.13, 2.5]
    assert table["Movement"].to_list() == ["Churned", "Expansion"]
    assert "e-" not in text and "E+" not in text


def test_unknown_granularity(sample_dir: Path) -> None:
    with pytest.raises(ValueError, match="granularity"):
        gm.movement_view(build_ledger(load_snapshot(sample_dir)), "week")
