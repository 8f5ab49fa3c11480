"""Bearer tokens for requests made inside a test's own application context."""

from __future__ import annotations

from flask import g

from tracker.extensions import db
from tracker.owners.models import User
from tracker.owners.service import issue_token


def bearer(user: User) -> dict[str, str]:
    """The Authorization header of a fresh token for ``user``."""
    # The test's application context outlives each request made inside it, and
    # api_user() caches the caller in flask.g: forget the previous request's caller.
    g.pop("api_user", None)
    token, _ = issue_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
