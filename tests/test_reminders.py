"""Reminder passes against a real SMTP server: steps, digests, escalation, exactly-once."""

from __future__ import annotations

import email
import email.policy
from datetime import date, timedelta
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from tests.smtp import free_port, html_of, smtp_server, text_of
from tests.support.reminders import statements_of_pass
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.notify import service
from tracker.notify.models import NoticeMail, Notification, NotificationItem, ReminderDelivery
from tracker.notify.policy import Policy, escalation_step, owner_step, policy_for

DUE = date(2019, 1, 7)
#: The reminder pass's own notices (the ledger's event notices land in the same inbox).
DIGESTS = Notification.kind.in_(("reminder", "escalation"))


def day(offset: int) -> date:
    """DUE shifted by ``offset`` days."""
    return DUE + timedelta(days=offset)


def deliveries(recipient=None) -> list[tuple[int, str, str, date]]:
    """(issue id, recipient username, step, due_on) of every claim, in order."""
    from tracker.owners.models import User

    stmt = (select(ReminderDelivery.issue_id, User.username, ReminderDelivery.step,
                   ReminderDelivery.due_on)
            .join(User, User.id == ReminderDelivery.recipient_id)
            .order_by(ReminderDelivery.id))
    if recipient is not None:
        stmt = stmt.where(ReminderDelivery.recipient_id == recipient.id)
    return [tuple(r) for r in db.session.execute(stmt)]


def subject(message) -> str:
    return str(message["Subject"])


# --- the policy's steps ------------------------------------------------------------------


def test_owner_steps_follow_the_policy(app, ctx):
    policy = policy_for(None)
    assert [owner_step(policy, DUE, day(-n)) for n in (9, 8)] == [None, None]
    assert owner_step(policy, DUE, day(-7)) == ("before:7", day(-7))
    assert owner_step(policy, DUE, day(-5)) == ("before:7", day(-7))
    assert owner_step(policy, DUE, day(-3)) == ("before:3", day(-3))
    assert owner_step(policy, DUE, day(-1)) == ("before:1", day(-1))
    assert owner_step(policy, DUE, DUE) == ("due", DUE)
    assert owner_step(policy, DUE, day(1)) == ("overdue:1", day(1))
    assert owner_step(policy, DUE, day(7)) == ("overdue:1", day(1))
    assert owner_step(policy, DUE, day(8)) == ("overdue:8", day(8))
    assert owner_step(policy, DUE, day(16)) == ("overdue:15", day(15))
    assert escalation_step(policy, DUE, day(2)) is None
    assert escalation_step(policy, DUE, day(3)) == ("escalate:3", day(3))
    assert escalation_step(policy, DUE, day(9)) == ("escalate:3", day(3))
    assert escalation_step(policy, DUE, day(10)) == ("escalate:10", day(10))
    # "Escalate at 0 days" means the first overdue day: nothing is overdue on the due day.
    at_once = Policy((0,), 1, 0)
    assert escalation_step(at_once, DUE, DUE) is None
    assert escalation_step(at_once, DUE, day(1)) == ("escalate:1", day(1))
    assert escalation_step(at_once, DUE, day(8)) == ("escalate:8", day(8))
    assert owner_step(at_once, DUE, day(-1)) is None
    assert owner_step(at_once, DUE, day(5)) == ("overdue:5", day(5))


@pytest.mark.parametrize("values, field", [
    ({"remind_days_before": [7, -1]}, "remind_days_before"),
    ({"remind_days_before": [3, 3]}, "remind_days_before"),
    ({"remind_days_before": "7,3"}, "remind_days_before"),
    ({"overdue_repeat_days": 0}, "overdue_repeat_days"),
    ({"escalate_after_days": -2}, "escalate_after_days"),
    ({"escalate_after_days": True}, "escalate_after_days"),
])
def test_a_policy_with_negative_or_repeated_days_is_refused(values, field):
    from tracker.errors import ValidationError
    from tracker.issues.service import validate_policy

    with pytest.raises(ValidationError) as exc:
        validate_policy(**values)
    assert list(exc.value.errors) == [field]


def test_a_valid_policy_passes():
    from tracker.issues.service import validate_policy

    validate_policy([14, 7, 0], 30, 0)
    validate_policy(None, None, None)


