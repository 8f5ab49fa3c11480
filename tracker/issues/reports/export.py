"""Exporting a filtered ledger as a 整改台账 spreadsheet (csv or xlsx), streamed.

Rows are read in batches (``yield_per``) with the category and owner joined in the same
statement and one query for the org paths of each batch's new orgs, so an export costs a
handful of statements and bounded memory whatever its size.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import IO, Any

from flask import Response, current_app, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from tracker import spreadsheets
from tracker.errors import TooLarge
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
        if OrgKind.county in kinds:
            at = kinds.index(OrgKind.county)
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


def _xlsx_file(stmt: Select[Any], rows: Iterable[list[Any]] | None = None) -> IO[bytes]:
    """The ledger as a workbook in a spooled file (write-only: rows go to disk), printed
    landscape, one page wide, the header row on every page."""
    book = spreadsheets.Workbook()
    sheet = book.sheet(str(_l("Ledger")), widths=WIDTHS, freeze="A2", print_title_rows="1:1",
                       landscape=True, fit_width=True)
    sheet.append([sheet.cell(h, bold=True, boxed=True, wrap=True)
                  for h in sheets.headings(COLUMNS)])
    for row in ledger_rows(stmt) if rows is None else rows:
        sheet.append([*row[:10], sheet.cell(row[10], number_format="yyyy-mm-dd"),
                      sheet.cell(row[11], number_format="yyyy-mm-dd"), *row[12:15],
                      sheet.cell(row[15], number_format="yyyy-mm-dd")])
    return book.save()


def _check_format(fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise Invalid(_l("Export format must be csv or xlsx."),
                      errors={"format": [_l("Must be csv or xlsx.")]})


#: The setting of the most rows a download made while the client waits may hold, by format
#: (20,000 as xlsx, 200,000 as csv): beyond them it could not finish within the production
#: worker timeout (issue 26: 49,839 rows as xlsx took 18-48 s), so it is refused before it
#: starts and an export job does it.
SYNC_LIMITS = {"xlsx": "TRACKER_SYNC_XLSX_ROWS", "csv": "TRACKER_SYNC_CSV_ROWS"}
#: The refusal's reason, a machine-readable word.
USE_EXPORT_JOB = "use_export_job"


def count_rows(stmt: Select[Any], limit: int | None = None) -> Select[Any]:
    """The count of the issues ``stmt`` selects (counting stops at ``limit``)."""
    ids = stmt.with_only_columns(Issue.id).order_by(None)
    if limit is not None:
        ids = ids.limit(limit)
    return select(func.count()).select_from(ids.subquery())


def check_sync_size(stmt: Select[Any], fmt: str) -> None:
    """Refuse (413 ``use_export_job``) a download of more rows than ``SYNC_LIMITS`` allows,
    counted before a byte is sent: a download is never cut off after a 200."""
    limit = int(current_app.config[SYNC_LIMITS[fmt]])
    rows = db.session.scalar(count_rows(stmt, limit + 1)) or 0
    if rows > limit:
        raise TooLarge(
            _l("More than %(limit)s rows cannot be downloaded while you wait. Start an "
               "export job (POST /api/v1/exports, or the export button of the page) and "
               "download its file when it is done.", limit=f"{limit:,}"),
            reason=USE_EXPORT_JOB,
            errors={"format": [_l("Use an export job for more than %(limit)s rows.",
                                  limit=f"{limit:,}")]})


def export_ledger(stmt: Select[Any], fmt: str, user: User,
                  org_id: int | None = None) -> Response:
    """The issues ``stmt`` selects (filtered, ordered) as a 整改台账 download, csv or xlsx,
    named after ``org_id`` (the filter) or the reader's home org; 413 ``use_export_job``
    when too many for a download while the client waits (``check_sync_size``)."""
    _check_format(fmt)
    check_sync_size(stmt, fmt)
    if fmt == "csv":
        body: Any = stream_with_context(spreadsheets.csv_chunks(_csv_rows(stmt)))
    else:
        body = _xlsx_file(stmt)
    return sheets.send(body, "ledger", sheets.report_unit(user, org_id), today(), fmt,
                       cache="private, no-cache")


def ledger_file(stmt: Select[Any], fmt: str, on_row: Callable[[int], None]) -> IO[bytes]:
    """The ledger ``stmt`` selects as a csv or xlsx file (for an export job, which stores
    it), calling ``on_row`` with the number of each row written."""
    _check_format(fmt)

    def counted() -> Iterator[list[Any]]:
        for number, row in enumerate(ledger_rows(stmt), start=1):
            on_row(number)
            yield row

    if fmt == "csv":
        return spreadsheets.csv_file(itertools.chain([sheets.headings(COLUMNS)], counted()))
    return _xlsx_file(stmt, counted())


def send_report(user: User, what: str, fmt: str, as_of: date, *, org_id: int | None = None,
                campaign_id: int | None = None, category_id: int | None = None,
                include_empty: bool = False) -> Response:
    """The overdue list or the summary table (``what``) as a csv or xlsx download, for the
    API and the pages alike."""
    body = report_file(user, what, fmt, as_of, org_id=org_id, campaign_id=campaign_id,
                       category_id=category_id, include_empty=include_empty)
    return sheets.send(body, what, sheets.report_unit(user, org_id), as_of, fmt)


def report_file(user: User, what: str, fmt: str, as_of: date, *, org_id: int | None = None,
                campaign_id: int | None = None, category_id: int | None = None,
                include_empty: bool = False) -> IO[bytes]:
    """The overdue list or the summary table (``what``) as a csv or xlsx file."""
    _check_format(fmt)
    body: IO[bytes]
    if what == "overdue":
        overdue = reports.overdue_csv if fmt == "csv" else reports.overdue_xlsx
        body = overdue(user, as_of, org_id=org_id, category_id=category_id,
                       campaign_id=campaign_id)
    else:
        summary = reports.summary_csv if fmt == "csv" else reports.summary_xlsx
        body = summary(user, campaign_id, as_of, org_id, include_empty)
    return body
