"""The issue page a clerk and a supervisor live in, evidence refusals that say why, the
import's results, and the admin's org tree (Flask test client, CSRF on)."""

from __future__ import annotations

import base64
import html
import io
import os
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from tests.support.pages import csrf_token, import_on_page, login, post_form
from tests.support.sheets import finding_row, write_csv
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.evidence import service as evidence
from tracker.issues.models import Event, Evidence, Issue, Upload
from tracker.owners.models import Org

DUPLICATE_ZH = "该文件已是本事项的佐证材料，无需重复上传；本次未上传任何文件。"
KEEP_ONE_ZH = "该事项已提交验收，至少须保留一份佐证材料；如需更换，请先上传新材料再撤回此份。"


def _actions(page: str) -> str:
    """The actions card of an issue page."""
    return page.split('data-testid="actions"')[1].split("</section>")[0]


def _files(app: Flask) -> list[str]:
    directory = app.config["TRACKER_EVIDENCE_DIR"]
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def _version(page: str) -> str:
    match = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    assert match, "no version on the page"
    return match.group(1)


# --- one comment box -------------------------------------------------------------------


def test_close_and_reject_share_one_comment_box(client: FlaskClient, world: Any,
                                                make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "zhou")
    card = _actions(client.get(f"/issues/{issue.id}").text)
    assert card.count("<textarea") == 1 and card.count("<form") == 1
    assert 'name="action" value="close"' in card and 'name="action" value="reject"' in card
    assert "随所按的按钮一并提交；驳回或重新打开时必填。" in card


def test_the_comment_goes_with_the_button_pressed(client: FlaskClient, world: Any,
                                                  make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "zhou")
    resp = post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/transition",
                     {"action": "reject", "comment": "请补充现场照片"})
    assert resp.status_code == 303
    event_ = db.session.scalar(select(Event).where(Event.kind == "reject"))
    assert event_ is not None and event_.comment == "请补充现场照片"


