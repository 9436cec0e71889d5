"""benchmarks/run.py --smoke: every benchmark once on 2,000 customers, in a subprocess, so
the script cannot rot. Only the report's shape is checked, never a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crm_app.navigation import PAGES

REPO = Path(__file__).resolve().parent.parent
RUN = REPO / "benchmarks" / "run.py"

NUMBER = (int, float)
TIMING_KEYS = {"median", "min", "max", "runs"}


def _is_timing(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) >= TIMING_KEYS
        and all(isinstance(value[k], NUMBER) for k in ("median", "min", "max"))
        and isinstance(value["runs"], int)
        and value["runs"] >= 1
        and value["min"] <= value["median"] <= value["max"]
    )


def test_smoke_run_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    cache = tmp_path / "cache"
    in_repo = REPO / "benchmarks" / ".cache" / "2000-7"
    existed = in_repo.exists()
    env = {**os.environ, "CRM_BENCH_CACHE": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--json", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (cache / "2000-7" / "manifest.json").is_file()  # the cache went where we said
    assert in_repo.exists() == existed  # and nothing was written into the repository
    report = json.loads(out.read_text())

    assert report["scale"] == "smoke"
    assert report["customers"] == 2000
    assert isinstance(report["transactions"], int) and report["transactions"] > 2000
    machine = report["machine"]
    assert isinstance(machine["cores"], int) and machine["cores"] >= 1
    assert isinstance(machine["memory_gb"], NUMBER) and machine["memory_gb"] > 0
    assert isinstance(report["load_avg"], list) and len(report["load_avg"]) == 3
    assert all(isinstance(v, NUMBER) for v in report["load_avg"])

    for key in (
        "rfm_speedup_vs_pandas",
        "rfm_vs_read_ratio",
        "bgnbd_speedup_vs_lifetimes",
        "gg_speedup_vs_lifetimes",
        "bgnbd_max_rel_param_diff",
        "whatif_p95_ms",
        "peak_rss_mb",
        "load_snapshot_vs_read_ratio",
    ):
        assert isinstance(report[key], NUMBER) and report[key] > 0, key
    for key in (
        "rfm_s",
        "rfm_read_s",
        "rfm_pandas_s",
        "bgnbd_s",
        "bgnbd_lifetimes_s",
        "gg_s",
        "gg_lifetimes_s",
        "whatif_ms",
        "load_snapshot_s",
        "read_transactions_s",
    ):
        assert _is_timing(report[key]), key
    assert report["rfm_check"]["equal"] is True, report["rfm_check"]
    assert isinstance(report["generate_s"], NUMBER)
    assert isinstance(report["generate_peak_rss_mb"], NUMBER)

    pages = {p.url_path for p in PAGES}
    assert set(report["page_cold_s"]) == pages
    assert set(report["page_warm_ms"]) == pages
    assert isinstance(report["page_errors"], dict)
    for key in pages:
        cold, warm = report["page_cold_s"][key], report["page_warm_ms"][key]
        if key in report["page_errors"]:
            assert isinstance(report["page_errors"][key], str)
        else:
            assert _is_timing(cold) and _is_timing(warm), key
    first = report["cold_first_page_s"]
    assert first is None or isinstance(first, NUMBER)
    assert "sessions20_settle_s" in report and report["sessions20_settle_s"] is None
    assert report["benchmark_errors"] == {}
    assert isinstance(report["targets"], dict)
