"""Supervision by hand (SPEC §4 "The traffic light", §5 "Supervision"): the light, urges
(催办) and supervision orders (督办单), through the services and the API."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask_babel import refresh
from sqlalchemy import select

from tracker.extensions import db
from tracker.issues.deadlines import service as deadlines
from tracker.issues.models import Event, Issue
from tracker.issues.reports.spans import IssueSpan, as_of_clause
from tracker.notify.models import Notification
from tracker.supervision import service as supervision
from tracker.supervision.models import Order
from tracker.timeutil import clock, local_start_of


def _issue(make: Any, world: Any, **kw: Any) -> Issue:
    kw.setdefault("due_on", date(2019, 1, 7))
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      actor=world.registrar, **kw)


def _light_then(issue: Issue, day: date) -> Any:
    return db.session.scalar(select(IssueSpan.light_on(day)).where(
        IssueSpan.issue_id == issue.id, as_of_clause(day)))


# --- the light ---------------------------------------------------------------------------


def test_light_follows_the_deadline_and_warn_days_in_python_and_sql(make, world):
    with clock(date(2018, 12, 1)):
        issue = _issue(make, world)
        assert issue.warn_from == date(2018, 12, 31)  # seven days before 2019-01-07
        for day, light in ((date(2018, 12, 30), "green"), (date(2018, 12, 31), "yellow"),
                           (date(2019, 1, 7), "yellow"), (date(2019, 1, 8), "red")):
            assert issue.light_on(day) == light
            assert db.session.scalar(select(Issue.light_on(day))
                                     .where(Issue.id == issue.id)) == light
            found = db.session.scalars(select(Issue.id).where(Issue.lit_on(light, day),
                                                              Issue.id == issue.id)).all()
            assert found == [issue.id]


def test_closed_issue_has_no_light(make, world):
    issue = _issue(make, world, status="closed")
    assert issue.light_on(date(2019, 2, 1)) is None
    assert db.session.scalar(select(Issue.light_on(date(2019, 2, 1)))
                             .where(Issue.id == issue.id)) is None


def test_working_campaign_counts_warn_days_in_working_days(make, world):
    campaign = make.campaign(world.prefecture, day_basis="working", warn_days=3)
    # Due Monday 2018-12-10: three working days before is Wednesday 2018-12-05.
    issue = make.issue(world.centre, world.officer, campaign, world.category,
                       due_on=date(2018, 12, 10))
    assert issue.warn_from == date(2018, 12, 5)
    assert issue.light_on(date(2018, 12, 4)) == "green"
    assert issue.light_on(date(2018, 12, 5)) == "yellow"


def test_changing_warn_days_moves_the_window_of_every_issue(make, world, api):
    issue = _issue(make, world)
    resp = api.patch(f"/api/v1/campaigns/{world.campaign.id}", user=world.admin,
                     json={"warn_days": 30})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["warn_days"] == 30
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).warn_from == date(2018, 12, 8)
    bad = api.patch(f"/api/v1/campaigns/{world.campaign.id}", user=world.admin,
                    json={"warn_days": -1})
    assert bad.status_code == 422
    assert "warn_days" in bad.get_json()["errors"]["json"]


def test_an_extension_moves_the_light(make, world):
    with clock(date(2019, 1, 2)):
        issue = _issue(make, world)
        assert issue.light_on(date(2019, 1, 2)) == "yellow"
        ext = deadlines.request_extension(issue, world.officer, date(2019, 6, 30), "路远")
        deadlines.decide_extension(ext, world.supervisor, "approve", "同意")
        db.session.commit()
        assert issue.light_on(date(2019, 1, 2)) == "green"


def test_list_filters_by_light_and_the_api_shows_it(make, world, api):
    today = date.today()
    red = _issue(make, world, starts_on=today - timedelta(days=30),
                 due_on=today - timedelta(days=1))
    yellow = _issue(make, world, starts_on=today - timedelta(days=30),
                    due_on=today + timedelta(days=3))
    green = _issue(make, world, starts_on=today - timedelta(days=30),
                   due_on=today + timedelta(days=60))
    for light, issue in (("red", red), ("yellow", yellow), ("green", green)):
        resp = api.get(f"/api/v1/issues?light={light}", user=world.supervisor)
        assert resp.status_code == 200
        assert [i["id"] for i in resp.get_json()] == [issue.id]
        assert resp.get_json()[0]["light"] == light
    one = api.get(f"/api/v1/issues/{green.id}", user=world.supervisor).get_json()
    assert (one["light"], one["urge_count"], one["last_urged_at"], one["open_orders"]) == (
        "green", 0, None, 0)
    assert api.get("/api/v1/issues?light=blue", user=world.supervisor).status_code == 422


def test_an_urge_lights_yellow_for_seven_days_and_the_past_keeps_its_light(make, world):
    with clock(date(2018, 8, 20)):
        issue = _issue(make, world)
    with clock(date(2018, 9, 1)):
        assert issue.light_on(date(2018, 9, 1)) == "green"
        supervision.urge(world.supervisor, issue, "请抓紧")
        db.session.commit()
    assert issue.light_on(date(2018, 9, 1)) == "yellow"
    assert issue.light_on(date(2018, 9, 7)) == "yellow"
    assert issue.light_on(date(2018, 9, 8)) == "green"
    # As of the day before the urge the ledger stood green; on the day, yellow.
    assert _light_then(issue, date(2018, 8, 31)) == "green"
    assert _light_then(issue, date(2018, 9, 1)) == "yellow"
    urged = api_list_ids = db.session.scalars(select(Issue.id).where(
        Issue.urge_count > 0, Issue.id == issue.id)).all()
    assert urged == api_list_ids == [issue.id]


# --- urges -------------------------------------------------------------------------------


def test_urge_records_event_notice_and_counts(make, world, api):
    issue = _issue(make, world)
    resp = api.post(f"/api/v1/issues/{issue.id}/urges", user=world.supervisor,
                    json={"comment": "请本周内完成"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["issue_id"], body["actor_id"], body["comment"]) == (
        issue.id, world.supervisor.id, "请本周内完成")
    shown = api.get(f"/api/v1/issues/{issue.id}", user=world.officer).get_json()
    assert shown["urge_count"] == 1 and shown["last_urged_at"] is not None
    event = db.session.scalars(select(Event).where(Event.issue_id == issue.id)
                               .order_by(Event.id.desc())).first()
    assert (event.kind, event.comment, event.actor_id) == ("urged", "请本周内完成",
                                                           world.supervisor.id)
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == world.officer.id, Notification.kind == "urged")).one()
    assert notice.comment == "请本周内完成"
    listed = api.get(f"/api/v1/issues/{issue.id}/urges", user=world.officer).get_json()
    assert [u["id"] for u in listed] == [body["id"]]
    assert [i["id"] for i in api.get("/api/v1/issues?urged=true",
                                     user=world.supervisor).get_json()] == [issue.id]


def test_once_per_issue_per_day_whoever_urges(make, world, api):
    issue = _issue(make, world)
    assert api.post(f"/api/v1/issues/{issue.id}/urges", user=world.supervisor,
                    json={}).status_code == 201
    again = api.post(f"/api/v1/issues/{issue.id}/urges", user=world.registrar,
                     json={"comment": "再催"}, headers={"Accept-Language": "zh"})
    assert again.status_code == 409
    assert again.get_json()["reason"] == "recently_urged"
    assert 0 < int(again.headers["Retry-After"]) <= 86400
    assert db.session.get(Issue, issue.id).urge_count == 1


def test_urged_again_the_next_local_day(make, world):
    with clock(datetime(2018, 9, 1, 15, 30)):  # 23:30 in Asia/Shanghai
        issue = _issue(make, world)
        supervision.urge(world.supervisor, issue)
    with clock(local_start_of(date(2018, 9, 2)) + timedelta(minutes=1)):
        supervision.urge(world.registrar, issue)
    db.session.commit()
    assert issue.urge_count == 2


def test_who_may_urge(make, world, api):
    issue = _issue(make, world)
    officer = api.post(f"/api/v1/issues/{issue.id}/urges", user=world.officer, json={})
    assert (officer.status_code, officer.get_json()["reason"]) == (403, "urge_forbidden")
    outside = api.post(f"/api/v1/issues/{issue.id}/urges", user=world.other_registrar,
                       json={})
    assert outside.status_code == 404
    own = _issue(make, world, owner=None) if False else make.issue(
        world.centre, world.registrar, world.campaign, world.category, actor=world.admin)
    mine = api.post(f"/api/v1/issues/{own.id}/urges", user=world.registrar, json={})
    assert (mine.status_code, mine.get_json()["reason"]) == (403, "own_issue")
    closed = _issue(make, world, status="closed")
    shut = api.post(f"/api/v1/issues/{closed.id}/urges", user=world.supervisor, json={})
    assert (shut.status_code, shut.get_json()["reason"]) == (409, "issue_closed")
    assert db.session.scalar(select(Issue.urge_count).where(Issue.id == closed.id)) == 0


def test_urge_refusal_speaks_the_users_language(make, world, api):
    issue = _issue(make, world)
    api.post(f"/api/v1/issues/{issue.id}/urges", user=world.supervisor, json={})
    for locale, word in (("zh_Hans", "今天"), ("en", "today"), ("bo", "དེ་རིང")):
        reader = make.user("supervisor", world.prefecture)
        reader.locale = locale
        db.session.commit()
        refresh()  # Flask-Babel caches the language on the (shared) context
        again = api.post(f"/api/v1/issues/{issue.id}/urges", user=reader, json={})
        assert again.status_code == 409
        assert word in again.get_json()["message"], (locale, again.get_json())


def test_urge_several_at_once_gives_a_result_per_issue(make, world, api):
    a, b = _issue(make, world), _issue(make, world)
    closed = _issue(make, world, status="closed")
    api.post(f"/api/v1/issues/{b.id}/urges", user=world.supervisor, json={})
    resp = api.post("/api/v1/urges", user=world.supervisor,
                    json={"issue_ids": [a.id, b.id, closed.id, 999999], "comment": "集中催办"})
    assert resp.status_code == 200, resp.get_json()
    results = {r["issue_id"]: (r["status"], r["reason"]) for r in resp.get_json()}
    assert results == {a.id: (201, None), b.id: (409, "recently_urged"),
                       closed.id: (409, "issue_closed"), 999999: (404, "not_found")}
    db.session.expire_all()
    assert db.session.get(Issue, a.id).urge_count == 1


# --- orders ------------------------------------------------------------------------------


def _order(api: Any, world: Any, issue_ids: list[int], **kw: Any) -> Any:
    body = {"org_id": world.county.id, "level": "red", "issue_ids": issue_ids,
            "reply_by": (date.today() + timedelta(days=10)).isoformat(),
            "comment": "限期整改"}
    body.update(kw)
    return api.post("/api/v1/orders", user=kw.pop("user", world.supervisor), json=body)


def test_order_is_numbered_per_issuing_org_and_year(make, world, api):
    issue = _issue(make, world, starts_on=date.today(), due_on=date.today() + timedelta(days=60))
    first = _order(api, world, [issue.id])
    assert first.status_code == 201, first.get_json()
    second = _order(api, world, [issue.id])
    year = date.today().year
    assert [first.get_json()["number"], second.get_json()["number"]] == [
        f"果洛督〔{year}〕1号", f"果洛督〔{year}〕2号"]
    shown = api.get(f"/api/v1/issues/{issue.id}", user=world.officer).get_json()
    assert shown["open_orders"] == 2 and shown["light"] == "yellow"
    kinds = db.session.scalars(select(Event.kind).where(Event.issue_id == issue.id)).all()
    assert kinds.count("ordered") == 2


def test_short_name_of_the_prefecture(make):
    org = make.org("果洛藏族自治州", "prefecture")
    assert supervision.short_name(org) == "果洛"
    assert supervision.order_number(org, 2018, 3) == "果洛督〔2018〕3号"


def test_order_refuses_bad_input_and_changes_nothing(make, world, api):
    issue = _issue(make, world)
    other = make.issue(world.other_centre, world.other_officer, world.campaign,
                       world.category, actor=world.admin)
    closed = _issue(make, world, status="closed")
    cases = [
        ({"issue_ids": [other.id]}, "issue_ids"),
        ({"issue_ids": [closed.id]}, "issue_ids"),
        ({"issue_ids": [issue.id], "reply_by": date.today().isoformat()}, "reply_by"),
        ({"issue_ids": [issue.id], "org_id": world.prefecture.id}, "org_id"),
    ]
    for change, field in cases:
        resp = _order(api, world, **change)
        assert resp.status_code == 422, (change, resp.get_json())
        assert field in resp.get_json()["errors"], resp.get_json()
    officer = api.post("/api/v1/orders", user=world.registrar, json={
        "org_id": world.centre.id, "level": "red", "issue_ids": [issue.id],
        "reply_by": (date.today() + timedelta(days=3)).isoformat()})
    assert officer.status_code == 403
    assert db.session.scalar(select(Order.id)) is None
    assert db.session.get(Issue, issue.id).open_orders == 0


def test_order_life_acknowledge_reply_return_close(make, world, api):
    issue = _issue(make, world)
    order = _order(api, world, [issue.id]).get_json()
    oid = order["id"]
    assert api.post(f"/api/v1/orders/{oid}/reply", user=world.county_supervisor,
                    json={"text": "已整改"}).status_code == 409  # not signed for yet
    not_addressee = api.post(f"/api/v1/orders/{oid}/acknowledge", user=world.supervisor)
    assert not_addressee.status_code == 403
    ack = api.post(f"/api/v1/orders/{oid}/acknowledge", user=world.county_supervisor)
    assert (ack.status_code, ack.get_json()["status"]) == (200, "acknowledged")
    empty = api.post(f"/api/v1/orders/{oid}/reply", user=world.county_supervisor,
                     json={"text": " "})
    assert empty.status_code == 422
    replied = api.post(f"/api/v1/orders/{oid}/reply", user=world.county_supervisor,
                       json={"text": "已完成窗口授权"})
    assert replied.get_json()["status"] == "replied"
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == world.supervisor.id,
        Notification.kind == "order_replied")).all()
    assert len(notice) == 1
    assert api.post(f"/api/v1/orders/{oid}/close", user=world.county_supervisor,
                    json={}).status_code == 403
    back = api.post(f"/api/v1/orders/{oid}/return", user=world.supervisor,
                    json={"comment": "佐证不足"})
    assert back.get_json()["status"] == "acknowledged"
    api.post(f"/api/v1/orders/{oid}/reply", user=world.county_supervisor,
             json={"text": "补充佐证"})
    closed = api.post(f"/api/v1/orders/{oid}/close", user=world.supervisor,
                      json={"comment": "办结"})
    assert closed.get_json()["status"] == "closed"
    shown = api.get(f"/api/v1/issues/{issue.id}", user=world.officer).get_json()
    assert shown["open_orders"] == 0
    received = api.get("/api/v1/orders?direction=received", user=world.county_supervisor)
    assert [o["id"] for o in received.get_json()] == [oid]
    assert api.get(f"/api/v1/orders/{oid}", user=world.other_registrar).status_code == 404


def test_order_issued_tells_the_unit_and_the_owners(make, world, api):
    issue = _issue(make, world)
    _order(api, world, [issue.id])
    told = set(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "order_issued")))
    assert told == {world.county_supervisor.id, world.officer.id}


def test_daily_pass_tells_the_issuer_once_per_step(make, world):
    with clock(date(2018, 9, 3)):  # a Monday
        issue = _issue(make, world)
        order = supervision.issue_order(world.supervisor, {
            "org_id": world.county.id, "level": "yellow", "issue_ids": [issue.id],
            "reply_by": date(2018, 9, 10)})
        db.session.commit()
    assert supervision.overdue_pass(date(2018, 9, 5)) == []  # two working days to sign
    assert [s for _o, s in supervision.overdue_pass(date(2018, 9, 6))] == ["acknowledge"]
    assert supervision.overdue_pass(date(2018, 9, 7)) == []
    assert [s for _o, s in supervision.overdue_pass(date(2018, 9, 11))] == ["reply"]
    assert supervision.overdue_pass(date(2018, 9, 12)) == []
    db.session.commit()
    alerts = db.session.scalars(select(Notification.kind).where(
        Notification.user_id == world.supervisor.id,
        Notification.kind == "order_overdue")).all()
    assert len(alerts) == 2
    assert order.number == "果洛督〔2018〕1号"


@pytest.mark.commits  # the issuers' requests run on connections of their own
def test_two_issuers_at_once_get_gapless_numbers(app, make, world, api):
    issue_ids = [_issue(make, world).id for _ in range(2)]
    second = make.user("supervisor", world.prefecture)
    tokens = [api.token(u) for u in (world.supervisor.username, second.username)] * 3
    body = {"org_id": world.county.id, "level": "blue", "issue_ids": issue_ids,
            "reply_by": (date.today() + timedelta(days=5)).isoformat()}
    db.session.rollback()  # this test's own session holds no lock while they issue
    barrier = threading.Barrier(len(tokens))
    answers: list[Any] = []

    def issue_with(token: str) -> None:
        client = app.test_client()
        barrier.wait(timeout=60)
        answers.append(client.post("/api/v1/orders", json=body,
                                   headers={"Authorization": f"Bearer {token}"}))

    threads = [threading.Thread(target=issue_with, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [a.status_code for a in answers] == [201] * len(tokens), [
        a.get_json() for a in answers]
    year = date.today().year
    assert sorted(a.get_json()["number"] for a in answers) == sorted(
        f"果洛督〔{year}〕{n}号" for n in range(1, len(tokens) + 1))
    db.session.expire_all()
    assert db.session.get(Issue, issue_ids[0]).open_orders == len(tokens)


# --- the ranking -------------------------------------------------------------------------


def test_ranking_scores_and_shares_ranks(make, world, api):
    third = make.org("达日县", "county", world.prefecture)
    empty = make.org("班玛县", "county", world.prefecture)
    assert third and empty
    with clock(date(2018, 7, 11)):
        # 玛多县: two findings, one closed on time, one overdue on 2018-12-01 by 30 days.
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   due_on=date(2018, 10, 31), status="closed")
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   due_on=date(2018, 11, 1))
        # 久治县: one closed on time (the same score as a county with the same rates).
        make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
                   due_on=date(2018, 10, 31), status="closed")
    resp = api.get("/api/v1/reports/ranking?as_of=2018-12-01", user=world.supervisor)
    assert resp.status_code == 200, resp.get_json()
    rows = {r["org_name"]: r for r in resp.get_json()}
    jz, md = rows["久治县"], rows["玛多县"]
    assert (jz["total"], jz["closed"], jz["score"], jz["rank"]) == (1, 1, 100.0, 1)
    assert (md["total"], md["closed"], md["overdue"], md["overdue_days"]) == (2, 1, 1, 30)
    assert md["score"] == round(60 * 0.5 + 40 * 1.0 - 1.0, 1) and md["rank"] == 2
    assert md["red"] == 1 and md["yellow"] + md["green"] == 0
    assert [r["org_name"] for r in resp.get_json()][-2:] == sorted(
        ["达日县", "班玛县"], key=lambda n: rows[n]["org_id"])
    assert rows["班玛县"]["rank"] is None and rows["班玛县"]["on_time_rate"] is None
    assert api.get("/api/v1/reports/ranking", user=world.officer).status_code == 403


def test_equal_scores_share_a_rank():
    from tracker.supervision.ranking import _ranked

    rows = [{"org_id": i, "score": s} for i, s in enumerate([90.0, 80.0, 80.0, 70.0, None])]
    assert [r["rank"] for r in _ranked(rows)] == [1, 2, 2, 4, None]
