"""REST API: the overdue report and the summary table under /api/v1/reports."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView

from tracker import documents, spreadsheets
from tracker.issues.reports import service as reports
from tracker.issues.reports.export import send_report
from tracker.issues.reports.rectification import LANGUAGES, send_rectification
from tracker.owners.auth import api_user, current_api_user, login_required
from tracker.timeutil import reader_language, today
from tracker.webapi import (
    MAX_ID,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    PAGINATION_HEADER_DOC,
    IdParam,
    LedgerDate,
    PageArgs,
    QuerySchema,
    api_blueprint,
    json_response,
    pagination_header,
    plain_choice,
    plain_date,
    plain_number,
    plain_query,
    schema_defaults,
)

blp = api_blueprint(
    "reports", __name__, "/reports",
    "Reports: overdue issues and the summary table (汇总表), as JSON, CSV or XLSX.",
)

XLSX = spreadsheets.XLSX_MIMETYPE
CSV = spreadsheets.CSV_MIMETYPE
DOCX = documents.DOCX_MIMETYPE


class _FormatArgs(QuerySchema):
    as_of = LedgerDate(load_default=None,
                           metadata={"description": "The ledger as it stood at the end of this "
                                                    "day (TRACKER_TIMEZONE): the issues "
                                                    "registered by then, each with its status, "
                                                    "due date, closing date and extensions of "
                                                    "then (default: today)."})
    org_id = IdParam(load_default=None)
    campaign_id = IdParam(load_default=None)
    format = ma.fields.String(load_default="json",
                              validate=ma.validate.OneOf(["json", "csv", "xlsx"]))


class OverdueArgs(_FormatArgs, PageArgs):
    """Filters of the overdue report."""

    category_id = IdParam(load_default=None)


class SummaryArgs(_FormatArgs):
    """Parameters of the summary table."""

    include_empty = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Downloads (csv, xlsx) leave out the units without any "
                                 "finding; true keeps them (JSON always lists every unit)."})


class OverdueRowSchema(ma.Schema):
    """One overdue issue."""

    id = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.String()
    org_id = ma.fields.Integer()
    org_path = ma.fields.String()
    owner_id = ma.fields.Integer()
    owner_name = ma.fields.String()
    due_on = LedgerDate()
    days_overdue = ma.fields.Integer()


class SummaryRowSchema(ma.Schema):
    """One line of the summary: an org and a category, or the org's total (category null)."""

    org_id = ma.fields.Integer()
    org_name = ma.fields.String()
    category_id = ma.fields.Integer(allow_none=True)
    category_name = ma.fields.String(allow_none=True)
    total = ma.fields.Integer()
    closed = ma.fields.Integer()
    closed_late = ma.fields.Integer()
    extended = ma.fields.Integer()
    overdue = ma.fields.Integer()
    completion_rate = ma.fields.Float()
    red = ma.fields.Integer(metadata={"description": "Traffic light red (overdue) on the day."})
    yellow = ma.fields.Integer(metadata={"description": "Traffic light yellow (at risk)."})
    green = ma.fields.Integer(metadata={"description": "Traffic light green (on track)."})


#: The overdue report's parameters its hot path reads itself (``plain_query``): one page as
#: JSON.  Any other query goes through OverdueArgs (which refuses unknown parameters).
OVERDUE_READERS = {
    "org_id": plain_number(1, MAX_ID), "category_id": plain_number(1, MAX_ID),
    "campaign_id": plain_number(1, MAX_ID), "as_of": plain_date,
    "page": plain_number(1, MAX_PAGE), "page_size": plain_number(1, MAX_PAGE_SIZE),
    "format": plain_choice(["json"]),
}
OVERDUE_DEFAULTS = schema_defaults(OverdueArgs())


def overdue_page(args: dict[str, Any]) -> Any:
    """The overdue report's answer for ``args`` (as OverdueArgs loads them)."""
    user = current_api_user()
    as_of = args["as_of"] or today()
    filters = {k: args[k] for k in ("org_id", "category_id", "campaign_id")}
    if args["format"] in ("csv", "xlsx"):
        return send_report(user, "overdue", args["format"], as_of, **filters)
    rows, meta = reports.overdue_rows(user, as_of, page=args["page"],
                                      page_size=args["page_size"], **filters)
    # Plain dicts of the documented fields (dates as ISO strings): orjson, not marshmallow.
    return json_response(rows, headers=pagination_header(meta))


def _download_doc() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {200: {"content": {CSV: binary, XLSX: binary}}}}


@blp.route("/overdue")
class OverdueReport(MethodView):
    """Overdue issues in the caller's scope."""

    def dispatch_request(self, **kwargs: Any) -> Any:
        """A plain query string (``OVERDUE_READERS``) skips webargs and flask-smorest: the
        token first (401), then the same answer as ``get`` gives (issue 26, the hot path)."""
        if request.method == "GET":
            args = plain_query(OVERDUE_READERS, OVERDUE_DEFAULTS)
            if args is not None:
                api_user()
                return overdue_page(args)
        return super().dispatch_request(**kwargs)

    @login_required
    # A misspelt filter would silently widen a report: unknown parameters are refused (422).
    @blp.arguments(OverdueArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, OverdueRowSchema(many=True), headers=PAGINATION_HEADER_DOC)
    @blp.doc(**_download_doc())
    def get(self, args: dict[str, Any]) -> Any:
        """Overdue issues, most overdue first (``format=csv|xlsx`` downloads them all)."""
        return overdue_page(args)


@blp.route("/summary")
class SummaryReport(MethodView):
    """The summary table (汇总表)."""

    @login_required
    @blp.arguments(SummaryArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, SummaryRowSchema(many=True))
    @blp.doc(**_download_doc())
    def get(self, args: dict[str, Any]) -> Any:
        """Per child org and category: total, closed, closed late, extended, overdue, rate."""
        user = current_api_user()
        as_of = args["as_of"] or today()
        params = {"campaign_id": args["campaign_id"], "as_of": as_of, "org_id": args["org_id"]}
        if args["format"] in ("csv", "xlsx"):
            return send_report(user, "summary", args["format"], as_of,
                               org_id=args["org_id"], campaign_id=args["campaign_id"],
                               include_empty=args["include_empty"])
        return reports.summary_rows(user, **params)



class RectificationArgs(QuerySchema):
    """Parameters of the 整改情况报告."""

    campaign_id = IdParam(required=True)
    org_id = IdParam(load_default=None, metadata={"description": "The unit reported on "
                                                                 "(default: the caller's "
                                                                 "home org)."})
    as_of = ma.fields.Date(load_default=None,
                           metadata={"description": "The ledger as it stood at the end of "
                                                    "this day (default: today)."})
    lang = ma.fields.String(load_default=None, validate=ma.validate.OneOf(LANGUAGES),
                            metadata={"description": "zh_Hans or bo (default: the reader's "
                                                     "language, Chinese unless Tibetan)."})


@blp.route("/rectification")
class RectificationReport(MethodView):
    """The 整改情况报告 (Word)."""

    @login_required
    @blp.arguments(RectificationArgs, location="query", unknown=ma.RAISE)
    @blp.doc(responses={200: {"description": "The report as a Word document (GB/T 9704-2012 "
                                             "layout).",
                              "content": {DOCX: {"schema": {"type": "string",
                                                            "format": "binary"}}}}})
    def get(self, args: dict[str, Any]) -> Any:
        """The report of a unit on a campaign as of a day, as a Word document (.docx)."""
        return send_rectification(current_api_user(), args["campaign_id"],
                                  args["as_of"] or today(), args["org_id"], args["lang"],
                                  reader_language())
