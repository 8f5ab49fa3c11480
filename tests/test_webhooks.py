"""Webhooks (SPEC §6): subscriptions, the outbox, signed deliveries to a real receiver on
127.0.0.1 verified with the ``standardwebhooks`` package, back-off, SSRF guard."""

# ruff: noqa: F811 - the shared fixtures are imported by name and requested by name
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.support.pages import csrf_token, login
from tests.support.webhooks import deliveries as _deliveries
from tests.support.webhooks import hook_to, loopback  # noqa: F401 - fixtures
from tests.webhook_receiver import receiver
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.deadlines import service as deadlines
from tracker.notify.models import Notification
from tracker.notify.service import run_pass
from tracker.notify.webhooks import service as webhooks
from tracker.notify.webhooks.models import Webhook, WebhookDelivery, WebhookMessage
from tracker.timeutil import utcnow


@pytest.fixture(autouse=True)
def _no_loopback(config) -> None:
    """Webhooks may not reach loopback addresses unless a test allows it."""
    config(TRACKER_WEBHOOK_ALLOW_LOOPBACK=False)


def test_closing_a_finding_is_delivered_signed_with_the_issue(api, world, make, hook_to,
                                                               runner):
    with receiver() as rx:
        created = hook_to(rx, ["issue.registered", "issue.closed"])
        assert created["secret"].startswith("whsec_")
        issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                           status="closed")
        result = runner.invoke(args=["deliver"])
        assert result.exit_code == 0, result.output
        assert "2 delivered" in result.output
    assert [r.payload["type"] for r in rx.requests] == ["issue.registered", "issue.closed"]
    assert all(r.verified for r in rx.requests)  # standardwebhooks accepted every signature
    closed = rx.requests[1].payload
    assert closed["data"]["issue"]["id"] == issue.id
    assert closed["data"]["issue"]["status"] == "closed"
    assert closed["timestamp"].endswith("Z")
    assert rx.requests[0].msg_id != rx.requests[1].msg_id
    log = api.get(f"/api/v1/webhooks/{created['id']}/deliveries", user=world.admin).get_json()
    assert [(d["event_type"], d["attempt"], d["status_code"]) for d in log] == [
        ("issue.closed", 1, 200), ("issue.registered", 1, 200)]
    assert all(d["delivered_at"] for d in log)


def test_the_secret_is_shown_once(api, world, hook_to):
    with receiver() as rx:
        created = hook_to(rx, ["issue.closed"])
    one = api.get(f"/api/v1/webhooks/{created['id']}", user=world.admin).get_json()
    assert "secret" not in one and one["events"] == ["issue.closed"]
    listed = api.get("/api/v1/webhooks", user=world.admin)
    assert "whsec_" not in listed.text


def test_only_admins_manage_webhooks(api, world):
    assert api.get("/api/v1/webhooks").status_code == 401
    assert api.get("/api/v1/webhooks", user=world.supervisor).status_code == 403
    resp = api.post("/api/v1/webhooks", user=world.registrar,
                    json={"url": "http://10.1.2.3/hook", "events": ["issue.closed"]})
    assert resp.status_code == 403


def test_unknown_event_type_is_refused(api, world):
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": "http://10.1.2.3/hook", "events": ["issue.deleted"]})
    assert resp.status_code == 422


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://[fe80::1]/hook", "http://0.0.0.0:8080/hook",
                                 "http://127.0.0.1:9/hook", "http://localhost/hook"])
def test_urls_to_metadata_loopback_or_unspecified_addresses_are_refused(api, world, config,
                                                                        url):
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": url, "events": ["issue.closed"]})
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["reason"] == "url_not_allowed"


def test_metadata_address_stays_refused_when_loopback_is_allowed(api, world, loopback):
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": "http://169.254.169.254/", "events": ["issue.closed"]})
    assert resp.status_code == 422
    assert resp.get_json()["reason"] == "url_not_allowed"


def test_private_intranet_addresses_are_allowed(api, world):
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": "http://10.20.30.40:8080/hook", "events": ["issue.closed"]})
    assert resp.status_code == 201


