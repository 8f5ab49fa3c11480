"""REST API: urges (催办) and supervision orders (督办单) under /api/v1."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView

from tracker.documents import DOCX_MIMETYPE
from tracker.extensions import db
from tracker.issues.reports.rectification import LANGUAGES
from tracker.issues.service import get_issue
from tracker.owners.auth import current_api_user, login_required
from tracker.spreadsheets import XLSX_MIMETYPE
from tracker.supervision import bulletin, ranking, service, trend
from tracker.supervision.models import LEVELS, ORDER_STATUSES, Order, Urge
from tracker.timeutil import today
from tracker.webapi import (
    ID,
    PAGINATION_HEADER_DOC,
    AsciiInteger,
    IdField,
    IdParam,
    LedgerDate,
    PageArgs,
    QuerySchema,
    StrictSchema,
    Text,
    UtcDateTime,
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


class UrgeSchema(ma.Schema):
    """An urge as the API shows it."""

    id = ma.fields.Integer(dump_only=True)
    issue_id = ma.fields.Integer(dump_only=True)
    actor_id = ma.fields.Integer(dump_only=True, allow_none=True)
    comment = ma.fields.String(dump_only=True)
    created_at = UtcDateTime(dump_only=True)


class UrgeCreateSchema(StrictSchema):
    """An urge's optional note."""

    comment = Text(max_length=service.MAX_COMMENT, multiline=True, load_default="")


class UrgeManySchema(StrictSchema):
    """Several issues to urge with one note."""

    issue_ids = ma.fields.List(IdField(), required=True,
                               validate=ma.validate.Length(min=1, max=500))
    comment = Text(max_length=service.MAX_COMMENT, multiline=True, load_default="")


class UrgeResultSchema(ma.Schema):
    """What urging one issue of several did: 201 with the urge, or the refusal."""

    issue_id = ma.fields.Integer()
    status = ma.fields.Integer()
    urge = ma.fields.Nested(UrgeSchema, allow_none=True)
    reason = ma.fields.String(allow_none=True)
    message = ma.fields.String(allow_none=True)


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


class OrderSchema(ma.Schema):
    """A supervision order as the API shows it."""

    id = ma.fields.Integer()
    number = ma.fields.String(metadata={"description": "As printed: 果洛督〔2018〕3号."})
    org_id = ma.fields.Integer()
    issuing_org_id = ma.fields.Integer()
    issued_by = ma.fields.Integer(attribute="issued_by_id")
    level = ma.fields.String(metadata={"enum": list(LEVELS)})
    issue_ids = ma.fields.Method("_issue_ids", metadata={"type": "array",
                                                         "items": {"type": "integer"}})
    reply_by = ma.fields.Date()
    comment = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(ORDER_STATUSES)})
    issued_at = UtcDateTime()
    acknowledged_by = ma.fields.Integer(attribute="acknowledged_by_id", allow_none=True)
    acknowledged_at = UtcDateTime(allow_none=True)
    reply = ma.fields.String(allow_none=True)
    replied_by = ma.fields.Integer(attribute="replied_by_id", allow_none=True)
    replied_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    close_comment = ma.fields.String()
    overdue = ma.fields.Method("_overdue", metadata={
        "type": "string", "nullable": True, "enum": ["acknowledge", "reply", None],
        "description": "The step at which it is overdue today: acknowledge (not signed for "
                       "within 2 working days), reply (not answered by reply_by), or null."})

    def _issue_ids(self, order: Order) -> list[int]:
        return service.order_issue_ids(order)

    def _overdue(self, order: Order) -> str | None:
        return service.is_overdue(order, today())


class OrderCreateSchema(StrictSchema):
    """A new supervision order."""

    org_id = IdField(required=True)
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(LEVELS),
                             metadata={"description": "blue 临期, yellow 滞后, red 逾期."})
    issue_ids = ma.fields.List(IdField(), required=True,
                               validate=ma.validate.Length(min=1, max=500))
    reply_by = LedgerDate(required=True, metadata={"description": "After today."})
    comment = Text(max_length=service.MAX_COMMENT, multiline=True, load_default="")


class OrderQuerySchema(PageArgs):
    """Filters of the order list."""

    status = ma.fields.String(validate=ma.validate.OneOf(ORDER_STATUSES))
    org_id = IdParam(metadata={"description": "Addressed to this org or below it."})
    direction = ma.fields.String(validate=ma.validate.OneOf(["received", "issued"]))


