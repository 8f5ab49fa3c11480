"""Exporting a filtered ledger as a 整改台账 spreadsheet (csv or xlsx), streamed.

Rows are read in batches (``yield_per``) with the category and owner joined in the same
statement and one query for the org paths of each batch's new orgs, so an export costs a
handful of statements and bounded memory whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import IO, Any

from flask import Response, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from tracker import spreadsheets
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import sheets
from tracker.issues.models import Category, Issue
from tracker.issues.reports import service as reports
from tracker.owners.models import Org, OrgClosure, OrgKind, User
from tracker.timeutil import format_window, reader_language, today

#: The ledger's columns, as a 整改台账 printout carries them (headings: ``sheets``).
COLUMNS = ("no", "county", "unit", "category", "title", "description", "cause", "measures",
           "owner", "window", "registered_on", "original_due_on", "status", "days_overdue",
           "evidence_count", "closed_on")
#: Column widths of the xlsx sheet, in characters.
WIDTHS = [6, 12, 28, 30, 40, 40, 40, 40, 10, 28, 12, 12, 10, 8, 10, 12]
#: Rows fetched (and org paths looked up) at a time.
BATCH = 1000


def _org_parts(org_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(county, unit below the county) for each org, in one query."""
    rows = db.session.execute(
        select(OrgClosure.descendant_id, Org.local_name_column(), Org.kind)
        .join(Org, Org.id == OrgClosure.ancestor_id)
        .where(OrgClosure.descendant_id.in_(org_ids))
        .order_by(OrgClosure.descendant_id, OrgClosure.distance.desc())
    ).all()
    lines: dict[int, list[tuple[str, str]]] = {}
    for org_id, name, kind in rows:
        lines.setdefault(org_id, []).append((name, kind))
    result: dict[int, tuple[str, str]] = {}
    for org_id, line in lines.items():
        kinds = [kind for _name, kind in line]
        if OrgKind.county.value in kinds:
            at = kinds.index(OrgKind.county.value)
            county, below = line[at][0], line[at + 1:]
        else:
            # Above any county (the prefecture and its own centre): no county to name.
            county, below = "", line[1:]
        unit = " / ".join(name for name, _kind in below) or line[-1][0]
        result[org_id] = (county, unit)
    return result


def county_names(org_ids: set[int]) -> dict[int, str]:
    """The county of each org (empty above any county), in one query."""
    if not org_ids:
        return {}
    return {org_id: county for org_id, (county, _unit) in _org_parts(org_ids).items()}


def ledger_rows(stmt: Select[Any], *, as_of: date | None = None,
                batch_size: int = BATCH) -> Iterator[list[Any]]:
    """The 整改台账 rows of the issues ``stmt`` selects, in its order (no header)."""
    as_of = as_of or today()
    category = aliased(Category)
    owner = aliased(User)
    # The reader's names: the Tibetan ones to a reader of Tibetan, where there are some.
    category_name = (func.coalesce(category.name_bo, category.name)
                     if reader_language() == "bo" else category.name)
    query = (
        stmt.add_columns(category_name, owner.display_name)
        .join(category, category.id == Issue.category_id)
        .join(owner, owner.id == Issue.owner_id)
        .execution_options(yield_per=batch_size)
    )
    paths: dict[int, tuple[str, str]] = {}
    number = 0
    result = db.session.execute(query)
    for partition in result.partitions():
        new_orgs = {row[0].org_id for row in partition} - paths.keys()
        if new_orgs:
            paths.update(_org_parts(new_orgs))
        for issue, category_name, owner_name in partition:
            number += 1
            county, unit = paths.get(issue.org_id, ("", ""))
            yield [
                number,
                county,
                unit,
                category_name,
                issue.title,
                issue.description,
                issue.cause,
                issue.measures,
                owner_name,
                format_window(issue.starts_on, issue.due_on),
                issue.registered_on,
                # The first deadline, when an approved extension moved it (延期).
                issue.original_due_on if issue.original_due_on != issue.due_on else None,
                sheets.status_label(issue.status),
                issue.days_overdue_on(as_of),
                issue.evidence_count,
                issue.closed_on,
            ]


def _csv_rows(stmt: Select[Any]) -> Iterator[list[Any]]:
    yield sheets.headings(COLUMNS)
    yield from ledger_rows(stmt)


def _xlsx_file(stmt: Select[Any]) -> IO[bytes]:
    """The ledger as a workbook in a spooled file (write-only: rows go to disk), printed
    landscape, one page wide, the header row on every page."""
    book = spreadsheets.Workbook()
    sheet = book.sheet(str(_l("Ledger")), widths=WIDTHS, freeze="A2", print_title_rows="1:1",
                       landscape=True, fit_width=True)
    sheet.append([sheet.cell(h, bold=True, boxed=True, wrap=True)
                  for h in sheets.headings(COLUMNS)])
    for row in ledger_rows(stmt):
        sheet.append([*row[:10], sheet.cell(row[10], number_format="yyyy-mm-dd"),
                      sheet.cell(row[11], number_format="yyyy-mm-dd"), *row[12:15],
                      sheet.cell(row[15], number_format="yyyy-mm-dd")])
    return book.save()


def _check_format(fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise Invalid(_l("Export format must be csv or xlsx."),
                      errors={"format": [_l("Must be csv or xlsx.")]})


def export_ledger(stmt: Select[Any], fmt: str, user: User,
                  org_id: int | None = None) -> Response:
    """The issues ``stmt`` selects (filtered, ordered) as a 整改台账 download, csv or xlsx,
    named after ``org_id`` (the filter) or the reader's home org."""
    _check_format(fmt)
    if fmt == "csv":
        body: Any = stream_with_context(spreadsheets.csv_chunks(_csv_rows(stmt)))
    else:
        body = _xlsx_file(stmt)
    return sheets.send(body, "ledger", sheets.report_unit(user, org_id), today(), fmt,
                       cache="private, no-cache")


def send_report(user: User, what: str, fmt: str, as_of: date, *, org_id: int | None = None,
                campaign_id: int | None = None, category_id: int | None = None,
                include_empty: bool = False) -> Response:
    """The overdue list or the summary table (``what``) as a csv or xlsx download, for the
    API and the pages alike."""
    _check_format(fmt)
    body: IO[bytes]
    if what == "overdue":
        overdue = reports.overdue_csv if fmt == "csv" else reports.overdue_xlsx
        body = overdue(user, as_of, org_id=org_id, category_id=category_id,
                       campaign_id=campaign_id)
    else:
        summary = reports.summary_csv if fmt == "csv" else reports.summary_xlsx
        body = summary(user, campaign_id, as_of, org_id, include_empty)
    return sheets.send(body, what, sheets.report_unit(user, org_id), as_of, fmt)
