"""``crm report``: the quarterly review written to each format, in a fresh process.

Each measurement runs ``crm report --snapshot <sample> --out review.<fmt>`` as a new
Python process (nothing imported or cached beforehand): reading the snapshot, the ledger,
the model sets, every page's numbers and figures, and for PowerPoint and PDF drawing the
charts with Chromium. The baseline in the same run is ``crm metrics`` on the same
snapshot (the ledger and the model sets alone). The issue's target: ``crm report`` under
60 s on the 2,000-customer sample.

Run on its own: ``.venv/bin/python benchmarks/run.py report``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Context, Result, Timing, fmt_s

FORMATS = ("pptx", "pdf", "html")
TARGET_S = 60.0
_TIMEOUT_S = 1800
_MAIN = "import sys; from crm_core.cli import main; sys.exit(main(sys.argv[1:]))"


def _crm(*args: str) -> float:
    """Seconds of one ``crm`` command in a fresh process (``RuntimeError`` if it fails)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _MAIN, *args],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"crm {args[0]} failed: {proc.stderr.strip()[-500:]}")
    return seconds


def _chromium() -> bool:
    from crm_core.report.render import BROWSER_ENV, DEFAULT_BROWSER

    return Path(os.environ.get(BROWSER_ENV) or DEFAULT_BROWSER).is_file()


def run(ctx: Context) -> Result:
    runs = 1 if ctx.scale == "full" else (1 if ctx.scale == "smoke" else 2)
    snapshot = str(ctx.snapshot)
    values: dict[str, object] = {"report_target_s": TARGET_S}
    rows = []
    metrics = Timing.of([_crm("metrics", "--snapshot", snapshot) for _ in range(runs)])
    values["report_metrics_baseline_s"] = metrics.as_dict()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        for fmt in FORMATS:
            key = f"report_{fmt}_s"
            if fmt != "html" and not _chromium():
                values[key] = None
                rows.append((f"crm report .{fmt}", "skipped: no Chromium", "", ""))
                continue
            out = str(Path(folder) / f"review.{fmt}")
            timing = Timing.of(
                [_crm("report", "--snapshot", snapshot, "--out", out) for _ in range(runs)]
            )
            values[key] = timing.as_dict()
            values[f"report_{fmt}_bytes"] = Path(out).stat().st_size
            rows.append(
                (
                    f"crm report .{fmt} ({ctx.customers:,} customers, fresh process)",
                    fmt_s(timing),
                    f"crm metrics {fmt_s(metrics)}",
                    f"{timing.median / metrics.median:.1f}x; target < {TARGET_S:.0f} s at 2,000",
                )
            )
    return Result(values, rows)
