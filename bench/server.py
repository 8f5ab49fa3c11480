"""Benchmarks against a real server process: a 200 MB evidence upload and a 100,000-row export.

The app runs under gunicorn (one sync worker) in a subprocess, as in production; the worker's
resident memory is read from ``/proc``: ``VmRSS`` before the request, and ``VmHWM`` (the peak,
reset through ``/proc/<pid>/clear_refs`` just before) after it.  The growth is the peak minus
the memory before.  The plain upload's throughput is compared with the floor endpoint of
``bench/floor_app.py`` (the same body streamed into SHA-256 and a file, in the same worker),
the tus upload's (5 MB chunks) with the plain upload's; ``cp`` and ``sha256sum`` of the same
file are shown beside them.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, text

from bench.common import DATA_DIR, ROOT, Result, Settings, say
from bench.generate import Ledger, bench_app
from bench.web import token_for

MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn serving the real app on ``url``, one worker, in a subprocess."""

    def __init__(self, url: str, evidence_dir: str, max_upload_mb: int,
                 app: str = "tracker:create_app()", workers: int = 1,
                 env_extra: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        env = dict(os.environ)
        env.update({
            "TRACKER_DATABASE_URL": url,
            "TRACKER_EVIDENCE_DIR": evidence_dir,
            "TRACKER_MAX_UPLOAD_MB": str(max_upload_mb),
            "TRACKER_SECRET_KEY": "bench-secret",
            "TRACKER_SMTP_HOST": "",
            **(env_extra or {}),
        })
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.proc = subprocess.Popen(
            [gunicorn, "--no-control-socket", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "900", "--log-level", "warning", app],
            cwd=ROOT, env=env,
        )
        self.worker = self._wait()

    def _wait(self) -> int:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited at start")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                children = _children(self.proc.pid)
                if children:
                    return children[0]
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in 60 s")

    def memory(self) -> dict[str, int]:
        """The worker's VmRSS and VmHWM in bytes."""
        out: dict[str, int] = {}
        with open(f"/proc/{self.worker}/status", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0]) * 1024
        return out

    def reset_peak(self) -> None:
        """Reset the worker's VmHWM to its current RSS (Linux: ``clear_refs`` with 5)."""
        with open(f"/proc/{self.worker}/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")

    def connection(self) -> http.client.HTTPConnection:
        """A connection to the server."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)

    def stop(self) -> None:
        """Stop gunicorn (its master, which stops the worker)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _measured(server: Server, action: Any) -> tuple[Any, float, int]:
    """Run ``action``; returns its result, its wall time and the worker's memory growth."""
    before = server.memory()["VmRSS"]
    server.reset_peak()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    peak = server.memory()["VmHWM"]
    return result, seconds, max(0, peak - before)


# --- upload ------------------------------------------------------------------------------


def _upload_file(size_mb: int) -> str:
    """A PDF-looking file of ``size_mb`` MB of random bytes, made once and kept."""
    path = os.path.join(DATA_DIR, f"evidence-{size_mb}mb.pdf")
    if os.path.exists(path) and os.path.getsize(path) == size_mb * MB:
        return path
    os.makedirs(DATA_DIR, exist_ok=True)
    with open(path + ".part", "wb") as fh:
        fh.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        left = size_mb * MB - 16 - 6
        while left > 0:
            n = min(left, 4 * MB)
            fh.write(os.urandom(n))
            left -= n
        fh.write(b"\n%%EOF")
    os.replace(path + ".part", path)
    return path


def _multipart(path: str, boundary: str) -> tuple[Iterator[bytes], int]:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
            f"bench upload\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"整改佐证材料.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = len(head) + os.path.getsize(path) + len(tail)

    def body() -> Iterator[bytes]:
        yield head
        with open(path, "rb") as fh:
            while chunk := fh.read(MB):
                yield chunk
        yield tail

    return body(), size


def _upload(server: Server, issue_id: int, token: str, path: str,
            target: str | None = None) -> int:
    """The plain upload (or, with ``target``, the same body to the floor endpoint)."""
    boundary = uuid.uuid4().hex
    body, size = _multipart(path, boundary)
    conn = server.connection()
    conn.request("POST", target or f"/api/v1/issues/{issue_id}/evidence", body=body, headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(size),
    })
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    if resp.status != 201:
        raise RuntimeError(f"upload answered {resp.status}: {payload[:300]!r}")
    return resp.status


