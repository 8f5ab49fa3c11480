"""An order's level and status as users say them: one home for the pages and the documents."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from tracker.supervision.models import OrderStatus

ORDER_LEVEL_LABELS: dict[str, Any] = {
    "blue": _l("Blue level: due soon"), "yellow": _l("Yellow level: behind"),
    "red": _l("Red level: overdue")}
ORDER_STATUS_LABELS: dict[str, Any] = {
    OrderStatus.issued: _l("Awaiting signature"),
    OrderStatus.acknowledged: _l("Signed for, awaiting the answer"),
    OrderStatus.replied: _l("Answered"),
    OrderStatus.closed: _l("Order closed"),
}
