"""Building a snapshot from exports (crm_core.data.build): the derived customers, the optional
tables, every problem with its rows, batches, the preview, the progress bar."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from crm_core import SnapshotError, load_snapshot
from crm_core.cli import main
from crm_core.cli.snapshots import ProgressBar
from crm_core.data import exports
from crm_core.data.build import build_snapshot, import_snapshot, inspect_source
from crm_core.data.exports import ReadOptions
from crm_core.data.mapping import TRANSACTION_ROLES, propose
from crm_core.data.problems import ProblemsFound

AS_OF = date(2026, 9, 30)
TX = (
    "client;day;total;cogs;shop;area;cac\n"
    "a;05.01.2026;10,50;4;web;North;12,5\n"
    "b;01.02.2026;20;8;store;;\n"
    "a;01.03.2026;1.200,00;500;store;South;12,5\n"
    "a;01.04.2026;-10,50;0;web;North;\n"
    "c;02.10.2026;5;1;web;South;3\n"
)
MAPPING = {"customer_id": "client", "date": "day", "amount": "total", "cost": "cogs",
           "channel": "shop", "region": "area", "acquisition_cost": "cac"}  # fmt: skip


def write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def test_customers_are_derived_from_the_transactions(tmp_path: Path) -> None:
    export = write(tmp_path, "tx.csv", TX)
    report = import_snapshot(tmp_path / "s", transactions=export, as_of=AS_OF, mapping=MAPPING,
                             company="Acme", currency="EUR")  # fmt: skip
    snap = load_snapshot(tmp_path / "s")
    customers = snap.customers.collect().sort("customer_id")
    assert customers.select(
        "customer_id", "acquired_on", "acquisition_channel", "acquisition_cost", "region"
    ).rows() == [
        ("a", date(2026, 1, 5), "web", 12.5, "North"),
        ("b", date(2026, 2, 1), "store", 0.0, "Unknown"),
    ]  # c bought only after the as-of date
    tx = snap.transactions.collect()
    assert tx["amount"].sum() == pytest.approx(10.5 + 20 + 1200 - 10.5)
    assert tx["cost"].sum() == pytest.approx(512)
    assert report.ignored == 1 and report.customers == 2 and report.transactions == 4
    assert (report.first, report.last) == (date(2026, 1, 5), date(2026, 4, 1))
    assert report.notes == (
        "tx.csv: semicolon-separated, numbers read with a decimal comma, dates read as %d.%m.%Y",
    )
    extra = snap.manifest.extra
    assert extra["built_from"] == "tx.csv"
    assert extra["import"]["decimal"] == "," and extra["import"]["delimiter"] == ";"
    assert snap.manifest.currency == "EUR"


def test_one_acquisition_cost_per_customer(tmp_path: Path) -> None:
    export = write(
        tmp_path,
        "tx.csv",
        TX.replace(
            "a;01.03.2026;1.200,00;500;store;South;12,5", "a;01.03.2026;1.200,00;500;store;South;9"
        ),
    )
    with pytest.raises(ProblemsFound, match="different acquisition costs for one customer"):
        import_snapshot(tmp_path / "s", transactions=export, as_of=AS_OF, mapping=MAPPING)
    assert not (tmp_path / "s").exists()


def test_service_costs_and_prospects_are_read_and_checked(tmp_path: Path) -> None:
    export = write(tmp_path, "tx.csv", TX)
    service = write(
        tmp_path,
        "contacts.csv",
        "customer id,contact date,type,cost\na,2026-02-01,call_center,8\n"
        "b,2026-03-01,web,0.5\nc,2026-09-01,web,1\na,2026-10-05,web,1\n",
    )
    leads = write(
        tmp_path,
        "leads.csv",
        "lead id,created at,source,customer id\np1,2026-01-01,Web,a\n"
        "p2,2026-09-01,Web,c\np3,2026-09-15,Ads,\n",
    )
    import_snapshot(tmp_path / "s", transactions=export, as_of=AS_OF, mapping=MAPPING,
                    service_costs=service, prospects=leads)  # fmt: skip
    snap = load_snapshot(tmp_path / "s")
    sc = snap.service_costs.collect().sort("date")
    # c is acquired after the as-of date: its contact goes with it; a's October one is later
    assert sc.select("customer_id", "touchpoint", "cost").rows() == [
        ("a", "call_center", 8.0),
        ("b", "web", 0.5),
    ]
    pr = snap.prospects.collect().sort("prospect_id")
    assert pr["converted_customer_id"].to_list() == ["a", None, None]  # c converts later


def test_links_to_unknown_customers_and_duplicate_leads_are_refused(tmp_path: Path) -> None:
    export = write(tmp_path, "tx.csv", TX)
    service = write(
        tmp_path, "contacts.csv", "customer_id,date,touchpoint,cost\nzz,2026-02-01,web,1\n"
    )
    leads = write(
        tmp_path,
        "leads.csv",
        "prospect_id,first_contact,channel\np1,2026-01-01,Web\np1,2026-01-02,Web\n",
    )
    report = import_snapshot(None, transactions=export, as_of=AS_OF, mapping=MAPPING,
                             service_costs=service, prospects=leads, dry_run=True)  # fmt: skip
    texts = [p.error().args[0] for p in report.problems]
    assert any("contacts.csv, column 'customer_id': refers to customers who are not in the "
               "transactions export on line 2" in t and "'zz'" in t for t in texts)  # fmt: skip
    assert any("leads.csv, column 'prospect_id': has duplicate ids on lines 2 and 3" in t
               for t in texts)  # fmt: skip


def test_a_dry_run_reports_every_problem_with_its_rows(tmp_path: Path) -> None:
    export = write(tmp_path, "tx.csv", "customer_id,date,amount,cost\n"
                   ",2026-01-05,1,0\nb,2026-02-30,x,0\nc,2026-01-05,,-1\n")  # fmt: skip
    report = import_snapshot(None, transactions=export, as_of=AS_OF,
                             mapping={"cost": "cost"}, dry_run=True)  # fmt: skip
    found = {(p.column, p.located()) for p in report.problems}
    assert found == {
        ("customer_id", "has rows without a customer id on line 2"),
        ("date", "has values that are not dates in the format %Y-%m-%d on line 3"),
        ("amount", "has values that are not numbers (read with a decimal point) on line 3"),
        ("amount", "has empty values on line 4"),
    }
    assert report.path is None
    assert list(tmp_path.iterdir()) == [export]


def test_rows_are_counted_across_batches(tmp_path: Path, monkeypatch) -> None:
    """The same export read in batches of 7 rows gives the same snapshot as in one, and a
    problem's row numbers count from the start of the file."""
    lines = [f"c{i % 13},2026-0{1 + i % 9}-0{1 + i % 7},{i}.25" for i in range(100)]
    export = write(tmp_path, "tx.csv", "customer_id,date,amount\n" + "\n".join(lines) + "\n")
    import_snapshot(tmp_path / "one", transactions=export, as_of=AS_OF)
    monkeypatch.setattr(exports, "BATCH_ROWS", 7)
    seen: list[tuple[int, int | None]] = []
    import_snapshot(tmp_path / "many", transactions=export, as_of=AS_OF,
                    progress=lambda what, done, total: seen.append((done, total)))  # fmt: skip
    one, many = load_snapshot(tmp_path / "one"), load_snapshot(tmp_path / "many")
    for table in ("customers", "transactions"):
        assert_frame_equal(getattr(one, table).collect(), getattr(many, table).collect())
    assert seen[:2] == [(7, 100), (14, 100)] and (100, 100) in seen
    lines[95] = "c1,2026-13-01,1"
    export.write_text("customer_id,date,amount\n" + "\n".join(lines) + "\n")
    with pytest.raises(SnapshotError, match="on line 97"):
        import_snapshot(tmp_path / "bad", transactions=export, as_of=AS_OF)


