"""Orgs as a form's choices: the user's scope as an indented tree, or the one chosen unit.

Pages of every domain offer orgs (the ledger's filters, a campaign's org, a webhook's scope);
the choices are made here, beside the scope they read, not in one domain's views.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.owners import service as owners
from tracker.owners.models import Org, User


def org_choices(user: User) -> list[tuple[int, str]]:
    """The orgs in the user's scope as a tree (each after its parent, indented), for a select."""
    rows = db.session.execute(
        select(Org.id, Org.local_name_column(), Org.depth, Org.parent_id)
        .where(owners.scope_clause(user, Org.id))
        .order_by(Org.depth, Org.code)
    ).all()
    return [(org_id, "　" * depth + name) for org_id, name, depth in owners.tree_order(rows)]


#: Beyond this many orgs in scope the unit filter lists only the chosen one and searches
#: the rest as you type (``owners.views.lookup_orgs``).
FILTER_LIST_LIMIT = 300


def org_filter_choices(user: User, filters: dict[str, Any]) -> list[tuple[int, str]]:
    """The unit filter's choices: the whole tree while small, else the chosen unit alone."""
    count = db.session.scalar(select(func.count()).select_from(Org).where(
        owners.scope_clause(user, Org.id)))
    if (count or 0) <= FILTER_LIST_LIMIT:
        return org_choices(user)
    chosen = filters.get("org_id")
    org = db.session.get(Org, chosen) if chosen else None
    return [(org.id, org.local_name)] if org is not None and owners.in_scope(user, org.id) else []
