"""The list endpoint under concurrent load: gunicorn with 2 and 4 workers against its floor.

The real app runs under gunicorn (sync workers, as ``make run`` and deploy/ serve it) in a
subprocess, with one extra endpoint (``bench/floor_app.py``): ``GET /bench/floor-json``
answers the very body and headers the real list answered, from memory, in the same workers.
A load generator (``wrk`` from Debian's packages, else a bounded Python client) drives each
endpoint in turn for a few seconds with ``2 × workers`` connections, the real list and the
floor interleaved over several rounds; the figures are requests per second (real against
floor: at least 0.3×, issue 26 item 5) and the p50 and p99 latencies.
On a 2-CPU machine the load generator, the workers and PostgreSQL share the CPUs: the
absolute figures are this machine's, the ratio is what is compared.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

from bench.common import DATA_DIR, Result, Settings, say
from bench.generate import Ledger, bench_app
from bench.server import Server
from bench.web import token_for

#: Seconds each endpoint is driven per round, and the rounds.
SECONDS, ROUNDS = 6, 3
WORKERS = (2, 4)

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _wrk(url: str, headers: dict[str, str], connections: int, seconds: int) -> dict[str, float]:
    """Requests/s, p50 and p99 (seconds) of ``url`` driven by wrk."""
    args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"\n\s+50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"\n\s+99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": p50, "p99": p99}


def _python_load(port: int, path: str, headers: dict[str, str], connections: int,
                 seconds: int) -> dict[str, float]:
    """The same figures from ``connections`` threads of http.client (without wrk)."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                errors.append(str(resp.status))
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed: {errors[:3]}")
    latencies.sort()
    return {"rps": len(latencies) / (time.perf_counter() - started),
            "p50": latencies[len(latencies) // 2],
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def _drive(server: Server, path: str, headers: dict[str, str],
           connections: int) -> dict[str, float]:
    if shutil.which("wrk"):
        return _wrk(f"http://127.0.0.1:{server.port}{path}", headers, connections, SECONDS)
    return _python_load(server.port, path, headers, connections, SECONDS)


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """The list page under load with 2 and 4 workers, against its served floor."""
    app = bench_app(url)
    token = token_for(app, ledger.county_supervisor)
    with app.app_context():
        from tracker.extensions import db

        db.engine.dispose()
    path = f"/api/v1/issues?org_id={ledger.county_id}&sort=due_on&page_size=50"
    auth = {"Authorization": f"Bearer {token}"}
    saved = tempfile.NamedTemporaryFile("w", suffix=".json", dir=DATA_DIR, delete=False)
    evidence_dir = tempfile.mkdtemp(prefix="evidence-", dir=DATA_DIR)
    tool = "wrk" if shutil.which("wrk") else "a Python client"
    results: list[Result] = []
    try:
        for workers in WORKERS:
            # The floor's answer is the real answer, taken from a server of this very setup.
            probe = Server(url, evidence_dir, 16, app="bench.floor_app:create()", workers=1)
            try:
                conn = probe.connection()
                conn.request("GET", path, headers=auth)
                resp = conn.getresponse()
                body = resp.read()
                assert resp.status == 200, body[:300]
                kept = {k: v for k, v in resp.getheaders() if k == "X-Pagination"}
            finally:
                probe.stop()
            saved.seek(0)
            saved.truncate()
            json.dump({"body": body.decode(), "headers": kept}, saved)
            saved.flush()
            server = Server(url, evidence_dir, 16, app="bench.floor_app:create()",
                            workers=workers, env_extra={"BENCH_FLOOR_JSON": saved.name})
            try:
                conn = server.connection()
                conn.request("GET", "/bench/floor-json")
                assert conn.getresponse().read() == body, "floor differs"
                connections = 2 * workers
                runs: dict[str, list[dict[str, float]]] = {"real": [], "floor": []}
                _drive(server, path, auth, connections)  # warm every worker
                for r in range(ROUNDS):
                    for name in (("real", "floor") if r % 2 == 0 else ("floor", "real")):
                        target = path if name == "real" else "/bench/floor-json"
                        runs[name].append(_drive(server, target, auth, connections))
            finally:
                server.stop()
            med = {name: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99")}
                   for name, rs in runs.items()}
            real, floor = med["real"], med["floor"]
            results.append(Result(
                f"list under load, {workers} workers", kind, ledger.issues, real["rps"],
                floor["rps"], "req/s", 0.3, kind="min",
                note=(f"{tool}, {connections} connections, median of {ROUNDS}×{SECONDS} s; "
                      f"p50 {real['p50'] * 1000:.1f} vs {floor['p50'] * 1000:.1f} ms, "
                      f"p99 {real['p99'] * 1000:.1f} vs {floor['p99'] * 1000:.1f} ms"),
                extra={"real": real, "floor": floor, "connections": connections}))
            say(results[-1].line())
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        say(f"  skip concurrency: {exc}")
    finally:
        saved.close()
        os.remove(saved.name)
        shutil.rmtree(evidence_dir, ignore_errors=True)
    return results


