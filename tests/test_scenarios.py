"""Named what-if scenarios saved as JSON (crm_core.whatif.scenarios)."""

from __future__ import annotations

import json
import os

import pytest

from crm_core.whatif import scenarios as store
from crm_core.whatif.engine import Levers, Scenario
from crm_core.whatif.scenarios import (
    SCENARIO_SCHEMA_VERSION,
    delete_scenario,
    list_scenarios,
    load_scenario,
    read_scenario_file,
    save_scenario,
    scenario_path,
    unreadable_scenarios,
    validate_scenario_name,
)


def plan(name: str = "Plan B") -> Scenario:
    return Scenario(
        name,
        levers=Levers(retention_points=5, extra_retention_spend=12.5),
        segment_levers={"Gold": Levers(margin_pct=10), "Bronze": Levers(acquisition_cost_pct=-20)},
        horizon_years=8,
        discount_rate=0.09,
        description="Loyalty programme for Gold",
    )


def test_round_trip(tmp_path):
    path = save_scenario(tmp_path, plan())
    assert path.parent == tmp_path
    assert load_scenario(tmp_path, "Plan B") == plan()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == SCENARIO_SCHEMA_VERSION == 1
    assert data["kind"] == "crm-whatif-scenario"
    assert data["name"] == "Plan B"
    assert data["segment_levers"]["Gold"]["margin_pct"] == 10.0


def test_unicode_names_and_defaults_round_trip(tmp_path):
    scenario = Scenario("客户 保留-计划_1")
    save_scenario(tmp_path, scenario)
    assert load_scenario(tmp_path, "客户 保留-计划_1") == scenario
    assert scenario_path(tmp_path, "客户 保留-计划_1").name.endswith(".json")


def test_names_are_case_insensitive_and_trimmed(tmp_path):
    save_scenario(tmp_path, plan("Plan B"))
    assert scenario_path(tmp_path, "plan b") == scenario_path(tmp_path, " Plan B ")
    save_scenario(tmp_path, plan("PLAN B"))  # replaces the same scenario
    assert list_scenarios(tmp_path) == ["PLAN B"]
    with pytest.raises(ValueError, match="already saved"):
        save_scenario(tmp_path, plan("plan b"), overwrite=False)
    save_scenario(tmp_path, plan(" Spaced "))
    assert load_scenario(tmp_path, "spaced").name == "Spaced"


def test_list_and_delete(tmp_path):
    assert list_scenarios(tmp_path / "missing") == []
    for name in ("beta", "Alpha", "gamma"):
        save_scenario(tmp_path, plan(name))
    assert list_scenarios(tmp_path) == ["Alpha", "beta", "gamma"]
    assert delete_scenario(tmp_path, "BETA") is True
    assert delete_scenario(tmp_path, "beta") is False
    assert list_scenarios(tmp_path) == ["Alpha", "gamma"]
    with pytest.raises(ValueError, match="No saved scenario"):
        load_scenario(tmp_path, "beta")


def test_save_creates_the_folder(tmp_path):
    folder = tmp_path / "data" / "scenarios"
    save_scenario(folder, plan())
    assert list_scenarios(folder) == ["Plan B"]


def test_write_is_atomic(tmp_path, monkeypatch):
    path = save_scenario(tmp_path, plan())
    before = path.read_bytes()
    calls = []

    def failing_replace(src, dst):
        calls.append((os.fspath(src), os.fspath(dst)))
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        save_scenario(tmp_path, Scenario("Plan B", levers=Levers(retention_points=-3)))
    assert path.read_bytes() == before  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # temp file removed
    ((src, dst),) = calls
    assert os.path.dirname(src) == str(tmp_path)  # temp file in the same folder
    assert dst == str(path)


