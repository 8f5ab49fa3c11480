"""Issue 20, findings 4, 9, 10, 11 and 12: each through the interface where it was found.

(Findings 1-2 are in test_date_domain.py, 3 in test_outage.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.pages import csrf_token, login, post_form
from tracker.errors import Forbidden
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.models import Issue
from tracker.owners.models import User

# --- 4: a former owner is not independent -------------------------------------------------


def _once_owned(world: Any, make: Any) -> Issue:
    """A supervisor registered as the owner; the owner then changed to an officer, who did
    the work and submitted it."""
    issue = make.issue(world.centre, world.county_supervisor, world.campaign, world.category)
    issues.update_issue(issue, world.registrar, {"owner_id": world.officer.id})
    make.evidence(issue)
    db.session.flush()
    issues.transition(issue, world.officer, "submit")
    db.session.commit()
    return issue


def test_a_former_owner_cannot_close_on_any_path(world: Any, make: Any, api: Any,
                                                 client: Any) -> None:
    issue = _once_owned(world, make)
    with pytest.raises(Forbidden) as exc:
        issues.transition(issue, world.county_supervisor, "close", "核查属实")
    assert exc.value.reason == "verifier_not_independent"
    db.session.rollback()
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.county_supervisor,
                    json={"action": "close", "comment": ""})
    assert resp.status_code == 403
    assert resp.get_json()["reason"] == "verifier_not_independent"
    assert "曾是该问题的责任人" in resp.get_json()["message"]
    # The queue (the SQL twin) agrees: not awaiting this supervisor, but the prefecture's.
    mine = api.get("/api/v1/issues?awaiting=verification", user=world.county_supervisor)
    assert issue.id not in [i["id"] for i in mine.get_json()]
    theirs = api.get("/api/v1/issues?awaiting=verification", user=world.supervisor)
    assert issue.id in [i["id"] for i in theirs.get_json()]
    # The page offers no close button and says why.
    login(client, "madosup")
    page = client.get(f"/issues/{issue.id}").text
    assert 'value="close"' not in page
    assert "曾是该问题的责任人" in page
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "submitted"


# --- 9: digits that are not ASCII ---------------------------------------------------------


@pytest.mark.parametrize("q", ["²", "#²", "١٢", "9" * 40])
def test_a_search_for_digits_that_are_not_ascii_is_no_500(world: Any, make: Any, api: Any,
                                                          client: Any, q: str) -> None:
    make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.get("/api/v1/issues", user=world.registrar, query_string={"q": q})
    assert resp.status_code == 200 and resp.get_json() == []
    login(client, "reg")
    assert client.get("/issues", query_string={"q": q}).status_code == 200


@pytest.mark.parametrize("value", ["²", "١", "9" * 5000])
def test_query_numbers_are_ascii_digits(world: Any, api: Any, value: str) -> None:
    resp = api.get("/api/v1/issues", user=world.registrar,
                   query_string={"org_id": value, "page": value})
    assert resp.status_code == 422


@pytest.mark.parametrize("bad", ["²", "9" * 5000, "١٢"])
def test_bulk_ids_that_are_not_ascii_digits_are_ignored(world: Any, make: Any, client: Any,
                                                        bad: str) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "reg")
    page = client.get("/issues")
    resp = client.post("/issues/bulk", data={"id": [bad], "owner_id": world.officer2.id,
                                             "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).owner_id == world.officer.id


# --- 10: the inbox API names only issues its reader can still read ---------------------


def test_the_inbox_api_hides_an_issue_its_reader_no_longer_reads(world: Any, make: Any,
                                                                 api: Any, client: Any) -> None:
    # An issue of the window department, owned by the centre's officer (who reads it as
    # its owner); rejected with a comment, then given to the department's officer.
    issue = make.issue(world.department, world.officer, world.campaign, world.category,
                       status="submitted", title="窗口人员私下收费")
    issues.transition(issue, world.supervisor, "reject", "材料里有身份证号")
    issues.update_issue(issue, world.registrar, {"owner_id": world.officer2.id})
    db.session.commit()
    assert api.get(f"/api/v1/issues/{issue.id}", user=world.officer).status_code == 404
    notices = api.get("/api/v1/notifications", user=world.officer).get_json()
    assert notices, "the officer had notices about the issue"
    text = str(notices)
    assert "窗口人员私下收费" not in text and "材料里有身份证号" not in text
    assert all(issue.id not in n["issue_ids"] for n in notices)
    # The page shows the same.
    login(client, "off")
    page = client.get("/notifications").text
    assert "窗口人员私下收费" not in page and "材料里有身份证号" not in page
    assert f"/issues/{issue.id}\"" not in page
    # The new owner reads all of it.
    theirs = str(api.get("/api/v1/notifications", user=world.officer2).get_json())
    assert "窗口人员私下收费" in theirs


# --- 11: the last active admin ------------------------------------------------------------


@pytest.mark.parametrize("change", [{"role": "officer"}, {"active": False}])
def test_the_last_admin_cannot_be_demoted_or_deactivated(world: Any, api: Any,
                                                         change: dict[str, Any]) -> None:
    body = dict(change)
    if "role" in body:
        body["org_id"] = world.centre.id
    resp = api.patch(f"/api/v1/users/{world.admin.id}", user=world.admin, json=body)
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["reason"] == "last_admin"
    assert "最后一位在用的管理员" in resp.get_json()["message"]
    db.session.expire_all()
    admin = db.session.get(User, world.admin.id)
    assert admin.role == "admin" and admin.active
    # With a second admin, the first may step down.
    other = api.post("/api/v1/users", user=world.admin,
                     json={"username": "gesang", "password": "long-enough-1",
                           "role": "admin", "display_name": "格桑"})
    assert other.status_code == 201
    assert api.patch(f"/api/v1/users/{world.admin.id}", user=world.admin,
                     json=body).status_code == 200


def test_the_admin_page_refuses_to_deactivate_the_last_admin(world: Any, client: Any) -> None:
    login(client, "admin")
    resp = post_form(client, f"/admin/users/{world.admin.id}",
                     f"/admin/users/{world.admin.id}",
                     {"username": "admin", "display_name": "管理员", "role": "admin",
                      "org_id": "", "notify_mail": "immediate", "password": ""})
    assert "最后一位在用的管理员" in resp.text or "最后一位在用的管理员" in client.get(
        resp.headers.get("Location", f"/admin/users/{world.admin.id}")).text
    db.session.expire_all()
    assert db.session.get(User, world.admin.id).active


# --- 12: text and usernames ---------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\u2028", "\u2029", "\ufdd0", "\ufffe", "\U0001ffff"])
def test_separators_and_noncharacters_are_refused_in_titles(world: Any, api: Any,
                                                            bad: str) -> None:
    body = {"campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": f"群众办事{bad}来回跑",
            "owner_id": world.officer.id, "starts_on": "2018-07-07", "due_on": "2019-01-07"}
    resp = api.post("/api/v1/issues", user=world.registrar, json=body)
    assert resp.status_code == 422
    assert "title" in str(resp.get_json()["errors"])
    body["title"], body["description"] = "群众办事来回跑", f"第一行\n第二{bad}行"
    resp = api.post("/api/v1/issues", user=world.registrar, json=body)
    assert resp.status_code == 422 and "description" in str(resp.get_json()["errors"])
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 0


@pytest.mark.parametrize("twin", ["OFF", "Off", "ＯＦＦ", "ｏｆｆ"])
def test_usernames_are_unique_after_folding(world: Any, api: Any, twin: str) -> None:
    resp = api.post("/api/v1/users", user=world.admin,
                    json={"username": twin, "password": "long-enough-1", "role": "officer",
                          "org_id": world.centre.id})
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["reason"] == "duplicate"


@pytest.mark.parametrize("name", ["o\u200bff", "of\u2060f", "\u3164", "аdmin2", "ad min"])
def test_invisible_and_look_alike_usernames_are_refused(world: Any, api: Any,
                                                        name: str) -> None:
    resp = api.post("/api/v1/users", user=world.admin,
                    json={"username": name, "password": "long-enough-1", "role": "officer",
                          "org_id": world.centre.id})
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["reason"] == "username_not_allowed"
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.username == name)) == 0


def test_the_database_holds_the_folded_username_unique(world: Any) -> None:
    from sqlalchemy.exc import IntegrityError

    db.session.add(User(username="ＡＤＭＩＮ", display_name="x", role="admin",
                        password_hash="x", active=True, notify_mail="immediate",
                        auth_generation=0))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_tibetan_and_chinese_usernames_are_fine(world: Any, api: Any) -> None:
    for name in ("拉毛措", "བཀྲ་ཤིས", "maduo.officer4"):
        resp = api.post("/api/v1/users", user=world.admin,
                        json={"username": name, "password": "long-enough-1",
                              "role": "officer", "org_id": world.centre.id})
        assert resp.status_code == 201, resp.get_json()
