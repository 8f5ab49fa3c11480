"""Search by several words (SPEC §6 "Search"): every word must occur in the issue's texts or
its owner's name, or be its number, within the reader's scope, through the search index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.support.pages import login
from tracker.extensions import db
from tracker.issues import search
from tracker.issues.search import IssueSearch

TIBETAN = "ཞབས་ཞུ་ཁང་གི་བོད་ཡིག་མིང་བྱང་མི་འདུག"  # the service hall's signs lack Tibetan


def _found(api: Any, user: Any, q: str, **params: Any) -> set[int]:
    resp = api.get("/api/v1/issues", user=user, query_string={"q": q, **params})
    assert resp.status_code == 200, resp.get_json()
    return {row["id"] for row in resp.get_json()}


def _issues(make: Any, world: Any) -> dict[str, Any]:
    both = make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="政务大厅导视牌无藏文", description="群众看不懂指引")
    sign = make.issue(world.department, world.officer2, world.campaign, world.category,
                      title="导视牌破损", description="大厅东侧导视牌脱落")
    tibetan = make.issue(world.centre, world.officer, world.campaign, world.category2,
                         title="缺少双语标识", description=f"藏文标识缺失：{TIBETAN}")
    latin = make.issue(world.other_centre, world.other_officer, world.campaign,
                       world.category, title="大厅WiFi无法连接", measures="更换Router设备")
    return {"both": both, "sign": sign, "tibetan": tibetan, "latin": latin}


def test_two_words_find_only_the_issues_that_hold_both(world, make, api):
    made = _issues(make, world)
    sup = world.supervisor
    assert _found(api, sup, "导视牌 藏文") == {made["both"].id}
    assert _found(api, sup, "导视牌\u3000藏文") == {made["both"].id}  # the full-width space
    assert _found(api, sup, "导视牌") == {made["both"].id, made["sign"].id}
    assert _found(api, sup, "藏文") == {made["both"].id, made["tibetan"].id}
    # Words may come from different fields: the title and the description.
    assert _found(api, sup, "导视牌 脱落") == {made["sign"].id}


def test_a_chinese_word_is_found_inside_longer_text(world, make, api):
    made = _issues(make, world)
    sup = world.supervisor
    assert _found(api, sup, "视牌") == {made["both"].id, made["sign"].id}
    assert _found(api, sup, "看不懂") == {made["both"].id}
    assert _found(api, sup, "懂") == {made["both"].id}  # one character
    # The pairs of a word must stand in its order: 牌导 is not in 导视牌.
    assert _found(api, sup, "牌导视") == set()


def test_tibetan_is_found_by_one_or_more_syllables(world, make, api):
    made = _issues(make, world)
    sup = world.supervisor
    assert _found(api, sup, "བོད་ཡིག") == {made["tibetan"].id}
    assert _found(api, sup, "མིང་བྱང") == {made["tibetan"].id}
    assert _found(api, sup, "ཡིག་མིང་བྱང་") == {made["tibetan"].id}  # a closing tsheg
    assert _found(api, sup, "བོད་ཡིག 双语") == {made["tibetan"].id}  # with a Chinese word
    assert _found(api, sup, "ཡིག་བོད") == set()  # the syllables in another order


def test_latin_words_match_in_any_case(world, make, api):
    made = _issues(make, world)
    assert _found(api, world.supervisor, "wifi") == {made["latin"].id}
    assert _found(api, world.supervisor, "ROUTER 大厅") == {made["latin"].id}
    assert _found(api, world.supervisor, "ｗｉｆｉ") == {made["latin"].id}  # full-width letters


def test_a_word_may_be_the_issue_number(world, make, api):
    made = _issues(make, world)
    sup = world.supervisor
    sign = made["sign"].id
    assert _found(api, sup, f"#{sign}") == {sign}
    assert sign in _found(api, sup, str(sign))
    assert _found(api, sup, f"{sign} 破损") == {sign}
    assert _found(api, sup, f"#{sign} 藏文") == set()  # the number, but not the word


def test_the_owners_name_counts_as_a_word(world, make, api):
    made = _issues(make, world)
    sup = world.supervisor
    assert _found(api, sup, "卓玛") == {made["sign"].id}  # officer2's display name
    assert _found(api, sup, "卓玛 脱落") == {made["sign"].id}
    assert _found(api, sup, "卓玛 藏文") == set()


def test_no_match_is_an_empty_list(world, make, api):
    _issues(make, world)
    sup = world.supervisor
    assert _found(api, sup, "电梯") == set()
    assert _found(api, sup, "导视牌 电梯") == set()
    assert _found(api, sup, "100%_") == set()


def test_search_stays_in_the_readers_scope(world, make, api):
    made = _issues(make, world)
    # The Jiuzhi registrar sees only Jiuzhi's WiFi finding, whatever they search.
    assert _found(api, world.other_registrar, "大厅") == {made["latin"].id}
    assert _found(api, world.other_registrar, "导视牌") == set()
    assert _found(api, world.officer, "导视牌") == {made["both"].id}
    assert _found(api, world.supervisor, "大厅", org_id=world.county.id) == {
        made["both"].id, made["sign"].id}


def test_the_index_follows_an_edit(world, make, api):
    made = _issues(make, world)
    sign = made["sign"]
    resp = api.patch(f"/api/v1/issues/{sign.id}", user=world.registrar,
                     json={"title": "电梯故障", "description": "电梯停运一周"})
    assert resp.status_code == 200, resp.get_json()
    sup = world.supervisor
    assert _found(api, sup, "导视牌") == {made["both"].id}
    assert _found(api, sup, "电梯 停运") == {sign.id}


def test_the_owners_name_follows_a_new_owner_and_a_new_name(world, make, api):
    made = _issues(make, world)
    sup = world.supervisor
    resp = api.patch(f"/api/v1/issues/{made['both'].id}", user=world.registrar,
                     json={"owner_id": world.officer2.id})
    assert resp.status_code == 200, resp.get_json()
    assert _found(api, sup, "卓玛") == {made["sign"].id, made["both"].id}
    resp = api.patch(f"/api/v1/users/{world.officer2.id}", user=world.admin,
                     json={"display_name": "拉姆"})
    assert resp.status_code == 200, resp.get_json()
    assert _found(api, sup, "卓玛") == set()
    assert _found(api, sup, "拉姆 导视牌") == {made["sign"].id, made["both"].id}


def test_the_page_and_the_export_mean_the_same(client, world, make, api):
    made = _issues(make, world)
    login(client, "zhou")
    page = client.get("/issues", query_string={"q": "导视牌 藏文"}).text
    assert f'href="/issues/{made["both"].id}"' in page
    assert f'href="/issues/{made["sign"].id}"' not in page
    csv = client.get("/issues", query_string={"q": "导视牌 藏文", "format": "csv"}).text
    assert "政务大厅导视牌无藏文" in csv and "导视牌破损" not in csv


def test_every_registered_issue_has_its_index_row(ctx, world, make):
    made = _issues(make, world)
    rows = {row.issue_id: row for row in db.session.scalars(select(IssueSearch))}
    assert set(rows) == {issue.id for issue in made.values()}
    row = rows[made["both"].id]
    assert {"导视", "视牌", "藏文", "导"} <= set(row.tokens.split())
    assert "政务大厅导视牌无藏文" in row.body
    # Its scope: its own unit and every unit above it, none beside.
    assert {search.scope_token(o.id) for o in (world.centre, world.county,
                                               world.prefecture)} <= set(row.scope.split())
    assert search.scope_token(world.other_centre.id) not in row.scope.split()


def test_tokens_of_each_script():
    assert search.tokens("导视牌") == {"导", "视", "牌", "导视", "视牌"}
    assert search.tokens("བོད་ཡིག།") == {"བོད", "ཡིག"}
    assert search.tokens("WiFi Router-2") == {"wifi", "router", "2"}
    assert search.query_tokens("导视牌") == [("导视", False), ("视牌", False)]
    assert search.query_tokens("导") == [("导", False)]
    assert search.words("导视牌　藏文 导视牌") == ["导视牌", "藏文"]


def test_a_moved_issue_is_found_in_its_new_scope_only(world, make, api):
    """The index holds each issue's scope (its org and the orgs above it): moving the issue
    to another county moves it in the index too, in the same change."""
    made = _issues(make, world)
    sign = made["sign"]
    assert _found(api, world.other_registrar, "导视牌") == set()
    resp = api.patch(f"/api/v1/issues/{sign.id}", user=world.supervisor,
                     json={"org_id": world.other_centre.id,
                           "owner_id": world.other_officer.id})
    assert resp.status_code == 200, resp.get_json()
    assert _found(api, world.other_registrar, "导视牌") == {sign.id}
    assert _found(api, world.supervisor, "导视牌", org_id=world.county.id) == {
        made["both"].id}
    assert _found(api, world.supervisor, "导视牌") == {made["both"].id, sign.id}


def test_a_unit_moved_to_another_county_takes_its_issues_scope_with_it(world, make, api):
    """An admin moves a centre under the other county: its findings are then found by the
    other county's registrar and within the other county, no more within the first one (the
    index's scope follows the org tree in the move's transaction)."""
    from tracker.owners import service as owners

    made = _issues(make, world)
    assert _found(api, world.supervisor, "导视牌", org_id=world.county.id) == {
        made["both"].id, made["sign"].id}
    owners.update_org(world.admin, world.centre, parent_id=world.other_county.id)
    db.session.commit()
    # The department below the centre moved with it, and so did its finding.
    assert _found(api, world.supervisor, "导视牌", org_id=world.other_county.id) == {
        made["both"].id, made["sign"].id}
    assert _found(api, world.supervisor, "导视牌", org_id=world.county.id) == set()
    assert _found(api, world.supervisor, "导视牌") == {made["both"].id, made["sign"].id}


def test_a_search_counts_its_matches_up_to_a_bound_and_says_so(client, world, make, api,
                                                              monkeypatch):
    """A common word is not counted to its last match: past COUNT_LIMIT the list says "more
    than" it (X-Pagination ``total_exact`` false, the page's "超过 … 项"), and the pages past
    it are still served; below it the count is exact."""
    import json

    monkeypatch.setattr(search, "COUNT_LIMIT", 3)
    made = [make.issue(world.centre, world.officer, world.campaign, world.category,
                       title=f"窗口排队时间长 {n}") for n in range(5)]
    resp = api.get("/api/v1/issues", user=world.supervisor,
                   query_string={"q": "窗口", "page_size": 2, "page": 3})
    assert resp.status_code == 200
    assert len(resp.get_json()) == 1  # the fifth match, past the bound
    meta = json.loads(resp.headers["X-Pagination"])
    assert meta["total"] == 3 and meta["total_exact"] is False and meta["total_pages"] == 2
    exact = api.get("/api/v1/issues", user=world.supervisor,
                    query_string={"q": f"窗口 #{made[0].id}"})
    meta = json.loads(exact.headers["X-Pagination"])
    assert meta["total"] == 1 and meta["total_exact"] is True
    plain = api.get("/api/v1/issues", user=world.supervisor)
    assert "total_exact" not in json.loads(plain.headers["X-Pagination"])  # not a search
    login(client, "zhou")
    page = client.get("/issues", query_string={"q": "窗口"}).text
    assert "超过 3 项" in page and "共 3 项" not in page
    page = client.get("/issues", query_string={"q": f"窗口 #{made[0].id}"}).text
    assert "共 1 项" in page and "超过" not in page
