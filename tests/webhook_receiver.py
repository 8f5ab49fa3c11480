"""A real webhook receiver on 127.0.0.1 for the tests: a small HTTP server in a thread that
verifies every delivery with the ``standardwebhooks`` package, as a receiving system would.

``fail_first`` answers 500 to that many requests first; ``delay`` sleeps before answering
(a slow receiver); ``answer`` is the status of the other requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook as Verifier


@dataclass
class Received:
    """One request as the receiver saw it."""

    msg_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the receiver got, and how it behaves."""

    url: str = ""
    secret: str | None = None
    fail_first: int = 0
    delay: float = 0.0
    answer: int = 200
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def delivered(self) -> list[Received]:
        """The requests answered 2xx."""
        return [r for r in self.requests if 200 <= r.answered < 300]


def _handler(state: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = False
            if state.secret:
                try:
                    Verifier(state.secret).verify(body, headers)
                    verified = True
                except Exception:  # noqa: BLE001 - a bad signature is recorded, not raised
                    verified = False
            if state.delay:
                time.sleep(state.delay)
            with state.lock:
                failing = len(state.requests) < state.fail_first
                status = 500 if failing else state.answer
                state.requests.append(Received(headers.get("webhook-id", ""), headers, body,
                                               verified, status))
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender gave up (timeout)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def receiver(**behaviour: Any) -> Iterator[Receiver]:
    """Serve a receiver on a free port of 127.0.0.1 for the block."""
    state = Receiver(**behaviour)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ledger"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
