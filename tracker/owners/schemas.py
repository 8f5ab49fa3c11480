"""Request and response schemas of the owners API: tokens, orgs, users."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from tracker.owners.models import AUTH_KINDS, NOTIFY_MAIL, ORG_KINDS, ROLES
from tracker.owners.passwords import password_problem
from tracker.owners.service import LOCALES
from tracker.webapi import (
    IdField,
    IdParam,
    PageArgs,
    Password,
    QuerySchema,
    StrictBoolean,
    StrictSchema,
    Text,
    UtcDateTime,
)

#: Column sizes, so that over-long input is a 422 and never a database error.
CODE_MAX, NAME_MAX, USERNAME_MAX, DISPLAY_MAX, EMAIL_MAX = 64, 200, 80, 120, 254
PASSWORD_MAX = 200


class TokenRequestSchema(StrictSchema):
    """Credentials for ``POST /auth/tokens``."""

    username = Text(USERNAME_MAX, required=True)
    password = Password(PASSWORD_MAX, required=True, load_only=True)


class TokenSchema(ma.Schema):
    """A new bearer token and when it expires."""

    token = ma.fields.String(required=True)
    expires_at = UtcDateTime(required=True)


class OrgSchema(ma.Schema):
    """An org as the API shows it."""

    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    name_bo = ma.fields.String(allow_none=True, metadata={"description": "The Tibetan name."})
    kind = ma.fields.String(metadata={"enum": ORG_KINDS})
    parent_id = ma.fields.Integer(allow_none=True)
    depth = ma.fields.Integer(dump_only=True)


class OrgCreateSchema(StrictSchema):
    """A new org."""

    code = Text(CODE_MAX, min_length=1, not_blank=True, required=True)
    name = Text(NAME_MAX, min_length=1, not_blank=True, required=True)
    name_bo = Text(NAME_MAX, allow_none=True, load_default=None,
                   metadata={"description": "The Tibetan name (optional)."})
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(ORG_KINDS))
    parent_id = IdField(allow_none=True, load_default=None)


class OrgPatchSchema(StrictSchema):
    """Changes to an org (moving it moves its whole subtree)."""

    code = Text(CODE_MAX, min_length=1, not_blank=True)
    name = Text(NAME_MAX, min_length=1, not_blank=True)
    name_bo = Text(NAME_MAX, allow_none=True, metadata={"description": "The Tibetan name."})
    kind = ma.fields.String(validate=ma.validate.OneOf(ORG_KINDS))
    parent_id = IdField(allow_none=True)


class OrgQuerySchema(PageArgs):
    """Filters of the org list."""

    parent_id = IdParam(metadata={"description": "Only the children of this org."})
    under = IdParam(metadata={"description": "This org and its whole subtree."})
    kind = ma.fields.String(validate=ma.validate.OneOf(ORG_KINDS))
    q = Text(NAME_MAX, metadata={"description": "Text in the code or name."})


class UserSchema(ma.Schema):
    """A user as the API shows it (never the password)."""

    id = ma.fields.Integer(dump_only=True)
    username = ma.fields.String()
    display_name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    org_id = ma.fields.Integer(allow_none=True)
    role = ma.fields.String(metadata={"enum": ROLES})
    active = ma.fields.Boolean()
    locale = ma.fields.String(allow_none=True)
    notify_mail = ma.fields.String(metadata={
        "enum": list(NOTIFY_MAIL),
        "description": "Event notices by mail: immediate (every notice sweep), daily (with "
                       "the daily reminder pass) or off (the in-app inbox only)."})
    created_at = UtcDateTime(dump_only=True)
    auth = ma.fields.String(metadata={
        "enum": list(AUTH_KINDS),
        "description": "local (a password kept here) or ldap (the directory decides)."})
    must_change_password = ma.fields.Boolean(metadata={
        "description": "The user must choose a new password before anything else."})


_email = ma.validate.Length(max=EMAIL_MAX)


class UserCreateSchema(StrictSchema):
    """A new user; ``password`` is write-only."""

    username = Text(USERNAME_MAX, min_length=1, required=True)
    password = Password(PASSWORD_MAX, load_only=True, load_default=None, metadata={
        "description": "Required for a local user: at least 10 characters, letters and "
                       "digits, not the username. None for an ldap user."})
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    org_id = IdField(allow_none=True, load_default=None)
    display_name = Text(DISPLAY_MAX, allow_none=True, load_default=None)
    email = ma.fields.Email(allow_none=True, load_default=None, validate=_email)
    active = StrictBoolean(load_default=True)
    notify_mail = ma.fields.String(load_default="immediate",
                                   validate=ma.validate.OneOf(NOTIFY_MAIL))
    locale = ma.fields.String(allow_none=True, load_default=None,
                              validate=ma.validate.OneOf(LOCALES))
    auth = ma.fields.String(load_default="local", validate=ma.validate.OneOf(AUTH_KINDS))
    must_change_password = StrictBoolean(load_default=False)

    @ma.validates_schema
    def _password_policy(self, data: dict[str, Any], **_kw: Any) -> None:
        # The policy's one home (owners.passwords), asked here too so that a weak password
        # is named among the body's other field errors.
        if data.get("auth", "local") == "local" and "username" in data:
            why = password_problem(data.get("password") or "", data["username"])
            if why is not None:
                raise ma.ValidationError({"password": [str(why)]})


class UserPatchSchema(StrictSchema):
    """Changes to a user; a new password ends the user's sessions and tokens."""

    password = Password(PASSWORD_MAX, load_only=True)
    auth = ma.fields.String(validate=ma.validate.OneOf(AUTH_KINDS))
    must_change_password = StrictBoolean()
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    org_id = IdField(allow_none=True)
    display_name = Text(DISPLAY_MAX, min_length=1)
    email = ma.fields.Email(allow_none=True, validate=_email)
    active = StrictBoolean()
    locale = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(["zh_Hans", "en", "bo"]))
    notify_mail = ma.fields.String(validate=ma.validate.OneOf(NOTIFY_MAIL))