def test_the_host_is_checked_again_at_delivery(config, api, world, make, hook_to):
    with receiver() as rx:
        created = hook_to(rx, ["issue.registered"])
        make.issue(world.centre, world.officer, world.campaign, world.category)
        config(TRACKER_WEBHOOK_ALLOW_LOOPBACK=False)  # the address is refused now
        result = webhooks.deliver()
    assert rx.requests == [] and result.failed == 1
    (delivery,) = _deliveries(created["id"])
    assert delivery.status == "pending" and "url_not_allowed" in (delivery.error or "")


def test_failing_receiver_gets_retries_under_the_same_id_and_one_delivery(world, make,
                                                                           hook_to, runner):
    with receiver(fail_first=2) as rx:
        created = hook_to(rx, ["issue.registered"])
        make.issue(world.centre, world.officer, world.campaign, world.category)
        first = runner.invoke(args=["deliver"])
        assert first.exit_code == 1, first.output  # a delivery failed
        (delivery,) = _deliveries(created["id"])
        wait = delivery.next_attempt_at - delivery.last_attempt_at
        assert timedelta(seconds=55) <= wait <= timedelta(seconds=65)  # about a minute
        assert runner.invoke(args=["deliver"]).output.startswith(
            "Webhook sweep: 0 delivery(ies) claimed")  # not yet due: the back-off holds
        assert runner.invoke(args=["deliver", "--retry-now"]).exit_code == 1
        (delivery,) = _deliveries(created["id"])
        wait = delivery.next_attempt_at - delivery.last_attempt_at
        assert timedelta(minutes=4) <= wait <= timedelta(minutes=6)  # then five minutes
        assert runner.invoke(args=["deliver", "--retry-now"]).exit_code == 0
        assert runner.invoke(args=["deliver", "--retry-now"]).output.startswith(
            "Webhook sweep: 0 delivery(ies) claimed")
    assert [r.answered for r in rx.requests] == [500, 500, 200]
    assert len({r.msg_id for r in rx.requests}) == 1  # the same webhook-id every time
    assert all(r.verified for r in rx.requests)
    assert len(rx.delivered) == 1
    (delivery,) = _deliveries(created["id"])
    assert (delivery.status, delivery.attempt, delivery.status_code) == ("delivered", 3, 200)


def test_back_off_grows_then_stays_daily():
    waits = [webhooks.backoff(n) for n in range(1, 9)]
    assert waits[:5] == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                         timedelta(hours=2), timedelta(hours=8)]
    assert waits[5:] == [timedelta(days=1)] * 3


def test_slow_receiver_times_out_and_is_retried(config, world, make, hook_to):
    config(TRACKER_WEBHOOK_TIMEOUT=0.3)
    with receiver(delay=3) as rx:
        created = hook_to(rx, ["issue.registered"])
        make.issue(world.centre, world.officer, world.campaign, world.category)
        result = webhooks.deliver()
    assert result.failed == 1 and not result.ok
    (delivery,) = _deliveries(created["id"])
    assert delivery.status == "pending" and "timed out" in (delivery.error or "")
    assert delivery.attempt == 1 and delivery.next_attempt_at > utcnow()


def test_a_rolled_back_change_sends_nothing(world, make, hook_to):
    with receiver() as rx:
        hook_to(rx, ["issue.registered"])
        issues.register_issue(world.admin, {
            "campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": "大厅无叫号系统", "cause": "",
            "measures": "", "description": "", "owner_id": world.officer.id,
            "starts_on": date(2018, 7, 7), "due_on": date(2019, 1, 7),
        })
        assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 1
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 0
        assert webhooks.deliver().claimed == 0
    assert rx.requests == []


def test_a_subscription_for_one_county_hears_only_its_subtree(world, make, hook_to):
    with receiver() as rx:
        hook_to(rx, ["issue.registered"], org_id=world.other_county.id)
        make.issue(world.centre, world.officer, world.campaign, world.category)
        theirs = make.issue(world.other_centre, world.other_officer, world.campaign,
                            world.category)
        webhooks.deliver()
    assert [r.payload["data"]["issue"]["id"] for r in rx.requests] == [theirs.id]


