"""The Spark build (crm_core.spark) against the polars path on the sample companies.

PySpark runs in local mode, one session for the whole module; each sample is built once.
Equal ledgers (grid, customers, panel), equal model parameters (1e-6 relative) from the
stored ledger and from the grouped inputs Spark wrote, and equal page metrics.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import metrics, open_page
from polars.testing import assert_frame_equal
from test_sql import postgres  # noqa: F401 - the throwaway PostgreSQL server fixture

from crm_core.clv.fitted import CONTRACT_KEYS, fit_contract_sbg, fit_grouped, fit_models
from crm_core.data.ledger import DEFAULT_ACTIVITY, build_ledger
from crm_core.data.rules import ActivityRule
from crm_core.data.snapshot import load_snapshot
from crm_core.errors import SnapshotError
from crm_core.metrics.compute import ledger_metrics
from crm_core.metrics.registry import METRICS, metric_value

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]
REL = 1e-6


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark session (skipped without PySpark or Java, failed under CI)."""
    missing = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing = "PySpark is not installed (pip install -e .[spark])"
    if missing is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing = "Java is missing (make java)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    from crm_core.spark.session import spark_session

    session = spark_session("local[2]", partitions=4)
    yield session
    session.stop()


def _build(spark: Any, source: Path, out: Path, **kw: Any) -> Path:
    from crm_core.spark.build import build_snapshot_spark

    man = json.loads((source / "manifest.json").read_text())
    build_snapshot_spark(
        source / "transactions.parquet",
        date.fromisoformat(man["as_of"]),
        out,
        customers=source / "customers.parquet",
        service_costs=source / "service_costs.parquet",
        prospects=source / "prospects.parquet",
        company=man["company"],
        business_model=man["business_model"],
        discount_rate=man["discount_rate"],
        spark=spark,
        **kw,
    )
    return out


