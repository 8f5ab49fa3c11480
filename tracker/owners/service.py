"""Orgs, users, scope, credentials: the rules every interface shares.

Longer than our ~500 lines: four concerns (the org tree and scope, users, login sessions and
their throttling, API tokens) not yet split into modules; the next cut splits them the way
``issues/service.py`` was, behind this module's names.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
)
from werkzeug.security import check_password_hash, generate_password_hash

from tracker import text
from tracker.errors import Conflict, Forbidden, NotFound, TooManyAttempts, Unauthorized
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.owners.labels import ORG_KIND_LABELS
from tracker.owners.models import (
    AUTH_KINDS,
    NOTIFY_MAIL,
    ORG_KINDS,
    ROLES,
    ApiToken,
    LoginFailure,
    LoginSession,
    Org,
    OrgClosure,
    OrgKind,
    Role,
    User,
)
from tracker.owners.passwords import check_password, hash_temporary_password, is_temporary_hash
from tracker.timeutil import utcnow

#: The languages a user's pages and mails may be in.
LOCALES = ("zh_Hans", "bo", "en")


# --- scope -------------------------------------------------------------------------------


def subtree_ids(org_id: int) -> Select[Any]:
    """A SELECT of the ids of ``org_id`` and every org below it."""
    return select(OrgClosure.descendant_id).where(OrgClosure.ancestor_id == org_id)


def ancestor_ids(org_id: int) -> Select[Any]:
    """A SELECT of the ids of ``org_id`` and every org above it."""
    return select(OrgClosure.ancestor_id).where(OrgClosure.descendant_id == org_id)


#: Org ids per statement where lists of ids are sent (SQLite's variable limit).
IDS_PER_STATEMENT = 500


def ancestors_of(org_ids: set[int]) -> dict[int, set[int]]:
    """For each org: itself and every org above it (the closure table, read in chunks)."""
    found: dict[int, set[int]] = defaultdict(set)
    ids = sorted(org_ids)
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        for ancestor, descendant in db.session.execute(
            select(OrgClosure.ancestor_id, OrgClosure.descendant_id)
            .where(OrgClosure.descendant_id.in_(ids[start:start + IDS_PER_STATEMENT]))
        ):
            found[descendant].add(ancestor)
    return found


def nearest_up_the_path(org_ids: set[int], role: str) -> dict[int, list[int]]:
    """For each org: the active users of ``role`` at the nearest org on its path to the root
    (itself included) that has any; orgs with none on their path are left out."""
    found: dict[int, list[int]] = defaultdict(list)
    ids = sorted(org_ids)
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        ranked = (
            select(
                OrgClosure.descendant_id.label("org_id"),
                User.id.label("user_id"),
                func.rank().over(partition_by=OrgClosure.descendant_id,
                                 order_by=OrgClosure.distance).label("nearest"),
            )
            .join(User, and_(User.org_id == OrgClosure.ancestor_id,
                             User.role == role, User.active.is_(True)))
            .where(OrgClosure.descendant_id.in_(ids[start:start + IDS_PER_STATEMENT]))
            .subquery()
        )
        for org_id, user_id in db.session.execute(
            select(ranked.c.org_id, ranked.c.user_id).where(ranked.c.nearest == 1)
            .order_by(ranked.c.org_id, ranked.c.user_id)
        ):
            found[org_id].append(user_id)
    return found


def org_in_subtree(org_id: int, root_id: int) -> bool:
    """Whether ``org_id`` is ``root_id`` or lies below it."""
    if org_id == root_id:
        return True
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    OrgClosure.ancestor_id == root_id, OrgClosure.descendant_id == org_id
                )
            )
        )
    )


def orgs_on_line(a: int, b: int) -> bool:
    """Whether one org is the other, an ancestor of it, or a descendant of it (the owner rule:
    an owner's home org is on the issue's org's line); its SQL twin is ``on_line_clause``."""
    return org_in_subtree(a, b) or org_in_subtree(b, a)


def on_line_clause(org_column: Any, org_id: int) -> ColumnElement[bool]:
    """``orgs_on_line(org_column, org_id)`` as SQL: the column's org is ``org_id``, above it or
    below it."""
    return or_(org_column.in_(subtree_ids(org_id)), org_column.in_(ancestor_ids(org_id)))


def in_scope(user: User, org_id: int) -> bool:
    """Whether ``org_id`` lies in the user's scope (their home org's subtree; all for admin)."""
    if user.role == Role.admin:
        return True
    if user.org_id is None:
        return False
    return org_in_subtree(org_id, user.org_id)


def scope_clause(user: User, org_column: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting ``org_column`` to the user's scope."""
    from sqlalchemy import false, true

    if user.role == Role.admin:
        return true()
    if user.org_id is None:
        return false()
    return org_column.in_(subtree_ids(user.org_id))


def require_admin(actor: User) -> None:
    """Refuse anyone but an admin."""
    if actor.role != Role.admin:
        raise Forbidden(_l("Only an administrator may do this."), reason="admin_only")


def system_actor(label: str) -> User:
    """The actor of what the command line or the demo loader does: an administrator's rights,
    no user row, and ``label`` (e.g. the command line) where the history names who acted."""
    actor = User(role=Role.admin, username="(system)", display_name=label, active=True)
    actor.system_label = label  # type: ignore[attr-defined]
    return actor


def actor_label(actor: User | None) -> str | None:
    """What the history names for a system actor (None for a person)."""
    return getattr(actor, "system_label", None)


# --- orgs --------------------------------------------------------------------------------


def get_org(org_id: int) -> Org:
    """The org with this id, or 404."""
    org = db.session.get(Org, org_id)
    if org is None:
        raise NotFound(_l("No such org."), errors={"org_id": [_l("No such org.")]})
    return org


def _org_ref(org_id: int, field: str) -> Org:
    """The org a request body refers to; an unknown one is invalid input (422), not 404."""
    org = db.session.get(Org, org_id)
    if org is None:
        raise Invalid(_l("No such org."), errors={field: [_l("No such org.")]})
    return org


def _check_kind(kind: str, parent: Org | None) -> None:
    if kind not in ORG_KINDS:
        raise Invalid(_l("Unknown kind of org."),
                      errors={"kind": [_l("Must be one of %(choices)s.",
                                          choices=", ".join(ORG_KINDS))]})
    if parent is not None and ORG_KINDS.index(kind) <= ORG_KINDS.index(parent.kind):
        raise Invalid(
            _l("A %(kind)s cannot sit under a %(parent)s.", kind=ORG_KIND_LABELS.get(kind, kind),
               parent=ORG_KIND_LABELS.get(parent.kind, parent.kind)),
            errors={"parent_id": [_l("The parent must be of a higher level.")]},
        )


def _name_bo(value: str | None) -> str | None:
    """A Tibetan name as stored: trimmed, and None when there is none."""
    return (value or "").strip() or None


def create_org(actor: User, code: str, name: str, kind: str, parent_id: int | None,
               name_bo: str | None = None) -> Org:
    """Add an org to the tree, with its closure rows (admin)."""
    require_admin(actor)
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise Invalid(_l("Code and name are required."), errors={"code": [_l("Required.")]})
    parent = _org_ref(parent_id, "parent_id") if parent_id is not None else None
    _check_kind(kind, parent)
    if db.session.scalar(select(exists().where(Org.code == code))):
        raise Conflict(_l("An org with this code exists."), reason="duplicate",
                       errors={"code": [_l("Already used.")]})
    org = Org(code=code, name=name, name_bo=_name_bo(name_bo), kind=kind, parent_id=parent_id,
              depth=(parent.depth + 1) if parent else 0)
    db.session.add(org)
    db.session.flush()
    db.session.execute(insert(OrgClosure).values(ancestor_id=org.id, descendant_id=org.id,
                                                  distance=0))
    if parent is not None:
        db.session.execute(
            insert(OrgClosure).from_select(
                ["ancestor_id", "descendant_id", "distance"],
                select(OrgClosure.ancestor_id, literal(org.id), OrgClosure.distance + 1).where(
                    OrgClosure.descendant_id == parent.id
                ),
            )
        )
    return org


def update_org(actor: User, org: Org, **fields: Any) -> Org:
    """Change an org's code, names, kind or parent, moving its whole subtree (admin)."""
    require_admin(actor)
    if "code" in fields and fields["code"] != org.code:
        code = fields["code"].strip()
        if db.session.scalar(select(exists().where(Org.code == code, Org.id != org.id))):
            raise Conflict(_l("An org with this code exists."), reason="duplicate",
                           errors={"code": [_l("Already used.")]})
        org.code = code
    if "name" in fields:
        if not fields["name"].strip():
            raise Invalid(_l("Name is required."), errors={"name": [_l("Required.")]})
        org.name = fields["name"].strip()
    if "name_bo" in fields:
        org.name_bo = _name_bo(fields["name_bo"])
    new_parent_id = fields.get("parent_id", org.parent_id)
    kind = fields.get("kind", org.kind)
    parent = _org_ref(new_parent_id, "parent_id") if new_parent_id is not None else None
    _check_kind(kind, parent)
    if kind != org.kind:
        # The children must stay below their parent's new level.
        child_kinds = set(db.session.scalars(select(Org.kind).where(Org.parent_id == org.id)))
        if any(ORG_KINDS.index(k) <= ORG_KINDS.index(kind) for k in child_kinds):
            raise Invalid(_l("This org has children that cannot sit under a %(kind)s.",
                             kind=ORG_KIND_LABELS.get(kind, kind)),
                          errors={"kind": [_l("Its children must be of a lower level.")]})
    kind_changes = kind != org.kind
    org.kind = kind
    if new_parent_id != org.parent_id:
        if new_parent_id is not None and org_in_subtree(new_parent_id, org.id):
            raise Invalid(_l("An org cannot move under itself."),
                          errors={"parent_id": [_l("Would make a cycle.")]})
        _move_subtree(org, parent)
    db.session.flush()
    if kind_changes:
        kind_changed.send(org_id=org.id)
    return org


#: Sent after an org moved under another parent, in the move's transaction, with ``org_id``,
#: the ancestors it ``left`` and those it ``joined`` (its own org excluded from both): what
#: is kept per subtree (the summary's counts) moves with it.
subtree_moved = Namespace().signal("subtree-moved")
#: Sent after an org's kind changed (written), in the change's transaction, with ``org_id``:
#: what depends on the kinds on its subtree's lines (each issue's county) follows.
kind_changed = Namespace().signal("kind-changed")


def _move_subtree(org: Org, parent: Org | None) -> None:
    """Re-link the closure rows of org's subtree under a new parent."""
    left = list(db.session.scalars(select(OrgClosure.ancestor_id).where(
        OrgClosure.descendant_id == org.id, OrgClosure.ancestor_id != org.id)))
    sub = select(OrgClosure.descendant_id).where(OrgClosure.ancestor_id == org.id)
    above = select(OrgClosure.ancestor_id).where(
        OrgClosure.descendant_id == org.id, OrgClosure.ancestor_id != org.id
    )
    db.session.execute(
        delete(OrgClosure).where(
            OrgClosure.descendant_id.in_(sub.scalar_subquery()),
            OrgClosure.ancestor_id.in_(above.scalar_subquery()),
        ).execution_options(synchronize_session=False)
    )
    if parent is not None:
        up = select(OrgClosure.ancestor_id, OrgClosure.distance).where(
            OrgClosure.descendant_id == parent.id
        ).subquery()
        down = select(OrgClosure.descendant_id, OrgClosure.distance).where(
            OrgClosure.ancestor_id == org.id
        ).subquery()
        db.session.execute(
            insert(OrgClosure).from_select(
                ["ancestor_id", "descendant_id", "distance"],
                # Every ancestor above the new parent times every org of the moved subtree.
                select(up.c.ancestor_id, down.c.descendant_id,
                       up.c.distance + down.c.distance + 1).select_from(up)
                .join(down, true()),
            )
        )
    joined = list(db.session.scalars(select(OrgClosure.ancestor_id).where(
        OrgClosure.descendant_id == org.id, OrgClosure.ancestor_id != org.id)))
    subtree_moved.send(org_id=org.id, left=left, joined=joined)
    org.parent_id = parent.id if parent else None
    delta = ((parent.depth + 1) if parent else 0) - org.depth
    # Write the org's own pending changes before expire_all() below would drop them.
    db.session.flush()
    if delta:
        from sqlalchemy import update

        db.session.execute(
            update(Org).where(Org.id.in_(sub.scalar_subquery())).values(depth=Org.depth + delta)
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()


def org_paths(org_ids: set[int], language: str | None = None) -> dict[int, str]:
    """Names from the top joined by " / " for each org, in one query (Tibetan names to a
    reader of Tibetan: the answer's reader, or ``language``, a mail's recipient's)."""
    if not org_ids:
        return {}
    # The name as a correlated lookup by primary key, not a join: PostgreSQL joined by
    # hashing every org (3 ms at 10,000 orgs) to name the few ancestors of one page.
    name = (select(Org.local_name_column(language)).where(Org.id == OrgClosure.ancestor_id)
            .scalar_subquery())
    rows = db.session.execute(
        select(OrgClosure.descendant_id, name, OrgClosure.distance)
        .where(OrgClosure.descendant_id.in_(org_ids))
        .order_by(OrgClosure.descendant_id, OrgClosure.distance.desc())
    ).all()
    parts: dict[int, list[str]] = {}
    for org_id, name, _distance in rows:
        parts.setdefault(org_id, []).append(name)
    return {org_id: " / ".join(names) for org_id, names in parts.items()}


def depth_first(rows: Sequence[Any]) -> list[Any]:
    """Rows of orgs (each with ``id`` and ``parent_id``), each followed by its children,
    depth-first; siblings keep the given order.  A row whose parent is not among them starts
    a tree of its own."""
    children: dict[int | None, list[Any]] = {}
    ids = {row.id for row in rows}
    for row in rows:
        parent = row.parent_id if row.parent_id in ids else None
        children.setdefault(parent, []).append(row)
    result: list[Any] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        row = stack.pop()
        result.append(row)
        stack.extend(reversed(children.get(row.id, [])))
    return result


def tree_order(rows: Sequence[Any]) -> list[tuple[int, str, int]]:
    """(id, name, depth) rows of orgs (with parent_id), each after its parent, children in the
    given order: the tree as an indented list reads it."""
    return [(row.id, row.name, row.depth) for row in depth_first(rows)]


def org_tree_page(q: str, page: int, page_size: int) -> tuple[list[Org], int]:
    """One page of the orgs as a tree: each org followed by its children, depth-first,
    siblings by code; with ``q``, only the orgs whose code or name holds it, still in the
    tree's order.  Returns the page's orgs and how many match in all (the caller pages).

    Two statements whatever the tree's size: the whole tree's ids and parents (small rows,
    ordered here in one pass), then the page's orgs with their parents.
    """
    hit: ColumnElement[bool] = true()
    if q:
        hit = or_(Org.code.contains(q, autoescape=True), Org.name.contains(q, autoescape=True),
                  Org.name_bo.contains(q, autoescape=True))
    rows = db.session.execute(
        select(Org.id, Org.parent_id, hit.label("hit")).order_by(Org.code)).all()
    ordered = [row.id for row in depth_first(rows) if row.hit]
    wanted = ordered[(page - 1) * page_size:page * page_size]
    found = ({org.id: org for org in db.session.scalars(select(Org).where(Org.id.in_(wanted)))}
             if wanted else {})
    return [found[i] for i in wanted if i in found], len(ordered)


def county_names(org_ids: set[int]) -> dict[int, str]:
    """The county each org lies in (the org itself if it is one), in one query; orgs above
    any county (the prefecture and its own centre) have none."""
    if not org_ids:
        return {}
    rows = db.session.execute(
        select(OrgClosure.descendant_id, Org.name)
        .join(Org, Org.id == OrgClosure.ancestor_id)
        .where(OrgClosure.descendant_id.in_(org_ids), Org.kind == OrgKind.county)
    ).all()
    return {org_id: name for org_id, name in rows}


# --- users -------------------------------------------------------------------------------


def get_user(user_id: int) -> User:
    """The user with this id, or 404."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."), errors={"user_id": [_l("No such user.")]})
    return user


def hash_password(password: str) -> str:
    """The stored hash of a password, by the configured method."""
    # Tests use a cheap method; production keeps Werkzeug's default (scrypt).
    method = current_app.config.get("TRACKER_PASSWORD_METHOD") or "scrypt"
    return generate_password_hash(password, method=method)


def _check_choices(locale: str | None, auth: str) -> None:
    errors: dict[str, Any] = {}
    if locale is not None and locale not in LOCALES:
        errors["locale"] = [_l("Must be one of %(choices)s.", choices=", ".join(LOCALES))]
    if auth not in AUTH_KINDS:
        errors["auth"] = [_l("Must be one of %(choices)s.", choices=", ".join(AUTH_KINDS))]
    if errors:
        raise Invalid(_l("Some fields are invalid."), errors=errors)


def _check_lines(**values: str | None) -> None:
    """Names and addresses are one clean line each: a CRLF would end up in a mail header."""
    errors = {name: [why] for name, value in values.items()
              if value and (why := text.problem(value)) is not None}
    if errors:
        raise Invalid(_l("Some fields are invalid."), errors=errors)


def _check_role_org(role: str, org_id: int | None) -> None:
    if role not in ROLES:
        raise Invalid(_l("Unknown role."),
                      errors={"role": [_l("Must be one of %(choices)s.",
                                          choices=", ".join(ROLES))]})
    if role != Role.admin and org_id is None:
        raise Invalid(_l("Every user but an admin needs a home org."),
                      errors={"org_id": [_l("Required for this role.")]})
    if org_id is not None:
        _org_ref(org_id, "org_id")


def create_user(
    actor: User,
    username: str,
    password: str,
    role: str,
    org_id: int | None,
    display_name: str | None = None,
    email: str | None = None,
    active: bool = True,
    locale: str | None = None,
    notify_mail: str = "immediate",
    auth: str = "local",
    must_change_password: bool = False,
) -> User:
    """Add a user (admin): a local one with a hashed password, a directory (``ldap``) one with
    none; ``locale`` is the language of their pages and mails (None: Chinese, or the language
    they switch to)."""
    require_admin(actor)
    username = username.strip()
    if not username:
        raise Invalid(_l("A username is required."), errors={"username": [_l("Required.")]})
    _check_lines(username=username, display_name=display_name, email=email)
    why = text.username_problem(username)
    if why is not None:
        raise Invalid(why, reason="username_not_allowed", errors={"username": [why]})
    _check_role_org(role, org_id)
    _check_choices(locale, auth)
    if auth == "ldap":
        if password:
            raise Invalid(_l("A user who signs in through the directory has no password "
                             "here."), errors={"password": [_l("Leave it empty.")]})
        must_change_password = False
    else:
        check_password(password or "", username)
    _check_notify_mail(notify_mail)
    # Unique as people read it (SPEC §3): ``Admin`` and ``ａｄｍｉｎ`` are ``admin``.
    if db.session.scalar(select(exists().where(
            User.username_key == text.username_key(username)[:80]))):
        raise Conflict(_l("This username is taken."), reason="duplicate",
                       errors={"username": [_l("Already used.")]})
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        email=email or None,
        role=role,
        org_id=org_id,
        password_hash="" if auth == "ldap" else hash_password(password or ""),
        active=active,
        notify_mail=notify_mail,
        auth_generation=0,
        locale=locale,
        auth=auth,
        must_change_password=bool(must_change_password),
    )
    db.session.add(user)
    db.session.flush()
    return user


#: What users may change of themselves; everything else is an admin's.
SELF_SERVICE_FIELDS = frozenset({"locale", "notify_mail"})


def _check_notify_mail(value: Any) -> None:
    if value not in NOTIFY_MAIL:
        raise Invalid(_l("Unknown mail setting."),
                      errors={"notify_mail": [_l("Must be one of %(choices)s.",
                                                 choices=", ".join(NOTIFY_MAIL))]})


def update_user(actor: User, user: User, **fields: Any) -> User:
    """Change a user's profile, role, org, password or active flag (admin); a user may change
    their own ``SELF_SERVICE_FIELDS``."""
    if not (actor.id is not None and actor.id == user.id and set(fields) <= SELF_SERVICE_FIELDS):
        require_admin(actor)
    role = fields.get("role", user.role)
    org_id = fields.get("org_id", user.org_id)
    _check_lines(display_name=fields.get("display_name"), email=fields.get("email"))
    _check_role_org(role, org_id)
    if user.role == Role.admin and user.active and (
            role != Role.admin or not fields.get("active", True)):
        _keep_an_admin(user)
    if "notify_mail" in fields:
        _check_notify_mail(fields["notify_mail"])
    _check_choices(fields.get("locale"), fields.get("auth") or user.auth)
    if fields.get("active") is False and user.active:
        _refuse_while_owning(user)
    user.role, user.org_id = role, org_id
    for name in ("display_name", "email", "locale", "notify_mail"):
        if name in fields:
            setattr(user, name, fields[name])
    if "active" in fields and fields["active"] != user.active:
        user.active = bool(fields["active"])
        if not user.active:
            _revoke(user)
    if fields.get("auth") and fields["auth"] != user.auth:
        user.auth = fields["auth"]
        # Whichever way it changes, what signed in before signs in no more.
        user.password_hash, user.must_change_password = "", False
        _revoke(user)
    if fields.get("password"):
        set_password(user, fields["password"])
    if "must_change_password" in fields and user.auth == "local":
        user.must_change_password = bool(fields["must_change_password"])
    db.session.flush()
    return user


def _keep_an_admin(user: User) -> None:
    """Refuse (409 ``last_admin``) to demote or deactivate ``user`` when no other active admin
    would be left.  The active admins' rows are locked until the transaction ends, so two
    admins demoting each other at once cannot both pass."""
    others = db.session.scalars(
        select(User.id).where(User.role == Role.admin, User.active.is_(True),
                              User.id != user.id).with_for_update()).all()
    if not others:
        raise Conflict(_l("This is the last active administrator: make another user an "
                          "administrator first."), reason="last_admin")


def set_password(user: User, password: str, field: str = "password", *,
                 made: bool = False) -> None:
    """Set a new password; every session and token of the old one dies.  ``made``: the
    ledger made it (``temporary_password``), so it gets the fast hash (see passwords.py)."""
    if user.auth == "ldap":
        raise Conflict(_l("This user signs in through the directory: the password is changed "
                          "there."), reason="directory_user",
                       errors={"password": [_l("Leave it empty.")]})
    check_password(password, user.username, field)
    user.password_hash = hash_temporary_password(password) if made else hash_password(password)
    _revoke(user)


#: Counters of what a user still owns that must not be left without a reader (the ledger
#: registers its open issues, see ``register_open_items``): owners knows nothing of issues.
_OPEN_ITEM_COUNTERS: list[Any] = []


def register_open_items(counter: Any) -> None:
    """Register ``counter(user) -> int``: what the user owns that is not finished."""
    if counter not in _OPEN_ITEM_COUNTERS:
        _OPEN_ITEM_COUNTERS.append(counter)


def open_item_count(user: User) -> int:
    """How many items not finished the user owns (every registered counter)."""
    return sum(int(count(user)) for count in _OPEN_ITEM_COUNTERS)


def _refuse_while_owning(user: User) -> None:
    """Deactivating someone who still owns open items would leave them unread: 409."""
    count = open_item_count(user)
    if count:
        raise Conflict(
            _l("%(name)s still owns %(n)s open item(s): hand them over first.",
               name=user.display_name, n=count),
            reason="has_open_items", errors={"active": [_l("Hand over the open items first.")],
                                             "open_items": count})


def _revoke(user: User) -> None:
    user.auth_generation = (user.auth_generation or 0) + 1
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


# --- page sessions -----------------------------------------------------------------------

#: A page login lasts at most this long, logged out or not.
SESSION_DAYS = 30


def start_session(user: User) -> str:
    """Record a new page login of ``user``; returns the key its session cookie carries."""
    key = secrets.token_urlsafe(32)
    db.session.execute(delete(LoginSession).where(
        LoginSession.user_id == user.id,
        LoginSession.created_at < utcnow() - timedelta(days=SESSION_DAYS),
    ))
    db.session.add(LoginSession(key_hash=_hash_token(key), user_id=user.id))
    db.session.flush()
    return key


def session_user(user_id: int, generation: int, key: str | None) -> User | None:
    """The active user of a live page login (one query), or None once it has ended."""
    if not key:
        return None
    return db.session.scalar(
        select(User).join(LoginSession, LoginSession.user_id == User.id).where(
            User.id == user_id,
            User.active.is_(True),
            User.auth_generation == generation,
            LoginSession.key_hash == _hash_token(key),
            LoginSession.created_at >= utcnow() - timedelta(days=SESSION_DAYS),
        )
    )


def end_session(key: str | None) -> None:
    """End a page login on the server: its cookie, copied or not, opens nothing any more."""
    if key:
        db.session.execute(delete(LoginSession).where(LoginSession.key_hash == _hash_token(key)))


# --- login and tokens --------------------------------------------------------------------


def _lock_login(username: str, address: str) -> None:
    """Serialise the logins of one username and of one address until this transaction ends,
    so that thirty wrong passwords sent at once meet the limit one after another.

    PostgreSQL: transaction-level advisory locks, always taken in the same order.  SQLite:
    a login writes, so its transaction holds the database's write lock already.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted(
        int.from_bytes(hashlib.sha256(f"login:{kind}:{value}".encode()).digest()[:8], "big",
                       signed=True)
        for kind, value in (("username", username), ("address", address))
    )
    for key in keys:
        db.session.execute(select(func.pg_advisory_xact_lock(key)))


def _retry_after(username: str, address: str) -> int | None:
    """Seconds until one more login may be tried, or None while the limits allow one."""
    cfg = current_app.config
    window = timedelta(minutes=cfg["TRACKER_LOGIN_WINDOW_MINUTES"])
    now = utcnow()
    limit = cfg["TRACKER_LOGIN_MAX_FAILURES"]
    waits = []
    # An address may be a whole office behind one gateway: allow it more tries.
    for column, value, allowed in ((LoginFailure.username, username, limit),
                                   (LoginFailure.address, address, limit * 4)):
        recent = select(LoginFailure.at).where(column == value, LoginFailure.at >= now - window)
        count = db.session.scalar(select(func.count()).select_from(recent.subquery())) or 0
        if count >= allowed:
            # Once the failure that tipped the limit leaves the window, one more try is allowed.
            leaving = db.session.scalar(recent.order_by(LoginFailure.at.desc())
                                        .offset(allowed - 1).limit(1))
            seconds = ((leaving or now) + window - now).total_seconds()
            waits.append(min(math.ceil(seconds), int(window.total_seconds())))
    return max(1, *waits) if waits else None


#: Password hashes of nobody, one per method: an unknown username costs a check all the same.
_NOBODY: dict[str, str] = {}


def _check_or_pretend(user: User | None, password: str) -> bool:
    """Check the password against the user's hash, or against nobody's when there is no user,
    so that an answer takes as long whether the username exists or not (SPEC §7)."""
    if user is None or not user.password_hash:
        method = current_app.config.get("TRACKER_PASSWORD_METHOD") or "scrypt"
        if method not in _NOBODY:
            _NOBODY[method] = hash_password(secrets.token_urlsafe(16))
        check_password_hash(_NOBODY[method], password)
        return False  # nobody, or a user who has no password here
    if is_temporary_hash(user.password_hash):
        # A made password's hash is fast: pay the production hash's time all the same, so
        # that the answer does not tell who still has a temporary password.
        _check_or_pretend(None, password)
    return bool(check_password_hash(user.password_hash, password))


def authenticate(username: str, password: str, address: str) -> User:
    """Check a username and password, limiting failures per username and per address.

    A failure is recorded and committed even though the caller's request fails, so that the
    limit holds across workers and hosts; concurrent attempts for one username or address
    are checked one after another, so none gets an extra guess.  Past the limit the refusal
    (429) says in ``Retry-After`` when to try again.
    """
    username = (username or "").strip()
    address = address[:64]
    _lock_login(username[:80], address)
    wait = _retry_after(username[:80], address)
    if wait is not None:
        raise TooManyAttempts(
            _l("Too many failed logins. Try again later."), reason="too_many_attempts",
            headers={"Retry-After": str(wait)},
        )
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None and user.auth == "ldap":
        from tracker.owners import ldap  # the directory, asked only for its own users

        matches = ldap.check_password(username, password)  # 503 when it is down
    else:
        matches = _check_or_pretend(user, password)
    if user is None or not matches or not user.active:
        db.session.add(LoginFailure(username=username[:80], address=address))
        db.session.commit()
        raise Unauthorized(_l("Wrong username or password."), reason="bad_credentials")
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User) -> tuple[str, datetime]:
    """Make a bearer token for the user; returns the token and when it expires."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=current_app.config["TRACKER_TOKEN_HOURS"])
    db.session.add(ApiToken(token_hash=_hash_token(token), user_id=user.id,
                            auth_generation=user.auth_generation, expires_at=expires_at))
    db.session.flush()
    return token, expires_at


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    user: User | None = db.session.scalar(
        _token_user_statement(), {"token_hash": _hash_token(token), "now": utcnow()})
    return user


@functools.cache
def _token_user_statement() -> Select[Any]:
    """The live token's active user, in one statement built once (every API request asks).

    The token's own row is only a key here: its user is joined on the unique hash and its
    liveness checked by the database, so no ApiToken object is loaded; built once, the
    statement costs no construction and no cache-key work per request (bench/README.md).
    """
    return (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("token_hash"),
               ApiToken.expires_at > bindparam("now"),
               User.active.is_(True), User.auth_generation == ApiToken.auth_generation)
    )


def create_admin(username: str, password: str) -> User:
    """Create an administrator from the command line (no home org needed)."""
    return create_user(system_actor("flask --app tracker create-admin"), username, password,
                       Role.admin, None, display_name=username)



def users_readable_clause(viewer: User) -> ColumnElement[bool]:
    """WHERE clause for the users ``viewer`` may read.

    Admins read everyone; others read the users whose home org lies on their own home org's
    line (their subtree and the orgs above it), the people they may pick as owners.
    """
    from sqlalchemy import false, or_

    if viewer.role == Role.admin:
        return true()
    if viewer.org_id is None:
        return false()
    return or_(
        User.id == viewer.id,
        User.org_id.in_(subtree_ids(viewer.org_id)),
        User.org_id.in_(ancestor_ids(viewer.org_id)),
    )


def get_readable_user(viewer: User, user_id: int) -> User:
    """The user with this id if ``viewer`` may read them; 404 otherwise."""
    user = db.session.scalar(
        select(User).where(User.id == user_id, users_readable_clause(viewer))
    )
    if user is None:
        raise NotFound(_l("No such user."))
    return user
