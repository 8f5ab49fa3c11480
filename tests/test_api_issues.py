"""The ledger API: categories, campaigns, issues, transitions, notes, history, errors."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tracker.extensions import db
from tracker.issues.models import Event, Issue
from tracker.timeutil import today


def _body(world, **kw):
    body = {
        "campaign_id": world.campaign.id,
        "org_id": world.centre.id,
        "category_id": world.category.id,
        "title": "办事指引不清楚",
        "description": "部分窗口未公示办事指南",
        "cause": "制度执行不到位",
        "measures": "编制一次性告知单",
        "owner_id": world.officer.id,
        "starts_on": "2018-07-07",
        "due_on": "2019-01-07",
    }
    body.update(kw)
    return body


# --- categories and campaigns --------------------------------------------------------------


def test_categories_listed_and_created_by_admin(world, api):
    listed = api.get("/api/v1/categories", user=world.officer)
    assert [c["code"] for c in listed.get_json()] == ["C1", "C2"]
    resp = api.post("/api/v1/categories", user=world.admin,
                    json={"code": "C3", "name": "办事指引不清楚,办理事项难搞懂"})
    assert resp.status_code == 201 and resp.get_json()["code"] == "C3"
    assert api.post("/api/v1/categories", user=world.supervisor,
                    json={"code": "C4", "name": "x"}).status_code == 403
    dup = api.post("/api/v1/categories", user=world.admin, json={"code": "C1", "name": "y"})
    assert dup.status_code == 409


def test_campaign_with_policy(world, api):
    resp = api.post("/api/v1/campaigns", user=world.admin,
                    json={"title": "2019年整改", "reference": "果行公〔2019〕3号",
                          "org_id": world.prefecture.id, "starts_on": "2019-03-01",
                          "remind_days_before": [5, 2, 0], "overdue_repeat_days": 3,
                          "escalate_after_days": 1})
    assert resp.status_code == 201
    camp = resp.get_json()
    assert camp["remind_days_before"] == [5, 2, 0] and camp["overdue_repeat_days"] == 3
    patched = api.patch(f"/api/v1/campaigns/{camp['id']}", user=world.admin,
                        json={"remind_days_before": None, "title": "2019年自查整改"})
    assert patched.status_code == 200
    assert patched.get_json()["remind_days_before"] is None
    got = api.get(f"/api/v1/campaigns/{camp['id']}", user=world.other_officer)
    assert got.get_json()["title"] == "2019年自查整改"


def test_campaign_policy_is_validated(world, api):
    resp = api.post("/api/v1/campaigns", user=world.admin,
                    json={"title": "t", "org_id": world.prefecture.id,
                          "starts_on": "2019-03-01", "remind_days_before": [3, 3]})
    assert resp.status_code == 422
    assert "remind_days_before" in resp.get_json()["errors"]
    neg = api.post("/api/v1/campaigns", user=world.admin,
                   json={"title": "t", "org_id": world.prefecture.id,
                         "starts_on": "2019-03-01", "remind_days_before": [-1]})
    assert neg.status_code == 422


def test_campaign_writes_are_admin_only(world, api):
    resp = api.patch(f"/api/v1/campaigns/{world.campaign.id}", user=world.supervisor,
                     json={"title": "x"})
    assert resp.status_code == 403
    assert api.patch("/api/v1/campaigns/99999", user=world.supervisor,
                     json={"title": "x"}).status_code == 404


# --- registering, reading, editing ------------------------------------------------------------


def test_register_answers_201_with_location_and_etag(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar, json=_body(world))
    assert resp.status_code == 201
    issue = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/v1/issues/{issue['id']}")
    assert resp.headers["ETag"] == '"1"'
    assert issue["status"] == "open" and issue["original_due_on"] == "2019-01-07"
    assert issue["created_at"].endswith("Z") and issue["closed_at"] is None
    # Chinese travels as UTF-8, readable in curl, not as \u escapes.
    assert "办事指引不清楚".encode() in resp.data
    # Due in 2019 and still open: overdue today.
    assert issue["overdue"] is True
    assert issue["days_overdue"] == (today() - date(2019, 1, 7)).days


def test_register_due_before_start_is_422_and_changes_nothing(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar,
                    json=_body(world, due_on="2018-01-01"))
    assert resp.status_code == 422
    assert "due_on" in resp.get_json()["errors"]
    assert db.session.query(Issue).count() == 0


def test_register_out_of_scope_org_is_422(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar,
                    json=_body(world, org_id=world.other_centre.id,
                               owner_id=world.other_officer.id))
    assert resp.status_code == 422 and "org_id" in resp.get_json()["errors"]


def test_officer_cannot_register(world, api):
    resp = api.post("/api/v1/issues", user=world.officer, json=_body(world))
    assert resp.status_code == 403 and resp.get_json()["reason"] == "registrar_only"


def test_officer_is_refused_before_his_bad_body_is_read(world, api):
    # SPEC §3 order: 403 comes before 422.
    resp = api.post("/api/v1/issues", user=world.officer, json={"title": 5})
    assert resp.status_code == 403


def test_get_issue_has_etag_and_every_field(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.get(f"/api/v1/issues/{issue.id}", user=world.officer)
    assert resp.status_code == 200 and resp.headers["ETag"] == '"1"'
    fields = set(resp.get_json())
    assert {"id", "campaign_id", "org_id", "category_id", "title", "description", "cause",
            "measures", "owner_id", "starts_on", "due_on", "original_due_on", "status",
            "overdue", "days_overdue", "version", "created_at", "updated_at",
            "closed_at"} <= fields


def test_issue_outside_scope_is_404(world, make, api):
    issue = make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    resp = api.get(f"/api/v1/issues/{issue.id}", user=world.registrar)
    assert resp.status_code == 404 and resp.get_json()["reason"] == "not_found"


def test_patch_records_before_and_after(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar,
                     json={"starts_on": "2018-07-09", "measures": "增设导办台"},
                     headers={"If-Match": '"1"'})
    assert resp.status_code == 200, resp.get_json()
    assert resp.headers["ETag"] == '"2"' and resp.get_json()["starts_on"] == "2018-07-09"
    events = api.get(f"/api/v1/issues/{issue.id}/events", user=world.officer).get_json()
    assert [e["kind"] for e in events] == ["created", "updated"]
    assert events[1]["changes"]["starts_on"] == ["2018-07-07", "2018-07-09"]
    assert events[1]["actor_id"] == world.registrar.id and events[1]["at"].endswith("Z")


def test_stale_if_match_is_412_and_changes_nothing(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar, json={"title": "新标题"})
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar,
                     json={"title": "另一个"}, headers={"If-Match": "1"})
    assert resp.status_code == 412 and resp.get_json()["reason"] == "stale_version"
    assert api.get(f"/api/v1/issues/{issue.id}",
                   user=world.registrar).get_json()["title"] == "新标题"


def test_officer_cannot_edit_fields(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.officer, json={"title": "x"})
    assert resp.status_code == 403


def test_closed_issue_is_read_only(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="closed")
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar, json={"title": "x"})
    assert resp.status_code == 409 and resp.get_json()["reason"] == "issue_closed"
    note = api.post(f"/api/v1/issues/{issue.id}/notes", user=world.officer,
                    json={"comment": "补充"})
    assert note.status_code == 409


# --- transitions ------------------------------------------------------------------------------


def test_lifecycle_through_the_api(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    url = f"/api/v1/issues/{issue.id}/transitions"
    started = api.post(url, user=world.officer, json={"action": "start"})
    assert started.status_code == 200 and started.get_json()["status"] == "in_progress"
    refused = api.post(url, user=world.officer, json={"action": "submit"})
    assert refused.status_code == 409 and refused.get_json()["reason"] == "evidence_required"
    make.evidence(issue)
    db.session.commit()
    submitted = api.post(url, user=world.officer, json={"action": "submit"})
    assert submitted.get_json()["status"] == "submitted"
    own = api.post(url, user=world.officer, json={"action": "close"})
    assert own.status_code == 403
    closed = api.post(url, user=world.supervisor, json={"action": "close", "comment": "核查属实"})
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed" and body["closed_at"].endswith("Z")
    assert body["overdue"] is False and body["days_overdue"] == 0
    kinds = [e["kind"] for e in
             api.get(f"/api/v1/issues/{issue.id}/events", user=world.officer).get_json()]
    assert kinds == ["created", "start", "submit", "close"]


def test_owner_supervisor_cannot_verify(world, make, api):
    issue = make.issue(world.county, world.county_supervisor, world.campaign, world.category,
                       status="submitted")
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.county_supervisor,
                    json={"action": "close"})
    assert resp.status_code == 403 and resp.get_json()["reason"] == "owner_cannot_verify"


def test_invalid_transition_is_409(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.supervisor,
                    json={"action": "reject", "comment": "不符合"})
    assert resp.status_code == 409 and resp.get_json()["reason"] == "invalid_transition"


def test_reject_without_comment_is_422(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.supervisor,
                    json={"action": "reject"})
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]


def test_unknown_action_is_422(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.officer,
                    json={"action": "explode"})
    assert resp.status_code == 422 and "action" in resp.get_json()["errors"]["json"]


def test_transition_with_stale_version_is_412(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.officer,
                    json={"action": "start"}, headers={"If-Match": '"7"'})
    assert resp.status_code == 412
    assert db.session.get(Issue, issue.id).status == "open"


# --- notes ------------------------------------------------------------------------------------


def test_owner_adds_a_progress_note(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.post(f"/api/v1/issues/{issue.id}/notes", user=world.officer,
                    json={"comment": "已编制告知单初稿"})
    assert resp.status_code == 201
    assert resp.get_json()["kind"] == "note"
    assert resp.get_json()["comment"] == "已编制告知单初稿"
    assert db.session.query(Event).filter_by(issue_id=issue.id, kind="note").count() == 1


def test_blank_note_is_422(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.post(f"/api/v1/issues/{issue.id}/notes", user=world.officer,
                    json={"comment": "   "})
    assert resp.status_code == 422


def test_officer_cannot_note_a_colleagues_issue_outside_his_org(world, make, api):
    issue = make.issue(world.department, world.officer2, world.campaign, world.category)
    # The centre officer cannot even read an issue of the department below (own org only).
    resp = api.post(f"/api/v1/issues/{issue.id}/notes", user=world.officer,
                    json={"comment": "x"})
    assert resp.status_code == 404


# --- the list -------------------------------------------------------------------------------


def _ids(resp):
    assert resp.status_code == 200, resp.get_json()
    return [i["id"] for i in resp.get_json()]


def test_list_is_limited_to_read_scope(world, make, api):
    mine = make.issue(world.centre, world.officer, world.campaign, world.category)
    dept = make.issue(world.department, world.officer2, world.campaign, world.category)
    other = make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    assert set(_ids(api.get("/api/v1/issues", user=world.officer))) == {mine.id}
    assert set(_ids(api.get("/api/v1/issues", user=world.registrar))) == {mine.id, dept.id}
    assert set(_ids(api.get("/api/v1/issues", user=world.supervisor))) == {
        mine.id, dept.id, other.id}
    assert set(_ids(api.get("/api/v1/issues", user=world.other_registrar))) == {other.id}


def test_list_filters(world, make, api):
    soon = today() + timedelta(days=30)
    a = make.issue(world.centre, world.officer, world.campaign, world.category,
                   title="窗口排队时间长")
    b = make.issue(world.department, world.officer2, world.campaign, world.category2,
                   due_on=soon, measures="增设自助终端")
    c = make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
                   status="closed")
    sup = world.supervisor

    def ids(q):
        return set(_ids(api.get("/api/v1/issues?" + q, user=sup)))

    assert ids(f"org_id={world.county.id}") == {a.id, b.id}
    assert ids(f"org_id={world.department.id}") == {b.id}
    assert ids(f"category_id={world.category2.id}") == {b.id}
    assert ids(f"owner_id={world.officer.id}") == {a.id}
    assert ids(f"campaign_id={world.campaign.id}") == {a.id, b.id, c.id}
    assert ids("status=closed") == {c.id}
    assert ids("status=open&status=closed") == {a.id, b.id, c.id}
    assert ids("overdue=true") == {a.id}
    assert ids("overdue=false") == {b.id, c.id}
    assert ids(f"due_after={soon.isoformat()}") == {b.id}
    assert ids("due_before=2019-01-07") == {a.id, c.id}
    assert ids("q=自助终端") == {b.id}
    assert ids("q=排队") == {a.id}
    assert ids("q=100%") == set()


def test_list_sort_and_pagination(world, make, api):
    made = [make.issue(world.centre, world.officer, world.campaign, world.category,
                       due_on=date(2019, 1, 7) + timedelta(days=d)) for d in (3, 1, 2)]
    by_due = _ids(api.get("/api/v1/issues", user=world.registrar))
    assert by_due == [made[1].id, made[2].id, made[0].id]
    assert _ids(api.get("/api/v1/issues?sort=-due_on", user=world.registrar)) == by_due[::-1]
    assert _ids(api.get("/api/v1/issues?sort=-id", user=world.registrar)) == sorted(
        (i.id for i in made), reverse=True)
    page2 = api.get("/api/v1/issues?page=2&page_size=2", user=world.registrar)
    assert _ids(page2) == [made[0].id]
    assert json.loads(page2.headers["X-Pagination"]) == {
        "total": 3, "total_pages": 2, "page": 2, "page_size": 2}


def test_bad_list_parameters_are_422_by_location(world, api):
    for query in ("page_size=501", "page_size=-1", "page=0", "sort=owner", "status=lost",
                  "due_before=soon", "org_id=abc", "org_id=99999999999"):
        resp = api.get("/api/v1/issues?" + query, user=world.registrar)
        assert resp.status_code == 422, query
        assert "query" in resp.get_json()["errors"], query


# --- errors ------------------------------------------------------------------------------------


def test_malformed_json_is_400_json(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar, data="{not json",
                    content_type="application/json")
    assert resp.status_code == 400 and resp.is_json
    assert resp.get_json()["code"] == 400 and resp.get_json()["reason"] == "bad_request"


def test_non_json_body_is_415(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar, data="title=x",
                    content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415 and resp.get_json()["reason"] == "unsupported_media_type"


def test_wrong_types_are_422_naming_fields(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar,
                    json=_body(world, owner_id="zhou", due_on=20190107, title=["x"]))
    assert resp.status_code == 422
    assert {"owner_id", "due_on", "title"} <= set(resp.get_json()["errors"]["json"])


def test_json_array_body_is_422(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar, json=[1, 2])
    assert resp.status_code == 422 and resp.is_json


def test_nul_in_text_is_422(world, api):
    resp = api.post("/api/v1/issues", user=world.registrar, json=_body(world, title="a\x00b"))
    assert resp.status_code == 422


def test_unknown_route_under_api_is_json_404(world, api):
    resp = api.get("/api/v1/nothing-here", user=world.registrar)
    assert resp.status_code == 404 and resp.is_json and resp.get_json()["reason"] == "not_found"


def test_wrong_method_is_405_with_allow(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.delete(f"/api/v1/issues/{issue.id}", user=world.registrar)
    assert resp.status_code == 405 and resp.is_json
    assert "PATCH" in resp.headers["Allow"] and "GET" in resp.headers["Allow"]
    assert resp.get_json()["reason"] == "method_not_allowed"


def test_huge_id_in_path_is_404_not_500(world, api):
    resp = api.get("/api/v1/issues/99999999999", user=world.registrar)
    assert resp.status_code == 404 and resp.is_json


def test_openapi_documents_reason_and_string_pagination_header(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "reason" in doc["components"]["schemas"]["Error"]["properties"]
    header = doc["paths"]["/api/v1/issues"]["get"]["responses"]["200"]["headers"]
    assert header["X-Pagination"]["schema"] == {"type": "string"}


def test_csv_download_is_the_whole_filtered_ledger_in_scope(world, make, api):
    make.issue(world.centre, world.officer, world.campaign, world.category, title="窗口排队时间长")
    make.issue(world.centre, world.officer, world.campaign, world.category2, title="指引不清楚")
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
               title="久治县大厅管理差")
    resp = api.get(f"/api/v1/issues?format=csv&page_size=1&category_id={world.category.id}",
                   user=world.registrar)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8-sig")
    resp.close()
    # page_size does not cut a download; the filter and the read scope do.
    assert "窗口排队时间长" in text
    assert "指引不清楚" not in text and "久治县" not in text


def test_xlsx_download(world, make, api):
    make.issue(world.centre, world.officer, world.campaign, world.category, title="窗口排队时间长")
    resp = api.get("/api/v1/issues?format=xlsx", user=world.supervisor)
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.get_data()[:2] == b"PK"
    resp.close()


def test_if_match_accepts_quotes_weak_tags_and_star(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    url = f"/api/v1/issues/{issue.id}"
    assert api.patch(url, user=world.registrar, json={"cause": "一"},
                     headers={"If-Match": "1"}).status_code == 200
    assert api.patch(url, user=world.registrar, json={"cause": "二"},
                     headers={"If-Match": 'W/"2"'}).status_code == 200
    assert api.patch(url, user=world.registrar, json={"cause": "三"},
                     headers={"If-Match": "*"}).status_code == 200
    note = api.post(f"{url}/notes", user=world.officer, json={"comment": "进展"},
                    headers={"If-Match": '"1"'})
    assert note.status_code == 412


def test_page_past_the_end_is_empty_with_its_header(world, make, api):
    make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.get("/api/v1/issues?page=9", user=world.registrar)
    assert resp.status_code == 200 and resp.get_json() == []
    assert json.loads(resp.headers["X-Pagination"])["total"] == 1


def test_patch_without_changes_keeps_the_version(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar,
                     json={"title": issue.title})
    assert resp.status_code == 200 and resp.headers["ETag"] == '"1"'
    assert db.session.query(Event).filter_by(issue_id=issue.id).count() == 1
