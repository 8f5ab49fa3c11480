"""The ledger's words as users read them: statuses, actions, history entries, field names.

Lazy strings, rendered in the reader's language wherever they are shown (pages, mails,
spreadsheets).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext

from tracker.timeutil import format_date, format_datetime

STATUS_LABELS = {
    "open": lazy_gettext("Open"),
    "in_progress": lazy_gettext("In progress"),
    "submitted": lazy_gettext("Awaiting verification"),
    "closed": lazy_gettext("Closed"),
}

ACTION_LABELS = {
    "start": lazy_gettext("Start rectification"),
    "submit": lazy_gettext("Submit for verification"),
    "close": lazy_gettext("Close (verified)"),
    "reject": lazy_gettext("Reject"),
    "reopen": lazy_gettext("Reopen"),
    "extend": lazy_gettext("Request extension"),
}

EVENT_LABELS = {
    "created": lazy_gettext("Registered"),
    "updated": lazy_gettext("Edited"),
    "note": lazy_gettext("Progress note"),
    "start": lazy_gettext("Started rectification"),
    "submit": lazy_gettext("Submitted for verification"),
    "close": lazy_gettext("Closed (verified)"),
    "reject": lazy_gettext("Rejected"),
    "reopen": lazy_gettext("Reopened"),
    "evidence_added": lazy_gettext("Evidence uploaded"),
    "evidence_withdrawn": lazy_gettext("Evidence withdrawn"),
    "extension_requested": lazy_gettext("Extension requested"),
    "extension_approved": lazy_gettext("Extension approved"),
    "extension_refused": lazy_gettext("Extension refused"),
    "urged": lazy_gettext("Urged"),
    "ordered": lazy_gettext("Named in a supervision order"),
    "order_closed": lazy_gettext("Supervision order closed"),
}

#: The traffic light (三色预警) as a word; pages add a shape beside it, never colour alone.
LIGHT_LABELS = {
    "red": lazy_gettext("Red: overdue"),
    "yellow": lazy_gettext("Yellow: at risk"),
    "green": lazy_gettext("Green: on track"),
}

FIELD_LABELS = {
    "campaign_id": lazy_gettext("Campaign"),
    "org_id": lazy_gettext("Unit"),
    "category_id": lazy_gettext("Category"),
    "title": lazy_gettext("Problem"),
    "description": lazy_gettext("Description"),
    "cause": lazy_gettext("Cause"),
    "measures": lazy_gettext("Measures"),
    "owner_id": lazy_gettext("Responsible officer"),
    "starts_on": lazy_gettext("Starts on"),
    "due_on": lazy_gettext("Due on"),
    "status": lazy_gettext("Status"),
    "closed_at": lazy_gettext("Closed at"),
    "original_due_on": lazy_gettext("Original due date"),
    "evidence_count": lazy_gettext("Evidence"),
    "comment": lazy_gettext("Comment"),
    "file": lazy_gettext("File"),
    "note": lazy_gettext("Note"),
    "reason": lazy_gettext("Reason"),
    "requested_due_on": lazy_gettext("New due date"),
    "decision": lazy_gettext("Decision"),
}

FIELD_LABELS.update({
    "closed_on": lazy_gettext("Closed on"),
    "closed_by_id": lazy_gettext("Verified by"),
    "registered_on": lazy_gettext("Registered on"),
    "extension_count": lazy_gettext("Extensions"),
    "version": lazy_gettext("Version"),
})

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def change_value(name: str, value: Any, refs: dict[str, dict[Any, str]] | None = None) -> Any:
    """One side of a change in the history as the reader reads it: names for ids, labels for
    statuses, local dates for dates and local minutes for timestamps (stored as ISO text)."""
    if value is None or value == "":
        return "—"
    if refs and value in refs.get(name, {}):
        return refs[name][value]
    if name == "status":
        return STATUS_LABELS.get(value, value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        return format_date(date.fromisoformat(value))
    if isinstance(value, str) and _ISO_TIMESTAMP.match(value):
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(UTC).replace(tzinfo=None)
        return format_datetime(stamp)
    return value
