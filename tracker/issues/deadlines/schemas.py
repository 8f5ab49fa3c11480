"""Extension requests as the API and the webhooks show them, and what a client sends."""

from __future__ import annotations

import marshmallow as ma

from tracker.issues.deadlines import service
from tracker.webapi import LedgerDate, StrictSchema, Text, UtcDateTime


class ExtensionSchema(ma.Schema):
    """An extension request as the API shows it."""

    id = ma.fields.Integer(dump_only=True)
    issue_id = ma.fields.Integer(dump_only=True)
    requested_due_on = LedgerDate(dump_only=True)
    previous_due_on = LedgerDate(dump_only=True)
    reason = ma.fields.String(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata={"enum": ["pending", "approved",
                                                                 "refused"]})
    requested_by = ma.fields.Integer(attribute="requested_by_id", dump_only=True,
                                     allow_none=True)
    requested_at = UtcDateTime(dump_only=True)
    decided_by = ma.fields.Integer(attribute="decided_by_id", dump_only=True, allow_none=True)
    decided_at = UtcDateTime(dump_only=True, allow_none=True)
    decision_comment = ma.fields.String(dump_only=True)


class ExtensionRequestSchema(StrictSchema):
    """A request for a new due date."""

    requested_due_on = LedgerDate(required=True,
                                  metadata={"description": "The new due date (ISO)."})
    reason = Text(max_length=service.MAX_REASON_LENGTH, multiline=True, required=True,
                  not_blank=True)


class DecisionSchema(StrictSchema):
    """A supervisor's decision on a pending request."""

    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(service.DECISIONS))
    comment = Text(max_length=service.MAX_REASON_LENGTH, multiline=True, load_default="")
