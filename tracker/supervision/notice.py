"""The 督办通知单 as a Word file (SPEC §6): the order's number, the unit, the level, the issues
(a table: number, problem, deadline, days overdue), the reply date, the requirements, the issuer
and the day of issue, and the boxes the unit fills in when it signs for and answers the order.

Written by the GB/T 9704 writer every document uses (``tracker.documents``), in Chinese or
Tibetan: the reader's language, or ``lang=zh_Hans|bo`` (the 整改情况报告's rule).  The printable
page (``templates/supervision/order.html``) shows the same fields.
"""

from __future__ import annotations

from datetime import date
from typing import IO

from docx.shared import Mm
from flask import Response
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import documents
from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.issues.reports.rectification import report_language
from tracker.owners.models import Org, User
from tracker.supervision import service
from tracker.supervision.labels import ORDER_LEVEL_LABELS
from tracker.supervision.models import Order
from tracker.timeutil import format_date, format_datetime, today
from tracker.webapi import ascii_filename, attachment

#: Issues an order names are few (the API takes at most 500); the table lists them all.
COLUMN_WIDTHS = (16, 86, 32, 22)
#: The 签收 and 反馈 boxes' height.
BOX_HEIGHT = Mm(20)


def _name(org_id: int | None) -> str:
    org = db.session.get(Org, org_id) if org_id is not None else None
    return org.local_name if org is not None else ""


def _person(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.display_name if user is not None else ""


def order_docx(order: Order, lang: str = "zh_Hans", as_of: date | None = None) -> IO[bytes]:
    """The 督办通知单 of ``order`` in ``lang`` (zh_Hans or bo), days overdue counted on
    ``as_of`` (default today), as a spooled .docx file."""
    as_of = as_of or today()
    items = list(db.session.scalars(select(Issue).where(
        Issue.id.in_(service.order_issue_ids(order))).order_by(Issue.id)))
    with force_locale(lang):
        doc = documents.Document("bo" if lang == "bo" else "zh")
        doc.title(str(_l("Supervision notice")))
        doc.paragraph(order.number, indent=False, align="center")
        doc.addressee(str(_l("%(org)s:", org=_name(order.org_id))))
        for label, text in (
            (_l("Level"), str(ORDER_LEVEL_LABELS[order.level])),
            (_l("Reply by"), format_date(order.reply_by)),
            (_l("Requirements"), order.comment or "—"),
            (_l("Issued by"), _person(order.issued_by_id)),
        ):
            doc.paragraph(text, lead=str(_l("%(label)s: ", label=str(label))))
        doc.paragraph(str(_l("The findings below are to be rectified, and the unit is to "
                             "sign for this notice and answer it by the reply date.")))
        rows = ([f"#{it.id}", it.title, format_date(it.due_on),
                 it.days_overdue_on(as_of) or "—"] for it in items)
        doc.table([str(_l("Finding no.")), str(_l("Problem")), str(_l("Due on")),
                   str(_l("Days overdue"))], rows, widths=COLUMN_WIDTHS)
        doc.paragraph()  # two tables side by side would merge into one in Word
        signed = (f"{_person(order.acknowledged_by_id)} {format_datetime(order.acknowledged_at)}"
                  if order.acknowledged_at else "")
        answer = (f"{order.reply} — {_person(order.replied_by_id)} "
                  f"{format_datetime(order.replied_at)}" if order.reply else "")
        boxes = doc.table([str(_l("Signed for (签收)")), str(_l("Answer (反馈)"))],
                          [[signed, answer]], widths=(52, 104))
        # Room to sign and write the answer by hand on the printed sheet.
        boxes.rows[1].height = BOX_HEIGHT
        doc.signature(_name(order.issuing_org_id), format_date(order.issued_on))
        return doc.save()


def send_order_docx(order: Order, lang: str | None, reader: str) -> Response:
    """The 督办通知单 as a download named ``督办通知单_<number>.docx``, for the page and API."""
    language = report_language(lang, reader)
    body = order_docx(order, language)
    with force_locale(language):
        name = f"{_l('Supervision notice')}_{order.number}.docx"
    fallback = f"order_{order.year}_{order.seq}_{order.id}.docx"
    return attachment(body, name, documents.DOCX_MIMETYPE, fallback=ascii_filename(fallback))