def test_build_snapshot_is_the_same_reading_in_memory(tmp_path: Path) -> None:
    export = write(tmp_path, "tx.csv", TX)
    snap, ignored = build_snapshot(export, as_of=AS_OF, customer_col="client", date_col="day",
                                   amount_col="total", cost_col="cogs", channel_col="shop",
                                   region_col="area")  # fmt: skip
    import_snapshot(
        tmp_path / "s",
        transactions=export,
        as_of=AS_OF,
        mapping={k: c for k, c in MAPPING.items() if k != "acquisition_cost"},
    )
    written = load_snapshot(tmp_path / "s")
    assert ignored == 1
    for table in ("customers", "transactions"):
        assert_frame_equal(getattr(snap, table).collect(), getattr(written, table).collect())


def test_inspect_proposes_a_mapping_and_previews_the_rows_as_read(tmp_path: Path) -> None:
    export = write(tmp_path, "orders.csv", "Customer ID;Order date;Total;Country\n"
                   "A;05.01.2026;1.234,50;DE\nB;13.02.2026;12,50;AT\n")  # fmt: skip
    look = inspect_source(export, TRANSACTION_ROLES, None, ReadOptions())
    columns, proposal, preview, notes, problems = (
        list(look.columns),
        look.proposal,
        look.preview,
        look.notes,
        list(look.problems),
    )
    assert look.unit == "line"
    assert columns == ["Customer ID", "Order date", "Total", "Country"]
    assert proposal == {"customer_id": "Customer ID", "date": "Order date", "amount": "Total",
                        "cost": None, "channel": None, "region": "Country",
                        "acquisition_cost": None}  # fmt: skip
    assert problems == []
    assert preview.select("customer_id", "date", "amount", "region").rows() == [
        ("A", date(2026, 1, 5), 1234.5, "DE"),
        ("B", date(2026, 2, 13), 12.5, "AT"),
    ]
    assert "numbers read with a decimal comma" in notes