def test_campaign_policy_overrides_the_defaults(world, make, smtp):
    campaign = make.campaign(world.prefecture, remind_days_before=[2], overdue_repeat_days=3,
                             escalate_after_days=1)
    issue = make.issue(world.centre, world.officer, campaign, world.category)
    for as_of in (day(-3), day(-2), DUE, day(1), day(2), day(4)):
        service.run_pass(as_of)
    assert sorted((s, who) for _i, who, s, _d in deliveries()) == sorted([
        ("before:2", "off"), ("overdue:1", "off"), ("escalate:1", "madosup"),
        ("overdue:4", "off"),
    ])
    assert all(i == issue.id for i, *_ in deliveries())


# --- steps, digests, statuses ------------------------------------------------------------


def test_each_step_before_and_after_the_deadline_reaches_the_owner(world, make, smtp):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    expected = {-8: None, -7: "还剩 7 天", -5: None, -3: "还剩 3 天", -1: "还剩 1 天",
                0: "今天到期", 1: "已逾期 1 天", 2: None, 8: "已逾期 8 天", 9: None,
                15: "已逾期 15 天"}
    for offset, urgency in expected.items():
        smtp.clear()
        result = service.run_pass(day(offset))
        assert result.ok
        mine = smtp.to("off@example.gov.cn")
        if urgency is None:
            assert mine == [], offset
            continue
        assert len(mine) == 1, offset
        assert f"【{urgency}】" in text_of(mine[0])
        assert f"http://tracker.test/issues/{issue.id}" in text_of(mine[0])
    steps = [s for _i, _who, s, _d in deliveries(world.officer)]
    assert steps == ["before:7", "before:3", "before:1", "due", "overdue:1", "overdue:8",
                     "overdue:15"]


def test_several_issues_go_out_as_one_digest_per_recipient(world, make, smtp):
    a = make.issue(world.centre, world.officer, world.campaign, world.category, due_on=day(3))
    b = make.issue(world.centre, world.officer, world.campaign, world.category2,
                   due_on=day(-1), status="in_progress")
    c = make.issue(world.centre, world.officer, world.campaign, world.category, due_on=day(7))
    other = make.issue(world.other_centre, world.other_officer, world.campaign,
                       world.category, due_on=day(3))
    result = service.run_pass(DUE)
    assert result.ok and result.mailed == 2
    mine = smtp.to("off@example.gov.cn")
    assert len(mine) == 1
    message = mine[0]
    # The subject is RFC 2047-encoded on the wire and reads back as Chinese.
    raw_subject = message.get("Subject").__str__()
    assert raw_subject == "【整改台账】您有 3 项整改事项需要关注"
    wire = next(r.raw for r in smtp.received if "off@example.gov.cn" in r.rcpt_tos)
    assert b"=?utf-8?" in wire.lower()
    wire_subject = email.message_from_bytes(wire, policy=email.policy.compat32)["Subject"]
    assert wire_subject.isascii() and "=?utf-8?" in wire_subject.lower()
    assert str(make_header(decode_header(wire_subject))) == "【整改台账】您有 3 项整改事项需要关注"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content_charset() == "utf-8"
    text, html = text_of(message), html_of(message)
    # Most overdue first, each with its org path, due date, urgency and link.
    assert text.index(f"/issues/{b.id}") < text.index(f"/issues/{a.id}") \
        < text.index(f"/issues/{c.id}")
    for issue, urgency in ((a, "还剩 3 天"), (b, "已逾期 1 天"), (c, "还剩 7 天")):
        assert issue.title in text and issue.title in html
        assert f"http://tracker.test/issues/{issue.id}" in html
        assert urgency in text and urgency in html
        assert issue.due_on.isoformat() in text
    assert "果洛州 / 玛多县 / 玛多县行政服务中心" in text
    assert "才让" in text
    assert message["To"].addresses[0].display_name == "才让"
    # The other county's officer got their own digest with their one issue.
    theirs = smtp.to("jzoff@example.gov.cn")
    assert len(theirs) == 1 and "1 项" in subject(theirs[0])
    assert f"/issues/{other.id}" in text_of(theirs[0])
    # The same items landed in the in-app inbox.
    notice = db.session.scalar(select(Notification).where(
        Notification.user_id == world.officer.id, DIGESTS))
    assert notice.kind == "reminder"
    assert sorted(notice.issue_ids) == sorted([a.id, b.id, c.id])
    assert notice.subject == "【整改台账】您有 3 项整改事项需要关注"


