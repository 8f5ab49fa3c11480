"""Who is asking: session login for pages, bearer tokens for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, request, session
from flask_login import current_user
from flask_smorest import Blueprint

from tracker.errors import Unauthorized
from tracker.extensions import login_manager
from tracker.owners import service
from tracker.owners.models import User

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Install the session user loader."""
    login_manager.login_view = "owners.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load(session_id: str) -> User | None:
        # The session id carries the password generation: a changed password logs it out.
        try:
            user_id, generation = (int(x) for x in session_id.split(":"))
        except ValueError:
            return None
        # And the login is still alive on the server: logging out ended it everywhere.
        return service.session_user(user_id, generation, session.get(SESSION_KEY))


#: The session cookie's entry holding the page login's key (see ``service.start_session``).
SESSION_KEY = "login_key"


def api_user() -> User:
    """The user behind the request's bearer token; 401 when there is none or it is dead."""
    # Cached per request (not in g: an app context may outlive one request, as in tests).
    cached = request.environ.get("tracker.api_user")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Log in first: send 'Authorization: Bearer <token>'.",
                           reason="login_required")
    user = service.user_for_token(token.strip())
    if user is None:
        raise Unauthorized("The token is unknown, expired or revoked.", reason="invalid_token")
    request.environ["tracker.api_user"] = user
    return user


#: Methods that change nothing: a page session needs no CSRF token for them.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_or_session_user() -> User:
    """The bearer token's user, else the page session's; a session's writes need the CSRF
    token (the ``X-CSRFToken`` header), as the page's forms do.  401 when neither."""
    if request.headers.get("Authorization") or "tracker.api_user" in request.environ:
        return api_user()
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            from tracker.extensions import csrf

            csrf.protect()  # 400 without a valid token
        user = page_user()
        request.environ["tracker.api_user"] = user
        return user
    return api_user()  # the 401 of the API


def token_or_session_required(fn: F) -> F:
    """Require a bearer token or a page session (with CSRF for writes); the user is then
    ``token_or_session_user()``."""

    @Blueprint.doc(security=[{"bearerAuth": []}])
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token_or_session_user()
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def client_address() -> str:
    """The caller's address (the proxy's X-Forwarded-For is honoured only behind ProxyFix)."""
    return request.remote_addr or "unknown"


def current_api_user() -> User:
    """The authenticated API user (call only behind ``login_required``)."""
    return api_user()


def page_user() -> User:
    """The logged-in page user as a model instance (not Flask-Login's proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def login_required(fn: F) -> F:
    """Require a bearer token; the user is then ``current_api_user()``.

    Documented in OpenAPI as needing the bearer scheme.
    """

    @Blueprint.doc(security=[{"bearerAuth": []}])
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        api_user()
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(fn: F) -> F:
    """Refuse anyone but an admin with 403 (after authentication, before the body is read)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        service.require_admin(api_user())
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
