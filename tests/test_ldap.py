"""Sign-in against the directory (SPEC §6 Configuration): a real OpenLDAP server (slapd),
started for the session on a free port (tests/support/ldap_server.py)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD
from tests.support.ldap_server import LdapServer, ldap_server
from tests.support.pages import login
from tracker.extensions import db
from tracker.owners import service

__all__ = ["ldap_server"]  # a fixture, imported for pytest

TIBETAN = re.compile(r"[\u0f40-\u0fbc]")
LDAP_KEYS = ("TRACKER_LDAP_URL", "TRACKER_LDAP_BASE_DN", "TRACKER_LDAP_BIND_DN",
             "TRACKER_LDAP_BIND_PASSWORD", "TRACKER_LDAP_USER_FILTER", "TRACKER_LDAP_TIMEOUT")


@pytest.fixture(params=["search account", "anonymous search"])
def directory(request: pytest.FixtureRequest, app: Flask,
              ldap_server: LdapServer) -> Iterator[LdapServer]:
    """The app pointed at the directory, searching as the service account or anonymously."""
    saved = {k: app.config.get(k) for k in LDAP_KEYS}
    app.config.update(TRACKER_LDAP_URL=ldap_server.url, TRACKER_LDAP_BASE_DN=ldap_server.base_dn,
                      TRACKER_LDAP_USER_FILTER="(&(objectClass=inetOrgPerson)(uid={username}))")
    if request.param == "search account":
        app.config.update(TRACKER_LDAP_BIND_DN=ldap_server.search_dn,
                          TRACKER_LDAP_BIND_PASSWORD=ldap_server.search_password)
    else:
        app.config.update(TRACKER_LDAP_BIND_DN="", TRACKER_LDAP_BIND_PASSWORD="")
    yield ldap_server
    app.config.update(saved)


@pytest.fixture
def dawa(world: Any) -> Any:
    """An officer the directory knows, kept in the ledger with org, role and locale."""
    user = service.create_user(world.admin, "dawa.officer", None, "officer", world.centre.id,
                               display_name="达瓦", auth="ldap", locale="bo")
    db.session.commit()
    return user


def _token(client: FlaskClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/tokens", json={"username": username,
                                                     "password": password})


def test_a_directory_user_signs_in_for_a_token_and_on_the_page(
        client: FlaskClient, directory: LdapServer, dawa: Any) -> None:
    resp = _token(client, "dawa.officer", directory.people["dawa.officer"])
    assert resp.status_code == 201, resp.get_json()
    me = client.get("/api/v1/users/me",
                    headers={"Authorization": f"Bearer {resp.get_json()['token']}"}).get_json()
    assert me["auth"] == "ldap" and me["org_id"] == dawa.org_id and me["locale"] == "bo"
    page = login(client, "dawa.officer", directory.people["dawa.officer"])
    assert page.status_code == 302 and client.get("/").status_code == 200


def test_a_wrong_directory_password_counts_toward_the_limit(
        app: Flask, client: FlaskClient, directory: LdapServer, dawa: Any) -> None:
    limit = app.config["TRACKER_LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        wrong = _token(client, "dawa.officer", "not-the-password-1")
        assert wrong.status_code == 401 and wrong.get_json()["reason"] == "bad_credentials"
    # Past the limit even the right password waits.
    held = _token(client, "dawa.officer", directory.people["dawa.officer"])
    assert held.status_code == 429


def test_an_empty_password_never_binds_anonymously(client: FlaskClient, directory: LdapServer,
                                                   dawa: Any) -> None:
    assert _token(client, "dawa.officer", "").status_code in (401, 422)
    from tracker.owners import ldap

    assert ldap.check_password("dawa.officer", "") is False


def test_someone_only_the_directory_knows_does_not_sign_in(
        client: FlaskClient, directory: LdapServer, world: Any) -> None:
    # lhamo.registrar is in the directory but not in the ledger: the ledger decides who is who.
    resp = _token(client, "lhamo.registrar", directory.people["lhamo.registrar"])
    assert resp.status_code == 401


def test_a_user_unknown_to_the_directory_is_refused(client: FlaskClient,
                                                     directory: LdapServer, world: Any) -> None:
    service.create_user(world.admin, "nobody.here", None, "officer", world.centre.id,
                        auth="ldap")
    db.session.commit()
    assert _token(client, "nobody.here", "whatever-pass-1").status_code == 401


def test_a_filter_injection_is_refused(app: Flask, client: FlaskClient, directory: LdapServer,
                                       world: Any, dawa: Any) -> None:
    from tracker.owners import ldap

    assert ldap.user_filter("(uid={username})", "*)(uid=*") == r"(uid=\2a\29\28uid=\2a)"
    # A ledger user named like an injection: the escaped filter finds nobody in the directory,
    # so no other entry's password (nor any entry) lets them in.
    service.create_user(world.admin, "*)(uid=*", None, "officer", world.centre.id,
                        auth="ldap")
    db.session.commit()
    for password in directory.people.values():
        assert _token(client, "*)(uid=*", password).status_code == 401
    with app.app_context():
        assert ldap.check_password("*", directory.people["dawa.officer"]) is False


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


def test_a_directory_that_is_down_is_a_503_and_local_users_still_sign_in(
        app: Flask, client: FlaskClient, directory: LdapServer, dawa: Any) -> None:
    app.config.update(TRACKER_LDAP_URL=f"ldap://127.0.0.1:{_closed_port()}",
                      TRACKER_LDAP_TIMEOUT=2)
    down = _token(client, "dawa.officer", directory.people["dawa.officer"])
    assert down.status_code == 503
    body = down.get_json()
    assert body["reason"] == "directory_unavailable"
    assert "LDAP" in body["message"]
    # In the user's language on the page: dawa reads Tibetan.
    client.set_cookie("lang", "bo")
    page = login(client, "dawa.officer", directory.people["dawa.officer"])
    assert page.status_code == 503 and TIBETAN.search(page.text)
    client.delete_cookie("lang")
    # The admin (a local user) still signs in.
    assert _token(client, "admin", PASSWORD).status_code == 201
    # A directory that is down is not the user's fault: no failure was counted.
    from sqlalchemy import func, select

    from tracker.owners.models import LoginFailure

    assert db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.username == "dawa.officer")) == 0