class SelfPatchSchema(StrictSchema):
    """What users change of themselves (``owners.service.SELF_SERVICE_FIELDS``)."""

    locale = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(["zh_Hans", "en", "bo"]))
    notify_mail = ma.fields.String(validate=ma.validate.OneOf(NOTIFY_MAIL))


class PasswordResetSchema(StrictSchema):
    """An admin's reset: a temporary password, or none to have one made."""

    password = Password(PASSWORD_MAX, load_only=True, load_default=None)


class PasswordResetResultSchema(ma.Schema):
    """The reset's answer: the temporary password when one was made (shown this once)."""

    must_change_password = ma.fields.Boolean()
    temporary_password = ma.fields.String()


class OwnPasswordSchema(StrictSchema):
    """The user's own change of password."""

    current_password = Password(PASSWORD_MAX, required=True, load_only=True)
    new_password = Password(PASSWORD_MAX, required=True, load_only=True)


class UserQuerySchema(PageArgs):
    """Filters of the user list."""

    org_id = IdParam(metadata={"description": "Users whose home org is in this org's subtree."})
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    active = ma.fields.Boolean()
    q = Text(USERNAME_MAX, metadata={"description": "Text in the username or display name."})


class UsersImportQuerySchema(QuerySchema):
    """``dry_run=true`` checks the file and saves nothing."""

    dry_run = ma.fields.Boolean(load_default=False)


class ImportedUserSchema(ma.Schema):
    """One new user of an import."""

    row = ma.fields.Integer()
    username = ma.fields.String()
    temporary_password = ma.fields.String(metadata={
        "description": "Shown this once (local users); to be changed at the first login."})


class UsersImportSchema(ma.Schema):
    """What an import of users did (or, in a dry run, would do)."""

    filename = ma.fields.String()
    dry_run = ma.fields.Boolean()
    rows = ma.fields.Integer()
    created = ma.fields.Integer()
    users = ma.fields.List(ma.fields.Nested(ImportedUserSchema))
