"""Pages at scale: every page of the app opened cold in a fresh process, then rerun warm.

For each page registered in ``crm_app.navigation.PAGES`` a fresh Python process (so no
Streamlit cache, imported module or loaded snapshot survives from another page) runs the
app with Streamlit's ``AppTest``, with ``CRM_DATA_DIR`` pointing at the sample company::

    at = AppTest.from_file("app.py")
    at.query_params["snapshot"] = "<snapshot folder name>"   # the sidebar picker is bound to it
    at.switch_page(page.file)
    at.run()                                                  # cold
    at.run()                                                  # warm, a few times

* ``page_cold_s``: from ``AppTest.from_file`` to the end of the first run, i.e. the app's
  imports (crm_core, polars, plotly), validating the snapshot and everything the page
  computes and draws; importing Streamlit itself (the server's start) is not included and
  is reported as ``import_s``. One process per cold run; several runs while the page's
  time budget allows.
* ``page_warm_ms``: the following reruns in the same process (what a widget change or a
  second visit costs once the caches are filled).

Nothing here knows what a page shows: a page that raises, shows no page at all, or runs
past the timeout gets its error text in ``page_errors`` instead of timings, and the run
goes on. AppTest runs the script without a browser, so drawing in the browser is not
included.

Run on its own: ``.venv/bin/python benchmarks/run.py pages``; one probe by hand:
``CRM_DATA_DIR=DIR .venv/bin/python benchmarks/bench_pages.py pages/overview.py ID``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Context, Result, Timing, fmt_s

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app.py"
MARKER = "PAGE_PROBE_RESULT "
_STDERR_TAIL = 4000


def probe(page_file: str, snapshot_id: str, warm: int, timeout: float) -> dict[str, Any]:
    """Open ``page_file`` cold with ``snapshot_id`` selected, then rerun it ``warm`` times
    (runs in the fresh process)."""
    start = time.perf_counter()
    from streamlit.testing.v1 import AppTest

    imported = time.perf_counter()
    out: dict[str, Any] = {"import_s": imported - start, "warm_s": [], "error": None}
    try:
        at = AppTest.from_file(str(APP), default_timeout=timeout)
        at.query_params["snapshot"] = snapshot_id
        at.switch_page(page_file)
        at.run()
    except Exception as exc:  # the run timed out or the page could not be opened
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["cold_s"] = time.perf_counter() - imported
    out["title"] = at.title[0].value if len(at.title) else None
    out["error_boxes"] = [str(e.value)[:500] for e in at.error]
    if at.exception:
        out["error"] = "; ".join(str(e.value) for e in at.exception)[:2000]
        return out
    picked = [s.value for s in at.selectbox if s.key == "snapshot"]
    if picked != [snapshot_id]:
        out["error"] = f"the snapshot picker shows {picked}, not {snapshot_id!r}"
        return out
    for _ in range(warm):
        t0 = time.perf_counter()
        at.run()
        out["warm_s"].append(time.perf_counter() - t0)
        if at.exception:
            out["error"] = "rerun: " + "; ".join(str(e.value) for e in at.exception)[:2000]
            break
    return out


def _spawn(page_file: str, ctx: Context) -> dict[str, Any]:
    """One cold run of a page in a fresh process (killed at the timeout)."""
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(ctx.snapshot),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    args = [sys.executable, str(Path(__file__).resolve()), page_file, ctx.snapshot_id]
    args += ["--warm", str(ctx.page_warm_runs), "--timeout", str(ctx.page_timeout_s)]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err, start_new_session=True
        )
        try:
            stdout, _ = proc.communicate(timeout=ctx.page_timeout_s + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the probe we started and its children
            proc.communicate()
            return {"error": f"timed out after {ctx.page_timeout_s + 60:.0f} s", "timed_out": True}
        err.seek(0)
        stderr = err.read().decode(errors="replace")[-_STDERR_TAIL:]
    elapsed = time.perf_counter() - start
    for line in reversed(stdout.decode(errors="replace").splitlines()):
        if line.startswith(MARKER):
            result = json.loads(line[len(MARKER) :])
            result["process_s"] = elapsed
            result["timed_out"] = "timed out" in str(result.get("error") or "")
            return result
    return {"error": f"the probe exited with {proc.returncode}: {stderr}", "timed_out": False}


def run(ctx: Context) -> Result:
    from crm_app.navigation import PAGES

    cold: dict[str, Any] = {}
    warm: dict[str, Any] = {}
    errors: dict[str, str] = {}
    detail: dict[str, Any] = {}
    rows = []
    all_started = time.monotonic()
    for page in PAGES:
        key = page.url_path
        colds: list[float] = []
        warms: list[float] = []
        info: dict[str, Any] = {"file": page.file, "title": page.title, "process_s": []}
        started = time.monotonic()
        for i in range(max(ctx.page_cold_runs, 1)):
            now = time.monotonic()
            if i and now - started + colds[-1] > ctx.page_budget_s:
                break
            if now - all_started > ctx.pages_budget_s:
                if not colds:
                    errors[key] = (
                        f"skipped: the pages' time budget ({ctx.pages_budget_s:.0f} s) was spent"
                    )
                break
            res = _spawn(page.file, ctx)
            if res.get("error"):
                errors[key] = str(res["error"])
                info["timed_out"] = bool(res.get("timed_out"))
                break
            colds.append(float(res["cold_s"]))
            warms += [float(v) for v in res["warm_s"]]
            info["process_s"].append(res["process_s"])
            info["import_s"] = res["import_s"]
            info["shown_title"] = res.get("title")
            info["error_boxes"] = res.get("error_boxes", [])
        cold[key] = Timing.of(colds).as_dict() if colds else None
        warm[key] = Timing.of(warms).scaled(1000).as_dict() if warms else None
        detail[key] = info
        if colds:
            cold_t = Timing.of(colds)
            warm_text = fmt_s(Timing.of(warms).scaled(1000), "ms", 0) if warms else "-"
            rows.append((f"page {page.title}: cold, fresh process", fmt_s(cold_t), "", ""))
            rows.append((f"page {page.title}: warm rerun", warm_text, "", ""))
            if key in errors:
                rows.append(
                    (f"page {page.title}: a later run", "ERROR: " + errors[key][:80], "", "")
                )
        else:
            rows.append((f"page {page.title}", "ERROR: " + errors[key][:80], "", ""))
    first = cold.get(PAGES[0].url_path)
    values = {
        "cold_first_page_s": first["median"] if first else None,
        "page_cold_s": cold,
        "page_warm_ms": warm,
        "page_errors": errors,
        "pages": detail,
    }
    return Result(values, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One cold page probe (run by run.py).")
    parser.add_argument("page", help="page file, e.g. pages/overview.py")
    parser.add_argument("snapshot_id", help="snapshot folder name under $CRM_DATA_DIR")
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    result = probe(args.page, args.snapshot_id, args.warm, args.timeout)
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # a timed-out script thread must not keep the process alive


if __name__ == "__main__":
    main()
