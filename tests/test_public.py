"""Public disclosure (政务公开, SPEC §6): published campaigns without login, nothing personal,
a campaign not public answers 404, answers cached by ETag and revalidated with 304."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import event, select

from tests.support.pages import csrf_token, login, page_client
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.models import Campaign, Event, Evidence, Issue, Status
from tracker.owners.models import User

LANGS = ("zh_Hans", "bo", "en")


@pytest.fixture
def demo(runner, ctx) -> Campaign:
    """The seed report's world, its campaign published (the demo's other one is not)."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(select(Campaign).where(Campaign.public.is_(True)))
    assert campaign is not None and campaign.reference == "果行公〔2018〕20号"
    assert db.session.scalar(select(db.func.count()).select_from(Campaign)
                             .where(Campaign.public.is_(False))) == 1
    return campaign


def _everything_public(client, campaign_id: int) -> list[str]:
    """Every public answer of the campaign: the pages in the three languages (every page of
    closed findings) and the JSON (every page)."""
    bodies = []
    for lang in LANGS:
        for path in ("/public", f"/public/campaigns/{campaign_id}"):
            resp = client.get(path, query_string={"lang": lang})
            assert resp.status_code == 200, (path, lang)
            bodies.append(resp.text)
    bodies.append(client.get("/api/v1/public/campaigns").text)
    page = 1
    while True:
        resp = client.get(f"/api/v1/public/campaigns/{campaign_id}",
                          query_string={"page": page, "page_size": 2})
        assert resp.status_code == 200
        bodies.append(resp.text)
        if page >= json.loads(resp.headers["X-Pagination"])["total_pages"]:
            break
        page += 1
    return bodies


def test_public_answers_name_no_person_of_the_demo(pages, demo):
    bodies = _everything_public(pages, demo.id)
    people = db.session.execute(select(User.username, User.display_name, User.email)).all()
    assert len(people) > 10
    for body in bodies:
        for username, display_name, email in people:
            # A username as a word of its own ("admin", not the "administrative" of a text).
            assert not re.search(rf"(?<![\w.]){re.escape(username)}(?![\w.])", body), username
            assert display_name not in body
            assert not email or email not in body


def test_public_answers_hold_no_cause_comment_evidence_or_open_finding(pages, demo):
    text = "\n".join(_everything_public(pages, demo.id))
    rows = db.session.execute(select(Issue.title, Issue.cause, Issue.status,
                                     Issue.campaign_id)).all()
    assert any(status == Status.closed.value and campaign_id != demo.id
               for _t, _c, status, campaign_id in rows)  # closed, in the unpublished one
    for title, cause, status, campaign_id in rows:
        if cause:
            assert cause not in text
        if status == Status.closed.value and campaign_id == demo.id:
            assert title in text
        else:
            assert title not in text
    comments = [c for c in db.session.scalars(select(Event.comment)) if len(c or "") > 3]
    assert comments and not any(c in text for c in comments)
    for filename, sha256 in db.session.execute(select(Evidence.filename, Evidence.sha256)):
        assert filename not in text and sha256 not in text


def test_public_json_has_counties_and_closed_findings(pages, demo):
    resp = pages.get(f"/api/v1/public/campaigns/{demo.id}", query_string={"page_size": 500})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    assert resp.headers["ETag"]
    body = resp.get_json()
    closed = db.session.scalars(select(Issue).where(Issue.status == Status.closed.value,
                                                    Issue.campaign_id == demo.id)).all()
    total = db.session.scalar(select(db.func.count()).select_from(Issue)
                              .where(Issue.campaign_id == demo.id))
    assert body["totals"]["total"] == total and body["totals"]["closed"] == len(closed)
    assert sum(c["total"] for c in body["counties"]) == total
    names = {c["name"] for c in body["counties"]}
    assert {"玛沁县", "甘德县", "达日县", "玛多县", "班玛县", "久治县"} <= names
    for county in body["counties"]:
        assert set(county) == {"org_id", "name", "total", "closed", "completion_rate",
                               "on_time_rate"}
        assert county["completion_rate"] == round(county["closed"] / county["total"], 4)
    assert len(body["closed_findings"]) == len(closed)
    finding = body["closed_findings"][0]
    assert set(finding) == {"title", "category", "county", "measures", "closed_on"}
    assert finding["county"] in names