def test_closed_and_submitted_issues_are_not_reminded(world, make, smtp):
    make.issue(world.centre, world.officer, world.campaign, world.category, status="closed")
    make.issue(world.centre, world.officer, world.campaign, world.category,
               status="submitted")
    for offset in (-7, 0, 1, 3, 8):
        result = service.run_pass(day(offset))
        assert result.ok and result.digests == 0
    assert smtp.messages == []
    assert deliveries() == []
    assert db.session.scalar(select(Notification.id).where(DIGESTS)) is None


def test_a_rejected_issue_is_reminded_again(world, make, smtp):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    service.run_pass(day(1))
    assert smtp.messages == []
    issues.transition(issue, world.supervisor, "reject", "佐证材料不全")
    db.session.commit()
    service.run_pass(day(1))
    assert [s for _i, _w, s, _d in deliveries(world.officer)] == ["overdue:1"]


def test_two_passes_send_one_mail(world, make, smtp):
    make.issue(world.centre, world.officer, world.campaign, world.category)
    first = service.run_pass(day(-3))
    second = service.run_pass(day(-3))
    assert (first.claimed, first.digests) == (1, 1)
    assert (second.claimed, second.digests) == (0, 0)
    assert len(smtp.messages) == 1
    assert db.session.query(Notification).filter(DIGESTS).count() == 1


def test_a_missed_stretch_sends_only_the_most_urgent_step(world, make, smtp):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    service.run_pass(day(-7))
    smtp.clear()
    # No pass ran for five days: before:3, before:1 and the due day were missed.
    result = service.run_pass(day(-2 + 4))
    assert result.ok
    assert [s for _i, _w, s, _d in deliveries(world.officer)] == ["before:7", "overdue:1"]
    mine = smtp.to("off@example.gov.cn")
    assert len(mine) == 1 and "已逾期 2 天" in text_of(mine[0])
    assert f"/issues/{issue.id}" in text_of(mine[0])


def test_an_extension_makes_new_steps_due(world, make, smtp):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    service.run_pass(day(-1))
    assert [s for _i, _w, s, _d in deliveries(world.officer)] == ["before:1"]
    issue = db.session.get(type(issue), issue.id)
    from tracker.issues.deadlines import service as extensions

    request = extensions.request_extension(issue, world.officer, day(6), "牧区路远")
    extensions.decide_extension(request, world.admin, "approve")
    db.session.commit()
    smtp.clear()
    # Same day again: for the new deadline this is the before:7 day.
    service.run_pass(day(-1))
    assert deliveries(world.officer) == [(issue.id, "off", "before:1", DUE),
                                         (issue.id, "off", "before:7", day(6))]
    assert "还剩 7 天" in text_of(smtp.to("off@example.gov.cn")[0])


# --- escalation --------------------------------------------------------------------------


def test_escalation_goes_to_the_nearest_supervisors_in_their_own_digest(world, make, smtp):
    centre_issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    dept_issue = make.issue(world.department, world.officer2, world.campaign, world.category)
    jz_issue = make.issue(world.other_centre, world.other_officer, world.campaign,
                          world.category)
    pref_issue = make.issue(world.prefecture, world.officer, world.campaign, world.category2,
                            due_on=day(1))
    service.run_pass(day(3))
    escalations = sorted((who, i, s) for i, who, s, _d in deliveries() if s.startswith("esc"))
    assert escalations == sorted([
        ("madosup", centre_issue.id, "escalate:3"), ("madosup", dept_issue.id, "escalate:3"),
        ("jzsup", jz_issue.id, "escalate:3"),
    ])
    mado = smtp.to("madosup@example.gov.cn")
    assert len(mado) == 1
    assert subject(mado[0]) == "【整改台账】督办提醒：2 项整改事项已逾期"
    text = text_of(mado[0])
    assert "已逾期 3 天" in text and "责任人：才让" in text and "责任人：卓玛" in text
    assert "果洛州 / 玛多县 / 玛多县行政服务中心 / 人社窗口" in text
    # Nobody above the nearest supervisors is told, and the prefecture's own issue is not
    # escalated before its own third day.
    assert smtp.to("zhou@example.gov.cn") == []
    service.run_pass(day(4))
    assert [w for i, w, s, _d in deliveries() if i == pref_issue.id and s.startswith("esc")] \
        == ["zhou"]
    # Weekly afterwards.
    smtp.clear()
    service.run_pass(day(10))
    assert len(smtp.to("madosup@example.gov.cn")) == 1
    assert "已逾期 10 天" in text_of(smtp.to("madosup@example.gov.cn")[0])
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == world.county_supervisor.id, Notification.kind == "escalation")
        .order_by(Notification.id)).all()
    assert len(notice) == 2


