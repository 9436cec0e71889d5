"""Growth accounting at scale: the forecast-vs-actual history, the movements, unit economics
and the Growth page's tabs.

Two probes, each in a fresh Python process so nothing is cached or imported beforehand:

* ``core``: in crm_core directly, after ``load_snapshot`` and ``build_ledger`` (timed apart
  as ``growth_ledger_s``): the **forecast-vs-actual history** (``growth_history_s``): the
  CLV model set fitted at every earlier quarter end a holdout check can calibrate at
  (``fit_models``, one fit per date) and every fit's forecast of the quarters since set
  against the ledger (``forecast_history``); the issue's target at 1,000,000 customers is
  under a minute. Then, ``ctx.runs`` times each: the quarterly revenue movements behind
  the registry (``quarter_movements``), and unit economics by channel and by cohort from
  the shared valuation (``unit_economics``).
* ``tabs``: the app under Streamlit's ``AppTest``: the Executive overview first (the
  shared ledger and model set), then the Growth page's three tabs for the first time
  (``growth_tab_cold_s``: the tab's own compute, the forecast tab including its fits at
  earlier quarter ends, which the shared cache keeps) and a rerun (``growth_tab_warm_ms``).

Run on its own: ``.venv/bin/python benchmarks/run.py growth``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Context, Result, Timing, fmt_s

REPO = Path(__file__).resolve().parent.parent
MARKER = "GROWTH_PROBE_RESULT "
TABS = ("Revenue movements", "Unit economics", "Forecast vs actual")
TARGET_HISTORY_S = 60.0


def _core_probe(snapshot: str, runs: int) -> dict[str, Any]:
    from crm_core.clv import fit_models, value
    from crm_core.data.ledger import build_ledger
    from crm_core.data.snapshot import load_snapshot
    from crm_core.growth.economics import unit_economics
    from crm_core.growth.forecast import fit_history, forecast_quarters
    from crm_core.metrics.movements import quarter_movements

    t = time.perf_counter()
    ledger = build_ledger(load_snapshot(snapshot))
    ledger_s = time.perf_counter() - t
    t = time.perf_counter()
    history = fit_history(ledger)
    history_s = time.perf_counter() - t
    movements, economics = [], []
    clv = value(fit_models(ledger))
    for _ in range(max(runs, 1)):
        t = time.perf_counter()
        quarter_movements(ledger)
        movements.append(time.perf_counter() - t)
        t = time.perf_counter()
        unit_economics(ledger, clv, "channel")
        unit_economics(ledger, clv, "cohort")
        economics.append(time.perf_counter() - t)
    return {
        "ledger_s": ledger_s,
        "history_s": history_s,
        "fits": len(forecast_quarters(ledger)),
        "skipped": len(history.skipped),
        "movements_s": movements,
        "economics_s": economics,
        "customers": ledger.customers.height,
    }


def _tabs_probe(snapshot_id: str, timeout: float) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    out: dict[str, Any] = {"cold": {}, "warm": {}, "errors": {}}
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    at.query_params["snapshot"] = snapshot_id
    at.switch_page("pages/overview.py")
    t = time.perf_counter()
    at.run()
    out["shared_step_s"] = time.perf_counter() - t
    for tab in TABS:
        at.query_params["gr_view"] = tab
        at.switch_page("pages/growth.py")
        t = time.perf_counter()
        at.run()
        cold = time.perf_counter() - t
        if at.exception or at.error:
            problems = [str(e.value) for e in (*at.exception, *at.error)]
            out["errors"][tab] = "; ".join(problems)[:500]
            continue
        t = time.perf_counter()
        at.run()
        out["cold"][tab] = cold
        out["warm"][tab] = time.perf_counter() - t
    return out


def _spawn(ctx: Context, mode: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(ctx.snapshot),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    args = [sys.executable, str(Path(__file__).resolve()), mode, str(ctx.snapshot),
            ctx.snapshot_id, str(ctx.page_timeout_s), str(ctx.runs)]  # fmt: skip
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err,
                              timeout=ctx.page_timeout_s * 4, check=False)  # fmt: skip
        err.seek(0)
        stderr = err.read().decode(errors="replace")[-2000:]
    for line in reversed(proc.stdout.decode(errors="replace").splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"the {mode} probe exited with {proc.returncode}: {stderr}")


def run(ctx: Context) -> Result:
    core = _spawn(ctx, "core")
    tabs = _spawn(ctx, "tabs")
    movements = Timing.of(core["movements_s"])
    economics = Timing.of(core["economics_s"])
    history = Timing.of([core["history_s"]])
    values = {
        "growth_ledger_s": core["ledger_s"],
        "growth_history_s": history.as_dict(),
        "growth_history_fits": core["fits"],
        "growth_history_skipped": core["skipped"],
        "growth_history_target_s": TARGET_HISTORY_S,
        "growth_history_met": core["history_s"] <= TARGET_HISTORY_S,
        "growth_movements_s": movements.as_dict(),
        "growth_economics_s": economics.as_dict(),
        "growth_shared_step_s": tabs["shared_step_s"],
        "growth_tab_cold_s": tabs["cold"],
        "growth_tab_warm_ms": {k: v * 1000 for k, v in tabs["warm"].items()},
        "growth_tab_errors": tabs["errors"],
    }
    met = "met" if values["growth_history_met"] else "NOT met"
    rows = [
        (f"forecast-vs-actual history ({core['fits']} fits)", fmt_s(history),
         f"target <= {TARGET_HISTORY_S:.0f} s", met),
        ("quarterly revenue movements", fmt_s(movements), "", ""),
        ("unit economics, channel + cohort", fmt_s(economics), "", ""),
    ]  # fmt: skip
    for tab, cold in tabs["cold"].items():
        warm = tabs["warm"][tab] * 1000
        rows.append((f"Growth tab {tab}: cold / warm", f"{cold:.2f} s / {warm:.0f} ms", "", ""))
    for tab, error in tabs["errors"].items():
        rows.append((f"Growth tab {tab}", "ERROR: " + error[:80], "", ""))
    return Result(values, rows)


def main() -> None:
    mode, snapshot, snapshot_id, timeout, runs = sys.argv[1:6]
    if mode == "core":
        result = _core_probe(snapshot, int(runs))
    else:
        result = _tabs_probe(snapshot_id, float(timeout))
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