def test_on_time_rate_counts_closures_by_the_due_date(pages, world, make):
    world.campaign.public = True
    db.session.commit()
    early = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="closed", due_on=date(2099, 1, 1))
    late = make.issue(world.centre, world.officer, world.campaign, world.category,
                      status="closed", due_on=date(2019, 1, 7))
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    assert early.closed_on <= early.due_on and late.closed_on > late.due_on
    body = pages.get(f"/api/v1/public/campaigns/{world.campaign.id}").get_json()
    by_name = {c["name"]: c for c in body["counties"]}
    assert by_name["玛多县"] == {"org_id": world.county.id, "name": "玛多县", "total": 2,
                               "closed": 2, "completion_rate": 1.0, "on_time_rate": 0.5}
    assert by_name["久治县"]["on_time_rate"] is None
    assert body["totals"] == {"total": 3, "closed": 2, "completion_rate": 0.6667,
                              "on_time_rate": 0.5}


def test_a_campaign_not_public_answers_404(pages, world, make):
    make.issue(world.centre, world.officer, world.campaign, world.category, status="closed")
    assert pages.get(f"/api/v1/public/campaigns/{world.campaign.id}").status_code == 404
    assert pages.get(f"/public/campaigns/{world.campaign.id}").status_code == 404
    assert pages.get("/api/v1/public/campaigns").get_json() == []
    assert world.campaign.title not in pages.get("/public").text
    assert pages.get("/api/v1/public/campaigns/999999").status_code == 404