def test_escalation_skips_inactive_supervisors_and_falls_back_to_admins(world, make, smtp):
    from tracker.owners import service as owners

    owners.update_user(world.admin, world.county_supervisor, active=False)
    db.session.commit()
    lone = make.org("达日县", "prefecture", code="DR")
    lone_centre = make.org("达日县行政服务中心", "centre", lone, code="DR-ZX")
    lone_officer = make.user("officer", lone_centre, username="droff")
    second_admin = make.user("admin", None, username="admin2")
    make.issue(world.centre, world.officer, world.campaign, world.category)
    lone_issue = make.issue(lone_centre, lone_officer, world.campaign, world.category)
    service.run_pass(day(3))
    told = sorted((who, i) for i, who, s, _d in deliveries() if s == "escalate:3")
    assert ("zhou", lone_issue.id) not in told
    assert [w for w, i in told if i == lone_issue.id] == ["admin", second_admin.username]
    assert [w for w, i in told if i != lone_issue.id] == ["zhou"]
    assert len(smtp.to("admin@example.gov.cn")) == 1


# --- delivery ----------------------------------------------------------------------------


def test_recipients_without_email_get_the_in_app_notice(world, make, smtp):
    from tracker.owners import service as owners

    owners.update_user(world.admin, world.officer, email=None)
    db.session.commit()
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    result = service.run_pass(day(-7))
    assert result.ok and (result.mailed, result.in_app_only) == (0, 1)
    assert smtp.messages == []
    notice = db.session.scalar(select(Notification).where(DIGESTS))
    assert notice.user_id == world.officer.id and notice.issue_ids == [issue.id]
    assert db.session.scalar(select(ReminderDelivery.sent_at)) is not None


def test_without_smtp_the_pass_delivers_in_app_and_says_so(world, make, runner):
    make.issue(world.centre, world.officer, world.campaign, world.category)
    out = runner.invoke(args=["remind", "--as-of", day(-7).isoformat()])
    assert out.exit_code == 0, out.output
    assert "TRACKER_SMTP_HOST is not set" in out.output
    assert db.session.query(Notification).filter(DIGESTS).count() == 1


