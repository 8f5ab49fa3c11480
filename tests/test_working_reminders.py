"""Reminders on campaigns counted in working days (SPEC §5 "Working days").

The steps before due_on count working days; owner reminders and escalations go out on working
days only, a step that falls on a weekend or a holiday going out with the next working day's
pass.  chinese-calendar is the oracle of which days are worked.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import chinese_calendar
from sqlalchemy import select

from tests.support.calendar import every_day, oracle_add
from tests.support.reminders import statements_of_pass
from tracker.extensions import db
from tracker.issues.calendar.service import WorkingDays
from tracker.issues.models import Issue
from tracker.notify import service
from tracker.notify.models import ReminderDelivery
from tracker.notify.policy import Policy, owner_step, policy_for

MONDAY = date(2026, 3, 16)
FRIDAY = MONDAY - timedelta(days=3)
SUNDAY = MONDAY - timedelta(days=1)


def sent(issue: Issue) -> list[tuple[str, date]]:
    """(step, the as-of date of the pass that claimed it) for every delivery of an issue."""
    return [tuple(r) for r in db.session.execute(  # type: ignore[misc]
        select(ReminderDelivery.step, ReminderDelivery.as_of)
        .where(ReminderDelivery.issue_id == issue.id)
        .order_by(ReminderDelivery.as_of, ReminderDelivery.id)
    )]


def daily_passes(first: date, last: date) -> None:
    for day in every_day(first, last):
        assert service.run_pass(day).ok


def working_campaign(world: Any, make: Any) -> Any:
    return make.campaign(world.prefecture, title="按工作日整改", day_basis="working",
                         starts_on=date(2026, 1, 5))


def test_working_steps_count_working_days_before_the_deadline(app, ctx):
    days = WorkingDays()
    working = Policy((7, 3, 1, 0), 7, 3, working=True)
    assert owner_step(working, MONDAY, FRIDAY, days) == ("before:1", FRIDAY)
    assert owner_step(working, MONDAY, SUNDAY, days) == ("before:1", FRIDAY)
    assert owner_step(working, MONDAY, MONDAY - timedelta(days=5), days) == (
        "before:3", oracle_add(MONDAY, -3))
    # Calendar days on the same deadline: Friday is three days before.
    assert owner_step(policy_for(None), MONDAY, FRIDAY) == ("before:3", FRIDAY)
    # Over National Day 2026: the working day before Friday 9 October is Thursday the 8th,
    # the third is 29 September.
    due = date(2026, 10, 9)
    assert owner_step(working, due, date(2026, 10, 7), days) == ("before:3",
                                                                  oracle_add(due, -3))
    assert oracle_add(due, -1) == date(2026, 10, 8)


def test_friday_before_a_monday_deadline(world, make):
    working = working_campaign(world, make)
    on_working = make.issue(world.centre, world.officer, working, world.category,
                            starts_on=date(2026, 1, 5), due_on=MONDAY)
    on_calendar = make.issue(world.department, world.officer2, world.campaign,
                             world.category, starts_on=date(2026, 1, 5), due_on=MONDAY)
    daily_passes(MONDAY - timedelta(days=14), MONDAY + timedelta(days=8))
    assert sent(on_working) == [
        ("before:7", oracle_add(MONDAY, -7)), ("before:3", oracle_add(MONDAY, -3)),
        ("before:1", FRIDAY), ("due", MONDAY), ("overdue:1", MONDAY + timedelta(days=1)),
        ("escalate:3", MONDAY + timedelta(days=3)), ("overdue:8", MONDAY + timedelta(days=8)),
    ]
    assert sent(on_calendar) == [
        ("before:7", MONDAY - timedelta(days=7)), ("before:3", FRIDAY), ("before:1", SUNDAY),
        ("due", MONDAY), ("overdue:1", MONDAY + timedelta(days=1)),
        ("escalate:3", MONDAY + timedelta(days=3)), ("overdue:8", MONDAY + timedelta(days=8)),
    ]


def test_a_step_on_a_sunday_goes_out_with_mondays_pass(world, make):
    working = working_campaign(world, make)
    thursday = FRIDAY - timedelta(days=1)
    # Due Thursday: escalation on day 3 falls on Sunday.
    a = make.issue(world.centre, world.officer, working, world.category,
                   starts_on=date(2026, 1, 5), due_on=thursday)
    # Due Friday: the first overdue reminder falls on Saturday.
    b = make.issue(world.centre, world.officer, working, world.category2,
                   starts_on=date(2026, 1, 5), due_on=FRIDAY)
    plain = make.issue(world.department, world.officer2, world.campaign, world.category,
                       starts_on=date(2026, 1, 5), due_on=thursday)
    daily_passes(thursday, SUNDAY)
    assert [s for s, _ in sent(a)][-1] == "overdue:1"  # Friday's, nothing at the weekend
    assert ("escalate:3", SUNDAY) in sent(plain)
    assert all(day.weekday() < 5 for _s, day in sent(a) + sent(b))
    assert service.run_pass(MONDAY).ok
    assert sent(a)[-1] == ("escalate:3", MONDAY)
    assert sorted(sent(b)[-2:]) == [("escalate:3", MONDAY), ("overdue:1", MONDAY)]
    # The supervisor reads both escalations in Monday's one digest.
    from tracker.notify.models import Notification, NotificationItem

    notice = db.session.scalars(
        select(Notification).where(Notification.user_id == world.county_supervisor.id,
                                   Notification.kind == "escalation")
        .order_by(Notification.id.desc())).first()
    items = db.session.scalars(select(NotificationItem.issue_id).where(
        NotificationItem.notification_id == notice.id)).all()
    assert sorted(items) == sorted([a.id, b.id])


def test_holidays_hold_the_steps_and_a_make_up_saturday_sends_them(world, make):
    working = working_campaign(world, make)
    due = date(2026, 10, 9)  # the Friday after National Day (1–7 October off)
    after = make.issue(world.centre, world.officer, working, world.category,
                       starts_on=date(2026, 9, 1), due_on=due)
    # A deadline given on a holiday itself: its steps wait for the first working day.
    on_holiday = make.issue(world.centre, world.officer, working, world.category2,
                            starts_on=date(2026, 9, 1), due_on=date(2026, 10, 1))
    daily_passes(date(2026, 9, 15), date(2026, 10, 13))
    for _step, day in sent(after) + sent(on_holiday):
        assert chinese_calendar.is_workday(day), day
    assert sent(after) == [
        ("before:7", oracle_add(due, -7)), ("before:3", oracle_add(due, -3)),
        ("before:1", date(2026, 10, 8)), ("due", due),
        # Saturday 10 October is a make-up working day: the first overdue day goes out then.
        ("overdue:1", date(2026, 10, 10)), ("escalate:3", date(2026, 10, 12)),
    ]
    # Due on 1 October (off): "due", overdue:1 and escalate:3 all fell in the holiday; the
    # first working day's pass sends the most urgent of each kind, once.
    assert sorted(sent(on_holiday)) == sorted([
        ("before:7", oracle_add(date(2026, 10, 1), -7)), ("before:3", date(2026, 9, 28)),
        ("before:1", date(2026, 9, 30)),
        ("overdue:1", date(2026, 10, 8)), ("escalate:3", date(2026, 10, 8)),
        ("overdue:8", date(2026, 10, 9)),
        # Day 10 of escalation is Sunday 11 October: Monday's pass sends it.
        ("escalate:10", date(2026, 10, 12)),
    ])


def test_a_dry_run_on_a_holiday_plans_nothing_for_working_campaigns(world, make, runner):
    working = working_campaign(world, make)
    make.issue(world.centre, world.officer, working, world.category,
               starts_on=date(2026, 9, 1), due_on=date(2026, 10, 2))
    make.issue(world.department, world.officer2, world.campaign, world.category,
               starts_on=date(2026, 9, 1), due_on=date(2026, 10, 2))
    def planned(as_of: str) -> set[str]:
        result = runner.invoke(args=["remind", "--as-of", as_of, "--dry-run"])
        assert result.exit_code == 0, result.output
        return {line.split("\t")[0] for line in result.output.splitlines() if "\t" in line}

    assert planned("2026-10-02") == {"off2"}  # a holiday: the calendar campaign only
    assert planned("2026-10-08") == {"off", "off2", "madosup"}


def test_the_pass_on_working_campaigns_costs_what_is_due(world, make):
    working = working_campaign(world, make)

    def add_not_due(n: int, start: int) -> None:
        db.session.execute(Issue.__table__.insert(), [
            {"campaign_id": working.id, "org_id": world.centre.id,
             "category_id": world.category.id, "title": f"未到期事项{start + i}",
             "description": "", "cause": "", "measures": "", "owner_id": world.officer.id,
             "starts_on": date(2026, 1, 5),
             "due_on": MONDAY + timedelta(days=40 + (start + i) % 30),
             "original_due_on": MONDAY + timedelta(days=40), "status": "open",
             "evidence_count": 0, "extension_count": 0, "version": 1}
            for i in range(n)
        ])
        db.session.commit()

    make.issue(world.centre, world.officer, working, world.category,
               starts_on=date(2026, 1, 5), due_on=MONDAY)
    add_not_due(20, 0)
    few = statements_of_pass(FRIDAY)
    from tracker.notify.models import NoticeMail, Notification, NotificationItem

    db.session.execute(NoticeMail.__table__.delete())
    db.session.execute(NotificationItem.__table__.delete())
    db.session.execute(ReminderDelivery.__table__.delete())
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    add_not_due(200, 20)
    many = statements_of_pass(FRIDAY)
    assert many == few
    assert sum(1 for s in few if s == "SELECT") < 20


# --- what the mail says ----------------------------------------------------------------


def test_mail_of_a_working_day_campaign_counts_working_days(world, make, smtp):
    """Through the real SMTP server: a working-day campaign's mail says 剩余 N 个工作日 and
    已逾期 N 个工作日 (in Tibetan for a Tibetan reader), a calendar campaign's 还剩 N 天."""
    from tests.smtp import html_of, text_of
    from tracker.owners import service as owners

    owners.update_user(owners.system_actor("tests"), world.officer2, locale="bo")
    db.session.commit()
    working = working_campaign(world, make)
    ahead = oracle_add(MONDAY, 7)  # "before:7" falls on Monday: 9 calendar days ahead
    behind = FRIDAY - timedelta(days=1)  # Thursday: 4 days overdue on Monday, 2 working days
    assert ((ahead - MONDAY).days, (MONDAY - behind).days) == (9, 4)
    for org, owner in ((world.centre, world.officer), (world.department, world.officer2)):
        for due in (ahead, behind):
            make.issue(org, owner, working, world.category, starts_on=date(2026, 1, 5),
                       due_on=due)
    plain = make.issue(world.centre, world.officer, world.campaign, world.category2,
                       starts_on=date(2026, 1, 5), due_on=MONDAY + timedelta(days=3))
    assert service.run_pass(MONDAY).ok

    (chinese,) = smtp.to(world.officer.email)
    (tibetan,) = smtp.to(world.officer2.email)
    (escalation,) = smtp.to(world.county_supervisor.email)
    for part in (text_of(chinese), html_of(chinese)):
        assert "剩余 7 个工作日" in part and "已逾期 2 个工作日" in part
        assert "还剩 9 天" not in part and "已逾期 4 天" not in part
        assert "还剩 3 天" in part and plain.title in part  # the calendar campaign's item
    for part in (text_of(tibetan), html_of(tibetan)):
        assert "ལས་ཉིན་ 7 ལྷག་ཡོད།" in part and "ལས་ཉིན་ 2 དུས་བརྒལ།" in part
        assert "ཉིན་ 9 " not in part and "ཉིན་ 4 " not in part
        assert "剩余" not in part and "工作日" not in part
    # The supervisor's escalation of the two overdue items, in working days too.
    assert text_of(escalation).count("已逾期 2 个工作日") == 2
    assert "已逾期 4 天" not in text_of(escalation)
