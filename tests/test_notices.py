"""Event notices: who is told of what, in the change's transaction, and the mail sweep."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from datetime import date, timedelta
from email.header import decode_header, make_header

import pytest
from sqlalchemy import func, select

from tests.smtp import free_port, html_of, smtp_server, text_of
from tests.support.pages import csrf_token, login
from tests.support.processes import ROOT, child_env, flask
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.deadlines import service as deadlines
from tracker.notify import notices
from tracker.notify.models import NoticeMail, Notification
from tracker.owners import service as owners

EVENT_KINDS = ("assigned", "submitted", "rejected", "closed", "reopened",
               "extension_requested", "extension_decided")


def told(kind: str | None = None) -> list[tuple[str, str, str, str]]:
    """(recipient, kind, actor's username or label, comment) of each event notice, in order."""
    from sqlalchemy.orm import aliased

    from tracker.owners.models import User

    who = aliased(User)
    actor = select(who.username).where(who.id == Notification.actor_id).scalar_subquery()
    stmt = (select(User.username, Notification.kind, func.coalesce(actor, Notification.actor_label),
                   Notification.comment)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind.in_(EVENT_KINDS))
            .order_by(Notification.id))
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return [tuple(r) for r in db.session.execute(stmt)]  # type: ignore[misc]


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


# --- who is told -------------------------------------------------------------------------


def test_the_owner_is_told_of_an_assignment_and_of_a_change_of_owner(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       actor=world.registrar)
    title = issue.title
    assert told() == [("off", "assigned", "reg", "")]
    issues.update_issue(issue, world.registrar, {"owner_id": world.officer2.id})
    db.session.commit()
    assert told()[-1] == ("off2", "assigned", "reg", "")
    # Other edits tell nobody.
    issues.update_issue(issue, world.registrar, {"title": "群众办事来回跑(修订)"})
    db.session.commit()
    assert len(told()) == 2
    notice = db.session.scalar(select(Notification).where(Notification.kind == "assigned")
                               .order_by(Notification.id.desc()))
    assert notice.issue_ids == [issue.id] and notice.actor_id == world.registrar.id
    assert f"#{issue.id}" in notice.subject and title in notice.subject


def test_a_submission_tells_the_nearest_supervisors_and_the_lifecycle_tells_the_owner(
        world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       actor=world.registrar, evidence=1)
    issues.transition(issue, world.officer, "submit", "整改完成,提交验收")
    db.session.commit()
    # The county's supervisor is nearest; the prefecture's is not told.
    assert told("submitted") == [("madosup", "submitted", "off", "整改完成,提交验收")]
    issues.transition(issue, world.supervisor, "reject", "佐证材料不完整")
    issues.transition(issue, world.officer, "submit")
    issues.transition(issue, world.supervisor, "close", "核查属实")
    issues.transition(issue, world.supervisor, "reopen", "回访发现问题反弹")
    db.session.commit()
    assert told("rejected") == [("off", "rejected", "zhou", "佐证材料不完整")]
    assert told("closed") == [("off", "closed", "zhou", "核查属实")]
    assert told("reopened") == [("off", "reopened", "zhou", "回访发现问题反弹")]
    assert [t[0] for t in told("submitted")] == ["madosup", "madosup"]


def test_verifiers_fall_back_to_the_admins_where_no_supervisor_is_up_the_path(world, make):
    owners.update_user(owners.system_actor("tests"), world.county_supervisor, active=False)
    owners.update_user(owners.system_actor("tests"), world.supervisor, active=False)
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       evidence=1)
    issues.transition(issue, world.officer, "submit")
    db.session.commit()
    assert [t[0] for t in told("submitted")] == ["admin"]


def test_an_extension_tells_the_verifiers_then_the_requester_and_the_owner(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       actor=world.registrar)
    ext = deadlines.request_extension(issue, world.registrar, date(2019, 3, 7),
                                      "冬季施工困难")
    db.session.commit()
    assert told("extension_requested") == [
        ("madosup", "extension_requested", "reg", "冬季施工困难")]
    deadlines.decide_extension(ext, world.county_supervisor, "refuse", "理由不充分")
    db.session.commit()
    assert sorted(told("extension_decided")) == [
        ("off", "extension_decided", "madosup", "理由不充分"),
        ("reg", "extension_decided", "madosup", "理由不充分")]


