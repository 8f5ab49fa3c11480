"""Pages of the owners domain: login, logout, and the admin pages for orgs and users."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.owners import accounts, imports
from tracker.owners import service as owners
from tracker.owners.auth import SESSION_KEY, client_address
from tracker.owners.auth import page_user as actor
from tracker.owners.forms import (
    AUTH_CHOICES,
    NOTIFY_MAIL_CHOICES,
    LoginForm,
    LogoutForm,
    OrgForm,
    PasswordChangeForm,
    SettingsForm,
    UserForm,
)
from tracker.owners.labels import ORG_KIND_LABELS, ROLE_LABELS
from tracker.owners.models import ROLES, Org, Role, User
from tracker.owners.passwords import POLICY_TEXT
from tracker.pages import (
    LANGUAGE_NAMES,
    LANGUAGES,
    explain,
    page_number,
    refusal_text,
    safe_next,
    save_form,
    set_language_cookie,
)
from tracker.spreadsheets import XLSX_MIMETYPE
from tracker.webapi import attachment, page_meta, paginate

PAGE_SIZE = 100


def set_language() -> Response:
    """Switch the interface language: saved on the user when logged in, and in a cookie."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        lang = LANGUAGES[0]
    if current_user.is_authenticated:
        owners.update_user(actor(), actor(), locale=lang)
        db.session.commit()
    return set_language_cookie(
        redirect(safe_next(request.form.get("next"), url_for("issues.home"))), lang
    )


#: Suggestions a picker shows for what was typed.
LOOKUP_LIMIT = 20


@login_required
def lookup_orgs() -> Response:
    """Units in the user's scope whose name or code holds ``q``, for the pickers that search
    as you type (JSON: [{value, text}], at most LOOKUP_LIMIT)."""
    q = (request.args.get("q") or "").strip()[:100]
    stmt = select(Org.id, Org.code, Org.local_name_column()).where(
        owners.scope_clause(actor(), Org.id))
    if q:
        stmt = stmt.where(or_(Org.name.contains(q, autoescape=True),
                              Org.name_bo.contains(q, autoescape=True),
                              Org.code.contains(q, autoescape=True)))
    rows = db.session.execute(stmt.order_by(Org.depth, Org.code).limit(LOOKUP_LIMIT))
    return jsonify([{"value": org_id, "text": f"{name} ({code})"} for org_id, code, name in rows])


@login_required
def lookup_users() -> Response:
    """Active users the user may read (their line of the tree) whose name or username holds
    ``q``, for the owner pickers (JSON: [{value, text}], at most LOOKUP_LIMIT)."""
    q = (request.args.get("q") or "").strip()[:100]
    stmt = (select(User.id, User.username, User.display_name, Org.local_name_column())
            .outerjoin(Org, Org.id == User.org_id)
            .where(owners.users_readable_clause(actor()), User.active.is_(True)))
    if q:
        stmt = stmt.where(or_(User.display_name.contains(q, autoescape=True),
                              User.username.contains(q, autoescape=True)))
    rows = db.session.execute(stmt.order_by(User.display_name, User.id).limit(LOOKUP_LIMIT))
    return jsonify([{"value": user_id, "text": f"{name} ({username}) · {org or ''}"}
                    for user_id, username, name, org in rows])


def login() -> Any:
    """The login form; failures are limited per username and per address."""
    if current_user.is_authenticated:
        return redirect(url_for("issues.home"))
    form = LoginForm()
    status = 200
    error = None
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            user = owners.authenticate(form.username.data or "", form.password.data or "",
                                       client_address())
        except DomainError as exc:
            db.session.rollback()
            error, status, headers = explain(exc), exc.status, exc.headers
        else:
            # A fresh session on login, so that nothing from before it carries over, and
            # its key recorded on the server, so that logging out ends it everywhere.
            session.clear()
            session[SESSION_KEY] = owners.start_session(user)
            login_user(user)
            db.session.commit()
            landing = redirect(safe_next(request.args.get("next"), url_for("issues.home")))
            # The user's language in the cookie too: a page that cannot ask the database
            # (an outage's 503) still answers in it.
            if user.locale in LANGUAGES:
                return set_language_cookie(landing, user.locale)
            return landing
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("owners/login.html", form=form, error=error), status, headers