@pytest.fixture
def statements(app) -> Iterator[list[str]]:
    """The SQL statements run while the test reads them."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # noqa: ANN001
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", ["/api/v1/public/campaigns/{id}", "/public/campaigns/{id}"])
def test_conditional_get_answers_304_without_recomputing(pages, demo, statements, path):
    url = path.format(id=demo.id)
    first = pages.get(url)
    tag = first.headers["ETag"]
    statements.clear()
    again = pages.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == "public, max-age=300"
    # The tag comes from markers (the campaign, the latest event id, names): no statement
    # reads the issues or aggregates anything.
    assert statements and not any(re.search(r"\bissues\b", s) for s in statements)
    assert not any("GROUP BY" in s for s in statements)


def test_a_change_makes_a_new_tag(pages, world, make):
    world.campaign.public = True
    db.session.commit()
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    url = f"/api/v1/public/campaigns/{world.campaign.id}"
    before = pages.get(url)
    issues.transition(issue, world.supervisor, "close", "核查属实")
    db.session.commit()
    after = pages.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json()["totals"]["closed"] == 1


def test_public_pages_in_three_languages_with_a_chart(pages, demo):
    for lang, heading in (("zh_Hans", "各县整改进度"), ("en", "Progress by county"),
                          ("bo", 'lang="bo"')):
        resp = pages.get(f"/public/campaigns/{demo.id}", query_string={"lang": lang})
        assert resp.status_code == 200
        assert heading in resp.text
        assert 'data-testid="public-chart"' in resp.text and "<rect" in resp.text
        assert "<script" not in resp.text
        assert resp.headers["Cache-Control"] == "public, max-age=300"
        assert "Set-Cookie" not in resp.headers


def test_admins_publish_a_campaign_by_api_and_form(api, app, world):
    resp = api.patch(f"/api/v1/campaigns/{world.campaign.id}", user=world.admin,
                     json={"public": True})
    assert resp.status_code == 200 and resp.get_json()["public"] is True
    listed = api.get("/api/v1/public/campaigns").get_json()
    assert [c["id"] for c in listed] == [world.campaign.id]
    assert api.patch(f"/api/v1/campaigns/{world.campaign.id}", user=world.admin,
                     json={"public": "yes"}).status_code == 422
    client = page_client(app)
    login(client, world.admin.username)
    path = f"/admin/campaigns/{world.campaign.id}"
    page = client.get(path)
    resp = client.post(path, data={
        "title": world.campaign.title, "reference": world.campaign.reference or "",
        "org_id": world.campaign.org_id, "starts_on": "2018-07-07",
        "csrf_token": csrf_token(page.text)})  # the box unticked: no longer public
    assert resp.status_code == 302, resp.text
    assert api.get("/api/v1/public/campaigns").get_json() == []


# --- names in the reader's language ----------------------------------------------------------


def _section(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]


def test_tibetan_readers_read_tibetan_org_and_category_names(pages, demo):
    from tracker.issues import demo_data

    # The children of 果洛州: its own centre and the six counties.
    units = {"GL-ZX", *demo_data.COUNTY_CODES}
    bo_names = {demo_data.BO_ORG_NAMES[c] for c in units}
    zh_names = {o["name"] for o in demo_data.ORGS if o["code"] in units}
    bo_categories = set(demo_data.BO_CATEGORY_NAMES.values())
    zh_categories = {name for _code, name in demo_data.CATEGORIES}
    prefecture_bo = demo_data.BO_ORG_NAMES["GL"]

    # The JSON, in the language of Accept-Language.
    url = f"/api/v1/public/campaigns/{demo.id}"
    bo = pages.get(url, query_string={"page_size": 500}, headers={"Accept-Language": "bo"})
    zh = pages.get(url, query_string={"page_size": 500},
                   headers={"Accept-Language": "zh-CN"})
    body, chinese = bo.get_json(), zh.get_json()
    assert body["org_name"] == prefecture_bo and chinese["org_name"] == "果洛州"
    assert {c["name"] for c in body["counties"]} == bo_names
    assert {c["name"] for c in chinese["counties"]} == zh_names
    assert body["closed_findings"] and all(
        f["county"] in bo_names and f["category"] in bo_categories
        for f in body["closed_findings"])
    assert all(f["county"] in zh_names and f["category"] in zh_categories
               for f in chinese["closed_findings"])
    # The same figures and findings, only the names differ.
    assert [c["total"] for c in body["counties"]] == [c["total"] for c in chinese["counties"]]
    assert [f["title"] for f in body["closed_findings"]] == [
        f["title"] for f in chinese["closed_findings"]]
    listed = pages.get("/api/v1/public/campaigns", headers={"Accept-Language": "bo"})
    assert [c["org_name"] for c in listed.get_json()] == [prefecture_bo]

    # The pages in bo.
    page = pages.get(f"/public/campaigns/{demo.id}", query_string={"lang": "bo"}).text
    counties = _section(page, "public-counties")
    assert all(name in counties for name in bo_names)
    assert not any(name in counties for name in zh_names)
    findings = _section(page, "public-findings")
    assert any(name in findings for name in bo_categories)
    assert not any(name in findings for name in zh_categories)
    assert prefecture_bo in page.split("<h1", 1)[1].split("</p>", 1)[0]
    index = pages.get("/public", query_string={"lang": "bo"}).text
    assert prefecture_bo in index
    # In Chinese and English the pages keep the Chinese names.
    for lang in ("zh_Hans", "en"):
        page = pages.get(f"/public/campaigns/{demo.id}", query_string={"lang": lang}).text
        assert all(name in _section(page, "public-counties") for name in zh_names)
        assert not any(name in page for name in bo_names)


def test_the_json_tag_varies_with_the_language_of_the_names(pages, demo):
    url = f"/api/v1/public/campaigns/{demo.id}"
    for path in (url, "/api/v1/public/campaigns"):
        bo = pages.get(path, headers={"Accept-Language": "bo"})
        zh = pages.get(path, headers={"Accept-Language": "zh"})
        assert bo.text != zh.text
        assert bo.headers["ETag"] != zh.headers["ETag"]
        for resp in (bo, zh):
            assert "Accept-Language" in resp.headers["Vary"]
        # A Chinese copy does not revalidate a Tibetan reader's request, nor the reverse.
        again = pages.get(path, headers={"Accept-Language": "bo",
                                         "If-None-Match": zh.headers["ETag"]})
        assert again.status_code == 200 and again.text == bo.text
        same = pages.get(path, headers={"Accept-Language": "bo",
                                        "If-None-Match": bo.headers["ETag"]})
        assert same.status_code == 304
        assert "Accept-Language" in same.headers["Vary"]
    page = f"/public/campaigns/{demo.id}"
    first = pages.get(page, query_string={"lang": "bo"})
    cached = pages.get(page, query_string={"lang": "bo"},
                       headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304 and "Cookie" in cached.headers["Vary"]


def test_an_org_without_a_tibetan_name_keeps_its_chinese_one_and_renames_make_a_new_tag(
        pages, demo):
    from tracker.owners.models import Org

    url = f"/api/v1/public/campaigns/{demo.id}"
    bo_before = pages.get(url, headers={"Accept-Language": "bo"})
    zh_before = pages.get(url, headers={"Accept-Language": "zh"})
    maduo = db.session.scalar(select(Org).where(Org.code == "MD"))
    maduo.name_bo = None  # no event is written for a rename
    db.session.commit()
    bo_after = pages.get(url, headers={"Accept-Language": "bo",
                                       "If-None-Match": bo_before.headers["ETag"]})
    assert bo_after.status_code == 200
    names = {c["name"] for c in bo_after.get_json()["counties"]}
    assert "玛多县" in names and "རྨ་ཆེན་རྫོང" in names
    # The Chinese answer did not change: its copies stay good.
    zh_after = pages.get(url, headers={"Accept-Language": "zh",
                                       "If-None-Match": zh_before.headers["ETag"]})
    assert zh_after.status_code == 304
    page = pages.get(f"/public/campaigns/{demo.id}", query_string={"lang": "bo"}).text
    assert "玛多县" in _section(page, "public-counties")
