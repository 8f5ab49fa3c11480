"""The lifecycle rules at the service level."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from tracker.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationError, rendered
from tracker.extensions import db
from tracker.issues import service


def test_registered_issue_is_open_with_history(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       actor=world.registrar)
    assert issue.status == "open"
    assert issue.original_due_on == issue.due_on
    from tracker.issues.models import Event

    kinds = [e.kind for e in db.session.query(Event).filter_by(issue_id=issue.id)]
    assert kinds == ["created"]


def test_submit_without_evidence_is_refused(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    with pytest.raises(Conflict) as exc:
        service.transition(issue, world.officer, "submit")
    assert exc.value.reason == "evidence_required"


def test_owner_cannot_close_own_issue(world, make):
    issue = make.issue(world.county, world.county_supervisor, world.campaign, world.category,
                       status="submitted")
    with pytest.raises(Forbidden) as exc:
        service.transition(issue, world.county_supervisor, "close")
    assert exc.value.reason == "owner_cannot_verify"


def test_supervisor_closes_submitted_issue(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    service.transition(issue, world.supervisor, "close", "ok")
    assert issue.status == "closed" and issue.closed_at is not None


def test_reject_requires_comment(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    with pytest.raises(ValidationError):
        service.transition(issue, world.supervisor, "reject", "  ")


def test_officer_cannot_read_other_county_issue(world, make):
    issue = make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    with pytest.raises(NotFound):
        service.get_issue(world.officer, issue.id)


def test_stale_version_is_refused(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    with pytest.raises(StaleVersion):
        service.update_issue(issue, world.registrar, {"title": "新标题"}, if_match='"99"')


def test_owner_outside_the_line_is_refused(world, make):
    with pytest.raises(ValidationError) as exc:
        make.issue(world.centre, world.other_officer, world.campaign, world.category)
    assert "owner_id" in exc.value.errors


def test_database_holds_the_evidence_rule(world, make):
    from sqlalchemy.exc import IntegrityError

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    issue.status = "submitted"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_renaming_a_category_to_a_used_name_is_refused(world):
    with pytest.raises(Conflict) as exc:
        service.save_category(world.admin, world.category2, "C2", world.category.name)
    with force_locale("en"):
        assert rendered(exc.value.errors) == {"name": ["Already used."]}
    db.session.rollback()
    renamed = service.save_category(world.admin, world.category2, "C2", "窗口设置不合理")
    assert renamed.name == "窗口设置不合理"


def test_only_an_admin_manages_categories(world):
    with pytest.raises(Forbidden):
        service.save_category(world.supervisor, world.category, "C1", "新名称")
