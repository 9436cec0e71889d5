"""One definition per number: a metric shown on two pages has the same value on both.

Every page is opened with AppTest on both sample companies, at the snapshot's date and at
an earlier quarter end; every KPI card (``st.metric``) is collected by its label. A label
that appears on several pages must show the same text everywhere, and every label that is
a registry metric's must show the registry's value (``crm_core.metrics``), the same the
CLI prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import open_page

from crm_app.navigation import PAGES
from crm_core import load_snapshot
from crm_core.formatting import fmt_kind
from crm_core.metrics.compute import snapshot_metrics
from crm_core.metrics.registry import METRICS, metric_value

pytestmark = pytest.mark.slow

_BY_LABEL = {m.label: m for m in METRICS.values()}


def _cards(snapshot_id: str, as_of: str | None) -> dict[str, dict[str, str]]:
    """Per page file: label -> value text of every KPI card."""
    shown: dict[str, dict[str, str]] = {}
    for entry in PAGES:
        at = open_page(snapshot_id, entry.file, timeout=300)
        if as_of is not None:
            at.selectbox(key="as_of").set_value(as_of).run()
            assert not at.exception, (entry.file, at.exception)
        assert not at.error, (entry.file, [e.value for e in at.error])
        shown[entry.file] = {m.label: m.value for m in at.metric}
    return shown


@pytest.mark.parametrize("as_of", [None, "2026-03-31"])
@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_pages_agree(data_dir: Path, snapshot_id: str, as_of: str | None) -> None:
    shown = _cards(snapshot_id, as_of)
    snap = load_snapshot(data_dir / snapshot_id)
    inputs = snapshot_metrics(snap if as_of is None else snap.cut(as_of))
    seen: dict[str, tuple[str, str]] = {}
    registry_hits = 0
    for page, cards in shown.items():
        for label, value in cards.items():
            if label in seen:
                first_page, first_value = seen[label]
                assert value == first_value, (
                    f"{label!r}: {first_value} on {first_page} but {value} on {page}"
                )
            seen.setdefault(label, (page, value))
            metric = _BY_LABEL.get(label)
            if metric is not None:
                expected = fmt_kind(metric_value(inputs, metric.key), metric.kind, snap.currency)
                assert value == expected, (page, label)
                registry_hits += 1
    shared = [label for label in seen if sum(label in c for c in shown.values()) > 1]
    # the pages share numbers (active customers, equity, ...): the test must compare some
    assert shared, f"no KPI appears on two pages: {shown}"
    assert registry_hits >= len(METRICS) // 2