def test_smtp_down_then_up_loses_nothing_and_doubles_nothing(config, world, make, runner):
    a = make.issue(world.centre, world.officer, world.campaign, world.category)
    b = make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    port = free_port()  # nobody listens here: connection refused
    config(TRACKER_SMTP_HOST="127.0.0.1", TRACKER_SMTP_PORT=port)
    down = runner.invoke(args=["remind", "--as-of", day(-3).isoformat()])
    assert down.exit_code == 1
    assert "Traceback" not in down.output
    assert "NOT delivered" in down.output and f"127.0.0.1:{port}" in down.output
    pending = db.session.execute(select(
        ReminderDelivery.sent_at, ReminderDelivery.attempts, ReminderDelivery.last_error,
        ReminderDelivery.claim_token)).all()
    assert len(pending) == 2
    assert all(r.sent_at is None and r.attempts == 1 and r.claim_token is None
               and "unavailable" in r.last_error for r in pending)
    assert db.session.query(Notification).filter(DIGESTS).count() == 0
    # Still down the next day: still pending, nothing delivered, non-zero again.
    again = runner.invoke(args=["remind", "--as-of", day(-2).isoformat()])
    assert again.exit_code == 1
    with smtp_server() as box:
        config(TRACKER_SMTP_HOST=box.host, TRACKER_SMTP_PORT=box.port)
        up = runner.invoke(args=["remind", "--as-of", day(-1).isoformat()])
        assert up.exit_code == 0, up.output
        twice = runner.invoke(args=["remind", "--as-of", day(-1).isoformat()])
        assert twice.exit_code == 0
    # One digest per owner: the pending before:3 rides with today's before:1.
    assert sorted(m["To"].addresses[0].username for m in box.messages) == ["jzoff", "off"]
    for message in box.messages:
        assert "还剩 1 天" in text_of(message)
    rows = db.session.execute(select(ReminderDelivery.issue_id, ReminderDelivery.step,
                                     ReminderDelivery.sent_at, ReminderDelivery.attempts)
                              .order_by(ReminderDelivery.issue_id, ReminderDelivery.id)).all()
    assert [(r.issue_id, r.step) for r in rows] == [
        (a.id, "before:3"), (a.id, "before:1"), (b.id, "before:3"), (b.id, "before:1")]
    assert all(r.sent_at is not None for r in rows)
    assert [r.attempts for r in rows] == [3, 1, 3, 1]
    items = db.session.execute(select(NotificationItem.issue_id, NotificationItem.step)
                               .join(Notification).where(DIGESTS)
                               .order_by(NotificationItem.issue_id)).all()
    assert [tuple(i) for i in items] == [(a.id, "before:1"), (b.id, "before:1")]


def test_a_stale_pending_claim_is_released_not_sent(config, world, make, smtp):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       evidence=1)
    config(TRACKER_SMTP_PORT=free_port())
    result = service.run_pass(day(-3))
    assert not result.ok
    issues.transition(db.session.get(type(issue), issue.id), world.officer, "submit")
    db.session.commit()
    config(TRACKER_SMTP_PORT=smtp.port)
    result = service.run_pass(day(-3))
    assert result.ok and result.dropped == 1 and result.digests == 0
    assert smtp.messages == [] and deliveries() == []


def test_dry_run_prints_what_would_go_out_and_writes_nothing(world, make, smtp, runner):
    a = make.issue(world.centre, world.officer, world.campaign, world.category)
    b = make.issue(world.department, world.officer2, world.campaign, world.category,
                   due_on=day(-3))
    out = runner.invoke(args=["remind", "--as-of", DUE.isoformat(), "--dry-run"])
    assert out.exit_code == 0, out.output
    lines = [ln.split("\t") for ln in out.output.splitlines() if "\t" in ln]
    # b is three days overdue: its owner's latest step is overdue:1 (missed, no pass ran
    # before) and its county's supervisor is told.
    assert sorted(lines) == sorted([["off", str(a.id), "due"], ["off2", str(b.id), "overdue:1"],
                                    ["madosup", str(b.id), "escalate:3"]])
    assert "nothing was sent or recorded" in out.output
    assert smtp.messages == [] and deliveries() == []
    assert db.session.query(Notification).filter(DIGESTS).count() == 0


def test_remind_as_of_must_be_a_date(runner, app):
    out = runner.invoke(args=["remind", "--as-of", "07/01/2019"])
    assert out.exit_code == 2 and "as-of" in out.output


# --- cost --------------------------------------------------------------------------------


def test_the_pass_costs_what_is_due_not_the_size_of_the_ledger(world, make, smtp):
    from tracker.issues.models import Issue

    def add_not_due(n: int, start: int) -> None:
        # Registered directly in bulk: far from any step (due in 30+ days or closed ones
        # are not needed; open issues 30..60 days ahead have no step today).
        db.session.execute(Issue.__table__.insert(), [
            {"campaign_id": world.campaign.id, "org_id": world.centre.id,
             "category_id": world.category.id, "title": f"未到期事项{start + i}",
             "description": "", "cause": "", "measures": "", "owner_id": world.officer.id,
             "starts_on": date(2018, 7, 7), "due_on": day(30 + (start + i) % 30),
             "original_due_on": day(30), "status": "open", "evidence_count": 0,
             "extension_count": 0, "version": 1}
            for i in range(n)
        ])
        db.session.commit()

    make.issue(world.centre, world.officer, world.campaign, world.category, due_on=day(3))
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
               due_on=day(-3))
    add_not_due(20, 0)
    few = statements_of_pass(DUE)
    # Undo the claims so the same steps are due again, then grow the ledger tenfold.
    db.session.execute(NoticeMail.__table__.delete())
    db.session.execute(NotificationItem.__table__.delete())
    db.session.execute(ReminderDelivery.__table__.delete())
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    add_not_due(200, 20)
    smtp.clear()
    many = statements_of_pass(DUE)
    assert len(smtp.messages) == 3  # off, jzoff, jzsup
    assert many == few


