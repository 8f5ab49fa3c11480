"""REST API of the ledger under /api/v1: categories, campaigns, issues, transitions, history.

Categories and campaigns are readable by every logged-in user and written by admins. Issues
follow SPEC §3 through the service: ``readable_clause``/``get_issue`` (404 outside the read
scope), then the role checks (403), then the body (400/422), state (409) and version (412).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, request, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from tracker import spreadsheets
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.issues import history, service
from tracker.issues.models import Campaign, Category, Event, Issue
from tracker.issues.reports.export import export_ledger
from tracker.issues.schemas import (
    SORTS,
    AnchorSchema,
    CampaignCreateSchema,
    CampaignPatchSchema,
    CampaignQuerySchema,
    CampaignSchema,
    CategoryCreateSchema,
    CategorySchema,
    EventSchema,
    IssueCreateSchema,
    IssuePatchSchema,
    IssueQuerySchema,
    IssueSchema,
    NoteSchema,
    TransitionSchema,
    issue_dict,
    request_today,
)
from tracker.owners.auth import admin_required, api_user, current_api_user, login_required
from tracker.owners.models import User
from tracker.webapi import (
    ID,
    IF_MATCH_PARAM,
    MAX_ID,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    PAGINATION_HEADER_DOC,
    PageArgs,
    api_blueprint,
    if_match,
    json_response,
    paginate,
    pagination_header,
    plain_choice,
    plain_number,
    plain_query,
    precheck,
    require_json_body,
    schema_defaults,
)

categories_blp = api_blueprint("categories", __name__, "/categories", "Problem categories")
campaigns_blp = api_blueprint("campaigns", __name__, "/campaigns",
                              "Inspection rounds and their reminder policy")
issues_blp = api_blueprint("issues_api", __name__, "/issues",
                           "The ledger: findings, their lifecycle and history")
history_blp = api_blueprint("history", __name__, "/history",
                            "The tamper-evident history's daily anchors (admins)")
#: The ledger's own API blueprints, in the order the OpenAPI document lists them.
BLUEPRINTS = (categories_blp, campaigns_blp, issues_blp, history_blp)

#: Response headers of a single issue.
ETAG_HEADER_DOC = {"ETag": {"description": 'The issue\'s version, "<version>"',
                            "schema": {"type": "string"}}}
#: The spreadsheet downloads of the issue list.
XLSX = spreadsheets.XLSX_MIMETYPE
LIST_DESCRIPTION = "One page as JSON; with format=csv or xlsx, the whole filtered ledger."
#: OpenAPI schema of a file download.
BINARY = {"type": "string", "format": "binary"}



# --- categories --------------------------------------------------------------------------


@categories_blp.route("")
class Categories(MethodView):
    """The problem categories."""

    @login_required
    @categories_blp.arguments(PageArgs, location="query")
    @categories_blp.response(200, CategorySchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """List the problem categories (any logged-in user), by code."""
        rows, meta = paginate(select(Category).order_by(Category.code, Category.id),
                              args["page"], args["page_size"])
        return rows, pagination_header(meta)

    @login_required
    @admin_required
    @require_json_body
    @categories_blp.arguments(CategoryCreateSchema)
    @categories_blp.response(201, CategorySchema)
    def post(self, args: dict[str, Any]) -> Category:
        """Add a problem category (admin)."""
        cat = service.save_category(current_api_user(), None, args["code"], args["name"],
                                    name_bo=args["name_bo"])
        db.session.commit()
        return cat


# --- campaigns ---------------------------------------------------------------------------


def _campaign(campaign_id: int) -> Campaign:
    camp = db.session.get(Campaign, campaign_id)
    if camp is None:
        raise NotFound(_l("No such campaign."))
    return camp


@campaigns_blp.route("")
class Campaigns(MethodView):
    """The inspection rounds."""

    @login_required
    @campaigns_blp.arguments(CampaignQuerySchema, location="query")
    @campaigns_blp.response(200, CampaignSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """List campaigns (any logged-in user), newest first."""
        stmt = select(Campaign)
        if "org_id" in args:
            stmt = stmt.where(Campaign.org_id == args["org_id"])
        rows, meta = paginate(stmt.order_by(Campaign.starts_on.desc(), Campaign.id.desc()),
                              args["page"], args["page_size"])
        return rows, pagination_header(meta)

    @login_required
    @admin_required
    @require_json_body
    @campaigns_blp.arguments(CampaignCreateSchema)
    @campaigns_blp.response(201, CampaignSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Start a campaign with its reminder policy (admin); null policy fields use defaults."""
        camp = service.create_campaign(current_api_user(), args)
        db.session.commit()
        return camp, {"Location": url_for("campaigns.CampaignItem", campaign_id=camp.id)}


