"""Evidence as the API and the webhooks show it."""

from __future__ import annotations

import marshmallow as ma

from tracker.webapi import UtcDateTime


class EvidenceSchema(ma.Schema):
    """An evidence file as the API shows it."""

    id = ma.fields.Integer(dump_only=True)
    issue_id = ma.fields.Integer(dump_only=True)
    filename = ma.fields.String(dump_only=True)
    content_type = ma.fields.String(dump_only=True)
    size = ma.fields.Integer(dump_only=True)
    sha256 = ma.fields.String(dump_only=True)
    note = ma.fields.String(dump_only=True)
    uploaded_by = ma.fields.Integer(attribute="uploaded_by_id", dump_only=True, allow_none=True)
    duration_seconds = ma.fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "How long a video (MP4, MOV) runs, from its header; null otherwise."})
    uploaded_at = UtcDateTime(dump_only=True)  # ISO UTC with Z, like every API timestamp