def test_a_claim_held_by_a_live_pass_is_left_alone_until_its_lease_runs_out(world, make,
                                                                            smtp):
    from tracker.timeutil import utcnow

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    # Another pass claimed the step and is (or was) sending it.
    db.session.add(ReminderDelivery(
        issue_id=issue.id, recipient_id=world.officer.id, kind="reminder", step="before:3",
        due_on=DUE, as_of=day(-3), claimed_at=utcnow(), claim_token="other-pass",
        attempts=0))
    db.session.commit()
    result = service.run_pass(day(-3))
    assert (result.claimed, result.retried, result.digests) == (0, 0, 0)
    assert smtp.messages == []
    # That pass died: once its lease has run out, the next pass sends the step, once.
    claim = db.session.scalar(select(ReminderDelivery))
    claim.claimed_at = utcnow() - service.LEASE - timedelta(seconds=1)
    db.session.commit()
    result = service.run_pass(day(-3))
    assert (result.retried, result.digests) == (1, 1)
    assert len(smtp.messages) == 1 and "还剩 3 天" in text_of(smtp.messages[0])
    assert service.run_pass(day(-3)).digests == 0
    assert len(smtp.messages) == 1


def test_the_sender_may_carry_a_chinese_display_name(config, world, make, smtp):
    make.issue(world.centre, world.officer, world.campaign, world.category)
    config(TRACKER_MAIL_FROM="整改台账 <tracker@example.gov.cn>")
    assert service.run_pass(day(-7)).ok
    received = smtp.received[0]
    assert received.mail_from == "tracker@example.gov.cn"
    sender = received.message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("整改台账", "tracker@example.gov.cn")
    assert received.message["Message-ID"].endswith("@example.gov.cn>")


def test_the_scheduler_refuses_a_malformed_time(config, runner):
    config(TRACKER_REMIND_AT="9点")
    out = runner.invoke(args=["scheduler"])
    assert out.exit_code == 1
    assert "TRACKER_REMIND_AT must be HH:MM" in out.output and "Traceback" not in out.output


def test_a_temporary_refusal_keeps_that_digest_pending_and_sends_the_others(world, make,
                                                                           smtp, runner):
    mine = make.issue(world.centre, world.officer, world.campaign, world.category)
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    smtp.refuse["off@example.gov.cn"] = "451 4.3.0 mailbox busy, try later"
    out = runner.invoke(args=["remind", "--as-of", day(-3).isoformat()])
    assert out.exit_code == 1 and "451" in out.output
    assert [m["To"].addresses[0].username for m in smtp.messages] == ["jzoff"]
    del smtp.refuse["off@example.gov.cn"]
    out = runner.invoke(args=["remind", "--as-of", day(-3).isoformat()])
    assert out.exit_code == 0, out.output
    assert sorted(m["To"].addresses[0].username for m in smtp.messages) == ["jzoff", "off"]
    assert f"/issues/{mine.id}" in text_of(smtp.to("off@example.gov.cn")[0])


def test_a_permanently_refused_address_gets_the_inbox_notice_only(world, make, smtp, caplog):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    smtp.refuse["off@example.gov.cn"] = "550 5.1.1 no such user"
    result = service.run_pass(day(-3))
    assert result.ok and (result.mailed, result.in_app_only) == (0, 1)
    assert smtp.messages == []
    assert "off" in caplog.text and "550" in caplog.text
    notice = db.session.scalar(select(Notification).where(DIGESTS))
    assert notice.user_id == world.officer.id and notice.issue_ids == [issue.id]
    # Delivered: the next pass does not try again.
    assert service.run_pass(day(-3)).digests == 0
