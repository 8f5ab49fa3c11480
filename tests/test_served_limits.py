"""Over-long request lines and headers, served by gunicorn as the production command serves
(issue 20, finding 14; SPEC §7): the application answers them as JSON 414 and 431, not
gunicorn's HTML page."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tracker.serving import GUNICORN_OPTIONS, MAX_HEADER_FIELD, MAX_REQUEST_LINE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(database_url: str, _tmp: str) -> Iterator[int]:
    """gunicorn with the production command's options, on a free port."""
    port = _free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": database_url,
           "TRACKER_EVIDENCE_DIR": os.path.join(_tmp, "served-evidence"),
           "TRACKER_SECRET_KEY": "test-secret", "TRACKER_SMTP_HOST": ""}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    proc = subprocess.Popen([gunicorn, "--no-control-socket", "-w", "1", *GUNICORN_OPTIONS,
                             "-b", f"127.0.0.1:{port}", "--timeout", "120",
                             "tracker:create_app()"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=60)
                break
            except requests.RequestException:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _raw(port: int, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send a request head over a plain socket; the status, headers and body answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                headers = dict(line.split(": ", 1) for line in
                               data[:head_end].decode("latin-1").split("\r\n")[1:])
                length = int(headers.get("Content-Length", "-1"))
                if 0 <= length <= len(data) - head_end - 4:
                    break
    status_line, _, rest = data.partition(b"\r\n")
    head_part, _, body = rest.partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head_part.decode("latin-1").split("\r\n"))
    return int(status_line.split()[1]), headers, body


def _line(target_length: int) -> bytes:
    """A GET request line of exactly ``target_length`` bytes (without its CRLF)."""
    fixed = len("GET /api/v1/issues?q= HTTP/1.1")
    return f"GET /api/v1/issues?q={'a' * (target_length - fixed)} HTTP/1.1".encode()


@pytest.mark.parametrize("length", [MAX_REQUEST_LINE + 1, 6000, 8190])
def test_an_over_long_request_line_is_a_json_414(served, length):
    status, headers, body = _raw(served, _line(length) + b"\r\nHost: ledger\r\n"
                                 b"Accept-Language: en\r\n\r\n")
    assert status == 414, body[:200]
    assert headers["Content-Type"].startswith("application/json")
    answer = json.loads(body)
    assert answer["reason"] == "uri_too_long" and answer["code"] == 414
    assert str(MAX_REQUEST_LINE) in answer["message"]


def test_the_414_speaks_chinese_by_default(served):
    status, _headers, body = _raw(served, _line(5000) + b"\r\nHost: ledger\r\n\r\n")
    assert status == 414
    assert "地址" in json.loads(body)["message"]


def test_a_request_line_within_the_limit_is_served(served):
    status, headers, body = _raw(served, _line(MAX_REQUEST_LINE) + b"\r\nHost: ledger\r\n\r\n")
    assert status == 401 and json.loads(body)["reason"] != "uri_too_long"


def test_an_over_long_header_is_a_json_431(served):
    value = "x" * (MAX_HEADER_FIELD + 10)
    status, headers, body = _raw(served, b"GET /api/v1/issues HTTP/1.1\r\nHost: ledger\r\n"
                                 + f"X-Note: {value}\r\n\r\n".encode())
    assert status == 431, body[:200]
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["reason"] == "header_too_large"


def test_make_run_serves_with_these_options():
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as fh:
        assert " ".join(GUNICORN_OPTIONS) in fh.read()


def test_the_evidence_download_is_documented_as_binary(client):
    """One binary media type (issue 20, finding 16): generated clients read it as bytes."""
    doc = client.get("/api/v1/openapi.json").get_json()
    answer = doc["paths"]["/api/v1/issues/{issue_id}/evidence/{evidence_id}"]["get"][
        "responses"]["200"]
    assert answer["content"] == {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}
