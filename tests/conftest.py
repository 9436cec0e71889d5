"""Shared fixtures: sample snapshots (generated once per test session) and a builder of
tiny hand-made snapshots."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crm_core.data.snapshot import Snapshot
from crm_core.sample import generate_sample

AS_OF = date(2026, 9, 30)
REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default sample retailer (2,000 customers, seed 7), as the app shows it."""
    return generate_sample(tmp_path_factory.mktemp("snapshots") / "test-retail")


@pytest.fixture(scope="session")
def subscription_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default sample subscription business (contractual)."""
    return generate_sample(
        tmp_path_factory.mktemp("snapshots") / "test-subscription",
        business_model="contractual",
    )


def customer(cid: str, acquired: date, **kw: Any) -> dict[str, Any]:
    """One customers row with defaults."""
    return {
        "customer_id": cid,
        "acquired_on": acquired,
        "acquisition_channel": kw.get("channel", "Web"),
        "acquisition_cost": float(kw.get("cost", 0.0)),
        "region": kw.get("region", "North"),
        "churned_on": kw.get("churned_on"),
    }


def purchase(cid: str, day: date, amount: float, cost: float = 0.0) -> dict[str, Any]:
    """One transactions row."""
    return {
        "customer_id": cid,
        "date": day,
        "amount": float(amount),
        "cost": float(cost),
        "channel": "web",
    }


def contact(cid: str, day: date, touchpoint: str, cost: float) -> dict[str, Any]:
    """One service_costs row."""
    return {"customer_id": cid, "date": day, "touchpoint": touchpoint, "cost": float(cost)}


SCHEMAS = {
    "customers": {
        "customer_id": pl.String,
        "acquired_on": pl.Date,
        "acquisition_channel": pl.String,
        "acquisition_cost": pl.Float64,
        "region": pl.String,
        "churned_on": pl.Date,
    },
    "transactions": {
        "customer_id": pl.String,
        "date": pl.Date,
        "amount": pl.Float64,
        "cost": pl.Float64,
        "channel": pl.String,
    },
    "service_costs": {
        "customer_id": pl.String,
        "date": pl.Date,
        "touchpoint": pl.String,
        "cost": pl.Float64,
    },
    "prospects": {
        "prospect_id": pl.String,
        "first_contact": pl.Date,
        "channel": pl.String,
        "converted_customer_id": pl.String,
    },
}


def active_by_brute_force(snap: Snapshot, t: date) -> int:
    """The activity rule in plain Python: acquired by t, last activity (purchase day or
    acquisition) within clamp(4 x usual gap, 365, 730) days of t."""
    from collections import defaultdict

    net: dict[tuple[str, date], float] = defaultdict(float)
    for cid, day, amount in (
        snap.transactions.collect().select("customer_id", "date", "amount").iter_rows()
    ):
        if day <= t:
            net[(cid, day)] += amount
    days: dict[str, list[date]] = defaultdict(list)
    for (cid, day), amount in net.items():
        if amount >= 0:
            days[cid].append(day)
    active = 0
    for cid, acquired in snap.customers.select("customer_id", "acquired_on").collect().iter_rows():
        if acquired > t:
            continue
        bought = sorted(days.get(cid, []))
        last = max([acquired, *bought[-1:]])
        gap = (bought[-1] - bought[0]).days / (len(bought) - 1) if len(bought) >= 2 else None
        lapse = 365.0 if gap is None else min(max(365.0, 4 * gap), 730.0)
        active += (t - last).days <= lapse
    return active


@pytest.fixture
def data_dir(tmp_path: Path, sample_dir: Path, subscription_dir: Path, monkeypatch) -> Path:
    """A ``CRM_DATA_DIR`` with copies of both samples (ids ``test-retail``,
    ``test-subscription``), so AppTests can damage or add snapshots freely."""
    import shutil

    for src in (sample_dir, subscription_dir):
        shutil.copytree(src, tmp_path / src.name)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    return tmp_path


def open_page(snapshot_id: str, page: str | None = None, *, timeout: float = 120) -> Any:
    """AppTest of the app with ``snapshot_id`` picked in the sidebar, switched to ``page``
    (a ``pages/`` file; default: the Executive overview), checked for exceptions."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    at.selectbox(key="snapshot").set_value(snapshot_id).run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def metrics(at: Any) -> dict[str, str]:
    """KPI cards shown: label -> value text."""
    return {m.label: m.value for m in at.metric}


