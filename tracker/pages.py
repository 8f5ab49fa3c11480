"""What every page shares: languages, dates, refusals shown in the user's language, the one
page action (call a service, commit, flash, redirect), shared form fields and the security
headers.  Knows no domain: each domain registers its own blueprints, labels and helpers."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
)
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_bootstrap import Bootstrap5
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field, PasswordField, StringField, TextAreaField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from tracker.errors import DomainError
from tracker.extensions import babel, db
from tracker.languages import (  # noqa: F401  (the pages' names for them)
    LANGUAGE_NAMES,
    LANGUAGE_TAGS,
    LANGUAGES,
    accepted_language,
    in_every_language,
)
from tracker.text import ascii_int, trim
from tracker.text import problem as text_problem
from tracker.timeutil import (
    DateOutOfRange,
    format_date,
    format_datetime,
    parse_date,
    parse_short_date,
    today,
)

#: Field names as users read them, for refusals naming fields; each domain adds its own.
FIELD_LABELS: dict[str, Any] = {}


def select_locale() -> str:
    """The language of the answer being made.

    Pages: the logged-in user's ``locale`` (set by the switcher too), else the ``lang``
    cookie, else Chinese.  The API: the token user's ``locale``, else ``Accept-Language``,
    else Chinese.
    """
    if not has_request_context():
        return LANGUAGES[0]
    if request.path.startswith("/api/"):
        # Set by the token check (owners.auth.api_user); this base module knows no domain.
        api_user = request.environ.get("tracker.api_user")
        chosen = getattr(api_user, "locale", None)
        if chosen in LANGUAGES:
            return str(chosen)
        return accepted_language() or LANGUAGES[0]
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


def explain(exc: DomainError) -> str:
    """A refusal's message (a lazy message with its arguments) in the user's language."""
    return str(exc.message)


def field_errors(exc: DomainError) -> dict[str, list[str]]:
    """A refusal's per-field errors, each message in the user's language."""
    result: dict[str, list[str]] = {}
    for name, messages in (exc.errors or {}).items():
        if not isinstance(messages, list | tuple):
            messages = [messages]
        result[name] = [str(m) for m in messages]
    return result


def refusal_text(exc: DomainError, *, details: bool = True) -> str:
    """A refusal as one line in the current language: its message, then (``details``) each
    field's errors under the field's label."""
    fields = field_errors(exc) if details else {}
    text = explain(exc)
    if fields:
        if is_chinese():
            parts = [f"{FIELD_LABELS.get(k, k)}:{''.join(v)}" for k, v in fields.items()]
            text = f"{text}({';'.join(parts)})"
        else:
            parts = [f"{FIELD_LABELS.get(k, k)}: {' '.join(v)}" for k, v in fields.items()]
            text = f"{text} ({'; '.join(parts)})"
    return text


def flash_refusal(exc: DomainError) -> None:
    """Show why an action was refused, at the top of the next page."""
    db.session.rollback()
    flash(refusal_text(exc, details=exc.status == 422 or exc.reason == "duplicate"), "danger")


def safe_next(target: str | None, default: str) -> str:
    """Only follow a ``next`` that is a path of this site (SPEC §7).

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so
    ``/\t/evil.example`` would lead to ``//evil.example``: any control character, space,
    backslash, or anything that parses with a scheme or a host, goes to ``default``.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


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


