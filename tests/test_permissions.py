"""The permission matrix of SPEC §3, driven through every API endpoint as every role.

Roles: ``admin``; ``sup`` the prefecture supervisor (zhou); ``reg`` the registrar and ``off``
the officer of 玛多县's centre (MD-ZX); ``out`` a registrar of another county (久治县, JZ-ZX).
Outside the read scope answers 404, readable but not allowed 403.

Each case builds what it needs (a fresh issue in the right state) so that cases never depend on
one another; one test per role runs them all and reports every mismatch at once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from tracker.extensions import db

ROLES = ("admin", "sup", "reg", "off", "out")


def _actor(world: Any, role: str) -> Any:
    return {
        "admin": world.admin,
        "sup": world.supervisor,
        "reg": world.registrar,
        "off": world.officer,
        "out": world.other_registrar,
    }[role]


@dataclass
class Case:
    """One request and the status each role must get."""

    name: str
    method: str
    build: Callable[[Any, Any], tuple[str, dict[str, Any]]]
    expected: tuple[int, int, int, int, int]  # admin, sup, reg, off, out


def _issue(make: Any, world: Any, where: str = "centre", status: str = "open",
           evidence: int = 0) -> Any:
    """A fresh issue: ``centre`` (owner: the officer), ``centre_reg`` (in the officer's own org,
    owned by the registrar), ``dept`` (below the officer's org) or ``other`` (other county)."""
    org, owner = {
        "centre": (world.centre, world.officer),
        "centre_reg": (world.centre, world.registrar),
        "dept": (world.department, world.officer2),
        "other": (world.other_centre, world.other_officer),
    }[where]
    return make.issue(org, owner, world.campaign, world.category, status=status,
                      evidence=evidence)


def _on(where: str, suffix: str = "", status: str = "open", body: Any = None,
        evidence: int = 0) -> Callable[[Any, Any], tuple[str, dict[str, Any]]]:
    def build(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
        issue = _issue(make, world, where, status, evidence)
        kw: dict[str, Any] = {}
        if body is not None:
            kw["json"] = body
        return f"/api/v1/issues/{issue.id}{suffix}", kw

    return build


def _fixed(path: str, body: Any = None) -> Callable[[Any, Any], tuple[str, dict[str, Any]]]:
    def build(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
        return path.format(w=world), ({"json": body} if body is not None else {})

    return build


def _register(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
    return "/api/v1/issues", {"json": {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "title": f"窗口设置不科学{next(_n)}",
        "owner_id": world.officer.id, "starts_on": "2018-07-07", "due_on": "2019-01-07",
    }}


def _counter() -> Any:
    n = 0
    while True:
        n += 1
        yield n


_n = _counter()


def _new_org(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
    return "/api/v1/orgs", {"json": {"code": f"N{next(_n)}", "name": "新窗口",
                                     "kind": "department", "parent_id": world.centre.id}}


def _new_user(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
    return "/api/v1/users", {"json": {"username": f"u{next(_n)}", "password": "long-enough-1",
                                      "role": "officer", "org_id": world.centre.id}}


def _new_category(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
    n = next(_n)
    return "/api/v1/categories", {"json": {"code": f"K{n}", "name": f"类别{n}"}}


def _new_campaign(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
    return "/api/v1/campaigns", {"json": {"title": "2019年整改", "org_id": world.prefecture.id,
                                          "starts_on": "2019-01-01"}}


OK, NEW = 200, 201
CASES: list[Case] = [
    # owners
    Case("list orgs", "GET", _fixed("/api/v1/orgs"), (OK, OK, OK, OK, OK)),
    Case("read org", "GET", _fixed("/api/v1/orgs/{w.other_centre.id}"), (OK, OK, OK, OK, OK)),
    Case("create org", "POST", _new_org, (NEW, 403, 403, 403, 403)),
    Case("change org", "PATCH", _fixed("/api/v1/orgs/{w.department.id}", {"name": "人社局窗口"}),
         (OK, 403, 403, 403, 403)),
    Case("list users", "GET", _fixed("/api/v1/users"), (OK, OK, OK, OK, OK)),
    Case("me", "GET", _fixed("/api/v1/users/me"), (OK, OK, OK, OK, OK)),
    Case("my own settings", "PATCH", _fixed("/api/v1/users/me", {"notify_mail": "daily"}),
         (OK, OK, OK, OK, OK)),
    Case("read user below", "GET", _fixed("/api/v1/users/{w.officer2.id}"),
         (OK, OK, OK, OK, 404)),
    Case("read user of other county", "GET", _fixed("/api/v1/users/{w.other_officer.id}"),
         (OK, OK, 404, 404, OK)),
    Case("create user", "POST", _new_user, (NEW, 403, 403, 403, 403)),
    Case("change user", "PATCH",
         _fixed("/api/v1/users/{w.officer2.id}", {"display_name": "卓玛(人社)"}),
         (OK, 403, 403, 403, 404)),
    Case("list categories", "GET", _fixed("/api/v1/categories"), (OK, OK, OK, OK, OK)),
    Case("create category", "POST", _new_category, (NEW, 403, 403, 403, 403)),
    Case("list campaigns", "GET", _fixed("/api/v1/campaigns"), (OK, OK, OK, OK, OK)),
    Case("read campaign", "GET", _fixed("/api/v1/campaigns/{w.campaign.id}"),
         (OK, OK, OK, OK, OK)),
    Case("create campaign", "POST", _new_campaign, (NEW, 403, 403, 403, 403)),
    Case("change campaign", "PATCH",
         _fixed("/api/v1/campaigns/{w.campaign.id}", {"overdue_repeat_days": 5}),
         (OK, 403, 403, 403, 403)),
    # the ledger
    Case("list issues", "GET", _fixed("/api/v1/issues"), (OK, OK, OK, OK, OK)),
    # The other county's registrar: the org is outside their scope, an invalid reference.
    Case("register issue", "POST", _register, (NEW, NEW, NEW, 403, 422)),
    Case("read own issue", "GET", _on("centre"), (OK, OK, OK, OK, 404)),
    Case("read issue of own org", "GET", _on("centre_reg"), (OK, OK, OK, OK, 404)),
    Case("read issue below own org", "GET", _on("dept"), (OK, OK, OK, 404, 404)),
    Case("read other county's issue", "GET", _on("other"), (OK, OK, 404, 404, OK)),
    Case("history", "GET", _on("centre", "/events"), (OK, OK, OK, OK, 404)),
    Case("edit fields", "PATCH", _on("centre", body={"measures": "设立导办台"}),
         (OK, OK, OK, 403, 404)),
    Case("note on own issue", "POST", _on("centre", "/notes", body={"comment": "进展"}),
         (NEW, NEW, NEW, NEW, 404)),
    Case("note on a colleague's issue", "POST",
         _on("centre_reg", "/notes", body={"comment": "进展"}), (NEW, NEW, NEW, 403, 404)),
    Case("start", "POST", _on("centre", "/transitions", body={"action": "start"}),
         (OK, OK, OK, OK, 404)),
    Case("start a colleague's issue", "POST",
         _on("centre_reg", "/transitions", body={"action": "start"}), (OK, OK, OK, 403, 404)),
    Case("submit", "POST",
         _on("centre", "/transitions", "in_progress", {"action": "submit"}, evidence=1),
         (OK, OK, OK, OK, 404)),
    Case("close", "POST", _on("centre", "/transitions", "submitted", {"action": "close"}),
         (OK, OK, 403, 403, 404)),
    Case("reject", "POST",
         _on("centre", "/transitions", "submitted", {"action": "reject", "comment": "证据不足"}),
         (OK, OK, 403, 403, 404)),
    Case("reopen", "POST",
         _on("centre", "/transitions", "closed", {"action": "reopen", "comment": "复查"}),
         (OK, OK, 403, 403, 404)),
]

def _extension_cases() -> list[Case]:
    """The teammates' evidence and extension endpoints, in the same matrix."""
    cases = [
        Case("list evidence", "GET", _on("centre", "/evidence", evidence=1),
             (OK, OK, OK, OK, 404)),
        Case("list extensions", "GET", _on("centre", "/extensions"), (OK, OK, OK, OK, 404)),
        Case("request extension", "POST",
             _on("centre", "/extensions",
                 body={"requested_due_on": "2019-06-30", "reason": "设备未到位"}),
             (NEW, NEW, NEW, NEW, 404)),
        Case("request extension on a colleague's issue", "POST",
             _on("centre_reg", "/extensions",
                 body={"requested_due_on": "2019-06-30", "reason": "设备未到位"}),
             (NEW, NEW, NEW, 403, 404)),
        Case("overdue report", "GET", _fixed("/api/v1/reports/overdue"),
             (OK, OK, OK, 403, OK)),
        Case("overdue report of another county", "GET",
             _fixed("/api/v1/reports/overdue?org_id={w.other_centre.id}"),
             (OK, OK, 404, 403, OK)),
        Case("summary report", "GET", _fixed("/api/v1/reports/summary?campaign_id={w.campaign.id}"),
             (OK, OK, OK, 403, OK)),
        Case("inbox", "GET", _fixed("/api/v1/notifications"), (OK, OK, OK, OK, OK)),
        Case("mark all my notices read", "POST", _fixed("/api/v1/notifications/read-all"),
             (OK, OK, OK, OK, OK)),
        # The queues: everyone may ask; each gets only what they may act on (maybe nothing).
        Case("issues awaiting my verification", "GET",
             _fixed("/api/v1/issues?awaiting=verification"), (OK, OK, OK, OK, OK)),
        Case("extensions awaiting my decision", "GET",
             _fixed("/api/v1/extensions?status=pending"), (OK, OK, OK, OK, OK)),
        Case("history anchors", "GET", _fixed("/api/v1/history/anchors"),
             (OK, 403, 403, 403, 403)),
        Case("mark the officer's notification read", "POST", _officers_notice,
             (404, 404, 404, OK, 404)),
        Case("import template", "GET", _fixed("/api/v1/imports/template"),
             (OK, OK, OK, OK, OK)),
        Case("import without a file", "POST", _fixed("/api/v1/imports", {}),
             (422, 422, 422, 403, 422)),
        Case("read the calendar", "GET", _fixed("/api/v1/calendar?year=2026"),
             (OK, OK, OK, OK, OK)),
        Case("enter a calendar day", "PUT",
             _fixed("/api/v1/calendar/2027-02-07", {"kind": "holiday", "name": "藏历新年"}),
             (OK, 403, 403, 403, 403)),
        Case("remove a calendar day", "DELETE", _local_day, (204, 403, 403, 403, 403)),
    ]
    return cases


def _local_day(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
    from tracker.issues.calendar import service as calendar

    calendar.set_day(world.admin, date(2027, 2, 8), "holiday", "藏历新年")
    db.session.commit()
    return "/api/v1/calendar/2027-02-08", {}


def _officers_notice(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
    from tracker.notify.models import Notification

    notice = Notification(user_id=world.officer.id, kind="reminder", subject="整改提醒")
    db.session.add(notice)
    db.session.commit()
    return f"/api/v1/notifications/{notice.id}/read", {}


def _webhook(suffix: str = "", body: Any = None
             ) -> Callable[[Any, Any], tuple[str, dict[str, Any]]]:
    def build(world: Any, make: Any) -> tuple[str, dict[str, Any]]:
        from tracker.notify.webhooks.models import Webhook

        hook = Webhook(url="http://10.1.2.3/hook", events=["issue.closed"], secret="whsec_x",
                       active=True)
        db.session.add(hook)
        db.session.commit()
        return f"/api/v1/webhooks/{hook.id}{suffix}", ({"json": body} if body else {})

    return build


#: Webhooks are for admins alone (SPEC §6).
WEBHOOK_CASES: list[Case] = [
    Case("list webhooks", "GET", _fixed("/api/v1/webhooks"), (OK, 403, 403, 403, 403)),
    Case("create webhook", "POST",
         _fixed("/api/v1/webhooks", {"url": "http://10.1.2.3/hook", "events": ["issue.closed"]}),
         (NEW, 403, 403, 403, 403)),
    Case("read webhook", "GET", _webhook(), (OK, 403, 403, 403, 403)),
    Case("change webhook", "PATCH", _webhook(body={"active": False}), (OK, 403, 403, 403, 403)),
    Case("remove webhook", "DELETE", _webhook(), (204, 403, 403, 403, 403)),
    Case("webhook deliveries", "GET", _webhook("/deliveries"), (OK, 403, 403, 403, 403)),
]

MATRIX = CASES + _extension_cases() + WEBHOOK_CASES


def _call(api: Any, case: Case, world: Any, make: Any, user: Any) -> Any:
    path, kw = case.build(world, make)
    return api.call(case.method, path, user, **kw)


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(role, world, make, api):
    user = _actor(world, role)
    index = ROLES.index(role)
    wrong = []
    for case in MATRIX:
        resp = _call(api, case, world, make, user)
        db.session.rollback()
        if resp.status_code != case.expected[index]:
            wrong.append(f"{case.method} {case.name}: {resp.status_code} "
                         f"(expected {case.expected[index]}) {resp.get_data(as_text=True)[:200]}")
    assert not wrong, "\n".join(wrong)


def test_every_endpoint_needs_a_token(world, make, api):
    wrong = []
    for case in MATRIX:
        resp = _call(api, case, world, make, None)
        if resp.status_code != 401 or resp.get_json()["reason"] != "login_required":
            wrong.append(f"{case.method} {case.name}: {resp.status_code}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_documented_operation(app, client):
    """A new endpoint without a row in the matrix fails here."""
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops
                  if m in ("get", "post", "patch", "delete", "put")}
    covered = {
        ("POST", "/api/v1/auth/tokens"),  # tested in test_api_owners
        ("GET", "/api/v1/orgs"), ("POST", "/api/v1/orgs"), ("GET", "/api/v1/orgs/{org_id}"),
        ("PATCH", "/api/v1/orgs/{org_id}"), ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"), ("GET", "/api/v1/users/me"), ("PATCH", "/api/v1/users/me"),
        ("GET", "/api/v1/users/{user_id}"), ("PATCH", "/api/v1/users/{user_id}"),
        ("GET", "/api/v1/categories"), ("POST", "/api/v1/categories"),
        ("GET", "/api/v1/campaigns"), ("POST", "/api/v1/campaigns"),
        ("GET", "/api/v1/campaigns/{campaign_id}"), ("PATCH", "/api/v1/campaigns/{campaign_id}"),
        ("GET", "/api/v1/issues"), ("POST", "/api/v1/issues"),
        ("GET", "/api/v1/issues/{issue_id}"), ("PATCH", "/api/v1/issues/{issue_id}"),
        ("POST", "/api/v1/issues/{issue_id}/transitions"),
        ("GET", "/api/v1/issues/{issue_id}/events"), ("POST", "/api/v1/issues/{issue_id}/notes"),
        ("GET", "/api/v1/issues/{issue_id}/evidence"),
        ("GET", "/api/v1/issues/{issue_id}/extensions"),
        ("POST", "/api/v1/issues/{issue_id}/extensions"),
        ("GET", "/api/v1/reports/overdue"), ("GET", "/api/v1/reports/summary"),
        ("GET", "/api/v1/notifications"), ("POST", "/api/v1/notifications/{notification_id}/read"),
        ("POST", "/api/v1/notifications/read-all"),
        ("GET", "/api/v1/imports/template"), ("POST", "/api/v1/imports"),
        ("GET", "/api/v1/calendar"), ("PUT", "/api/v1/calendar/{day}"),
        ("DELETE", "/api/v1/calendar/{day}"),
        ("GET", "/api/v1/webhooks"), ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/webhooks/{webhook_id}"), ("PATCH", "/api/v1/webhooks/{webhook_id}"),
        ("DELETE", "/api/v1/webhooks/{webhook_id}"),
        ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"),
        ("GET", "/api/v1/extensions"), ("GET", "/api/v1/history/anchors"),
    } | EXTRA_COVERED
    missing = sorted(documented - covered)
    assert not missing, f"add these to the permission matrix: {missing}"


#: Operations covered by dedicated tests below rather than by the table.
EXTRA_COVERED = {
    ("POST", "/api/v1/issues/{issue_id}/evidence"),
    ("GET", "/api/v1/issues/{issue_id}/evidence/{evidence_id}"),
    ("DELETE", "/api/v1/issues/{issue_id}/evidence/{evidence_id}"),
    ("POST", "/api/v1/issues/{issue_id}/extensions/{extension_id}/decision"),
    # Open to everyone without login: tests/test_public.py.
    ("GET", "/api/v1/public/campaigns"), ("GET", "/api/v1/public/campaigns/{campaign_id}"),
    # Resumable uploads: tests/test_uploads.py (creation by role and scope; an upload is
    # its creator's alone).
    ("POST", "/api/v1/issues/{issue_id}/uploads"),
    ("PATCH", "/api/v1/issues/{issue_id}/uploads/{upload_id}"),
    ("DELETE", "/api/v1/issues/{issue_id}/uploads/{upload_id}"),
    # People (issue 24): tests/test_accounts.py (admin reset, own change),
    # tests/test_handover.py (admin, a supervisor over the user, 404 outside the line),
    # tests/test_users_import.py (admin only).
    ("POST", "/api/v1/users/{user_id}/password"), ("POST", "/api/v1/users/me/password"),
    ("POST", "/api/v1/users/{user_id}/handover"), ("POST", "/api/v1/users/import"),
    # Supervision (issue 22): tests/test_supervision.py (who may urge, issue, acknowledge,
    # reply, return and close an order; 404 outside the scope; the ranking in scope).
    ("GET", "/api/v1/issues/{issue_id}/urges"), ("POST", "/api/v1/issues/{issue_id}/urges"),
    ("POST", "/api/v1/urges"), ("GET", "/api/v1/orders"), ("POST", "/api/v1/orders"),
    ("GET", "/api/v1/orders/{order_id}"), ("POST", "/api/v1/orders/{order_id}/acknowledge"),
    ("POST", "/api/v1/orders/{order_id}/reply"), ("POST", "/api/v1/orders/{order_id}/return"),
    ("POST", "/api/v1/orders/{order_id}/close"), ("GET", "/api/v1/reports/ranking"),
    # Documents (issue 23): tests/test_documents.py (officers 403, a unit outside scope 404).
    ("GET", "/api/v1/reports/rectification"),
    # The trend (issue 22): tests/test_trend.py (officers 403, a unit outside scope 404).
    ("GET", "/api/v1/reports/trend"),
    # Jobs (issue 26): tests/test_jobs.py (a caller reads only their own jobs; 404 else).
    ("POST", "/api/v1/exports"), ("GET", "/api/v1/jobs/{job_id}"),
    ("GET", "/api/v1/jobs/{job_id}/file"),
}


# --- refusal order (SPEC §3: 401, 404, 403, 400/422, 409, 412) -----------------------------


def test_no_token_wins_over_a_bad_body(world, make, api):
    issue = _issue(make, world)
    resp = api.patch(f"/api/v1/issues/{issue.id}", json={"title": 5})
    assert resp.status_code == 401


def test_out_of_scope_wins_over_a_bad_body(world, make, api):
    issue = _issue(make, world, "other")
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar, json={"title": 5})
    assert resp.status_code == 404


def test_forbidden_wins_over_a_bad_body(world, make, api):
    issue = _issue(make, world)
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.officer, json={"title": 5})
    assert resp.status_code == 403
    resp = api.post("/api/v1/orgs", user=world.supervisor, json={"kind": "moon"})
    assert resp.status_code == 403


def test_bad_body_wins_over_state(world, make, api):
    issue = _issue(make, world, status="closed")
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar,
                     json={"due_on": "2018-01-01"})
    assert resp.status_code == 422


def test_state_wins_over_version(world, make, api):
    issue = _issue(make, world, status="closed")
    resp = api.patch(f"/api/v1/issues/{issue.id}", user=world.registrar,
                     json={"title": "新"}, headers={"If-Match": '"99"'})
    assert resp.status_code == 409


# --- evidence and extension decisions, per role ---------------------------------------------


def _upload(api: Any, issue: Any, user: Any) -> Any:
    return api.post(f"/api/v1/issues/{issue.id}/evidence", user=user,
                    data={"file": (io.BytesIO(b"rectified, see attached minutes\n"),
                                   "整改说明.txt")},
                    content_type="multipart/form-data")


@pytest.mark.parametrize("role,expected", list(zip(ROLES, (201, 201, 201, 201, 404), strict=True)))
def test_upload_evidence_by_role(role, expected, world, make, api):
    issue = _issue(make, world)
    resp = _upload(api, issue, _actor(world, role))
    assert resp.status_code == expected, resp.get_json()


def test_download_and_withdraw_evidence_by_role(world, make, api):
    issue = _issue(make, world)
    up = _upload(api, issue, world.officer)
    assert up.status_code == 201, up.get_json()
    eid = up.get_json()["id"]
    url = f"/api/v1/issues/{issue.id}/evidence/{eid}"
    assert api.get(url, user=world.other_registrar).status_code == 404
    download = api.get(url, user=world.supervisor)
    assert download.status_code == 200 and download.data == b"rectified, see attached minutes\n"
    download.close()
    assert api.delete(url, user=world.other_registrar).status_code == 404
    colleague = _issue(make, world, "centre_reg")
    up2 = _upload(api, colleague, world.registrar)
    url2 = f"/api/v1/issues/{colleague.id}/evidence/{up2.get_json()['id']}"
    assert api.delete(url2, user=world.officer).status_code == 403
    assert api.delete(url, user=world.officer).status_code in (200, 204)


@pytest.mark.parametrize("role,expected", list(zip(ROLES, (200, 200, 403, 403, 404), strict=True)))
def test_extension_decision_by_role(role, expected, world, make, api):
    issue = _issue(make, world)
    req = api.post(f"/api/v1/issues/{issue.id}/extensions", user=world.officer,
                   json={"requested_due_on": "2019-06-30", "reason": "设备未到位"})
    assert req.status_code == 201, req.get_json()
    xid = req.get_json()["id"]
    resp = api.post(f"/api/v1/issues/{issue.id}/extensions/{xid}/decision",
                    user=_actor(world, role), json={"decision": "approve", "comment": "同意"})
    assert resp.status_code == expected, resp.get_json()
    if expected == 200:
        assert api.get(f"/api/v1/issues/{issue.id}", user=world.admin).get_json()[
            "due_on"] == date(2019, 6, 30).isoformat()
