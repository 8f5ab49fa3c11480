"""One object per request, shared by every question the request asks (the base owns it, so a
service asks for "this request's copy" without knowing what a request is)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import has_request_context, request

T = TypeVar("T")


def per_request(key: str, make: Callable[[], T], kind: type[T]) -> T:
    """This request's ``kind`` under ``key``, made by ``make`` on first use; outside a request
    a fresh one each time, so that a long-lived job never answers from an old copy."""
    if not has_request_context():
        return make()
    # Kept with the request itself, not on ``g``: an app context (a test's, a command's) may
    # outlive many requests.
    found = request.environ.get(key)
    if not isinstance(found, kind):
        found = request.environ[key] = make()
    return found
