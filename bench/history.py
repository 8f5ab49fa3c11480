"""The cost of the tamper-evident history: writing events with the hash chain, against without.

``with chain`` is ``tracker.issues.service.record_many``, the one place events are written:
each event's SHA-256 over its canonical serialisation, the issue's head written by the
database's insert trigger, the append-only triggers in place.  ``without`` is the same events
written as before the chain: the rows added and flushed, the signal sent, no hash, and no
trigger on the table (they are dropped for its rounds).  Both run in the same process on the
same small ledger, in alternating rounds (the triggers restored and dropped between rounds,
never inside a timed call), each repetition rolled back to a savepoint, so only the
difference between them shows.  Two shapes: one event per call (a page's or the API's action)
and a batch of 500 (an import's batch).

The ledger is its own (a few hundred issues registered through the service): the write cost
does not depend on the ledger's size (one indexed row per issue).
"""

from __future__ import annotations

import statistics
import tempfile
from datetime import date
from typing import Any

from bench.common import (
    Result,
    Settings,
    drop_scratch,
    interleaved_medians,
    say,
    scratch_url,
)

#: Issues of the benchmark's ledger (a batch writes one event to each of BATCH of them).
ISSUES = 500
BATCH = 500
SCHEMA = "bench_history"


def _url(kind: str, tmp: str) -> str:
    return scratch_url(kind, tmp, SCHEMA)


def _drop(kind: str) -> None:
    drop_scratch(kind, SCHEMA)


def _ledger() -> tuple[Any, list[Any]]:
    """An admin and ISSUES open issues, registered through the service."""
    from tracker.extensions import db
    from tracker.issues import service as issues
    from tracker.issues.models import Campaign, Category
    from tracker.owners import service as owners

    system = owners.system_actor("bench")
    county = owners.create_org(system, "MD", "玛多县", "county", None)
    admin = owners.create_user(system, "bench-admin", "bench-pass-1", "admin", None,
                               display_name="管理员", email="admin@example.gov.cn")
    officer = owners.create_user(system, "bench-officer", "bench-pass-1", "officer",
                                 county.id, display_name="才让", email="off@example.gov.cn")
    category = Category(code="C1", name="窗口设置不科学,排队等待时间长")
    campaign = Campaign(title="自查整改", reference="果行公〔2018〕20号", org_id=county.id,
                        starts_on=date(2018, 7, 7))
    db.session.add_all([category, campaign])
    db.session.flush()
    batch = [{"campaign_id": campaign.id, "org_id": county.id, "category_id": category.id,
              "title": f"群众办事来回跑{n}", "description": "", "cause": "窗口授权不到位",
              "measures": "开办培训班,提高窗口人员业务能力", "owner_id": officer.id,
              "starts_on": date(2018, 7, 7), "due_on": date(2019, 1, 7)}
             for n in range(ISSUES)]
    created = issues.register_issues(admin, batch)
    db.session.commit()
    return admin, created


def _without_chain(entries: list[tuple[Any, str, Any, dict[str, Any], str]]) -> None:
    """``record_many`` as it was before the chain: rows, flush, signal; no hash, no head."""
    from tracker.extensions import db
    from tracker.issues import service as issues
    from tracker.issues.models import Event
    from tracker.owners import service as owners
    from tracker.timeutil import utcnow

    now = utcnow()
    events = [Event(issue_id=issue.id, kind=kind, actor_id=actor.id,
                    actor_label=owners.actor_label(actor), at=now,
                    changes=issues._jsonable(changes), comment=comment,
                    hash="")
              for issue, kind, actor, changes, comment in entries]
    db.session.add_all(events)
    issues.events_recorded.send(events=events)


ROUNDS = 5


def _alternating(chained: Any, plain: Any, repeat: int) -> dict[str, float]:
    """Medians of ``chained`` (triggers on) and ``plain`` (triggers off) over alternating
    rounds, so that machine noise hits both alike."""
    from tracker.extensions import db
    from tracker.issues import history

    samples: dict[str, list[float]] = {"chained": [], "plain": []}
    per_round = max(2, repeat // ROUNDS)
    for _round in range(ROUNDS):
        for name, fn, triggers in (("chained", chained, True), ("plain", plain, False)):
            savepoint = db.session.begin_nested()
            history.drop_append_only(db.session.connection())
            if triggers:
                history.create_append_only(db.session.connection())
            got = interleaved_medians({name: fn}, repeat=per_round, warmup=1)
            samples[name].append(got[name])
            savepoint.commit()
    history.drop_append_only(db.session.connection())
    history.create_append_only(db.session.connection())
    return {name: statistics.median(values) for name, values in samples.items()}


def _measure(kind: str, repeat: int) -> list[Result]:
    from bench.generate import bench_app
    from tracker.extensions import db
    from tracker.issues import service as issues

    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        url = _url(kind, tmp)
        app = bench_app(url)
        try:
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                admin, ledger = _ledger()
                results = []
                for size in (1, BATCH):
                    chosen = ledger[:size]

                    def entries(chosen: list[Any] = chosen) -> list[Any]:
                        return [(i, "note", admin, {"note": (None, "已增设综合窗口")},
                                 "整改进展:已增设综合窗口,排队时间明显缩短。") for i in chosen]

                    # Each repetition in a savepoint rolled back: the issues stay loaded.
                    def chained(entries: Any = entries) -> None:
                        savepoint = db.session.begin_nested()
                        issues.record_many(entries())
                        db.session.flush()
                        savepoint.rollback()

                    def plain(entries: Any = entries) -> None:
                        savepoint = db.session.begin_nested()
                        _without_chain(entries())
                        db.session.flush()
                        savepoint.rollback()

                    db.session.begin()
                    for issue in chosen:  # loaded once, before either side is timed
                        _ = issue.history_hash
                    reps = repeat if size == 1 else max(5, repeat // 3)
                    times = _alternating(chained, plain, reps)
                    per = "" if size == 1 else f" ({size} events)"
                    results.append(Result(
                        f"event write{per}, hash chain", kind, ISSUES,
                        times["chained"] * 1000, times["plain"] * 1000, "ms", 1.5,
                        note=f"{size} event(s) per call, flushed; median of {reps}"))
                    say(results[-1].line())
                    db.session.rollback()
                return results
        finally:
            from tracker.extensions import db as _db

            with app.app_context():
                _db.session.remove()
                _db.engine.dispose()
            _drop(kind)


def run(settings: Settings, kind: str) -> list[Result]:
    """The event write cost with the hash chain against without, on ``kind``."""
    return _measure(kind, max(settings.repeat, 30))
