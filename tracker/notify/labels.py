"""How notices are named to their readers (lazy: rendered in the reader's language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: A notice's headline by its kind; an extension decision by the event (approved, refused).
NOTICE_LABELS = {
    "assigned": _l("Assigned to you"),
    "submitted": _l("Submitted for verification"),
    "rejected": _l("Sent back"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
    "extension_requested": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_refused": _l("Extension refused"),
    "reminder": _l("Reminder"),
    "escalation": _l("Escalation"),
    "info": _l("Notice"),
    "webhook_disabled": _l("Webhook"),
    "urged": _l("Urged"),
    "order_issued": _l("Supervision order issued"),
    "order_replied": _l("Supervision order answered"),
    "order_overdue": _l("Supervision order overdue"),
}


def notice_label(kind: str, event: str | None = None) -> str:
    """The headline of a notice: "被驳回", "延期已批准", … in the current language."""
    if kind == "extension_decided" and event in NOTICE_LABELS:
        return str(NOTICE_LABELS[event])
    return str(NOTICE_LABELS.get(kind, kind))
