"""The tamper-evident history (SPEC §4): hash chains, append-only triggers, verify-history,
daily anchors (command, API, mail, spreadsheet footer) and the closure record."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.smtp import text_of
from tests.support.pages import login, page_client
from tracker.extensions import db
from tracker.issues import history
from tracker.issues import service as issues
from tracker.issues.deadlines import service as extensions
from tracker.issues.models import Event, HistoryAnchor, Issue


def _events(issue_id: int) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.issue_id == issue_id)
                                   .order_by(Event.id)))


@contextmanager
def triggers_lifted() -> Iterator[Any]:
    """Drop the append-only triggers (as someone with the database owner's rights could),
    and restore them afterwards."""
    history.drop_append_only(db.session.connection())
    db.session.commit()
    try:
        yield db.session
    finally:
        db.session.rollback()
        history.create_append_only(db.session.connection())
        db.session.commit()


def _closed_issue(world: Any, make: Any) -> Issue:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress", evidence=2)
    issues.add_note(issue, world.officer, "已增设综合窗口")
    issues.transition(issue, world.officer, "submit", "请验收")
    issues.transition(issue, world.supervisor, "close", "核查属实")
    db.session.commit()
    return issue


# --- the chain ---------------------------------------------------------------------------


def test_every_event_is_chained_and_the_issue_keeps_the_head(world, make):
    issue = _closed_issue(world, make)
    events = _events(issue.id)
    assert [e.kind for e in events] == ["created", "start", "note", "submit", "close"]
    assert events[0].prev_hash is None
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    for e in events:
        assert e.hash == history.event_hash(e.prev_hash, e.issue_id, e.kind, e.actor_id,
                                            e.actor_label, e.at, e.changes, e.comment)
        assert len(e.hash) == 64 and int(e.hash, 16) >= 0
    assert issue.history_hash == events[-1].hash


def test_the_closing_event_lists_the_evidence(world, make):
    issue = _closed_issue(world, make)
    close = _events(issue.id)[-1]
    files = close.changes["evidence"][1]
    assert [f["filename"] for f in files] == ["整改证据0.txt", "整改证据1.txt"]
    assert all(f["sha256"] == hashlib.sha256(b"rectified").hexdigest() for f in files)
    assert all(isinstance(f["id"], int) for f in files)


def test_the_api_shows_prev_hash_and_hash(world, make, api):
    issue = _closed_issue(world, make)
    events = api.get(f"/api/v1/issues/{issue.id}/events", user=world.officer).get_json()
    assert events[0]["prev_hash"] is None
    assert events[1]["prev_hash"] == events[0]["hash"]
    body = api.get(f"/api/v1/issues/{issue.id}", user=world.officer).get_json()
    assert body["history_hash"] == events[-1]["hash"]
    assert body["submitted_by_id"] == world.officer.id


def test_a_batch_of_one_issue_chains_in_order(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    first, second = issues.record_many([(issue, "note", world.officer, {}, "一"),
                                        (issue, "note", world.officer, {}, "二")])
    db.session.commit()
    assert second.prev_hash == first.hash and issue.history_hash == second.hash
    assert history.verify(issue.id).broken is None


def test_the_database_refuses_update_and_delete_of_events(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    db.session.commit()
    for statement in ("UPDATE events SET comment = 'x' WHERE issue_id = :i",
                      "DELETE FROM events WHERE issue_id = :i"):
        with pytest.raises(DBAPIError) as exc:
            db.session.execute(text(statement), {"i": issue.id})
        assert "append-only" in str(exc.value)
        db.session.rollback()
    assert len(_events(issue.id)) == 1


# --- verify-history ----------------------------------------------------------------------


def test_verify_history_passes_an_intact_ledger(world, make, runner):
    issue = _closed_issue(world, make)
    make.issue(world.centre, world.officer, world.campaign, world.category)
    db.session.commit()
    result = runner.invoke(args=["verify-history"])
    assert result.exit_code == 0, result.output
    assert "Verified 6 events of 2 issues" in result.output
    one = runner.invoke(args=["verify-history", "--issue", str(issue.id)])
    assert one.exit_code == 0 and "Verified 5 events of 1 issues" in one.output


def test_verify_history_finds_a_changed_event(world, make, runner):
    issue = _closed_issue(world, make)
    note = _events(issue.id)[2]
    with triggers_lifted() as session:
        session.execute(text("UPDATE events SET comment = '未整改' WHERE id = :e"), {"e": note.id})
        session.commit()
        result = runner.invoke(args=["verify-history"])
    assert result.exit_code == 1
    assert f"issue {issue.id}, event {note.id}" in result.output
    assert "changed" in result.output


def test_verify_history_finds_a_deleted_event(world, make, runner):
    issue = _closed_issue(world, make)
    events = _events(issue.id)
    with triggers_lifted() as session:
        session.execute(text("DELETE FROM events WHERE id = :e"), {"e": events[3].id})
        session.commit()
        result = runner.invoke(args=["verify-history", "--issue", str(issue.id)])
    assert result.exit_code == 1
    assert f"issue {issue.id}, event {events[4].id}" in result.output


def test_verify_history_finds_a_deleted_last_event(world, make, runner):
    issue = _closed_issue(world, make)
    events = _events(issue.id)
    with triggers_lifted() as session:
        session.execute(text("DELETE FROM events WHERE id = :e"), {"e": events[-1].id})
        session.commit()
        result = runner.invoke(args=["verify-history"])
    assert result.exit_code == 1
    assert f"issue {issue.id}" in result.output and "latest hash" in result.output


def test_verify_history_finds_an_inserted_event(world, make, runner):
    a = make.issue(world.centre, world.officer, world.campaign, world.category)
    b = make.issue(world.centre, world.officer, world.campaign, world.category)
    issues.add_note(a, world.officer, "进展")
    db.session.commit()
    first, note = _events(a.id)
    gap = _events(b.id)[0].id  # between a's two events
    forged = history.event_hash(first.hash, a.id, "close", None, "x", first.at, {}, "")
    with triggers_lifted() as session:
        session.execute(text("DELETE FROM events WHERE id = :e"), {"e": gap})
        session.execute(text(
            "INSERT INTO events (id, issue_id, kind, actor_id, actor_label, at, changes, "
            "comment, prev_hash, hash) VALUES (:id, :i, 'close', NULL, 'x', :at, '{}', '', "
            ":p, :h)"), {"id": gap, "i": a.id, "at": first.at, "p": first.hash, "h": forged})
        session.commit()
        result = runner.invoke(args=["verify-history"])
    assert result.exit_code == 1
    assert f"issue {a.id}, event {note.id}" in result.output


def test_verify_history_finds_reordered_events(world, make, runner):
    issue = _closed_issue(world, make)
    events = _events(issue.id)
    a, b = events[1].id, events[2].id
    with triggers_lifted() as session:
        for old, new in ((a, -1), (b, a), (-1, b)):
            session.execute(text("UPDATE events SET id = :n WHERE id = :o"), {"n": new, "o": old})
        session.commit()
        result = runner.invoke(args=["verify-history"])
    assert result.exit_code == 1
    assert f"issue {issue.id}, event {a}" in result.output


# --- anchors -----------------------------------------------------------------------------


def test_anchor_command_records_once_a_day_and_verify_checks_it(world, make, runner, api):
    _closed_issue(world, make)
    make.issue(world.centre, world.officer, world.campaign, world.category)
    db.session.commit()
    first = runner.invoke(args=["anchor"])
    assert first.exit_code == 0 and "Recorded anchor" in first.output
    again = runner.invoke(args=["anchor"])
    assert again.exit_code == 0 and "Already recorded" in again.output
    anchor = db.session.scalars(select(HistoryAnchor)).one()
    heads = db.session.execute(select(Issue.id, Issue.history_hash).order_by(Issue.id)).all()
    lines = "".join(f"{i}:{h}\n" for i, h in heads).encode()
    assert anchor.digest == hashlib.sha256(lines).hexdigest() and anchor.issue_count == 2
    # Later events do not disturb the anchor: it covers the chains up to its last event.
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    issues.add_note(issue, world.officer, "新进展")
    db.session.commit()
    result = runner.invoke(args=["verify-history"])
    assert result.exit_code == 0, result.output
    assert f"anchor {anchor.anchored_on.isoformat()} sha256:{anchor.digest} (2 issues) ok" \
        in result.output
    assert "and 1 anchors" in result.output
    listed = api.get("/api/v1/history/anchors", user=world.admin)
    assert listed.status_code == 200
    assert listed.get_json()[0]["digest"] == anchor.digest
    assert listed.get_json()[0]["issue_count"] == 2
    assert api.get("/api/v1/history/anchors", user=world.supervisor).status_code == 403


def test_a_rewritten_chain_is_caught_by_the_anchor(world, make, runner):
    """Whoever rewrites a whole chain consistently (hashes and head) still differs from the
    anchor recorded before."""
    issue = _closed_issue(world, make)
    db.session.commit()
    assert runner.invoke(args=["anchor"]).exit_code == 0
    last = _events(issue.id)[-1]
    forged = history.event_hash(last.prev_hash, issue.id, last.kind, last.actor_id,
                                last.actor_label, last.at, last.changes, "未核查")
    with triggers_lifted() as session:
        session.execute(text("UPDATE events SET comment = '未核查', hash = :h WHERE id = :e"),
                        {"h": forged, "e": last.id})
        session.execute(text("UPDATE issues SET history_hash = :h WHERE id = :i"),
                        {"h": forged, "i": issue.id})
        session.commit()
        result = runner.invoke(args=["verify-history"])
    assert result.exit_code == 1
    assert "MISMATCH" in result.output and "do not match the chains" in result.output


def test_the_anchor_is_mailed_to_the_admins_once(world, make, runner, smtp):
    _closed_issue(world, make)
    db.session.commit()
    first = runner.invoke(args=["anchor"])
    second = runner.invoke(args=["anchor"])
    mails = smtp.to("admin@example.gov.cn")
    assert first.exit_code == 0 and "mailed to 1 admin(s)" in first.output
    assert second.exit_code == 0 and len(mails) == 1
    anchor = db.session.scalars(select(HistoryAnchor)).one()
    body = text_of(mails[0])
    assert anchor.digest in body and anchor.anchored_on.isoformat() in body
    assert "verify-history" in body and "历史锚点" in str(mails[0]["Subject"])


def test_the_summary_spreadsheet_prints_the_latest_anchor(world, make, runner, api):
    _closed_issue(world, make)
    db.session.commit()
    runner.invoke(args=["anchor"])
    anchor = db.session.scalars(select(HistoryAnchor)).one()
    got = api.get(f"/api/v1/reports/summary?campaign_id={world.campaign.id}&format=xlsx",
                  user=world.supervisor)
    assert got.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(got.data)).active
    cells = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert any(anchor.digest in c and anchor.anchored_on.isoformat() in c for c in cells)
    assert anchor.digest in ws.oddFooter.center.text


# --- the closure record ------------------------------------------------------------------


def test_the_closure_record_of_a_closed_issue(client, world, make):
    issue = _closed_issue(world, make)
    close = _events(issue.id)[-1]
    login(client, "off")
    page = client.get(f"/issues/{issue.id}")
    assert f'/issues/{issue.id}/closure' in page.text
    record = client.get(f"/issues/{issue.id}/closure")
    assert record.status_code == 200
    html = record.text
    assert "<script" not in html and "销号审批表" in html
    assert issue.title in html and "窗口授权不到位" in html and "开办培训班" in html
    assert hashlib.sha256(b"rectified").hexdigest() in html and "整改证据0.txt" in html
    submitted = html[html.index('data-testid="closure-submitted"'):][:200]
    verified = html[html.index('data-testid="closure-verified"'):][:200]
    assert "才让" in submitted and "周督查" in verified
    assert close.hash in html
    assert "closure.css" in html
    css_resp = client.get("/static/closure.css")
    css = css_resp.get_data(as_text=True)
    css_resp.close()
    assert "size: A4" in css and "@media print" in css


def test_the_closure_record_lists_the_extensions(client, world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress", evidence=1)
    ext = extensions.request_extension(issue, world.officer, date(2019, 3, 7), "牧区路远")
    extensions.decide_extension(ext, world.supervisor, "approve", "同意")
    issues.transition(issue, world.officer, "submit")
    issues.transition(issue, world.county_supervisor, "close")
    db.session.commit()
    login(client, "zhou")
    html = client.get(f"/issues/{issue.id}/closure").text
    table = html[html.index('data-testid="closure-extensions"'):]
    assert "牧区路远" in table and "2019年3月7日" in table and "同意" in table


def test_an_open_issue_has_no_closure_record(app, client, world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    assert client.get(f"/issues/{issue.id}/closure").status_code == 409
    outsider = page_client(app)
    login(outsider, "jzreg")
    assert outsider.get(f"/issues/{issue.id}/closure").status_code == 404


# --- the migration -----------------------------------------------------------------------


def _migration() -> Any:
    path = os.path.join(os.path.dirname(__file__), "..", "migrations", "versions",
                        "0006_trust.py")
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_hashes_as_the_application_does(world, make):
    """The migration writes its own copy of the canonical serialisation: the same bytes."""
    issue = _closed_issue(world, make)
    migration = _migration()
    for e in _events(issue.id):
        assert migration._hash(e.prev_hash, e) == e.hash


def test_the_migration_chains_existing_events_in_order(app, world, make):
    """Events recorded before the chain existed get theirs in the migration, in order."""
    issue = _closed_issue(world, make)
    iid = issue.id
    with triggers_lifted() as session:
        session.execute(text("UPDATE events SET prev_hash = NULL, hash = 'x'"))
        session.execute(text("UPDATE issues SET history_hash = NULL, submitted_by_id = NULL"))
        session.commit()
        _migration()._build_chains(session.connection())
        session.commit()
    assert history.verify().broken is None
    got = db.session.get(Issue, iid)
    assert got is not None and got.submitted_by_id == world.officer.id
    assert got.history_hash == _events(iid)[-1].hash


def test_anchor_of_a_past_day_is_its_own(world, make):
    _closed_issue(world, make)
    anchor, created = history.record_anchor(date.today() - timedelta(days=3))
    db.session.commit()
    assert created and anchor.issue_count == 1
    assert history.verify().ok