def test_extension_and_evidence_types_carry_their_object(world, make, hook_to):
    with receiver() as rx:
        hook_to(rx, ["extension.requested", "extension.decided", "evidence.added"])
        issue = make.issue(world.centre, world.officer, world.campaign, world.category)
        ext = deadlines.request_extension(issue, world.officer, date(2019, 3, 1), "设备未到货")
        db.session.commit()
        deadlines.decide_extension(ext, world.supervisor, "approve", "同意")
        db.session.commit()
        webhooks.deliver()
    kinds = [r.payload["type"] for r in rx.requests]
    assert kinds == ["extension.requested", "extension.decided"]
    assert rx.requests[0].payload["data"]["extension"]["status"] == "pending"
    decided = rx.requests[1].payload["data"]
    assert decided["extension"]["status"] == "approved"
    assert decided["issue"]["due_on"] == "2019-03-01"


def test_issue_overdue_comes_once_per_issue_and_due_date(world, make, hook_to):
    with receiver() as rx:
        hook_to(rx, ["issue.overdue"])
        late = make.issue(world.centre, world.officer, world.campaign, world.category,
                          due_on=date(2019, 1, 7))
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   due_on=date(2019, 1, 20))
        run_pass(date(2019, 1, 8))
        run_pass(date(2019, 1, 8))
        run_pass(date(2019, 1, 9))
        webhooks.deliver()
    assert [(r.payload["type"], r.payload["data"]["issue"]["id"]) for r in rx.requests] == [
        ("issue.overdue", late.id)]
    assert rx.requests[0].payload["data"]["issue"]["overdue"] is True


def test_five_days_of_failures_deactivate_and_tell_the_admins(world, make, hook_to, runner):
    with receiver(answer=503) as rx:
        created = hook_to(rx, ["issue.registered"])
        make.issue(world.centre, world.officer, world.campaign, world.category)
        hook = db.session.get(Webhook, created["id"])
        hook.failing_since = utcnow() - timedelta(days=5, minutes=1)
        db.session.commit()
        result = runner.invoke(args=["deliver"])
        assert result.exit_code == 1 and "deactivated" in result.output
        assert runner.invoke(args=["deliver", "--retry-now"]).output.startswith(
            "Webhook sweep: 0 delivery(ies) claimed")  # nothing goes to an inactive one
    db.session.expire_all()
    assert db.session.get(Webhook, created["id"]).active is False
    notices = db.session.scalars(select(Notification).where(
        Notification.user_id == world.admin.id)).all()
    assert [n.kind for n in notices] == ["webhook_disabled"]
    assert str(created["id"]) in notices[0].subject
    assert len(rx.requests) == 1


def test_a_burst_is_sent_in_bounded_sweeps(config, world, hook_to):
    config(TRACKER_WEBHOOK_BATCH=5)
    with receiver() as rx:
        hook_to(rx, ["issue.registered"])
        # One batch, as an import registers it: twelve events announced at once.
        issues.register_issues(world.admin, [{
            "campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": f"窗口排队时间长{n}", "cause": "",
            "measures": "", "description": "", "owner_id": world.officer.id,
            "starts_on": date(2018, 7, 7), "due_on": date(2019, 1, 7),
        } for n in range(12)])
        db.session.commit()
        sweeps = [webhooks.deliver().claimed for _ in range(4)]
    assert sweeps == [5, 5, 2, 0]
    assert len({r.msg_id for r in rx.requests}) == 12 == len(rx.requests)
    titles = sorted(r.payload["data"]["issue"]["title"] for r in rx.requests)
    assert titles == sorted(f"窗口排队时间长{n}" for n in range(12))


def test_one_failing_endpoint_does_not_hold_up_the_sweep(world, make, hook_to):
    with receiver(answer=500) as rx:
        created = hook_to(rx, ["issue.registered"])
        for _ in range(4):
            make.issue(world.centre, world.officer, world.campaign, world.category)
        result = webhooks.deliver()
    assert (result.failed, result.deferred) == (1, 3) and len(rx.requests) == 1
    # The deferred ones stay due, unclaimed, for the next sweep.
    assert [d.claim_token for d in _deliveries(created["id"])] == [None] * 4


