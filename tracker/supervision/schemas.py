"""Schemas of supervision's API and webhooks: urges (催办), orders (督办单), the ranking, the
trend.

Kept apart from ``api`` so that the webhooks (in notify) dump an order without importing the
HTTP layer."""

from __future__ import annotations

import marshmallow as ma

from tracker.issues.reports.rectification import LANGUAGES
from tracker.supervision import service, trend
from tracker.supervision.models import LEVELS, ORDER_STATUSES, Order
from tracker.timeutil import today
from tracker.webapi import (
    AsciiInteger,
    IdField,
    IdParam,
    LedgerDate,
    PageArgs,
    QuerySchema,
    StrictSchema,
    Text,
    UtcDateTime,
)


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
                               validate=ma.validate.Length(min=1, max=service.MAX_ORDER_ISSUES))
    reply_by = LedgerDate(required=True, metadata={"description": "After today."})
    comment = Text(max_length=service.MAX_COMMENT, multiline=True, load_default="")


class OrderQuerySchema(PageArgs):
    """Filters of the order list."""

    status = ma.fields.String(validate=ma.validate.OneOf(ORDER_STATUSES))
    org_id = IdParam(metadata={"description": "Addressed to this org or below it."})
    direction = ma.fields.String(validate=ma.validate.OneOf(["received", "issued"]))


class OrderFormatArgs(QuerySchema):
    """How to answer one order: JSON, or its 督办通知单 as a Word file."""

    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "docx"]))
    lang = ma.fields.String(load_default=None, validate=ma.validate.OneOf(("zh_Hans", "bo")),
                            metadata={"description": "The Word file's language, zh_Hans or bo "
                                                     "(default: the reader's, Chinese unless "
                                                     "Tibetan)."})


class ReplySchema(StrictSchema):
    """An answer to an order (反馈)."""

    text = Text(max_length=service.MAX_COMMENT, multiline=True, required=True, not_blank=True)


class CommentSchema(StrictSchema):
    """The issuer's word on closing or returning an order."""

    comment = Text(max_length=service.MAX_COMMENT, multiline=True, load_default="")


#: The files a ranking downloads as: the table (xlsx) and the 通报 (docx).
RANKING_FORMATS = ("xlsx", "docx")


class RankingArgs(QuerySchema):
    """Parameters of the ranking."""

    campaign_id = IdParam(load_default=None)
    org_id = IdParam(load_default=None, metadata={
        "description": "Rank its children (default: the caller's home org; the root for an "
                       "admin)."})
    as_of = LedgerDate(load_default=None, metadata={
        "description": "The ledger as it stood at the end of this day (default: today)."})
    format = ma.fields.String(load_default="json",
                              validate=ma.validate.OneOf(["json", *RANKING_FORMATS]),
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


# --- the trend ---------------------------------------------------------------------------


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
