"""The notice sweep: 1,000 new notices in a big ledger with a long mailed history, and in a
small one.

The sweep is ``tracker.notify.notices.run_sweep`` (what ``flask --app tracker notify`` and
the scheduler run), in-app only (no SMTP server: mail would time the mail server, not us).
The big ledger also holds ``HISTORY`` notices already mailed (100,000 by default), the small
one none: what a sweep must not pay for is the ledger's size and the history of mailed
notices.  Both get the same 1,000 new notices (the same users and issue ids) before each
repetition; only the sweep is timed, and its notices are removed afterwards.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import Result, Settings, interleaved_sweeps, ledger_for, say
from bench.generate import Ledger, bulk_insert, reset_sequences

#: Notices already mailed in the big ledger.
HISTORY = 100_000
#: New notices per sweep.
NEW = 1_000
#: The first id of the bench's own notices (above anything the generator writes).
FIRST_ID = 50_000_000
NOTIFICATION_COLUMNS = ("id", "user_id", "kind", "subject", "created_at", "actor_id",
                        "comment")
MAIL_COLUMNS = ("id", "notification_id", "recipient_id", "sent_at", "attempts")


def _clear(conn: Any) -> None:
    params = {"a": FIRST_ID}
    conn.execute(text("DELETE FROM notice_mails WHERE id >= :a"), params)
    conn.execute(text("DELETE FROM notification_items WHERE notification_id >= :a"), params)
    conn.execute(text("DELETE FROM notifications WHERE id >= :a"), params)


def _add(conn: Any, first: int, count: int, *, issue_span: int, sent: bool, seed: int) -> None:
    """``count`` "rejected" notices from id ``first``, each with its mail row."""
    rng = random.Random(seed)
    users = [row[0] for row in conn.execute(text(
        "SELECT id FROM users WHERE role = 'officer' AND active ORDER BY id"))]
    actor = conn.execute(text("SELECT min(id) FROM users WHERE role = 'supervisor'")).scalar()
    now = datetime.now(UTC).replace(tzinfo=None)
    notes, items, mails = [], [], []
    for k in range(count):
        nid = first + k
        user = rng.choice(users)
        issue = rng.randint(1, issue_span)
        notes.append((nid, user, "rejected", f"被驳回：#{issue}", now, actor, "佐证材料不完整"))
        items.append((nid, issue, "reject"))
        mails.append((nid, nid, user, now if sent else None, 1 if sent else 0))
    bulk_insert(conn, "notifications", NOTIFICATION_COLUMNS, notes)
    bulk_insert(conn, "notification_items", ("notification_id", "issue_id", "step"), items)
    bulk_insert(conn, "notice_mails", MAIL_COLUMNS, mails)


class _Ledger:
    """One ledger under the sweep: its engine, its app and its timings."""

    def __init__(self, url: str, history: int, issue_span: int) -> None:
        from bench.generate import bench_app

        self.engine = create_engine(url)
        self.issue_span = issue_span
        with self.engine.begin() as conn:
            _clear(conn)
            if history:
                _add(conn, FIRST_ID, history, issue_span=issue_span, sent=True, seed=11)
            reset_sequences(conn)
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE notifications, notification_items, notice_mails"))
        else:
            with self.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        self.first_new = FIRST_ID + history + 1
        self.app = bench_app(url)
        self.times: list[float] = []
        self.claimed = 0

    def sweep(self, timed: bool) -> None:
        """Add the new notices, time one sweep, remove them."""
        from tracker.extensions import db
        from tracker.notify.notices import run_sweep

        with self.engine.begin() as conn:
            _add(conn, self.first_new, NEW, issue_span=self.issue_span, sent=False, seed=7)
        with self.app.app_context():
            started = time.perf_counter()
            result = run_sweep()
            seconds = time.perf_counter() - started
            db.session.remove()
        self.claimed = result.claimed
        if timed:
            self.times.append(seconds)
        params = {"a": self.first_new}
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM notice_mails WHERE id >= :a"), params)
            conn.execute(text("DELETE FROM notification_items WHERE notification_id >= :a"),
                         params)
            conn.execute(text("DELETE FROM notifications WHERE id >= :a"), params)

    def close(self) -> None:
        """Remove the bench's notices."""
        from tracker.extensions import db

        with self.engine.begin() as conn:
            _clear(conn)
        with self.app.app_context():
            db.engine.dispose()
        self.engine.dispose()


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """Time one sweep on each ledger; the ratio shows whether its cost follows what is new."""
    small_url, small = ledger_for(settings, kind, settings.small_issues)
    repeat = 7
    span = small.issues  # the same issue ids exist in both ledgers
    big, little = _Ledger(url, HISTORY, span), _Ledger(small_url, 0, span)
    big_s, small_s = interleaved_sweeps(big, little, repeat)
    big_claimed, small_claimed = big.claimed, little.claimed
    result = Result(
        f"notice sweep {ledger.issues // 1000}k+{HISTORY // 1000}k/{small.issues // 1000}k",
        kind, ledger.issues, big_s * 1000, small_s * 1000, "ms", 1.2,
        note=f"{big_claimed} and {small_claimed} notices claimed; median of {repeat}")
    say(result.line())
    if big_claimed != NEW or small_claimed != NEW:
        say(f"  note: expected {NEW} notices claimed in each ledger")
    return [result]