@campaigns_blp.route(f"/<{ID}:campaign_id>")
class CampaignItem(MethodView):
    """One campaign."""

    @login_required
    @campaigns_blp.response(200, CampaignSchema)
    def get(self, campaign_id: int) -> Campaign:
        """Read a campaign (any logged-in user)."""
        return _campaign(campaign_id)

    @login_required
    @precheck(_campaign)
    @admin_required
    @require_json_body
    @campaigns_blp.arguments(CampaignPatchSchema)
    @campaigns_blp.response(200, CampaignSchema)
    def patch(self, args: dict[str, Any], campaign_id: int) -> Campaign:
        """Change a campaign or its reminder policy (admin)."""
        camp = service.update_campaign(current_api_user(), _campaign(campaign_id), args)
        db.session.commit()
        return camp


# --- issues ------------------------------------------------------------------------------


def issue_first(
    check: Callable[[User, Issue], None] | None = None, *, for_update: bool = False
) -> Callable[[Any], Any]:
    """Load the path's issue (404 outside the read scope), run ``check`` (403), keep it in g.

    Runs before the body is parsed, so refusals come in the order of SPEC §3.
    """

    def decorator(fn: Any) -> Any:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_api_user()
            issue = service.get_issue(user, kwargs["issue_id"], for_update=for_update)
            if check is not None:
                check(user, issue)
            g.issue = issue
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def _precheck_register(**_kwargs: Any) -> None:
    service.require_registrar(current_api_user())


def _filtered(args: dict[str, Any], user: User) -> Select[tuple[Issue]]:
    """The issue list's statement: the caller's read scope, the filters, the sort."""
    return service.filter_issues(user, args, request_today())


#: The list's parameters its hot path reads itself (``plain_query``): a page of a subtree in
#: one of the sort orders, as JSON.  Any other query goes through IssueQuerySchema.
LIST_READERS = {
    "org_id": plain_number(1, MAX_ID), "after": plain_number(1, MAX_ID),
    "page": plain_number(1, MAX_PAGE), "page_size": plain_number(1, MAX_PAGE_SIZE),
    "sort": plain_choice(SORTS), "format": plain_choice(["json"]),
}
LIST_DEFAULTS = schema_defaults(IssueQuerySchema())


def list_page(args: dict[str, Any]) -> Response:
    """The issue list's answer for ``args`` (as IssueQuerySchema loads them)."""
    user = current_api_user()
    if args["format"] in ("csv", "xlsx"):
        return export_ledger(_filtered(args, user), args["format"], user, args.get("org_id"))
    today = request_today()
    if args.get("after") is not None:
        rows = service.issue_rows_after(user, _filtered(args, user), args["sort"],
                                        args["after"], args["page_size"])
        return json_response([issue_dict(row, today) for row in rows])
    rows, meta = service.issue_page(user, args, today)
    return json_response([issue_dict(row, today) for row in rows],
                         headers=pagination_header(meta))


def _issue_answer(issue: Issue, status: int = 200, **headers: str) -> Response:
    """The issue as IssueSchema documents it, with its ETag (and any other headers)."""
    return json_response(issue_dict(issue, request_today()), status,
                         {"ETag": f'"{issue.version}"', **headers})


@issues_blp.route("")
class Issues(MethodView):
    """The ledger."""

    def dispatch_request(self, **kwargs: Any) -> Any:
        """A plain query string (``LIST_READERS``) skips webargs and flask-smorest: the
        token first (401), then the same answer as ``get`` gives (issue 26, the hot path)."""
        if request.method == "GET":
            args = plain_query(LIST_READERS, LIST_DEFAULTS)
            if args is not None:
                api_user()
                return list_page(args)
        return super().dispatch_request(**kwargs)

    @login_required
    @issues_blp.arguments(IssueQuerySchema, location="query")
    @issues_blp.response(200, IssueSchema(many=True), headers=PAGINATION_HEADER_DOC,
                         description=LIST_DESCRIPTION)
    @issues_blp.alt_response(200, schema=BINARY, content_type="text/csv", success=True,
                             description=LIST_DESCRIPTION)
    @issues_blp.alt_response(200, schema=BINARY, content_type=XLSX, success=True,
                             description=LIST_DESCRIPTION)
    def get(self, args: dict[str, Any]) -> Any:
        """List the issues the caller may read, filtered and sorted (default: due_on, id).

        ``format=csv`` or ``format=xlsx`` downloads the whole filtered ledger as a 整改台账
        spreadsheet instead of one page of JSON.  ``after=<id>`` gives the page that follows
        that issue in the same order (keyset pages, without X-Pagination: no total is
        counted), for clients that walk the whole ledger.
        """
        return list_page(args)

    @login_required
    @precheck(_precheck_register)
    @require_json_body
    @issues_blp.arguments(IssueCreateSchema)
    @issues_blp.response(201, IssueSchema, headers=ETAG_HEADER_DOC)
    def post(self, args: dict[str, Any]) -> Any:
        """Register a finding (registrars, supervisors, admins; its org in their scope)."""
        issue = service.register_issue(current_api_user(), args)
        db.session.commit()
        return _issue_answer(issue, 201,
                             Location=url_for("issues_api.IssueItem", issue_id=issue.id))


