"""The owners API: tokens, orgs, users."""

from __future__ import annotations

import json

from tracker.extensions import db
from tracker.owners.models import LoginFailure


def test_token_for_good_credentials(world, client):
    resp = client.post("/api/v1/auth/tokens",
                       json={"username": "reg", "password": "secret-pass-1"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert len(body["token"]) > 20 and body["expires_at"].endswith("Z")
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == "reg"


def test_wrong_password_is_401_json_and_recorded(world, client):
    resp = client.post("/api/v1/auth/tokens", json={"username": "reg", "password": "nope-nope"})
    assert resp.status_code == 401
    body = resp.get_json()
    assert body["reason"] == "bad_credentials" and body["code"] == 401
    assert db.session.query(LoginFailure).filter_by(username="reg").count() == 1


def test_too_many_failures_answer_429_even_with_the_right_password(world, client):
    for _ in range(5):
        client.post("/api/v1/auth/tokens", json={"username": "reg", "password": "wrong-pass"})
    resp = client.post("/api/v1/auth/tokens",
                       json={"username": "reg", "password": "secret-pass-1"})
    assert resp.status_code == 429
    assert resp.get_json()["reason"] == "too_many_attempts"


def test_token_dies_when_the_password_changes(world, api):
    token = api.token("off")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/users/me", headers=headers).status_code == 200
    resp = api.patch(f"/api/v1/users/{world.officer.id}", user=world.admin,
                     json={"password": "another-pass-2"})
    assert resp.status_code == 200
    dead = api.client.get("/api/v1/users/me", headers=headers)
    assert dead.status_code == 401 and dead.get_json()["reason"] == "invalid_token"


def test_token_dies_when_the_user_is_deactivated(world, api):
    token = api.token("off")
    api.patch(f"/api/v1/users/{world.officer.id}", user=world.admin, json={"active": False})
    resp = api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401


def test_no_token_is_401(world, client):
    resp = client.get("/api/v1/orgs")
    assert resp.status_code == 401 and resp.get_json()["reason"] == "login_required"


def test_any_user_lists_orgs_with_pagination_header(world, api):
    resp = api.get("/api/v1/orgs?page_size=2", user=world.other_officer)
    assert resp.status_code == 200
    assert len(resp.get_json()) == 2
    meta = json.loads(resp.headers["X-Pagination"])
    assert meta == {"total": 6, "total_pages": 3, "page": 1, "page_size": 2}


def test_org_filters(world, api):
    kids = api.get(f"/api/v1/orgs?parent_id={world.prefecture.id}", user=world.officer)
    assert {o["code"] for o in kids.get_json()} == {"MD", "JZ"}
    sub = api.get(f"/api/v1/orgs?under={world.county.id}", user=world.officer)
    assert {o["code"] for o in sub.get_json()} == {"MD", "MD-ZX", "MD-RS"}
    centres = api.get("/api/v1/orgs?kind=centre&q=玛多", user=world.officer)
    assert [o["code"] for o in centres.get_json()] == ["MD-ZX"]


def test_admin_creates_and_moves_an_org(world, api):
    resp = api.post("/api/v1/orgs", user=world.admin,
                    json={"code": "MD-GA", "name": "公安窗口", "kind": "department",
                          "parent_id": world.centre.id})
    assert resp.status_code == 201
    org = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/v1/orgs/{org['id']}")
    moved = api.patch(f"/api/v1/orgs/{org['id']}", user=world.admin,
                      json={"parent_id": world.other_centre.id})
    assert moved.status_code == 200 and moved.get_json()["parent_id"] == world.other_centre.id
    sub = api.get(f"/api/v1/orgs?under={world.other_county.id}", user=world.admin)
    assert "MD-GA" in {o["code"] for o in sub.get_json()}


def test_org_under_a_lower_level_is_refused(world, api):
    resp = api.post("/api/v1/orgs", user=world.admin,
                    json={"code": "X", "name": "某县", "kind": "county",
                          "parent_id": world.centre.id})
    assert resp.status_code == 422 and "parent_id" in resp.get_json()["errors"]


def test_org_with_unknown_parent_is_422_naming_it(world, api):
    resp = api.post("/api/v1/orgs", user=world.admin,
                    json={"code": "X", "name": "某县", "kind": "county", "parent_id": 999999})
    assert resp.status_code == 422 and "parent_id" in resp.get_json()["errors"]


def test_duplicate_org_code_is_409(world, api):
    resp = api.post("/api/v1/orgs", user=world.admin,
                    json={"code": "MD", "name": "重复", "kind": "county",
                          "parent_id": world.prefecture.id})
    assert resp.status_code == 409 and resp.get_json()["reason"] == "duplicate"


def test_only_admin_writes_orgs(world, api):
    resp = api.post("/api/v1/orgs", user=world.supervisor,
                    json={"code": "X", "name": "某县", "kind": "county"})
    assert resp.status_code == 403 and resp.get_json()["reason"] == "admin_only"


def test_admin_creates_user_and_password_is_never_shown(world, api):
    resp = api.post("/api/v1/users", user=world.admin,
                    json={"username": "dawa", "password": "long-enough-1", "role": "officer",
                          "org_id": world.department.id, "display_name": "达哇",
                          "email": "dawa@example.gov.cn"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert "password" not in body and "password_hash" not in body
    assert body["display_name"] == "达哇" and body["active"] is True
    assert api.token("dawa", "long-enough-1")
    listed = api.get("/api/v1/users?q=dawa", user=world.admin).get_json()
    assert all("password" not in u and "password_hash" not in u for u in listed)


def test_short_password_is_422(world, api):
    resp = api.post("/api/v1/users", user=world.admin,
                    json={"username": "dawa", "password": "short", "role": "officer",
                          "org_id": world.department.id})
    assert resp.status_code == 422 and "password" in resp.get_json()["errors"]["json"]


def test_user_without_org_needs_admin_role(world, api):
    resp = api.post("/api/v1/users", user=world.admin,
                    json={"username": "dawa", "password": "long-enough-1", "role": "officer"})
    assert resp.status_code == 422 and "org_id" in resp.get_json()["errors"]


def test_duplicate_username_is_409(world, api):
    resp = api.post("/api/v1/users", user=world.admin,
                    json={"username": "reg", "password": "long-enough-1", "role": "officer",
                          "org_id": world.centre.id})
    assert resp.status_code == 409


def test_users_are_readable_along_the_callers_line(world, api):
    names = {u["username"] for u in
             api.get("/api/v1/users?page_size=100", user=world.registrar).get_json()}
    # The registrar's centre, its department, and the county and prefecture above it.
    assert {"reg", "off", "off2", "madosup", "zhou"} <= names
    assert not names & {"jzreg", "jzoff", "jzsup", "admin"}
    assert api.get(f"/api/v1/users/{world.other_officer.id}",
                   user=world.registrar).status_code == 404
    assert api.get(f"/api/v1/users/{world.officer2.id}", user=world.registrar).status_code == 200


def test_user_list_filters(world, api):
    sups = api.get("/api/v1/users?role=supervisor", user=world.admin).get_json()
    assert {u["username"] for u in sups} == {"zhou", "madosup", "jzsup"}
    md = api.get(f"/api/v1/users?org_id={world.county.id}", user=world.admin).get_json()
    assert {u["username"] for u in md} == {"madosup", "reg", "off", "off2"}


def test_non_admin_cannot_change_a_user(world, api):
    resp = api.patch(f"/api/v1/users/{world.officer.id}", user=world.supervisor,
                     json={"role": "supervisor"})
    assert resp.status_code == 403
    hidden = api.patch(f"/api/v1/users/{world.other_officer.id}", user=world.registrar,
                       json={"role": "supervisor"})
    assert hidden.status_code == 404


def test_active_must_be_a_json_boolean(world, api):
    resp = api.patch(f"/api/v1/users/{world.officer.id}", user=world.admin, json={"active": 0})
    assert resp.status_code == 422 and "active" in resp.get_json()["errors"]["json"]


def test_unknown_field_is_422_by_location(world, api):
    resp = api.post("/api/v1/users", user=world.admin,
                    json={"username": "x", "password": "long-enough-1", "role": "admin",
                          "is_superuser": True})
    assert resp.status_code == 422
    assert "is_superuser" in resp.get_json()["errors"]["json"]