def frame_with(at: Any, column: str) -> Any:
    """The first st.dataframe showing ``column`` (AppTest does not expose dataframe keys)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


@pytest.fixture
def make_snapshot() -> Callable[..., Snapshot]:
    """Build a validated in-memory snapshot from lists of row dicts."""

    def build(
        customers: list[dict[str, Any]],
        transactions: list[dict[str, Any]],
        service_costs: list[dict[str, Any]] | None = None,
        prospects: list[dict[str, Any]] | None = None,
        *,
        as_of: date = AS_OF,
        business_model: str = "non_contractual",
        discount_rate: float = 0.10,
    ) -> Snapshot:
        def frame(name: str, rows: list[dict[str, Any]] | None) -> pl.DataFrame | None:
            return None if rows is None else pl.DataFrame(rows, schema=SCHEMAS[name])

        return Snapshot.from_frames(
            {
                "schema_version": 1,
                "as_of": as_of.isoformat(),
                "company": "Test Co",
                "business_model": business_model,
                "discount_rate": discount_rate,
            },
            customers=frame("customers", customers),
            transactions=frame("transactions", transactions),
            service_costs=frame("service_costs", service_costs),
            prospects=frame("prospects", prospects),
        )

    return build


# ----------------------------------------------------------------------------- browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(data: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ``app.py`` with the snapshots in ``data`` on a free localhost port; yields the
    base URL once the server answers, and stops it afterwards. ``env`` overrides the
    environment (``CRM_APP_PASSWORD`` is removed unless given); the server log is ``log``."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if k != "CRM_APP_PASSWORD"}
    environ.update(
        {
            "CRM_DATA_DIR": str(data),
            "STREAMLIT_SERVER_HEADLESS": "true",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            # a test server must not reload modules when a source file changes under it
            "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
            **(env or {}),
        }
    )
    out = log.open("w")
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
               "--server.port", str(port), "--server.address", "127.0.0.1"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, env=environ, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"streamlit did not start; see {log}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


@pytest.fixture(scope="session")
def app_url(sample_dir: Path, subscription_dir: Path, tmp_path_factory) -> Iterator[str]:
    """Base URL of the app served on a free localhost port with both sample snapshots
    (ids ``test-retail`` and ``test-subscription``) and a damaged one (``test-broken``)."""
    import shutil

    data = tmp_path_factory.mktemp("app-data")
    for src in (sample_dir, subscription_dir):
        (data / src.name).symlink_to(src, target_is_directory=True)
    broken = shutil.copytree(sample_dir, data / "test-broken")
    (broken / "transactions.parquet").write_bytes(b"PAR1 truncated")
    with serve_app(data, tmp_path_factory.mktemp("app-log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (skipped without it, unless CI)."""
    import os

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_for_app(page: Any, timeout_s: float = 90, settle_s: float = 2.5) -> None:
    """Wait until Streamlit has finished running the script and every chart is drawn.

    The app root reports ``data-test-script-state``; a page can run more than once on
    load (the front end applies URL-bound widget values with a second run), so the state
    must stay ``notRunning`` for ``settle_s`` seconds.
    """
    import time

    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    idle_since: float | None = None
    while time.monotonic() < deadline:
        state = page.get_attribute('[data-testid="stApp"]', "data-test-script-state")
        charts = page.locator('[data-testid="stPlotlyChart"]').count()
        drawn = page.locator('[data-testid="stPlotlyChart"] .main-svg').count()
        spinning = page.locator('[data-testid="stSpinner"]').count()
        if state == "notRunning" and drawn >= charts and not spinning:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= settle_s:
                return
        else:
            idle_since = None
        time.sleep(0.2)
    raise AssertionError("the app did not settle in time")
