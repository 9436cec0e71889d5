"""Run the benchmarks side by side and write one JSON object.

``benchmarks/run.py [--quick | --smoke] [--json FILE] [--cache DIR] [NAME ...]``

1. Prepares the sample company (``crm_core.sample.generate_sample``, seed 7) at the
   chosen scale, or reuses it from the cache folder (``benchmarks/.cache/<customers>-<seed>/``,
   git-ignored; ``--cache`` or ``$CRM_BENCH_CACHE`` put it elsewhere): full 1,000,000
   customers (about 21M transactions), ``--quick`` 200,000 (about 4M), ``--smoke`` 2,000
   (every benchmark once, to check the script still works; ``make test`` runs it).
2. Runs every ``bench_*.py`` (or the NAMEs given: snapshot, rfm, clv, whatif, pages); each
   measures crm_core next to a baseline or peer in the same run, so ratios stay meaningful
   on a shared machine whose load varies (``load_avg`` is recorded).
3. Prints a table and writes the JSON (``--json``): ``customers``, ``transactions``,
   ``machine``, ``load_avg``, every benchmark's values (timings as median/min/max/runs),
   ``peak_rss_mb`` of the whole run including the processes it starts, and ``targets``
   (the issue's targets at this scale and whether they are met).

``make bench`` (full) and ``make bench-quick`` call this; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from _common import Context, Result

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ORDER = ("snapshot", "ledger", "rfm", "clv", "whatif", "pages")
SEED = 7

SCALES: dict[str, dict[str, Any]] = {
    "full": {
        "customers": 1_000_000,
        "runs": 3,
        "page_cold_runs": 3,
        "page_warm_runs": 3,
        "page_timeout_s": 420.0,
        "page_budget_s": 420.0,
        "pages_budget_s": 1500.0,
    },
    "quick": {
        "customers": 200_000,
        "runs": 5,
        "page_cold_runs": 3,
        "page_warm_runs": 3,
        "page_timeout_s": 240.0,
        "page_budget_s": 100.0,
        "pages_budget_s": 420.0,
    },
    "smoke": {
        "customers": 2_000,
        "runs": 1,
        "page_cold_runs": 1,
        "page_warm_runs": 1,
        "page_timeout_s": 300.0,
        "page_budget_s": 0.0,
        "pages_budget_s": 600.0,
    },
}

# The targets (#10); the page targets belong to the ledger issue.
TARGETS: dict[str, dict[str, tuple[str, float]]] = {
    "full": {
        "rfm_speedup_vs_pandas": (">=", 4),
        "rfm_vs_read_ratio": ("<=", 2),
        "bgnbd_speedup_vs_lifetimes": (">=", 10),
        "bgnbd_max_rel_param_diff": ("<=", 1e-3),
        "whatif_p95_ms": ("<=", 50),
        # the ledger issue (#9)
        "ledger_fit_cold_median_s": ("<=", 20),
        "ledger_peak_rss_mb": ("<=", 4096),
        "page_cold_after_shared_max_s": ("<=", 3),
        "page_warm_after_shared_max_ms": ("<=", 300),
        # the reliability issue: 20 sessions on the 2,000-customer sample
        "sessions20_settle_s": ("<=", 30),
        "sessions20_slider_p95_s": ("<=", 2),
    },
    "quick": {
        "rfm_speedup_vs_pandas": (">=", 3),
        "rfm_vs_read_ratio": ("<=", 2.5),
        "bgnbd_speedup_vs_lifetimes": (">=", 5),
        "bgnbd_max_rel_param_diff": ("<=", 1e-3),
        "whatif_p95_ms": ("<=", 50),
        "first_page_with_shared_step_s": ("<=", 6),
        "sessions20_settle_s": ("<=", 30),
        "sessions20_slider_p95_s": ("<=", 2),
    },
    "smoke": {},
}

NOTES = {
    "pages": "page_cold_s / page_warm_ms: Streamlit AppTest (app.py, switched to each page "
    "of crm_app.navigation.PAGES, the scale snapshot picked through the 'snapshot' query "
    "parameter) in a fresh process per cold run; warm = reruns in that process. No browser.",
    "sessions20_settle_s": "benchmarks/bench_sessions.py: one server, 20 websocket clients "
    "on the What-if page of the 2,000-customer sample, each moving its own slider 3 times; "
    "seconds until all 20 showed their first move (null at smoke; tests/test_load.py runs "
    "the same sessions).",
    "peak_rss_mb": "largest total resident memory of this process and every process it "
    "started, sampled every 0.25 s (and never below getrusage's peaks).",
    "ratios": "every ratio divides two medians measured in this run.",
}


# ----------------------------------------------------------------------------- memory


class TreeRSS:
    """Samples the resident memory of this process plus all its descendants."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read().decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            pid, ppid = int(entry.name), int(fields[1])
            children.setdefault(ppid, []).append(pid)
            rss[pid] = int(fields[21]) * self._page
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo += children.get(pid, [])
        return total

    def _loop(self) -> None:
        if not Path("/proc/self/stat").exists():
            return
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._sample())
            self._stop.wait(self.interval)


