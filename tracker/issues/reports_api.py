"""REST API: the overdue report and the summary table under /api/v1/reports."""

from __future__ import annotations

from datetime import date
from typing import IO, Any

import marshmallow as ma
from flask import Response, send_file
from flask.views import MethodView
from flask_smorest import Api

from tracker.api_common import (
    PAGINATION_HEADER_DOC,
    PageArgs,
    QuerySchema,
    api_blueprint,
    current_api_user,
    login_required,
    pagination_header,
)
from tracker.issues import reports
from tracker.timeutil import today

blp = api_blueprint(
    "reports", __name__, "/reports",
    "Reports: overdue issues and the summary table (汇总表), as JSON, CSV or XLSX.",
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
_ID = {"validate": ma.validate.Range(min=1)}


class _FormatArgs(QuerySchema):
    as_of = ma.fields.Date(load_default=None,
                           metadata={"description": "Reckon overdue as of this date "
                                                    "(default: today in TRACKER_TIMEZONE)."})
    org_id = ma.fields.Integer(load_default=None, **_ID)
    campaign_id = ma.fields.Integer(load_default=None, **_ID)
    format = ma.fields.String(load_default="json",
                              validate=ma.validate.OneOf(["json", "csv", "xlsx"]))


class OverdueArgs(_FormatArgs, PageArgs):
    """Filters of the overdue report."""

    category_id = ma.fields.Integer(load_default=None, **_ID)


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


def _send(fh: IO[bytes], fmt: str, stem: str, as_of: date) -> Response:
    name = f"{stem}_{as_of.isoformat()}.{fmt}"
    mimetype = f"{CSV}; charset=utf-8" if fmt == "csv" else XLSX
    resp = send_file(fh, mimetype=mimetype, as_attachment=True, download_name=name,
                     max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@blp.route("/overdue")
class OverdueReport(MethodView):
    """Overdue issues in the caller's scope."""

    @login_required
    @blp.arguments(OverdueArgs, location="query")
    @blp.response(200, OverdueRowSchema(many=True), headers=PAGINATION_HEADER_DOC)
    @blp.doc(**_download_doc())
    def get(self, args: dict[str, Any]) -> Any:
        """Overdue issues, most overdue first (``format=csv|xlsx`` downloads them all)."""
        user = current_api_user()
        as_of = args["as_of"] or today()
        filters = {k: args[k] for k in ("org_id", "category_id", "campaign_id")}
        if args["format"] == "csv":
            return _send(reports.overdue_csv(user, as_of, **filters), "csv", "逾期问题", as_of)
        if args["format"] == "xlsx":
            return _send(reports.overdue_xlsx(user, as_of, **filters), "xlsx", "逾期问题", as_of)
        rows, meta = reports.overdue_rows(user, as_of, page=args["page"],
                                          page_size=args["page_size"], **filters)
        return rows, 200, pagination_header(meta)


@blp.route("/summary")
class SummaryReport(MethodView):
    """The summary table (汇总表)."""

    @login_required
    @blp.arguments(SummaryArgs, location="query")
    @blp.response(200, SummaryRowSchema(many=True))
    @blp.doc(**_download_doc())
    def get(self, args: dict[str, Any]) -> Any:
        """Per child org and category: total, closed, closed late, extended, overdue, rate."""
        user = current_api_user()
        as_of = args["as_of"] or today()
        params = {"campaign_id": args["campaign_id"], "as_of": as_of, "org_id": args["org_id"]}
        if args["format"] == "csv":
            return _send(reports.summary_csv(user, **params), "csv", "汇总表", as_of)
        if args["format"] == "xlsx":
            return _send(reports.summary_xlsx(user, **params), "xlsx", "汇总表", as_of)
        return reports.summary_rows(user, **params)


def register(api: Api) -> None:
    """Register this module's API blueprints."""
    api.register_blueprint(blp)
