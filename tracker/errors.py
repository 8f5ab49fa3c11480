"""Domain errors and the one handler that turns every error into JSON or a page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, Response, jsonify, render_template, request
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from tracker.extensions import db
from tracker.languages import LANGUAGES, accepted_language


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it here."""
    return message


#: Texts of other libraries (Werkzeug's HTTP errors, Flask-WTF's CSRF refusals, marshmallow's
#: field errors): they arrive in English and are shown through the catalogues by lookup.
LIBRARY_MESSAGES = (
    N_("The CSRF token is missing."),
    N_("The CSRF token is invalid."),
    N_("The CSRF session token is missing."),
    N_("The CSRF tokens do not match."),
    N_("The CSRF token has expired."),
    N_("The referrer header is missing."),
    N_("The referrer does not match the host."),
    N_("The requested URL was not found on the server. If you entered the URL manually "
       "please check your spelling and try again."),
    N_("The method is not allowed for the requested URL."),
    N_("The server could not verify that you are authorized to access the URL requested. "
       "You either supplied the wrong credentials (e.g. a bad password), or your browser "
       "doesn't understand how to supply the credentials required."),
    N_("You don't have the permission to access the requested resource. It is either "
       "read-protected or not readable by the server."),
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Not a valid integer."),
    N_("Not a valid string."),
    N_("Not a valid date."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Field may not be null."),
    N_("Invalid input type."),
    N_("Invalid value."),
    N_("Shorter than minimum length 1."),
    N_("Must not be blank."),  # tracker.webapi.Text's own, raised through marshmallow
    # Werkzeug's 422, which webargs raises for every body or query it refuses.
    N_("The request was well-formed but was unable to be followed due to semantic errors."),
    N_("Not a valid email address."),
    N_("Not a valid number."),
    N_("Not a valid datetime."),
    N_("Not a valid mapping type."),
)

#: marshmallow's messages that carry values ("Must be one of: a, b."): the English pattern,
#: and the catalogue's message the values are put into.
LIBRARY_PATTERNS = (
    (re.compile(r"Must be one of: (?P<choices>.*)\."), N_("Must be one of %(choices)s.")),
    (re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."),
     N_("Between %(min)s and %(max)s characters.")),
    (re.compile(r"Longer than maximum length (?P<max>\d+)\."),
     N_("At most %(max)s characters.")),
    (re.compile(r"Shorter than minimum length (?P<min>\d+)\."),
     N_("At least %(min)s characters.")),
    (re.compile(r"Length must be (?P<n>\d+)\."), N_("Exactly %(n)s characters.")),
    (re.compile(r"Must be greater than or equal to (?P<min>\S+) and less than or equal to "
                r"(?P<max>\S+)\."), N_("From %(min)s to %(max)s.")),
    (re.compile(r"Must be greater than or equal to (?P<min>\S+)\."),
     N_("At least %(min)s.")),
    (re.compile(r"Must be less than or equal to (?P<max>\S+)\."), N_("At most %(max)s.")),
)


def translated(value: Any) -> Any:
    """A library's English texts through the catalogues, through nested dicts and lists."""
    if isinstance(value, dict):
        return {k: translated(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [translated(v) for v in value]
    if isinstance(value, str) and value:
        said = gettext(value)
        if said == value:
            for pattern, message in LIBRARY_PATTERNS:
                found = pattern.fullmatch(value)
                if found is not None:
                    return gettext(message, **found.groupdict())
        return said
    return value


class DomainError(Exception):
    """A refusal that the user can understand; maps to one HTTP status.

    ``message`` and the messages in ``errors`` are best made with ``lazy_gettext`` (with
    their arguments): they are rendered in the reader's language when the answer is made.
    """

    status = 400
    reason = "bad_request"

    def __init__(
        self,
        message: Any,
        *,
        reason: str | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.errors = errors or {}
        #: Headers the answer carries (``Retry-After`` of a 429).
        self.headers = headers or {}


class ValidationError(DomainError):
    """Input that is well-formed but invalid (422)."""

    status = 422
    reason = "invalid"


class NotFound(DomainError):
    """Missing, or outside the caller's read scope (404, so ids cannot be probed)."""

    status = 404
    reason = "not_found"


class Forbidden(DomainError):
    """Readable, but the role or ownership does not allow the action (403)."""

    status = 403
    reason = "forbidden"


class Conflict(DomainError):
    """The issue's state does not allow the action (409)."""

    status = 409
    reason = "conflict"


class StaleVersion(DomainError):
    """The client's If-Match version is not the current one (412)."""

    status = 412
    reason = "stale_version"


class Unauthorized(DomainError):
    """Not logged in, or the credentials are wrong (401)."""

    status = 401
    reason = "unauthorized"


class TooManyAttempts(DomainError):
    """Too many failed logins in the window (429)."""

    status = 429
    reason = "too_many_attempts"


class UnsupportedFile(DomainError):
    """A file type that is not accepted as evidence (415)."""

    status = 415
    reason = "unsupported_file_type"


class UnsupportedMediaType(DomainError):
    """A request body that is not JSON where JSON is expected (415)."""

    status = 415
    reason = "unsupported_media_type"


class TooLarge(DomainError):
    """An upload larger than the limit (413)."""

    status = 413
    reason = "too_large"


class Unavailable(DomainError):
    """The database cannot be reached now; the client may retry (503 with Retry-After)."""

    status = 503
    reason = "database_unavailable"


#: Seconds a client is asked to wait when the database is unavailable.
RETRY_AFTER_OUTAGE = 5


@dataclass(frozen=True)
class UniqueRefusal:
    """How a UNIQUE constraint's violation is told: 409 with a reason, a message, a field."""

    message: Any
    reason: str = "duplicate"
    field: str | None = None
    field_message: Any = None


#: UNIQUE constraints (by name, and by SQLite's ``table.column, …``) and how to refuse them.
#: Each domain registers its own (``register_unique``); two writers racing past a service's
#: check meet the constraint, and the loser gets the same 409 the check would have given.
UNIQUE_REFUSALS: dict[str, UniqueRefusal] = {}


def register_unique(name: str, columns: str, refusal: UniqueRefusal) -> None:
    """Tell a violation of constraint ``name`` (SQLite: ``columns``, e.g. ``"orgs.code"``)."""
    UNIQUE_REFUSALS[name] = refusal
    UNIQUE_REFUSALS[columns] = refusal


def integrity_refusal(exc: sa_exc.IntegrityError) -> DomainError:
    """The 409 for a violated constraint, found by the constraint's name."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)  # psycopg names the constraint
    name = getattr(diag, "constraint_name", None) if diag is not None else None
    refusal = UNIQUE_REFUSALS.get(name or "")
    if refusal is None:
        text = str(orig)
        # SQLite: "UNIQUE constraint failed: orgs.code" (the columns, not the name).
        if "UNIQUE constraint failed:" in text:
            refusal = UNIQUE_REFUSALS.get(text.split("UNIQUE constraint failed:", 1)[1].strip())
    if refusal is None:
        return Conflict(_l("This conflicts with a change saved meanwhile. Reload and try "
                           "again."), reason="conflict")
    errors = {refusal.field: [refusal.field_message or refusal.message]} if refusal.field else {}
    return Conflict(refusal.message, reason=refusal.reason, errors=errors)


class ErrorSchema(ma.Schema):
    """The JSON error document of SPEC §6, as documented in OpenAPI."""

    code = ma.fields.Integer(metadata={"description": "HTTP status code"})
    status = ma.fields.String(metadata={"description": "HTTP status name"})
    message = ma.fields.String(metadata={"description": "What went wrong, for people"})
    errors = ma.fields.Dict(
        metadata={"description": "The offending fields (by location for query/body errors)"}
    )
    reason = ma.fields.String(
        metadata={"description": "A machine-readable word: evidence_required, stale_version, …"}
    )


def wants_json() -> bool:
    """Whether this request should be answered with JSON rather than a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def error_body(
    status: int, message: Any, reason: str, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON error document of SPEC §6."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {
        "code": status,
        "status": phrase,
        "message": str(message),
        "errors": rendered(errors or {}),
        "reason": reason,
    }


def rendered(value: Any) -> Any:
    """Messages made with ``lazy_gettext`` rendered now, in the reader's language, through
    nested dicts and lists (a refusal's ``errors``); other values as they are."""
    if isinstance(value, dict):
        return {k: rendered(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rendered(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)  # a lazy string


def error_response(
    status: int,
    message: Any,
    reason: str,
    errors: dict[str, Any] | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """Answer an error as JSON or as a page, keeping headers such as ``Allow``."""
    if wants_json():
        resp = jsonify(error_body(status, message, reason, errors))
    else:
        resp = Response(
            render_template(
                "error.html", status=status, message=str(message), reason=reason,
                errors=rendered(errors or {}),
            ),
            mimetype="text/html",
        )
    resp.status_code = status
    for name, value in headers or []:
        if name.lower() in {"allow", "www-authenticate", "retry-after"}:
            resp.headers[name] = value
    return resp


_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "stale_version",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_attempts",
    503: "unavailable",
}


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone with the database
        db.session.close()


def register_error_handlers(app: Flask) -> None:
    """Install the handlers for domain errors, database failures and HTTP errors."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        _rollback()
        return error_response(exc.status, exc.message, exc.reason, exc.errors,
                              list(exc.headers.items()))

    @app.errorhandler(sa_exc.IntegrityError)
    def _integrity(exc: sa_exc.IntegrityError) -> Response:
        _rollback()
        refusal = integrity_refusal(exc)
        return error_response(refusal.status, refusal.message, refusal.reason, refusal.errors)

    @app.errorhandler(sa_exc.DataError)
    def _bad_value(exc: sa_exc.DataError) -> Response:
        # A value the database cannot hold that a check missed: bad input, never a 500.
        _rollback()
        app.logger.warning("value refused by the database: %s", exc.orig)
        return error_response(400, _l("A value is out of range or not valid for its field."),
                              "bad_request")

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_unavailable(exc: Exception) -> Response:
        # A restart, a network cut, a lock held too long: the pool's pre-ping replaces dead
        # connections, so the service recovers by itself once the database answers again.
        _rollback()
        app.logger.warning("database unavailable: %s", exc.__class__.__name__)
        # The language is chosen without the database (the usual choice asks who is logged
        # in, which asks the database again): the ``lang`` cookie, Accept-Language, Chinese.
        cookie = request.cookies.get("lang")
        lang = cookie if cookie in LANGUAGES else accepted_language() or LANGUAGES[0]
        with force_locale(lang):
            message = str(_l("The database is unavailable. Try again in a few seconds."))
            title = str(_l("Service unavailable"))
        headers = [("Retry-After", str(RETRY_AFTER_OUTAGE))]
        if wants_json():
            return error_response(503, message, Unavailable.reason, headers=headers)
        # A plain page: the site's layout would ask the database who is logged in.
        html_lang = {"zh_Hans": "zh-Hans"}.get(lang, lang)
        resp = Response(
            f'<!doctype html><html lang="{html_lang}"><meta charset="utf-8">'
            f"<title>503 · {escape(title)}</title><h1>503 · {escape(title)}</h1>"
            f"<p>{escape(message)}</p></html>", status=503, mimetype="text/html")
        resp.headers["Retry-After"] = str(RETRY_AFTER_OUTAGE)
        return resp

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        _rollback()
        status = exc.code or 500
        errors: dict[str, Any] = {}
        data = getattr(exc, "data", None)
        if isinstance(data, dict) and "messages" in data:
            # webargs/flask-smorest validation errors: keyed by location.
            errors = data["messages"]
        message: Any = translated(exc.description or "")
        if status == 422 and not message.strip(". "):
            message = _l("The request contains invalid fields.")
        if status == 413:
            message = _l("The upload is larger than the limit.")
        errors = translated(errors)
        headers = list(exc.get_headers()) if status in (405, 401, 429) else []
        return error_response(status, message, _REASONS.get(status, "error"), errors, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        _rollback()
        app.logger.exception("unhandled error")
        return error_response(500, _l("Internal server error."), "internal_error")
