"""Writes never destroy what they did not create, and a kill at any instant leaves the old or
the new snapshot (crm_core.data.writes, write_snapshot, save_scenario)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm_core import SnapshotError, load_snapshot, write_snapshot
from crm_core.cli import main
from crm_core.data import writes
from crm_core.whatif.engine import Levers, Scenario
from crm_core.whatif.scenarios import (
    list_scenarios,
    read_scenario_file,
    save_scenario,
    scenario_path,
)

MANIFEST = {"schema_version": 1, "as_of": "2026-09-30", "company": "Acme"}


def frames(n: int) -> dict[str, pl.DataFrame]:
    """A valid snapshot with ``n`` customers and ``2n`` transactions."""
    ids = [f"c{i}" for i in range(n)]
    return {
        "customers": pl.DataFrame(
            {
                "customer_id": ids,
                "acquired_on": [date(2025, 1, 1)] * n,
                "acquisition_channel": ["Web"] * n,
                "acquisition_cost": [1.0] * n,
                "region": ["N"] * n,
            }
        ),
        "transactions": pl.DataFrame(
            {
                "customer_id": ids * 2,
                "date": [date(2025, 1, 1)] * n + [date(2026, 1, 1)] * n,
                "amount": [10.0] * (2 * n),
                "cost": [1.0] * (2 * n),
                "channel": ["web"] * (2 * n),
            }
        ),
    }


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def customers_in(folder: Path) -> int:
    return load_snapshot(folder).customers.select(pl.len()).collect().item()


# ----------------------------------------------------------------------------- targets


def test_absent_and_empty_targets_are_written(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "new" / "deeper", manifest=MANIFEST, **frames(2))
    (tmp_path / "empty").mkdir()
    write_snapshot(tmp_path / "empty", manifest=MANIFEST, **frames(3))
    assert customers_in(tmp_path / "new" / "deeper") == 2
    assert customers_in(tmp_path / "empty") == 3
    assert not writes.leftovers(tmp_path / "empty")


def test_an_existing_snapshot_is_replaced(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", manifest=MANIFEST, **frames(2))
    write_snapshot(tmp_path / "s", manifest=MANIFEST, **frames(5))
    assert customers_in(tmp_path / "s") == 5
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def _user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    (folder / "photos").mkdir(parents=True)
    (folder / "notes.txt").write_text("keep me")
    (folder / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    return folder


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (_user_folder, "is not empty and not a snapshot (it holds notes.txt, photos/)"),
        (
            lambda t: (
                (
                    write_snapshot(t / "root" / "a", manifest=MANIFEST, **frames(1)),
                    write_snapshot(t / "root" / "b", manifest=MANIFEST, **frames(1)),
                )[0].parent
            ),
            "is not empty and not a snapshot (it holds a/, b/)",
        ),
        (
            lambda t: (
                write_snapshot(t / "snap", manifest=MANIFEST, **frames(1)),
                (t / "snap" / "export.csv").write_text("x"),
            )[0],
            "is a snapshot that also holds other files (export.csv)",
        ),
        (
            lambda t: (t / "file.txt", (t / "file.txt").write_text("x"))[0],
            "is a file, not a folder",
        ),
    ],
    ids=["user files", "data root", "snapshot with extras", "a file"],
)
def test_anything_else_is_refused_and_left_as_it_was(tmp_path: Path, setup, message) -> None:
    target = setup(tmp_path)
    before = tree(tmp_path)
    with pytest.raises(SnapshotError) as info:
        write_snapshot(target, manifest=MANIFEST, **frames(4))
    assert message in str(info.value)
    assert str(target) in str(info.value)
    assert tree(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*")]


def test_a_folder_holding_the_export_is_refused(tmp_path: Path, capsys) -> None:
    export = tmp_path / "exports" / "orders.csv"
    export.parent.mkdir()
    export.write_text("customer_id,date,amount\na,2026-01-05,10\n")
    before = tree(tmp_path)
    argv = ["build", "--transactions", str(export), "--as-of", "2026-09-30"]
    assert main([*argv, "--out", str(export.parent)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "holds the file being read (orders.csv)" in err
    assert tree(tmp_path) == before


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    real = write_snapshot(tmp_path / "real", manifest=MANIFEST, **frames(1))
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    with pytest.raises(SnapshotError, match="is a symbolic link"):
        write_snapshot(tmp_path / "link", manifest=MANIFEST, **frames(2))
    assert customers_in(real) == 1


# ----------------------------------------------------------------------------- recovery


def _leftover(target: Path, kind: str, n: int) -> Path:
    path = target.with_name(f".{target.name}.{kind}-{os.getpid()}-abcd1234x")
    write_snapshot(path.parent / "staging", manifest=MANIFEST, **frames(n)).rename(path)
    return path


def test_recover_moves_the_complete_new_snapshot_in(tmp_path: Path) -> None:
    target = tmp_path / "s"
    _leftover(target, "old", 1)
    _leftover(target, "new", 2)
    with pytest.raises(SnapshotError, match="an interrupted write left"):
        load_snapshot(target)
    actions = writes.recover(target)
    assert customers_in(target) == 2
    assert len(actions) == 2 and "restored the new s" in actions[0]
    assert not writes.leftovers(target)


def test_recover_moves_the_previous_snapshot_back(tmp_path: Path) -> None:
    target = tmp_path / "s"
    _leftover(target, "old", 1)
    writes.recover(target)
    assert customers_in(target) == 1


def test_the_next_write_removes_leftovers_but_not_a_live_writers(tmp_path: Path) -> None:
    target = write_snapshot(tmp_path / "s", manifest=MANIFEST, **frames(1))
    dead = _leftover(target, "tmp", 1)
    live = writes.temp_folder(target)  # held (locked) by this process: a running writer
    try:
        write_snapshot(target, manifest=MANIFEST, **frames(3))
        assert not dead.exists()
        assert live.path.exists()
    finally:
        live.close()
    writes.recover(target)
    assert not writes.leftovers(target)
    assert customers_in(target) == 3


# ----------------------------------------------------------------------------- kills

CHILD = textwrap.dedent(
    """
    import os, pathlib, shutil, sys, time
    import polars as pl
    from datetime import date
    from crm_core.data import snapshot, writes

    out, n, pause, fallback = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
    steps = {"count": 0}

    def stop(name):
        steps["count"] += 1
        if name == pause or f"{name}#{steps['count']}" == pause:
            print("PAUSED", name, flush=True)
            time.sleep(120)

    def wrap(owner, attr, name, before=False):
        real = getattr(owner, attr)
        def hooked(*a, **k):
            if before:
                stop(name)
            result = real(*a, **k)
            if not before:
                stop(name)
            return result
        setattr(owner, attr, hooked)

    if fallback:
        writes._exchange = lambda a, b: False
    wrap(writes, "temp_folder", "temp")
    wrap(snapshot, "_write_tables", "tables")
    wrap(writes, "fsync_tree", "flushed")
    wrap(snapshot, "load_snapshot", "validate", before=True)
    wrap(writes, "_exchange", "exchanged")
    real_rename = pathlib.Path.rename
    calls = {"n": 0}
    def rename(self, target):
        result = real_rename(self, target)
        calls["n"] += 1
        stop(f"rename{calls['n']}")
        return result
    pathlib.Path.rename = rename
    real_rmtree = shutil.rmtree
    def rmtree(path, *a, **k):
        if ".old-" in str(path):
            first = next(pathlib.Path(path).iterdir(), None)
            if first is not None:
                first.unlink()
                stop("removing")
        return real_rmtree(path, *a, **k)
    shutil.rmtree = rmtree

    ids = [f"c{i}" for i in range(n)]
    snapshot.write_snapshot(
        out,
        manifest={"schema_version": 1, "as_of": "2026-09-30", "company": "Acme"},
        customers=pl.DataFrame({
            "customer_id": ids, "acquired_on": [date(2025, 1, 1)] * n,
            "acquisition_channel": ["Web"] * n, "acquisition_cost": [1.0] * n,
            "region": ["N"] * n}),
        transactions=pl.DataFrame({
            "customer_id": ids, "date": [date(2025, 1, 1)] * n, "amount": [10.0] * n,
            "cost": [1.0] * n, "channel": ["web"] * n}),
    )
    print("DONE", flush=True)
    """
)

EXCHANGE_STEPS = ["temp", "tables", "flushed", "validate", "exchanged", "rename1", "removing"]
FALLBACK_STEPS = ["validate", "rename1", "rename2", "rename3", "removing"]


def _paused_writer(tmp_path: Path, out: Path, n: int, pause: str, fallback: bool) -> None:
    """Run a writer that stops at ``pause`` and SIGKILL it there."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out), str(n), pause, "1" if fallback else "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with proc:
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    assert line.startswith("PAUSED"), (line, err)