def test_nobody_is_told_of_their_own_act(world, make):
    # The officer asks for time on their own item and is the owner: only the verifiers hear;
    # the decision tells the officer once (requester and owner are one person).
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    ext = deadlines.request_extension(issue, world.officer, date(2019, 3, 7), "冬季施工困难")
    deadlines.decide_extension(ext, world.supervisor, "approve", "同意")
    # A supervisor who submits an item of their county is its nearest verifier: nobody hears.
    other = make.issue(world.centre, world.officer2, world.campaign, world.category,
                       evidence=1)
    issues.transition(other, world.county_supervisor, "submit")
    db.session.commit()
    assert [(t[0], t[1]) for t in told() if t[1] != "assigned"] == [
        ("madosup", "extension_requested"), ("off", "extension_decided")]
    assert all(recipient != actor for recipient, _k, actor, _c in told())


def test_a_change_rolled_back_tells_nobody(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       evidence=1)
    before = db.session.scalar(select(func.count()).select_from(Notification))
    issues.transition(issue, world.officer, "submit", "提交")
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before + 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    assert db.session.scalar(select(func.count()).select_from(NoticeMail)) == before


def test_notices_reach_the_inbox_at_once_with_the_unread_count(client, world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    issues.transition(issue, world.supervisor, "reject", "请补充现场照片")
    db.session.commit()
    login(client, "off")
    page = client.get("/notifications")
    assert 'data-testid="unread">2<' in page.text  # assigned, then sent back
    assert "被驳回" in page.text and "请补充现场照片" in page.text and "周督查" in page.text


def test_the_api_names_the_issue_the_actor_and_the_comment(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    issues.transition(issue, world.supervisor, "reject", "请补充现场照片")
    db.session.commit()
    body = api.get("/api/v1/notifications", user=world.officer).get_json()
    newest = body[0]
    assert {k: newest[k] for k in ("kind", "issue_ids", "actor_id", "comment")} == {
        "kind": "rejected", "issue_ids": [issue.id], "actor_id": world.supervisor.id,
        "comment": "请补充现场照片"}
    assert set(newest) >= {"id", "created_at", "read_at"}


# --- the mail sweep ----------------------------------------------------------------------


def _reject(world, make, n: int = 1):
    """``n`` items of the officer sent back by the prefecture's supervisor."""
    made = []
    for i in range(n):
        issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                           status="submitted")
        issues.transition(issue, world.supervisor, "reject", f"佐证材料不完整{i}")
        made.append(issue)
    db.session.commit()
    return made


def test_one_mail_per_recipient_with_all_their_notices_then_nothing_new(world, make, smtp,
                                                                        runner):
    made = _reject(world, make, 2)
    first = runner.invoke(args=["notify"])
    assert first.exit_code == 0, first.output
    mine = smtp.to("off@example.gov.cn")
    assert len(mine) == 1
    text, html = text_of(mine[0]), html_of(mine[0])
    # What happened and to what, the first of four (two assigned, two sent back).
    assert subject(mine[0]) == f"交办给您：#{made[0].id} {made[0].title}（另有 3 条通知）"
    for issue in made:
        assert f"http://tracker.test/issues/{issue.id}" in text
        assert f'href="http://tracker.test/issues/{issue.id}"' in html
    assert "【被驳回】" in text and "意见：佐证材料不完整1" in text and "周督查" in text
    # The supervisors were told of the submissions, each once.
    assert len(smtp.to("madosup@example.gov.cn")) == 1
    assert len(smtp.to("zhou@example.gov.cn")) == 0  # zhou rejected; madosup verifies
    smtp.clear()
    again = runner.invoke(args=["notify"])
    assert again.exit_code == 0 and smtp.messages == []
    assert "0 notice(s) claimed" in again.output
    assert db.session.scalar(select(func.count()).select_from(NoticeMail)
                             .where(NoticeMail.sent_at.is_(None))) == 0


def test_smtp_down_exits_non_zero_then_delivers_once(config, world, make, runner):
    _reject(world, make)
    port = free_port()
    config(TRACKER_SMTP_HOST="127.0.0.1", TRACKER_SMTP_PORT=port)
    down = runner.invoke(args=["notify"])
    assert down.exit_code == 1
    assert "NOT delivered" in down.output and f"127.0.0.1:{port}" in down.output
    pending = db.session.execute(select(NoticeMail.attempts, NoticeMail.last_error,
                                        NoticeMail.claim_token)).all()
    assert pending and all(r.attempts == 1 and "unavailable" in r.last_error
                           and r.claim_token is None for r in pending)
    with smtp_server() as box:
        config(TRACKER_SMTP_HOST=box.host, TRACKER_SMTP_PORT=box.port)
        up = runner.invoke(args=["notify"])
        assert up.exit_code == 0, up.output
        twice = runner.invoke(args=["notify"])
        assert twice.exit_code == 0
    per_recipient = Counter(m["To"].addresses[0].username for m in box.messages)
    assert per_recipient == {"off": 1, "madosup": 1}


def test_notify_mail_off_keeps_notices_in_the_inbox_only(world, make, smtp, runner):
    owners.update_user(world.officer, world.officer, notify_mail="off")
    db.session.commit()
    _reject(world, make)
    assert runner.invoke(args=["notify"]).exit_code == 0
    assert smtp.to("off@example.gov.cn") == []
    assert [t[1] for t in told() if t[0] == "off"] == ["assigned", "rejected"]


def test_a_user_who_turns_mail_off_meanwhile_is_not_mailed(world, make, smtp, runner):
    _reject(world, make)
    owners.update_user(world.officer, world.officer, notify_mail="off")
    db.session.commit()
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 0 and "no longer to be mailed" in result.output
    assert smtp.to("off@example.gov.cn") == []


def test_notify_mail_daily_goes_out_with_the_daily_reminder_pass(world, make, smtp, runner):
    owners.update_user(world.officer, world.officer, notify_mail="daily")
    db.session.commit()
    _reject(world, make)
    assert runner.invoke(args=["notify"]).exit_code == 0
    assert smtp.to("off@example.gov.cn") == []
    assert len(smtp.to("madosup@example.gov.cn")) == 1  # immediate, the default
    daily = runner.invoke(args=["remind", "--as-of", "2018-08-01"])
    assert daily.exit_code == 0, daily.output
    mine = smtp.to("off@example.gov.cn")
    assert len(mine) == 1 and "被驳回" in text_of(mine[0])
    assert runner.invoke(args=["remind", "--as-of", "2018-08-01"]).exit_code == 0
    assert len(smtp.to("off@example.gov.cn")) == 1


def test_each_recipient_reads_their_own_language(world, make, smtp):
    owners.update_user(world.officer, world.officer, locale="bo")
    owners.update_user(world.county_supervisor, world.county_supervisor, locale="en")
    db.session.commit()
    made = _reject(world, make)
    result = notices.run_sweep()
    assert result.ok and result.digests == 2
    (bo,) = smtp.to("off@example.gov.cn")
    (en,) = smtp.to("madosup@example.gov.cn")
    assert re.fullmatch(r"\S+། #\d+ \S+། གཞན་ 1", subject(bo)), subject(bo)
    assert "ཕྱིར་སློག་བྱས།" in text_of(bo) and 'lang="bo"' in html_of(bo)
    assert subject(en) == f"Submitted for verification: #{made[0].id} {made[0].title}"
    assert "Submitted for verification" in text_of(en)
    # The subject travels RFC 2047-encoded.
    raw = bo.as_bytes().decode("ascii")
    assert re.search(r"^Subject: =\?utf-8\?", raw, re.M | re.I)


def test_reminders_are_mailed_in_the_recipients_language_too(world, make, smtp):
    from tracker.notify import service

    owners.update_user(world.officer, world.officer, locale="en")
    db.session.commit()
    make.issue(world.centre, world.officer, world.campaign, world.category,
               due_on=date(2019, 1, 7))
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
               due_on=date(2019, 1, 7))
    service.run_pass(date(2019, 1, 4))
    (en,) = smtp.to("off@example.gov.cn")
    (zh,) = smtp.to("jzoff@example.gov.cn")
    assert subject(en) == "[Rectification ledger] 1 item(s) need your attention"
    assert "3 day(s) left" in text_of(en) and "Dear 才让," in text_of(en)
    assert subject(zh) == "【整改台账】您有 1 项整改事项需要关注" and "还剩 3 天" in text_of(zh)