def file_size(size: int) -> str:
    """A file's size as people read it: 812 B, 38.2 KB, 4.1 MB (1 KB = 1024 bytes)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def play_time(seconds: int) -> str:
    """How long a video runs, as players show it: 0:42, 12:05, 1:02:03."""
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.filters["play_time"] = play_time
    app.jinja_env.globals.update(
        FIELD_LABELS=FIELD_LABELS,
        LANGUAGES=LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        LANGUAGE_TAGS=LANGUAGE_TAGS,
        current_locale=select_locale,
    )

    @app.context_processor
    def _endpoints() -> dict[str, Any]:
        # Lets the menu link pages of other domains only once they exist.
        return {"url_endpoints": app.view_functions}

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


def set_language_cookie(resp: BaseResponse, lang: str) -> BaseResponse:
    """Remember the chosen language in a cookie (also before login)."""
    resp.set_cookie(
        "lang", lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return resp


# --- the page action ---------------------------------------------------------------------


def page_action(action: Callable[[], Any], *, done: str | Callable[[Any], str],
                back: str,
                refused: Callable[[DomainError], BaseResponse] | None = None) -> Response:
    """Run one service call for a page: commit and say ``done``, or show the refusal in the
    user's language with nothing changed; then go back to ``back`` (303).

    ``refused``, when given, makes the answer to a refusal (after it is rolled back), and says
    it: a page that keeps what the user typed, where a redirect would lose it.
    """
    try:
        result = action()
        db.session.commit()
    except DomainError as exc:
        if refused is not None:
            return refused(exc)  # type: ignore[return-value]
        flash_refusal(exc)
    else:
        flash(done(result) if callable(done) else done, "success")
    return redirect(back, code=303)  # type: ignore[return-value]


def save_form(form: Any, save: Callable[[], Any]) -> bool:
    """Validate a posted form and save it through ``save`` (a service call), committing.

    True when saved (the caller redirects); on a refusal the transaction is rolled back and
    the refusal's field errors are shown beside the form's fields.
    """
    if not form.validate_on_submit():
        return False
    try:
        save()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        show_field_errors(form, exc)
        return False
    flash(_("Saved."), "success")
    return True


def show_field_errors(form: Any, exc: DomainError) -> None:
    """Put a refusal's per-field errors beside the form's fields, else on top of the form."""
    placed = False
    for name, messages in field_errors(exc).items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + messages
            placed = True
    if not placed or exc.reason not in ("invalid",):
        flash(explain(exc), "danger")


def page_number() -> int:
    """The ``page`` query parameter of a paged list (1 when missing or wrong)."""
    return max(1, min(ascii_int(request.args.get("page", "1"), 8) or 1, 10_000_000))


def int_arg(name: str) -> int | None:
    """A positive id from the query string (ASCII digits), else None."""
    value = ascii_int(request.args.get(name, ""))
    return value if value is not None and 0 < value < 2**31 else None


# --- shared form fields ------------------------------------------------------------------


class CleanForm(FlaskForm):
    """A page form whose text is clean (SPEC §7): every text box is trimmed, then judged by
    ``tracker.text`` (text areas keep their line breaks); passwords are judged as typed."""

    def validate(self, extra_validators: Any = None) -> bool:
        """Trim and judge every text field, then run the form's own validators."""
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        #: Field label -> why its text is not clean (for forms posted from a page's buttons).
        self.unclean: dict[str, str] = {}
        for field in self:
            if isinstance(field, StringField) and isinstance(field.data, str):
                if not isinstance(field, PasswordField):
                    field.data = trim(field.data)
                extra.setdefault(field.name, []).append(
                    self._judge(multiline=isinstance(field, TextAreaField)))
        return bool(super().validate(extra_validators=extra))

    def _judge(self, *, multiline: bool) -> Callable[[Any, Any], None]:
        def check(form: Any, field: Any) -> None:
            why = text_problem(field.data or "", multiline=multiline)
            if why is not None:
                self.unclean[str(field.label.text or field.name)] = str(why)
                raise StopValidation(str(why))

        return check

    def flash_unclean(self) -> bool:
        """Flash why the posted text is not clean; False when it is."""
        for label, why in getattr(self, "unclean", {}).items():
            flash(f"{label}: {why}", "danger")
        return bool(getattr(self, "unclean", {}))


REQUIRED = lazy_gettext("Required.")


class CnDateField(Field):
    """A date typed as people in China write it: 2018-07-07, 2018/7/7, 2018年7月7日, or
    without the year (7月7日: this year, or the year of the field named by ``year_from``).

    A text box rather than the browser's date picker, whose format follows the browser's
    language and not the page's.  The example sits under the box, not inside it, where a
    grey placeholder reads like a value already given.
    """

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, *,
                 year_from: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        kwargs.setdefault("description", lazy_gettext("e.g. 2018年7月7日 or 2018-07-07"))
        super().__init__(label, validators, **kwargs)
        self.year_from = year_from
        self.year_guessed = False

    def _value(self) -> str:
        # ISO in every language: a form must take back what it shows (a Tibetan long-form
        # date is for reading, and the parser does not read it); shown dates follow the locale.
        if self.data:
            return self.data.isoformat()
        return self.raw_data[0] if self.raw_data else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse the typed text with the importer's date rules."""
        text = str((valuelist[0] if valuelist else "") or "").strip()
        self.year_guessed = False
        if not text:
            self.data = None
            return
        try:
            short = parse_short_date(text, today().year)
            self.year_guessed = short is not None
            self.data = short or parse_date(text)
        except DateOutOfRange as exc:
            self.data = None
            raise ValueError(exc.args[0]) from None
        except ValueError:
            self.data = None
            raise ValueError(
                lazy_gettext("Not a valid date: write 2018-07-07, 2018/7/7 or 2018年7月7日.")
            ) from None

    def pre_validate(self, form: Any) -> None:
        """A date typed without its year takes the year of ``year_from``'s date, and the
        following year when it would fall before it (a due date after its start)."""
        other = getattr(form, self.year_from, None) if self.year_from else None
        if self.year_guessed and self.data and other is not None and other.data:
            guess = self.data.replace(year=other.data.year)
            if guess < other.data:
                guess = guess.replace(year=guess.year + 1)
            self.data = guess


def int_or_none(value: Any) -> int | None:
    """Coerce a select's value to an id (an empty choice is None)."""
    if value in (None, "", "None"):
        return None
    return int(value)
