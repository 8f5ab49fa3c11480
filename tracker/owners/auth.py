"""Who is asking: session login for pages, bearer tokens for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from tracker.errors import Unauthorized
from tracker.extensions import csrf, login_manager
from tracker.owners import service
from tracker.owners.accounts import require_password_chosen
from tracker.owners.models import User

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Install the session user loader."""
    login_manager.login_view = "owners.login"
    login_manager.login_message = None

    @app.before_request
    def _password_first() -> Any:
        # SPEC §3: while a temporary password stands, the pages lead only to the password form.
        if (request.endpoint in PAGES_WHILE_TEMPORARY or request.path.startswith("/api/")
                or request.endpoint is None or request.endpoint.endswith(".static")):
            return None
        if current_user.is_authenticated and current_user.must_change_password:
            return redirect(url_for("owners.account_password"))
        return None

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

#: Pages open to a user who must first replace a temporary password.
PAGES_WHILE_TEMPORARY = frozenset({"owners.account_password", "owners.logout", "owners.login",
                                   "web.set_language", "static"})
#: API calls open to such a user (method, endpoint): who they are, and the change itself.
API_WHILE_TEMPORARY = frozenset({("GET", "users.Me"), ("POST", "users.MyPassword")})


def _password_chosen(user: User) -> User:
    """The user, unless a temporary password still stands and this call is not one of the
    two allowed: then 403 ``password_change_required``."""
    if user.must_change_password and (request.method, request.endpoint) not in API_WHILE_TEMPORARY:
        require_password_chosen(user)
    return user


def api_user() -> User:
    """The user behind the request's bearer token; 401 when there is none or it is dead."""
    # Cached per request (not in g: an app context may outlive one request, as in tests).
    cached = request.environ.get("tracker.api_user")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(_l("Log in first: send 'Authorization: Bearer <token>'."),
                           reason="login_required")
    user = service.user_for_token(token.strip())
    if user is None:
        raise Unauthorized(_l("The token is unknown, expired or revoked."), reason="invalid_token")
    _password_chosen(user)
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
            csrf.protect()  # 400 without a valid token
        user = _password_chosen(page_user())
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
