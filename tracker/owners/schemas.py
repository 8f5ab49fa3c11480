"""Request and response schemas of the owners API: tokens, orgs, users."""

from __future__ import annotations

import marshmallow as ma

from tracker.http import (
    IdField,
    IdParam,
    PageArgs,
    Password,
    StrictBoolean,
    StrictSchema,
    Text,
    UtcDateTime,
)
from tracker.owners.models import ORG_KINDS, ROLES
from tracker.owners.service import MIN_PASSWORD_LENGTH

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
    kind = ma.fields.String(metadata={"enum": ORG_KINDS})
    parent_id = ma.fields.Integer(allow_none=True)
    depth = ma.fields.Integer(dump_only=True)


class OrgCreateSchema(StrictSchema):
    """A new org."""

    code = Text(CODE_MAX, min_length=1, not_blank=True, required=True)
    name = Text(NAME_MAX, min_length=1, not_blank=True, required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(ORG_KINDS))
    parent_id = IdField(allow_none=True, load_default=None)


class OrgPatchSchema(StrictSchema):
    """Changes to an org (moving it moves its whole subtree)."""

    code = Text(CODE_MAX, min_length=1, not_blank=True)
    name = Text(NAME_MAX, min_length=1, not_blank=True)
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
    created_at = UtcDateTime(dump_only=True)


_email = ma.validate.Length(max=EMAIL_MAX)


class UserCreateSchema(StrictSchema):
    """A new user; ``password`` is write-only."""

    username = Text(USERNAME_MAX, min_length=1, required=True)
    password = Password(PASSWORD_MAX, min_length=MIN_PASSWORD_LENGTH, required=True, load_only=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    org_id = IdField(allow_none=True, load_default=None)
    display_name = Text(DISPLAY_MAX, allow_none=True, load_default=None)
    email = ma.fields.Email(allow_none=True, load_default=None, validate=_email)
    active = StrictBoolean(load_default=True)


class UserPatchSchema(StrictSchema):
    """Changes to a user; a new password ends the user's sessions and tokens."""

    password = Password(PASSWORD_MAX, min_length=MIN_PASSWORD_LENGTH, load_only=True)
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    org_id = IdField(allow_none=True)
    display_name = Text(DISPLAY_MAX, min_length=1)
    email = ma.fields.Email(allow_none=True, validate=_email)
    active = StrictBoolean()
    locale = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(["zh_Hans", "en", "bo"]))


class UserQuerySchema(PageArgs):
    """Filters of the user list."""

    org_id = IdParam(metadata={"description": "Users whose home org is in this org's subtree."})
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    active = ma.fields.Boolean()
    q = Text(USERNAME_MAX, metadata={"description": "Text in the username or display name."})