@pytest.mark.slow
@pytest.mark.parametrize("pause", EXCHANGE_STEPS)
def test_a_kill_at_any_step_leaves_a_loadable_snapshot(tmp_path: Path, pause: str) -> None:
    out = write_snapshot(tmp_path / "s", manifest=MANIFEST, **frames(3))
    _paused_writer(tmp_path, out, 7, pause, fallback=False)
    assert customers_in(out) == (3 if EXCHANGE_STEPS.index(pause) < 4 else 7)
    write_snapshot(out, manifest=MANIFEST, **frames(4))  # the next run cleans up
    assert customers_in(out) == 4
    assert not writes.leftovers(out)


@pytest.mark.slow
@pytest.mark.parametrize("pause", FALLBACK_STEPS)
def test_without_an_atomic_exchange_the_next_run_recovers(tmp_path: Path, pause: str) -> None:
    out = write_snapshot(tmp_path / "s", manifest=MANIFEST, **frames(3))
    _paused_writer(tmp_path, out, 7, pause, fallback=True)
    if pause == "rename2":  # between the two renames: the old one is aside, the new one ready
        with pytest.raises(SnapshotError, match="interrupted write"):
            load_snapshot(out)
        writes.recover(out)
    expected = {"validate": 3, "rename1": 3}.get(pause, 7)
    assert customers_in(out) == expected
    writes.recover(out)
    assert not writes.leftovers(out)


