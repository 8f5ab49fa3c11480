"""Benchmarks against a real server process: a 200 MB evidence upload and a 100,000-row export.

The app runs under gunicorn (one sync worker) in a subprocess, as in production; the worker's
resident memory is read from ``/proc``: ``VmRSS`` before the request, and ``VmHWM`` (the peak,
reset through ``/proc/<pid>/clear_refs`` just before) after it.  The growth is the peak minus
the memory before.  Upload throughput is compared with ``cp`` of the same file onto the same
file system as the evidence directory.
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

    def __init__(self, url: str, evidence_dir: str, max_upload_mb: int) -> None:
        self.port = _free_port()
        env = dict(os.environ)
        env.update({
            "TRACKER_DATABASE_URL": url,
            "TRACKER_EVIDENCE_DIR": evidence_dir,
            "TRACKER_MAX_UPLOAD_MB": str(max_upload_mb),
            "TRACKER_SECRET_KEY": "bench-secret",
            "TRACKER_SMTP_HOST": "",
        })
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.proc = subprocess.Popen(
            [gunicorn, "--no-control-socket", "-w", "1", "-b", f"127.0.0.1:{self.port}",
             "--timeout", "900", "--log-level", "warning", "tracker:create_app()"],
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


def _upload(server: Server, issue_id: int, token: str, path: str) -> int:
    boundary = uuid.uuid4().hex
    body, size = _multipart(path, boundary)
    conn = server.connection()
    conn.request("POST", f"/api/v1/issues/{issue_id}/evidence", body=body, headers={
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
    """A 200 MB upload: the worker's memory growth and its throughput against cp."""
    path = _upload_file(settings.upload_mb)
    app = bench_app(url)
    token = token_for(app, ledger.county_supervisor)
    issue_id = _open_issue(app, ledger)
    evidence_dir = tempfile.mkdtemp(prefix="evidence-", dir=DATA_DIR)
    server = Server(url, evidence_dir, settings.upload_mb + 16)
    results: list[Result] = []
    try:
        repeat = 3
        cp = _cp_seconds(path, evidence_dir, repeat)
        cp_sync = _cp_seconds(path, evidence_dir, repeat, sync=True)
        times, growths = [], []
        for _ in range(repeat):
            _, seconds, growth = _measured(server, lambda: _upload(server, issue_id, token,
                                                                   path))
            times.append(seconds)
            growths.append(growth)
        times.sort()
        upload = times[len(times) // 2]
        mb = settings.upload_mb
        results.append(Result(
            f"upload {mb} MB: memory growth", kind, ledger.issues, max(growths) / MB, 0, "MB",
            32, kind="max", note=f"worst of {repeat}; each: "
            + ", ".join(f"{g / MB:.1f}" for g in growths)))
        say(results[-1].line())
        results.append(Result(
            f"upload {mb} MB: throughput", kind, ledger.issues, mb / upload, mb / cp, "MB/s",
            0.5, kind="min", note=f"median of {repeat}: {upload:.2f} s vs cp {cp:.2f} s "
            f"(cp + fsync {cp_sync:.2f} s: {mb / upload / (mb / cp_sync):.2f}×)"))
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
