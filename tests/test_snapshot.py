"""Snapshot loading, validation (every rule, message asserted), atomic writing and cut."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core import Snapshot, SnapshotError, load_snapshot, write_snapshot
from crm_core.data.snapshot import Manifest, find_snapshots

AS_OF = date(2026, 9, 30)


def _fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A small valid snapshot folder with every table."""
    d = date
    return write_snapshot(
        tmp_path / "good",
        manifest={
            "schema_version": 1,
            "as_of": "2026-09-30",
            "company": "Acme",
            "business_model": "contractual",
            "discount_rate": 0.08,
        },
        customers=pl.DataFrame(
            {
                "customer_id": ["a", "b", "c"],
                "acquired_on": [d(2025, 1, 1), d(2025, 6, 1), d(2026, 8, 1)],
                "acquisition_channel": ["Web", "Store", "Web"],
                "acquisition_cost": [10.0, 20.0, 30.0],
                "region": ["N", "S", "N"],
                "churned_on": [None, d(2026, 2, 1), None],
            }
        ),
        transactions=pl.DataFrame(
            {
                "customer_id": ["a", "a", "b", "c"],
                "date": [d(2025, 1, 1), d(2026, 3, 1), d(2025, 6, 1), d(2026, 8, 1)],
                "amount": [100.0, -20.0, 50.0, 70.0],
                "cost": [40.0, 0.0, 20.0, 30.0],
                "channel": ["web", "web", "store", "web"],
            }
        ),
        service_costs=pl.DataFrame(
            {
                "customer_id": ["a", "c"],
                "date": [d(2025, 2, 1), d(2026, 9, 1)],
                "touchpoint": ["call_center", "web"],
                "cost": [8.0, 0.5],
            }
        ),
        prospects=pl.DataFrame(
            {
                "prospect_id": ["p1", "p2"],
                "first_contact": [d(2026, 7, 1), d(2026, 9, 1)],
                "channel": ["Web", "Web"],
                "converted_customer_id": ["c", None],
            }
        ),
    )


def test_load_good_snapshot(good: Path) -> None:
    snap = load_snapshot(good)
    assert snap.as_of == AS_OF
    assert snap.manifest.company == "Acme"
    assert snap.manifest.contractual
    assert snap.manifest.discount_rate == 0.08
    assert snap.customers.collect().height == 3
    assert snap.transactions.collect()["amount"].sum() == 200.0
    assert snap.prospects.collect().height == 2
    assert snap.path == good


def test_optional_tables_absent_are_empty(good: Path) -> None:
    (good / "service_costs.parquet").unlink()
    (good / "prospects.parquet").unlink()
    snap = load_snapshot(good)
    assert snap.service_costs.collect().height == 0
    assert snap.prospects.collect().columns == [
        "prospect_id",
        "first_contact",
        "channel",
        "converted_customer_id",
    ]


def test_extra_columns_kept_and_integer_amounts_widened(good: Path) -> None:
    tx = pl.read_parquet(good / "transactions.parquet").with_columns(
        pl.col("amount").cast(pl.Int64), pl.lit("x").alias("note")
    )
    tx.write_parquet(good / "transactions.parquet")
    frame = load_snapshot(good).transactions.collect()
    assert frame.schema["amount"] == pl.Float64
    assert "note" in frame.columns


def test_missing_churned_on_column_is_allowed(good: Path) -> None:
    pl.read_parquet(good / "customers.parquet").drop("churned_on").write_parquet(
        good / "customers.parquet"
    )
    frame = load_snapshot(good).customers.collect()
    assert frame["churned_on"].null_count() == 3


# ----------------------------------------------------------------------------- damage


