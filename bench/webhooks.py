"""The webhook delivery sweep: 1,000 new deliveries in a big ledger with a long delivered
history, and in a small one.

The sweep is ``tracker.notify.webhooks.service.deliver`` (what ``flask --app tracker
webhooks`` and the scheduler run), in-app, posting to a receiver on 127.0.0.1 that answers
204 at once (its cost is the same on both sides).  The big ledger also holds ``HISTORY``
deliveries already made (100,000 by default), the small one none: what a sweep must not pay
for is the ledger's size or the outbox's history.  Both get the same 1,000 new messages and
deliveries before each repetition; only the sweep is timed, and its rows are removed after.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import Result, Settings, interleaved_sweeps, ledger_for, say
from bench.generate import Ledger, bulk_insert

#: Deliveries already made in the big ledger.
HISTORY = 100_000
#: New deliveries per sweep (one sweep claims them all).
NEW = 1_000
#: The first id of the bench's own rows (above anything the generator writes).
FIRST_ID = 50_000_000
MESSAGE_COLUMNS = ("id", "msg_id", "event_type", "issue_id", "body", "created_at")
DELIVERY_COLUMNS = ("id", "message_id", "webhook_id", "status", "attempt", "next_attempt_at",
                    "delivered_at", "created_at")


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _clear(conn: Any, first: int = FIRST_ID) -> None:
    params = {"a": first}
    conn.execute(text("DELETE FROM webhook_deliveries WHERE id >= :a"), params)
    conn.execute(text("DELETE FROM webhook_messages WHERE id >= :a"), params)


def _add(conn: Any, first: int, count: int, *, issue_span: int, delivered: bool) -> None:
    """``count`` ``issue.closed`` messages from id ``first``, each with its delivery."""
    now = datetime.now(UTC).replace(tzinfo=None)
    messages, deliveries = [], []
    for k in range(count):
        mid = first + k
        issue = 1 + (mid * 7919) % issue_span
        body = json.dumps({"type": "issue.closed", "timestamp": now.isoformat() + "Z",
                           "data": {"id": issue}}, ensure_ascii=False)
        messages.append((mid, f"msg_bench{mid}", "issue.closed", issue, body, now))
        deliveries.append((mid, mid, FIRST_ID, "delivered" if delivered else "pending",
                           1 if delivered else 0, now, now if delivered else None, now))
    bulk_insert(conn, "webhook_messages", MESSAGE_COLUMNS, messages)
    bulk_insert(conn, "webhook_deliveries", DELIVERY_COLUMNS, deliveries)


class _Ledger:
    """One ledger under the sweep: its engine, its app and its timings."""

    def __init__(self, url: str, history: int, issue_span: int, receiver: str) -> None:
        from bench.generate import bench_app

        self.engine = create_engine(url)
        self.issue_span = issue_span
        with self.engine.begin() as conn:
            _clear(conn)
            conn.execute(text("DELETE FROM webhooks WHERE id = :a"), {"a": FIRST_ID})
            conn.execute(text(
                "INSERT INTO webhooks (id, url, events, secret, active, created_at) "
                "VALUES (:id, :url, :events, :secret, :active, :at)"),
                {"id": FIRST_ID, "url": receiver, "events": '["issue.closed"]',
                 "secret": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "active": True,
                 "at": datetime.now(UTC).replace(tzinfo=None)})
            if history:
                _add(conn, FIRST_ID, history, issue_span=issue_span, delivered=True)
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE webhooks, webhook_messages, webhook_deliveries"))
        else:
            with self.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        self.first_new = FIRST_ID + history + 1
        self.app = bench_app(url, TRACKER_WEBHOOK_ALLOW_LOOPBACK=True,
                             TRACKER_WEBHOOK_BATCH=NEW)
        self.times: list[float] = []
        self.delivered = 0

    def sweep(self, timed: bool) -> None:
        """Add the new deliveries, time one sweep, remove them."""
        from tracker.extensions import db
        from tracker.notify.webhooks.service import deliver

        with self.engine.begin() as conn:
            _add(conn, self.first_new, NEW, issue_span=self.issue_span, delivered=False)
        with self.app.app_context():
            started = time.perf_counter()
            result = deliver(limit=NEW)
            seconds = time.perf_counter() - started
            db.session.remove()
        self.delivered = result.delivered
        if timed:
            self.times.append(seconds)
        with self.engine.begin() as conn:
            _clear(conn, self.first_new)

    def close(self) -> None:
        """Remove the bench's rows."""
        from tracker.extensions import db

        with self.engine.begin() as conn:
            _clear(conn)
            conn.execute(text("DELETE FROM webhooks WHERE id = :a"), {"a": FIRST_ID})
        with self.app.app_context():
            db.engine.dispose()
        self.engine.dispose()


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """Time one sweep on each ledger; the ratio shows whether its cost follows what is new."""
    small_url, small = ledger_for(settings, kind, settings.small_issues)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver = f"http://127.0.0.1:{server.server_port}/hook"
    repeat = 5
    span = small.issues  # the same issue ids exist in both ledgers
    big = _Ledger(url, HISTORY, span, receiver)
    little = _Ledger(small_url, 0, span, receiver)
    try:
        big_s, small_s = interleaved_sweeps(big, little, repeat)
    finally:
        server.shutdown()
    result = Result(
        f"webhook sweep {ledger.issues // 1000}k+{HISTORY // 1000}k/{small.issues // 1000}k",
        kind, ledger.issues, big_s * 1000, small_s * 1000, "ms", 1.2,
        note=f"{big.delivered} and {little.delivered} delivered; median of {repeat}")
    say(result.line())
    if big.delivered != NEW or little.delivered != NEW:
        say(f"  note: expected {NEW} deliveries in each ledger")
    return [result]
