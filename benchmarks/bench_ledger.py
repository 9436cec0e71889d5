"""The shared cold step (ledger + fitted model set) and each page once it is cached.

Two probes, each in a fresh Python process so nothing is cached or imported beforehand:

* ``ledger``: what the first page of a session on a new snapshot pays before it can show
  anything, in crm_core directly: ``load_snapshot`` (validation), ``build_ledger``, the CLV
  model set fitted at the as-of date and at the previous quarter end, their valuations and
  the quarterly metric totals. Reported: ``ledger_fit_cold_s`` (the whole step), its parts,
  and ``ledger_peak_rss_mb`` (the probe's peak resident memory). The baseline in the same
  run is reading the transactions file with ``pl.scan_parquet(...).collect()``.
* ``after_shared``: the app under Streamlit's ``AppTest``: the Executive overview first
  (it builds the shared ledger and model set), then every other page of
  ``crm_app.navigation.PAGES`` for the first time in the same process:
  ``page_cold_after_shared_s`` is that first run (the page's own cold compute and drawing,
  the shared step already cached), ``page_warm_after_shared_ms`` a rerun.

The ledger issue's targets: at 1,000,000 customers ledger + fit cold <= 20 s and peak
RSS <= 4 GB, then each page's cold compute <= 3 s and a warm rerun <= 300 ms.

Run on its own: ``.venv/bin/python benchmarks/run.py ledger``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Context, Result, Timing, fmt_s

REPO = Path(__file__).resolve().parent.parent
MARKER = "LEDGER_PROBE_RESULT "


def _ledger_probe(snapshot: str) -> dict[str, Any]:
    import polars as pl

    t0 = time.perf_counter()
    pl.scan_parquet(Path(snapshot) / "transactions.parquet").collect()
    read = time.perf_counter() - t0

    from crm_core.clv import fit_models, value
    from crm_core.data.ledger import build_ledger
    from crm_core.data.snapshot import load_snapshot
    from crm_core.metrics.quarters import quarter_periods
    from crm_core.metrics.registry import metric_inputs

    parts: dict[str, float] = {}
    start = time.perf_counter()
    snap = load_snapshot(snapshot)
    parts["load_snapshot_s"] = time.perf_counter() - start
    t = time.perf_counter()
    ledger = build_ledger(snap)
    parts["build_ledger_s"] = time.perf_counter() - t
    t = time.perf_counter()
    fits = [fit_models(ledger, q * quarter_periods(ledger)) for q in (0, 1)]
    parts["fit_models_s"] = time.perf_counter() - t
    t = time.perf_counter()
    clv = {q: value(fit) for q, fit in enumerate(fits)}
    parts["value_s"] = time.perf_counter() - t
    t = time.perf_counter()
    metric_inputs(ledger, clv)
    parts["metric_totals_s"] = time.perf_counter() - t
    total = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "read_s": read,
        "total_s": total,
        "parts": parts,
        "peak_rss_mb": rss,
        "panel_rows": ledger.panel.height,
        "periods": ledger.periods,
    }


def _pages_probe(snapshot_id: str, timeout: float) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    from crm_app.navigation import PAGES

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    at.query_params["snapshot"] = snapshot_id
    t = time.perf_counter()
    at.switch_page(PAGES[0].file)
    at.run()
    out: dict[str, Any] = {
        "first_page_s": time.perf_counter() - t,
        "cold": {},
        "warm": {},
        "errors": {},
    }
    for page in PAGES[1:]:
        t = time.perf_counter()
        at.switch_page(page.file)
        at.run()
        cold = time.perf_counter() - t
        if at.exception:
            out["errors"][page.url_path] = "; ".join(str(e.value) for e in at.exception)[:500]
            continue
        t = time.perf_counter()
        at.run()
        out["cold"][page.url_path] = cold
        out["warm"][page.url_path] = time.perf_counter() - t
    return out


def _spawn(ctx: Context, mode: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(ctx.snapshot),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    args = [
        sys.executable,
        str(Path(__file__).resolve()),
        mode,
        str(ctx.snapshot),
        ctx.snapshot_id,
        str(ctx.page_timeout_s),
    ]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(
            args,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=ctx.page_timeout_s * 3,
            check=False,
        )
        err.seek(0)
        stderr = err.read().decode(errors="replace")[-2000:]
    for line in reversed(proc.stdout.decode(errors="replace").splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"the {mode} probe exited with {proc.returncode}: {stderr}")


def run(ctx: Context) -> Result:
    probes = [_spawn(ctx, "ledger") for _ in range(max(1, min(ctx.runs, 3)))]
    total = Timing.of([p["total_s"] for p in probes])
    read = Timing.of([p["read_s"] for p in probes])
    parts = {k: Timing.of([p["parts"][k] for p in probes]).as_dict() for k in probes[0]["parts"]}
    rss = max(p["peak_rss_mb"] for p in probes)
    pages = _spawn(ctx, "pages")
    values = {
        "ledger_fit_cold_s": total.as_dict(),
        "ledger_fit_parts_s": parts,
        "ledger_vs_read_ratio": total.median / read.median,
        "ledger_peak_rss_mb": rss,
        "ledger_panel_rows": probes[0]["panel_rows"],
        "first_page_with_shared_step_s": pages["first_page_s"],
        "page_cold_after_shared_s": pages["cold"],
        "page_warm_after_shared_ms": {k: v * 1000 for k, v in pages["warm"].items()},
        "page_errors_after_shared": pages["errors"],
        # scalars the targets read
        "ledger_fit_cold_median_s": total.median,
        "page_cold_after_shared_max_s": max(pages["cold"].values(), default=None),
        "page_warm_after_shared_max_ms": max(pages["warm"].values(), default=0) * 1000
        if pages["warm"]
        else None,
    }
    rows = [
        (
            "ledger + model set, cold (fresh process)",
            fmt_s(total),
            "read transactions",
            f"{total.median / read.median:.1f}x read",
        ),
        ("ledger + model set: peak memory", f"{rss:,.0f} MB", "", ""),
        ("first page (Overview) incl. the shared step", f"{pages['first_page_s']:.2f} s", "", ""),
    ]
    for key, cold in pages["cold"].items():
        warm = pages["warm"][key] * 1000
        rows.append(
            (
                f"page {key} after the shared step: cold / warm",
                f"{cold:.2f} s / {warm:.0f} ms",
                "",
                "",
            )
        )
    for key, error in pages["errors"].items():
        rows.append((f"page {key} after the shared step", "ERROR: " + error[:80], "", ""))
    return Result(values, rows)


def main() -> None:
    mode, snapshot, snapshot_id, timeout = sys.argv[1:5]
    if mode == "ledger":
        result = _ledger_probe(snapshot)
    else:
        result = _pages_probe(snapshot_id, float(timeout))
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