@pytest.fixture(scope="module")
def retail(spark: Any, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(spark, sample_dir, tmp_path_factory.mktemp("spark") / "retail",
                  sample_customers=300)  # fmt: skip


@pytest.fixture(scope="module")
def subscription(
    spark: Any, subscription_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return _build(spark, subscription_dir, tmp_path_factory.mktemp("spark") / "subscription")


def _close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


def _same_ledger(polars_dir: Path, spark_dir: Path, as_of: date | None = None) -> Any:
    ours, theirs = load_snapshot(polars_dir), load_snapshot(spark_dir)
    if as_of is not None:
        ours, theirs = ours.cut(as_of), theirs.cut(as_of)
    want, got = build_ledger(ours), build_ledger(theirs)
    assert_frame_equal(got.grid, want.grid)
    assert_frame_equal(got.customers, want.customers)
    assert_frame_equal(got.panel, want.panel, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    return want, got


@pytest.mark.parametrize("as_of", [None, date(2026, 6, 30), date(2025, 12, 31)])
def test_spark_ledger_equals_the_polars_ledger(sample_dir, retail, as_of) -> None:
    _same_ledger(sample_dir, retail, as_of)


@pytest.mark.parametrize("as_of", [None, date(2026, 3, 31)])
def test_spark_ledger_equals_the_polars_ledger_for_subscriptions(
    subscription_dir, subscription, as_of
) -> None:
    _same_ledger(subscription_dir, subscription, as_of)


def test_the_snapshot_keeps_the_raw_rows_of_a_sample_only(sample_dir, retail) -> None:
    snap = load_snapshot(retail)
    meta = snap.manifest.extra["ledger"]
    assert meta["customers"] == 2000 and meta["sampled_customers"] == 300
    ids = snap.transactions.select(pl.col("customer_id").n_unique()).collect().item()
    assert 0 < ids <= 300
    full = load_snapshot(sample_dir).transactions.join(
        snap.transactions.select("customer_id").unique(), on="customer_id", how="semi"
    )
    # every raw row of a sampled customer is there, none of the others
    assert (
        snap.transactions.select(pl.len()).collect().item()
        == full.select(pl.len()).collect().item()
    )
    assert snap.customers.select(pl.len()).collect().item() == 2000


def test_model_parameters_equal_from_the_ledger_and_the_grouped_inputs(sample_dir, retail) -> None:
    from crm_core.spark.store import grouped_frames

    want = fit_models(build_ledger(load_snapshot(sample_dir)))
    got = fit_models(build_ledger(load_snapshot(retail)))
    groups = grouped_frames(retail)
    bg, gg = fit_grouped(groups["bgnbd"], groups["spend"])
    assert want.bgnbd is not None and want.gamma_gamma is not None
    expected = want.bgnbd.params + want.gamma_gamma.params
    for fitted in (got.bgnbd.params + got.gamma_gamma.params, bg.params + gg.params):
        for a, b in zip(fitted, expected, strict=True):
            assert _close(a, b), (a, b)
    assert _close(bg.log_likelihood, want.bgnbd.log_likelihood, 1e-9)
    assert bg.n_customers == want.bgnbd.n_customers
    assert groups["bgnbd"].height < want.inputs.height  # distinct rows, not customers


def test_sbg_parameters_equal_from_the_grouped_contracts(subscription_dir, subscription) -> None:
    from crm_core.spark.store import grouped_frames

    want = fit_models(build_ledger(load_snapshot(subscription_dir)))
    rows = grouped_frames(subscription)["contracts"]
    assert sorted(rows.columns) == sorted([*CONTRACT_KEYS, "customers"])
    got = fit_contract_sbg(rows)
    assert want.sbg is not None
    assert _close(got.alpha, want.sbg.alpha) and _close(got.beta, want.sbg.beta)
    assert got.n_customers == want.sbg.n_customers


@pytest.mark.parametrize("which", ["retail", "subscription"])
def test_page_metrics_equal(which, sample_dir, subscription_dir, retail, subscription) -> None:
    source, built = (sample_dir, retail) if which == "retail" else (subscription_dir, subscription)
    want = ledger_metrics(build_ledger(load_snapshot(source)))
    got = ledger_metrics(build_ledger(load_snapshot(built)))
    compared = 0
    for key in METRICS:
        for q in (0, 1):
            a, b = metric_value(got, key, q), metric_value(want, key, q)
            assert (a is None) == (b is None), key
            if a is not None:
                assert _close(a, b, 1e-6) or abs(a - b) < 1e-9, (key, q, a, b)
                compared += 1
    assert compared >= 10


def test_a_stored_ledger_is_only_read_at_its_period_ends_and_rules(retail) -> None:
    snap = load_snapshot(retail)
    with pytest.raises(SnapshotError, match="period ends only"):
        build_ledger(snap.cut(date(2026, 8, 15)))
    with pytest.raises(SnapshotError, match="other activity or stage rules"):
        build_ledger(snap, activity=ActivityRule(min_lapse_days=200))
    assert build_ledger(snap, activity=DEFAULT_ACTIVITY).periods == 12


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("customer_id,date,amount,cost,channel,region\n" + "\n".join(rows) + "\n")
    return path


def test_bad_rows_are_counted_with_examples(spark, tmp_path) -> None:
    from crm_core.spark.build import build_snapshot_spark

    rows = ["A,2026-01-05,10.0,2.0,web,North", "B,2026-02-01,5.0,-1.0,web,South",
            "C,2026-02-03,7.0,-3.5,store,", "D,2026-02-04,7.0,1.0,store,"]  # fmt: skip
    src = _csv(tmp_path / "tx.csv", rows)
    with pytest.raises(SnapshotError) as err:
        build_snapshot_spark(src, date(2026, 3, 31), tmp_path / "out", spark=spark)
    assert err.value.column == "cost" and err.value.rows == 2
    assert sorted(err.value.examples) == [-3.5, -1.0]
    assert "negative" in str(err.value)
    src = _csv(tmp_path / "dates.csv", ["A,2026-01-05,10.0,2.0,web,North", "B,05/01/2026,5,1,web,"])
    with pytest.raises(SnapshotError, match="not dates") as err:
        build_snapshot_spark(src, date(2026, 3, 31), tmp_path / "out", spark=spark)
    assert err.value.rows == 1 and err.value.examples == ["05/01/2026"]
    with pytest.raises(SnapshotError, match="not found"):
        build_snapshot_spark(
            tmp_path / "none-*.csv", date(2026, 3, 31), tmp_path / "o", spark=spark
        )


def test_customers_derived_from_a_csv_export_like_the_polars_build(spark, tmp_path) -> None:
    """Without a customers table: acquired on the first transaction, its channel, the first
    region given, rows after the as-of date ignored (and counted); via ``crm build
    --engine spark``."""
    from crm_core.cli import main

    rows = ["A,2025-01-05,10.0,2.0,web,North", "A,2025-01-05,4.0,1.0,store,",
            "A,2025-06-01,-3.0,0.0,web,", "B,2025-03-01,5.0,1.0,store,",
            "B,2025-09-01,8.0,1.0,web,South", "B,2026-05-01,9.0,1.0,web,South",
            "C,2025-10-10,20.0,5.0,app,East"]  # fmt: skip
    src = _csv(tmp_path / "export.csv", rows)
    out = tmp_path / "built"
    assert main(["build", "--engine", "spark", "--transactions", str(src), "--as-of",
                 "2025-12-31", "--out", str(out), "--sample-customers", "2"]) == 0  # fmt: skip
    snap = load_snapshot(out)
    customers = snap.customers.sort("customer_id").collect()
    assert customers["acquired_on"].to_list() == [
        date(2025, 1, 5),
        date(2025, 3, 1),
        date(2025, 10, 10),
    ]
    assert customers["acquisition_channel"].to_list() == ["web", "store", "app"]
    assert customers["region"].to_list() == ["North", "South", "East"]
    assert customers["acquisition_cost"].to_list() == [0.0, 0.0, 0.0]
    ledger = build_ledger(snap)
    # A: 14.0 on one day, then a refund; B: 5 + 8 (the 2026 row is after the as-of date)
    totals = ledger.panel.group_by("cid").agg(pl.col("revenue").sum()).sort("cid")
    assert totals["revenue"].to_list() == [11.0, 13.0, 20.0]
    assert ledger.panel["purchase_days"].sum() == 4


@pytest.mark.parametrize(
    "page",
    ["pages/overview.py", "pages/growth.py", "pages/customer_value.py", "pages/lifecycle.py",
     "pages/whatif.py"],
)  # fmt: skip
def test_pages_show_the_same_cards_from_a_spark_snapshot(
    page, sample_dir, retail, tmp_path, monkeypatch
) -> None:
    """The app serves the Spark-built snapshot (raw rows of 300 customers only) with the
    cards of the polars-built one."""
    shutil.copytree(sample_dir, tmp_path / "polars-retail")
    shutil.copytree(retail, tmp_path / "spark-retail")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    want = metrics(open_page("polars-retail", page))
    got = metrics(open_page("spark-retail", page))
    assert len(want) >= 3
    assert got == want


def test_pages_reading_raw_rows_say_they_use_a_sample(retail, tmp_path, monkeypatch) -> None:
    """Your data (and Segments' cost to serve, same note) says the raw rows are a sample of
    300 customers; a polars-built snapshot has no such note."""
    from crm_core.copy import sampled_rows_note

    assert build_ledger(load_snapshot(retail)).sampled_customers == 300
    assert sampled_rows_note(None) is None
    note = sampled_rows_note(300)
    assert note is not None and "300 sampled customers" in note
    shutil.copytree(retail, tmp_path / "spark-retail")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    at = open_page("spark-retail", "pages/your_data.py")
    assert not at.exception
    assert any("300 sampled customers" in c.value for c in at.caption)


def test_a_database_table_read_through_jdbc_gives_the_same_ledger(
    spark,
    postgres,  # noqa: F811 - the fixture imported from test_sql
    sample_dir,
    retail,
    tmp_path,
) -> None:
    """The sample's transactions in PostgreSQL (numeric amounts), read by Spark via JDBC,
    give the ledger the Parquet files give; the password never appears in a message."""
    from adbc_driver_postgresql import dbapi

    from crm_core.spark.build import build_snapshot_spark
    from crm_core.spark.jdbc import JdbcTable

    if not Path("/usr/share/java/postgresql.jar").exists() and not os.environ.get("CRM_SPARK_JARS"):
        message = "no PostgreSQL JDBC driver (apt-get install libpostgresql-jdbc-java)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    rows = pl.read_parquet(sample_dir / "transactions.parquet")
    with dbapi.connect(postgres) as conn, conn.cursor() as cur:
        cur.adbc_ingest("staging_tx", rows.to_arrow(), mode="replace")
        cur.execute("DROP TABLE IF EXISTS tx")
        cur.execute("CREATE TABLE tx AS SELECT customer_id, date, amount::numeric(12,2) AS "
                    "amount, cost::numeric(12,2) AS cost, channel FROM staging_tx")  # fmt: skip
        conn.commit()
    man = json.loads((sample_dir / "manifest.json").read_text())
    out = build_snapshot_spark(
        JdbcTable(postgres, table="tx"),
        date.fromisoformat(man["as_of"]),
        tmp_path / "jdbc",
        customers=sample_dir / "customers.parquet",
        service_costs=sample_dir / "service_costs.parquet",
        company=man["company"],
        spark=spark,
    ).path
    want, got = build_ledger(load_snapshot(retail)), build_ledger(load_snapshot(out))
    assert_frame_equal(got.customers, want.customers)
    assert_frame_equal(got.panel, want.panel, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    password = postgres.split(":")[2].split("@")[0]
    with pytest.raises(SnapshotError) as err:
        build_snapshot_spark(JdbcTable(postgres, table="no_such_table"), date(2026, 9, 30),
                             tmp_path / "none", spark=spark)  # fmt: skip
    assert password not in str(err.value) and "no_such_table" in str(err.value)
