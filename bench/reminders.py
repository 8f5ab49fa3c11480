"""The reminder pass: the same 1,000 steps due in a ledger of 10,000 and of 1,000,000 issues.

The pass is ``tracker.notify.service.run_pass`` (what ``flask --app tracker remind`` and the
scheduler run), in-app only (no SMTP server: mail would time the mail server, not us).

What is due is made identical in both ledgers: the pass runs "as of" a day 600 days before
the ledger's today, when no generated issue is yet within a week of its deadline, and 1,000
planted open issues have exactly one owner step due that day (200 each one week, three days
and one day ahead, on the day, and one day overdue).  Everything else in the ledger (its
size, statuses, the closed and overdue issues of later dates) is what the pass must not pay
for.  Between repetitions the planted issues' claims and notifications are removed, so that
each pass does the same work.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import Result, Settings, ledger_for, say
from bench.generate import ISSUE_COLUMNS, Ledger, _at, bench_app, bulk_insert, reset_sequences

#: Planted issues are recognised by this title prefix.
PLANTED = "提醒基准"
#: Days before the ledger's today on which the pass runs.
AS_OF_DAYS_BACK = 600
#: (days from as_of to due_on, the step then due)
PLANTED_STEPS = ((7, "before:7"), (3, "before:3"), (1, "before:1"), (0, "due"),
                 (-1, "overdue:1"))


def reminder_as_of(ledger: Ledger) -> date:
    """The day the benchmark's pass runs as of."""
    return date.fromisoformat(ledger.today) - timedelta(days=AS_OF_DAYS_BACK)


def _planted_ids(conn: Any) -> tuple[int, int] | None:
    """The first and last id of the planted issues (one scan of the titles)."""
    row = conn.execute(text(
        f"SELECT min(id), max(id) FROM issues WHERE title LIKE '{PLANTED}%'")).one()
    return None if row[0] is None else (int(row[0]), int(row[1]))


def clear_claims(conn: Any, ids: tuple[int, int] | None = None) -> None:
    """Forget what passes did for the planted issues (their claims and notifications)."""
    ids = ids or _planted_ids(conn)
    if ids is None:
        return
    params = {"a": ids[0], "b": ids[1]}
    conn.execute(text(
        "CREATE TEMPORARY TABLE bench_notes AS SELECT DISTINCT notification_id "
        "FROM notification_items WHERE issue_id BETWEEN :a AND :b"), params)
    conn.execute(text("DELETE FROM reminder_deliveries WHERE issue_id BETWEEN :a AND :b"),
                 params)
    conn.execute(text("DELETE FROM notification_items WHERE issue_id BETWEEN :a AND :b"),
                 params)
    conn.execute(text("DELETE FROM notifications WHERE id IN "
                      "(SELECT notification_id FROM bench_notes)"))
    conn.execute(text("DROP TABLE bench_notes"))


def clear_planted(conn: Any) -> None:
    """Remove the planted issues with their claims and notifications."""
    ids = _planted_ids(conn)
    if ids is None:
        return
    clear_claims(conn, ids)
    conn.execute(text("DELETE FROM issues WHERE id BETWEEN :a AND :b"),
                 {"a": ids[0], "b": ids[1]})


def plant(conn: Any, as_of: date, count: int, seed: int = 5) -> tuple[int, int]:
    """Add ``count`` open issues with exactly one owner step due on ``as_of``; their ids."""
    clear_planted(conn)
    rng = random.Random(seed)
    officers = conn.execute(text(
        "SELECT u.id, u.org_id FROM users u WHERE u.role = 'officer' AND u.active "
        "ORDER BY u.id")).all()
    campaign_id, category_id = conn.execute(text(
        "SELECT (SELECT min(id) FROM campaigns), (SELECT min(id) FROM categories)")).one()
    first = (conn.execute(text("SELECT max(id) FROM issues")).scalar() or 0) + 1
    starts_on = as_of - timedelta(days=60)
    rows = []
    for k in range(count):
        owner_id, org_id = rng.choice(officers)
        offset, _step = PLANTED_STEPS[k % len(PLANTED_STEPS)]
        due_on = as_of + timedelta(days=offset)
        rows.append((
            first + k, campaign_id, org_id, category_id, f"{PLANTED}{k:05d}",
            "提醒基准事项", "", "", owner_id, starts_on, due_on, due_on, "open", 0, 0, 1,
            None, _at(starts_on), _at(starts_on), None, None, None, starts_on,
        ))
    bulk_insert(conn, "issues", ISSUE_COLUMNS, rows)
    reset_sequences(conn)
    return first, first + count - 1


def _pass_seconds(url: str, as_of: date, steps: int, repeat: int) -> tuple[float, int]:
    """Median seconds of one pass over the ledger at ``url``, and the steps it claimed.

    Only ``run_pass`` is timed; forgetting its claims between repetitions is not.
    """
    import statistics
    import time

    from tracker.extensions import db
    from tracker.notify.service import run_pass

    engine = create_engine(url)
    with engine.begin() as conn:
        ids = plant(conn, as_of, steps)
    app = bench_app(url)
    times: list[float] = []
    claimed = 0
    try:
        for attempt in range(repeat + 1):  # the first one warms caches, untimed
            with app.app_context():
                started = time.perf_counter()
                result = run_pass(as_of)
                seconds = time.perf_counter() - started
                db.session.remove()
            claimed = result.claimed
            if attempt:
                times.append(seconds)
            with engine.begin() as conn:
                clear_claims(conn, ids)
    finally:
        with engine.begin() as conn:
            clear_planted(conn)
        with app.app_context():
            db.engine.dispose()
        engine.dispose()
    return statistics.median(times), claimed


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """Time one pass on each ledger; the ratio shows whether its cost follows the ledger."""
    try:
        from tracker.notify.service import run_pass  # noqa: F401
    except ImportError:
        say("  skip reminder pass: tracker.notify.service.run_pass is not there yet")
        return []
    small_url, small = ledger_for(settings, kind, settings.small_issues)
    as_of = reminder_as_of(ledger)
    assert reminder_as_of(small) == as_of
    repeat = 5
    big_s, big_claimed = _pass_seconds(url, as_of, settings.reminder_steps, repeat)
    small_s, small_claimed = _pass_seconds(small_url, as_of, settings.reminder_steps, repeat)
    result = Result(
        f"reminder pass {ledger.issues // 1000}k/{small.issues // 1000}k", kind, ledger.issues,
        big_s * 1000, small_s * 1000, "ms", 1.2,
        note=f"{big_claimed} and {small_claimed} steps claimed; median of {repeat}")
    say(result.line())
    if big_claimed != settings.reminder_steps or small_claimed != settings.reminder_steps:
        say(f"  note: expected {settings.reminder_steps} steps claimed in each ledger")
    return [result]