def test_the_officer_notes_and_submits_from_the_same_box(client: FlaskClient, world: Any,
                                                         make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress", evidence=1)
    login(client, "off")
    card = _actions(client.get(f"/issues/{issue.id}").text)
    assert card.count("<textarea") == 1
    assert 'name="action" value="submit"' in card
    assert f'formaction="/issues/{issue.id}/notes"' in card and "添加进展说明" in card


def test_an_officer_without_evidence_is_told_why_submit_is_not_offered(
        client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")
    login(client, "off")
    card = _actions(client.get(f"/issues/{issue.id}").text)
    assert 'value="submit"' not in card
    assert "提交验收前请先上传佐证材料。" in card
    assert "添加进展说明" in card  # the note is still offered


def test_a_stale_close_is_refused_and_keeps_the_typed_comment(client: FlaskClient, world: Any,
                                                              make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted", evidence=1)
    login(client, "zhou")
    stale = client.get(f"/issues/{issue.id}").text
    issues.add_note(db.session.get(Issue, issue.id), world.officer, "又补充了一张照片")
    db.session.commit()  # the officer wrote meanwhile: the page's version is old
    resp = client.post(f"/issues/{issue.id}/transition", data={
        "csrf_token": csrf_token(stale), "version": _version(stale), "action": "close",
        "comment": "现场核查属实，同意销号"})
    assert resp.status_code == 412
    assert "现场核查属实，同意销号</textarea>" in resp.text  # not thrown away
    assert "又补充了一张照片" in resp.text  # the page as it is now
    # It says that this is the fresh page, not "reload and try again".
    assert "下面是该事项现在的样子" in resp.text and "请刷新页面后重试" not in resp.text
    assert db.session.get(Issue, issue.id).status == "submitted"
    # The page shown carries the current version: pressing 销号 again closes.
    again = client.post(f"/issues/{issue.id}/transition", data={
        "csrf_token": csrf_token(resp.text), "version": _version(resp.text), "action": "close",
        "comment": "现场核查属实，同意销号"})
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "closed"


def test_a_reject_without_comment_shows_the_page_again_with_the_reason(
        client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "zhou")
    resp = post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/transition",
                     {"action": "reject", "comment": ""})
    assert resp.status_code == 422
    assert "驳回或重新打开需要填写意见。" in resp.text
    assert db.session.get(Issue, issue.id).status == "submitted"


def test_a_note_from_the_shared_box_is_kept_on_a_page_changed_meanwhile(
        client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted", evidence=1)
    login(client, "off")
    stale = client.get(f"/issues/{issue.id}").text
    issues.transition(db.session.get(Issue, issue.id), world.supervisor, "reject", "照片不清楚")
    db.session.commit()
    # What the browser sends for the box's note button: the whole form, version included.
    resp = client.post(f"/issues/{issue.id}/notes", data={
        "csrf_token": csrf_token(stale), "version": _version(stale),
        "comment": "已重新拍摄，明天上传"})
    assert resp.status_code == 303
    notes = db.session.scalars(select(Event.comment).where(Event.kind == "note")).all()
    assert notes == ["已重新拍摄，明天上传"]


# --- duplicate evidence ----------------------------------------------------------------


def _upload_page(client: FlaskClient, issue_id: int, name: str, data: bytes) -> Any:
    token = csrf_token(client.get(f"/issues/{issue_id}").text)
    return client.post(f"/issues/{issue_id}/evidence", data={
        "csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def test_the_same_file_twice_on_the_page_is_refused_with_a_flash(
        app: Flask, client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")
    login(client, "off")
    sheet = "培训签到 12 人".encode()
    assert _upload_page(client, issue.id, "签到表.txt", sheet).status_code == 303
    kept = _files(app)
    resp = _upload_page(client, issue.id, "签到表(1).txt", sheet)
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).text
    assert DUPLICATE_ZH in page and "与已上传的 签到表.txt 内容相同。" in page
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 1
    assert db.session.get(Issue, issue.id).evidence_count == 1
    assert _files(app) == kept  # no orphan on disk


def test_the_same_file_twice_in_the_api_is_422_with_a_reason(app: Flask, api: Any, world: Any,
                                                             make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    url = f"/api/v1/issues/{issue.id}/evidence"

    def send(name: str) -> Any:
        return api.post(url, user=world.officer, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"%PDF-1.4 report"), name)})

    assert send("验收单.pdf").status_code == 201
    kept = _files(app)
    resp = send("验收单-副本.pdf")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["reason"] == "duplicate_evidence"
    assert body["message"] == DUPLICATE_ZH and body["errors"]["file"] == [
        "与已上传的 验收单.pdf 内容相同。"]
    assert _files(app) == kept
    assert len(db.session.scalars(select(Event).where(Event.kind == "evidence_added")).all()) == 1
    english = api.post(url, user=world.officer, content_type="multipart/form-data",
                       headers={"Accept-Language": "en"},
                       data={"file": (io.BytesIO(b"%PDF-1.4 report"), "copy.pdf")})
    assert english.get_json()["message"] == (
        "This file is already among the evidence of this issue; nothing was uploaded.")


def test_a_finished_resumable_upload_of_the_same_file_keeps_nothing(
        app: Flask, api: Any, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")
    content = b"%PDF-1.7\n" + b"photo of the new queue machine " * 100
    evidence.add_evidence(world.officer, issue, io.BytesIO(content), "取号机.pdf")
    db.session.commit()
    kept = _files(app)
    tus = {"Tus-Resumable": "1.0.0"}
    name = base64.b64encode("取号机-再传.pdf".encode()).decode()
    created = api.post(f"/api/v1/issues/{issue.id}/uploads", user=world.officer, headers={
        **tus, "Upload-Length": str(len(content)), "Upload-Metadata": f"filename {name}"})
    assert created.status_code == 201
    resp = api.call("PATCH", created.headers["Location"], user=world.officer, data=content,
                    headers={**tus, "Upload-Offset": "0",
                             "Content-Type": "application/offset+octet-stream"})
    assert resp.status_code == 422
    assert resp.get_json()["reason"] == "duplicate_evidence"
    assert resp.get_json()["message"] == DUPLICATE_ZH
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 1
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    assert _files(app) == kept  # neither the tus bytes nor a second stored file


def test_a_withdrawn_file_may_be_uploaded_again_and_other_issues_take_the_same_file(
        world: Any, make: Any) -> None:
    one = make.issue(world.centre, world.officer, world.campaign, world.category)
    other = make.issue(world.centre, world.officer, world.campaign, world.category2)
    ev = evidence.add_evidence(world.officer, one, io.BytesIO(b"notice v1"), "告知单.txt")
    evidence.add_evidence(world.officer, other, io.BytesIO(b"notice v1"), "告知单.txt")
    evidence.withdraw_evidence(world.officer, one, ev.id)
    again = evidence.add_evidence(world.officer, one, io.BytesIO(b"notice v1"), "告知单.txt")
    db.session.commit()
    assert again.id != ev.id and one.evidence_count == 1 and other.evidence_count == 1


# --- withdrawing the last file ---------------------------------------------------------


def test_withdrawing_the_last_file_of_a_submitted_issue_says_why(
        client: FlaskClient, api: Any, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(b"done"), "说明.txt")
    issues.transition(issue, world.officer, "submit")
    db.session.commit()
    login(client, "off")
    resp = post_form(client, f"/issues/{issue.id}",
                     f"/issues/{issue.id}/evidence/{ev.id}/withdraw", {})
    page = client.get(resp.headers["Location"]).text
    assert KEEP_ONE_ZH in page
    refused = api.delete(f"/api/v1/issues/{issue.id}/evidence/{ev.id}", user=world.officer,
                         headers={"Accept-Language": "en"})
    assert refused.status_code == 409 and refused.get_json()["reason"] == "evidence_required"
    assert db.session.get(Issue, issue.id).evidence_count == 1


def test_the_withdrawal_refusal_in_english_and_tibetan(api: Any, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(b"done"), "说明.txt")
    issues.transition(issue, world.officer, "submit")
    world.officer.locale = "en"
    db.session.commit()
    url = f"/api/v1/issues/{issue.id}/evidence/{ev.id}"
    assert api.delete(url, user=world.officer).get_json()["message"] == (
        "This issue has been submitted for verification, so it must keep at least one evidence "
        "file; to replace this one, upload the new file first, then withdraw this one.")
    world.officer.locale = "bo"
    db.session.commit()
    message = api.delete(url, user=world.officer).get_json()["message"]
    assert "ཕྱིར་འཐེན" in message and "ར་སྤྲོད་ཡིག་ཆ" in message


# --- the import's results --------------------------------------------------------------


def _import(client: FlaskClient, world: Any, path: str) -> Any:
    return import_on_page(client, path, world.campaign.id)


@pytest.mark.commits  # the import runs as a job, which reports on a connection of its own
def test_the_import_links_each_new_finding_and_the_ledger_of_them(
        client: FlaskClient, world: Any, make: Any, tmp_path: Any) -> None:
    make.issue(world.centre, world.officer, world.campaign, world.category, title="早已登记")
    db.session.commit()
    path = write_csv(str(tmp_path / "台账.csv"), [finding_row(1, "窗口授权不到位"),
                                                  finding_row(2, "群众办事来回跑")])
    login(client, "reg")
    resp = _import(client, world, path)
    assert resp.status_code == 200
    new = db.session.scalars(select(Issue.id).where(Issue.title.in_(
        ["窗口授权不到位", "群众办事来回跑"])).order_by(Issue.id)).all()
    done = resp.text.split('data-testid="import-done"')[1].split('data-testid="import-again"')[0]
    assert len(new) == 2
    for issue_id in new:
        assert f'href="/issues/{issue_id}"' in done and f"#{issue_id}<" in done
    link = re.search(r'href="([^"]+)" data-testid="import-ledger"', done)
    assert link, done
    ledger = html.unescape(link.group(1))
    listed = client.get(ledger).text
    assert "窗口授权不到位" in listed and "群众办事来回跑" in listed
    assert "早已登记" not in listed  # only what this import registered


@pytest.mark.commits
def test_each_import_error_names_its_row_and_the_title_given_there(
        client: FlaskClient, world: Any, tmp_path: Any) -> None:
    path = write_csv(str(tmp_path / "错误.csv"), [
        finding_row(1, "窗口授权不到位"),
        finding_row(2, "群众办事来回跑", org="火星"),
        finding_row(3, "排队等待时间长", owner="nobody"),
    ])
    login(client, "reg")
    resp = _import(client, world, path)
    assert 'data-testid="import-failed"' in resp.text
    rows = re.findall(r"<tr><td>(第 \d+ 行)</td><td>([^<]*)</td>",
                      resp.text.split('data-testid="import-errors"')[1])
    assert ("第 3 行", "群众办事来回跑") in rows and ("第 4 行", "排队等待时间长") in rows
    assert "该行的问题" in resp.text
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 0


# --- the admin's org tree --------------------------------------------------------------


def _codes(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr><td>([^<]+)</td>", body)


def test_the_org_list_is_a_tree_each_org_followed_by_its_children(
        client: FlaskClient, world: Any, make: Any) -> None:
    make.org("玛多县民政局窗口", "department", world.centre, code="MD-MZ")
    make.org("达日县", "county", world.prefecture, code="DR")
    db.session.commit()
    login(client, "admin")
    codes = _codes(client.get("/admin/orgs").text)
    # By level it was GL, DR, JZ, MD, JZ-ZX, MD-ZX, MD-MZ, MD-RS.
    assert codes == ["GL", "DR", "JZ", "JZ-ZX", "MD", "MD-ZX", "MD-MZ", "MD-RS"]
    # 人社窗口 (MD-RS) and 玛多县民政局窗口 (MD-MZ): the matches keep the tree's order.
    assert _codes(client.get("/admin/orgs?q=窗口").text) == ["MD-MZ", "MD-RS"]


def _bulk_tree(root: Org, counties: int, per_county: int) -> int:
    """A prefecture's tree of ``counties`` counties with ``per_county`` orgs each (centre and
    windows), inserted level by level; returns how many orgs it added."""
    added = 0
    county_rows = [Org(code=f"X{c:03d}", name=f"第{c}县", kind="county", parent_id=root.id,
                       depth=root.depth + 1) for c in range(counties)]
    db.session.add_all(county_rows)
    db.session.flush()
    added += len(county_rows)
    for county in county_rows:
        centre = Org(code=f"{county.code}-ZX", name=f"{county.name}行政服务中心", kind="centre",
                     parent_id=county.id, depth=county.depth + 1)
        db.session.add(centre)
        db.session.flush()
        db.session.add_all([
            Org(code=f"{county.code}-W{w:03d}", name=f"{county.name}窗口{w}", kind="department",
                parent_id=centre.id, depth=centre.depth + 1) for w in range(per_county - 1)])
        added += per_county
    db.session.commit()
    return added


def _admin_orgs(client: FlaskClient, path: str) -> tuple[int, float, str]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    db.session.rollback()
    event.listen(db.engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        resp = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == 200
    return len(statements), time.perf_counter() - started, resp.text


def test_the_org_tree_page_stays_fast_at_ten_thousand_orgs(client: FlaskClient, world: Any,
                                                          make: Any) -> None:
    from tracker.owners.views import PAGE_SIZE

    login(client, "admin")
    small, _seconds, _page = _admin_orgs(client, "/admin/orgs")
    assert _bulk_tree(world.prefecture, 100, 99) == 10_000
    large, seconds, page = _admin_orgs(client, "/admin/orgs?page=3")
    assert large == small  # no statement per org
    assert seconds < 5, f"{seconds:.1f} s for one page of 10,000 orgs"
    tree = ["GL", "JZ", "JZ-ZX", "MD", "MD-ZX", "MD-RS"]
    for c in range(100):
        tree += [f"X{c:03d}", f"X{c:03d}-ZX"] + [f"X{c:03d}-W{w:03d}" for w in range(98)]
    assert _codes(page) == tree[2 * PAGE_SIZE:3 * PAGE_SIZE]
    assert "共 10006 项" in page and "第 3 页，共 101 页" in page
