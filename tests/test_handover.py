"""Handover (交接, SPEC §3): a leaving user's open issues move to a successor at once."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pages import login, post_form
from tracker.errors import ValidationError
from tracker.extensions import db
from tracker.issues.handover import service as handover
from tracker.issues.models import Event, Issue
from tracker.notify.models import Notification
from tracker.notify.webhooks import service as webhooks
from tracker.notify.webhooks.models import Webhook, WebhookDelivery, WebhookMessage
from tracker.owners import service as owners


@pytest.fixture
def leaving(world: Any, make: Any) -> dict[str, Any]:
    """The officer 才让 with three open issues (one in progress) and one closed."""
    w = world
    issues = [make.issue(w.centre, w.officer, w.campaign, w.category),
              make.issue(w.centre, w.officer, w.campaign, w.category2, status="in_progress"),
              make.issue(w.department, w.officer, w.campaign, w.category)]
    closed = make.issue(w.centre, w.officer, w.campaign, w.category, status="closed")
    return {"open": issues, "closed": closed}


def _notices(user_id: int) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)))


def test_every_open_issue_moves_with_its_event_and_one_notice(world: Any,
                                                             leaving: Any) -> None:
    versions = {i.id: i.version for i in leaving["open"]}
    moved = handover.hand_over(world.admin, world.officer, world.officer2.id, "才让调离，交卓玛")
    db.session.commit()
    assert sorted(i.id for i in moved) == sorted(versions)
    for issue in leaving["open"]:
        db.session.refresh(issue)
        assert issue.owner_id == world.officer2.id
        assert issue.version == versions[issue.id] + 1
        event = db.session.scalars(select(Event).where(Event.issue_id == issue.id)
                                   .order_by(Event.id.desc())).first()
        assert event is not None and event.kind == "updated"
        assert event.changes == {"owner_id": [world.officer.id, world.officer2.id]}
        assert event.comment == "才让调离，交卓玛"
    db.session.refresh(leaving["closed"])
    assert leaving["closed"].owner_id == world.officer.id  # closed issues stay
    (notice,) = _notices(world.officer2.id)
    assert notice.kind == "assigned" and notice.comment == "才让调离，交卓玛"
    assert sorted(item.issue_id for item in notice.items) == sorted(versions)
    assert "3" in notice.subject


def test_a_handover_sends_the_webhooks_of_an_owner_change(world: Any, leaving: Any) -> None:
    db.session.add(Webhook(url="https://hooks.example.gov.cn/ledger", events=["issue.updated"],
                           secret=webhooks.new_secret(), active=True))
    db.session.commit()
    handover.hand_over(world.admin, world.officer, world.officer2.id, "")
    db.session.commit()
    sent = db.session.scalars(select(WebhookMessage.issue_id).join(
        WebhookDelivery, WebhookDelivery.message_id == WebhookMessage.id)
        .where(WebhookMessage.event_type == "issue.updated")).all()
    assert sorted(sent) == sorted(i.id for i in leaving["open"])


def test_nothing_moves_when_the_successor_cannot_own_one(world: Any, leaving: Any) -> None:
    # The other county's officer is on the line of none of these issues.
    with pytest.raises(ValidationError) as refused:
        handover.hand_over(world.admin, world.officer, world.other_officer.id, "")
    db.session.rollback()
    assert refused.value.reason == "invalid_owner"
    assert refused.value.errors["issue_ids"] == sorted(i.id for i in leaving["open"])
    owners_now = db.session.scalars(select(Issue.owner_id).where(
        Issue.id.in_([i.id for i in leaving["open"]]))).all()
    assert set(owners_now) == {world.officer.id}
    assert _notices(world.other_officer.id) == []


def test_the_api_hands_over_and_lists_what_moved(world: Any, leaving: Any, api: Any) -> None:
    resp = api.post(f"/api/v1/users/{world.officer.id}/handover", user=world.admin,
                    json={"to_user_id": world.officer2.id, "comment": "岗位调整"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["issue_ids"] == sorted(i.id for i in leaving["open"])
    refused = api.post(f"/api/v1/users/{world.officer2.id}/handover", user=world.admin,
                       json={"to_user_id": world.other_officer.id})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["reason"] == "invalid_owner"
    assert body["errors"]["issue_ids"] == sorted(i.id for i in leaving["open"])


def test_only_an_admin_or_a_supervisor_over_the_user_hands_over(world: Any, leaving: Any,
                                                                api: Any) -> None:
    path = f"/api/v1/users/{world.officer.id}/handover"
    body = {"to_user_id": world.officer2.id}
    assert api.post(path, user=world.registrar, json=body).status_code == 403
    assert api.post(path, user=world.other_supervisor, json=body).status_code == 404
    assert api.post(path, user=world.supervisor, json=body).status_code == 200


def test_the_command_hands_over(world: Any, leaving: Any, runner: Any) -> None:
    result = runner.invoke(args=["handover", "off", "--to", "off2"])
    assert result.exit_code == 0, result.output
    assert "已将 3 项问题从 off 交接给 off2" in result.output
    refused = runner.invoke(args=["handover", "off2", "--to", "jzoff"])
    assert refused.exit_code == 1 and "未交接任何问题" in refused.output


def test_deactivating_an_owner_of_open_items_is_refused(world: Any, leaving: Any,
                                                        api: Any) -> None:
    resp = api.patch(f"/api/v1/users/{world.officer.id}", user=world.admin,
                     json={"active": False})
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["reason"] == "has_open_items" and body["errors"]["open_items"] == 3
    handover.hand_over(world.admin, world.officer, world.officer2.id, "")
    db.session.commit()
    done = api.patch(f"/api/v1/users/{world.officer.id}", user=world.admin,
                     json={"active": False})
    assert done.status_code == 200 and done.get_json()["active"] is False


def test_the_admin_page_offers_the_handover_and_shows_what_moves(
        client: FlaskClient, world: Any, leaving: Any) -> None:
    login(client, "admin")
    page = client.get(f"/admin/users/{world.officer.id}")
    assert "名下还有 3 项未销号的问题" in page.text
    assert f'href="/admin/users/{world.officer.id}/handover"' in page.text
    refused = post_form(client, f"/admin/users/{world.officer.id}",
                        f"/admin/users/{world.officer.id}", {
                            "display_name": "才让", "role": "officer",
                            "org_id": world.centre.id, "notify_mail": "immediate",
                            "locale": "zh_Hans", "auth": "local"})  # "active" unticked
    assert refused.status_code == 200 and "请先交接" in refused.text
    confirm = client.get(f"/admin/users/{world.officer.id}/handover")
    for issue in leaving["open"]:
        assert f"#{issue.id} {issue.title}" in confirm.text
    assert f"#{leaving['closed'].id} " not in confirm.text
    done = post_form(client, f"/admin/users/{world.officer.id}/handover",
                     f"/admin/users/{world.officer.id}/handover",
                     {"to_user_id": world.county_supervisor.id, "comment": "交给督查"})
    assert done.status_code == 302
    after = client.get(done.headers["Location"])
    assert "已将 3 项问题交接给 玛多督查" in after.text
    # Four eyes: the supervisor who now owns them is told they cannot verify them.
    assert "玛多督查 现为这些问题的责任人，不能验收它们" in after.text


def test_a_batch_of_one_issue_still_tells_once(world: Any, make: Any) -> None:
    make.issue(world.centre, world.officer, world.campaign, world.category)
    handover.hand_over(world.admin, world.officer, world.officer2.id, "")
    db.session.commit()
    (notice,) = _notices(world.officer2.id)
    assert len(notice.items) == 1
    assert owners.open_item_count(world.officer) == 0
