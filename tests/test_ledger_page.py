"""The ledger page as a clerk and a supervisor use it: search, statuses, sort, counties,
pickers that search as you type, and actions on a selection."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from tests.support.pages import csrf_token, login
from tracker.extensions import db
from tracker.issues.models import Event, Issue


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/issues/(\d+)"', html)]


def _three(make: Any, world: Any) -> list[Issue]:
    first = make.issue(world.centre, world.officer, world.campaign, world.category,
                       title="窗口人员不足")
    second = make.issue(world.department, world.officer2, world.campaign, world.category2,
                        title="排队时间长", status="submitted")
    third = make.issue(world.other_centre, world.other_officer, world.campaign,
                       world.category, title="指引不清楚", status="in_progress")
    return [first, second, third]


def test_search_finds_an_owner_by_name_and_an_issue_by_its_number(client, world, make, api):
    first, second, _third = _three(make, world)
    login(client, "zhou")
    assert _ids(client.get("/issues?q=卓玛").text) == [second.id]  # officer2's display name
    assert _ids(client.get(f"/issues?q=%23{first.id}").text) == [first.id]
    assert first.id in _ids(client.get(f"/issues?q={first.id}").text)
    # The API means the same by q.
    found = api.get("/api/v1/issues?q=卓玛", user=world.supervisor).get_json()
    assert [i["id"] for i in found] == [second.id]


def test_several_statuses_at_once(client, world, make):
    first, second, third = _three(make, world)
    login(client, "zhou")
    shown = _ids(client.get("/issues?status=submitted&status=in_progress").text)
    assert sorted(shown) == sorted([second.id, third.id])
    page = client.get("/issues?status=submitted&status=in_progress").text
    assert 'value="submitted" checked' in page and 'value="open" checked' not in page


def test_a_wrong_filter_value_is_dropped_not_an_error(client, world, make):
    _three(make, world)
    login(client, "zhou")
    page = client.get("/issues?status=nonsense&due_before=2019-13-45")
    assert page.status_code == 200 and len(_ids(page.text)) == 3


def test_columns_sort_both_ways(client, world, make):
    first, second, third = _three(make, world)
    login(client, "zhou")
    assert _ids(client.get("/issues?sort=-id").text) == [third.id, second.id, first.id]
    assert _ids(client.get("/issues?sort=id").text) == [first.id, second.id, third.id]
    page = client.get("/issues?sort=id").text
    assert 'aria-sort="ascending"' in page and "sort=-id" in page


def test_prefecture_users_see_the_county_of_each_finding(client, world, make):
    _three(make, world)
    login(client, "zhou")
    page = client.get("/issues").text
    assert ">县<" in page or "县</th>" in page
    assert page.count("<td data-label=\"县\">玛多县</td>") == 2
    assert page.count("<td data-label=\"县\">久治县</td>") == 1


def test_county_users_see_no_county_column(client, world, make):
    _three(make, world)
    login(client, "reg")  # a county centre's registrar: one county, no such column
    assert "data-label=\"县\"" not in client.get("/issues").text


def test_pickers_search_units_and_officers_in_scope_only(client, world):
    login(client, "reg")  # the county centre of 玛多县
    units = client.get("/lookup/orgs?q=窗口").get_json()
    assert [u["text"] for u in units] == ["人社窗口 (MD-RS)"]
    assert client.get("/lookup/orgs?q=久治").get_json() == []
    people = client.get("/lookup/users?q=卓玛").get_json()
    assert [p["value"] for p in people] == [world.officer2.id]
    assert client.get("/lookup/users?q=jzoff").get_json() == []  # another county's officer


def test_bulk_reassign_changes_each_owner_with_its_own_event(client, world, make):
    first = make.issue(world.centre, world.officer, world.campaign, world.category)
    second = make.issue(world.centre, world.officer, world.campaign, world.category2)
    login(client, "reg")
    token = csrf_token(client.get("/issues").text)
    resp = client.post("/issues/bulk", data={"csrf_token": token, "owner_id": world.officer2.id,
                                             "id": [first.id, second.id]})
    assert resp.status_code == 303
    db.session.expire_all()
    assert {db.session.get(Issue, i).owner_id for i in (first.id, second.id)} == {
        world.officer2.id}
    events = db.session.scalars(select(Event).where(Event.kind == "updated")).all()
    assert sorted(e.issue_id for e in events) == sorted([first.id, second.id])
    assert all(e.changes["owner_id"] == [world.officer.id, world.officer2.id] for e in events)
    assert "2 个问题" in client.get("/issues").text  # the confirmation, in Chinese


def test_bulk_reassign_is_all_or_none(client, world, make):
    mine = make.issue(world.centre, world.officer, world.campaign, world.category)
    theirs = make.issue(world.other_centre, world.other_officer, world.campaign,
                        world.category)
    login(client, "reg")
    token = csrf_token(client.get("/issues").text)
    client.post("/issues/bulk", data={"csrf_token": token, "owner_id": world.officer2.id,
                                      "id": [mine.id, theirs.id]})
    db.session.expire_all()
    assert db.session.get(Issue, mine.id).owner_id == world.officer.id  # nothing changed
    assert db.session.scalar(select(Event).where(Event.kind == "updated")) is None


def test_officers_get_no_bulk_actions(client, world, make):
    make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    page = client.get("/issues").text
    assert 'id="bulk-form"' not in page and 'name="id"' not in page


def test_the_ticked_findings_download_as_a_ledger(client, world, make):
    first, second, third = _three(make, world)
    login(client, "zhou")
    resp = client.get(f"/issues?format=xlsx&id={first.id}&id={third.id}")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data), read_only=True).worksheets[0]
    titles = {row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert titles == {"窗口人员不足", "指引不清楚"}


def test_the_summary_page_names_categories_and_sets_empty_units_aside(client, world, make):
    make.issue(world.centre, world.officer, world.campaign, world.category)
    make.org("达日县", "county", world.prefecture, code="DR")  # a county with no finding
    login(client, "zhou")
    page = client.get("/reports/summary").text
    table = page.split('data-testid="summary-table"')[1].split("</table>")[0]
    assert world.category.name.replace('"', "&#34;") in table  # names, not numbers
    assert "玛多县" in table and "达日县" not in table and "久治县" not in table
    aside = page.split('data-testid="empty-units"')[1].split("</details>")[0]
    assert "达日县" in aside and "久治县" in aside
    # 1 registered, none closed: 0%; a category with nothing registered shows no rate at all.
    assert table.count(">0%<") == 2  # the cell of the one category, and the unit's total


def test_a_note_typed_on_a_page_changed_meanwhile_is_kept(client, world, make):
    from tests.support.pages import csrf_token as token_of

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    stale = client.get(f"/issues/{issue.id}").text  # the page as it was loaded
    make.evidence(issue)  # someone else changes the issue meanwhile
    db.session.commit()
    resp = client.post(f"/issues/{issue.id}/notes", data={
        "csrf_token": token_of(stale), "comment": "已联系人社局，下周培训",
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', stale).group(1)})
    assert resp.status_code == 303
    notes = db.session.scalars(select(Event).where(Event.kind == "note")).all()
    assert [n.comment for n in notes] == ["已联系人社局，下周培训"]


def test_a_due_date_without_its_year_follows_the_start_date(client, world):
    from tests.support.pages import post_form

    login(client, "reg")
    page = client.get("/issues/new").text
    assert "例如 2018年7月7日 或 2018-07-07" in page and 'placeholder="2018-07-07"' not in page
    resp = post_form(client, "/", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer.id,
        "title": "窗口授权不到位", "cause": "授权不足", "measures": "充分授权",
        "starts_on": "2018年7月7日", "due_on": "1月7日",  # as the importer reads 至1月7日
    })
    assert resp.status_code == 302, resp.text
    issue = db.session.scalar(select(Issue).where(Issue.title == "窗口授权不到位"))
    assert issue.due_on.isoformat() == "2019-01-07"


def test_keyset_pages_walk_the_ledger_as_numbered_pages_do(world, make, api):
    for n in range(7):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   due_on=__import__("datetime").date(2019, 1, 1 + n % 3))
    user = world.supervisor
    numbered = [i["id"] for p in (1, 2, 3) for i in api.get(
        f"/api/v1/issues?sort=-due_on&page_size=3&page={p}", user=user).get_json()]
    walked, after = [], None
    while True:
        path = "/api/v1/issues?sort=-due_on&page_size=3" + (f"&after={after}" if after else "")
        resp = api.get(path, user=user)
        page = resp.get_json()
        if after is not None:
            assert "X-Pagination" not in resp.headers  # no total counted
        if not page:
            break
        walked += [i["id"] for i in page]
        after = page[-1]["id"]
    assert walked == numbered and len(walked) == 7
    other = make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    assert api.get(f"/api/v1/issues?after={other.id}", user=world.county_supervisor
                   ).status_code == 404  # an issue outside the caller's scope
