"""The organisation tree, users and their credentials."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from tracker import text
from tracker.database import TibetanNamed
from tracker.extensions import Model
from tracker.timeutil import utcnow


class OrgKind(enum.StrEnum):
    """The levels of the organisation tree."""

    prefecture = "prefecture"
    county = "county"
    centre = "centre"
    department = "department"


class Role(enum.StrEnum):
    """The one role a user has."""

    admin = "admin"
    supervisor = "supervisor"
    registrar = "registrar"
    officer = "officer"


ORG_KINDS = [k.value for k in OrgKind]
ROLES = [r.value for r in Role]


class Org(TibetanNamed, Model):
    """A node of the organisation tree (单位/机构)."""

    __tablename__ = "orgs"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('prefecture', 'county', 'centre', 'department')", name="kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    #: The Tibetan name, shown on pages in Tibetan (the Chinese ``name`` where it is empty).
    name_bo: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), index=True)
    #: Distance from the root (0 for a root).
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[Org | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    def __repr__(self) -> str:
        return f"<Org {self.code} {self.name}>"


class OrgClosure(Model):
    """Closure table: one row per (ancestor, descendant) pair, each org its own ancestor.

    Subtree filters become an indexed join instead of recursion.
    """

    __tablename__ = "org_closure"
    __table_args__ = (Index("ix_org_closure_descendant", "descendant_id", "ancestor_id"),)

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    descendant_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    #: 0 for the org itself, 1 for a child, and so on.
    distance: Mapped[int] = mapped_column(Integer)


#: The choices of ``User.auth``: a password kept here, or the directory's sign-in.
AUTH_KINDS = ("local", "ldap")

#: The choices of ``User.notify_mail``.
NOTIFY_MAIL = ("immediate", "daily", "off")


class User(UserMixin, Model):
    """One person, with one home org and one role."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'supervisor', 'registrar', 'officer')", name="role_known"
        ),
        CheckConstraint("role = 'admin' OR org_id IS NOT NULL", name="home_org_required"),
        CheckConstraint("notify_mail IN ('immediate', 'daily', 'off')", name="notify_mail_known"),
        CheckConstraint("auth IN ('local', 'ldap')", name="auth_known"),
        Index("ix_users_org_role", "org_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    #: The username as NFKC, case folded (``text.username_key``): unique, so that ``Admin``,
    #: ``ａｄｍｉｎ`` and ``admin`` cannot be three users.  Set with the username, always.
    username_key: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Preferred interface language ("zh_Hans", "en", "bo"); None follows the default.
    locale: Mapped[str | None] = mapped_column(String(16))
    #: How event notices reach the user by mail: "immediate" (every notice sweep), "daily"
    #: (with the daily reminder pass) or "off" (the in-app inbox only).
    notify_mail: Mapped[str] = mapped_column(String(16), default="immediate",
                                             server_default="immediate")
    #: "local" (the ledger keeps a password hash) or "ldap" (the directory decides; no hash).
    auth: Mapped[str] = mapped_column(String(8), default="local", server_default="local")
    #: Set by an admin's reset, an import or the create form: the pages lead only to the
    #: password form, and the API refuses all but two calls, until the user sets their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    #: Bumped on every password change: sessions and tokens of older generations die.
    auth_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    org: Mapped[Org | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Flask-Login: inactive users cannot log in."""
        return bool(self.active)

    def get_id(self) -> str:
        """Flask-Login session id: the user id and the password generation."""
        return f"{self.id}:{self.auth_generation}"

    @staticmethod
    def key_of(username: str) -> str:
        """The unique key of ``username`` (``text.username_key``, at most 80 characters)."""
        return text.username_key(username)[:80]

    @validates("username")
    def _set_key(self, _name: str, username: str) -> str:
        self.username_key = User.key_of(username)
        return username

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The user's auth_generation when issued; a password change makes it stale.
    auth_generation: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Model):
    """One failed login, kept to limit guessing per username and per address."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Model):
    """One page login, so that logging out ends it on the server (SPEC §7 "Sessions end").

    The signed session cookie carries a random key; only its SHA-256 is kept.  Every request
    of the session looks the row up, so a copied cookie dies on every worker and host the
    moment its session logs out (or the password changes).
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
