"""Users by spreadsheet (SPEC §6 "User import columns"): all rows or none, in the reader's
language, a temporary password per new local user."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.support.pages import csrf_token, login
from tracker.extensions import db
from tracker.owners.imports import UsersImportFailed, import_users
from tracker.owners.models import User
from tracker.owners.passwords import password_problem


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


CHINESE = [["用户名", "姓名", "单位", "角色", "邮箱", "语言", "认证"],
           ["dawa", "达瓦", "MD-ZX", "责任人", "dawa@example.gov.cn", "藏文", "local"],
           ["lhamo", "拉姆", "玛多县行政服务中心", "登记员", "", "中文", ""],
           ["pema", "白玛", "MD", "supervisor", "", "en", "ldap"]]


def _users() -> dict[str, User]:
    return {u.username: u for u in db.session.scalars(select(User))}


def test_chinese_headers_words_and_codes_import(world: Any, tmp_path: Any) -> None:
    path = tmp_path / "人员.csv"
    path.write_bytes(_csv(CHINESE))
    report = import_users(str(path), path.name, world.admin)
    db.session.commit()
    users = _users()
    dawa, lhamo, pema = users["dawa"], users["lhamo"], users["pema"]
    assert (dawa.role, dawa.org_id, dawa.locale, dawa.auth) == (
        "officer", world.centre.id, "bo", "local")
    assert (lhamo.role, lhamo.org_id, lhamo.locale) == ("registrar", world.centre.id, "zh_Hans")
    assert (pema.role, pema.org_id, pema.auth, pema.password_hash) == (
        "supervisor", world.county.id, "ldap", "")
    assert dawa.must_change_password and lhamo.must_change_password
    passwords = {u["username"]: u.get("temporary_password") for u in report.users}
    assert passwords["pema"] is None and password_problem(passwords["dawa"], "dawa") is None


def test_english_headers_in_an_xlsx(world: Any, api: Any) -> None:
    body = _xlsx([["username", "display_name", "org", "role"],
                  ["gesang", "格桑", "JZ-ZX", "officer"]])
    resp = api.post("/api/v1/users/import", user=world.admin,
                    data={"file": (io.BytesIO(body), "users.xlsx")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    (made,) = resp.get_json()["users"]
    token = api.client.post("/api/v1/auth/tokens", json={
        "username": "gesang", "password": made["temporary_password"]})
    assert token.status_code == 201
    refused = api.client.get("/api/v1/issues", headers={
        "Authorization": f"Bearer {token.get_json()['token']}"})
    assert refused.get_json()["reason"] == "password_change_required"


def test_all_or_nothing_with_row_numbered_errors(world: Any, api: Any) -> None:
    rows = [*CHINESE, ["off", "才让", "MD-ZX", "责任人"],  # exists already
            ["dawa", "又一个达瓦", "MD-ZX", "责任人"],  # twice in the file
            ["tsering", "次仁", "没有这个单位", "局长", "not-an-email", "法语", "kerberos"]]
    resp = api.post("/api/v1/users/import", user=world.admin,
                    data={"file": (io.BytesIO(_csv(rows)), "users.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]["rows"]
    by_row: dict[int, list[str]] = {}
    for e in errors:
        by_row.setdefault(e["row"], []).append(e["text"])
    assert set(by_row) == {5, 6, 7}
    assert any("已存在" in t for t in by_row[5]) and any("第 2 行" in t for t in by_row[6])
    assert len(by_row[7]) == 5 and all(t.startswith("第 7 行") for t in by_row[7])
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.username.in_(["dawa", "lhamo", "pema"]))) == 0


def test_errors_come_in_the_readers_language(world: Any, api: Any) -> None:
    from tracker.owners import service

    service.update_user(world.admin, world.admin, locale="bo")
    db.session.commit()
    resp = api.post("/api/v1/users/import", user=world.admin,
                    data={"file": (io.BytesIO(_csv([CHINESE[0], ["x", "x", "?", "?"]])),
                                   "users.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    import re

    for e in resp.get_json()["errors"]["rows"]:
        assert re.search(r"[\u0f40-\u0fbc]", e["text"]), e


def test_a_dry_run_saves_nothing(world: Any, api: Any) -> None:
    resp = api.post("/api/v1/users/import?dry_run=true", user=world.admin,
                    data={"file": (io.BytesIO(_csv(CHINESE)), "users.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201 and resp.get_json()["dry_run"] is True
    assert resp.get_json()["rows"] == 3 and "dawa" not in _users()


def test_only_an_admin_imports_users(world: Any, api: Any) -> None:
    resp = api.post("/api/v1/users/import", user=world.supervisor,
                    data={"file": (io.BytesIO(_csv(CHINESE)), "users.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 403


def test_the_command_prints_the_temporary_passwords(world: Any, runner: Any,
                                                    tmp_path: Any) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(_csv(CHINESE))
    result = runner.invoke(args=["import-users", str(path)])
    assert result.exit_code == 0, result.output
    assert "已添加 3 个用户" in result.output
    lines = [line.split("\t") for line in result.output.splitlines() if "\t" in line]
    assert sorted(name for name, _pw in lines) == ["dawa", "lhamo"]  # pema signs in by ldap
    again = runner.invoke(args=["import-users", str(path)])
    assert again.exit_code == 1 and "第 2 行" in again.output


def test_the_page_imports_and_offers_the_template(client: FlaskClient, world: Any) -> None:
    login(client, "admin")
    page = client.get("/admin/users/import")
    assert page.status_code == 200 and "导入用户" in page.text
    template = client.get("/admin/users/import/template")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data), read_only=True).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows())] == CHINESE[0]
    done = client.post("/admin/users/import", data={
        "csrf_token": csrf_token(page.text),
        "file": (io.BytesIO(_csv(CHINESE)), "users.csv")}, content_type="multipart/form-data")
    assert done.status_code == 200, done.text
    assert "dawa" in done.text and done.headers["Cache-Control"] == "no-store"


def test_the_template_imports_as_downloaded(world: Any, client: FlaskClient,
                                            tmp_path: Any) -> None:
    login(client, "admin")
    template = client.get("/admin/users/import/template").data
    wb = load_workbook(io.BytesIO(template))
    wb.worksheets[0].append(["yangjin", "央金", "MD-RS", "责任人", "", "藏文", "local"])
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    report = import_users(str(path), "filled.xlsx", world.admin)
    assert report.created == 1


def test_a_thousand_users_import_in_seconds(world: Any, tmp_path: Any) -> None:
    rows = [CHINESE[0]] + [[f"user{i:04d}", f"用户{i}", "MD-ZX", "责任人", "", "中文", "local"]
                           for i in range(1000)]
    path = tmp_path / "many.csv"
    path.write_bytes(_csv(rows))
    started = time.perf_counter()
    report = import_users(str(path), path.name, world.admin)
    db.session.commit()
    took = time.perf_counter() - started
    assert report.created == 1000
    # The test configuration hashes cheaply; a generous bound for a loaded 2-core machine.
    assert took < 30, took
    with pytest.raises(UsersImportFailed):
        import_users(str(path), path.name, world.admin)


# --- 1,000 users in seconds (issue 24) ---------------------------------------------------


def _many(n: int) -> bytes:
    rows = [["用户名", "姓名", "单位", "角色"]]
    rows += [[f"chuangkou{i:04d}", f"窗口人员{i}", "MD-ZX", "责任人"] for i in range(n)]
    return _csv(rows)


def test_a_thousand_users_import_in_a_bounded_number_of_statements_without_scrypt(
        world: Any, tmp_path: Any, config: Any) -> None:
    from tests.support.statements import statements
    from tracker.owners.passwords import is_temporary_hash

    config(TRACKER_PASSWORD_METHOD="scrypt")  # production's hash for chosen passwords
    counts = {}
    for n in (10, 1000):
        path = tmp_path / f"{n}.csv"
        path.write_bytes(_many(n).replace(b"chuangkou", f"u{n}x".encode()))
        with statements() as seen:
            report = import_users(str(path), path.name, world.admin)
        counts[n] = len(seen)
        assert report.created == n
    # Batched: a thousand users cost a few statements more than ten, not a thousand more.
    assert counts[1000] <= counts[10] + 10, counts
    hashes = db.session.scalars(select(User.password_hash).where(
        User.username.like("u1000x%"))).all()
    assert len(hashes) == 1000 and all(is_temporary_hash(h) for h in hashes)


def test_a_temporary_password_signs_in_and_the_chosen_one_gets_the_production_hash(
        world: Any, client: FlaskClient, tmp_path: Any, config: Any) -> None:
    from tracker.owners.passwords import TEMPORARY_LENGTH, is_temporary_hash

    config(TRACKER_PASSWORD_METHOD="scrypt")
    path = tmp_path / "users.csv"
    path.write_bytes(_csv(CHINESE))
    report = import_users(str(path), path.name, world.admin)
    db.session.commit()
    made = {u["username"]: u.get("temporary_password") for u in report.users}["dawa"]
    assert len(made) >= TEMPORARY_LENGTH
    assert is_temporary_hash(_users()["dawa"].password_hash)
    login(client, "dawa", made)
    assert client.get("/").headers["Location"].endswith("/account/password")
    page = client.get("/account/password")
    resp = client.post("/account/password", data={
        "current_password": made, "new_password": "gesar-ling-2018",
        "confirm": "gesar-ling-2018", "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200
    db.session.expire_all()
    dawa = _users()["dawa"]
    assert dawa.password_hash.startswith("scrypt:") and not dawa.must_change_password
