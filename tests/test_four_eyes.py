"""Four eyes (SPEC §3), the queues (SPEC §6) and the kept deadline (SPEC §4).

Each rule at the service level, then through the API and the pages; the Python rule and its
SQL twin are held to the same answers over every user and issue of a small world.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.pages import csrf_token, login, post_form
from tracker.errors import Conflict, Forbidden
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.deadlines import service as extensions
from tracker.issues.models import Evidence, Extension, Issue
from tracker.owners.models import User


def _own_work_reassigned(world: Any, make: Any) -> Issue:
    """Finding 5 of the hardening issue: a supervisor owns an issue, uploads its evidence and
    submits it, then hands the issue to an officer."""
    issue = make.issue(world.centre, world.county_supervisor, world.campaign, world.category)
    make.evidence(issue)
    issue.evidence_count  # noqa: B018 - loaded in this transaction
    db.session.flush()
    issues.transition(issue, world.county_supervisor, "submit")
    issues.update_issue(issue, world.registrar, {"owner_id": world.officer.id})
    db.session.commit()
    return issue


# --- service level -----------------------------------------------------------------------


def test_reassigning_the_owner_does_not_make_the_submitter_a_verifier(world, make):
    issue = _own_work_reassigned(world, make)
    assert issue.owner_id == world.officer.id
    with pytest.raises(Forbidden) as exc:
        issues.transition(issue, world.county_supervisor, "close")
    assert exc.value.reason == "verifier_not_independent"
    # Someone independent closes it.
    issues.transition(issue, world.supervisor, "close", "核查属实")
    assert issue.status == "closed"


def test_an_uploader_of_attached_evidence_cannot_close(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")
    make.evidence(issue)
    issue.evidence_count += 0
    db.session.flush()
    ev = db.session.scalars(select(Evidence).where(
        Evidence.issue_id == issue.id)).one()
    ev.uploaded_by_id = world.supervisor.id
    db.session.flush()
    issues.transition(issue, world.officer, "submit")
    with pytest.raises(Forbidden) as exc:
        issues.transition(issue, world.supervisor, "close")
    assert exc.value.reason == "verifier_not_independent"
    assert "佐证材料" in str(exc.value.message)  # rendered in the reader's language
    assert issues.close_refusal(world.county_supervisor, issue) is None


def test_the_owner_still_cannot_close(world, make):
    issue = make.issue(world.centre, world.county_supervisor, world.campaign, world.category,
                       evidence=1)
    issues.transition(issue, world.registrar, "submit")
    with pytest.raises(Forbidden) as exc:
        issues.transition(issue, world.county_supervisor, "close")
    assert exc.value.reason == "owner_cannot_verify"


def test_the_requester_cannot_decide_their_own_extension(world, make):
    issue = make.issue(world.centre, world.county_supervisor, world.campaign, world.category)
    issues.update_issue(issue, world.registrar, {"owner_id": world.officer.id})
    request = extensions.request_extension(issue, world.county_supervisor,
                                           issue.due_on.replace(year=2019, month=6), "牧区路远")
    with pytest.raises(Forbidden) as exc:
        extensions.decide_extension(request, world.county_supervisor, "approve")
    assert exc.value.reason == "decider_not_independent"
    with pytest.raises(Forbidden) as exc:
        extensions.decide_extension(request, world.officer, "approve")
    assert exc.value.reason == "supervisor_only"
    extensions.decide_extension(request, world.supervisor, "approve")
    assert issue.due_on.month == 6


def test_the_owner_cannot_decide_an_extension(world, make):
    issue = make.issue(world.centre, world.county_supervisor, world.campaign, world.category)
    request = extensions.request_extension(issue, world.registrar,
                                           issue.due_on.replace(month=3), "等待设备")
    with pytest.raises(Forbidden) as exc:
        extensions.decide_extension(request, world.county_supervisor, "approve")
    assert exc.value.reason == "owner_cannot_verify"


def test_python_rule_and_sql_clause_agree(world, make):
    """``close_refusal``/``may_close_clause`` and ``decide_refusal``/``may_decide_clause`` give
    the same answer for every user and issue (the queues use the SQL twin)."""
    people = [world.admin, world.supervisor, world.county_supervisor, world.registrar,
              world.officer, world.other_supervisor]
    built = []
    for owner in (world.officer, world.county_supervisor):
        for submitter in {owner, world.county_supervisor, world.registrar}:
            for uploader in (None, world.supervisor, world.county_supervisor):
                issue = make.issue(world.centre, owner, world.campaign, world.category,
                                   evidence=1, status="in_progress")
                if uploader is not None:
                    ev = db.session.scalars(select(Evidence).where(
                        Evidence.issue_id == issue.id)).first()
                    ev.uploaded_by_id = uploader.id
                issues.transition(issue, submitter, "submit")
                extensions.request_extension(issue, submitter,
                                             issue.due_on.replace(month=5), "需要更多时间")
                built.append(issue)
    db.session.commit()
    for user in people:
        by_sql = set(db.session.scalars(
            select(Issue.id).where(Issue.id.in_([i.id for i in built]),
                                   issues.may_close_clause(user))))
        by_python = {i.id for i in built if issues.close_refusal(user, i) is None}
        assert by_sql == by_python, user.username
        queue = {x.issue_id for x in db.session.scalars(issues.awaiting_decision(user))}
        by_python = {i.id for i in built if issues.decide_refusal(
            user, i, extensions.pending_extension(i)) is None}  # type: ignore[arg-type]
        assert queue == by_python, user.username
    # The rule bites: the prefecture supervisor may close some, not all.
    closable = {i.id for i in built if issues.close_refusal(world.supervisor, i) is None}
    assert 0 < len(closable) < len(built)


def test_the_deadline_moves_only_through_an_extension(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    first = issue.due_on
    with pytest.raises(Conflict) as exc:
        issues.update_issue(issue, world.registrar, {"due_on": first.replace(year=2027)})
    assert exc.value.reason == "use_extension"
    db.session.rollback()
    issue = db.session.get(Issue, issue.id)
    assert issue is not None and issue.due_on == first
    # Sending the date unchanged, and changing the start and other fields, is fine.
    issues.update_issue(issue, world.registrar, {"due_on": first,
                                                 "starts_on": first.replace(year=2018, month=8),
                                                 "measures": "增设导办台"})
    assert issue.starts_on.month == 8 and issue.original_due_on == first


# --- the API ------------------------------------------------------------------------------


def test_api_refuses_the_reassigned_submitter_as_verifier(world, make, api):
    issue = _own_work_reassigned(world, make)
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.county_supervisor,
                    json={"action": "close", "comment": ""})
    assert resp.status_code == 403
    body = resp.get_json()
    assert body["reason"] == "verifier_not_independent"
    assert "其他督查人员" in body["message"]


def test_api_refuses_the_requester_as_decider(world, make, api):
    issue = make.issue(world.centre, world.county_supervisor, world.campaign, world.category)
    issues.update_issue(issue, world.registrar, {"owner_id": world.officer.id})
    request = extensions.request_extension(issue, world.county_supervisor,
                                           issue.due_on.replace(month=6), "牧区路远")
    db.session.commit()
    resp = api.post(f"/api/v1/issues/{issue.id}/extensions/{request.id}/decision",
                    user=world.county_supervisor, json={"decision": "approve"})
    assert resp.status_code == 403 and resp.get_json()["reason"] == "decider_not_independent"


def test_api_patch_of_due_on_is_409_use_extension(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar,
                     json={"due_on": "2027-06-30"})
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["reason"] == "use_extension" and "due_on" in body["errors"]
    assert api.get(f"/api/v1/issues/{issue.id}", user=world.registrar).get_json()[
        "due_on"] == "2019-01-07"
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar,
                     json={"due_on": "2019-01-07", "starts_on": "2018-07-10"})
    assert resp.status_code == 200 and resp.get_json()["starts_on"] == "2018-07-10"


def test_awaiting_verification_lists_what_the_caller_may_close(world, make, api):
    mine = _own_work_reassigned(world, make)  # submitted by madosup
    theirs = make.issue(world.centre, world.officer, world.campaign, world.category,
                        status="submitted")
    make.issue(world.centre, world.officer, world.campaign, world.category,
               status="in_progress", evidence=1)
    other = make.issue(world.other_centre, world.other_officer, world.campaign,
                       world.category, status="submitted")
    ids = {
        who: [i["id"] for i in api.get("/api/v1/issues?awaiting=verification",
                                      user=who).get_json()]
        for who in ("madosup", "zhou", "off", "jzsup")
    }
    assert ids["madosup"] == [theirs.id]
    assert sorted(ids["zhou"]) == sorted([mine.id, theirs.id, other.id])
    assert ids["off"] == [] and ids["jzsup"] == [other.id]
    resp = api.get("/api/v1/issues?awaiting=everything", user="zhou")
    assert resp.status_code == 422


def test_pending_extensions_queue_across_issues(world, make, api):
    a = make.issue(world.centre, world.officer, world.campaign, world.category)
    b = make.issue(world.centre, world.officer, world.campaign, world.category)
    c = make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    xa = extensions.request_extension(a, world.officer, a.due_on.replace(month=4), "等待设备")
    xb = extensions.request_extension(b, world.county_supervisor, b.due_on.replace(month=4),
                                      "协调部门")
    xc = extensions.request_extension(c, world.other_officer, c.due_on.replace(month=4), "路远")
    db.session.commit()
    queue = {who: [x["id"] for x in api.get("/api/v1/extensions?status=pending",
                                          user=who).get_json()]
             for who in ("madosup", "zhou", "off")}
    assert queue["madosup"] == [xa.id]  # not xb: madosup asked for it
    assert queue["zhou"] == [xa.id, xb.id, xc.id]
    assert queue["off"] == []
    extensions.decide_extension(db.session.get(Extension, xa.id), world.supervisor, "approve")
    db.session.commit()
    assert [x["id"] for x in api.get("/api/v1/extensions", user="zhou").get_json()] == [
        xb.id, xc.id]
    assert api.get("/api/v1/extensions?status=approved", user="zhou").status_code == 422


def test_queues_are_documented_in_openapi(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/issues"]["get"]["parameters"]}
    assert params["awaiting"]["schema"]["enum"] == ["verification"]
    assert "/api/v1/extensions" in doc["paths"]


# --- the pages ---------------------------------------------------------------------------


def test_supervisor_home_opens_on_the_queues(client, world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    other = make.issue(world.centre, world.officer, world.campaign, world.category)
    extensions.request_extension(other, world.officer, other.due_on.replace(month=5), "路远")
    db.session.commit()
    login(client, "zhou")
    page = client.get("/").text
    table = page.index('data-testid="summary-table"')
    assert page.index("待我验收") < page.index("待我审批") < table
    verify = page[page.index('data-testid="verify-queue"'):page.index('data-testid="decide-queue"')]
    assert re.search(r'data-testid="verify-count">1<', verify)
    assert issue.title in verify and "玛多县" in verify and "才让" in verify
    decide = page[page.index('data-testid="decide-queue"'):]
    assert re.search(r'data-testid="decide-count">1<', decide) and other.title in decide


def test_issue_page_says_why_the_uploader_may_not_close(client, world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress", evidence=1)
    ev = db.session.scalars(select(Evidence).where(
        Evidence.issue_id == issue.id)).one()
    ev.uploaded_by_id = world.supervisor.id
    issues.transition(issue, world.officer, "submit")
    db.session.commit()
    login(client, "zhou")
    page = client.get(f"/issues/{issue.id}").text
    assert 'data-action="close"' not in page and 'data-action="reject"' in page
    assert "您上传过该问题的佐证材料，须由其他督查人员验收。" in page
    # Posting the close anyway is refused with the same words.
    resp = post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/transition",
                     {"action": "close", "comment": ""})
    assert resp.status_code == 403  # the issue page again, saying why
    assert "须由其他督查人员验收" in resp.text
    assert db.session.get(Issue, issue.id).status == "submitted"  # type: ignore[union-attr]


def test_issue_page_tells_the_officer_to_upload_before_submitting(client, world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    page = client.get(f"/issues/{issue.id}").text
    assert 'data-action="submit"' not in page
    assert "提交验收前请先上传佐证材料。" in page


def test_edit_page_keeps_the_deadline_and_offers_the_extension(client, world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "reg")
    page = client.get(f"/issues/{issue.id}/edit").text
    kept = page[page.index('data-testid="due-on-kept"'):]
    assert "2019年1月7日" in kept[:600] and 'name="due_on"' not in page
    assert 'data-testid="edit-extension"' in page and f"/issues/{issue.id}/extensions" in page
    form = {"campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "owner_id": world.officer.id,
            "title": issue.title, "cause": "窗口授权不到位", "measures": "增设导办台",
            "description": "", "starts_on": "2018-07-09", "version": str(issue.version),
            "csrf_token": csrf_token(page)}
    # A forged due date is refused with a clear message, nothing saved.
    resp = client.post(f"/issues/{issue.id}/edit", data={**form, "due_on": "2027-06-30"})
    assert resp.status_code == 422
    assert "完成时限只能通过批准的延期变更" in resp.text
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).measures != "增设导办台"  # type: ignore[union-attr]
    # Without it (as the page posts), the other fields save.
    resp = client.post(f"/issues/{issue.id}/edit", data=form)
    assert resp.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Issue, issue.id)
    assert saved is not None and saved.measures == "增设导办台"
    assert saved.starts_on.day == 9 and saved.due_on.isoformat() == "2019-01-07"


def test_reassigned_owner_supervisor_sees_no_close_on_the_page(client, world, make):
    issue = _own_work_reassigned(world, make)
    login(client, "madosup")
    page = client.get(f"/issues/{issue.id}").text
    assert 'data-action="close"' not in page
    assert "该问题由您提交验收，须由其他督查人员验收。" in page
    assert db.session.scalar(select(User.id).where(User.username == "madosup"))
