"""Deadline extensions (延期): requests, decisions, their history, and the API."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tracker.errors import Conflict, Forbidden, StaleVersion, ValidationError
from tracker.extensions import db
from tracker.issues.deadlines import service as ext_service
from tracker.issues.models import Event


@pytest.fixture
def issue(world, make):
    """An open issue of the county centre owned by the officer, due 2019-01-07."""
    return make.issue(world.centre, world.officer, world.campaign, world.category)


def kinds(issue):
    return [e.kind for e in db.session.scalars(
        select(Event).where(Event.issue_id == issue.id).order_by(Event.id))]


# --- service ---------------------------------------------------------------------------


def test_approved_extension_moves_due_on_and_keeps_the_original(world, issue):
    as_of = date(2019, 3, 1)
    assert issue.days_overdue_on(as_of) == 53
    ext = ext_service.request_extension(issue, world.officer, date(2019, 6, 30),
                                        "牧区路远,材料未齐")
    assert ext.status == "pending" and ext.previous_due_on == date(2019, 1, 7)
    ext_service.decide_extension(ext, world.supervisor, "approve", "同意延期")
    db.session.commit()
    assert issue.due_on == date(2019, 6, 30)
    assert issue.original_due_on == date(2019, 1, 7)
    assert issue.extension_count == 1
    assert ext.status == "approved" and ext.decided_by_id == world.supervisor.id
    assert ext.decided_at is not None and ext.decision_comment == "同意延期"
    # Overdue follows the new date.
    assert not issue.is_overdue_on(as_of)
    assert issue.days_overdue_on(date(2019, 7, 3)) == 3
    assert kinds(issue) == ["created", "extension_requested", "extension_approved"]
    approved = db.session.scalars(select(Event).where(Event.kind == "extension_approved")).one()
    assert approved.changes["due_on"] == ["2019-01-07", "2019-06-30"]
    assert approved.changes["extension_count"] == [0, 1]
    assert approved.actor_id == world.supervisor.id and approved.comment == "同意延期"
    requested = db.session.scalars(select(Event).where(Event.kind == "extension_requested")).one()
    assert requested.changes["requested_due_on"] == [None, "2019-06-30"]
    assert requested.comment == "牧区路远,材料未齐" and requested.actor_id == world.officer.id


def test_a_second_approval_keeps_the_first_original_date(world, issue):
    for new, n in ((date(2019, 3, 31), 1), (date(2019, 6, 30), 2)):
        ext = ext_service.request_extension(issue, world.officer, new, "仍需时间")
        ext_service.decide_extension(ext, world.supervisor, "approve", "")
        assert issue.extension_count == n
    assert (issue.due_on, issue.original_due_on) == (date(2019, 6, 30), date(2019, 1, 7))


def test_refused_extension_changes_nothing_but_its_status(world, issue):
    ext = ext_service.request_extension(issue, world.officer, date(2019, 6, 30), "人手不足")
    with pytest.raises(ValidationError) as exc:
        ext_service.decide_extension(ext, world.supervisor, "refuse", " ")
    assert "comment" in exc.value.errors
    ext_service.decide_extension(ext, world.supervisor, "refuse", "理由不充分")
    assert ext.status == "refused"
    assert issue.due_on == date(2019, 1, 7) and issue.extension_count == 0
    assert kinds(issue)[-1] == "extension_refused"
    # Once refused, a new request may be made.
    again = ext_service.request_extension(issue, world.officer, date(2019, 3, 1), "再次申请")
    assert [e.id for e in ext_service.list_extensions(issue)] == [ext.id, again.id]


def test_owner_supervisor_cannot_decide_their_own_extension(world, make):
    own = make.issue(world.county, world.county_supervisor, world.campaign, world.category)
    ext = ext_service.request_extension(own, world.county_supervisor, date(2019, 6, 30), "需时间")
    with pytest.raises(Forbidden) as exc:
        ext_service.decide_extension(ext, world.county_supervisor, "approve", "")
    assert exc.value.reason == "owner_cannot_verify"
    ext_service.decide_extension(ext, world.supervisor, "approve", "")
    assert own.due_on == date(2019, 6, 30)


def test_decisions_on_a_decided_request_are_refused(world, issue):
    ext = ext_service.request_extension(issue, world.officer, date(2019, 6, 30), "需时间")
    ext_service.decide_extension(ext, world.supervisor, "approve", "")
    for decision in ("approve", "refuse"):
        with pytest.raises(Conflict) as exc:
            ext_service.decide_extension(ext, world.admin, decision, "再议")
        assert exc.value.reason == "extension_not_pending"
    assert issue.extension_count == 1


def test_one_pending_request_at_a_time(world, issue):
    ext_service.request_extension(issue, world.officer, date(2019, 6, 30), "需时间")
    with pytest.raises(Conflict) as exc:
        ext_service.request_extension(issue, world.registrar, date(2019, 5, 1), "再申请")
    assert exc.value.reason == "extension_pending"


def test_request_rules(world, make, issue):
    with pytest.raises(ValidationError) as exc:
        ext_service.request_extension(issue, world.officer, date(2018, 7, 7), "")
    assert set(exc.value.errors) == {"requested_due_on", "reason"}
    with pytest.raises(ValidationError):
        ext_service.request_extension(issue, world.officer, date(2019, 1, 7), "same date")
    with pytest.raises(Forbidden):
        ext_service.request_extension(issue, world.officer2, date(2019, 6, 30), "not mine")
    with pytest.raises(StaleVersion):
        ext_service.request_extension(issue, world.officer, date(2019, 6, 30), "x", if_match="99")
    closed = make.issue(world.centre, world.officer, world.campaign, world.category,
                        status="closed")
    with pytest.raises(Conflict) as exc:
        ext_service.request_extension(closed, world.officer, date(2019, 6, 30), "太晚")
    assert exc.value.reason == "issue_closed"


def test_only_supervisors_in_scope_decide(world, issue):
    ext = ext_service.request_extension(issue, world.officer, date(2019, 6, 30), "需时间")
    for user in (world.registrar, world.officer2, world.other_supervisor):
        with pytest.raises(Forbidden):
            ext_service.decide_extension(ext, user, "approve", "")
    assert ext.status == "pending"


# --- API -------------------------------------------------------------------------------


def url(issue, tail=""):
    return f"/api/v1/issues/{issue.id}/extensions{tail}"


def test_api_request_list_and_approve(api, world, issue):
    resp = api.post(url(issue), user=world.officer,
                    json={"requested_due_on": "2019-06-30", "reason": "牧区路远"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "pending" and body["requested_due_on"] == "2019-06-30"
    assert body["requested_by"] == world.officer.id and body["decided_by"] is None
    xid = body["id"]

    listed = api.get(url(issue), user=world.officer).get_json()
    assert [x["id"] for x in listed] == [xid]
    assert set(listed[0]) >= {"id", "requested_due_on", "reason", "status", "decided_by",
                              "decided_at"}

    resp = api.post(url(issue, f"/{xid}/decision"), user=world.supervisor,
                    json={"decision": "approve", "comment": "同意"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "approved" and body["decided_by"] == world.supervisor.id
    assert body["decided_at"].endswith("Z")
    db.session.refresh(issue)
    assert issue.due_on == date(2019, 6, 30) and issue.original_due_on == date(2019, 1, 7)
    shown = api.get(f"/api/v1/issues/{issue.id}", user=world.officer).get_json()
    assert (shown["due_on"], shown["original_due_on"]) == ("2019-06-30", "2019-01-07")
    history = api.get(f"/api/v1/issues/{issue.id}/events", user=world.officer).get_json()
    assert [e["kind"] for e in history][-2:] == ["extension_requested", "extension_approved"]

    resp = api.post(url(issue, f"/{xid}/decision"), user=world.supervisor,
                    json={"decision": "refuse", "comment": "改主意"})
    assert resp.status_code == 409 and resp.get_json()["reason"] == "extension_not_pending"


def test_api_refusal_and_its_comment(api, world, issue):
    xid = api.post(url(issue), user=world.registrar,
                   json={"requested_due_on": "2019-03-01", "reason": "人手不足"}).get_json()["id"]
    resp = api.post(url(issue, f"/{xid}/decision"), user=world.county_supervisor,
                    json={"decision": "refuse"})
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]
    resp = api.post(url(issue, f"/{xid}/decision"), user=world.county_supervisor,
                    json={"decision": "refuse", "comment": "理由不充分"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "refused"
    assert resp.get_json()["decision_comment"] == "理由不充分"


def test_api_permissions_and_order_of_refusals(api, world, make, issue):
    body = {"requested_due_on": "2019-06-30", "reason": "需时间"}
    assert api.post(url(issue), json=body).status_code == 401
    # Outside the read scope: 404, even with a bad body.
    assert api.post(url(issue), user=world.other_officer, json={}).status_code == 404
    assert api.get(url(issue), user=world.other_supervisor).status_code == 404
    # Readable (same home org) but not theirs to ask: 403 before the body is looked at.
    colleague = make.user("officer", world.centre)
    resp = api.post(url(issue), user=colleague, json={})
    assert resp.status_code == 403 and resp.get_json()["reason"] == "not_owner"
    assert api.get(url(issue), user=colleague).status_code == 200
    resp = api.post(url(issue), user=world.officer, json={"requested_due_on": "2018-07-01",
                                                          "reason": "需时间"})
    assert resp.status_code == 422 and "requested_due_on" in resp.get_json()["errors"]
    resp = api.post(url(issue), user=world.officer, json=body, headers={"If-Match": '"99"'})
    assert resp.status_code == 412
    xid = api.post(url(issue), user=world.officer, json=body).get_json()["id"]
    resp = api.post(url(issue), user=world.officer, json=body)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "extension_pending"

    # Officers and registrars do not decide; an unknown request is 404.
    for user in (world.officer, world.registrar):
        resp = api.post(url(issue, f"/{xid}/decision"), user=user,
                        json={"decision": "approve"})
        assert resp.status_code == 403
    resp = api.post(url(issue, "/999999/decision"), user=world.supervisor,
                    json={"decision": "approve"})
    assert resp.status_code == 404
    resp = api.post(url(issue, f"/{xid}/decision"), user=world.supervisor,
                    json={"decision": "maybe"})
    assert resp.status_code == 422


def test_api_owner_supervisor_gets_403(api, world, make):
    own = make.issue(world.county, world.county_supervisor, world.campaign, world.category)
    xid = api.post(url(own), user=world.county_supervisor,
                   json={"requested_due_on": "2019-06-30", "reason": "需时间"}).get_json()["id"]
    resp = api.post(url(own, f"/{xid}/decision"), user=world.county_supervisor,
                    json={"decision": "approve"})
    assert resp.status_code == 403 and resp.get_json()["reason"] == "owner_cannot_verify"
