"""The owners rules at the service level: the org tree, scope, users, credentials."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import SYSTEM
from tracker.errors import Conflict, Forbidden, TooManyAttempts, Unauthorized, ValidationError
from tracker.extensions import db
from tracker.owners import service
from tracker.owners.models import Org, User


def _subtree(org_id: int) -> set[int]:
    return set(db.session.scalars(service.subtree_ids(org_id)))


def test_closure_rows_give_the_subtree(world):
    assert _subtree(world.county.id) == {world.county.id, world.centre.id, world.department.id}
    assert _subtree(world.prefecture.id) >= {world.other_centre.id, world.department.id}
    assert set(db.session.scalars(service.ancestor_ids(world.department.id))) == {
        world.department.id, world.centre.id, world.county.id, world.prefecture.id}


def test_moving_an_org_moves_its_subtree_and_keeps_its_other_changes(world):
    service.update_org(SYSTEM, world.centre, parent_id=world.other_county.id, name="玛多中心(迁)")
    db.session.commit()
    centre = db.session.get(Org, world.centre.id)
    assert centre.parent_id == world.other_county.id and centre.name == "玛多中心(迁)"
    assert world.department.id in _subtree(world.other_county.id)
    assert world.department.id not in _subtree(world.county.id)
    assert db.session.get(Org, world.department.id).depth == 3


def test_an_org_cannot_move_under_its_own_subtree(world):
    with pytest.raises(ValidationError):
        service.update_org(SYSTEM, world.county, parent_id=world.department.id, kind="county")


def test_unknown_parent_is_invalid_input(world):
    with pytest.raises(ValidationError) as exc:
        service.create_org(SYSTEM, "X1", "某窗口", "department", 987654)
    assert "parent_id" in exc.value.errors


def test_duplicate_code_is_a_conflict(world):
    with pytest.raises(Conflict):
        service.create_org(SYSTEM, "MD", "重复", "county", world.prefecture.id)


def test_scope_follows_the_home_org(world):
    assert service.in_scope(world.registrar, world.department.id)
    assert not service.in_scope(world.registrar, world.county.id)
    assert service.in_scope(world.admin, world.other_centre.id)


def test_users_readable_along_the_line(world):
    def names(viewer: User) -> set[str]:
        return set(db.session.scalars(
            select(User.username).where(service.users_readable_clause(viewer))))

    assert names(world.officer2) == {"off2", "reg", "off", "madosup", "zhou"}
    assert "admin" in names(world.admin)
    assert names(world.other_officer) == {"jzreg", "jzoff", "jzsup", "zhou"}


def test_user_needs_an_existing_home_org(world):
    with pytest.raises(ValidationError) as exc:
        service.create_user(SYSTEM, "dawa", "long-enough-1", "officer", 987654)
    assert "org_id" in exc.value.errors


def test_wrong_password_is_refused_and_counted(world, app):
    with app.test_request_context():
        with pytest.raises(Unauthorized):
            service.authenticate("reg", "wrong-pass", "10.0.0.1")
        assert service.authenticate("reg", "secret-pass-1", "10.0.0.1").username == "reg"


def test_failures_per_username_are_limited(world, app):
    with app.test_request_context():
        for _ in range(5):
            with pytest.raises(Unauthorized):
                service.authenticate("reg", "wrong-pass", "10.0.0.2")
        with pytest.raises(TooManyAttempts):
            service.authenticate("reg", "secret-pass-1", "10.0.0.3")
        # Another user from the same address still gets in.
        assert service.authenticate("off", "secret-pass-1", "10.0.0.2").username == "off"


def test_password_change_kills_tokens(world):
    token, _ = service.issue_token(world.officer)
    assert service.user_for_token(token) == world.officer
    service.set_password(world.officer, "brand-new-pass-2")
    assert service.user_for_token(token) is None


def test_only_admin_passes_require_admin(world):
    service.require_admin(world.admin)
    with pytest.raises(Forbidden):
        service.require_admin(world.supervisor)


def test_kind_change_keeps_children_below(world):
    with pytest.raises(ValidationError) as exc:
        service.update_org(SYSTEM, world.county, kind="centre")
    assert "kind" in exc.value.errors
    service.update_org(SYSTEM, world.department, name="人社窗口(新)")