def test_a_kill_between_the_two_renames_is_recovered_by_the_next_write(tmp_path: Path) -> None:
    out = write_snapshot(tmp_path / "s", manifest=MANIFEST, **frames(3))
    _paused_writer(tmp_path, out, 7, "rename2", fallback=True)
    assert not out.exists()
    write_snapshot(out, manifest=MANIFEST, **frames(5))
    assert customers_in(out) == 5
    assert not writes.leftovers(out)


def test_a_kill_just_after_the_exchange_leaves_the_new_snapshot(tmp_path: Path) -> None:
    out = write_snapshot(tmp_path / "s", manifest=MANIFEST, **frames(3))
    _paused_writer(tmp_path, out, 7, "exchanged", fallback=False)
    assert customers_in(out) == 7
    assert writes.leftovers(out)  # the previous snapshot, aside, until the next run
    writes.recover(out)
    assert not writes.leftovers(out)


BUILDER = textwrap.dedent(
    """
    import sys
    from crm_core.cli import main
    print("READY", flush=True)
    for i in range(1000):
        main(["build", "--transactions", sys.argv[1 + i % 2], "--as-of", "2026-09-30",
              "--out", sys.argv[3]])
    """
)


@pytest.mark.slow
def test_crm_build_killed_at_random_instants(tmp_path: Path) -> None:
    """``crm build`` rewriting the same --out in a loop, SIGKILLed at 12 random instants:
    after each kill --out loads and is one of the two exports; the next run cleans up."""
    rng = np.random.default_rng(13)
    exports = []
    for k, n in enumerate((300, 900)):
        path = tmp_path / f"export{k}.csv"
        rows = rng.integers(0, n, size=4 * n)
        pl.DataFrame(
            {
                "customer_id": [f"c{r}" for r in rows],
                "date": ["2026-01-05"] * rows.size,
                "amount": ["12.50"] * rows.size,
            }
        ).write_csv(path)
        exports.append(path)
    expected = {
        pl.read_csv(p)["customer_id"].n_unique(): p.name for p in exports
    }  # customers -> export
    out = tmp_path / "out"
    script = tmp_path / "builder.py"
    script.write_text(BUILDER)
    for delay in rng.uniform(0.0, 2.5, size=12):
        proc = subprocess.Popen(
            [sys.executable, str(script), *map(str, exports), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        with proc:
            ready = proc.stdout.readline()
            time.sleep(float(delay))
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        assert ready.startswith("READY")
        if out.exists():
            assert customers_in(out) in expected
        else:  # killed before the first build finished: nothing was there before
            assert not any(".new-" in p.name for p in writes.leftovers(out))
    assert main(["build", "--transactions", str(exports[0]), "--as-of", "2026-09-30",
                 "--out", str(out)]) == 0  # fmt: skip
    assert not writes.leftovers(out)


# ----------------------------------------------------------------------------- scenarios

SAVER = textwrap.dedent(
    """
    import sys
    from crm_core.whatif.engine import Levers, Scenario
    from crm_core.whatif.scenarios import save_scenario
    print("READY", flush=True)
    i = 0
    while True:
        i += 1
        save_scenario(sys.argv[1], Scenario("Plan", levers=Levers(retention_points=i % 7)))
    """
)


@pytest.mark.slow
def test_scenario_saves_killed_at_random_instants(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    save_scenario(folder, Scenario("Plan", levers=Levers(retention_points=1)))
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    rng = np.random.default_rng(5)
    for delay in rng.uniform(0.0, 0.5, size=10):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        with proc:
            ready = proc.stdout.readline()
            time.sleep(float(delay))
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        assert ready.startswith("READY")
        scenario = read_scenario_file(scenario_path(folder, "Plan"))
        assert 0 <= scenario.levers.retention_points <= 6
        assert list_scenarios(folder) == ["Plan"]
    save_scenario(folder, Scenario("Plan", levers=Levers(retention_points=2)))
    assert sorted(p.name for p in folder.iterdir()) == [scenario_path(folder, "Plan").name]


def test_a_file_that_is_not_a_scenario_is_never_overwritten_or_deleted(tmp_path: Path) -> None:
    from crm_core.whatif.scenarios import delete_scenario

    path = scenario_path(tmp_path, "Plan")
    path.write_text(json.dumps({"mine": True}))
    with pytest.raises(ValueError, match="is not a saved scenario"):
        save_scenario(tmp_path, Scenario("Plan"))
    assert delete_scenario(tmp_path, "Plan") is False
    assert json.loads(path.read_text()) == {"mine": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_file_in_place_of_the_scenario_folder_is_a_value_error(tmp_path: Path) -> None:
    (tmp_path / "scenarios").write_text("not a folder")
    with pytest.raises(ValueError, match="is not a folder"):
        save_scenario(tmp_path / "scenarios", Scenario("Plan"))
    assert (tmp_path / "scenarios").read_text() == "not a folder"
