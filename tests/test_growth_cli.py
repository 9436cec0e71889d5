"""``crm metrics --json``: the headline metrics for scripts and alerts, read from the one
metrics registry (the Growth page's and the Overview's values)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_core.cli import main
from crm_core.cli.metrics import HEADLINE
from crm_core.data.snapshot import load_snapshot
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import metric_value


@pytest.mark.parametrize(
    ("which", "as_of"),
    [("sample_dir", None), ("subscription_dir", None), ("sample_dir", "2026-03-31")],
)
def test_headline_is_the_registrys(which: str, as_of: str | None, request, capsys) -> None:
    folder: Path = request.getfixturevalue(which)
    argv = ["metrics", "--snapshot", str(folder), "--json"]
    assert main(argv + ([] if as_of is None else ["--as-of", as_of])) == 0
    report = json.loads(capsys.readouterr().out)
    snap = load_snapshot(folder)
    inputs = snapshot_metrics(snap if as_of is None else snap.cut(as_of))
    expected = (*HEADLINE, "mrr", "arr") if inputs.ledger.contractual else HEADLINE
    headline = report["headline"]
    assert tuple(headline) == expected
    assert {"nrr", "grr", "quick_ratio", "ltv_cac", "customer_equity"} <= set(headline)
    for key, shown in headline.items():
        assert shown == pytest.approx(metric_value(inputs, key)), key
        assert shown is not None, key  # every headline metric exists on the samples
    assert report["as_of"] == (as_of or snap.as_of.isoformat())