@issues_blp.route(f"/<{ID}:issue_id>")
class IssueItem(MethodView):
    """One issue."""

    @login_required
    @issues_blp.response(200, IssueSchema, headers=ETAG_HEADER_DOC)
    def get(self, issue_id: int) -> Any:
        """Read an issue; the ETag carries its version for If-Match."""
        return _issue_answer(service.get_issue(current_api_user(), issue_id))

    @login_required
    @issue_first(service.require_edit, for_update=True)
    @require_json_body
    @issues_blp.arguments(IssuePatchSchema)
    @issues_blp.response(200, IssueSchema, headers=ETAG_HEADER_DOC)
    @issues_blp.doc(parameters=[IF_MATCH_PARAM])
    def patch(self, args: dict[str, Any], issue_id: int) -> Any:
        """Change an issue's fields while it is not closed (If-Match optional; stale: 412)."""
        issue = service.update_issue(g.issue, current_api_user(), args, if_match=if_match())
        db.session.commit()
        return _issue_answer(issue)


@issues_blp.route(f"/<{ID}:issue_id>/transitions")
class Transitions(MethodView):
    """The lifecycle."""

    @login_required
    @issue_first(service.require_some_action, for_update=True)
    @require_json_body
    @issues_blp.arguments(TransitionSchema)
    @issues_blp.response(200, IssueSchema, headers=ETAG_HEADER_DOC)
    @issues_blp.doc(parameters=[IF_MATCH_PARAM])
    def post(self, args: dict[str, Any], issue_id: int) -> Any:
        """Take a lifecycle action: start, submit, close, reject, reopen (SPEC §4).

        Submitting and closing need evidence (409 evidence_required); the owner never closes
        (403 owner_cannot_verify); reject and reopen need a comment (422).
        """
        issue = service.transition(g.issue, current_api_user(), args["action"],
                                   args["comment"], if_match=if_match())
        db.session.commit()
        return _issue_answer(issue)


@issues_blp.route(f"/<{ID}:issue_id>/events")
class Events(MethodView):
    """The history."""

    @login_required
    @issue_first()
    @issues_blp.arguments(PageArgs, location="query")
    @issues_blp.response(200, EventSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any], issue_id: int) -> Any:
        """The issue's append-only history, oldest first."""
        stmt = select(Event).where(Event.issue_id == issue_id).order_by(Event.id)
        rows, meta = paginate(stmt, args["page"], args["page_size"])
        return rows, pagination_header(meta)


@issues_blp.route(f"/<{ID}:issue_id>/notes")
class Notes(MethodView):
    """Progress notes."""

    @login_required
    @issue_first(service.require_work, for_update=True)
    @require_json_body
    @issues_blp.arguments(NoteSchema)
    @issues_blp.response(201, EventSchema)
    @issues_blp.doc(parameters=[IF_MATCH_PARAM])
    def post(self, args: dict[str, Any], issue_id: int) -> Event:
        """Add a progress note (owner, or a registrar/supervisor in scope; before closure).

        The note becomes a ``note`` event of the history.
        """
        event = service.add_note(g.issue, current_api_user(), args["comment"],
                                 if_match=if_match())
        db.session.commit()
        return event


# --- history anchors ---------------------------------------------------------------------


@history_blp.route("/anchors")
class Anchors(MethodView):
    """The daily anchors of the history."""

    @login_required
    @admin_required
    @history_blp.arguments(PageArgs, location="query")
    @history_blp.response(200, AnchorSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """The recorded anchors, newest first (admin): compare them with the printed copies."""
        rows, meta = paginate(history.anchors_newest_first(), args["page"],
                              args["page_size"])
        return rows, pagination_header(meta)