@pytest.mark.commits
def test_two_sweeps_at_once_mail_each_notice_once(app, world, make, smtp):
    owners_ = [world.officer, world.officer2, world.other_officer]
    orgs = [world.centre, world.department, world.other_centre]
    for n in range(18):
        issue = make.issue(orgs[n % 3], owners_[n % 3], world.campaign, world.category,
                           status="submitted")
        issues.transition(issue, world.supervisor, "reject", f"退回{n}")
    db.session.commit()
    expected = db.session.scalar(select(func.count()).select_from(NoticeMail))
    env = child_env(app, smtp)
    procs = [subprocess.Popen(flask("notify"), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (out, err)
        assert "Traceback" not in err
    seen: Counter[tuple[str, int, str]] = Counter()
    for message in smtp.messages:
        address = message["To"].addresses[0].addr_spec
        text = text_of(message).replace("\r\n", "\n")
        for block in text.split("\n\n"):
            link = re.search(r"http://tracker\.test/issues/(\d+)", block)
            label = re.search(r"【(.+?)】", block)
            if link and label:
                seen[(address, int(link.group(1)), label.group(1))] += 1
    assert sum(seen.values()) == expected and max(seen.values()) == 1
    assert max(Counter(m["To"].addresses[0].addr_spec for m in smtp.messages).values()) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(NoticeMail)
                             .where(NoticeMail.sent_at.is_(None))) == 0


def test_the_sweep_reads_only_what_is_unmailed(world, make, smtp):
    """A sweep's statements do not grow with the history of mailed notices."""
    from sqlalchemy import event

    def statements() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            notices.run_sweep()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    _reject(world, make, 2)
    few = statements()
    _reject(world, make, 2)
    for _ in range(5):
        _reject(world, make, 3)
        notices.run_sweep()
    _reject(world, make, 2)
    assert statements() == few


# --- the catch-up at start ----------------------------------------------------------------


def test_the_scheduler_catches_up_when_the_last_scheduled_pass_has_not_run(app, world, make):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tracker.notify import scheduler, service

    zone = ZoneInfo(app.config["TRACKER_TIMEZONE"])
    morning = datetime(2026, 12, 2, 8, 0, tzinfo=zone)  # before 09:00
    evening = datetime(2026, 12, 2, 18, 0, tzinfo=zone)
    assert scheduler.catch_up_due(app, morning)  # a fresh installation: nothing ever ran
    service.claim_day(service.PASS_JOB, date(2026, 12, 1))
    db.session.commit()
    assert not scheduler.catch_up_due(app, morning)  # yesterday's ran; today's is at 09:00
    assert scheduler.catch_up_due(app, evening)  # today's time has passed, it has not run
    service.claim_day(service.PASS_JOB, date(2026, 12, 2))
    db.session.commit()
    assert not scheduler.catch_up_due(app, evening)


def test_two_schedulers_starting_together_catch_up_once(app, world, make, smtp):
    from tracker.notify import scheduler

    make.issue(world.centre, world.officer, world.campaign, world.category,
               due_on=date.today() + timedelta(days=3))
    owners.update_user(world.officer, world.officer, notify_mail="off")
    db.session.commit()
    db.session.remove()
    scheduler.catch_up_pass(app)
    scheduler.catch_up_pass(app)
    assert len(smtp.to("off@example.gov.cn")) == 1


# --- settings ----------------------------------------------------------------------------


def test_users_choose_their_language_and_mail_on_their_settings_page(client, world):
    login(client, "off")
    page = client.get("/settings")
    assert page.status_code == 200 and 'name="notify_mail"' in page.text
    resp = client.post("/settings", data={"csrf_token": csrf_token(page.text),
                                          "locale": "en", "notify_mail": "daily"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert (world.officer.locale, world.officer.notify_mail) == ("en", "daily")
    page = client.get("/settings")
    assert "Notices by mail" in page.text and '<option selected value="daily">' in page.text


def test_notify_mail_on_the_users_api(world, api):
    me = api.get("/api/v1/users/me", user=world.officer).get_json()
    assert me["notify_mail"] == "immediate"
    mine = api.call("PATCH", "/api/v1/users/me", world.officer, json={"notify_mail": "off"})
    assert mine.status_code == 200 and mine.get_json()["notify_mail"] == "off"
    bad = api.call("PATCH", "/api/v1/users/me", world.officer, json={"notify_mail": "weekly"})
    assert bad.status_code == 422 and "notify_mail" in str(bad.get_json()["errors"])
    # Only one's own settings: the role is an admin's.
    role = api.call("PATCH", "/api/v1/users/me", world.officer, json={"role": "admin"})
    assert role.status_code == 422
    by_admin = api.call("PATCH", f"/api/v1/users/{world.officer.id}", world.admin,
                        json={"notify_mail": "daily"})
    assert by_admin.status_code == 200 and by_admin.get_json()["notify_mail"] == "daily"
    made = api.post("/api/v1/users", world.admin, json={
        "username": "newbie", "password": "secret-pass-1", "role": "officer",
        "org_id": world.centre.id, "notify_mail": "off"})
    assert made.status_code == 201 and made.get_json()["notify_mail"] == "off"


def test_the_admin_user_page_sets_notify_mail(client, world):
    login(client, "admin")
    page = client.get(f"/admin/users/{world.officer.id}")
    assert 'name="notify_mail"' in page.text
    resp = client.post(f"/admin/users/{world.officer.id}", data={
        "csrf_token": csrf_token(page.text), "username": "off", "display_name": "才让",
        "email": "off@example.gov.cn", "role": "officer", "org_id": str(world.centre.id),
        "notify_mail": "off", "active": "y", "password": ""})
    assert resp.status_code == 302
    db.session.expire_all()
    assert world.officer.notify_mail == "off"


# --- home pages --------------------------------------------------------------------------


def test_the_officers_home_flags_decisions_where_the_stated_order_puts_them(client, world,
                                                                            make):
    plain = make.issue(world.centre, world.officer, world.campaign, world.category,
                       due_on=date(2018, 12, 1), title="较早到期的事项")
    sent_back = make.issue(world.centre, world.officer, world.campaign, world.category,
                           status="submitted", due_on=date(2019, 6, 1), title="被退回的事项")
    issues.transition(sent_back, world.supervisor, "reject", "请补充现场照片")
    extended = make.issue(world.centre, world.officer, world.campaign, world.category,
                          due_on=date(2019, 5, 1), title="申请了延期的事项")
    ext = deadlines.request_extension(extended, world.officer, date(2019, 7, 1), "冬季施工困难")
    deadlines.decide_extension(ext, world.supervisor, "approve", "同意延期")
    db.session.commit()
    login(client, "off")
    page = client.get("/").text
    order = [int(i) for i in re.findall(r'data-issue-id="(\d+)"', page)]
    # One order, the page's (issue 25 item 6): the most overdue first, a decision flagged
    # where its item stands.
    assert order == [plain.id, sent_back.id, extended.id]
    assert "被驳回" in page and "理由：请补充现场照片" in page and "批准延期" in page
    assert "审批意见：同意延期" in page
    # Submitting again answers the rejection: the flag goes.
    make.evidence(sent_back)
    issues.transition(sent_back, world.officer, "submit")
    db.session.commit()
    page = client.get("/").text
    assert "请补充现场照片" not in page


def test_the_registrars_home_shows_what_they_registered_that_is_now_overdue(client, world,
                                                                         make):
    late = make.issue(world.centre, world.officer, world.campaign, world.category,
                      actor=world.registrar, due_on=date(2018, 9, 1), title="逾期的登记事项")
    make.issue(world.centre, world.officer, world.campaign, world.category,
               due_on=date(2018, 9, 1), title="别人登记的逾期事项")
    login(client, "reg")
    page = client.get("/").text
    section = page.split('data-testid="registered-overdue"', 1)[1].split("</table>", 1)[0]
    assert f'href="/issues/{late.id}"' in section and "别人登记的逾期事项" not in section


# --- the demo ----------------------------------------------------------------------------


def test_a_fresh_demo_has_told_its_users_what_happened(app, ctx, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    kinds = dict(db.session.execute(
        select(Notification.kind, func.count()).group_by(Notification.kind)).all())
    assert kinds.get("assigned", 0) > 0 and kinds.get("submitted", 0) > 0
    assert kinds.get("closed", 0) > 0