def logout() -> Response:
    """Log out (POST with the CSRF token) and return to the login page."""
    LogoutForm()  # CSRFProtect has already checked the token
    owners.end_session(session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("owners.login"))


# --- administration ----------------------------------------------------------------------


@login_required
def admin_index() -> str:
    """Links to the admin pages."""
    owners.require_admin(actor())
    return render_template("admin/index.html")


def _org_choices(empty: bool) -> list[tuple[Any, str]]:
    paths = db.session.execute(select(Org.id, Org.code, Org.local_name_column())
                                 .order_by(Org.depth, Org.code))
    choices: list[tuple[Any, str]] = [("", _("(none)"))] if empty else []
    choices += [(org_id, f"{code} {name}") for org_id, code, name in paths]
    return choices


@login_required
def admin_orgs() -> str:
    """The org tree as a list, with a search box."""
    owners.require_admin(actor())
    q = (request.args.get("q") or "").strip()
    page = page_number()
    rows, total = owners.org_tree_page(q, page, PAGE_SIZE)
    meta = page_meta(total, page, PAGE_SIZE)
    return render_template("admin/orgs.html", orgs=rows, meta=meta, q=q)


@login_required
def admin_org(org_id: int | None = None) -> Any:
    """Create or edit an org."""
    owners.require_admin(actor())
    org = owners.get_org(org_id) if org_id is not None else None
    form = OrgForm(obj=org)
    form.kind.choices = [(k, str(v)) for k, v in ORG_KIND_LABELS.items()]
    form.parent_id.choices = [c for c in _org_choices(True) if org is None or c[0] != org.id]

    def save() -> Org:
        if org is None:
            return owners.create_org(actor(), form.code.data or "", form.name.data or "",
                                     form.kind.data or "", form.parent_id.data,
                                     name_bo=form.name_bo.data)
        return owners.update_org(actor(), org, code=form.code.data or "", name=form.name.data or "",
                                 name_bo=form.name_bo.data, kind=form.kind.data,
                                 parent_id=form.parent_id.data)

    if save_form(form, save):
        return redirect(url_for("owners.admin_orgs"))
    return render_template("admin/org_form.html", form=form, org=org)


@login_required
def settings() -> Any:
    """The user's own settings: the language of pages and mail, and notices by mail."""
    me = actor()
    form = SettingsForm(obj=me)
    form.locale.choices = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    form.notify_mail.choices = [(k, str(v)) for k, v in NOTIFY_MAIL_CHOICES]
    if request.method == "GET" and me.locale not in LANGUAGES:
        form.locale.data = LANGUAGES[0]

    def save() -> User:
        return owners.update_user(me, me, locale=form.locale.data,
                                  notify_mail=form.notify_mail.data)

    if save_form(form, save):
        return set_language_cookie(redirect(url_for("owners.settings")),
                                   form.locale.data or LANGUAGES[0])
    return render_template("owners/settings.html", form=form)


@login_required
def admin_users() -> str:
    """Users, with a search box."""
    owners.require_admin(actor())
    q = (request.args.get("q") or "").strip()
    stmt = select(User).order_by(User.username)
    if q:
        stmt = stmt.where(or_(User.username.contains(q, autoescape=True),
                              User.display_name.contains(q, autoescape=True)))
    rows, meta = paginate(stmt, page_number(), PAGE_SIZE)
    return render_template("admin/users.html", users=rows, meta=meta, q=q)