class ReplySchema(StrictSchema):
    """An answer to an order (反馈)."""

    text = Text(max_length=service.MAX_COMMENT, multiline=True, required=True, not_blank=True)


class CommentSchema(StrictSchema):
    """The issuer's word on closing or returning an order."""

    comment = Text(max_length=service.MAX_COMMENT, multiline=True, load_default="")


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
    @orders_blp.response(200, OrderSchema)
    def get(self, order_id: int) -> Order:
        """An order (404 outside the caller's reach)."""
        return service.get_order(current_api_user(), order_id)


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


class RankingArgs(QuerySchema):
    """Parameters of the ranking."""

    campaign_id = IdParam(load_default=None)
    org_id = IdParam(load_default=None, metadata={
        "description": "Rank its children (default: the caller's home org; the root for an "
                       "admin)."})
    as_of = LedgerDate(load_default=None, metadata={
        "description": "The ledger as it stood at the end of this day (default: today)."})
    format = ma.fields.String(load_default="json",
                              validate=ma.validate.OneOf(["json", *bulletin.FORMATS]),
                              metadata={"description": "xlsx: the table to print; docx: "
                                                       "the 通报 (a bulletin ranking the "
                                                       "units, GB/T 9704 layout)."})
    lang = ma.fields.String(load_default=None, validate=ma.validate.OneOf(LANGUAGES),
                            metadata={"description": "The 通报's language, zh_Hans or bo "
                                                     "(default: the reader's, Chinese "
                                                     "unless Tibetan)."})


class RankingRowSchema(ma.Schema):
    """One child of the org: its counts, rates, score and rank (null: no findings)."""

    org_id = ma.fields.Integer()
    org_name = ma.fields.String()
    total = ma.fields.Integer()
    closed = ma.fields.Integer()
    closed_on_time = ma.fields.Integer()
    completion_rate = ma.fields.Float()
    on_time_rate = ma.fields.Float(allow_none=True)
    overdue = ma.fields.Integer()
    overdue_days = ma.fields.Integer(metadata={"description": "Sum of the days overdue of "
                                                              "what is overdue."})
    extended = ma.fields.Integer()
    urged = ma.fields.Integer()
    orders = ma.fields.Integer()
    red = ma.fields.Integer()
    yellow = ma.fields.Integer()
    green = ma.fields.Integer()
    score = ma.fields.Float(allow_none=True, metadata={
        "description": "round(60 × completion_rate + 40 × on_time_rate − min(20, "
                       "overdue_days / 30), 1)"})
    rank = ma.fields.Integer(allow_none=True)


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


class TrendArgs(QuerySchema):
    """Parameters of the trend."""

    campaign_id = IdParam(load_default=None)
    org_id = IdParam(load_default=None, metadata={
        "description": "One series per child of this org (default: the caller's home org; the "
                       "root for an admin)."})
    step = ma.fields.String(load_default="month", validate=ma.validate.OneOf(trend.STEPS),
                            metadata={"description": "week (each Sunday) or month (the last "
                                                     "day of each calendar month)."})
    from_ = LedgerDate(data_key="from", load_default=None, metadata={
        "description": "The first day: points at each step's end from here to `to`."})
    to = LedgerDate(load_default=None, metadata={
        "description": "The last day (default: today); a point of its own when it ends no "
                       "step."})
    points = AsciiInteger(load_default=None, metadata={
        "description": f"Without `from`: this many points up to `to` (default "
                       f"{trend.DEFAULT_POINTS}, at most {trend.MAX_POINTS})."})


class TrendPointSchema(ma.Schema):
    """The ledger of a unit as it stood at the end of one day."""

    date = ma.fields.Date()
    total = ma.fields.Integer(metadata={"description": "Findings registered by then."})
    closed = ma.fields.Integer()
    open = ma.fields.Integer(metadata={"description": "Not closed then (total - closed)."})
    overdue = ma.fields.Integer()
    completion_rate = ma.fields.Float(metadata={"description": "closed / total (0 when none)."})


class TrendSeriesSchema(ma.Schema):
    """One child of the org and its points, oldest first."""

    org_id = ma.fields.Integer()
    org_name = ma.fields.String()
    points = ma.fields.List(ma.fields.Nested(TrendPointSchema))


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
