"""Pages: languages, security headers, template helpers and the page blueprints of each domain."""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_bootstrap import Bootstrap5
from flask_login import current_user

from tracker.errors import DomainError
from tracker.extensions import babel, db
from tracker.timeutil import to_local

#: Languages with a catalogue; the first is the default.
LANGUAGES = ("zh_Hans", "en")
LANGUAGE_NAMES = {"zh_Hans": "中文", "en": "English"}

#: A refusal's reason, said the way a user understands it (the service message is English).
REASON_MESSAGES: dict[str, Any] = {
    "evidence_required": lazy_gettext("Attach at least one evidence file first."),
    "issue_closed": lazy_gettext("A closed issue is read-only until reopened."),
    "invalid_transition": lazy_gettext("The issue's current status does not allow this action."),
    "owner_cannot_verify": lazy_gettext("The owner of an issue cannot verify it."),
    "supervisor_only": lazy_gettext("Only a supervisor in scope may do this."),
    "not_owner": lazy_gettext(
        "Only the owner or a registrar or supervisor in scope may do this."
    ),
    "stale_version": lazy_gettext(
        "The issue changed since you loaded it. Reload the page and try again."
    ),
    "too_many_attempts": lazy_gettext("Too many failed logins. Try again later."),
    "bad_credentials": lazy_gettext("Wrong username or password."),
    "admin_only": lazy_gettext("Only an administrator may do this."),
    "registrar_only": lazy_gettext(
        "Only registrars, supervisors and admins register or edit findings."
    ),
    "unsupported_file_type": lazy_gettext(
        "This kind of file is not accepted as evidence: PDF, images, Office documents or "
        "plain text."
    ),
    "too_large": lazy_gettext("The file is larger than the upload limit."),
    "extension_pending": lazy_gettext(
        "An extension request for this issue awaits a decision already."
    ),
    "extension_not_pending": lazy_gettext("This extension request was decided already."),
    "extension_outdated": lazy_gettext("The requested date is no longer after the start date."),
}


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it here."""
    return message


#: Messages the services raise in English; pages show them through the catalogues.
SERVICE_MESSAGES = (
    N_("A category with this code or name exists."),
    N_("A closed issue is read-only until reopened."),
    N_("A comment is required to reject or reopen."),
    N_("A note needs some text."),
    N_("A start date is required."),
    N_("A title is required."),
    N_("A username is required."),
    N_("An org cannot move under itself."),
    N_("An org with this code exists."),
    N_("Choose a file to upload."),
    N_("Code and name are required."),
    N_("Every user but an admin needs a home org."),
    N_("Name is required."),
    N_("No such evidence file."),
    N_("No such extension request for this issue."),
    N_("No such issue."),
    N_("No such notification."),
    N_("No such org."),
    N_("No such user."),
    N_("No such category."),
    N_("No such campaign."),
    N_("Only registrars, supervisors and admins in scope edit issues."),
    N_("Only registrars, supervisors and admins register findings."),
    N_("Say why the extension is refused."),
    N_("Some fields are invalid."),
    N_("The extension request is invalid."),
    N_("The file is empty."),
    N_("The file name is too long or holds control characters."),
    N_("The reminder policy is invalid."),
    N_("This org already has an issue with this title in this campaign."),
    N_("This username is taken."),
    N_("Unknown fields."),
    N_("Unknown kind of org."),
    N_("Unknown role."),
    N_("A named file is required."),
    N_("Already registered."),
    N_("Already used."),
    N_("Code or name already used."),
    N_("Give the reason for more time."),
    N_("Invalid file name."),
    N_("No such active user."),
    N_("No such org in your scope."),
    N_("Required for this role."),
    N_("Required."),
    N_("The due date cannot be before the start date."),
    N_("The owner's home org must be the issue's org, above or below it."),
    N_("The parent must be of a higher level."),
    N_("This is already the due date."),
    N_("Too large."),
    N_("Unknown field."),
    N_("Would make a cycle."),
    N_("The password needs at least 8 characters."),
    N_("At least 8 characters."),
    N_("The CSRF token is missing."),
    N_("The CSRF token is invalid."),
    N_("The CSRF session token is missing."),
    N_("The CSRF tokens do not match."),
    N_("The CSRF token has expired."),
    N_("The referrer header is missing."),
    N_("The referrer does not match the host."),
    N_("Internal server error."),
    N_("The upload is larger than the limit."),
    # Werkzeug's descriptions of the common HTTP errors, shown on error pages.
    N_("The requested URL was not found on the server. If you entered the URL manually "
       "please check your spelling and try again."),
    N_("The method is not allowed for the requested URL."),
    N_("The server could not verify that you are authorized to access the URL requested. "
       "You either supplied the wrong credentials (e.g. a bad password), or your browser "
       "doesn't understand how to supply the credentials required."),
)

STATUS_LABELS = {
    "open": lazy_gettext("Open"),
    "in_progress": lazy_gettext("In progress"),
    "submitted": lazy_gettext("Awaiting verification"),
    "closed": lazy_gettext("Closed"),
}

ACTION_LABELS = {
    "start": lazy_gettext("Start rectification"),
    "submit": lazy_gettext("Submit for verification"),
    "close": lazy_gettext("Close (verified)"),
    "reject": lazy_gettext("Reject"),
    "reopen": lazy_gettext("Reopen"),
    "extend": lazy_gettext("Request extension"),
}

ROLE_LABELS = {
    "admin": lazy_gettext("Administrator"),
    "supervisor": lazy_gettext("Supervisor"),
    "registrar": lazy_gettext("Registrar"),
    "officer": lazy_gettext("Responsible officer"),
}

ORG_KIND_LABELS = {
    "prefecture": lazy_gettext("Prefecture"),
    "county": lazy_gettext("County"),
    "centre": lazy_gettext("Service centre"),
    "department": lazy_gettext("Department"),
}

EVENT_LABELS = {
    "created": lazy_gettext("Registered"),
    "updated": lazy_gettext("Edited"),
    "note": lazy_gettext("Progress note"),
    "start": lazy_gettext("Started rectification"),
    "submit": lazy_gettext("Submitted for verification"),
    "close": lazy_gettext("Closed (verified)"),
    "reject": lazy_gettext("Rejected"),
    "reopen": lazy_gettext("Reopened"),
    "evidence_added": lazy_gettext("Evidence uploaded"),
    "evidence_withdrawn": lazy_gettext("Evidence withdrawn"),
    "extension_requested": lazy_gettext("Extension requested"),
    "extension_approved": lazy_gettext("Extension approved"),
    "extension_refused": lazy_gettext("Extension refused"),
}

FIELD_LABELS = {
    "campaign_id": lazy_gettext("Campaign"),
    "org_id": lazy_gettext("Unit"),
    "category_id": lazy_gettext("Category"),
    "title": lazy_gettext("Problem"),
    "description": lazy_gettext("Description"),
    "cause": lazy_gettext("Cause"),
    "measures": lazy_gettext("Measures"),
    "owner_id": lazy_gettext("Responsible officer"),
    "starts_on": lazy_gettext("Starts on"),
    "due_on": lazy_gettext("Due on"),
    "status": lazy_gettext("Status"),
    "closed_at": lazy_gettext("Closed at"),
    "original_due_on": lazy_gettext("Original due date"),
    "evidence_count": lazy_gettext("Evidence"),
    "comment": lazy_gettext("Comment"),
    "file": lazy_gettext("File"),
    "note": lazy_gettext("Note"),
    "reason": lazy_gettext("Reason"),
    "requested_due_on": lazy_gettext("New due date"),
    "decision": lazy_gettext("Decision"),
}


def select_locale() -> str:
    """The user's chosen language, else the ``lang`` cookie, else Chinese."""
    if not has_request_context():
        return LANGUAGES[0]
    chosen = getattr(current_user, "locale", None) if current_user else None
    if chosen in LANGUAGES:
        return str(chosen)
    cookie = request.cookies.get("lang")
    if cookie in LANGUAGES:
        return str(cookie)
    return LANGUAGES[0]