def _edit(table: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / f"{table}.parquet"
        change(pl.read_parquet(path)).write_parquet(path)

    return apply


def _manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / "manifest.json"
        path.write_text(json.dumps(change(json.loads(path.read_text()))))

    return apply


def _set(key: str, value: object) -> Callable[[dict], dict]:
    return lambda m: {**m, key: value}


def _truncate(name: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return apply


DAMAGE: list[tuple[str, Callable[[Path], None], tuple[str, ...]]] = [
    (
        "missing customers file",
        lambda f: (f / "customers.parquet").unlink(),
        ("customers.parquet", "required file is missing"),
    ),
    (
        "missing manifest",
        lambda f: (f / "manifest.json").unlink(),
        ("manifest.json", "required file is missing"),
    ),
    (
        "manifest not json",
        lambda f: (f / "manifest.json").write_text("{oops"),
        ("manifest.json", "not valid JSON"),
    ),
    ("manifest a list", _manifest(lambda m: [m]), ("manifest.json", "JSON object")),
    (
        "manifest without as_of",
        _manifest(lambda m: {k: v for k, v in m.items() if k != "as_of"}),
        ("manifest.json", "missing the key(s) as_of"),
    ),
    ("bad schema version", _manifest(_set("schema_version", 2)), ("schema_version", "is 2")),
    ("bad as_of", _manifest(_set("as_of", "30/09/2026")), ("as_of", "'30/09/2026'")),
    ("bad business model", _manifest(_set("business_model", "saas")), ("business_model", "'saas'")),
    ("bad discount rate", _manifest(_set("discount_rate", -0.1)), ("discount_rate", "-0.1")),
    ("bad currency", _manifest(_set("currency", "dollars")), ("currency", "'dollars'")),
    ("empty company", _manifest(_set("company", " ")), ("company", "non-empty")),
    (
        "truncated transactions",
        _truncate("transactions.parquet"),
        ("transactions.parquet", "truncated or damaged"),
    ),
    (
        "truncated customers",
        _truncate("customers.parquet"),
        ("customers.parquet", "truncated or damaged"),
    ),
    (
        "missing column",
        _edit("transactions", lambda t: t.drop("amount")),
        ("transactions.parquet", "column 'amount'", "required column is missing"),
    ),
    (
        "mistyped column",
        _edit("transactions", lambda t: t.with_columns(pl.col("amount").cast(pl.String))),
        ("column 'amount'", "has type String, expected number"),
    ),
    (
        "mistyped date",
        _edit("customers", lambda t: t.with_columns(pl.col("acquired_on").cast(pl.String))),
        ("customers.parquet", "column 'acquired_on'", "expected date"),
    ),
    (
        "nan amount",
        _edit(
            "transactions",
            lambda t: t.with_columns(
                pl.when(pl.col("customer_id") == "b")
                .then(float("nan"))
                .otherwise(pl.col("amount"))
                .alias("amount")
            ),
        ),
        ("column 'amount'", "NaN or infinite", "(1 row, e.g. nan)"),
    ),
    (
        "infinite cost",
        _edit("transactions", lambda t: t.with_columns(pl.lit(float("inf")).alias("cost"))),
        ("column 'cost'", "NaN or infinite", "(4 rows, e.g. inf)"),
    ),
    (
        "negative cost",
        _edit("transactions", lambda t: t.with_columns((-pl.col("cost") - 1).alias("cost"))),
        ("transactions.parquet", "column 'cost'", "has negative values", "4 rows", "-41.0"),
    ),
    (
        "negative acquisition cost",
        _edit(
            "customers",
            lambda t: t.with_columns((-pl.col("acquisition_cost")).alias("acquisition_cost")),
        ),
        ("customers.parquet", "column 'acquisition_cost'", "negative", "3 rows"),
    ),
    (
        "negative service cost",
        _edit("service_costs", lambda t: t.with_columns(pl.lit(-1.0).alias("cost"))),
        ("service_costs.parquet", "column 'cost'", "negative"),
    ),
    (
        "duplicate ids",
        _edit("customers", lambda t: pl.concat([t, t.head(1)])),
        ("customers.parquet", "column 'customer_id'", "duplicate ids", "'a'"),
    ),
    (
        "null id",
        _edit(
            "customers",
            lambda t: t.with_columns(
                pl.when(pl.col("customer_id") == "c")
                .then(None)
                .otherwise(pl.col("customer_id"))
                .alias("customer_id")
            ),
        ),
        ("customers.parquet", "column 'customer_id'", "missing (null)", "1 row", "row 3"),
    ),
    (
        "unknown customer",
        _edit(
            "transactions",
            lambda t: t.with_columns(
                pl.when(pl.col("customer_id") == "a")
                .then(pl.lit("zz"))
                .otherwise(pl.col("customer_id"))
                .alias("customer_id")
            ),
        ),
        ("transactions.parquet", "refers to customers not in customers.parquet", "2 rows", "'zz'"),
    ),
    (
        "unknown converted prospect",
        _edit(
            "prospects", lambda t: t.with_columns(pl.lit("ghost").alias("converted_customer_id"))
        ),
        ("prospects.parquet", "converted_customer_id", "'ghost'"),
    ),
    (
        "transaction after as_of",
        _edit("transactions", lambda t: t.with_columns(pl.lit(date(2026, 10, 1)).alias("date"))),
        (
            "transactions.parquet",
            "column 'date'",
            "after the snapshot's as_of 2026-09-30",
            "2026-10-01",
        ),
    ),
    (
        "acquired after as_of",
        _edit("customers", lambda t: t.with_columns(pl.lit(date(2027, 1, 1)).alias("acquired_on"))),
        ("customers.parquet", "column 'acquired_on'", "after"),
    ),
    (
        "churn before acquisition",
        _edit("customers", lambda t: t.with_columns(pl.lit(date(2020, 1, 1)).alias("churned_on"))),
        ("customers.parquet", "column 'churned_on'", "before the customer was acquired"),
    ),
]


@pytest.mark.parametrize(
    ("damage", "expected"), [(d[1], d[2]) for d in DAMAGE], ids=[d[0] for d in DAMAGE]
)
def test_damaged_snapshot_raises_and_is_left_unchanged(
    good: Path, damage: Callable[[Path], None], expected: tuple[str, ...]
) -> None:
    damage(good)
    before = _fingerprint(good)
    with pytest.raises(SnapshotError) as info:
        load_snapshot(good)
    message = str(info.value)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert "\n" not in message
    assert isinstance(info.value, ValueError)
    assert _fingerprint(good) == before


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="snapshot folder not found"):
        load_snapshot(tmp_path / "nothing")


def test_error_attributes_name_file_column_and_rows(good: Path) -> None:
    _edit("transactions", lambda t: t.with_columns(pl.lit(-5.0).alias("cost")))(good)
    with pytest.raises(SnapshotError) as info:
        load_snapshot(good)
    err = info.value
    assert err.file.endswith("transactions.parquet")
    assert err.column == "cost"
    assert err.rows == 4
    assert err.examples == [-5.0]


def test_examples_are_capped_at_five() -> None:
    err = SnapshotError("f.parquet", "bad", column="x", rows=9, examples=range(9))
    assert str(err) == "f.parquet, column 'x': bad (9 rows, e.g. 0, 1, 2, 3, 4)"


# ----------------------------------------------------------------------------- writing


def test_write_is_atomic_and_rejects_invalid_data(good: Path, tmp_path: Path) -> None:
    snap = load_snapshot(good)
    before = _fingerprint(good)
    bad_tx = snap.transactions.collect().with_columns(pl.lit(-1.0).alias("cost"))
    with pytest.raises(SnapshotError, match="negative"):
        write_snapshot(good, manifest=snap.manifest, customers=snap.customers, transactions=bad_tx)
    assert _fingerprint(good) == before  # the existing snapshot is untouched
    assert sorted(p.name for p in good.parent.iterdir() if p.name.startswith(".")) == []


def test_write_replaces_existing_snapshot(good: Path) -> None:
    snap = load_snapshot(good)
    fewer = snap.transactions.collect().head(2)
    write_snapshot(good, manifest=snap.manifest, customers=snap.customers, transactions=fewer)
    assert load_snapshot(good).transactions.collect().height == 2
    assert not (good / "service_costs.parquet").exists()


def test_round_trip_preserves_data(good: Path, tmp_path: Path) -> None:
    snap = load_snapshot(good)
    copy = write_snapshot(
        tmp_path / "copy",
        manifest=snap.manifest,
        customers=snap.customers,
        transactions=snap.transactions,
        service_costs=snap.service_costs,
        prospects=snap.prospects,
    )
    again = load_snapshot(copy)
    for name in ("customers", "transactions", "service_costs", "prospects"):
        assert_frame_equal(getattr(again, name).collect(), getattr(snap, name).collect())
    assert again.manifest == snap.manifest


def test_manifest_keeps_unknown_keys() -> None:
    man = Manifest.from_dict(
        {"schema_version": 1, "as_of": "2026-01-31", "company": "X", "source": "erp"}
    )
    assert man.extra == {"source": "erp"}
    assert man.to_dict()["source"] == "erp"
    assert man.discount_rate == 0.10 and man.currency == "USD"


# ----------------------------------------------------------------------------- cut


def test_cut_drops_later_rows_and_reopens_contracts(good: Path) -> None:
    snap = load_snapshot(good).cut(date(2026, 1, 31))
    assert snap.as_of == date(2026, 1, 31)
    customers = snap.customers.collect().sort("customer_id")
    assert customers["customer_id"].to_list() == ["a", "b"]  # c was acquired in August
    assert customers["churned_on"].to_list() == [None, None]  # b churned on 2026-02-01
    tx = snap.transactions.collect()
    assert tx["date"].max() <= date(2026, 1, 31)
    assert tx.height == 2
    assert snap.service_costs.collect().height == 1
    assert snap.prospects.collect().height == 0


def test_cut_unconverts_prospects_converted_later(good: Path) -> None:
    snap = load_snapshot(good).cut(date(2026, 7, 15))
    prospects = snap.prospects.collect()
    assert prospects["prospect_id"].to_list() == ["p1"]
    assert prospects["converted_customer_id"].to_list() == [None]


def test_cut_is_valid_and_idempotent(good: Path) -> None:
    snap = load_snapshot(good)
    cut = snap.cut("2026-03-31")
    again = Snapshot.from_frames(
        cut.manifest,
        customers=cut.customers,
        transactions=cut.transactions,
        service_costs=cut.service_costs,
        prospects=cut.prospects,
    )
    assert_frame_equal(again.customers.collect(), cut.customers.collect())
    assert snap.cut(snap.as_of) is snap
    with pytest.raises(ValueError, match="later date"):
        snap.cut(date(2026, 12, 31))


def test_find_snapshots(good: Path, tmp_path: Path) -> None:
    shutil.copytree(good, tmp_path / "other")
    (tmp_path / "not-a-snapshot").mkdir()
    found = find_snapshots(tmp_path, None, tmp_path / "missing", good)
    assert found == sorted({good.resolve(), (tmp_path / "other").resolve()})
