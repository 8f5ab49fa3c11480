"""REST API: urges (催办) and supervision orders (督办单) under /api/v1."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView

from tracker.documents import DOCX_MIMETYPE
from tracker.extensions import db
from tracker.issues.service import get_issue
from tracker.owners.auth import current_api_user, login_required
from tracker.spreadsheets import XLSX_MIMETYPE
from tracker.supervision import bulletin, ranking, service, trend
from tracker.supervision.models import Order, Urge
from tracker.supervision.notice import send_order_docx
from tracker.supervision.schemas import (
    CommentSchema,
    OrderCreateSchema,
    OrderFormatArgs,
    OrderQuerySchema,
    OrderSchema,
    RankingArgs,
    RankingRowSchema,
    ReplySchema,
    TrendArgs,
    TrendSeriesSchema,
    UrgeCreateSchema,
    UrgeManySchema,
    UrgeResultSchema,
    UrgeSchema,
)
from tracker.timeutil import reader_language, today
from tracker.webapi import (
    ID,
    PAGINATION_HEADER_DOC,
    api_blueprint,
    paginate,
    pagination_header,
    precheck,
    require_json_body,
)

urges_blp = api_blueprint("urges", __name__, "/issues",
                          "Urges (催办): a nudge with a note, once per issue a day.")
many_blp = api_blueprint("urges_many", __name__, "/urges",
                         "Urge several issues at once, a result per issue.")
orders_blp = api_blueprint("orders", __name__, "/orders",
                           "Supervision orders (督办单): issued, signed for, answered, closed.")


def _urger(issue_id: int, **_kw: Any) -> None:
    # 404 outside the read scope, then 403 for a role that does not urge, before the body.
    user = current_api_user()
    g.issue = get_issue(user, issue_id, for_update=True)
    refusal = service.urge_refusal(user, g.issue)
    if refusal is not None and refusal.status == 403:
        raise refusal


@urges_blp.route(f"/<{ID}:issue_id>/urges")
class Urges(MethodView):
    """The urges of one issue."""

    @login_required
    @urges_blp.response(200, UrgeSchema(many=True))
    def get(self, issue_id: int) -> list[Urge]:
        """List an issue's urges, oldest first."""
        return service.list_urges(get_issue(current_api_user(), issue_id))

    @login_required
    @precheck(_urger)
    @require_json_body
    @urges_blp.arguments(UrgeCreateSchema)
    @urges_blp.response(201, UrgeSchema)
    @urges_blp.alt_response(409, description="Closed, or urged today already "
                                             "(recently_urged, with Retry-After).")
    def post(self, args: dict[str, Any], issue_id: int) -> Urge:
        """Urge an issue (registrar, supervisor or admin in scope, not its owner)."""
        row = service.urge(current_api_user(), g.issue, args["comment"])
        db.session.commit()
        return row


@many_blp.route("")
class UrgeMany(MethodView):
    """Urge several issues at once."""

    @login_required
    @require_json_body
    @many_blp.arguments(UrgeManySchema)
    @many_blp.response(200, UrgeResultSchema(many=True))
    def post(self, args: dict[str, Any]) -> Any:
        """Urge each issue under the same rules; a result per issue, in the order given."""
        results = service.urge_many(current_api_user(), args["issue_ids"], args["comment"])
        db.session.commit()
        return results


# --- orders ------------------------------------------------------------------------------


def _order(order_id: int, **_kw: Any) -> None:
    g.order = service.get_order(current_api_user(), order_id, for_update=True)


