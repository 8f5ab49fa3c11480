"""REST API of the owners domain under /api/v1: tokens, orgs, users.

Reading orgs is open to every logged-in user (pages and clients need the names); users are
readable along the caller's line (see ``service.users_readable_clause``); every write here is
for admins.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.views import MethodView
from sqlalchemy import or_, select

from tracker.extensions import db
from tracker.owners import accounts, imports, service
from tracker.owners.auth import admin_required, client_address, current_api_user, login_required
from tracker.owners.models import Org, User
from tracker.owners.schemas import (
    OrgCreateSchema,
    OrgPatchSchema,
    OrgQuerySchema,
    OrgSchema,
    OwnPasswordSchema,
    PasswordResetResultSchema,
    PasswordResetSchema,
    SelfPatchSchema,
    TokenRequestSchema,
    TokenSchema,
    UserCreateSchema,
    UserPatchSchema,
    UserQuerySchema,
    UserSchema,
    UsersImportQuerySchema,
    UsersImportSchema,
)
from tracker.webapi import (
    ID,
    PAGINATION_HEADER_DOC,
    api_blueprint,
    paginate,
    pagination_header,
    precheck,
    require_json_body,
)

auth_blp = api_blueprint("auth", __name__, "/auth", "Bearer tokens")
orgs_blp = api_blueprint("orgs", __name__, "/orgs", "The organisation tree")
users_blp = api_blueprint("users", __name__, "/users", "Users, roles and home orgs")
#: This domain's API blueprints, in the order the OpenAPI document lists them.
BLUEPRINTS = (auth_blp, orgs_blp, users_blp)


# --- tokens ------------------------------------------------------------------------------


@auth_blp.route("/tokens")
class Tokens(MethodView):
    """Log in for the API."""

    @require_json_body
    @auth_blp.arguments(TokenRequestSchema)
    @auth_blp.response(201, TokenSchema)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Exchange a username and password for a bearer token.

        Wrong credentials answer 401; too many failures for a username or an address answer
        429. The token dies when it expires, when the password changes or when the user is
        deactivated.
        """
        user = service.authenticate(args["username"], args["password"], client_address())
        token, expires_at = service.issue_token(user)
        db.session.commit()
        return {"token": token, "expires_at": expires_at}


# --- orgs --------------------------------------------------------------------------------