def test_proposals_never_use_a_column_twice_and_leave_ties_open() -> None:
    proposal = propose(["id", "email", "customer", "date", "created_at", "amount"],
                       TRANSACTION_ROLES)  # fmt: skip
    assert proposal["customer_id"] == "customer" and proposal["date"] == "date"
    two = propose(["Customer ID", "customer_id", "date", "amount"], TRANSACTION_ROLES)
    assert two["customer_id"] is None  # two columns normalise to the same name


def test_progress_bar_draws_only_on_a_terminal_after_the_delay() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock = iter([0.0, 1.0, 3.0, 4.0])
    stream = Tty()
    bar = ProgressBar(stream, delay=2.0, clock=lambda: next(clock))
    bar("Reading x.csv", 10, 100)  # 1 s: too early
    assert stream.getvalue() == ""
    bar("Reading x.csv", 50, 100)
    assert (
        stream.getvalue() == "\rReading x.csv [###############...............] 50% 50/100 rows 3 s"
    )
    bar("Writing the snapshot", 0, None)
    bar.close()
    assert stream.getvalue().endswith("\r")
    quiet = io.StringIO()
    bar = ProgressBar(quiet, delay=0.0)
    bar("Reading", 1, 2)
    bar.close()
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--transactions", "x.csv", "--sql", "postgresql://h/db"], "not allowed with argument"),
        (["--transactions", "x.csv", "--query", "select 1"], "pass --sql URL too"),
        (["--sql", "postgresql://h/db"], "needs exactly one of --query or --table"),
        (["--transactions", "x.csv", "--decimal", ";"], "invalid choice"),
        (["--transactions", "x.csv", "--delimiter", "ab"], "--delimiter: must be one character"),
    ],
)
def test_source_options_are_one_line_errors(tmp_path: Path, capsys, argv, message) -> None:
    try:
        code = main(["build", *argv, "--as-of", "2026-09-30", "--out", str(tmp_path / "s")])
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1
