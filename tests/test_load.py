"""Twenty concurrent sessions on one server: each moves its own What-if slider and sees
its own result (no cross-talk), and every session finishes (bounded in count and time).

The clients speak Streamlit's websocket protocol (``benchmarks/bench_sessions.py``, which
also measures the settle time and slider latency; speed is never asserted here). Each
session's cards after its moves must equal those of a session that makes the same moves
alone afterwards, and sessions that moved different sliders to different values must not
all show the same cards.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "bench_sessions", REPO / "benchmarks" / "bench_sessions.py"
)
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_sessions", bench)  # its dataclasses look their module up
_spec.loader.exec_module(bench)

pytestmark = pytest.mark.slow


def test_twenty_sessions_each_see_their_own_slider(sample_dir: Path, tmp_path: Path) -> None:
    (tmp_path / sample_dir.name).symlink_to(sample_dir, target_is_directory=True)
    with bench.serve(tmp_path) as url:
        results = bench.drive(url, sample_dir.name, sessions=20, moves=2, timeout_s=400)
        failures = [r for r in results if not isinstance(r, bench.Session)]
        assert not failures, failures
        assert all(not r.errors for r in results), [r.errors for r in results if r.errors]
        assert all(len(r.moves_s) == 2 and r.metrics for r in results)
        sliders = {r.slider for r in results}
        assert len(sliders) >= 8, sliders  # different sliders were moved
        # the same moves made alone: every session showed exactly its own result
        alone = [
            bench.drive(url, sample_dir.name, moves=2, timeout_s=120, indices=[i])[0]
            for i in range(20)
        ]
    for crowd, single in zip(results, alone, strict=True):
        assert (crowd.slider, crowd.values) == (single.slider, single.values)
        assert crowd.metrics == single.metrics, (crowd.index, crowd.slider)
        assert crowd.headline == single.headline
    assert len({tuple(sorted(r.metrics.items())) for r in results}) >= 10