def is_chinese() -> bool:
    """Whether pages are being rendered in Chinese."""
    locale = get_locale()
    return locale is None or locale.language == "zh"


def format_date(value: date | datetime | None) -> str:
    """A date as users in China write it: 2018年7月7日 (or 2018-07-07 in English)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = to_local(value)
        assert local is not None
        value = local.date()
    if is_chinese():
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def format_datetime(value: datetime | None) -> str:
    """A stored UTC timestamp in local time: 2018-07-07 14:03."""
    if value is None:
        return ""
    local = to_local(value)
    assert local is not None
    return local.strftime("%Y-%m-%d %H:%M")


def explain(exc: DomainError) -> str:
    """A refusal's message in the user's language."""
    known = REASON_MESSAGES.get(exc.reason)
    if known is not None:
        return str(known)
    return _(exc.message)


def field_errors(exc: DomainError) -> dict[str, list[str]]:
    """A refusal's per-field errors, each message in the user's language."""
    result: dict[str, list[str]] = {}
    for name, messages in (exc.errors or {}).items():
        if isinstance(messages, str):
            messages = [messages]
        result[name] = [_(str(m)) for m in messages]
    return result


def flash_refusal(exc: DomainError) -> None:
    """Show why an action was refused, at the top of the next page."""
    db.session.rollback()
    details = field_errors(exc)
    text = explain(exc)
    if details and exc.reason not in REASON_MESSAGES:
        if is_chinese():
            parts = [f"{FIELD_LABELS.get(k, k)}:{''.join(v)}" for k, v in details.items()]
            text = f"{text}({';'.join(parts)})"
        else:
            parts = [f"{FIELD_LABELS.get(k, k)}: {' '.join(v)}" for k, v in details.items()]
            text = f"{text} ({'; '.join(parts)})"
    flash(text, "danger")


def unread_count() -> int:
    """The logged-in user's unread notices, for the menu (one indexed count)."""
    from sqlalchemy import func, select

    from tracker.notify.models import Notification

    if not current_user or not current_user.is_authenticated:
        return 0
    return int(db.session.scalar(
        select(func.count()).where(Notification.user_id == current_user.id,
                                   Notification.read_at.is_(None))
    ) or 0)


