"""The reports' hand-built ledger: a few findings over 玛多县 and 久治县 with their history at
the dates it happened, shared by the reports' and the documents' tests."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.deadlines import service as deadlines
from tracker.timeutil import clock


def _close_on(world, issue, closed_on):
    """Close ``issue`` (already submitted) on the afternoon of ``closed_on``."""
    with clock(datetime(closed_on.year, closed_on.month, closed_on.day, 9, 0)):
        issues.transition(issue, world.admin, "close", "核查属实")
    db.session.commit()


def _extend(world, issue, requested_on, new_due):
    """An extension requested by the owner and approved by the admin on ``requested_on``."""
    with clock(requested_on):
        ext = deadlines.request_extension(issue, world.admin, new_due, "牧区路远")
        deadlines.decide_extension(ext, world.supervisor, "approve", "同意")
    db.session.commit()


def report_ledger(world, make):
    """A hand-built ledger over 玛多县 (with its centre and a department) and 久治县, with
    its history at the dates it happened: registered on 2018-07-07, C closed on 2018-12-01,
    D extended on 2018-08-20 and closed late on 2018-10-08, E extended on 2018-12-20."""
    w = world
    with clock(date(2018, 7, 7)):
        a = make.issue(w.centre, w.officer, w.campaign, w.category, due_on=date(2018, 8, 7),
                       title="A 窗口“只挂号、不看病”")
        b = make.issue(w.department, w.officer2, w.campaign, w.category, status="in_progress",
                       due_on=date(2018, 12, 31), title="B 人社窗口授权不到位")
        c = make.issue(w.centre, w.officer, w.campaign, w.category2, status="submitted",
                       due_on=date(2019, 1, 7), title="C 叫号机成了摆设")
        d = make.issue(w.centre, w.officer, w.campaign, w.category2, status="submitted",
                       due_on=date(2018, 8, 31), title="D 窗口人员迟到")
        e = make.issue(w.other_centre, w.other_officer, w.campaign, w.category,
                       status="submitted", due_on=date(2018, 12, 31), title="E 无信息采集室")
        f = make.issue(w.county, w.officer, w.campaign, w.category, due_on=date(2019, 6, 30),
                       title="F 县级统筹")
    _extend(w, d, date(2018, 8, 20), date(2018, 9, 30))
    _close_on(w, d, date(2018, 10, 8))
    _close_on(w, c, date(2018, 12, 1))
    _extend(w, e, date(2018, 12, 20), date(2019, 1, 7))
    return SimpleNamespace(a=a, b=b, c=c, d=d, e=e, f=f)