@orders_blp.route("")
class Orders(MethodView):
    """Supervision orders received and issued."""

    @login_required
    @orders_blp.arguments(OrderQuerySchema, location="query")
    @orders_blp.response(200, OrderSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """The orders the caller may read, newest first."""
        rows, meta = paginate(service.list_orders(current_api_user(), args), args["page"],
                              args["page_size"])
        return rows, pagination_header(meta)

    @login_required
    @require_json_body
    @orders_blp.arguments(OrderCreateSchema)
    @orders_blp.response(201, OrderSchema)
    def post(self, args: dict[str, Any]) -> Order:
        """Issue an order to a unit in scope (supervisor or admin), on its open issues."""
        order = service.issue_order(current_api_user(), args)
        db.session.commit()
        return order


@orders_blp.route(f"/<{ID}:order_id>")
class OrderItem(MethodView):
    """One order."""

    @login_required
    @orders_blp.arguments(OrderFormatArgs, location="query", unknown=ma.RAISE)
    @orders_blp.response(200, OrderSchema)
    @orders_blp.alt_response(200, schema={"type": "string", "format": "binary"},
                             content_type=DOCX_MIMETYPE, success=True,
                             description="format=docx: the 督办通知单 as a Word document "
                                         "(GB/T 9704-2012 layout).")
    def get(self, args: dict[str, Any], order_id: int) -> Any:
        """An order (404 outside the caller's reach); ``format=docx`` its 督办通知单."""
        order = service.get_order(current_api_user(), order_id)
        if args["format"] == "docx":
            return send_order_docx(order, args["lang"], reader_language())
        return order


@orders_blp.route(f"/<{ID}:order_id>/acknowledge")
class Acknowledge(MethodView):
    """Signing for an order (签收)."""

    @login_required
    @precheck(_order)
    @orders_blp.response(200, OrderSchema)
    def post(self, order_id: int) -> Order:
        """Sign for an order: the addressed unit's registrars and supervisors, or an admin."""
        service.acknowledge(current_api_user(), g.order)
        db.session.commit()
        return g.order


@orders_blp.route(f"/<{ID}:order_id>/reply")
class Reply(MethodView):
    """Answering an order (反馈)."""

    @login_required
    @precheck(_order)
    @require_json_body
    @orders_blp.arguments(ReplySchema)
    @orders_blp.response(200, OrderSchema)
    def post(self, args: dict[str, Any], order_id: int) -> Order:
        """Answer an order with a text, after signing for it."""
        service.reply(current_api_user(), g.order, args["text"])
        db.session.commit()
        return g.order


@orders_blp.route(f"/<{ID}:order_id>/return")
class Return(MethodView):
    """Sending a reply back."""

    @login_required
    @precheck(_order)
    @require_json_body
    @orders_blp.arguments(CommentSchema)
    @orders_blp.response(200, OrderSchema)
    def post(self, args: dict[str, Any], order_id: int) -> Order:
        """Send the reply back as not enough, with a comment (issuer or admin)."""
        service.return_order(current_api_user(), g.order, args["comment"])
        db.session.commit()
        return g.order


@orders_blp.route(f"/<{ID}:order_id>/close")
class Close(MethodView):
    """Closing an order."""

    @login_required
    @precheck(_order)
    @require_json_body
    @orders_blp.arguments(CommentSchema)
    @orders_blp.response(200, OrderSchema)
    def post(self, args: dict[str, Any], order_id: int) -> Order:
        """Close the order (issuer or admin)."""
        service.close_order(current_api_user(), g.order, args["comment"])
        db.session.commit()
        return g.order


# --- the ranking -------------------------------------------------------------------------

ranking_blp = api_blueprint("ranking", __name__, "/reports/ranking",
                            "The ranking (考核排名) of the children of an org, as of a day.")


@ranking_blp.route("")
class Ranking(MethodView):
    """The ranking."""

    @login_required
    @ranking_blp.arguments(RankingArgs, location="query")
    @ranking_blp.response(200, RankingRowSchema(many=True))
    @ranking_blp.doc(responses={200: {"content": {
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
        DOCX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, args: dict[str, Any]) -> Any:
        """Best first; equal scores share a rank; children without findings last, unranked
        (``format=xlsx`` the table, ``format=docx`` the 通报)."""
        if args["format"] in bulletin.FORMATS:
            return bulletin.send_ranking(current_api_user(), args["format"],
                                         args["campaign_id"], args["as_of"] or today(),
                                         args["org_id"], args["lang"])
        return ranking.ranking_rows(current_api_user(), args["campaign_id"], args["as_of"],
                                    args["org_id"])


# --- the trend ---------------------------------------------------------------------------

trend_blp = api_blueprint("trend", __name__, "/reports/trend",
                          "The trend: the ledger of each child of an org at the end of each "
                          "week or month.")


@trend_blp.route("")
class Trend(MethodView):
    """The trend."""

    @login_required
    @trend_blp.arguments(TrendArgs, location="query", unknown=ma.RAISE)
    @trend_blp.response(200, TrendSeriesSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """A series per child of the org: at the end of each step within [from, to] (and at
        `to`), the findings, closed, open, overdue and completion rate as they stood then;
        more than 120 points, `from` after `to` or another step is 422."""
        return trend.trend_series(current_api_user(), args["step"], args["to"] or today(),
                                  args["from_"], args["points"], args["campaign_id"],
                                  args["org_id"])


BLUEPRINTS = (urges_blp, many_blp, orders_blp, ranking_blp, trend_blp)
