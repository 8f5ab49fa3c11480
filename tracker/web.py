"""Pages: languages, security headers, and the page blueprints of each domain."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

from tracker.extensions import babel

LANGUAGES = ("zh_Hans", "en", "bo")


def select_locale() -> str:
    """The user's chosen language, else the ``lang`` cookie, else Chinese."""
    chosen = getattr(current_user, "locale", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    cookie = request.cookies.get("lang")
    if cookie in LANGUAGES:
        return cookie
    return "zh_Hans"


def init_app(app: Flask) -> None:
    """Babel, security headers and the page blueprints."""
    import os

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(os.path.dirname(__file__), "translations"),
    )

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        return resp

    from tracker.issues import import_views
    from tracker.issues import views as issue_views
    from tracker.notify import views as notify_views
    from tracker.owners import views as owner_views

    app.register_blueprint(owner_views.bp)
    app.register_blueprint(issue_views.bp)
    app.register_blueprint(notify_views.bp)
    app.register_blueprint(import_views.bp)
