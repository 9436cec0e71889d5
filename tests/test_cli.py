"""The ``crm`` command: exit codes and one-line messages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import load_snapshot
from crm_core.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse exits for --help and usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_sample_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "sample", "--out", str(tmp_path / "s"), "--customers", "120", "--seed", "3"
    )
    assert code == 0, err
    assert "Valid snapshot" in out and "customers 120" in out
    code, out, _ = run(capsys, "validate", str(tmp_path / "s"))
    assert code == 0
    assert "Northwind Outfitters, as of 2026-09-30, non-contractual" in out


def test_sample_contractual(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "sample",
        "--out",
        str(tmp_path / "s"),
        "--customers",
        "50",
        "--business-model",
        "contractual",
        "--company",
        "Acme Cloud",
    )
    assert code == 0
    assert load_snapshot(tmp_path / "s").manifest.contractual
    assert "Acme Cloud" in out


def test_validate_reports_the_snapshot_error(
    sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = shutil.copytree(sample_dir, tmp_path / "broken")
    tx = pl.read_parquet(broken / "transactions.parquet")
    tx.with_columns(pl.lit(-1.0).alias("cost")).write_parquet(broken / "transactions.parquet")
    code, out, err = run(capsys, "validate", str(broken))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("crm validate: error: ")
    assert "transactions.parquet, column 'cost': has negative values" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "/no/such/folder"], "snapshot folder not found"),
        (["build", "--transactions", "x.csv"], "required: --as-of, --out"),
        (["sample", "--out", "x", "--customers", "0"], "must be at least 1"),
        (["sample", "--out", "x", "--as-of", "yesterday"], "not a date YYYY-MM-DD"),
        (["nonsense"], "invalid choice"),
        ([], "required: command"),
    ],
)
def test_usage_errors_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["sample", "validate", "build", "clv", "metrics"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert "usage: crm " + command in out


def _export(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(text)
    return path


def test_build_from_csv_with_mapped_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = _export(
        tmp_path,
        "client,day,total,margin_cost,shop,area\n"
        "a,2026-01-05,10.50,4,web,North\n"
        "b,2026-02-01,20,8,store,\n"
        'a,2026-03-01,"1,200.00",500,store,North\n'
        "a,2026-04-01,-10.50,0,web,North\n"
        "c,2026-10-02,5,1,web,South\n",
    )
    code, out, err = run(
        capsys,
        "build",
        "--transactions",
        str(export),
        "--as-of",
        "2026-09-30",
        "--out",
        str(tmp_path / "acme"),
        "--customer-id-col",
        "client",
        "--date-col",
        "day",
        "--amount-col",
        "total",
        "--cost-col",
        "margin_cost",
        "--channel-col",
        "shop",
        "--region-col",
        "area",
        "--company",
        "Acme",
    )
    assert code == 0, err
    assert "Ignored 1 row dated after 2026-09-30" in out
    snap = load_snapshot(tmp_path / "acme")
    assert snap.manifest.company == "Acme"
    customers = snap.customers.collect().sort("customer_id")
    assert customers["customer_id"].to_list() == ["a", "b"]  # c only bought after as_of
    assert customers["acquired_on"].to_list() == [date(2026, 1, 5), date(2026, 2, 1)]
    assert customers["acquisition_channel"].to_list() == ["web", "store"]
    assert customers["region"].to_list() == ["North", "Unknown"]
    tx = snap.transactions.collect()
    assert tx["amount"].sum() == pytest.approx(10.5 + 20 + 1200 - 10.5)
    assert tx["cost"].sum() == pytest.approx(512)


def test_build_from_parquet_with_defaults(tmp_path: Path, capsys) -> None:
    path = tmp_path / "export.parquet"
    pl.DataFrame(
        {"customer_id": [1, 2], "date": [date(2026, 1, 1), date(2026, 2, 1)], "amount": [5, 7]}
    ).write_parquet(path)
    code, _, err = run(
        capsys,
        "build",
        "--transactions",
        str(path),
        "--as-of",
        "2026-09-30",
        "--out",
        str(tmp_path / "s"),
    )
    assert code == 0, err
    assert load_snapshot(tmp_path / "s").customers.collect()["customer_id"].to_list() == ["1", "2"]


@pytest.mark.parametrize(
    ("csv", "options", "message"),
    [
        (
            "customer_id,date,amount\na,2026-01-05,10\nb,05/02/2026,20\n",
            [],
            "column 'date': has values that are not dates in the format %Y-%m-%d on line 3: "
            "pass --date-format",
        ),
        (
            "customer_id,date,amount\na,2026-01-05,ten\n",
            [],
            "column 'amount': has values that are not numbers (read with a decimal point) "
            "on line 2: correct them (1 row, e.g. 'ten')",
        ),
        (
            "id,date,amount\na,2026-01-05,10\n",
            [],
            "has no customer id column (columns: id, date, amount): map it with --customer-id-col",
        ),
        ("customer_id,date,amount\n,2026-01-05,10\n", [], "rows without a customer id on line 2"),
        ("customer_id,date,amount\na,2027-01-05,10\n", [], "no transactions on or before"),
        ("customer_id,date,amount\na,05/01/2026,10\n", ["--date-format", "%d/%m/%Y"], None),
    ],
)
def test_build_bad_exports(
    tmp_path: Path, capsys, csv: str, options: list[str], message: str | None
) -> None:
    export = _export(tmp_path, csv)
    code, _, err = run(
        capsys,
        "build",
        "--transactions",
        str(export),
        "--as-of",
        "2026-09-30",
        "--out",
        str(tmp_path / "s"),
        *options,
    )
    if message is None:
        assert code == 0, err
        return
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_console_script_is_installed(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("crm")
    result = subprocess.run(
        [str(exe), "validate", str(tmp_path / "none")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"crm validate: error: {tmp_path / 'none'}: snapshot folder not found"
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_clv_export_matches_crm_core(
    sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    from crm_core.clv import customer_clv

    out = tmp_path / f"clv{suffix}"
    code, text, err = run(
        capsys, "clv", "--snapshot", str(sample_dir), "--out", str(out), "--horizon-years", "2"
    )
    assert code == 0, err
    frame = pl.read_parquet(out) if suffix == ".parquet" else pl.read_csv(out)
    expected = customer_clv(load_snapshot(sample_dir), horizon_years=2)
    assert frame.columns == [
        "customer_id",
        "clv",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "model",
        "method",
    ]
    assert frame.height == expected.table.height
    assert frame["clv"].sum() == pytest.approx(expected.customer_equity)
    assert frame["method"][0] == expected.method
    assert f"{frame.height:,} customers" in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_clv_csv_quotes_formula_like_customer_ids(
    sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A customer id a spreadsheet would run (``=1+2``) is written as ``'=1+2``."""
    from crm_core import write_snapshot

    snap = load_snapshot(sample_dir)
    first = snap.customers.select("customer_id").first().collect().item()
    renamed = pl.col("customer_id").replace(first, "=1+2")
    hostile = write_snapshot(
        tmp_path / "hostile",
        manifest=snap.manifest,
        customers=snap.customers.with_columns(renamed),
        transactions=snap.transactions.with_columns(renamed),
        service_costs=snap.service_costs.with_columns(renamed),
        prospects=snap.prospects.with_columns(
            pl.col("converted_customer_id").replace(first, "=1+2")
        ),
    )
    out = tmp_path / "clv.csv"
    code, _, err = run(capsys, "clv", "--snapshot", str(hostile), "--out", str(out))
    assert code == 0, err
    ids = pl.read_csv(out, infer_schema=False)["customer_id"].to_list()
    assert "'=1+2" in ids
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x.txt"], "--out must end in .parquet or .csv"),
        (["--out", "x.csv", "--horizon-years", "0"], "must be positive"),
    ],
)
def test_clv_bad_arguments(sample_dir: Path, tmp_path: Path, capsys, extra, message) -> None:
    extra = [str(tmp_path / a) if a.startswith("x.") else a for a in extra]
    code, _, err = run(capsys, "clv", "--snapshot", str(sample_dir), *extra)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("which", ["sample_dir", "subscription_dir"])
def test_metrics_json_equals_the_registry(which: str, request, capsys) -> None:
    import json

    from crm_core.metrics.compute import snapshot_metrics
    from crm_core.metrics.registry import METRICS, metric_value

    folder = request.getfixturevalue(which)
    assert main(["metrics", "--snapshot", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    inputs = snapshot_metrics(load_snapshot(folder))
    shown = {m["key"]: m for m in report["metrics"]}
    assert set(shown) == set(METRICS)
    for key, metric in shown.items():
        assert metric["label"] == METRICS[key].label
        assert metric["value"] == pytest.approx(metric_value(inputs, key)), key
        assert metric["previous_quarter"] == pytest.approx(metric_value(inputs, key, 1)), key


def test_metrics_at_an_earlier_date_and_bad_input(sample_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["metrics", "--snapshot", str(sample_dir), "--as-of", "2026-03-31"]) == 0
    assert "Active customers:" in capsys.readouterr().out
    assert main(["metrics", "--snapshot", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "snapshot folder not found" in err[0]
