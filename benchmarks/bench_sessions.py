"""Twenty people on the What-if page at once: settle time and slider latency.

One Streamlit server (``app.py``, on a free port of 127.0.0.1) and ``SESSIONS`` clients
speaking Streamlit's own websocket protocol (the messages a browser sends, without a
browser's drawing cost on the same cores): every client opens the What-if page on the
sample snapshot at the same instant, waits for its first run, then moves a different
slider (client *i* takes slider ``i % n`` to a value of its own) ``MOVES`` times.

``sessions20_settle_s``: from the instant all clients connect until the last one has
shown the result of its first slider move. ``sessions20_slider_p95_s``: the 95th
percentile of one move (message sent -> run finished) over every move of every client.
Targets (the reliability issue): settle <= 30 s on the 2,000-customer sample, p95 <= 2 s.

``tests/test_load.py`` runs the same clients and checks that each session shows its own
result (the cards of its own scenario, equal to those of a session run alone).

Run on its own: ``.venv/bin/python benchmarks/run.py sessions`` (the server is started
with the run's sample company; ``--smoke`` uses the 2,000-customer one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SESSIONS = 20
MOVES = 3
PAGE = "whatif"
SETTLE_TARGET_S = 30.0
P95_TARGET_S = 2.0

__all__ = ["Session", "drive", "run", "serve"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(data_dir: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """A Streamlit server of ``app.py`` with ``CRM_DATA_DIR=data_dir`` on a free port of
    127.0.0.1; yields its base URL and stops it afterwards."""
    port = _free_port()
    environ = {
        **os.environ,
        "CRM_DATA_DIR": str(data_dir),
        "STREAMLIT_SERVER_HEADLESS": "true",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
        **(env or {}),
    }
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in the finally below)
        "w", prefix="crm-sessions-", suffix=".log", delete=False
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError(f"streamlit did not start; see {log.name}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class Session:
    """What one client saw.

    Attributes
    ----------
    index
        The client's number.
    slider
        Key of the slider it moved (``""`` before the first run) and the values it set.
    metrics
        ``label -> value`` of the KPI cards after its last run.
    headline
        The What-if headline (the first subheader of the results) after its last run.
    loaded_s, settled_s
        Seconds from the common start to the end of the first run and of the first move.
    moves_s
        Seconds each move took (message sent -> run finished).
    errors
        Exceptions or error boxes the page showed.
    """

    index: int
    slider: str = ""
    values: list[float] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    headline: str = ""
    loaded_s: float = float("nan")
    settled_s: float = float("nan")
    moves_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _Slider:
    id: str
    key: str
    fragment_id: str
    low: float
    high: float
    step: float
    default: float


def _key(widget_id: str) -> str:
    """The user key at the end of a Streamlit widget id (``$$ID-<hash>-<key>``)."""
    return widget_id.split("-", 2)[-1] if widget_id.startswith("$$ID-") else widget_id


class _Client:
    """One browser tab's worth of Streamlit protocol."""

    def __init__(self, url: str, query: str) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.origin = url
        self.query = query
        self.sliders: dict[str, _Slider] = {}
        self.metrics: dict[str, str] = {}
        self.subheaders: list[str] = []
        self.errors: list[str] = []

    async def __aenter__(self) -> _Client:
        import websockets

        self.ws = await websockets.connect(
            self.ws_url, subprotocols=["streamlit"], origin=self.origin, max_size=2**28,
            open_timeout=60, ping_interval=None,
        )  # fmt: skip
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def run(self, widgets: list | None = None, fragment_id: str = "") -> None:
        """Send one rerun (the first run, or a widget change) and read until it finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_name = PAGE
        if widgets:
            state.widget_states.widgets.extend(widgets)
        if fragment_id:
            state.fragment_id = fragment_id
        else:
            self.metrics, self.subheaders = {}, []
        await self.ws.send(msg.SerializeToString())
        await self._read_until_finished(partial=bool(fragment_id))

    async def _read_until_finished(self, *, partial: bool) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if partial:
            self.metrics, self.subheaders = {}, []
        started = False
        while True:
            raw = await self.ws.recv()
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                started = True
            elif kind == "delta":
                started = True
                self._delta(msg.delta)
            elif kind == "script_finished" and started:
                name = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if name in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"):
                    return
                if name == "FINISHED_WITH_COMPILE_ERROR":
                    self.errors.append("the script did not compile")
                    return
                # FINISHED_EARLY_FOR_RERUN: the page reruns itself (router, URL values)

    def _delta(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "slider":
            s = element.slider
            self.sliders[_key(s.id)] = _Slider(
                s.id, _key(s.id), delta.fragment_id, s.min, s.max, s.step,
                (list(s.value) if s.set_value else list(s.default))[0],
            )  # fmt: skip
        elif kind == "metric":
            self.metrics[element.metric.label] = element.metric.body
        elif kind == "heading" and element.heading.tag == "h3":
            self.subheaders.append(element.heading.body)
        elif kind == "exception":
            self.errors.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "alert" and element.alert.format == 1:  # ERROR
            self.errors.append(element.alert.body)


def target_value(slider: _Slider, move: int) -> float:
    """The value client moves put a slider at: a few steps from its default, inside its
    range, different for every move."""
    value = slider.default + slider.step * max(
        1, round((slider.high - slider.low) / 40 / slider.step)
    ) * (move + 1)
    if value > slider.high:
        value = slider.default - (value - slider.default)
    return min(max(value, slider.low), slider.high)


async def _session(
    url: str, query: str, index: int, moves: int, start: float, timeout_s: float
) -> Session:
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    out = Session(index)
    async with asyncio.timeout(timeout_s), _Client(url, query) as client:
        await client.run()
        out.loaded_s = time.monotonic() - start
        keys = sorted(client.sliders)
        if not keys:
            out.errors.append("the page shows no slider")
            out.errors.extend(client.errors)
            return out
        slider = client.sliders[keys[index % len(keys)]]
        out.slider = slider.key
        for move in range(moves):
            value = target_value(slider, index // len(keys) + move * 7)
            state = WidgetState(id=slider.id)
            state.double_array_value.data.append(value)
            sent = time.monotonic()
            await client.run([state], slider.fragment_id)
            out.moves_s.append(time.monotonic() - sent)
            out.values.append(value)
            if move == 0:
                out.settled_s = time.monotonic() - start
        out.metrics = dict(client.metrics)
        out.headline = client.subheaders[0] if client.subheaders else ""
        out.errors.extend(client.errors)
    return out


async def _drive(url: str, query: str, indices: list[int], moves: int, timeout_s: float):
    start = time.monotonic()
    tasks = [_session(url, query, i, moves, start, timeout_s) for i in indices]
    return await asyncio.gather(*tasks, return_exceptions=True)


def drive(
    url: str,
    snapshot_id: str,
    *,
    sessions: int = SESSIONS,
    moves: int = MOVES,
    timeout_s: float = 300.0,
    indices: list[int] | None = None,
) -> list[Session | BaseException]:
    """Run ``sessions`` concurrent clients on the What-if page of ``snapshot_id``
    (client numbers ``indices``, default ``0 .. sessions-1``: a number picks the slider
    and the values).

    Runs its own event loop on a thread of its own, so it works under a caller that
    already runs one (pytest with Playwright's fixtures). A client that fails or runs
    past ``timeout_s`` is returned as its exception.
    """
    result: list = []
    numbers = list(range(sessions)) if indices is None else indices

    def work() -> None:
        result.extend(
            asyncio.run(_drive(url, f"snapshot={snapshot_id}", numbers, moves, timeout_s))
        )

    import threading

    thread = threading.Thread(target=work, name="crm-sessions")
    thread.start()
    thread.join()
    return result


def p95(values: list[float]) -> float:
    """95th percentile (inclusive method; the largest value for fewer than 20)."""
    if len(values) < 20:
        return max(values)
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def summary(results: list[Session | BaseException]) -> dict:
    """The benchmark's figures from :func:`drive`'s results."""
    done = [r for r in results if isinstance(r, Session) and not r.errors and r.moves_s]
    failed = len(results) - len(done)
    moves = [m for r in done for m in r.moves_s]
    return {
        "sessions": len(results),
        "sessions_failed": failed,
        "settle_s": max(r.settled_s for r in done) if done and not failed else None,
        "first_run_max_s": max(r.loaded_s for r in done) if done else None,
        "slider_p95_s": p95(moves) if moves else None,
        "slider_median_s": statistics.median(moves) if moves else None,
        "moves": len(moves),
    }


def run(ctx):  # benchmarks/run.py entry point
    """Measure on the 2,000-customer sample (the issue's targets are set there) at the
    quick and full scales; the smoke run leaves the keys ``None`` (``tests/test_load.py``
    runs the same sessions in ``make test``)."""
    from _common import Result

    from crm_core.sample import generate_sample

    if ctx.scale == "smoke":
        values = {"sessions20_settle_s": None, "sessions20_slider_p95_s": None}
        return Result(values=values, rows=[("20 sessions", "skipped at smoke", "-", "-")])
    with tempfile.TemporaryDirectory(prefix="crm-sessions-") as tmp:
        data = Path(tmp)
        generate_sample(data / "sample", seed=7)
        with serve(data) as url:
            results = drive(url, "sample")
    figures = summary(results)
    values = {
        "sessions20_settle_s": figures["settle_s"],
        "sessions20_slider_p95_s": figures["slider_p95_s"],
        "sessions20_detail": figures,
    }

    def seconds(v: float | None) -> str:
        return "failed" if v is None else f"{v:.1f} s"

    rows = [
        ("20 sessions: all settled", seconds(figures["settle_s"]), "target 30 s", "-"),
        ("20 sessions: slider move p95", seconds(figures["slider_p95_s"]),
         f"median {seconds(figures['slider_median_s'])}", "-"),
    ]  # fmt: skip
    return Result(values=values, rows=rows)


if __name__ == "__main__":
    sample = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "data" / "sample")
    with tempfile.TemporaryDirectory(prefix="crm-sessions-") as tmp:
        (Path(tmp) / sample.name).symlink_to(sample.resolve(), target_is_directory=True)
        with serve(Path(tmp)) as url:
            t = time.monotonic()
            res = drive(url, sample.name)
            print(f"wall {time.monotonic() - t:.1f}s")
    for r in res:
        print(r if isinstance(r, BaseException) else
              (r.index, r.slider, r.values, f"{r.loaded_s:.1f}", f"{r.settled_s:.1f}",
               [f"{m:.2f}" for m in r.moves_s], r.errors[:1], r.headline[:60]))  # fmt: skip
    print(summary(res))
