"""The churn early-warning model at scale: training time and peak memory.

One probe in a fresh Python process, so nothing is cached or imported beforehand: after
``load_snapshot`` and ``build_ledger`` (``churn_ledger_s``) and the CLV model sets fitted
once at each cut date (``churn_fits_s``: in the app these are the shared caches, reused by
every page), :func:`crm_core.churn.report.churn_report` runs once
(``churn_report_s``, and the CPU seconds of all threads, ``churn_report_cpu_s``, which a
busy machine does not inflate: features at every cut, the out-of-time validation of the three
models, the refit that scores today's customers, value at risk and the reasons of the call
list's first rows). The issue's target: at most 2 minutes at 1,000,000 customers.

Memory: the process's resident set is sampled every 20 ms while the report runs; the bench
gives its peak (``churn_peak_rss_mb``) and how far it rose above the resident set at the
report's start (``churn_report_extra_mb``: the report's own working memory, with the
ledger and fits already held).

Run on its own: ``.venv/bin/python benchmarks/run.py churn``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import Context, Result, Timing, fmt_s

REPO = Path(__file__).resolve().parent.parent
MARKER = "CHURN_PROBE_RESULT "
TARGET_REPORT_S = 120.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Peak:
    """The largest resident set seen while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> _Peak:
        self.start = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _probe(snapshot: str) -> dict[str, Any]:
    from crm_core.churn.cuts import plan_cuts
    from crm_core.churn.report import churn_report, fit_cuts
    from crm_core.clv.valuation import value
    from crm_core.data.ledger import build_ledger
    from crm_core.data.snapshot import load_snapshot

    t = time.perf_counter()
    ledger = build_ledger(load_snapshot(snapshot))
    ledger_s = time.perf_counter() - t
    t = time.perf_counter()
    plan = plan_cuts(ledger)
    fits = fit_cuts(ledger, plan.cuts)
    clv = value(fits[0])
    fits_s = time.perf_counter() - t
    with _Peak() as memory:
        t, cpu = time.perf_counter(), time.process_time()
        report = churn_report(ledger, fits, clv)
        report_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    v = report.validation
    return {
        "ledger_s": ledger_s,
        "fits_s": fits_s,
        "fits": len(plan.cuts),
        "report_s": report_s,
        "report_cpu_s": cpu_s,
        "rss_start_mb": memory.start,
        "peak_rss_mb": memory.peak,
        "customers": ledger.customers.height,
        "customers_scored": report.customers_scored,
        "training_rows": v.trained.rows,
        "training_rows_available": v.trained.rows_available,
        "test_rows": v.test_rows,
        "roc_auc": v.model.roc_auc,
        "baseline_roc_auc": v.baseline.roc_auc,
        "top_decile_lift": v.model.top_decile_lift,
    }


def _spawn(ctx: Context) -> dict[str, Any]:
    args = [sys.executable, str(Path(__file__).resolve()), str(ctx.snapshot)]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(args, cwd=REPO, stdout=subprocess.PIPE, stderr=err,
                              timeout=ctx.page_timeout_s * 8, check=False)  # fmt: skip
        err.seek(0)
        stderr = err.read().decode(errors="replace")[-2000:]
    for line in reversed(proc.stdout.decode(errors="replace").splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"the churn probe exited with {proc.returncode}: {stderr}")


def run(ctx: Context) -> Result:
    out = _spawn(ctx)
    report = Timing.of([out["report_s"]])
    extra = out["peak_rss_mb"] - out["rss_start_mb"]
    values = {
        "churn_ledger_s": out["ledger_s"],
        "churn_fits_s": out["fits_s"],
        "churn_fits": out["fits"],
        "churn_report_s": report.as_dict(),
        "churn_report_target_s": TARGET_REPORT_S,
        "churn_report_met": out["report_s"] <= TARGET_REPORT_S,
        "churn_report_cpu_s": out["report_cpu_s"],
        "churn_peak_rss_mb": out["peak_rss_mb"],
        "churn_report_extra_mb": extra,
        "churn_customers_scored": out["customers_scored"],
        "churn_training_rows": out["training_rows"],
        "churn_training_rows_available": out["training_rows_available"],
        "churn_test_rows": out["test_rows"],
        "churn_roc_auc": out["roc_auc"],
        "churn_baseline_roc_auc": out["baseline_roc_auc"],
        "churn_top_decile_lift": out["top_decile_lift"],
    }
    met = "met" if values["churn_report_met"] else "NOT met"
    rows = [
        ("churn: ledger", f"{out['ledger_s']:.2f} s", "", ""),
        (f"churn: CLV fits at {out['fits']} cut dates (shared in the app)",
         f"{out['fits_s']:.2f} s", "", ""),
        (f"churn report ({out['training_rows']:,} training rows of "
         f"{out['training_rows_available']:,}, {out['customers_scored']:,} scored)",
         f"{fmt_s(report)} ({out['report_cpu_s']:.0f} s CPU)", f"target <= {TARGET_REPORT_S:.0f} s",
         met),
        ("churn report: peak memory (rise during the report)",
         f"{out['peak_rss_mb']:,.0f} MB (+{extra:,.0f} MB)", "", ""),
        ("churn: out-of-time ROC AUC, model / recency",
         f"{out['roc_auc']:.3f} / {out['baseline_roc_auc']:.3f}", "", ""),
    ]  # fmt: skip
    return Result(values, rows)


def main() -> None:
    result = _probe(sys.argv[1])
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