@pytest.mark.commits
def test_two_sweeps_at_once_never_send_one_event_twice(app, world, make, hook_to):
    with receiver(delay=0.02) as rx:
        hook_to(rx, ["issue.registered", "issue.updated"])
        for _ in range(15):
            make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")  # registered + updated (start)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env.update(TRACKER_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   TRACKER_SECRET_KEY="test-secret", TRACKER_WEBHOOK_ALLOW_LOOPBACK="true")
        cmd = [sys.executable, "-m", "flask", "--app", "tracker", "deliver"]
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
    counts = Counter(r.msg_id for r in rx.requests)
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert all(r.verified for r in rx.requests)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                             .where(WebhookDelivery.status == "delivered")) == 30


def test_admin_pages_create_show_the_secret_once_and_list_deliveries(pages, world, make,
                                                                     loopback):
    login(pages, world.admin.username)
    page = pages.get("/admin/webhooks/new")
    assert page.status_code == 200
    with receiver() as rx:
        resp = pages.post("/admin/webhooks/new", data={
            "url": rx.url, "events": ["issue.registered", "issue.closed"], "org_id": "",
            "active": "y", "csrf_token": csrf_token(page.text)})
        assert resp.status_code == 200, resp.text
        assert "whsec_" in resp.text
        hook = db.session.scalar(select(Webhook))
        rx.secret = hook.secret
        make.issue(world.centre, world.officer, world.campaign, world.category)
        webhooks.deliver()
    assert rx.requests and rx.requests[0].verified
    detail = pages.get(f"/admin/webhooks/{hook.id}")
    assert detail.status_code == 200
    assert "whsec_" not in detail.text
    assert "issue.registered" in detail.text and rx.requests[0].msg_id in detail.text
    assert "whsec_" not in pages.get("/admin/webhooks").text


def test_admin_page_refuses_a_metadata_url(pages, world, config):
    login(pages, world.admin.username)
    page = pages.get("/admin/webhooks/new")
    resp = pages.post("/admin/webhooks/new", data={
        "url": "http://169.254.169.254/", "events": ["issue.closed"], "org_id": "",
        "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 200 and "whsec_" not in resp.text
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_webhook_pages_are_for_admins(pages, world):
    login(pages, world.supervisor.username)
    assert pages.get("/admin/webhooks").status_code == 403


def test_reactivating_forgets_the_failures(api, world, hook_to):
    with receiver() as rx:
        created = hook_to(rx, ["issue.closed"])
    hook = db.session.get(Webhook, created["id"])
    hook.active, hook.failing_since, hook.disabled_at = False, utcnow(), utcnow()
    db.session.commit()
    resp = api.patch(f"/api/v1/webhooks/{created['id']}", user=world.admin,
                     json={"active": True})
    assert resp.status_code == 200 and resp.get_json()["active"] is True
    assert resp.get_json()["failing_since"] is None


def test_deleting_a_webhook_removes_its_log(api, world, make, hook_to):
    with receiver() as rx:
        created = hook_to(rx, ["issue.registered"])
        make.issue(world.centre, world.officer, world.campaign, world.category)
    assert api.delete(f"/api/v1/webhooks/{created['id']}", user=world.admin).status_code == 204
    assert api.get(f"/api/v1/webhooks/{created['id']}", user=world.admin).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_without_subscribers_the_ledger_writes_no_outbox(world, make):
    make.issue(world.centre, world.officer, world.campaign, world.category, status="closed")
    assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 0


def test_a_closure_through_the_api_is_announced(api, world, make, hook_to):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    with receiver() as rx:
        hook_to(rx, ["issue.closed"], org_id=world.county.id)
        resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.supervisor,
                        json={"action": "close", "comment": "核查属实"})
        assert resp.status_code == 200, resp.get_json()
        webhooks.deliver()
    (closed,) = rx.requests
    assert closed.verified and closed.payload["type"] == "issue.closed"
    assert closed.payload["data"]["issue"] == resp.get_json()  # the issue as the API shows it


def test_the_scheduler_sweeps_webhooks_every_minute(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from tracker.notify.scheduler import WEBHOOK_JOB_ID, build_scheduler

    job = build_scheduler(app, BackgroundScheduler).get_job(WEBHOOK_JOB_ID)
    assert job is not None and job.trigger.interval == timedelta(minutes=1)