@orgs_blp.route("")
class Orgs(MethodView):
    """The org list."""

    @login_required
    @orgs_blp.arguments(OrgQuerySchema, location="query")
    @orgs_blp.response(200, OrgSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """List orgs (any logged-in user), filtered by parent, subtree, kind or text."""
        stmt = select(Org)
        if "parent_id" in args:
            stmt = stmt.where(Org.parent_id == args["parent_id"])
        if "under" in args:
            stmt = stmt.where(Org.id.in_(service.subtree_ids(args["under"])))
        if "kind" in args:
            stmt = stmt.where(Org.kind == args["kind"])
        if args.get("q"):
            stmt = stmt.where(or_(Org.name.icontains(args["q"], autoescape=True),
                                  Org.code.icontains(args["q"], autoescape=True)))
        rows, meta = paginate(stmt.order_by(Org.depth, Org.code, Org.id),
                              args["page"], args["page_size"])
        return rows, pagination_header(meta)

    @login_required
    @admin_required
    @require_json_body
    @orgs_blp.arguments(OrgCreateSchema)
    @orgs_blp.response(201, OrgSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Add an org under a parent (admin)."""
        org = service.create_org(current_api_user(), args["code"], args["name"], args["kind"],
                                 args["parent_id"], name_bo=args["name_bo"])
        db.session.commit()
        return org, {"Location": url_for("orgs.OrgItem", org_id=org.id)}


@orgs_blp.route(f"/<{ID}:org_id>")
class OrgItem(MethodView):
    """One org."""

    @login_required
    @orgs_blp.response(200, OrgSchema)
    def get(self, org_id: int) -> Org:
        """Read an org (any logged-in user)."""
        return service.get_org(org_id)

    @login_required
    @precheck(lambda org_id: service.get_org(org_id))
    @admin_required
    @require_json_body
    @orgs_blp.arguments(OrgPatchSchema)
    @orgs_blp.response(200, OrgSchema)
    def patch(self, args: dict[str, Any], org_id: int) -> Org:
        """Rename, recode or move an org with its subtree (admin)."""
        org = service.update_org(current_api_user(), service.get_org(org_id), **args)
        db.session.commit()
        return org


# --- users -------------------------------------------------------------------------------


@users_blp.route("")
class Users(MethodView):
    """The user list."""

    @login_required
    @users_blp.arguments(UserQuerySchema, location="query")
    @users_blp.response(200, UserSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """List the users the caller may read: everyone for an admin, else along their line."""
        stmt = select(User).where(service.users_readable_clause(current_api_user()))
        if "org_id" in args:
            stmt = stmt.where(User.org_id.in_(service.subtree_ids(args["org_id"])))
        if "role" in args:
            stmt = stmt.where(User.role == args["role"])
        if "active" in args:
            stmt = stmt.where(User.active.is_(args["active"]))
        if args.get("q"):
            stmt = stmt.where(or_(User.username.icontains(args["q"], autoescape=True),
                                  User.display_name.icontains(args["q"], autoescape=True)))
        rows, meta = paginate(stmt.order_by(User.username, User.id),
                              args["page"], args["page_size"])
        return rows, pagination_header(meta)

    @login_required
    @admin_required
    @require_json_body
    @users_blp.arguments(UserCreateSchema)
    @users_blp.response(201, UserSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Add a user with a role and home org (admin); the password is never shown again."""
        user = service.create_user(
            current_api_user(), args["username"], args["password"], args["role"], args["org_id"],
            display_name=args["display_name"], email=args["email"], active=args["active"],
            notify_mail=args["notify_mail"], locale=args["locale"], auth=args["auth"],
            must_change_password=args["must_change_password"],
        )
        db.session.commit()
        return user, {"Location": url_for("users.UserItem", user_id=user.id)}


@users_blp.route("/me")
class Me(MethodView):
    """The caller."""

    @login_required
    @users_blp.response(200, UserSchema)
    def get(self) -> User:
        """Who the token belongs to."""
        return current_api_user()

    @login_required
    @require_json_body
    @users_blp.arguments(SelfPatchSchema)
    @users_blp.response(200, UserSchema)
    def patch(self, args: dict[str, Any]) -> User:
        """Change the caller's own settings: language and how notices are mailed."""
        me = current_api_user()
        user = service.update_user(me, me, **args)
        db.session.commit()
        return user


@users_blp.route(f"/<{ID}:user_id>")
class UserItem(MethodView):
    """One user."""

    @login_required
    @users_blp.response(200, UserSchema)
    def get(self, user_id: int) -> User:
        """Read a user (404 outside the caller's line)."""
        return service.get_readable_user(current_api_user(), user_id)

    @login_required
    @precheck(lambda user_id: service.get_readable_user(current_api_user(), user_id))
    @admin_required
    @require_json_body
    @users_blp.arguments(UserPatchSchema)
    @users_blp.response(200, UserSchema)
    def patch(self, args: dict[str, Any], user_id: int) -> User:
        """Change a user (admin); a new password or deactivation ends their tokens."""
        user = service.update_user(current_api_user(), service.get_user(user_id), **args)
        db.session.commit()
        return user


@users_blp.route("/me/password")
class MyPassword(MethodView):
    """The caller's own password."""

    @login_required
    @require_json_body
    @users_blp.arguments(OwnPasswordSchema)
    @users_blp.response(200, TokenSchema)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Change the caller's password (the current one first).

        Every session and token of the caller ends, this one too: the answer carries a new
        token. A temporary password must be changed this way before any other call.
        """
        me = current_api_user()
        accounts.change_own_password(me, args["current_password"], args["new_password"])
        token, expires_at = service.issue_token(me)
        db.session.commit()
        return {"token": token, "expires_at": expires_at}


@users_blp.route(f"/<{ID}:user_id>/password")
class UserPassword(MethodView):
    """A user's password, as an admin resets it."""

    @login_required
    @precheck(lambda user_id: service.get_readable_user(current_api_user(), user_id))
    @admin_required
    @require_json_body
    @users_blp.arguments(PasswordResetSchema)
    @users_blp.response(200, PasswordResetResultSchema)
    def post(self, args: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Give a user a temporary password (admin).

        Without ``password`` a random one is made and answered once as
        ``temporary_password``. The user must choose their own at the next login; their
        sessions and tokens end now.
        """
        user = service.get_user(user_id)
        made = accounts.reset_password(current_api_user(), user, args["password"])
        db.session.commit()
        answer: dict[str, Any] = {"must_change_password": True}
        if made is not None:
            answer["temporary_password"] = made
        return answer


@users_blp.route("/import")
class UsersImport(MethodView):
    """Users by spreadsheet."""

    @login_required
    @admin_required
    @users_blp.arguments(UsersImportQuerySchema, location="query")
    @users_blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"],
                   "properties": {"file": {"type": "string", "format": "binary"}}}}}})
    @users_blp.response(201, UsersImportSchema)
    @users_blp.alt_response(415, description="Not an .xlsx or .csv file.")
    @users_blp.alt_response(422, description="Some rows are wrong (errors.rows lists each with "
                                             "its row number, column and reason); nothing "
                                             "was saved.")
    def post(self, args: dict[str, Any]) -> Any:
        """Add users from an .xlsx or .csv file (admin; multipart ``file``): all or none.

        Each new local user's temporary password is in the answer, this once; they must
        choose their own at the first login. ``dry_run=true`` checks without saving.
        """
        is_form = request.mimetype == "multipart/form-data"
        report = imports.run_upload(current_api_user(),
                                    request.files.get("file") if is_form else None,
                                    dry_run=args["dry_run"])
        if args["dry_run"]:
            db.session.rollback()
        else:
            db.session.commit()
        return report.as_dict()
