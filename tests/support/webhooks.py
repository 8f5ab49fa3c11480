"""Webhook test helpers shared by the webhook test modules: loopback allowed, a subscription
through the API, and a subscription's deliveries as stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.webhook_receiver import Receiver
from tracker.extensions import db
from tracker.notify.webhooks.models import WebhookDelivery


@pytest.fixture
def loopback(config: Any) -> None:
    """TRACKER_WEBHOOK_ALLOW_LOOPBACK=true, as in the tests of SPEC §6."""
    config(TRACKER_WEBHOOK_ALLOW_LOOPBACK=True)


@pytest.fixture
def hook_to(api: Any, world: Any, loopback: None) -> Any:
    """Subscribe a receiver through the API as the admin; the receiver learns the secret."""

    def subscribe(rx: Receiver, events: list[str], **extra: Any) -> dict[str, Any]:
        resp = api.post("/api/v1/webhooks", user=world.admin,
                        json={"url": rx.url, "events": events, **extra})
        assert resp.status_code == 201, resp.get_json()
        rx.secret = resp.get_json()["secret"]
        return resp.get_json()  # type: ignore[no-any-return]

    return subscribe


def deliveries(hook_id: int) -> list[WebhookDelivery]:
    """The stored deliveries of one subscription, oldest first, read afresh."""
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery)
                                   .where(WebhookDelivery.webhook_id == hook_id)
                                   .order_by(WebhookDelivery.id)))
