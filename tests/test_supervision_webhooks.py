"""Webhooks of supervision (SPEC §6): ``issue.urged`` and the ``order.*`` types, delivered
signed to a real receiver."""

from __future__ import annotations

from datetime import date, timedelta

from tests.support.webhooks import hook_to, loopback  # noqa: F401 - fixtures
from tests.webhook_receiver import receiver


def test_urge_and_order_steps_are_delivered(api, world, make, hook_to, runner):  # noqa: F811
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    with receiver() as rx:
        hook_to(rx, ["issue.urged", "order.issued", "order.acknowledged", "order.replied",
                     "order.closed"])
        assert api.post(f"/api/v1/issues/{issue.id}/urges", user=world.supervisor,
                        json={"comment": "请抓紧"}).status_code == 201
        order = api.post("/api/v1/orders", user=world.supervisor, json={
            "org_id": world.county.id, "level": "yellow", "issue_ids": [issue.id],
            "reply_by": (date.today() + timedelta(days=5)).isoformat()}).get_json()
        api.post(f"/api/v1/orders/{order['id']}/acknowledge", user=world.county_supervisor)
        api.post(f"/api/v1/orders/{order['id']}/reply", user=world.county_supervisor,
                 json={"text": "已完成"})
        api.post(f"/api/v1/orders/{order['id']}/close", user=world.supervisor, json={})
        result = runner.invoke(args=["deliver"])
        assert result.exit_code == 0, result.output
    assert [r.payload["type"] for r in rx.requests] == [
        "issue.urged", "order.issued", "order.acknowledged", "order.replied", "order.closed"]
    assert all(r.verified for r in rx.requests)
    urged = rx.requests[0].payload["data"]["issue"]
    assert (urged["id"], urged["urge_count"]) == (issue.id, 1)
    closed = rx.requests[-1].payload["data"]
    assert list(closed) == ["order"]
    assert (closed["order"]["number"], closed["order"]["status"]) == (order["number"], "closed")
