"""REST API: the overdue report and the summary table under /api/v1/reports."""

from __future__ import annotations

from datetime import date
from typing import IO, Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from tracker import spreadsheets
from tracker.http import (
    PAGINATION_HEADER_DOC,
    IdParam,
    PageArgs,
    QuerySchema,
    api_blueprint,
    attachment,
    json_response,
    pagination_header,
)
from tracker.issues.reports import service as reports
from tracker.owners.auth import current_api_user, login_required
from tracker.timeutil import today

blp = api_blueprint(
    "reports", __name__, "/reports",
    "Reports: overdue issues and the summary table (汇总表), as JSON, CSV or XLSX.",
)

XLSX = spreadsheets.XLSX_MIMETYPE
CSV = spreadsheets.CSV_MIMETYPE
#: Download names: ASCII for old clients, Chinese for the rest.
OVERDUE_NAME = ("overdue", "逾期问题")
SUMMARY_NAME = ("summary", "汇总表")


class _FormatArgs(QuerySchema):
    as_of = ma.fields.Date(load_default=None,
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


class OverdueRowSchema(ma.Schema):
    """One overdue issue."""

    id = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.String()
    org_id = ma.fields.Integer()
    org_path = ma.fields.String()
    owner_id = ma.fields.Integer()
    owner_name = ma.fields.String()
    due_on = ma.fields.Date()
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


def _download_doc() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {200: {"content": {CSV: binary, XLSX: binary}}}}


def _send(fh: IO[bytes], fmt: str, stem: tuple[str, str], as_of: date) -> Response:
    mimetype = XLSX if fmt == "xlsx" else CSV
    return attachment(fh, f"{stem[1]}_{as_of.isoformat()}.{fmt}", mimetype,
                      fallback=f"{stem[0]}_{as_of.isoformat()}.{fmt}")


@blp.route("/overdue")
class OverdueReport(MethodView):
    """Overdue issues in the caller's scope."""

    @login_required
    # A misspelt filter would silently widen a report: unknown parameters are refused (422).
    @blp.arguments(OverdueArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, OverdueRowSchema(many=True), headers=PAGINATION_HEADER_DOC)
    @blp.doc(**_download_doc())
    def get(self, args: dict[str, Any]) -> Any:
        """Overdue issues, most overdue first (``format=csv|xlsx`` downloads them all)."""
        user = current_api_user()
        as_of = args["as_of"] or today()
        filters = {k: args[k] for k in ("org_id", "category_id", "campaign_id")}
        if args["format"] == "csv":
            return _send(reports.overdue_csv(user, as_of, **filters), "csv", OVERDUE_NAME, as_of)
        if args["format"] == "xlsx":
            return _send(reports.overdue_xlsx(user, as_of, **filters), "xlsx", OVERDUE_NAME,
                         as_of)
        rows, meta = reports.overdue_rows(user, as_of, page=args["page"],
                                          page_size=args["page_size"], **filters)
        # Plain dicts of the documented fields (dates as ISO strings): orjson, not marshmallow.
        return json_response(rows, headers=pagination_header(meta))


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
        if args["format"] == "csv":
            return _send(reports.summary_csv(user, **params), "csv", SUMMARY_NAME, as_of)
        if args["format"] == "xlsx":
            return _send(reports.summary_xlsx(user, **params), "xlsx", SUMMARY_NAME, as_of)
        return reports.summary_rows(user, **params)