def safe_next(target: str | None, default: str) -> str:
    """Only follow a ``next`` that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


lang_bp = Blueprint("web", __name__)


@lang_bp.post("/language")
def set_language() -> Response:
    """Switch the interface language: saved on the user when logged in, and in a cookie."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        lang = LANGUAGES[0]
    if current_user.is_authenticated:
        from tracker.owners import service as owners

        owners.update_user(current_user._get_current_object(), locale=lang)
        db.session.commit()
    resp = redirect(safe_next(request.form.get("next"), url_for("issues.home")))
    resp.set_cookie(
        "lang", lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return resp  # type: ignore[return-value]


def ensure_compiled(directory: str) -> None:
    """Compile each catalogue whose .mo is missing or older than its .po.

    ``make`` compiles them during set-up; this covers an install from a clean checkout, where
    a missing .mo would silently show English.  A read-only install just keeps what it has.
    """
    import tempfile

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    if not os.path.isdir(directory):
        return
    for lang in os.listdir(directory):
        po = os.path.join(directory, lang, "LC_MESSAGES", "messages.po")
        mo = po[:-3] + ".mo"
        if not os.path.isfile(po):
            continue
        if os.path.isfile(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        try:
            with open(po, "rb") as fh:
                catalog = read_po(fh, locale=lang)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(mo), suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.replace(tmp, mo)  # atomic: several workers may start at once
        except OSError:
            continue


def init_app(app: Flask) -> None:
    """Babel, Bootstrap served locally, security headers, helpers and the page blueprints."""
    app.config["BOOTSTRAP_SERVE_LOCAL"] = True  # offline intranets: never a CDN
    translations = os.path.join(os.path.dirname(__file__), "translations")
    ensure_compiled(translations)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=translations)
    Bootstrap5(app)

    app.jinja_env.filters["cn_date"] = format_date
    app.jinja_env.filters["local_time"] = format_datetime
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        ACTION_LABELS=ACTION_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        ORG_KIND_LABELS=ORG_KIND_LABELS,
        EVENT_LABELS=EVENT_LABELS,
        FIELD_LABELS=FIELD_LABELS,
        LANGUAGES=LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        current_locale=select_locale,
    )

    @app.context_processor
    def _endpoints() -> dict[str, Any]:
        # Lets the menu link pages of other domains only once they exist.
        return {"url_endpoints": app.view_functions, "unread_count": unread_count}

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        if resp.mimetype == "text/html":
            # Pages show personal data: never keep them in a shared cache.
            h.setdefault("Cache-Control", "no-store")
        return resp

    from tracker.issues import import_views
    from tracker.issues import views as issue_views
    from tracker.notify import views as notify_views
    from tracker.owners import views as owner_views

    app.register_blueprint(lang_bp)
    app.register_blueprint(owner_views.bp)
    app.register_blueprint(issue_views.bp)
    app.register_blueprint(notify_views.bp)
    app.register_blueprint(import_views.bp)
