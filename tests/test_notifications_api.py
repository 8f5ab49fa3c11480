"""The in-app inbox through the API: own notices only, marking read."""

from __future__ import annotations

import json
from datetime import date

from tracker.notify import service


def _remind(world, make):
    """Two reminders for the officer (two passes), one for the other county's officer; each
    officer also has the notice that the issue was assigned to them (the oldest)."""
    mine = make.issue(world.centre, world.officer, world.campaign, world.category)
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    service.run_pass(date(2018, 12, 31))  # before:7 for both (in-app: no SMTP in tests)
    service.run_pass(date(2019, 1, 4))  # before:3
    return mine


def test_the_inbox_lists_only_the_callers_own_notices(world, make, api):
    issue = _remind(world, make)
    resp = api.get("/api/v1/notifications", user=world.officer)
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body) == 3
    assert json.loads(resp.headers["X-Pagination"])["total"] == 3
    assert body[2]["kind"] == "assigned" and body[2]["issue_ids"] == [issue.id]
    newest = body[0]
    assert newest["kind"] == "reminder"
    assert newest["issue_ids"] == [issue.id]
    assert newest["subject"] == "【整改台账】您有 1 项整改事项需要关注"
    assert newest["read_at"] is None and newest["created_at"].endswith("Z")
    assert body[0]["id"] > body[1]["id"]
    theirs = api.get("/api/v1/notifications", user=world.other_officer).get_json()
    assert {n["id"] for n in theirs}.isdisjoint({n["id"] for n in body})
    assert api.get("/api/v1/notifications", user=world.supervisor).get_json() == []


def test_marking_read_is_idempotent_and_filters_unread(world, make, api):
    _remind(world, make)
    notices = api.get("/api/v1/notifications", user=world.officer).get_json()
    first = api.post(f"/api/v1/notifications/{notices[1]['id']}/read", user=world.officer)
    assert first.status_code == 200
    read_at = first.get_json()["read_at"]
    assert read_at is not None
    again = api.post(f"/api/v1/notifications/{notices[1]['id']}/read", user=world.officer)
    assert again.status_code == 200 and again.get_json()["read_at"] == read_at
    unread = api.get("/api/v1/notifications?unread=true", user=world.officer).get_json()
    assert [n["id"] for n in unread] == [notices[0]["id"], notices[2]["id"]]
    read = api.get("/api/v1/notifications?unread=false", user=world.officer).get_json()
    assert [n["id"] for n in read] == [notices[1]["id"]]


def test_someone_elses_notice_answers_404_and_stays_unread(world, make, api):
    _remind(world, make)
    theirs = api.get("/api/v1/notifications", user=world.other_officer).get_json()[0]
    resp = api.post(f"/api/v1/notifications/{theirs['id']}/read", user=world.officer)
    assert resp.status_code == 404 and resp.get_json()["reason"] == "not_found"
    assert api.post("/api/v1/notifications/999999/read", user=world.officer).status_code == 404
    assert api.post("/api/v1/notifications/99999999999/read",
                    user=world.officer).status_code == 404
    still = api.get("/api/v1/notifications", user=world.other_officer).get_json()[0]
    assert still["read_at"] is None


def test_the_inbox_needs_a_login(world, make, api):
    _remind(world, make)
    assert api.get("/api/v1/notifications").status_code == 401
    assert api.post("/api/v1/notifications/1/read").status_code == 401
    bad = api.get("/api/v1/notifications?page_size=501", user=world.officer)
    assert bad.status_code == 422
