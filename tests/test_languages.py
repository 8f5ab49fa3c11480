"""The users' languages: Tibetan as a third language, Chinese without English, the user's
``locale`` choosing pages and the API's refusals, Tibetan names, the served Tibetan font."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook

from tests.support.languages import data_of, english_sentences, visible_text
from tests.support.pages import csrf_token, login
from tracker.extensions import db
from tracker.owners import service as owners

#: Tibetan letters (the Tibetan block, without its digits and marks).
TIBETAN = re.compile(r"[\u0f40-\u0fbc]")


def test_the_detector_finds_english_and_spares_names_and_data() -> None:
    assert english_sentences("No such org in your scope.") == ["No such org in your scope"]
    assert english_sentences("第 3 行，单位：No org with code") == ["No org with code"]
    assert english_sentences("上传 PDF、Office 文档或 Excel / CSV") == []
    assert english_sentences("maduo.officer1 · 2018-07-07 14:03 · 证据.pdf") == []
    assert english_sentences("登记员 jz reg", {"jz reg"}) == []


# --- the world the walk reads ----------------------------------------------------------


@pytest.fixture
def ledger(world: Any, make: Any) -> dict[str, Any]:
    """Issues in every state, with history, evidence, an extension and notices."""
    from tracker.issues.deadlines import service as extensions

    open_issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    started = make.issue(world.centre, world.officer, world.campaign, world.category2,
                         status="in_progress", evidence=1)
    submitted = make.issue(world.centre, world.officer, world.campaign, world.category,
                           status="submitted")
    closed = make.issue(world.department, world.officer2, world.campaign, world.category,
                        status="closed")
    from tracker.issues import service as issues

    issues.update_issue(started, world.registrar, {"starts_on": date(2018, 7, 8),
                                                   "owner_id": world.officer2.id,
                                                   "category_id": world.category.id})
    issues.add_note(started, world.officer2, "新取号机已到货")
    extensions.request_extension(open_issue, world.officer, date(2019, 6, 30), "牧区路远")
    db.session.commit()
    for org, name_bo in ((world.prefecture, "མགོ་ལོག་ཁུལ"), (world.county, "རྨ་སྟོད་རྫོང"),
                         (world.centre, "རྨ་སྟོད་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས")):
        owners.update_org(world.admin, org, name_bo=name_bo)
    world.category.name_bo = "ཞིབ་དཔྱད་ཆོག་མཆན་གྱི་དོན་ཚན་“ཕྱོགས་གཅིག་ཏུ་མ་བསྡུས་པ”"
    db.session.commit()
    return {"open": open_issue, "started": started, "submitted": submitted, "closed": closed}


def _as(client: FlaskClient, user: Any, lang: str) -> None:
    """Log ``user`` in with ``lang`` as their language (their ``locale``)."""
    owners.update_user(user, user, locale=lang)
    db.session.commit()
    client.delete_cookie("session")
    resp = login(client, user.username)
    assert resp.status_code in (302, 303), resp.text


def _pages(world: Any, ledger: dict[str, Any]) -> dict[str, list[str]]:
    """Every page each role may open, by the user who opens it."""
    issue_pages = [f"/issues/{i.id}" for i in ledger.values()]
    common = ["/", "/issues", "/issues?overdue=true", "/notifications", "/no-such-page",
              "/issues/999999", *issue_pages]
    return {
        "officer": common + ["/reports/overdue", "/imports", "/admin/orgs"],  # 403 pages too
        "registrar": common + ["/issues/new", f"/issues/{ledger['open'].id}/edit",
                               "/reports/overdue", "/reports/summary", "/imports"],
        "supervisor": common + ["/reports/overdue", "/reports/summary?as_of=2019-03-01",
                                "/imports"],
        "admin": common + ["/admin", "/admin/orgs", "/admin/orgs/new",
                           f"/admin/orgs/{world.centre.id}", "/admin/users", "/admin/users/new",
                           f"/admin/users/{world.officer.id}", "/admin/campaigns",
                           "/admin/campaigns/new", f"/admin/campaigns/{world.campaign.id}",
                           "/admin/categories", "/admin/categories/new",
                           f"/admin/categories/{world.category.id}", "/reports/summary"],
    }


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
def test_every_page_speaks_one_language(client: FlaskClient, world: Any, ledger: Any,
                                        lang: str) -> None:
    data = data_of(world)
    users = {"officer": world.officer, "registrar": world.registrar,
             "supervisor": world.supervisor, "admin": world.admin}
    found: dict[str, list[str]] = {}
    statuses: set[int] = set()
    client.set_cookie("lang", lang)
    page = client.get("/login")
    found["/login"] = english_sentences(visible_text(page.text), data)
    for role, paths in _pages(world, ledger).items():
        _as(client, users[role], lang)
        for path in paths:
            resp = client.get(path)
            statuses.add(resp.status_code)
            assert resp.mimetype == "text/html", path
            assert f'<html lang="{"zh-Hans" if lang == "zh_Hans" else "bo"}"' in resp.text
            if lang == "bo":
                assert TIBETAN.search(visible_text(resp.text)), path
            english = english_sentences(visible_text(resp.text), data)
            if english:
                found[f"{role} {path}"] = english
    assert {200, 403, 404} <= statuses
    assert not {k: v for k, v in found.items() if v}


def _post(client: FlaskClient, page: str, action: str, data: dict[str, Any],
          **kw: Any) -> Any:
    token = csrf_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=True, **kw)


def _xlsx(rows: list[list[Any]]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["单位", "问题类别", "问题", "原因分析", "整改措施", "责任人", "整改时限"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


@pytest.mark.commits  # the page's import runs as a job, which reports on its own connection
@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
def test_every_refusal_speaks_the_readers_language(client: FlaskClient, world: Any,
                                                   ledger: Any, lang: str) -> None:
    data = data_of(world) | {"不存在的单位", "不存在的类别", "nobody"}
    texts: dict[str, str] = {}
    open_id, started_id = ledger["open"].id, ledger["started"].id
    submitted_id, closed_id = ledger["submitted"].id, ledger["closed"].id

    _as(client, world.officer, lang)
    page = f"/issues/{open_id}"
    texts["submit without evidence"] = _post(client, page, f"/issues/{open_id}/transition",
                                             {"action": "submit"}).text
    texts["extension pending"] = _post(client, page, f"/issues/{open_id}/extensions",
                                       {"requested_due_on": "2019-08-01", "reason": "再等等"}).text
    texts["wrong file"] = _post(client, page, f"/issues/{open_id}/evidence",
                                {"file": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")},
                                content_type="multipart/form-data").text
    texts["empty note"] = _post(client, page, f"/issues/{open_id}/notes", {"comment": " "}).text
    texts["closed issue"] = client.get(f"/issues/{closed_id}").text

    _as(client, world.registrar, lang)
    page = f"/issues/{started_id}"
    texts["extension before start"] = _post(
        client, page, f"/issues/{started_id}/extensions",
        {"requested_due_on": "2018-07-01", "reason": "路远"}).text
    texts["register empty"] = _post(client, "/issues/new", "/issues/new",
                                    {"title": "", "due_on": "明年"}).text
    texts["register due before start"] = _post(client, "/issues/new", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "title": "取号机故障", "owner_id": world.officer.id,
        "starts_on": "2018-07-07", "due_on": "2018-07-01"}).text
    rows = [["不存在的单位", "C1", "群众办事来回跑", "原因", "措施", world.officer.username,
             "2018年7月7日至2019年1月7日"],
            [world.centre.code, "不存在的类别", "窗口设置不科学", "原因", "措施", "nobody",
             "半年"],
            [world.centre.code, "C1", "", "原因", "措施", world.officer.username,
             "2019年1月7日至2018年7月7日"]]
    # The page runs every import as a job: its page shows the rows' errors once it ran.
    queued = client.post("/imports", data={
        "csrf_token": csrf_token(client.get("/imports").text), "campaign_id": world.campaign.id,
        "file": (_xlsx(rows), "台账.xlsx")}, content_type="multipart/form-data")
    assert queued.status_code == 303, queued.text
    from tracker.jobs import service as jobs

    assert jobs.work(once=True) == 1
    texts["import rows"] = client.get(queued.headers["Location"]).text
    texts["import xls"] = _post(client, "/imports", "/imports", {
        "campaign_id": world.campaign.id,
        "file": (io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64), "台账.xls")},
        content_type="multipart/form-data").text

    _as(client, world.officer2, lang)
    texts["officer verifies"] = _post(client, f"/issues/{submitted_id}",
                                      f"/issues/{submitted_id}/transition",
                                      {"action": "close"}).text

    _as(client, world.supervisor, lang)
    texts["reject without comment"] = _post(client, f"/issues/{submitted_id}",
                                            f"/issues/{submitted_id}/transition",
                                            {"action": "reject", "comment": ""}).text
    texts["no csrf"] = client.post(f"/issues/{open_id}/notes", data={"comment": "x"}).text

    _as(client, world.admin, lang)
    texts["duplicate org code"] = _post(client, "/admin/orgs/new", "/admin/orgs/new", {
        "code": world.centre.code, "name": "重复", "kind": "department",
        "parent_id": world.centre.id}).text
    texts["short password"] = _post(client, "/admin/users/new", "/admin/users/new", {
        "username": "newuser", "display_name": "新用户", "role": "officer",
        "org_id": world.centre.id, "password": "short"}).text

    client.delete_cookie("session")
    client.set_cookie("lang", lang)
    texts["wrong password"] = _post(client, "/login", "/login",
                                    {"username": world.officer.username, "password": "nope-nope"}
                                    ).text

    refused = {name: re.findall(r'(?s)(?:class="[^"]*(?:alert-danger|invalid-feedback)[^"]*"|'
                                r'data-testid="error-message")[^>]*>(.*?)</(?:div|p)>', text)
               for name, text in texts.items()}
    refused.pop("closed issue")  # no refusal: the page offers no action on a closed issue
    missing = [name for name, shown in refused.items() if not shown]
    assert not missing, f"no refusal shown for {missing}"
    english = {name: english_sentences(visible_text(text), data)
               for name, text in texts.items()}
    assert not {k: v for k, v in english.items() if v}
    if lang == "bo":
        for name, shown in refused.items():
            assert TIBETAN.search(visible_text(" ".join(shown))), (name, shown)
    else:
        assert "第 2 行" in texts["import rows"] and "不存在的单位" in texts["import rows"]


def test_api_refusals_speak_the_callers_language(api: Any, world: Any, ledger: Any) -> None:
    path = f"/api/v1/issues/{ledger['open'].id}/transitions"
    # No locale on the user: Accept-Language, else Chinese.
    plain = api.post(path, world.officer, json={"action": "submit"})
    assert plain.status_code == 409 and plain.get_json()["message"] == "请先上传至少一份佐证材料。"
    english = api.post(path, world.officer, json={"action": "submit"},
                       headers={"Accept-Language": "en-US,en;q=0.8"})
    assert english.get_json()["message"] == "Attach at least one evidence file first."
    owners.update_user(world.officer, world.officer, locale="bo")
    db.session.commit()
    # The token user's locale wins over Accept-Language.
    tibetan = api.post(path, world.officer, json={"action": "submit"},
                       headers={"Accept-Language": "en"})
    body = tibetan.get_json()
    assert body["reason"] == "evidence_required" and TIBETAN.search(body["message"])
    invalid = api.post(f"/api/v1/issues/{ledger['open'].id}/extensions", world.officer,
                       json={"requested_due_on": "2018-07-01", "reason": "路远"})
    assert invalid.status_code == 422, invalid.get_json()
    (error,) = invalid.get_json()["errors"]["requested_due_on"]
    assert "2018" in error and TIBETAN.search(error)  # the start date written in Tibetan
    anonymous = api.get("/api/v1/issues", headers={"Accept-Language": "bo"})
    assert anonymous.status_code == 401 and TIBETAN.search(anonymous.get_json()["message"])
    assert english_sentences(api.get("/api/v1/issues").get_json()["message"]) == []


def test_the_users_locale_chooses_their_pages_until_they_switch(client: FlaskClient,
                                                                 world: Any) -> None:
    owners.update_user(world.officer, world.officer, locale="bo")
    db.session.commit()
    client.set_cookie("lang", "en")  # someone else's choice on this machine
    login(client, world.officer.username)
    home = client.get("/")
    assert '<html lang="bo">' in home.text and "ཞིག་གསོའི་ཐོ་དེབ" in home.text
    switched = _post(client, "/", "/language", {"lang": "zh_Hans"})
    assert '<html lang="zh-Hans">' in switched.text
    db.session.refresh(world.officer)
    assert world.officer.locale == "zh_Hans"


def test_tibetan_pages_show_the_tibetan_names(client: FlaskClient, world: Any,
                                              ledger: Any) -> None:
    _as(client, world.registrar, "bo")
    detail = client.get(f"/issues/{ledger['open'].id}").text
    assert "རྨ་སྟོད་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས" in detail and "玛多县行政服务中心" not in detail
    assert "ཕྱོགས་གཅིག་ཏུ་མ་བསྡུས་པ" in detail
    overdue = client.get("/reports/overdue").text  # today: all of 2019's deadlines passed
    assert "མགོ་ལོག་ཁུལ / རྨ་སྟོད་རྫོང / རྨ་སྟོད་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས" in overdue
    # An org without a Tibetan name keeps its Chinese one.
    assert "人社窗口" in client.get("/issues").text
    _as(client, world.registrar, "zh_Hans")
    assert "玛多县行政服务中心" in client.get(f"/issues/{ledger['open'].id}").text


def test_the_history_shows_labels_and_local_minutes(client: FlaskClient, world: Any,
                                                    ledger: Any) -> None:
    _as(client, world.registrar, "zh_Hans")
    page = client.get(f"/issues/{ledger['started'].id}").text
    history = page[page.index('data-testid="history"'):]
    assert "开始日期：2018年7月7日 → 2018年7月8日" in history
    assert "责任人：才让 → 卓玛" in history
    assert "starts_on" not in history and "owner_id" not in history
    assert not re.search(r"\d{2}:\d{2}:\d{2}", history)  # minutes, never seconds


def test_names_bo_through_the_api(api: Any, world: Any) -> None:
    created = api.post("/api/v1/orgs", world.admin, json={
        "code": "DR", "name": "达日县", "name_bo": " དར་ལག་རྫོང ", "kind": "county",
        "parent_id": world.prefecture.id})
    assert created.status_code == 201 and created.get_json()["name_bo"] == "དར་ལག་རྫོང"
    org_id = created.get_json()["id"]
    cleared = api.patch(f"/api/v1/orgs/{org_id}", world.admin, json={"name_bo": None})
    assert cleared.status_code == 200 and cleared.get_json()["name_bo"] is None
    assert api.get(f"/api/v1/orgs/{world.county.id}", world.officer).get_json()["name_bo"] is None
    cat = api.post("/api/v1/categories", world.admin, json={
        "code": "C8", "name": "新类别", "name_bo": "རིགས་གསར་པ"})
    assert cat.status_code == 201 and cat.get_json()["name_bo"] == "རིགས་གསར་པ"
    assert api.post("/api/v1/categories", world.admin, json={
        "code": "C9", "name": "类别九", "name_bo": "x" * 201}).status_code == 422


def test_admin_forms_keep_the_tibetan_name(client: FlaskClient, world: Any) -> None:
    _as(client, world.admin, "zh_Hans")
    page = f"/admin/orgs/{world.county.id}"
    _post(client, page, page, {"code": "MD", "name": "玛多县", "name_bo": "རྨ་སྟོད་རྫོང",
                               "kind": "county", "parent_id": world.prefecture.id})
    db.session.refresh(world.county)
    assert world.county.name_bo == "རྨ་སྟོད་རྫོང"
    page = f"/admin/categories/{world.category2.id}"
    _post(client, page, page, {"code": "C2", "name": world.category2.name,
                               "name_bo": "སྒེའུ་ཁུང་གི་བཀོད་སྒྲིག"})
    db.session.refresh(world.category2)
    assert world.category2.name_bo == "སྒེའུ་ཁུང་གི་བཀོད་སྒྲིག"


def test_the_tibetan_font_is_served_and_used_for_tibetan(client: FlaskClient) -> None:
    with client.get("/static/app.css") as resp:
        css = resp.text
    assert '@font-face { font-family: "Tracker Tibetan"' in css
    assert ':lang(bo) { font-family: "Tracker Tibetan"' in css
    for name in re.findall(r'url\("(fonts/[^"]+)"\)', css):
        with client.get(f"/static/{name}") as font:
            assert font.status_code == 200 and font.data[:4] == b"\x00\x01\x00\x00"
    with client.get("/static/fonts/OFL.txt") as licence:
        assert "SIL Open Font License" in licence.text



def test_the_chinese_catalogue_uses_full_width_punctuation() -> None:
    from babel.messages.pofile import read_po

    with open("tracker/translations/zh_Hans/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="zh_Hans")
    half = []
    for message in catalog:
        if not message.id:
            continue
        # Placeholders, numbers (7,3,1,0) and quoted code (“Content-Type: …”) keep ASCII.
        text = re.sub(r"%\(\w+\)[sd]|\d(?:,\d)+|“[^”]*”|https?://\S*", "",
                      str(message.string))
        if re.search(r"[,;:()!?]", text) and re.search(r"[\u4e00-\u9fff]", text):
            half.append(message.string)
    assert half == []


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
def test_every_message_has_a_translation(lang: str) -> None:
    from babel.messages.pofile import read_po

    with open(f"tracker/translations/{lang}/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    assert [m.id for m in catalog if m.id and not m.string] == []


def test_the_demo_has_tibetan_readers_of_every_role_and_tibetan_names() -> None:
    from tracker.issues import demo_data

    readers = {u["role"] for u in demo_data.USERS if u["locale"] == "bo"}
    assert readers == {"admin", "supervisor", "registrar", "officer"}
    assert set(demo_data.BO_ORG_NAMES) == {o["code"] for o in demo_data.ORGS}
    assert set(demo_data.BO_CATEGORY_NAMES) == {code for code, _name in demo_data.CATEGORIES}
    assert demo_data.BO_ORG_NAMES["GL"] == "མགོ་ལོག་ཁུལ"
