"""The ledger's spreadsheets as their reader reads them: headings, labels, file names.

Every spreadsheet the product writes (the 整改台账 export, the overdue list, the summary table,
the import template) takes its column headings from ``COLUMN_LABELS`` and its file name from
``download_name``, in the reader's language (zh_Hans, bo, en).  The importer accepts the
headings in every language (``in_every_language``), so a template filled in Tibetan imports.

File names follow one scheme, ``<what>_<unit>_<date>.<ext>`` (``汇总表_果洛州_2018-12-01.xlsx``),
with an ASCII fallback (``summary_GL_2018-12-01.xlsx``) for clients that do not read
``filename*``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import IO, Any

from flask import Response
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import pages, spreadsheets
from tracker.extensions import db
from tracker.issues.labels import FIELD_LABELS, STATUS_LABELS
from tracker.owners import service as owners
from tracker.owners.models import Org, User
from tracker.webapi import ascii_filename, attachment

#: Column key -> its heading (a lazy string, rendered in the reader's language).
COLUMN_LABELS: dict[str, Any] = {
    "no": _l("No."),
    "issue_id": _l("Issue no."),
    "county": _l("County"),
    "unit": _l("Unit / centre"),
    "org": FIELD_LABELS["org_id"],
    "category": FIELD_LABELS["category_id"],
    "title": FIELD_LABELS["title"],
    "description": FIELD_LABELS["description"],
    "cause": FIELD_LABELS["cause"],
    "measures": FIELD_LABELS["measures"],
    "owner": FIELD_LABELS["owner_id"],
    "window": _l("Deadline window"),
    "starts_on": FIELD_LABELS["starts_on"],
    "due_on": FIELD_LABELS["due_on"],
    "due_in_working_days": _l("Working days to complete"),
    "registered_on": FIELD_LABELS["registered_on"],
    "original_due_on": FIELD_LABELS["original_due_on"],
    "status": FIELD_LABELS["status"],
    "days_overdue": _l("Days overdue"),
    "evidence_count": _l("Evidence files"),
    "closed_on": FIELD_LABELS["closed_on"],
    "total": _l("Findings in total"),
    "closed": STATUS_LABELS["closed"],
    "closed_late": _l("Closed late"),
    "extended": _l("Extended"),
    "overdue": _l("Overdue, not rectified"),
    "completion_rate": _l("Completion rate"),
}

#: What a download is -> (its name in the reader's language, its ASCII name).
DOWNLOADS: dict[str, tuple[Any, str]] = {
    "ledger": (_l("Ledger"), "ledger"),
    "overdue": (_l("Overdue list"), "overdue"),
    "summary": (_l("Summary"), "summary"),
    "template": (_l("Import template"), "import-template"),
    "rectification": (_l("Rectification report"), "rectification-report"),
    "ranking": (_l("Ranking"), "ranking"),
    "bulletin": (_l("Ranking bulletin"), "ranking-bulletin"),
}

#: Characters a file name on Windows cannot hold (and controls): replaced in each part.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def headings(keys: Iterable[str]) -> list[str]:
    """The headings of ``keys`` in the reader's language."""
    return [str(COLUMN_LABELS[key]) for key in keys]


def status_label(status: str) -> str:
    """A status as the reader says it (待整改, ཞིག་གསོ་བྱ་རྒྱུ, Open, …)."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


in_every_language = pages.in_every_language  # its home is the base, shared with owners


def report_unit(user: User, org_id: int | None = None) -> Org | None:
    """The unit a download is about: the org asked for (when in scope), else the reader's
    home org, else the one root (None for an admin over several trees)."""
    if org_id is not None and owners.in_scope(user, org_id):
        org = db.session.get(Org, org_id)
        if org is not None:
            return org
    if user.org is not None:
        return user.org
    roots = db.session.scalars(select(Org).where(Org.parent_id.is_(None)).limit(2)).all()
    return roots[0] if len(roots) == 1 else None


def _part(text: str) -> str:
    return _UNSAFE.sub("-", spreadsheets.writable(text)).strip(" .") or "-"


def download_name(what: str, unit: Org | None, on: date, ext: str) -> tuple[str, str]:
    """``(name, ascii_fallback)`` of a download: ``<what>_<unit>_<date>.<ext>``, ``what``
    one of ``DOWNLOADS``, named in the reader's language; the one scheme of every download."""
    label, plain = DOWNLOADS[what]
    unit_name = unit.local_name if unit is not None else str(_l("All units"))
    name = "_".join(_part(p) for p in (str(label), unit_name, on.isoformat())) + f".{ext}"
    unit_plain = "all"
    if unit is not None:
        unit_plain = ascii_filename(unit.code) if unit.code.isascii() else f"org{unit.id}"
    return name, f"{plain}_{unit_plain}_{on.isoformat()}.{ext}"


def send(body: IO[bytes] | Iterable[bytes], what: str, unit: Org | None, on: date, ext: str,
         *, cache: str = "private, no-store") -> Response:
    """A spreadsheet download named by ``download_name``."""
    name, fallback = download_name(what, unit, on, ext)
    mimetype = spreadsheets.CSV_MIMETYPE if ext == "csv" else spreadsheets.XLSX_MIMETYPE
    return attachment(body, name, mimetype, fallback=fallback, cache=cache)
