"""Property tests: a damaged or odd snapshot folder loads exactly or is refused.

Hypothesis writes snapshot folders by hand (Parquet files and ``manifest.json``, without
``write_snapshot``'s checks) with: unicode and markup in ids, channels, regions and the
company name; duplicate ids; empty tables; extreme, negative, NaN and infinite amounts;
dates from year 1 to 9999 and as-of dates at the ends of the calendar; columns of the
wrong type (ids as numbers, dates as integers, amounts as text or booleans); manifests with
missing, mistyped or impossible values; Parquet files cut short or missing.

``crm_core.load_snapshot`` must raise ``SnapshotError`` or return a snapshot whose tables,
collected, are exactly the rows written; the customer ledger built from a loaded snapshot
(``build_ledger``, what every page starts from) must be built or refused with a
``DataError``. Any other exception is a bug.

Profiles: see ``tests/test_fuzz_exports.py`` (``CRM_HYPOTHESIS=slow``).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core import build_ledger, load_snapshot
from crm_core.data.schema import C
from crm_core.errors import DataError, SnapshotError

settings.register_profile(
    "crm-snap-quick", max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
settings.register_profile(
    "crm-snap-slow", parent=settings.get_profile("crm-snap-quick"), max_examples=2000
)
PROFILE = settings.get_profile(f"crm-snap-{os.environ.get('CRM_HYPOTHESIS', 'quick')}")
OUTCOMES: Counter = Counter()
REASONS: Counter = Counter()

NAMES = ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", ":red[x]",
         "![](http://127.0.0.1:9/p.png)", "=HYPERLINK(\"x\")", "Zoë", "客户", "🙂",
         "a\tb"]  # fmt: skip
names = st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=10).filter(str.strip))
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 9, 30))
money = st.floats(min_value=0, max_value=1e9, allow_nan=False, width=64)
# one odd cell in a case of four: (column, value)
ODD_CELLS = {
    C.amount: [-0.0, -1e6, 1e308, -1e308, math.inf, -math.inf, math.nan, 5e-324],
    C.cost: [-0.01, math.nan, math.inf, 1e308],
    C.customer_id: ["", " ", None],
    C.channel: ["", None],
    C.date: [date(1, 1, 1), date(1900, 2, 28), date(9999, 12, 31), date(2026, 10, 1), None],
}
ODD_MANIFEST = {
    "as_of": ["9999-12-31", "0001-01-01", "2026-02-30", "2026-9-30", 20260930, None, "1999-12-31"],
    "schema_version": [2, "1", None, 0],
    "currency": ["usd", "€€€", "US", 7, "<b>"],
    "business_model": ["contractual", "x", None],
    "discount_rate": [0.0, -0.5, 1e9, "0.1", None, math.nan, math.inf],
    "company": ["", "x" * 10_000, "<script>alert(1)</script>", 12],
}


@st.composite
def folders(draw):
    """The tables and manifest of one hand-written snapshot folder, and its damage."""
    n = draw(st.integers(min_value=0, max_value=6))
    ids = draw(st.lists(names, min_size=n, max_size=n, unique=True))
    if ids and draw(st.booleans()):
        ids = [*ids, ids[0]]  # a duplicate id
    customers = pl.DataFrame(
        {
            C.customer_id: ids,
            C.acquired_on: draw(st.lists(days, min_size=len(ids), max_size=len(ids))),
            C.acquisition_channel: draw(st.lists(names, min_size=len(ids), max_size=len(ids))),
            C.acquisition_cost: draw(st.lists(money, min_size=len(ids), max_size=len(ids))),
            C.region: draw(st.lists(names, min_size=len(ids), max_size=len(ids))),
            C.churned_on: [None] * len(ids),
        },
        schema={C.customer_id: pl.String, C.acquired_on: pl.Date,
                C.acquisition_channel: pl.String, C.acquisition_cost: pl.Float64,
                C.region: pl.String, C.churned_on: pl.Date},
    )  # fmt: skip
    m = draw(st.integers(min_value=0, max_value=10))
    pool = ids or ["ghost"]
    transactions = pl.DataFrame(
        {
            C.customer_id: draw(st.lists(st.sampled_from(pool), min_size=m, max_size=m)),
            C.date: draw(st.lists(days, min_size=m, max_size=m)),
            C.amount: draw(st.lists(money, min_size=m, max_size=m)),
            C.cost: draw(st.lists(money, min_size=m, max_size=m)),
            C.channel: draw(st.lists(names, min_size=m, max_size=m)),
        },
        schema={C.customer_id: pl.String, C.date: pl.Date, C.amount: pl.Float64,
                C.cost: pl.Float64, C.channel: pl.String},
    )  # fmt: skip
    if m and draw(st.integers(0, 3)) == 0:
        column, values = draw(st.sampled_from(list(ODD_CELLS.items())))
        row = draw(st.integers(0, m - 1))
        cells = transactions[column].to_list()
        cells[row] = draw(st.sampled_from(values))
        transactions = transactions.with_columns(
            pl.Series(column, cells, dtype=transactions.schema[column])
        )
    manifest = {
        "schema_version": 1,
        "as_of": "2026-09-30",
        "company": draw(names),
        "currency": "USD",
        "business_model": "non_contractual",
        "discount_rate": 0.1,
    }
    if draw(st.integers(0, 3)) == 0:  # one odd manifest value in four
        key, values = draw(st.sampled_from(list(ODD_MANIFEST.items())))
        manifest[key] = draw(st.sampled_from(values))
    damage = draw(st.sampled_from(
        ["none"] * 8 + ["id_as_int", "date_as_int", "amount_as_text", "amount_as_bool",
         "cut", "missing_manifest", "bad_json", "missing_transactions", "drop_key"]
    ))  # fmt: skip
    return customers, transactions, manifest, damage, draw(st.integers(1, 99))


def _write(folder: Path, customers, transactions, manifest, damage: str, cut: int) -> None:
    folder.mkdir()
    if damage == "id_as_int":
        transactions = transactions.with_columns(pl.int_range(pl.len()).alias(C.customer_id))
    elif damage == "date_as_int":
        transactions = transactions.with_columns(pl.col(C.date).dt.day().cast(pl.Int32))
    elif damage == "amount_as_text":
        transactions = transactions.with_columns(pl.col(C.amount).cast(pl.String))
    elif damage == "amount_as_bool":
        transactions = transactions.with_columns((pl.col(C.amount) > 0).alias(C.amount))
    customers.write_parquet(folder / "customers.parquet")
    if damage != "missing_transactions":
        transactions.write_parquet(folder / "transactions.parquet")
    if damage == "cut":
        file = folder / "transactions.parquet"
        raw = file.read_bytes()
        file.write_bytes(raw[: len(raw) * cut // 100])
    if damage == "drop_key":
        manifest = {k: v for k, v in manifest.items() if k != "as_of"}
    text = json.dumps({k: v for k, v in manifest.items() if v is not None})
    if damage == "bad_json":
        text = text[: len(text) // 2]
    if damage != "missing_manifest":
        (folder / "manifest.json").write_text(text)


def _rows(frame: pl.DataFrame) -> list[tuple]:
    """Rows in a comparable order; NaN as a marker (NaN != NaN)."""
    out = [tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in row)
           for row in frame.iter_rows()]  # fmt: skip
    return sorted(out, key=repr)


@PROFILE
@given(case=folders())
def test_odd_snapshots_load_exactly_or_are_refused(tmp_path_factory, case) -> None:
    customers, transactions, manifest, damage, cut = case
    folder = tmp_path_factory.mktemp("snap") / "s"
    _write(folder, customers, transactions, manifest, damage, cut)
    try:
        snap = load_snapshot(folder)
        got_customers = snap.customers.collect()
        got_transactions = snap.transactions.collect()
    except SnapshotError as exc:
        assert str(exc).strip()
        OUTCOMES["refused"] += 1
        REASONS[str(exc).split(":")[-1][:50]] += 1
        return
    OUTCOMES["loaded"] += 1
    assert damage in {"none"} or damage not in {"cut", "missing_manifest", "bad_json",
                                                "missing_transactions", "drop_key"}  # fmt: skip
    assert _rows(got_customers.select(customers.columns)) == _rows(customers)
    sent = transactions.select(got_transactions.columns) if damage == "none" else None
    if sent is not None:
        assert _rows(got_transactions) == _rows(sent), "the snapshot differs from its files"
    try:
        build_ledger(snap)
    except DataError as exc:
        assert str(exc).strip()


def test_the_generator_makes_both_outcomes() -> None:
    """The property above is only worth something if both outcomes occur (run after it)."""
    if not OUTCOMES:
        test_odd_snapshots_load_exactly_or_are_refused()
    assert OUTCOMES["loaded"] >= 10 and OUTCOMES["refused"] >= 10, (
        OUTCOMES,
        REASONS.most_common(9),
    )
