"""Passwords an admin resets and a user changes, and the change a temporary one asks for
(SPEC §3 "Accounts")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash

from tracker.errors import Forbidden
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.owners.models import User
from tracker.owners.passwords import temporary_password
from tracker.owners.service import require_admin, set_password

#: The refusal of everything else while a temporary password stands.
PASSWORD_CHANGE_REQUIRED = _l("Choose a new password first (your password was set by an "
                              "administrator).")


def reset_password(actor: User, user: User, password: str | None = None) -> str | None:
    """Give ``user`` a temporary password (admin): ``password``, or a random one that is
    returned (to be shown once); they must choose their own at the next login, and every
    session and token of theirs ends now."""
    require_admin(actor)
    made = None
    if not password:
        password = made = temporary_password()
    set_password(user, password, made=made is not None)
    user.must_change_password = True
    db.session.flush()
    return made


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    """The user's own change: the current password first, then a new one by the policy that
    differs from it.  Every other session and token of theirs ends."""
    if user.auth == "ldap" or not user.password_hash or not check_password_hash(
            user.password_hash, current_password or ""):
        raise Invalid(_l("The current password is wrong."),
                      reason="wrong_password",
                      errors={"current_password": [_l("Wrong password.")]})
    if new_password == current_password:
        raise Invalid(_l("Choose a password other than the current one."),
                      reason="weak_password",
                      errors={"new_password": [_l("Same as the current one.")]})
    set_password(user, new_password, field="new_password")
    user.must_change_password = False
    db.session.flush()


def require_password_chosen(user: User) -> None:
    """403 ``password_change_required`` while the user still has a temporary password."""
    if user.must_change_password:
        raise Forbidden(PASSWORD_CHANGE_REQUIRED, reason="password_change_required")