#: The page's chunk size (static/evidence-upload.js).
TUS_CHUNK = 5 * MB


def _tus_upload(server: Server, issue_id: int, token: str, path: str) -> int:
    """The same file through tus in 5 MB chunks, one request per chunk, as a client sends it."""
    import base64

    size = os.path.getsize(path)
    meta = "filename " + base64.b64encode("整改佐证材料.pdf".encode()).decode()
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    conn = server.connection()
    conn.request("POST", f"/api/v1/issues/{issue_id}/uploads",
                 headers={**auth, "Upload-Length": str(size), "Upload-Metadata": meta})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 201:
        raise RuntimeError(f"tus creation answered {resp.status}")
    location = resp.getheader("Location") or ""
    offset = 0
    with open(path, "rb") as fh:
        while offset < size:
            chunk = fh.read(TUS_CHUNK)
            conn = server.connection()
            conn.request("PATCH", location, body=chunk, headers={
                **auth, "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(len(chunk))})
            resp = conn.getresponse()
            payload = resp.read()
            conn.close()
            if resp.status != 204:
                raise RuntimeError(f"tus PATCH answered {resp.status}: {payload[:300]!r}")
            offset = int(resp.getheader("Upload-Offset") or 0)
    if not resp.getheader("Evidence-Id"):
        raise RuntimeError("the last tus PATCH named no evidence")
    return resp.status


def _sha256sum_seconds(path: str, repeat: int) -> float:
    """Median seconds of coreutils' ``sha256sum`` of the file (the issue's hashing floor)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(["sha256sum", path], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2]


def _cp_seconds(path: str, target_dir: str, repeat: int, sync: bool = False) -> float:
    """Median seconds of ``cp`` of the file into ``target_dir`` (then fsync, if asked: the
    upload fsyncs what it stored, plain cp leaves it in the page cache)."""
    times = []
    for _ in range(repeat):
        dst = os.path.join(target_dir, "cp-" + uuid.uuid4().hex)
        started = time.perf_counter()
        subprocess.run(["cp", path, dst], check=True)
        if sync:
            fd = os.open(dst, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        times.append(time.perf_counter() - started)
        os.remove(dst)
    times.sort()
    return times[len(times) // 2]


def _open_issue(app: Any, ledger: Ledger) -> int:
    from tracker.extensions import db
    from tracker.issues.models import Issue
    from tracker.owners.service import subtree_ids

    with app.app_context():
        issue_id = db.session.scalar(
            select(Issue.id).where(Issue.org_id.in_(subtree_ids(ledger.county_id)),
                                   Issue.status.in_(("open", "in_progress")))
            .order_by(Issue.id).limit(1))
        db.session.remove()
    assert issue_id is not None
    return int(issue_id)


def run_upload(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """A 200 MB upload, plain and through tus in 5 MB chunks: the worker's memory growth, and
    throughput against the floor endpoint (the same body streamed into SHA-256 and a file) and
    against the plain upload, all in the same run and the same worker."""
    path = _upload_file(settings.upload_mb)
    app = bench_app(url)
    token = token_for(app, ledger.county_supervisor)
    issue_id = _open_issue(app, ledger)
    evidence_dir = tempfile.mkdtemp(prefix="evidence-", dir=DATA_DIR)
    server = Server(url, evidence_dir, settings.upload_mb + 16, app="bench.floor_app:create()")
    results: list[Result] = []
    try:
        repeat = 5
        cp = _cp_seconds(path, evidence_dir, 3)
        hashing = _sha256sum_seconds(path, 3)
        runs: dict[str, list[float]] = {"floor": [], "plain": [], "tus": []}
        growth: dict[str, list[float]] = {"plain": [], "tus": []}
        actions = {
            "floor": lambda: _upload(server, issue_id, token, path, "/bench/floor-upload"),
            "plain": lambda: _upload(server, issue_id, token, path),
            "tus": lambda: _tus_upload(server, issue_id, token, path),
        }
        for name in ("floor", "plain", "tus"):
            actions[name]()  # warm-up: imports and caches are not growth
        names = list(actions)
        for r in range(repeat):  # interleaved, so that machine noise hits all three alike,
            for name in names[r % 3:] + names[:r % 3]:  # and each goes first in turn
                _, seconds, grew = _measured(server, actions[name])
                runs[name].append(seconds)
                if name in growth:
                    growth[name].append(grew)
        med = {name: sorted(times)[len(times) // 2] for name, times in runs.items()}
        mb = settings.upload_mb
        for name, label in (("plain", "upload"), ("tus", "tus upload")):
            results.append(Result(
                f"{label} {mb} MB: memory growth", kind, ledger.issues,
                max(growth[name]) / MB, 0, "MB", 32, kind="max",
                note=f"worst of {repeat}; each: "
                + ", ".join(f"{g / MB:.1f}" for g in growth[name])))
            say(results[-1].line())
        results.append(Result(
            f"upload {mb} MB vs floor endpoint", kind, ledger.issues, mb / med["plain"],
            mb / med["floor"], "MB/s", 0.8, kind="min",
            note=f"median of {repeat}: {med['plain']:.2f} s vs {med['floor']:.2f} s; "
            f"cp {cp:.2f} s ({mb / med['plain'] / (mb / cp):.2f}×), sha256sum {hashing:.2f} s "
            f"({mb / med['plain'] / (mb / hashing):.2f}×)"))
        say(results[-1].line())
        results.append(Result(
            f"tus {mb} MB (5 MB chunks) vs plain", kind, ledger.issues, mb / med["tus"],
            mb / med["plain"], "MB/s", 0.5, kind="min",
            note=f"median of {repeat}: {med['tus']:.2f} s vs {med['plain']:.2f} s; "
            f"{-(-mb * MB // TUS_CHUNK)} PATCHes"))
        say(results[-1].line())
    except RuntimeError as exc:
        say(f"  skip upload: {exc}")
    finally:
        server.stop()
        shutil.rmtree(evidence_dir, ignore_errors=True)
        with app.app_context():
            from tracker.extensions import db

            db.engine.dispose()
    return results


# --- export ------------------------------------------------------------------------------


def _export_filter(app: Any, rows: int) -> str:
    """Query parameters selecting about ``rows`` issues: the earliest deadlines."""
    from tracker.extensions import db

    with app.app_context():
        cutoff = db.session.execute(
            text("SELECT due_on FROM issues ORDER BY due_on LIMIT 1 OFFSET :n"),
            {"n": rows - 1}).scalar()
        db.session.remove()
    if cutoff is None:
        return ""
    return f"due_before={str(cutoff)[:10]}"


def _download(server: Server, path: str, token: str) -> tuple[int, str]:
    conn = server.connection()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    n = 0
    while chunk := resp.read(MB):
        n += len(chunk)
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"export answered {resp.status}")
    return n, resp.getheader("Content-Type") or ""


def run_export(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """A 100,000-row xlsx export: the worker's memory growth."""
    import json

    app = bench_app(url)
    token = token_for(app, ledger.admin)
    query = _export_filter(app, settings.export_rows)
    client = app.test_client()
    probe = client.get(f"/api/v1/issues?{query}&page_size=1",
                       headers={"Authorization": f"Bearer {token}"})
    total = json.loads(probe.headers.get("X-Pagination", "{}")).get("total", "?")
    evidence_dir = tempfile.mkdtemp(prefix="evidence-", dir=DATA_DIR)
    server = Server(url, evidence_dir, 50)
    results: list[Result] = []
    try:
        # One small export first, so that imports and caches are not counted as growth.
        _download(server, "/api/v1/issues?format=xlsx&page_size=1&due_before=1900-01-01", token)
        (size, ctype), seconds, growth = _measured(
            server, lambda: _download(server, f"/api/v1/issues?format=xlsx&{query}", token))
        if "spreadsheet" not in ctype:
            raise RuntimeError(f"export answered {ctype}")
        results.append(Result(
            "xlsx export: memory growth", kind, ledger.issues, growth / MB, 0, "MB", 100,
            kind="max", note=f"{total} rows, {size / MB:.1f} MB file in {seconds:.1f} s"))
        say(results[-1].line())
    except RuntimeError as exc:
        say(f"  skip export: {exc}")
    finally:
        server.stop()
        shutil.rmtree(evidence_dir, ignore_errors=True)
        with app.app_context():
            from tracker.extensions import db

            db.engine.dispose()
    return results
