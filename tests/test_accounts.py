"""Accounts (SPEC §3 "Accounts"): the password policy, a language on creation, a temporary
password that must be changed first, an admin's reset, a user's own change, and the API's
422 messages in the reader's language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD
from tests.support.pages import csrf_token, login, page_client, post_form
from tracker.errors import ValidationError
from tracker.extensions import db
from tracker.owners import accounts, service
from tracker.owners.passwords import password_problem, temporary_password

TIBETAN = re.compile(r"[\u0f40-\u0fbc]")
#: Two English words in a row: a message left in English.
ENGLISH = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")


# --- the policy ------------------------------------------------------------------------


@pytest.mark.parametrize("password, why", [
    ("short1", "至少 10 个字符。"),
    ("onlyletters-here", "请同时使用字母和数字。"),
    ("1234567890", "请同时使用字母和数字。"),
])
def test_the_policy_refuses_weak_passwords_on_every_path(world: Any, password: str,
                                                         why: str) -> None:
    paths = {
        "create": lambda: service.create_user(world.admin, "dawa", password, "officer",
                                              world.centre.id),
        "change": lambda: accounts.change_own_password(world.officer, PASSWORD, password),
        "reset": lambda: accounts.reset_password(world.admin, world.officer, password),
        "create-admin": lambda: service.create_admin("root2", password),
    }
    for name, attempt in paths.items():
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.reason == "weak_password", name
        assert [str(m) for ms in refused.value.errors.values() for m in ms] == [why], name
        db.session.rollback()


def test_the_password_is_not_the_username(world: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        service.create_user(world.admin, "dawa.officer1", "Dawa.Officer1", "officer",
                            world.centre.id)
    assert [str(m) for m in refused.value.errors["password"]] == ["不能与用户名相同。"]


def test_a_password_that_meets_the_policy_is_accepted(world: Any) -> None:
    assert password_problem("青海果洛州2018年", "off") is None
    assert password_problem(temporary_password(), "off") is None
    user = service.create_user(world.admin, "dawa", "long-enough-1", "officer", world.centre.id)
    assert user.password_hash and user.auth == "local" and not user.must_change_password


def test_the_username_is_refused_whatever_its_case_or_width(world: Any) -> None:
    assert password_problem("ＤＡＷＡ２０１８ＡＢ", "dawa2018ab") is not None


# --- creating users --------------------------------------------------------------------


def test_the_api_sets_the_language_and_sign_in_on_creation(world: Any, api: Any) -> None:
    resp = api.post("/api/v1/users", user=world.admin, json={
        "username": "gesang", "password": "long-enough-1", "role": "officer",
        "org_id": world.centre.id, "locale": "bo"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["locale"] == "bo" and body["auth"] == "local"
    assert body["must_change_password"] is False  # the API's default
    ldap = api.post("/api/v1/users", user=world.admin, json={
        "username": "lhamo", "role": "registrar", "org_id": world.centre.id, "auth": "ldap"})
    assert ldap.status_code == 201, ldap.get_json()
    assert ldap.get_json()["auth"] == "ldap"


def test_an_unknown_language_is_refused_in_the_readers_language(world: Any, api: Any) -> None:
    resp = api.post("/api/v1/users", user=world.admin, json={
        "username": "gesang", "password": "long-enough-1", "role": "officer",
        "org_id": world.centre.id, "locale": "fr"})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["errors"]["json"]["locale"] == ["必须是以下之一：zh_Hans, bo, en。"]
    assert not ENGLISH.search(body["message"]), body["message"]


def test_a_weak_password_in_the_api_names_the_field(world: Any, api: Any) -> None:
    resp = api.post("/api/v1/users", user=world.admin, json={
        "username": "gesang", "password": "letters-only-here", "role": "officer",
        "org_id": world.centre.id})
    assert resp.status_code == 422
    assert resp.get_json()["errors"]["json"]["password"] == ["请同时使用字母和数字。"]


def test_the_admin_form_sets_the_language_and_ticks_the_password_change(
        client: FlaskClient, world: Any) -> None:
    login(client, "admin")
    page = client.get("/admin/users/new")
    assert re.search(r'<input checked[^>]*name="must_change_password"', page.text)
    assert 'name="locale"' in page.text and 'name="auth"' in page.text
    resp = post_form(client, "/admin/users/new", "/admin/users/new", {
        "username": "gesang", "display_name": "格桑", "role": "officer",
        "org_id": world.centre.id, "password": "long-enough-1", "locale": "bo",
        "auth": "local", "must_change_password": "y", "active": "y",
        "notify_mail": "immediate"})
    assert resp.status_code == 302, resp.text
    user = db.session.scalar(db.select(service.User).where(service.User.username == "gesang"))
    assert user is not None and user.locale == "bo" and user.must_change_password


# --- a temporary password --------------------------------------------------------------


def test_a_reset_answers_a_temporary_password_once_and_ends_the_sessions(
        world: Any, api: Any) -> None:
    old = api.token("off")
    resp = api.post(f"/api/v1/users/{world.officer.id}/password", user=world.admin, json={})
    assert resp.status_code == 200, resp.get_json()
    temporary = resp.get_json()["temporary_password"]
    assert password_problem(temporary, "off") is None
    gone = api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {old}"})
    assert gone.status_code == 401
    assert api.get(f"/api/v1/users/{world.officer.id}", user=world.admin
                   ).get_json()["must_change_password"] is True
    # The admin may give one instead: then nothing is answered but the flag.
    chosen = api.post(f"/api/v1/users/{world.officer.id}/password", user=world.admin,
                      json={"password": "given-by-admin-7"})
    assert chosen.get_json() == {"must_change_password": True}


def test_only_an_admin_resets_a_password(world: Any, api: Any) -> None:
    resp = api.post(f"/api/v1/users/{world.officer.id}/password", user=world.supervisor,
                    json={})
    assert resp.status_code == 403


def test_a_temporary_password_opens_only_me_and_the_change(world: Any, api: Any) -> None:
    accounts.reset_password(world.admin, world.officer, "temporary-pass-1")
    db.session.commit()
    token = api.client.post("/api/v1/auth/tokens", json={
        "username": "off", "password": "temporary-pass-1"}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/users/me", headers=auth).status_code == 200
    refused = api.client.get("/api/v1/issues", headers=auth)
    assert refused.status_code == 403
    assert refused.get_json()["reason"] == "password_change_required"
    assert api.client.patch("/api/v1/users/me", headers=auth,
                            json={"locale": "bo"}).status_code == 403
    changed = api.client.post("/api/v1/users/me/password", headers=auth, json={
        "current_password": "temporary-pass-1", "new_password": "my-own-pass-9"})
    assert changed.status_code == 200, changed.get_json()
    # The change ended the temporary token; the answer brings a new one that opens all.
    assert api.client.get("/api/v1/issues", headers=auth).status_code == 401
    fresh = {"Authorization": f"Bearer {changed.get_json()['token']}"}
    assert api.client.get("/api/v1/issues", headers=fresh).status_code == 200


def test_the_own_change_needs_the_current_password_and_a_new_one(world: Any,
                                                                  api: Any) -> None:
    wrong = api.post("/api/v1/users/me/password", user="off", json={
        "current_password": "not-my-pass-1", "new_password": "my-own-pass-9"})
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"] == {"current_password": ["密码错误。"]}
    same = api.post("/api/v1/users/me/password", user="off", json={
        "current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422 and "new_password" in same.get_json()["errors"]
    weak = api.post("/api/v1/users/me/password", user="off", json={
        "current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and weak.get_json()["reason"] == "weak_password"
    # Nothing changed: the old password still signs in.
    assert api.client.post("/api/v1/auth/tokens", json={
        "username": "off", "password": PASSWORD}).status_code == 201


def test_pages_lead_only_to_the_password_form_until_it_is_changed(
        client: FlaskClient, world: Any) -> None:
    accounts.reset_password(world.admin, world.officer, "temporary-pass-1")
    db.session.commit()
    assert login(client, "off", "temporary-pass-1").status_code == 302
    for path in ("/", "/issues", "/notifications", "/settings"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].endswith(
            "/account/password"), path
    page = client.get("/account/password")
    assert page.status_code == 200 and "请先设置自己的密码" in page.text
    resp = client.post("/account/password", data={
        "current_password": "temporary-pass-1", "new_password": "my-own-pass-9",
        "confirm": "my-own-pass-9", "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200  # the same browser carries on


def test_the_menu_links_everyone_to_the_password_page(client: FlaskClient,
                                                      world: Any) -> None:
    login(client, "off")
    home = client.get("/")
    assert 'href="/account/password"' in home.text and "修改密码" in home.text


def test_a_password_change_on_the_page_ends_the_other_sessions(app: Flask, client: FlaskClient,
                                                               world: Any) -> None:
    other = page_client(app)
    login(other, "off")
    login(client, "off")
    post_form(client, "/account/password", "/account/password", {
        "current_password": PASSWORD, "new_password": "my-own-pass-9",
        "confirm": "my-own-pass-9"})
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302  # back to the login page


def test_a_directory_user_has_no_password_here(world: Any, api: Any) -> None:
    user = service.create_user(world.admin, "lhamo", None, "officer", world.centre.id,
                               auth="ldap")
    db.session.commit()
    assert user.password_hash == ""
    resp = api.post(f"/api/v1/users/{user.id}/password", user=world.admin, json={})
    assert resp.status_code == 409 and resp.get_json()["reason"] == "directory_user"
    refused = api.post("/api/v1/users", user=world.admin, json={
        "username": "pema", "role": "officer", "org_id": world.centre.id, "auth": "ldap",
        "password": "long-enough-1"})
    assert refused.status_code == 422


# --- 422 in the reader's language ------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
def test_no_422_of_the_api_is_english(world: Any, api: Any, lang: str) -> None:
    service.update_user(world.admin, world.admin, locale=lang)
    db.session.commit()
    bodies = [
        {"username": "gesang", "password": "long-enough-1", "role": "officer",
         "org_id": world.centre.id, "bogus": 1},
        {"role": "nope", "email": "x", "org_id": "a", "active": "q"},
        {"username": "x" * 100, "password": "long-enough-1", "role": "officer",
         "org_id": world.centre.id, "locale": "fr"},
    ]
    for body in bodies:
        resp = api.post("/api/v1/users", user=world.admin, json=body)
        assert resp.status_code == 422
        answer = resp.get_json()
        texts = [answer["message"], *(m for ms in answer["errors"]["json"].values() for m in ms)]
        for text in texts:
            assert not ENGLISH.search(text.replace("zh_Hans", "")), (lang, text)
            if lang == "bo":
                assert TIBETAN.search(text), text
    query = api.get("/api/v1/issues?page_size=9999", user=world.admin).get_json()
    (size,) = query["errors"]["query"]["page_size"]
    assert not ENGLISH.search(size) and "500" in size
