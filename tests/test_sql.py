"""``crm build --sql`` against a real PostgreSQL server started by the fixture (no mock).

The fixture runs ``initdb`` and ``pg_ctl`` of Debian's ``postgresql`` package (installed by
``.ci/run`` and ``make test`` when missing) in a temporary folder on a free localhost port,
as the ``postgres`` user when the tests run as root (``initdb`` refuses root). Without the
binaries the tests are skipped locally and fail under CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crm_core import load_snapshot
from crm_core.cli import main
from crm_core.data.build import import_snapshot
from crm_core.data.sql import SqlSource

PASSWORD = "s3cr3t-Pa55"
TABLES = ("customers", "transactions", "service_costs", "prospects")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the PostgreSQL tests: .ci/run installs them)")
    pytest.skip(reason)


def _bindir() -> Path | None:
    found = [Path(os.environ["CRM_PG_BIN"])] if os.environ.get("CRM_PG_BIN") else []
    found += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if shutil.which("initdb"):
        found.append(Path(shutil.which("initdb")).resolve().parent)
    return next((d for d in found if (d / "initdb").exists() and (d / "pg_ctl").exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """URL of a throwaway PostgreSQL server (user ``crm``, password auth over TCP)."""
    bindir = _bindir()
    if bindir is None:
        _unavailable("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root without a 'postgres' user to run initdb as")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else []
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    data, port = root / "data", _free_port()

    def run(*argv: str) -> subprocess.CompletedProcess:
        cmd = [*prefix, *argv]
        if os.geteuid() == 0 and not prefix:
            cmd = ["su", "postgres", "-c", " ".join(f"'{a}'" for a in argv)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    init = run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "crm",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        f"--pwfile={pwfile}",
        "-E",
        "UTF8",
        "--locale=C",
    )
    if init.returncode != 0:
        _unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                "-l", str(root / "log"), "start")  # fmt: skip
    if start.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        _unavailable(f"pg_ctl start failed: {start.stderr.strip()[-200:]} {log[-300:]}")
    try:
        yield f"postgresql://crm:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _rows(n: int = 3000, seed: int = 11) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    return pl.DataFrame(
        {
            "line": np.arange(n),
            "client": [f"C{c:04d}" for c in rng.integers(0, 400, n)],
            "day": [start + timedelta(days=int(d)) for d in rng.integers(0, 1000, n)],
            "total": np.round(rng.gamma(2.0, 40.0, n) * 100) / 100 - 5,
            "cogs": np.round(rng.uniform(0, 20, n) * 100) / 100,
            "shop": rng.choice(["web", "store", "app"], n),
            "area": rng.choice(["North", "South", "Zürich"], n),
        }
    )


def _sql(url: str, *statements: str, ingest: pl.DataFrame | None = None) -> None:
    from adbc_driver_postgresql import dbapi

    with dbapi.connect(url) as conn, conn.cursor() as cur:
        if ingest is not None:
            cur.adbc_ingest("staging", ingest.to_arrow(), mode="replace")
        for statement in statements:
            cur.execute(statement)
        conn.commit()


@pytest.fixture(scope="module")
def loaded(postgres: str, tmp_path_factory) -> tuple[str, Path]:
    """The same rows in a table ``orders`` (numeric amounts, real dates) and a CSV."""
    rows = _rows()
    _sql(
        postgres,
        "DROP TABLE IF EXISTS orders",
        "CREATE TABLE orders AS SELECT line, client, day::date AS day, "
        "total::numeric(12,2) AS total, cogs::numeric(12,2) AS cogs, shop, area FROM staging",
        ingest=rows,
    )
    csv = tmp_path_factory.mktemp("sql-csv") / "orders.csv"
    rows.drop("line").with_columns(pl.col("total", "cogs").map_elements(
        lambda x: f"{x:.2f}", return_dtype=pl.String)).write_csv(csv)  # fmt: skip
    return postgres, csv


MAP = ["--customer-id-col", "client", "--date-col", "day", "--amount-col", "total",
       "--cost-col", "cogs", "--channel-col", "shop", "--region-col", "area"]  # fmt: skip


def _build(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["build", "--as-of", "2026-09-30", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _same(a: Path, b: Path) -> None:
    one, two = load_snapshot(a), load_snapshot(b)
    for table in TABLES:
        assert_frame_equal(getattr(one, table).collect(), getattr(two, table).collect())
    assert one.manifest.as_of == two.manifest.as_of


def test_sql_and_csv_give_equal_snapshots(loaded, tmp_path: Path, capsys) -> None:
    url, csv = loaded
    code, out, err = _build(capsys, "--sql", url, "--query",
                            "SELECT client, day, total, cogs, shop, area FROM orders ORDER BY line",
                            "--out", str(tmp_path / "sql"), *MAP)  # fmt: skip
    assert code == 0, err
    assert PASSWORD not in out + err
    code, _, err = _build(capsys, "--transactions", str(csv), "--out", str(tmp_path / "csv"), *MAP)
    assert code == 0, err
    _same(tmp_path / "sql", tmp_path / "csv")
    snap = load_snapshot(tmp_path / "sql")
    assert snap.transactions.select(pl.len()).collect().item() == 3000  # all before as-of
    assert "Zürich" in snap.customers.collect()["region"].to_list()
    assert snap.manifest.extra["built_from"].startswith("PostgreSQL query on 127.0.0.1:")


def test_a_table_read_whole_in_many_batches_is_the_same(loaded, tmp_path: Path) -> None:
    url, csv = loaded
    _sql(url, "DROP VIEW IF EXISTS ordered",
         "CREATE VIEW ordered AS SELECT client, day, total, cogs, shop, area FROM orders "
         "ORDER BY line")  # fmt: skip
    mapping = {"customer_id": "client", "date": "day", "amount": "total", "cost": "cogs",
               "channel": "shop", "region": "area"}  # fmt: skip
    seen: list[int] = []
    import_snapshot(tmp_path / "sql", transactions=SqlSource(url, table="public.ordered",
                    batch_rows=64), as_of=date(2026, 9, 30), mapping=mapping,
                    progress=lambda what, done, total: seen.append(done))  # fmt: skip
    import_snapshot(tmp_path / "csv", transactions=csv, as_of=date(2026, 9, 30), mapping=mapping)
    _same(tmp_path / "sql", tmp_path / "csv")
    assert len(seen) > 3 and max(seen) == 3000  # streamed in batches, not whole


def test_credentials_from_pg_environment_variables(loaded, tmp_path, capsys, monkeypatch):
    url, _ = loaded
    port = url.rsplit(":", 1)[1].split("/")[0]
    for key, value in {"PGHOST": "127.0.0.1", "PGPORT": port, "PGUSER": "crm",
                       "PGPASSWORD": PASSWORD, "PGDATABASE": "postgres"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    code, _, err = _build(capsys, "--sql", "postgresql://", "--table", "orders",
                            "--out", str(tmp_path / "env"), *MAP)  # fmt: skip
    assert code == 0, err
    assert load_snapshot(tmp_path / "env").transactions.select(pl.len()).collect().item() == 3000


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("bad query", 'relation "no_such_table" does not exist'),
        ("wrong password", 'password authentication failed for user "crm"'),
        ("unreachable host", "Connection refused"),
        ("no rows", "returned no rows (columns: client, day, total)"),
        ("bad table name", "is not a table name"),
        ("booleans as amounts", "amounts are stored as true/false"),
    ],
)
def test_failures_are_one_clear_line_without_the_password(
    loaded, tmp_path, capsys, case, message
) -> None:
    url, _ = loaded
    port = url.rsplit(":", 1)[1].split("/")[0]
    source = {
        "bad query": ["--sql", url, "--query", "SELECT * FROM no_such_table"],
        "wrong password": ["--sql", url.replace(PASSWORD, "wrong-" + PASSWORD),
                           "--table", "orders"],
        "unreachable host": ["--sql", url.replace(f":{port}/", f":{_free_port()}/"),
                             "--query", "SELECT 1"],
        "no rows": ["--sql", url, "--query", "SELECT client, day, total FROM orders WHERE false"],
        "bad table name": ["--sql", url, "--table", "orders; drop table orders"],
        "booleans as amounts": ["--sql", url, "--query",
                                "SELECT client, day, total > 0 AS total FROM orders"],
    }[case]  # fmt: skip
    code, out, err = _build(capsys, *source, "--out", str(tmp_path / "s"), *MAP[:6])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("crm build: error: ")
    assert message in err
    assert PASSWORD not in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()
    _sql(url, "SELECT 1")  # the server still answers


def test_postgres_types_are_read_exactly(postgres: str, tmp_path: Path) -> None:
    _sql(
        postgres,
        "DROP TABLE IF EXISTS typed",
        "CREATE TABLE typed (id bigint, at timestamptz, amount numeric(20,4), cost real)",
        "INSERT INTO typed VALUES (9007199254740993, '2026-01-05 23:30:00+00', 1234.5678, 0.5),"
        " (2, '2026-02-01 00:00:00+00', -0.0001, 0)",
    )
    import_snapshot(
        tmp_path / "s",
        transactions=SqlSource(postgres, table="typed"),
        as_of=date(2026, 9, 30),
        mapping={"customer_id": "id", "date": "at", "amount": "amount", "cost": "cost"},
    )
    tx = load_snapshot(tmp_path / "s").transactions.collect().sort("customer_id")
    assert tx.rows() == [
        ("2", date(2026, 2, 1), -0.0001, 0.0, "unknown"),
        ("9007199254740993", date(2026, 1, 5), 1234.5678, 0.5, "unknown"),
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://shop:hunter2@db/shop", "is not PostgreSQL's (it starts with mysql://)"),
        ("hunter2", "does not start with postgresql://"),
        ("postgresql://shop:hunter2@[::1/shop", "cannot be read (Invalid IPv6 URL)"),
        ("postgresql://shop:hunter2@db:99999/shop", "cannot be read (Port out of range"),
        ("host=127.0.0.1 port=1 dbname=shop password=hunter2", "on 127.0.0.1:1/shop"),
        ("host=127.0.0.1 port=1 dbname=shop password='hunter2 x'", "on 127.0.0.1:1/shop"),
        ("postgresql://shop:hunter2@127.0.0.1:1/shop?sslmode=disable", "on 127.0.0.1:1/shop"),
    ],
)
def test_connection_strings_are_checked_and_never_echoed(tmp_path, capsys, url, message):
    code, out, err = _build(capsys, "--sql", url, "--query", "SELECT 1", "--out",
                            str(tmp_path / "s"))  # fmt: skip
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert "hunter2" not in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()