@login_required
def admin_user(user_id: int | None = None) -> Any:
    """Create or edit a user (role, home unit, password, active)."""
    owners.require_admin(actor())
    user = owners.get_user(user_id) if user_id is not None else None
    form = UserForm(obj=user)
    # The least-privileged role first, and the default of a new user.
    form.role.choices = [(k, str(ROLE_LABELS[k])) for k in reversed(ROLES)]
    form.org_id.choices = _org_choices(True)
    form.notify_mail.choices = [(k, str(v)) for k, v in NOTIFY_MAIL_CHOICES]
    form.locale.choices = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    form.auth.choices = [(k, str(v)) for k, v in AUTH_CHOICES]
    if user is None:
        form.password.description = str(POLICY_TEXT)
        if request.method == "GET":
            form.role.data = Role.officer
    elif request.method == "GET":
        form.password.data = ""
        if user.locale not in LANGUAGES:
            form.locale.data = LANGUAGES[0]

    def save() -> User:
        if user is None:
            return owners.create_user(
                actor(), form.username.data or "", form.password.data or "", form.role.data or "",
                form.org_id.data, display_name=form.display_name.data,
                email=form.email.data or None, active=bool(form.active.data),
                notify_mail=form.notify_mail.data or "immediate",
                locale=form.locale.data or None, auth=form.auth.data or "local",
                must_change_password=bool(form.must_change_password.data),
            )
        try:
            return owners.update_user(
                actor(), user, role=form.role.data, org_id=form.org_id.data,
                display_name=form.display_name.data, email=form.email.data or None,
                active=bool(form.active.data), password=form.password.data or None,
                notify_mail=form.notify_mail.data, locale=form.locale.data or user.locale,
                auth=form.auth.data or user.auth,
                must_change_password=bool(form.must_change_password.data),
            )
        except DomainError as exc:
            if exc.reason == "has_open_items":  # the page offers the handover instead
                exc.errors = {"active": exc.errors["active"]}
            raise

    if save_form(form, save):
        return redirect(url_for("owners.admin_users"))
    open_items = owners.open_item_count(user) if user is not None else 0
    return render_template("admin/user_form.html", form=form, user=user, open_items=open_items)


@login_required
def account_password() -> Any:
    """修改密码: everyone's own password; the one page open while a temporary one stands."""
    me = actor()
    form = PasswordChangeForm()

    def save() -> None:
        accounts.change_own_password(me, form.current_password.data or "",
                                     form.new_password.data or "")
        # The change ended every session, this one too: carry on in a fresh one.
        session.clear()
        session[SESSION_KEY] = owners.start_session(me)
        login_user(me)

    if me.auth == "ldap":
        return render_template("owners/password.html", form=None)
    if save_form(form, save):
        flash(_("Your password is changed. Other sessions and tokens of yours have ended."),
              "success")
        return redirect(url_for("issues.home"))
    return render_template("owners/password.html", form=form, rules=POLICY_TEXT)


@login_required
def admin_users_import() -> Any:
    """Users by spreadsheet: upload, all rows or none; the temporary passwords shown once."""
    owners.require_admin(actor())
    if request.method == "GET":
        return render_template("admin/users_import.html")
    dry_run = bool(request.form.get("dry_run"))
    try:
        report = imports.run_upload(actor(), request.files.get("file"), dry_run=dry_run)
    except imports.UsersImportFailed as exc:
        db.session.rollback()
        return render_template("admin/users_import.html", failed=exc.report), 422
    except DomainError as exc:
        db.session.rollback()
        return render_template("admin/users_import.html", refusal=refusal_text(exc)), exc.status
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    response = make_response(render_template("admin/users_import.html", report=report,
                                             summary=imports.summary(report)))
    # The temporary passwords are on this page only: never kept by a cache or the history.
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required
def admin_users_import_template() -> Response:
    """The users' import template (xlsx), in the reader's language."""
    owners.require_admin(actor())
    return attachment(imports.template_xlsx(), _("users-template") + ".xlsx", XLSX_MIMETYPE,
                      fallback="users-template.xlsx", cache="private, no-cache")