def _maxrss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kB on Linux


# --------------------------------------------------------------------- the sample company


def ensure_snapshot(cache: Path, customers: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The cached sample company of ``customers`` and ``seed``, generated if absent (in a
    child process, timed, with its peak memory)."""
    folder = cache / f"{customers}-{seed}"
    meta_file = cache / f"{customers}-{seed}.generate.json"
    if _is_sample(folder, customers, seed):
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        return folder, {
            "generated_in_this_run": False,
            "generate_s": meta.get("generate_s"),
            "generate_peak_rss_mb": meta.get("generate_peak_rss_mb"),
            "generated_on": meta.get("date"),
        }
    cache.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; from crm_core.sample import generate_sample; "
        "generate_sample(sys.argv[1], customers=int(sys.argv[2]), seed=int(sys.argv[3]))"
    )
    print(f"generating the sample company ({customers:,} customers, seed {seed}) ...", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder), str(customers), str(seed)])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or not _is_sample(folder, customers, seed):
        raise SystemExit(f"generating the sample company failed (exit {proc.returncode})")
    meta = {
        "generate_s": seconds,
        "generate_peak_rss_mb": usage.ru_maxrss / 1024,
        "date": datetime.now().isoformat(timespec="seconds"),
    }
    meta_file.write_text(json.dumps(meta, indent=2) + "\n")
    return folder, {
        "generated_in_this_run": True,
        "generate_s": seconds,
        "generate_peak_rss_mb": meta["generate_peak_rss_mb"],
        "generated_on": meta["date"],
    }


def _is_sample(folder: Path, customers: int, seed: int) -> bool:
    try:
        man = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    gen = man.get("generator") or {}
    files = ("customers.parquet", "transactions.parquet")
    return (
        gen.get("customers") == customers
        and gen.get("seed") == seed
        and all((folder / f).is_file() for f in files)
    )


# ------------------------------------------------------------------------------ the run


def _modules(names: list[str]) -> list[tuple[str, Any]]:
    found = {f.stem.removeprefix("bench_"): f for f in HERE.glob("bench_*.py")}
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; have {', '.join(found)}")
    order = [n for n in ORDER if n in found] + sorted(set(found) - set(ORDER))
    out = []
    for name in order:
        if names and name not in names:
            continue
        spec = importlib.util.spec_from_file_location(f"bench_{name}", found[name])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
        out.append((name, module))
    return out


def _machine() -> dict[str, Any]:
    mem_kb = 0
    model = platform.processor()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024**2, 1),
        "cpu": model,
        "platform": platform.platform(),
    }


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("polars", "numpy", "scipy", "pandas", "lifetimes", "streamlit"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _git() -> dict[str, Any]:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None}
    return {"commit": head or None}


def _targets(scale: str, values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, (op, goal) in TARGETS[scale].items():
        value = values.get(key)
        met = None
        if isinstance(value, int | float):
            met = value >= goal if op == ">=" else value <= goal
        out[key] = {"target": f"{op} {goal:g}", "value": value, "met": met}
    return out


def _table(rows: list[tuple[str, str, str, str]]) -> str:
    head = ("measurement", "result (median, min-max)", "baseline, same run", "ratio")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="200,000 customers (< 10 minutes)")
    size.add_argument("--smoke", action="store_true", help="2,000 customers, every bench once")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("CRM_BENCH_CACHE") or HERE / ".cache"),
        help="folder of generated sample companies (default benchmarks/.cache)",
    )
    parser.add_argument("names", nargs="*", help=f"benchmarks to run ({', '.join(ORDER)})")
    args = parser.parse_args(argv)
    scale = "quick" if args.quick else "smoke" if args.smoke else "full"
    settings = SCALES[scale]
    modules = _modules(args.names)
    started = time.perf_counter()
    load_start = os.getloadavg()
    with TreeRSS() as memory:
        folder, generation = ensure_snapshot(args.cache, settings["customers"], SEED)
        manifest = json.loads((folder / "manifest.json").read_text())
        ctx = Context(
            scale=scale,
            snapshot=folder,
            snapshot_id=folder.resolve().name,
            customers=settings["customers"],
            seed=SEED,
            as_of=date.fromisoformat(manifest["as_of"]),
            runs=settings["runs"],
            page_cold_runs=settings["page_cold_runs"],
            page_warm_runs=settings["page_warm_runs"],
            page_timeout_s=settings["page_timeout_s"],
            page_budget_s=settings["page_budget_s"],
            pages_budget_s=settings["pages_budget_s"],
        )
        rows_count = pl.scan_parquet(folder / "transactions.parquet").select(pl.len()).collect()
        values: dict[str, Any] = {}
        rows: list[tuple[str, str, str, str]] = []
        failures: dict[str, str] = {}
        for name, module in modules:
            print(f"running {name} ...", flush=True)
            t0 = time.perf_counter()
            try:
                result: Result = module.run(ctx)
            except Exception:
                failures[name] = traceback.format_exc()[-4000:]
                rows.append((name, "FAILED (see benchmark_errors)", "", ""))
                print(failures[name], file=sys.stderr, flush=True)
                continue
            values |= result.values
            rows += result.rows
            print(f"  {name}: {time.perf_counter() - t0:.0f} s", flush=True)
    peak_mb = max(
        memory.peak_bytes / 1024**2,
        _maxrss_mb(resource.RUSAGE_SELF),
        _maxrss_mb(resource.RUSAGE_CHILDREN),
    )
    report: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "scale": scale,
        "seed": SEED,
        "customers": ctx.customers,
        "transactions": int(rows_count.item()),
        "machine": _machine(),
        "load_avg": list(os.getloadavg()),
        "load_avg_start": list(load_start),
        "versions": _versions(),
        "git": _git(),
        **generation,
        **values,
        "peak_rss_mb": peak_mb,
        "peak_rss_detail": {
            "process_tree_sampled_mb": memory.peak_bytes / 1024**2,
            "self_maxrss_mb": _maxrss_mb(resource.RUSAGE_SELF),
            "largest_child_maxrss_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
        },
        "sessions20_settle_s": values.get("sessions20_settle_s"),
        "duration_s": time.perf_counter() - started,
        "benchmark_errors": failures,
        "notes": NOTES,
    }
    report["targets"] = _targets(scale, report)
    print()
    print(
        f"{scale} run: {ctx.customers:,} customers, {report['transactions']:,} transactions, "
        f"{report['machine']['cores']} cores, load {report['load_avg'][0]:.2f}, "
        f"{report['duration_s']:.0f} s, peak memory {peak_mb:,.0f} MB"
    )
    print(_table(rows))
    for key, t in report["targets"].items():
        verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        value = t["value"]
        shown = f"{value:.3g}" if isinstance(value, int | float) else str(value)
        print(f"target {key} {t['target']}: {shown} ({verdict})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
        tmp.replace(args.json)
        print(f"wrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