def test_write_goes_through_a_temp_file_and_replace(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.basename(src), os.path.exists(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", spy)
    save_scenario(tmp_path, plan())
    save_scenario(tmp_path, plan())
    assert [exists for _, exists in seen] == [False, True]
    assert all(name.startswith(".scenario-") for name, _ in seen)


@pytest.mark.parametrize(
    "name",
    ["", "   ", "a/b", "../evil", "x" * 61, "a.b", "semi;colon", "tab\there", "new\nline", None, 5],
)
def test_bad_names_are_rejected(tmp_path, name):
    with pytest.raises(ValueError, match="Scenario name"):
        validate_scenario_name(name)
    if isinstance(name, str):
        with pytest.raises(ValueError, match="Scenario name"):
            save_scenario(tmp_path, Scenario(name))  # blank names fail in Scenario already
    assert list(tmp_path.iterdir()) == []


def test_good_names(tmp_path):
    for name in ("A", "x" * 60, "Plan-2 final_v3", "Été 2025"):
        assert validate_scenario_name(name) == name


def corrupt(tmp_path, content: bytes | str):
    path = scenario_path(tmp_path, "Broken")
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[1, 2]", "not a saved what-if scenario"),
        ('{"kind": "something-else", "schema_version": 1}', "not a saved what-if scenario"),
        ('{"kind": "crm-whatif-scenario", "name": "Broken"}', "schema_version None"),
        ('{"kind": "crm-whatif-scenario", "schema_version": 2, "name": "Broken"}', "version 1"),
        (
            '{"kind": "crm-whatif-scenario", "schema_version": 1, "name": "Broken",'
            ' "levers": {"retention_points": "5"}}',
            "retention_points",
        ),
        (
            '{"kind": "crm-whatif-scenario", "schema_version": 1, "name": "Broken",'
            ' "levers": {"loyalty_magic": 5}}',
            "unknown levers",
        ),
        (
            '{"kind": "crm-whatif-scenario", "schema_version": 1, "name": "Broken",'
            ' "levers": {"margin_pct": NaN}}',
            "margin_pct",
        ),
        (
            '{"kind": "crm-whatif-scenario", "schema_version": 1, "name": "Broken",'
            ' "horizon_years": 0}',
            "horizon_years",
        ),
        (
            '{"kind": "crm-whatif-scenario", "schema_version": 1, "name": "Bro/ken"}',
            "Scenario name",
        ),
        ('{"kind": "crm-whatif-scenario", "schema_version": 1}', "no name"),
        (
            '{"kind": "crm-whatif-scenario", "schema_version": 1, "name": "Broken",'
            ' "segment_levers": [1]}',
            "segment_levers",
        ),
        (
            '{"kind": "crm-whatif-scenario", "schema_version": 1, "name": "Broken", "extra": 1}',
            "unknown fields",
        ),
    ],
)
def test_corrupt_files_raise_value_error(tmp_path, content, reason):
    path = corrupt(tmp_path, content)
    with pytest.raises(ValueError, match=reason) as info:
        load_scenario(tmp_path, "Broken")
    assert path.name in str(info.value)
    assert list_scenarios(tmp_path) == []  # left out of the list, not an error


def test_list_skips_corrupt_and_temp_files(tmp_path):
    save_scenario(tmp_path, plan())
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / ".scenario-abc.tmp").write_text("{}")
    (tmp_path / "notes.txt").write_text("hello")
    assert list_scenarios(tmp_path) == ["Plan B"]
    with pytest.raises(ValueError, match=r"junk\.json"):
        read_scenario_file(tmp_path / "junk.json")
    with pytest.raises(ValueError, match="does not exist"):
        read_scenario_file(tmp_path / "nothing.json")


def test_unreadable_scenarios_names_each_bad_file(tmp_path):
    assert unreadable_scenarios(tmp_path / "missing") == []
    save_scenario(tmp_path, plan())
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"kind": "something else"}')
    (tmp_path / ".scenario-abc.json").write_text("{}")  # a temporary file: ignored
    problems = unreadable_scenarios(tmp_path)
    assert [name for name, _ in problems] == ["junk.json", "other.json"]
    assert "not valid JSON" in problems[0][1]
    assert "not a saved what-if scenario" in problems[1][1]
